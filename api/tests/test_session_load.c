/* test_session_load.c: unit tests of loading *_by_lua* code (api/session_load.c) without a
 * server: files that cannot be read as Lua source (a directory, a FIFO, a missing path)
 * fail with one clear message and leave the stack alone; readable ones load, plainly or as
 * the closure factory of process_by_lua*, with the file's own line numbers; chunks named by
 * the configuration fail with the directive's place; -t's check compiles without running. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lualib.h>
#include "luatest.h"
#include "session_load.h"
#include "tests/check_run.h"

static char dir[] = "/tmp/test_session_load.XXXXXX";
static char err[1024];

static void no_api(lua_State *l) { (void)l; }

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    luatest_open(no_api);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    lua_close(L);
    ck_assert_int_eq(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    strcpy(dir + sizeof dir - 7, "XXXXXX"); /* the template again, for CK_FORK=no */
}

/* dir/name, written with text when text is not NULL. */
static const char *file(const char *name, const char *text)
{
    static char path[sizeof dir + 64];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (text) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
    }
    return path;
}

/* Loads the file at path as process_by_lua_file (factory) or init_by_lua_file would. */
static int load(const char *path, int factory)
{
    char where[sizeof dir + 80];
    lua_code_t code = {NULL, path, where, "/etc/x.conf", 7};

    snprintf(where, sizeof where, "@%s", path);
    err[0] = '\0';
    return vm_load_chunk(L, &code, factory, err, sizeof err);
}

/* Asserts that loading path fails with the message fmt (its one %s: the path) and pushes
 * nothing, in both modes. */
static void ck_load_fails(const char *path, const char *fmt)
{
    char want[sizeof err];

    snprintf(want, sizeof want, fmt, path);
    for (int factory = 0; factory <= 1; factory++) {
        int top = lua_gettop(L);
        ck_assert_int_eq(load(path, factory), -1);
        ck_assert_str_eq(err, want);
        ck_assert_int_eq(lua_gettop(L), top);
    }
}

/* fopen() and open() succeed on a directory; its seek-to-end "size" is LONG_MAX on ext4. */
START_TEST(test_directory_is_refused)
{
    ck_load_fails(dir, "\"%s\" is not a regular file");
}
END_TEST

/* Opening a FIFO for reading must not wait for a writer (the test would hang). */
START_TEST(test_fifo_is_refused_without_blocking)
{
    const char *path = file("fifo.lua", NULL);

    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_load_fails(path, "\"%s\" is not a regular file");
}
END_TEST

START_TEST(test_missing_file)
{
    ck_load_fails(file("missing.lua", NULL), "open() \"%s\" failed (2: No such file or directory)");
}
END_TEST

START_TEST(test_plain_chunk)
{
    ck_assert_int_eq(load(file("init.lua", "answer = 6 * 7\nreturn answer\n"), 0), 0);
    lua_setglobal(L, "chunk");
    ck_eval("return chunk()", "42");
    ck_eval("return answer", "42");
}
END_TEST

/* The factory wraps the file in "return function(...) " .. "\nend": each call of the chunk
 * returns a new closure, varargs reach the body, and line numbers are the file's. */
START_TEST(test_factory_chunk)
{
    ck_assert_int_eq(load(file("t.lua", "local n = select('#', ...)\n"
                                        "if n > 0 then error('boom') end\n"
                                        "return 'ran'"),
                          1),
                     0);
    lua_setglobal(L, "chunk");
    ck_eval("return type(chunk())", "function");
    ck_eval("return chunk() ~= chunk()", "true");
    ck_eval("return chunk()()", "ran");
    ck_raises("chunk()(1)", "t.lua:2: boom");
}
END_TEST

/* A file ending in a comment still closes the factory: the tail starts with a newline. */
START_TEST(test_factory_after_trailing_comment)
{
    ck_assert_int_eq(load(file("c.lua", "return 'ok' -- no newline at the end"), 1), 0);
    lua_setglobal(L, "chunk");
    ck_eval("return chunk()()", "ok");
}
END_TEST

