/* test_time.c: unit tests of the cached clock (core/clock.c), the HTTP-date formatter and
 * parser (core/httptime.c) and the ngx.* time family (api/api_time.c), run through a bare
 * Lua state with only that family injected. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lualib.h>
#include "luatest.h"
#include "clock.h"
#include "httptime.h"
#include "tests/check_run.h"

/* A fixed zone without tzdata: +05:30 exercises both hour and minute offset fields. */
#define TEST_TZ "XST-5:30"
#define TEST_OFF (5 * 3600 + 30 * 60)

static void setup(void)
{
    luatest_open(api_time_inject);
}

static void teardown(void)
{
    lua_close(L);
}

START_TEST(test_functions_present)
{
    ck_eval("local n = 0 for _, k in ipairs{'time','now','utctime','localtime','today',"
            "'tcp_time','parse_tcp_time','update_time'} do "
            "if type(ngx[k]) == 'function' then n = n + 1 end end return n",
            "8");
    ck_eval("return ngx.start_time", "nil");
}
END_TEST

START_TEST(test_time_and_now)
{
    time_t real = time(NULL);
    double t = atof(eval("return ngx.time()"));

    ck_assert(t >= (double)real - 1 && t <= (double)real + 1);
    ck_eval("local t = ngx.time() return t == math.floor(t)", "true");
    ck_eval("return math.floor(ngx.now()) == ngx.time()", "true");
    /* millisecond resolution: now * 1000 is (within float error) an integer */
    ck_eval("local ms = ngx.now() * 1000 return math.abs(ms - math.floor(ms + 0.5)) < 1e-3",
            "true");
    ck_eval("local ms = math.floor(ngx.now() * 1000 + 0.5) - ngx.time() * 1000 "
            "return ms >= 0 and ms <= 999",
            "true");
}
END_TEST

START_TEST(test_cached_until_update)
{
    const char *busy = "local c = os.clock() while os.clock() - c < 0.05 do end ";
    char chunk[512];

    clock_update();
    snprintf(chunk, sizeof chunk,
             "local a, s, u, l = ngx.now(), ngx.time(), ngx.utctime(), ngx.localtime() %s"
             "return a == ngx.now() and s == ngx.time() and u == ngx.utctime() "
             "and l == ngx.localtime()",
             busy);
    ck_eval(chunk, "true");
    snprintf(chunk, sizeof chunk,
             "local a = ngx.now() %s local r = ngx.update_time() "
             "return select('#', r) == 1 and r == nil and ngx.now() - a >= 0.045",
             busy);
    ck_eval(chunk, "true");
    ck_eval("return select('#', ngx.update_time())", "0");
}
END_TEST

START_TEST(test_clock_c_api)
{
    clock_update();
    ck_assert_uint_le(clock_msec(), 999);
    ck_assert(clock_now() == (double)clock_time() + clock_msec() / 1000.0);
    ck_assert_ptr_eq(clock_utc_str(), clock_utc_str()); /* same cached buffer */
}
END_TEST

/* Reference text of t in the fixed test zone, computed without the code under test. */
static void fixed_zone(time_t t, char *buf, size_t n, const char *fmt)
{
    struct tm tm;
    time_t shifted = t + TEST_OFF;

    gmtime_r(&shifted, &tm);
    strftime(buf, n, fmt, &tm);
}

START_TEST(test_utc_local_today)
{
    char want[64];
    time_t t;

    clock_update();
    t = clock_time();
    ck_eval("return ngx.utctime() == os.date('!%Y-%m-%d %H:%M:%S', ngx.time())", "true");
    fixed_zone(t, want, sizeof want, "%Y-%m-%d %H:%M:%S");
    ck_eval("return ngx.localtime()", want);
    want[10] = '\0';
    ck_eval("return ngx.today()", want);
    fixed_zone(t, want, sizeof want, "%Y/%m/%d %H:%M:%S");
    ck_assert_str_eq(clock_log_str(), want);
    fixed_zone(t, want, sizeof want, "%Y-%m-%dT%H:%M:%S+05:30");
    ck_assert_str_eq(clock_iso8601_str(), want);
    fixed_zone(t, want, sizeof want, "%d/%b/%Y:%H:%M:%S +0530");
    ck_assert_str_eq(clock_http_log_str(), want);
}
END_TEST

START_TEST(test_tcp_time_vectors)
{
    ck_eval("return ngx.tcp_time(1290079655)", "Thu, 18 Nov 2010 11:27:35 GMT");
    ck_eval("return ngx.tcp_time(0)", "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(-1)", "Wed, 31 Dec 1969 23:59:59 GMT");
    ck_eval("return ngx.tcp_time(2147483647)", "Tue, 19 Jan 2038 03:14:07 GMT");
    ck_eval("return ngx.tcp_time(2147483648)", "Tue, 19 Jan 2038 03:14:08 GMT");
    ck_eval("return ngx.tcp_time(4102444800)", "Fri, 01 Jan 2100 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(-2208988800)", "Mon, 01 Jan 1900 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(-62135596800)", "Mon, 01 Jan 0001 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(253402300799)", "Fri, 31 Dec 9999 23:59:59 GMT");
}
END_TEST

