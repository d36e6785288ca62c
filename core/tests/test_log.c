/* test_log.c: log_escape (core/log.c), the pure part of SPEC errlog.escape: which bytes
 * become escapes, that a NUL does not end the text, and that a short buffer never ends in half
 * an escape. */
#include <check.h>
#include <string.h>
#include "log.h"
#include "tests/check_run.h"

START_TEST(control_bytes_are_escaped)
{
    char out[128];
    static const char in[] = "a\nb\rc\td\x1b[0m\x00z\x7f\x01\\n\xc3\xa9";
    size_t n = log_escape(out, sizeof out, in, sizeof in - 1);
    ck_assert_str_eq(out, "a\\nb\\rc\\td\\x1b[0m\\x00z\\x7f\\x01\\n\xc3\xa9");
    ck_assert_uint_eq(n, strlen(out));
}
END_TEST

START_TEST(escaping_twice_changes_nothing)
{
    char once[64], twice[64];
    log_escape(once, sizeof once, "x\n\x02y", 4);
    log_escape(twice, sizeof twice, once, strlen(once));
    ck_assert_str_eq(once, twice); /* the API escapes NUL-bearing text, then the log again */
}
END_TEST

START_TEST(short_buffer_never_splits_an_escape)
{
    char out[6];
    ck_assert_uint_eq(log_escape(out, sizeof out, "ab\x1b", 3), 2); /* "\x1b" needs 4 more */
    ck_assert_str_eq(out, "ab");
    ck_assert_uint_eq(log_escape(out, 1, "abc", 3), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(log_escape(out, 0, "abc", 3), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("escape");
    tcase_add_test(tc, control_bytes_are_escaped);
    tcase_add_test(tc, escaping_twice_changes_nothing);
    tcase_add_test(tc, short_buffer_never_splits_an_escape);
    suite_add_tcase(s, tc);
    return check_run(srunner_create(s));
}