START_TEST(test_empty_file)
{
    ck_assert_int_eq(load(file("empty.lua", ""), 0), 0);
    lua_setglobal(L, "chunk");
    ck_eval("return select('#', chunk())", "0");
    ck_assert_int_eq(load(file("empty.lua", NULL), 1), 0);
    lua_setglobal(L, "chunk");
    ck_eval("return select('#', chunk()())", "0");
}
END_TEST

START_TEST(test_syntax_error_names_the_line)
{
    int top = lua_gettop(L);

    ck_assert_int_eq(load(file("bad.lua", "ngx = 1\nend end\n"), 1), -1);
    ck_assert_msg(strncmp(err, "failed to load Lua code: ", 25) == 0 && strstr(err, "bad.lua:2:"),
                  "%s", err);
    ck_assert_int_eq(lua_gettop(L), top);
}
END_TEST

/* A chunk the configuration names: the message ends with the directive's FILE:LINE. */
START_TEST(test_conf_chunk_names_the_directive)
{
    lua_code_t code = {NULL, file("gone.lua", NULL), "@gone", "/etc/x.conf", 7};
    char want[sizeof err];

    snprintf(want, sizeof want, "open() \"%s\" failed (%d: %s) in /etc/x.conf:7", code.path, ENOENT,
             strerror(ENOENT));
    ck_assert_int_eq(vm_load_conf_chunk(L, &code, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(vm_load_init(L, &code, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "init_by_lua error: open() ", 26) == 0, "%s", err);
}
END_TEST

/* -t's check: every chunk compiles, none runs (an init that would raise passes); the first
 * that does not compile fails with its place; a server sharing the tcp block's is not
 * compiled twice (nothing to observe but that it passes). */
START_TEST(test_conf_test_compiles_without_running)
{
    lua_code_t init = {"error('ran')", NULL, "=init_by_lua(x.conf:1)", "/etc/x.conf", 1};
    lua_code_t ok = {"return 1", NULL, "=process_by_lua(x.conf:2)", "/etc/x.conf", 2};
    lua_code_t bad = {"if then", NULL, "=process_by_lua(x.conf:9)", "/etc/x.conf", 9};
    server_conf_t s2 = {.s = {.process = &bad}}, s1 = {.s = {.process = &ok}, .next = &s2};
    tcp_conf_t t = {.s = {.process = &ok}, .init = &init, .servers = &s1};
    main_conf_t m = {.tcp = &t};

    ck_assert_int_eq(vm_conf_test(&m, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "failed to load Lua code: ", 25) == 0 && strstr(err, " in /etc/x.conf:9"),
                  "%s", err);
    s2.s.process = &ok;
    ck_assert_int_eq(vm_conf_test(&m, err, sizeof err), 0);
    init.code = "x = = 1";
    ck_assert_int_eq(vm_conf_test(&m, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "init_by_lua error: failed to load Lua code: ", 44) == 0
                      && strstr(err, " in /etc/x.conf:1"),
                  "%s", err);
}
END_TEST

static Suite *load_suite(void)
{
    Suite *s = suite_create("session_load");
    TCase *tf = tcase_create("unreadable");
    TCase *tl = tcase_create("load");

    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_checked_fixture(tl, setup, teardown);
    tcase_add_test(tf, test_directory_is_refused);
    tcase_add_test(tf, test_fifo_is_refused_without_blocking);
    tcase_add_test(tf, test_missing_file);
    tcase_add_test(tl, test_plain_chunk);
    tcase_add_test(tl, test_factory_chunk);
    tcase_add_test(tl, test_factory_after_trailing_comment);
    tcase_add_test(tl, test_empty_file);
    tcase_add_test(tl, test_syntax_error_names_the_line);
    tcase_add_test(tl, test_conf_chunk_names_the_directive);
    tcase_add_test(tl, test_conf_test_compiles_without_running);
    suite_add_tcase(s, tf);
    suite_add_tcase(s, tl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(load_suite());

    return check_run(sr);
}