START_TEST(test_tcp_time_leap)
{
    ck_eval("return ngx.tcp_time(951782400)", "Tue, 29 Feb 2000 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(951782400 - 86400)", "Mon, 28 Feb 2000 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(951782400 + 86400)", "Wed, 01 Mar 2000 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(4107542400 - 86400)", "Sun, 28 Feb 2100 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(4107542400)", "Mon, 01 Mar 2100 00:00:00 GMT");
    ck_eval("return ngx.tcp_time(-2203891200)", "Thu, 01 Mar 1900 00:00:00 GMT");
}
END_TEST

START_TEST(test_tcp_time_fraction_and_coercion)
{
    ck_eval("return ngx.tcp_time(1290079655.9)", "Thu, 18 Nov 2010 11:27:35 GMT");
    ck_eval("return ngx.tcp_time(-0.5)", "Wed, 31 Dec 1969 23:59:59 GMT");
    ck_eval("return ngx.tcp_time(253402300799.5)", "Fri, 31 Dec 9999 23:59:59 GMT");
    ck_eval("return ngx.tcp_time('1290079655')", "Thu, 18 Nov 2010 11:27:35 GMT");
    ck_eval("return ngx.tcp_time(1290079655, 'extra')", "Thu, 18 Nov 2010 11:27:35 GMT");
}
END_TEST

START_TEST(test_tcp_time_errors)
{
    const char *range = "bad argument #1 to 'tcp_time' (time out of range)";

    ck_raises("ngx.tcp_time('x')",
              "bad argument #1 to 'tcp_time' (number expected, got string)");
    ck_raises("ngx.tcp_time()",
              "bad argument #1 to 'tcp_time' (number expected, got no value)");
    ck_raises("ngx.tcp_time(nil)",
              "bad argument #1 to 'tcp_time' (number expected, got nil)");
    ck_raises("ngx.tcp_time({})",
              "bad argument #1 to 'tcp_time' (number expected, got table)");
    ck_raises("ngx.tcp_time(253402300800)", range);
    ck_raises("ngx.tcp_time(-62135596801)", range);
    ck_raises("ngx.tcp_time(-62135596800.5)", range);
    ck_raises("ngx.tcp_time(1/0)", range);
    ck_raises("ngx.tcp_time(-1/0)", range);
    ck_raises("ngx.tcp_time(0/0)", range);
}
END_TEST

START_TEST(test_parse_forms)
{
    ck_eval("return ngx.parse_tcp_time('Thu, 18 Nov 2010 11:27:35 GMT')", "1290079655");
    ck_eval("return ngx.parse_tcp_time('Sun, 06 Nov 1994 08:49:37 GMT')", "784111777");
    ck_eval("return ngx.parse_tcp_time('Sunday, 06-Nov-94 08:49:37 GMT')", "784111777");
    ck_eval("return ngx.parse_tcp_time('Sun Nov  6 08:49:37 1994')", "784111777");
    ck_eval("return ngx.parse_tcp_time('Sun Nov 06 08:49:37 1994')", "784111777");
    ck_eval("return ngx.parse_tcp_time('Thursday, 01-Jan-70 00:00:00 GMT')", "0");
    ck_eval("return ngx.parse_tcp_time('Thursday, 31-Dec-69 23:59:59 GMT')", "3155759999");
    ck_eval("return ngx.parse_tcp_time('Wed, 31 Dec 1969 23:59:59 GMT')", "-1");
    ck_eval("return ngx.parse_tcp_time('Mon, 01 Jan 0001 00:00:00 GMT')", "-62135596800");
    ck_eval("return ngx.parse_tcp_time('Fri, 31 Dec 9999 23:59:59 GMT')", "253402300799");
    ck_eval("return ngx.parse_tcp_time('Tue, 29 Feb 2000 00:00:00 GMT')", "951782400");
    ck_eval("return ngx.parse_tcp_time('Tue, 19 Jan 2038 03:14:08 GMT')", "2147483648");
    /* the weekday is not checked against the date */
    ck_eval("return ngx.parse_tcp_time('Mon, 18 Nov 2010 11:27:35 GMT')", "1290079655");
}
END_TEST

START_TEST(test_parse_roundtrip)
{
    ck_eval("math.randomseed(42) for i = 1, 20000 do "
            "local t = math.random(-62135596800, 253402300799) "
            "if ngx.parse_tcp_time(ngx.tcp_time(t)) ~= t then return t end end "
            "return 'ok'",
            "ok");
}
END_TEST

