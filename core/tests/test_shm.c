/* test_shm.c: the shared-memory zone registry across configurations (core/shm.c): zones
 * configured by lua_shared_dict are mapped; a reload keeps those whose name and size are
 * unchanged (contents included), maps the others fresh, and a rollback restores the old set. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "shm.h"
#include "tests/check_run.h"

static main_conf_t *conf_of(const char *text)
{
    main_conf_t *m = conf_create("/p/", "conf/t.conf");
    conf_t cf;
    conf_init(&cf, m);
    ck_assert_msg(conf_parse(&cf, text, strlen(text), "t.conf") == 0 && conf_finish(&cf) == 0, "%s", cf.err);
    return m;
}

#define SERVER "server { listen 127.0.0.1:1; protocol tcp_lua; process_by_lua 'x()'; }"

START_TEST(zones_are_kept_when_unchanged)
{
    char err[256];
    shm_zone_t *live = NULL, *next;
    main_conf_t *a = conf_of("tcp { lua_shared_dict a 8k; lua_shared_dict b 16k; " SERVER " }");
    ck_assert_int_eq(shm_zones_open(a, &live, &next, err, sizeof err), 0);
    live = next;
    shm_zone_t *za = shm_zone_find(live, "a"), *zb = shm_zone_find(live, "b");
    ck_assert(za && zb && za->fresh && zb->fresh);
    ck_assert_uint_eq(zb->size, 16384);
    strcpy(za->addr, "kept across reloads");

    main_conf_t *b = conf_of("tcp { lua_shared_dict a 8k; lua_shared_dict b 32k; lua_shared_dict c 8k; " SERVER " }");
    ck_assert_int_eq(shm_zones_open(b, &live, &next, err, sizeof err), 0);
    ck_assert_ptr_eq(shm_zone_find(next, "a"), za); /* same name and size: the same zone */
    ck_assert(!za->fresh && za->kept);
    ck_assert_str_eq(za->addr, "kept across reloads");
    ck_assert(shm_zone_find(next, "b")->fresh); /* resized: a new zone */
    ck_assert(shm_zone_find(next, "c")->fresh);
    ck_assert_ptr_eq(live, zb); /* left for the commit to unmap */
    ck_assert_ptr_null(zb->next);

    shm_zones_rollback(next, &live); /* a reload that failed later */
    ck_assert_ptr_eq(shm_zone_find(live, "a"), za);
    ck_assert_ptr_eq(shm_zone_find(live, "b"), zb);
    ck_assert_ptr_null(shm_zone_find(live, "c"));
    ck_assert_str_eq(za->addr, "kept across reloads");

    ck_assert_int_eq(shm_zones_open(b, &live, &next, err, sizeof err), 0); /* and commit */
    shm_zones_free(live);
    ck_assert_str_eq(shm_zone_find(next, "a")->addr, "kept across reloads");
    shm_zones_free(next);
    conf_destroy(a);
    conf_destroy(b);
}
END_TEST

START_TEST(no_dicts_no_zones)
{
    char err[256];
    shm_zone_t *live = NULL, *next = (shm_zone_t *)1;
    main_conf_t *a = conf_of("tcp { " SERVER " }");
    ck_assert_int_eq(shm_zones_open(a, &live, &next, err, sizeof err), 0);
    ck_assert_ptr_null(next);
    conf_destroy(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shm");
    TCase *t = tcase_create("zones");
    tcase_add_test(t, zones_are_kept_when_unchanged);
    tcase_add_test(t, no_dicts_no_zones);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    return check_run(sr);
}
