/* test_log.c: unit tests of the ngx.log argument rules (api/api_log.c) that need no server:
 * the level range and the text of its error, and the level constants. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "luatest.h"
#include "tests/check_run.h"

static void setup(void)
{
    luatest_open(api_log_inject);
}

static void teardown(void)
{
    lua_close(L);
}

START_TEST(test_level_constants)
{
    ck_eval("return table.concat({ngx.STDERR, ngx.EMERG, ngx.ALERT, ngx.CRIT, ngx.ERR, "
            "ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG}, ',')",
            "0,1,2,3,4,5,6,7,8");
}
END_TEST

/* SPEC [log.badlevel]: "bad log level: N" with N as given, however wide: a level that
 * would wrap to a valid int (2^32 + 4 -> 4) must be neither accepted nor shown wrapped. */
START_TEST(test_bad_level_message)
{
    ck_raises("ngx.log(9, 'x')", "bad log level: 9");
    ck_raises("ngx.log(-1, 'x')", "bad log level: -1");
    ck_raises("ngx.log(2^32 + 4, 'x')", "bad log level: 4294967300");
    ck_raises("ngx.log(-2^40)", "bad log level: -1099511627776");
    ck_raises("ngx.log('x')", "bad argument #1 to 'log' (number expected, got string)");
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("ngx.log");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_level_constants);
    tcase_add_test(tc, test_bad_level_message);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());

    return check_run(sr);
}