START_TEST(test_parse_rejects)
{
    static const char *const bad[] = {
        "",
        " Thu, 18 Nov 2010 11:27:35 GMT",
        "Thu, 18 Nov 2010 11:27:35 GMT ",
        "Thu, 18 Nov 2010 11:27:35 GMTx",
        "Thu, 18 Nov 2010 11:27:35 UTC",
        "Thu, 18 Nov 2010 11:27:35",
        "Thx, 18 Nov 2010 11:27:35 GMT",
        "thu, 18 Nov 2010 11:27:35 GMT",
        "Thursday, 18 Nov 2010 11:27:35 GMT",
        "Thu, 18 nov 2010 11:27:35 GMT",
        "Thu, 18 Nox 2010 11:27:35 GMT",
        "Thu, 18 November 2010 11:27:35 GMT",
        "Thu, 8 Nov 2010 11:27:35 GMT",
        "Thu, 18 Nov 10 11:27:35 GMT",
        "Thu, 18 Nov 02010 11:27:35 GMT",
        "Thu, 00 Nov 2010 11:27:35 GMT",
        "Thu, 31 Nov 2010 11:27:35 GMT",
        "Thu, 32 Jan 2010 11:27:35 GMT",
        "Mon, 29 Feb 2010 11:27:35 GMT",
        "Mon, 29 Feb 1900 11:27:35 GMT",
        "Mon, 29 Feb 2100 11:27:35 GMT",
        "Thu, 18 Nov 2010 24:00:00 GMT",
        "Thu, 18 Nov 2010 11:60:35 GMT",
        "Thu, 18 Nov 2010 11:27:60 GMT",
        "Thu, 18 Nov 0000 11:27:35 GMT",
        "Thu, 18 Nov 2010 1:27:35 GMT",
        "Thu, 18 Nov 2010 11-27-35 GMT",
        "Thu,18 Nov 2010 11:27:35 GMT",
        "Thu, 18  Nov 2010 11:27:35 GMT",
        "Thu, 18 Nov 2010 11:27:35 gmt",
        "Thu, 18-Nov-2010 11:27:35 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sunday, 31-Feb-94 08:49:37 GMT",
        "Sonday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 ",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun, Nov  6 08:49:37 1994",
        "Sunday Nov  6 08:49:37 1994",
        "Sun Nov 31 08:49:37 1994",
        "Sun Nov  0 08:49:37 1994",
        "1290079655",
        "Thu, 18 Nov 2010 11:27:35 GMT\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lua_settop(L, 0);
        ck_assert_int_eq(luaL_loadstring(L, "return ngx.parse_tcp_time(...)"), 0);
        lua_pushstring(L, bad[i]);
        ck_assert_int_eq(lua_pcall(L, 1, 1, 0), 0);
        ck_assert_msg(lua_isnil(L, -1), "accepted: \"%s\"", bad[i]);
    }
    ck_eval("return ngx.parse_tcp_time('Thu, 18 Nov 2010 11:27:35 GMT\\0')", "nil");
}
END_TEST

START_TEST(test_parse_errors)
{
    ck_raises("ngx.parse_tcp_time()",
              "bad argument #1 to 'parse_tcp_time' (string expected, got no value)");
    ck_raises("ngx.parse_tcp_time(nil)",
              "bad argument #1 to 'parse_tcp_time' (string expected, got nil)");
    ck_raises("ngx.parse_tcp_time(true)",
              "bad argument #1 to 'parse_tcp_time' (string expected, got boolean)");
    ck_eval("return ngx.parse_tcp_time(1290079655)", "nil");
}
END_TEST

START_TEST(test_httptime_c_api)
{
    char buf[HTTPTIME_LEN + 1];
    int64_t sec = 0;

    ck_assert_uint_eq(httptime_format(HTTPTIME_MAX + 1, buf), 0);
    ck_assert_uint_eq(httptime_format(HTTPTIME_MIN - 1, buf), 0);
    ck_assert_uint_eq(httptime_format(784111777, buf), HTTPTIME_LEN);
    ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_int_eq(httptime_parse(buf, strlen(buf), &sec), 0);
    ck_assert_int_eq(sec, 784111777);
    /* the length bounds the input: a prefix is not a date */
    ck_assert_int_eq(httptime_parse(buf, strlen(buf) - 1, &sec), -1);
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("clock");
    TCase *tf = tcase_create("tcp_time");
    TCase *tp = tcase_create("parse_tcp_time");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_add_test(tc, test_functions_present);
    tcase_add_test(tc, test_time_and_now);
    tcase_add_test(tc, test_cached_until_update);
    tcase_add_test(tc, test_clock_c_api);
    tcase_add_test(tc, test_utc_local_today);
    tcase_add_test(tf, test_tcp_time_vectors);
    tcase_add_test(tf, test_tcp_time_leap);
    tcase_add_test(tf, test_tcp_time_fraction_and_coercion);
    tcase_add_test(tf, test_tcp_time_errors);
    tcase_add_test(tp, test_parse_forms);
    tcase_add_test(tp, test_parse_roundtrip);
    tcase_add_test(tp, test_parse_rejects);
    tcase_add_test(tp, test_parse_errors);
    tcase_add_test(tp, test_httptime_c_api);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tf);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr;

    setenv("TZ", TEST_TZ, 1); /* before any conversion: the C library reads TZ once */
    tzset();
    sr = srunner_create(time_suite());
    return check_run(sr);
}
