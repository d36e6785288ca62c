/* test_conf.c: unit tests of the configuration parser (core/conf_*.c), driven through the pure
 * seam conf_parse() + conf_finish() and, for include, conf_load() on temporary files. One suite
 * per concern of SPEC.md chapters 2-3: lexer, errors, values, directives (the [dir.table] rows
 * and each directive's own rules), merge/defaults, include, dump. Every error is asserted as the
 * exact text of cf.err, "MESSAGE in FILE:LINE".
 * With TEST_CONF_CORPUS=DIR (and CK_FORK=no) every text parsed is also written to DIR, which is
 * how fuzz/corpus/conf/ is seeded from these cases. */
#include <check.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf_internal.h"
#include "log.h"
#include "tests/check_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A server that passes conf_finish(), for cases about other directives. */
#define SRV "server { listen 1; protocol tcp_lua; process_by_lua x; }"

static main_conf_t *m;
static conf_t cf;

static void write_corpus(const char *text, size_t n)
{
    static int seq;
    const char *dir = getenv("TEST_CONF_CORPUS");
    char path[512];
    if (!dir) return;
    snprintf(path, sizeof path, "%s/test_%04d.conf", dir, seq++);
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(text, 1, n, f);
        fclose(f);
    }
}

/* Parses n bytes as "t.conf" (prefix /p/), then finishes: 0, or -1 with cf.err filled. */
static int parse_n(const char *text, size_t n)
{
    write_corpus(text, n);
    conf_destroy(m);
    m = conf_create("/p/", "conf/t.conf");
    conf_init(&cf, m);
    if (conf_parse(&cf, text, n, "t.conf")) return -1;
    return conf_finish(&cf);
}

static int parse(const char *text) { return parse_n(text, strlen(text)); }

/* Fills one %s of a context template (tables below hold directive text, not whole files). */
static int parsef(const char *fmt, const char *arg)
{
    char buf[2048];
    ck_assert_int_lt(snprintf(buf, sizeof buf, fmt, arg), (int)sizeof buf);
    return parse(buf);
}

static void teardown(void)
{
    conf_destroy(m);
    m = NULL;
}

static void expect_ok(int rc, const char *text)
{
    ck_assert_msg(rc == 0, "%s: unexpected error: %s", text, cf.err);
    ck_assert_str_eq(cf.err, "");
}

static void expect_err(int rc, const char *text, const char *want)
{
    ck_assert_msg(rc == -1, "%s: accepted, wanted: %s", text, want);
    ck_assert_msg(strcmp(cf.err, want) == 0, "%s:\n got: %s\nwant: %s", text, cf.err, want);
}

#define OK(text) expect_ok(parse(text), text)
#define ERR(text, want) expect_err(parse(text), text, want)

/* A table row: text (len 0 = strlen), and the exact error, or NULL for "accepted". */
typedef struct {
    const char *text;
    size_t len;
    const char *err;
} case_t;
#define C(text, err) \
    {                \
        text, 0, err \
    }
#define CB(text, err)               \
    {                               \
        text, sizeof(text) - 1, err \
    } /* holds NUL bytes */

static void run_case(const case_t *c, const char *fmt)
{
    char buf[2048];
    const char *text = c->text;
    size_t n = c->len ? c->len : strlen(c->text);
    if (fmt) {
        n = (size_t)snprintf(buf, sizeof buf, fmt, c->text);
        text = buf;
    }
    int rc = parse_n(text, n);
    if (c->err) expect_err(rc, text, c->err);
    else expect_ok(rc, text);
}

/* ---- lexer: [conf.lex.*] ------------------------------------------------------------------- */

/* Word as written after lua_package_path (stored verbatim) -> the string the parser made of it. */
static const struct {
    const char *word, *value;
} words[] = {
    {"plain", "plain"},
    {"\"a b;{}#c\"", "a b;{}#c"}, /* [conf.lex.quotes] */
    {"'a b;{}#c'", "a b;{}#c"},
    {"'a \"b\"'", "a \"b\""},
    {"\"a 'b'\"", "a 'b'"},
    {"''", ""},
    {"\"multi\nline\"", "multi\nline"},
    {"\"a\\\"b\"", "a\"b"}, /* [conf.lex.escapes] */
    {"'a\\'b'", "a'b"},
    {"\"a\\\\b\"", "a\\b"},
    {"'\\\\'", "\\"},
    {"\"a\\nb\\tc\\rd\"", "a\nb\tc\rd"},
    {"\"a\\xb\"", "a\\xb"},
    {"'\\$prefix'", "\\$prefix"},
    {"a\\\"b", "a\"b"}, /* the same escapes in unquoted words */
    {"a\\'b", "a'b"},
    {"a\\\\b", "a\\b"},
    {"a\\nb\\tc\\rd", "a\nb\tc\rd"},
    {"\\\"a", "\"a"},
    {"a\\;b", "a\\;b"}, /* escaped ';' '{' space: ordinary, both kept */
    {"a\\{b", "a\\{b"},
    {"a\\ b", "a\\ b"},
    {"a\\#b", "a\\#b"},
    {"a}b", "a}b"},         /* [conf.lex.words] '}' inside a word */
    {"a#b", "a#b"},         /* [conf.lex.comments] '#' inside a word */
    {"a\"b\"c", "a\"b\"c"}, /* a quote inside a word is ordinary */
    {"a'b", "a'b"},
};

START_TEST(lexer_word_value)
{
    char text[256];
    snprintf(text, sizeof text, "tcp { lua_package_path %s; }", words[_i].word);
    int rc = parse(text);
    expect_ok(rc, text);
    ck_assert_str_eq(m->tcp->lua_package_path, words[_i].value);
}
END_TEST

/* Texts that must be accepted (separators, comments, quoted names, NUL inside a comment). */
static const case_t lexer_ok[] = {
    C("", NULL),
    C(" \t\r\n \n", NULL),
    C("# only a comment", NULL),
    C("# one\n# two\n", NULL),
    C("daemon off;", NULL),
    C("daemon\toff\r\n;\r\n", NULL),
    C("  daemon   off  ;  master_process on;", NULL),
    C("daemon off;# comment at end of file without newline", NULL),
    C("daemon # comment inside a directive\n off;", NULL),
    C("# \"unterminated quote and { ; } in a comment\ndaemon off;", NULL),
    C("events{}", NULL),
    C("events{worker_connections 1;}", NULL),
    C("events {\n}\n", NULL),
    C("\"events\" {}", NULL),
    C("'daemon' 'off';", NULL),
    C("daemon \"off\";master_process 'on' ;", NULL),
    C("tcp { init_by_lua 'a' ; }", NULL),
    CB("# NUL \0 inside a comment\ndaemon off;", NULL), /* [conf.lex.nul] */
    CB("daemon off; #\0\n", NULL),
};

START_TEST(lexer_accepts) { run_case(&lexer_ok[_i], NULL); }
END_TEST

START_TEST(lexer_values_after_separators)
{
    OK("daemon\toff\r\n;");
    ck_assert_int_eq(m->daemon, 0);
    OK("daemon # comment ; on\n off;");
    ck_assert_int_eq(m->daemon, 0);
    OK("'daemon' \"off\";");
    ck_assert_int_eq(m->daemon, 0);
    OK("events{worker_connections 7;}");
    ck_assert_int_eq(m->worker_connections, 7);
    OK("tcp { log_format f a'b' \"c d\" e\\ f; }"); /* a'b' is one word: a quote inside a word */
    ck_assert_str_eq(m->tcp->formats->format, "a'b'c de\\ f");
}
END_TEST

static const case_t lexer_errors[] = {
    /* [conf.lex.quotes]: after a closing quote only space, ';' or '{' */
    C("daemon \"on\"x;", "unexpected \"x\" in t.conf:1"),
    C("daemon 'on'\"off\";", "unexpected \"\"\" in t.conf:1"),
    C("daemon 'on''off';", "unexpected \"'\" in t.conf:1"),
    C("daemon \"on\"#c\n;", "unexpected \"#\" in t.conf:1"),
    C("daemon \"on\"};", "unexpected \"}\" in t.conf:1"),
    C("\n\"events\"x {}", "unexpected \"x\" in t.conf:2"),
    /* [conf.lex.nul] */
    CB("daemon o\0n;", "unexpected NUL byte in t.conf:1"),
    CB("\n\ndaemon \"o\0n\";", "unexpected NUL byte in t.conf:3"),
    CB("daemon on;\n\0", "unexpected NUL byte in t.conf:2"),
    CB("\0", "unexpected NUL byte in t.conf:1"),
    CB("daemon \0on;", "unexpected NUL byte in t.conf:1"),
    /* end of file inside a directive or a quoted word */
    C("daemon on", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon \"on", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon 'on\n\n", "unexpected end of file, expecting \";\" or \"}\" in t.conf:3"),
    C("daemon \"on\"", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon \"on\\\"", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon \\", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon on # the ';' is in the comment;", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("daemon on}", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    /* [conf.lex.lines]: the line where the parser stood */
    C("\n\n\nfoo;", "unknown directive \"foo\" in t.conf:4"),
    C("foo\n\n;", "unknown directive \"foo\" in t.conf:3"),
    C("# a\n# b\nfoo;", "unknown directive \"foo\" in t.conf:3"),
    C("daemon on;\r\nfoo;\r\n", "unknown directive \"foo\" in t.conf:2"),
    C("pid \"a\nb\nc\";\nfoo;", "unknown directive \"foo\" in t.conf:4"),
    C("tcp { init_by_lua '\n\n\n'; }\nfoo;", "unknown directive \"foo\" in t.conf:5"),
    C("pid a\\\nb;\nfoo;", "unknown directive \"foo\" in t.conf:3"),
    C("events {\n\n", "unexpected end of file, expecting \"}\" in t.conf:3"),
    C("daemon\n\nyes\n;", "invalid value \"yes\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:4"),
    C("daemon\n{\n}", "directive \"daemon\" is not terminated by \";\" in t.conf:2"),
    C("events\n\n;", "directive \"events\" has no opening \"{\" in t.conf:3"),
    C("daemon on;\n\n}", "unexpected \"}\" in t.conf:3"),
    C("tcp { lua_package_path /a/?.lua;; }", "unexpected \";\" in t.conf:1"), /* ';' ends a word */
};

START_TEST(lexer_rejects) { run_case(&lexer_errors[_i], NULL); }
END_TEST

/* ---- errors: [conf.err.*] ------------------------------------------------------------------ */

static const case_t structure_errors[] = {
    /* [conf.err.unknown] */
    C("foo;", "unknown directive \"foo\" in t.conf:1"),
    C("foo bar baz;", "unknown directive \"foo\" in t.conf:1"),
    C("foo {}", "unknown directive \"foo\" in t.conf:1"),
    C("Daemon on;", "unknown directive \"Daemon\" in t.conf:1"),
    C("\"\";", "unknown directive \"\" in t.conf:1"),
    C("tcp {\n server {\n  foo;\n }\n}", "unknown directive \"foo\" in t.conf:3"),
    C("events { use epoll; }", "unknown directive \"use\" in t.conf:1"),
    C("http {}", "unknown directive \"http\" in t.conf:1"),
    /* [conf.err.context] */
    C("listen 80;", "\"listen\" directive is not allowed here in t.conf:1"),
    C("server {}", "\"server\" directive is not allowed here in t.conf:1"),
    C("events { daemon on; }", "\"daemon\" directive is not allowed here in t.conf:1"),
    C("events { tcp {} }", "\"tcp\" directive is not allowed here in t.conf:1"),
    C("tcp { worker_connections 1; }", "\"worker_connections\" directive is not allowed here in t.conf:1"),
    C("tcp { server { server {} } }", "\"server\" directive is not allowed here in t.conf:1"),
    C("tcp { server { log_format a b; } }", "\"log_format\" directive is not allowed here in t.conf:1"),
    C("read_timeout 1s;", "\"read_timeout\" directive is not allowed here in t.conf:1"),
    /* [conf.err.arity] */
    C("daemon;", "invalid number of arguments in \"daemon\" directive in t.conf:1"),
    C("daemon on off;", "invalid number of arguments in \"daemon\" directive in t.conf:1"),
    C("error_log a error b;", "invalid number of arguments in \"error_log\" directive in t.conf:1"),
    C("events x {}", "invalid number of arguments in \"events\" directive in t.conf:1"),
    C("tcp { log_format a; }", "invalid number of arguments in \"log_format\" directive in t.conf:1"),
    C("tcp { lua_shared_dict a; }", "invalid number of arguments in \"lua_shared_dict\" directive in t.conf:1"),
    C("tcp { lua_shared_dict a 8k 9k; }", "invalid number of arguments in \"lua_shared_dict\" directive in t.conf:1"),
    C("tcp { server { listen; } }", "invalid number of arguments in \"listen\" directive in t.conf:1"),
    C("tcp { resolver; }", "invalid number of arguments in \"resolver\" directive in t.conf:1"),
    C("tcp { resolver valid=30s ipv6=off; }", "invalid number of arguments in \"resolver\" directive in t.conf:1"),
    C("tcp { access_log a b c; }", "invalid number of arguments in \"access_log\" directive in t.conf:1"),
    C("include;", "invalid number of arguments in \"include\" directive in t.conf:1"),
    /* [conf.err.terminator] */
    C("daemon on {}", "directive \"daemon\" is not terminated by \";\" in t.conf:1"),
    C("tcp { read_timeout 1s { } }", "directive \"read_timeout\" is not terminated by \";\" in t.conf:1"),
    C("events;", "directive \"events\" has no opening \"{\" in t.conf:1"),
    C("tcp;", "directive \"tcp\" has no opening \"{\" in t.conf:1"),
    C("tcp { server; }", "directive \"server\" has no opening \"{\" in t.conf:1"),
    /* [conf.err.duplicate] (every directive in the directives suite; blocks here) */
    C("daemon on; daemon off;", "\"daemon\" directive is duplicate in t.conf:1"),
    C("events {}\nevents {}", "\"events\" directive is duplicate in t.conf:2"),
    C("tcp {}\ntcp {\n}", "\"tcp\" directive is duplicate in t.conf:2"),
    /* [conf.err.braces] */
    C("}", "unexpected \"}\" in t.conf:1"),
    C("events {}\n}", "unexpected \"}\" in t.conf:2"),
    C("tcp { } }", "unexpected \"}\" in t.conf:1"),
    C("daemon on }", "unexpected \"}\" in t.conf:1"),
    C("events {", "unexpected end of file, expecting \"}\" in t.conf:1"),
    C("tcp { server {\n", "unexpected end of file, expecting \"}\" in t.conf:2"),
    C("tcp { server { } \n\n", "unexpected end of file, expecting \"}\" in t.conf:3"),
    C("events { worker_connections 1", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C("tcp { server { listen 1", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1"),
    C(";", "unexpected \";\" in t.conf:1"),
    C("daemon on;;", "unexpected \";\" in t.conf:1"),
    C("{", "unexpected \"{\" in t.conf:1"),
    C("{}", "unexpected \"{\" in t.conf:1"),
    C("events { ; }", "unexpected \";\" in t.conf:1"),
    C("tcp {\n {", "unexpected \"{\" in t.conf:2"),
    /* [conf.include] without a file reader (the pure seam) */
    C("include x.conf;", "\"include\" is not available here in t.conf:1"),
};

START_TEST(structure_rejects) { run_case(&structure_errors[_i], NULL); }
END_TEST

/* ---- values: [conf.err.value], [conf.value.size], [conf.value.time] ------------------------ */

static const struct {
    const char *text;
    long value;
} sizes[] = {
    {"0", 0},
    {"1", 1},
    {"512", 512},
    {"007", 7},
    {"1k", 1024},
    {"1K", 1024},
    {"4k", 4096},
    {"1m", 1048576},
    {"3M", 3145728},
    {"1g", 1073741824L},
    {"2G", 2147483648L},
    {"8796093022207m", 8796093022207L * 1048576},
    {"9223372036854775807", 9223372036854775807L},
    /* not sizes */
    {"", -1},
    {"k", -1},
    {"1kb", -1},
    {"1t", -1},
    {"1T", -1},
    {"-1", -1},
    {"+1", -1},
    {"1.5k", -1},
    {"1 k", -1},
    {"k1", -1},
    {"0x10", -1},
    {"1kk", -1},
    {"1mk", -1},
    {"9223372036854775808", -1},
    {"99999999999999999999", -1},
    {"8796093022208m", -1},
    {"9999999999g", -1},
};

START_TEST(value_size)
{
    const char *tmpl = "tcp { client_max_body_size '%s'; }";
    ck_assert_int_eq(conf_parse_size(sizes[_i].text), sizes[_i].value);
    if (sizes[_i].value < 0) {
        expect_err(parsef(tmpl, sizes[_i].text), sizes[_i].text,
                   "\"client_max_body_size\" directive invalid value in t.conf:1");
        return;
    }
    expect_ok(parsef(tmpl, sizes[_i].text), sizes[_i].text);
    ck_assert_int_eq(m->tcp->s.client_max_body_size, sizes[_i].value);
}
END_TEST

#define SEC 1000L
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
static const struct {
    const char *text;
    long ms;
} times[] = {
    {"0", 0},
    {"90", 90 * SEC},
    {"500ms", 500},
    {"0ms", 0},
    {"5s", 5 * SEC},
    {"2m", 2 * MIN},
    {"3h", 3 * HOUR},
    {"1d", DAY},
    {"1w", 7 * DAY},
    {"1M", 30 * DAY},
    {"1y", 365 * DAY},
    {"1h30m", HOUR + 30 * MIN},
    {"1m30", MIN + 30 * SEC},
    {"1h30", HOUR + 30 * SEC},
    {"1s500ms", 1500},
    {"1m1ms", MIN + 1},
    {"2d12h", 2 * DAY + 12 * HOUR},
    {"1y1M1w1d1h1m1s1ms", 365 * DAY + 30 * DAY + 7 * DAY + DAY + HOUR + MIN + SEC + 1},
    {"1y2", 365 * DAY + 2 * SEC},
    {"00010s", 10 * SEC},
    {"2147483647", 2147483647L * SEC}, /* the largest time: 2^31-1 s ([conf.value.overflow]) */
    {"24855d3h14m7s", 2147483647L * SEC},
    {"2147483647000ms", 2147483647000L},
    {"68y1M", (68L * 365 + 30) * DAY},
    /* not times: unit order, repeats, bare number not last, junk, overflow */
    {"", -1},
    {"s", -1},
    {"ms", -1},
    {"m1", -1},
    {"1m1h", -1},
    {"1s1m", -1},
    {"1ms1s", -1},
    {"1s1s", -1},
    {"1h1h", -1},
    {"1m1m", -1},
    {"30s5", -1},
    {"1ms5", -1},
    {"1x", -1},
    {"1S", -1},
    {"1H", -1},
    {"1D", -1},
    {"1mn", -1},
    {"1sec", -1},
    {"-1s", -1},
    {"+1s", -1},
    {"1.5s", -1},
    {"1 s", -1},
    {"1ss", -1},
    {"1mss", -1},
    /* beyond 2^31-1 s: a piece, the sum of pieces, or digits that overflow a long */
    {"2147483648", -1},
    {"24855d3h14m8s", -1},
    {"2147483647s1ms", -1},
    {"2147483647001ms", -1},
    {"68y2M", -1},
    {"69y", -1},
    {"99999999999d", -1}, /* 8.64e18 ms: fits a long, so only the bound refuses it */
    {"106751991167", -1},
    {"9223372036854775807ms", -1},
    {"9223372036854775808ms", -1},
    {"9223372036854775", -1},
    {"300000000y", -1},
    {"292471208y", -1},
    {"99999999999999999999ms", -1},
};

START_TEST(value_time)
{
    const char *tmpl = "tcp { read_timeout '%s'; }";
    ck_assert_int_eq(conf_parse_time_ms(times[_i].text), times[_i].ms);
    if (times[_i].ms < 0) {
        expect_err(parsef(tmpl, times[_i].text), times[_i].text,
                   "\"read_timeout\" directive invalid value in t.conf:1");
        return;
    }
    expect_ok(parsef(tmpl, times[_i].text), times[_i].text);
    ck_assert_int_eq(m->tcp->s.read_timeout, times[_i].ms);
}
END_TEST

static const case_t value_errors[] = {
    /* flags */
    C("daemon yes;", "invalid value \"yes\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("daemon 1;", "invalid value \"1\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("daemon '';", "invalid value \"\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("daemon 'on ';", "invalid value \"on \" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    /* [conf.err.format] one line, even when the value holds line breaks */
    C("daemon 'o\nn';", "invalid value \"o n\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:2"),
    C("daemon o\\r\\nn;", "invalid value \"o  n\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("master_process of;", "invalid value \"of\" in \"master_process\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("tcp { tcp_nodelay true; }", "invalid value \"true\" in \"tcp_nodelay\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("tcp { lua_code_cache 0; }", "invalid value \"0\" in \"lua_code_cache\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    C("tcp { server { lua_check_client_abort no; } }", "invalid value \"no\" in \"lua_check_client_abort\" directive, it must be \"on\" or \"off\" in t.conf:1"),
    /* numbers */
    C("events { worker_connections abc; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections -1; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections +1; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections 1k; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections ''; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections 1.0; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections 99999999999999999999; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("events { worker_connections 0; }", "\"worker_connections\" directive invalid value in t.conf:1"),
    C("events { worker_connections 000; }", "\"worker_connections\" directive invalid value in t.conf:1"),
    C("events { worker_connections -0; }", "\"worker_connections\" directive invalid number in t.conf:1"),
    C("tcp { lua_socket_pool_size x; }", "\"lua_socket_pool_size\" directive invalid number in t.conf:1"),
    C("tcp { server { lua_socket_pool_size 0x1; } }", "\"lua_socket_pool_size\" directive invalid number in t.conf:1"),
    /* sizes and times of every kind of directive */
    C("tcp { session_pool_size 1x; }", "\"session_pool_size\" directive invalid value in t.conf:1"),
    C("tcp { connection_pool_size -1; }", "\"connection_pool_size\" directive invalid value in t.conf:1"),
    C("tcp { lua_socket_send_lowat 1kb; }", "\"lua_socket_send_lowat\" directive invalid value in t.conf:1"),
    C("tcp { server { lua_socket_buffer_size 4kk; } }", "\"lua_socket_buffer_size\" directive invalid value in t.conf:1"),
    C("tcp { send_timeout 1m1h; }", "\"send_timeout\" directive invalid value in t.conf:1"),
    C("tcp { keepalive_timeout 5x; }", "\"keepalive_timeout\" directive invalid value in t.conf:1"),
    C("tcp { resolver_timeout ''; }", "\"resolver_timeout\" directive invalid value in t.conf:1"),
    C("tcp { lua_socket_connect_timeout 1s1s; }", "\"lua_socket_connect_timeout\" directive invalid value in t.conf:1"),
    C("tcp { lua_socket_send_timeout -1; }", "\"lua_socket_send_timeout\" directive invalid value in t.conf:1"),
    C("tcp { lua_socket_read_timeout s; }", "\"lua_socket_read_timeout\" directive invalid value in t.conf:1"),
    C("tcp { server { lua_socket_keepalive_timeout 1.5s; } }", "\"lua_socket_keepalive_timeout\" directive invalid value in t.conf:1"),
    /* [dir.worker_processes] */
    C("worker_processes 0;", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes 1025;", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes -1;", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes +2;", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes ' 2';", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes 2x;", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes '';", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes AUTO;", "\"worker_processes\" directive invalid value in t.conf:1"),
    C("worker_processes 99999999999999999999;", "\"worker_processes\" directive invalid value in t.conf:1"),
};

START_TEST(value_rejects) { run_case(&value_errors[_i], NULL); }
END_TEST

START_TEST(value_accepts)
{
    OK("daemon on; master_process off;");
    ck_assert_int_eq(m->daemon, 1);
    ck_assert_int_eq(m->master_process, 0);
    OK("daemon OFF; master_process On;"); /* nginx compares flags caselessly */
    ck_assert_int_eq(m->daemon, 0);
    ck_assert_int_eq(m->master_process, 1);
    OK("events { worker_connections 0010; }");
    ck_assert_int_eq(m->worker_connections, 10);
    OK("worker_processes 1024;");
    ck_assert_int_eq(m->worker_processes, 1024);
    OK("worker_processes 007;");
    ck_assert_int_eq(m->worker_processes, 7);
    OK("worker_processes auto;");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    ck_assert_int_eq(m->worker_processes, cpus > 0 ? cpus : 1);
    OK("tcp { lua_socket_pool_size 0; tcp_nodelay off; lua_check_client_abort on; }");
    ck_assert_int_eq(m->tcp->s.lua_socket_pool_size, 0);
    ck_assert_int_eq(m->tcp->s.tcp_nodelay, 0);
    ck_assert_int_eq(m->tcp->s.lua_check_client_abort, 1);
}
END_TEST

/* ---- directives: [dir.table] rows, generically ----------------------------------------------- */

/* SPEC [dir.table]: contexts, arity and a valid sample per directive. `again` is a second
 * sample when the directive may repeat in one context, NULL when a repeat is "duplicate". */
static const struct {
    const char *name;
    int ctx, min, max; /* max -1: unbounded */
    const char *sample, *again;
} spec_rows[] = {
    {"include", CTX_ANY, 1, 1, "include x", NULL},
    {"worker_processes", CTX_MAIN, 1, 1, "worker_processes 2", NULL},
    {"daemon", CTX_MAIN, 1, 1, "daemon off", NULL},
    {"master_process", CTX_MAIN, 1, 1, "master_process off", NULL},
    {"pid", CTX_MAIN, 1, 1, "pid a.pid", NULL},
    {"user", CTX_MAIN, 1, 2, "user root", NULL}, /* a name on every host; ignored unless root */
    {"worker_rlimit_nofile", CTX_MAIN, 1, 1, "worker_rlimit_nofile 1024", NULL},
    {"error_log", CTX_MAIN | CTX_TCP | CTX_SERVER, 1, 2, "error_log e.log", NULL},
    {"events", CTX_MAIN, 0, 0, "events {}", NULL},
    {"worker_connections", CTX_EVENTS, 1, 1, "worker_connections 9", NULL},
    {"worker_shutdown_timeout", CTX_MAIN, 1, 1, "worker_shutdown_timeout 3s", NULL},
    {"tcp", CTX_MAIN, 0, 0, "tcp {}", NULL},
    {"server", CTX_TCP, 0, 0, "server { listen 2; protocol tcp_lua; process_by_lua x; }",
     "server { listen 3; protocol tcp_lua; process_by_lua y; }"},
    {"listen", CTX_SERVER, 1, -1, "listen 2", "listen 3"},
    {"protocol", CTX_SERVER, 1, 1, "protocol tcp_lua", NULL},
    {"read_timeout", CTX_TCP | CTX_SERVER, 1, 1, "read_timeout 1s", NULL},
    {"send_timeout", CTX_TCP | CTX_SERVER, 1, 1, "send_timeout 1s", NULL},
    {"keepalive_timeout", CTX_TCP | CTX_SERVER, 1, 1, "keepalive_timeout 1s", NULL},
    {"session_pool_size", CTX_TCP | CTX_SERVER, 1, 1, "session_pool_size 2k", NULL},
    {"connection_pool_size", CTX_TCP | CTX_SERVER, 1, 1, "connection_pool_size 2k", NULL},
    {"client_max_body_size", CTX_TCP | CTX_SERVER, 1, 1, "client_max_body_size 2k", NULL},
    {"tcp_nodelay", CTX_TCP | CTX_SERVER, 1, 1, "tcp_nodelay off", NULL},
    {"allow", CTX_TCP | CTX_SERVER, 1, 1, "allow 10.0.0.0/8", "allow all"},
    {"deny", CTX_TCP | CTX_SERVER, 1, 1, "deny ::1", "deny all"},
    {"resolver", CTX_TCP | CTX_SERVER, 1, -1, "resolver 127.0.0.1", NULL},
    {"resolver_timeout", CTX_TCP | CTX_SERVER, 1, 1, "resolver_timeout 1s", NULL},
    {"log_format", CTX_TCP, 2, -1, "log_format a $msec", "log_format b $msec"},
    {"access_log", CTX_TCP | CTX_SERVER, 1, 2, "access_log a.log", NULL},
    {"lua_package_path", CTX_TCP, 1, 1, "lua_package_path '/x/?.lua;;'", NULL},
    {"lua_package_cpath", CTX_TCP, 1, 1, "lua_package_cpath '/x/?.so;;'", NULL},
    {"lua_shared_dict", CTX_TCP, 2, 2, "lua_shared_dict a 8k", "lua_shared_dict b 8k"},
    {"lua_code_cache", CTX_TCP | CTX_SERVER, 1, 1, "lua_code_cache off", NULL},
    {"lua_check_client_abort", CTX_TCP | CTX_SERVER, 1, 1, "lua_check_client_abort on", NULL},
    {"lua_socket_connect_timeout", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_connect_timeout 1s", NULL},
    {"lua_socket_send_timeout", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_send_timeout 1s", NULL},
    {"lua_socket_read_timeout", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_read_timeout 1s", NULL},
    {"lua_socket_keepalive_timeout", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_keepalive_timeout 1s", NULL},
    {"lua_socket_send_lowat", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_send_lowat 1k", NULL},
    {"lua_socket_buffer_size", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_buffer_size 8k", NULL},
    {"lua_socket_pool_size", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_pool_size 5", NULL},
    {"lua_socket_log_errors", CTX_TCP | CTX_SERVER, 1, 1, "lua_socket_log_errors off", NULL},
    {"lua_regex_cache_max_entries", CTX_TCP, 1, 1, "lua_regex_cache_max_entries 0", NULL},
    {"lua_regex_match_limit", CTX_TCP, 1, 1, "lua_regex_match_limit 1000", NULL},
    {"init_by_lua", CTX_TCP, 1, 1, "init_by_lua x", NULL},
    {"init_by_lua_file", CTX_TCP, 1, 1, "init_by_lua_file x.lua", NULL},
    {"process_by_lua", CTX_TCP | CTX_SERVER, 1, 1, "process_by_lua x", NULL},
    {"process_by_lua_file", CTX_TCP | CTX_SERVER, 1, 1, "process_by_lua_file x.lua", NULL},
};

/* Places directive text in one context so that the rest of the file passes conf_finish(). */
static void in_context(char *buf, size_t n, int ctx, const char *name, const char *text)
{
    int is_listen = strcmp(name, "listen") == 0, is_proto = strcmp(name, "protocol") == 0;
    const char *term = text[strlen(text) - 1] == '}' ? "" : ";";
    switch (ctx) {
    case CTX_MAIN: snprintf(buf, n, "%s%s", text, term); break;
    case CTX_EVENTS: snprintf(buf, n, "events { %s%s }", text, term); break;
    case CTX_TCP: snprintf(buf, n, "tcp { %s%s }", text, term); break;
    default:
        snprintf(buf, n, "tcp { process_by_lua t; server { %s %s %s%s } }",
                 is_listen ? "" : "listen 1;", is_proto ? "" : "protocol tcp_lua;", text, term);
    }
}

static const int contexts[] = {CTX_MAIN, CTX_EVENTS, CTX_TCP, CTX_SERVER};

static const directive_t *find_directive(const char *name)
{
    for (const directive_t *d = conf_directives(); d->name; d++)
        if (strcmp(d->name, name) == 0) return d;
    return NULL;
}

/* "exactly these directives": the implementation's table and SPEC's hold the same names. */
START_TEST(table_names_match_spec)
{
    size_t n = 0;
    for (const directive_t *d = conf_directives(); d->name; d++, n++) {
        size_t i = 0;
        while (i < N(spec_rows) && strcmp(spec_rows[i].name, d->name) != 0) i++;
        ck_assert_msg(i < N(spec_rows), "\"%s\" is not in SPEC [dir.table]", d->name);
    }
    for (size_t i = 0; i < N(spec_rows); i++)
        ck_assert_msg(find_directive(spec_rows[i].name), "\"%s\" is not implemented", spec_rows[i].name);
    ck_assert_uint_eq(n, N(spec_rows));
}
END_TEST

START_TEST(table_contexts)
{
    char text[512], want[256];
    const char *name = spec_rows[_i].name;
    for (size_t c = 0; c < N(contexts); c++) {
        in_context(text, sizeof text, contexts[c], name, spec_rows[_i].sample);
        int rc = parse(text);
        if (!(spec_rows[_i].ctx & contexts[c]))
            snprintf(want, sizeof want, "\"%s\" directive is not allowed here in t.conf:1", name);
        else if (strcmp(name, "include") == 0)
            snprintf(want, sizeof want, "\"include\" is not available here in t.conf:1");
        else {
            expect_ok(rc, text);
            continue;
        }
        expect_err(rc, text, want);
    }
}
END_TEST

static int first_context(int mask)
{
    for (size_t c = 0; c < N(contexts); c++)
        if (mask & contexts[c]) return contexts[c];
    return 0;
}

START_TEST(table_duplicates)
{
    char twice[512], text[600], want[256];
    const char *name = spec_rows[_i].name;
    const char *again = spec_rows[_i].again ? spec_rows[_i].again : spec_rows[_i].sample;
    int block = spec_rows[_i].sample[strlen(spec_rows[_i].sample) - 1] == '}';
    if (strcmp(name, "include") == 0) return;
    for (size_t c = 0; c < N(contexts); c++) {
        if (!(spec_rows[_i].ctx & contexts[c])) continue;
        snprintf(twice, sizeof twice, "%s%s %s", spec_rows[_i].sample, block ? "" : ";", again);
        in_context(text, sizeof text, contexts[c], name, twice);
        if (spec_rows[_i].again) {
            expect_ok(parse(text), text);
            continue;
        }
        snprintf(want, sizeof want, "\"%s\" directive is duplicate in t.conf:1", name);
        expect_err(parse(text), text, want);
    }
}
END_TEST

START_TEST(table_arity)
{
    char args[256] = "", text[512], want[256];
    const char *name = spec_rows[_i].name;
    int ctx = first_context(spec_rows[_i].ctx), block = spec_rows[_i].max == 0 && spec_rows[_i].min == 0;
    snprintf(want, sizeof want, "invalid number of arguments in \"%s\" directive in t.conf:1", name);
    if (spec_rows[_i].min > 0) { /* one argument too few */
        for (int i = 0; i < spec_rows[_i].min - 1; i++) strcat(args, " a");
        snprintf(text, sizeof text, "%s%s", name, args);
        in_context(args, sizeof args, ctx, name, text);
        expect_err(parse(args), args, want);
    }
    if (spec_rows[_i].max >= 0) { /* one argument too many */
        args[0] = '\0';
        for (int i = 0; i < spec_rows[_i].max + 1; i++) strcat(args, " a");
        snprintf(text, sizeof text, "%s%s%s", name, args, block ? " {}" : "");
        in_context(args, sizeof args, ctx, name, text);
        expect_err(parse(args), args, want);
    }
}
END_TEST

/* ---- directives: each directive's own rules ------------------------------------------------ */

static const struct {
    const char *text;
    const char *path;
    int level;
} error_logs[] = {
    {"error_log stderr;", "stderr", LOG_ERR},
    {"error_log logs/e.log;", "/p/logs/e.log", LOG_ERR},
    {"error_log /var/log/e.log debug;", "/var/log/e.log", LOG_DEBUG},
    {"error_log e info;", "/p/e", LOG_INFO},
    {"error_log e notice;", "/p/e", LOG_NOTICE},
    {"error_log e warn;", "/p/e", LOG_WARN},
    {"error_log e error;", "/p/e", LOG_ERR},
    {"error_log e crit;", "/p/e", LOG_CRIT},
    {"error_log e alert;", "/p/e", LOG_ALERT},
    {"error_log e emerg;", "/p/e", LOG_EMERG},
};

START_TEST(dir_error_log)
{
    expect_ok(parse(error_logs[_i].text), error_logs[_i].text);
    ck_assert_str_eq(m->error_log->path, error_logs[_i].path);
    ck_assert_int_eq(m->error_log->level, error_logs[_i].level);
}
END_TEST

static const case_t error_log_errors[] = {
    C("error_log e verbose;", "invalid log level \"verbose\" in t.conf:1"),
    C("error_log e ERROR;", "invalid log level \"ERROR\" in t.conf:1"),
    C("error_log e stderr;", "invalid log level \"stderr\" in t.conf:1"),
    C("tcp { error_log e warning; }", "invalid log level \"warning\" in t.conf:1"),
    C("tcp { server { error_log e 4; } }", "invalid log level \"4\" in t.conf:1"),
    C("error_log a; error_log b;", "\"error_log\" directive is duplicate in t.conf:1"),
    C("tcp { error_log a; error_log b debug; }", "\"error_log\" directive is duplicate in t.conf:1"),
};

START_TEST(dir_error_log_rejects) { run_case(&error_log_errors[_i], NULL); }
END_TEST

#define LISTEN_IN "tcp { server { protocol tcp_lua; process_by_lua x; listen %s; } }"

static const struct {
    const char *arg, *text;
    int family;
} listens[] = {
    {"80", "*:80", AF_INET},
    {"*:80", "*:80", AF_INET},
    {"127.0.0.1:6666", "127.0.0.1:6666", AF_INET},
    {"0.0.0.0:1", "0.0.0.0:1", AF_INET},
    {"localhost:65535", "127.0.0.1:65535", AF_INET},
    {"[::1]:80", "[::1]:80", AF_INET6},
    {"[::]:80", "[::]:80", AF_INET6},
    {"[2001:db8::1]:443", "[2001:db8::1]:443", AF_INET6},
    {"[::ffff:1.2.3.4]:8", "[::ffff:1.2.3.4]:8", AF_INET6},
};

START_TEST(dir_listen_addr)
{
    expect_ok(parsef(LISTEN_IN, listens[_i].arg), listens[_i].arg);
    const listen_conf_t *l = m->tcp->servers->listens;
    ck_assert_str_eq(l->text, listens[_i].text);
    ck_assert_int_eq(l->sa.ss_family, listens[_i].family);
    ck_assert_int_eq(l->salen, listens[_i].family == AF_INET ? sizeof(struct sockaddr_in)
                                                             : sizeof(struct sockaddr_in6));
    ck_assert_int_eq(l->backlog, 511);
    ck_assert_int_eq(l->so_keepalive, CONF_UNSET);
    ck_assert_int_eq(l->ipv6only, CONF_UNSET);
    ck_assert_int_eq(l->rcvbuf | l->sndbuf | l->deferred | l->bind | l->reuseport, 0);
    ck_assert_str_eq(l->file, "t.conf");
    ck_assert_int_eq(l->line, 1);
}
END_TEST

START_TEST(dir_listen_sockaddr)
{
    OK("tcp { server { protocol tcp_lua; process_by_lua x; listen 10.1.2.3:8080; listen [::1]:9;\n"
       "listen 81; } }");
    const listen_conf_t *l = m->tcp->servers->listens;
    const struct sockaddr_in *sin = (const void *)&l->sa;
    ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
    ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x0a010203);
    const struct sockaddr_in6 *sin6 = (const void *)&l->next->sa;
    ck_assert_uint_eq(ntohs(sin6->sin6_port), 9);
    ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    sin = (const void *)&l->next->next->sa;
    ck_assert_uint_eq(ntohs(sin->sin_port), 81);
    ck_assert_uint_eq(sin->sin_addr.s_addr, INADDR_ANY);
    ck_assert_int_eq(l->next->next->line, 2);
    ck_assert_ptr_null(l->next->next->next);
}
END_TEST

static const case_t listen_errors[] = {
    C("0", "invalid port in \"0\" of the \"listen\" directive in t.conf:1"),
    C("65536", "invalid port in \"65536\" of the \"listen\" directive in t.conf:1"),
    C("-1", "invalid port in \"-1\" of the \"listen\" directive in t.conf:1"),
    C("+80", "invalid port in \"+80\" of the \"listen\" directive in t.conf:1"),
    C("80x", "invalid port in \"80x\" of the \"listen\" directive in t.conf:1"),
    C("''", "invalid port in \"\" of the \"listen\" directive in t.conf:1"),
    C("127.0.0.1", "invalid port in \"127.0.0.1\" of the \"listen\" directive in t.conf:1"),
    C("127.0.0.1:", "invalid port in \"127.0.0.1:\" of the \"listen\" directive in t.conf:1"),
    C("127.0.0.1:http", "invalid port in \"127.0.0.1:http\" of the \"listen\" directive in t.conf:1"),
    C("*:99999999999999999999", "invalid port in \"*:99999999999999999999\" of the \"listen\" directive in t.conf:1"),
    C("[::1]", "invalid port in \"[::1]\" of the \"listen\" directive in t.conf:1"),
    C("[::1]:", "invalid port in \"[::1]:\" of the \"listen\" directive in t.conf:1"),
    C("localhost", "invalid port in \"localhost\" of the \"listen\" directive in t.conf:1"),
    C("example.com:80", "host not found in \"example.com:80\" of the \"listen\" directive in t.conf:1"),
    C("1.2.3:80", "host not found in \"1.2.3:80\" of the \"listen\" directive in t.conf:1"),
    C("256.0.0.1:80", "host not found in \"256.0.0.1:80\" of the \"listen\" directive in t.conf:1"),
    C("::1:80", "host not found in \"::1:80\" of the \"listen\" directive in t.conf:1"),
    C("[1.2.3.4]:80", "host not found in \"[1.2.3.4]:80\" of the \"listen\" directive in t.conf:1"),
    C("[::1x]:80", "host not found in \"[::1x]:80\" of the \"listen\" directive in t.conf:1"),
    C("[]:80", "host not found in \"[]:80\" of the \"listen\" directive in t.conf:1"),
    C(":80", "host not found in \":80\" of the \"listen\" directive in t.conf:1"),
    C("**:80", "host not found in \"**:80\" of the \"listen\" directive in t.conf:1"),
    C("a.very.long.host.name.that.does.not.fit.in.a.small.buffer.example.com:80",
      "host not found in \"a.very.long.host.name.that.does.not.fit.in.a.small.buffer.example.com:80\" "
      "of the \"listen\" directive in t.conf:1"),
    /* [dir.listen.options] */
    C("80 backlog=0", "invalid backlog \"0\" in t.conf:1"),
    C("80 backlog=65536", "invalid backlog \"65536\" in t.conf:1"),
    C("80 backlog=", "invalid backlog \"\" in t.conf:1"),
    C("80 backlog=x", "invalid backlog \"x\" in t.conf:1"),
    C("80 backlog=-1", "invalid backlog \"-1\" in t.conf:1"),
    C("80 backlog=+5", "invalid backlog \"+5\" in t.conf:1"),
    C("80 'backlog= 5'", "invalid backlog \" 5\" in t.conf:1"),
    C("80 rcvbuf=0", "invalid rcvbuf \"0\" in t.conf:1"),
    C("80 rcvbuf=x", "invalid rcvbuf \"x\" in t.conf:1"),
    C("80 rcvbuf=", "invalid rcvbuf \"\" in t.conf:1"),
    C("80 rcvbuf=2g", "invalid rcvbuf \"2g\" in t.conf:1"),
    C("80 sndbuf=1x", "invalid sndbuf \"1x\" in t.conf:1"),
    C("80 sndbuf=-1k", "invalid sndbuf \"-1k\" in t.conf:1"),
    C("[::1]:80 ipv6only=yes", "invalid ipv6only flags \"yes\" in t.conf:1"),
    C("[::1]:80 ipv6only=", "invalid ipv6only flags \"\" in t.conf:1"),
    C("127.0.0.1:80 ipv6only=on", "ipv6only is not supported on addr \"127.0.0.1:80\" in t.conf:1"),
    C("80 ipv6only=off", "ipv6only is not supported on addr \"80\" in t.conf:1"),
    C("80 so_keepalive=x", "invalid so_keepalive value: \"x\" in t.conf:1"),
    C("80 so_keepalive=", "invalid so_keepalive value: \"\" in t.conf:1"),
    C("80 so_keepalive=1:2", "invalid so_keepalive value: \"1:2\" in t.conf:1"),
    C("80 so_keepalive=1:2:3:4", "invalid so_keepalive value: \"1:2:3:4\" in t.conf:1"),
    C("80 so_keepalive=::128", "invalid so_keepalive value: \"::128\" in t.conf:1"),
    C("80 so_keepalive=::x", "invalid so_keepalive value: \"::x\" in t.conf:1"),
    C("80 so_keepalive=::-1", "invalid so_keepalive value: \"::-1\" in t.conf:1"),
    C("80 so_keepalive=::+1", "invalid so_keepalive value: \"::+1\" in t.conf:1"),
    C("80 so_keepalive=x::", "invalid so_keepalive value: \"x::\" in t.conf:1"),
    C("80 so_keepalive=:1x:", "invalid so_keepalive value: \":1x:\" in t.conf:1"),
    C("80 so_keepalive=32768::", "invalid so_keepalive value: \"32768::\" in t.conf:1"),
    C("80 so_keepalive=:10h:", "invalid so_keepalive value: \":10h:\" in t.conf:1"),
    C("80 so_keepalive=ON", "invalid so_keepalive value: \"ON\" in t.conf:1"),
    C("80 foo", "invalid parameter \"foo\" in t.conf:1"),
    C("80 default_server", "invalid parameter \"default_server\" in t.conf:1"),
    C("80 ssl", "invalid parameter \"ssl\" in t.conf:1"),
    C("80 Backlog=1", "invalid parameter \"Backlog=1\" in t.conf:1"),
    C("80 backlog", "invalid parameter \"backlog\" in t.conf:1"),
    C("80 ''", "invalid parameter \"\" in t.conf:1"),
};

START_TEST(dir_listen_rejects) { run_case(&listen_errors[_i], LISTEN_IN); }
END_TEST

START_TEST(dir_listen_options)
{
    OK("tcp { server { protocol tcp_lua; process_by_lua x;\n"
       "listen 1 backlog=1 rcvbuf=64k sndbuf=1000 deferred bind reuseport so_keepalive=on;\n"
       "listen [::1]:2 backlog=65535 ipv6only=off so_keepalive=30m::10;\n"
       "listen [::2]:2 ipv6only=on so_keepalive=off;\n"
       "listen 3 so_keepalive=1h1m:5:127;\n"
       "listen 4 so_keepalive=::; } }");
    const listen_conf_t *l = m->tcp->servers->listens;
    ck_assert_int_eq(l->backlog, 1);
    ck_assert_int_eq(l->rcvbuf, 65536);
    ck_assert_int_eq(l->sndbuf, 1000);
    ck_assert_int_eq(l->deferred + l->bind + l->reuseport, 3);
    ck_assert_int_eq(l->so_keepalive, 1);
    ck_assert_int_eq(l->keepidle + l->keepintvl + l->keepcnt, 0);
    l = l->next;
    ck_assert_int_eq(l->backlog, 65535);
    ck_assert_int_eq(l->ipv6only, 0);
    ck_assert_int_eq(l->so_keepalive, 1);
    ck_assert_int_eq(l->keepidle, 1800);
    ck_assert_int_eq(l->keepintvl, 0);
    ck_assert_int_eq(l->keepcnt, 10);
    l = l->next;
    ck_assert_int_eq(l->ipv6only, 1);
    ck_assert_int_eq(l->so_keepalive, 0);
    l = l->next;
    ck_assert_int_eq(l->keepidle, 3660);
    ck_assert_int_eq(l->keepintvl, 5);
    ck_assert_int_eq(l->keepcnt, 127);
    l = l->next;
    ck_assert_int_eq(l->so_keepalive, 1);
}
END_TEST

static const case_t misc_dir_errors[] = {
    /* [dir.protocol] */
    C("tcp { server { protocol http; } }", "unknown protocol \"http\" in t.conf:1"),
    C("tcp { server { protocol TCP_LUA; } }", "unknown protocol \"TCP_LUA\" in t.conf:1"),
    C("tcp { server { protocol ''; } }", "unknown protocol \"\" in t.conf:1"),
    C("tcp { server { protocol tcp_lua; protocol tcp_lua; } }", "\"protocol\" directive is duplicate in t.conf:1"),
    /* [dir.access.syntax] */
    C("tcp { allow 10.0.0.0/33; }", "invalid parameter \"10.0.0.0/33\" in t.conf:1"),
    C("tcp { allow 10.0.0.0/; }", "invalid parameter \"10.0.0.0/\" in t.conf:1"),
    C("tcp { allow 10.0.0.0/x; }", "invalid parameter \"10.0.0.0/x\" in t.conf:1"),
    C("tcp { allow 10.0.0.0/-1; }", "invalid parameter \"10.0.0.0/-1\" in t.conf:1"),
    C("tcp { allow 10.0.0.0/8x; }", "invalid parameter \"10.0.0.0/8x\" in t.conf:1"),
    C("tcp { allow 10.0.0.0/8/8; }", "invalid parameter \"10.0.0.0/8/8\" in t.conf:1"),
    C("tcp { allow 1.2.3; }", "invalid parameter \"1.2.3\" in t.conf:1"),
    C("tcp { deny example.com; }", "invalid parameter \"example.com\" in t.conf:1"),
    C("tcp { deny ALL; }", "invalid parameter \"ALL\" in t.conf:1"),
    C("tcp { deny all/8; }", "invalid parameter \"all/8\" in t.conf:1"),
    C("tcp { deny ''; }", "invalid parameter \"\" in t.conf:1"),
    C("tcp { server { deny ::1/129; } }", "invalid parameter \"::1/129\" in t.conf:1"),
    C("tcp { server { allow [::1]; } }", "invalid parameter \"[::1]\" in t.conf:1"),
    C("tcp { allow 1.2.3.4/99999999999999999999; }", "invalid parameter \"1.2.3.4/99999999999999999999\" in t.conf:1"),
    /* [dir.resolver] */
    C("tcp { resolver example.com; }", "invalid resolver address \"example.com\" in t.conf:1"),
    C("tcp { resolver 8.8.8.8 localhost; }", "invalid resolver address \"localhost\" in t.conf:1"),
    C("tcp { resolver 1.2.3.4:0; }", "invalid resolver address \"1.2.3.4:0\" in t.conf:1"),
    C("tcp { resolver 1.2.3.4:65536; }", "invalid resolver address \"1.2.3.4:65536\" in t.conf:1"),
    C("tcp { resolver 1.2.3.4:x; }", "invalid resolver address \"1.2.3.4:x\" in t.conf:1"),
    C("tcp { resolver 1.2.3.4:; }", "invalid resolver address \"1.2.3.4:\" in t.conf:1"),
    C("tcp { resolver :53; }", "invalid resolver address \":53\" in t.conf:1"),
    C("tcp { resolver [::1]:; }", "invalid resolver address \"[::1]:\" in t.conf:1"),
    C("tcp { resolver [1.2.3.4]:53; }", "invalid resolver address \"[1.2.3.4]:53\" in t.conf:1"),
    C("tcp { resolver 1.2.3; }", "invalid resolver address \"1.2.3\" in t.conf:1"),
    C("tcp { resolver ''; }", "invalid resolver address \"\" in t.conf:1"),
    C("tcp { resolver 8.8.8.8 valid=x; }", "invalid parameter \"valid=x\" in t.conf:1"),
    C("tcp { resolver 8.8.8.8 valid=; }", "invalid parameter \"valid=\" in t.conf:1"),
    C("tcp { resolver 8.8.8.8 ipv6=maybe; }", "invalid parameter \"ipv6=maybe\" in t.conf:1"),
    C("tcp { server { resolver 8.8.8.8; resolver 8.8.4.4; } }", "\"resolver\" directive is duplicate in t.conf:1"),
    /* [dir.log_format] */
    C("tcp { log_format default x; }", "duplicate \"log_format\" name \"default\" in t.conf:1"),
    C("tcp { log_format a x; log_format b y;\n log_format a z; }", "duplicate \"log_format\" name \"a\" in t.conf:2"),
    /* [dir.access_log] */
    C("tcp { access_log a.log nope; }", "unknown log format \"nope\" in t.conf:1"),
    C("tcp { access_log a.log f; log_format f x; }", "unknown log format \"f\" in t.conf:1"),
    C("tcp { server { access_log a.log f; } log_format f x; }", "unknown log format \"f\" in t.conf:1"),
    C("tcp { access_log off main; }", "invalid parameter \"main\" in t.conf:1"),
    C("tcp { access_log off; access_log a.log; }", "\"access_log\" directive is duplicate in t.conf:1"),
    /* [dir.shared_dict] */
    C("tcp { lua_shared_dict a 8191; }", "invalid lua shared dict size \"8191\" in t.conf:1"),
    C("tcp { lua_shared_dict a 7k; }", "invalid lua shared dict size \"7k\" in t.conf:1"),
    C("tcp { lua_shared_dict a 0; }", "invalid lua shared dict size \"0\" in t.conf:1"),
    C("tcp { lua_shared_dict a 10x; }", "invalid lua shared dict size \"10x\" in t.conf:1"),
    C("tcp { lua_shared_dict a ''; }", "invalid lua shared dict size \"\" in t.conf:1"),
    C("tcp { lua_shared_dict a -8k; }", "invalid lua shared dict size \"-8k\" in t.conf:1"),
    C("tcp { lua_shared_dict a 10m;\n lua_shared_dict b 10m; lua_shared_dict a 8k; }",
      "lua_shared_dict \"a\" is already defined in t.conf:2"),
    /* [dir.lua_code] */
    C("tcp { init_by_lua ''; }", "\"init_by_lua\" directive invalid value in t.conf:1"),
    C("tcp { init_by_lua_file ''; }", "\"init_by_lua_file\" directive invalid value in t.conf:1"),
    C("tcp { process_by_lua \"\"; }", "\"process_by_lua\" directive invalid value in t.conf:1"),
    C("tcp { server { process_by_lua_file ''; } }", "\"process_by_lua_file\" directive invalid value in t.conf:1"),
    C("tcp { init_by_lua a; init_by_lua b; }", "\"init_by_lua\" directive is duplicate in t.conf:1"),
    C("tcp { init_by_lua a; init_by_lua_file b; }", "\"init_by_lua_file\" directive is duplicate in t.conf:1"),
    C("tcp { init_by_lua_file a; init_by_lua b; }", "\"init_by_lua\" directive is duplicate in t.conf:1"),
    C("tcp { process_by_lua a; process_by_lua_file b; }", "\"process_by_lua_file\" directive is duplicate in t.conf:1"),
    C("tcp { server { process_by_lua_file a; process_by_lua b; } }", "\"process_by_lua\" directive is duplicate in t.conf:1"),
    C("tcp { server { process_by_lua_file a; process_by_lua_file b; } }", "\"process_by_lua_file\" directive is duplicate in t.conf:1"),
    /* paths, strings */
    C("pid a; pid b;", "\"pid\" directive is duplicate in t.conf:1"),
    C("tcp { lua_package_path a; lua_package_path b; }", "\"lua_package_path\" directive is duplicate in t.conf:1"),
    C("tcp { lua_package_cpath a; lua_package_cpath b; }", "\"lua_package_cpath\" directive is duplicate in t.conf:1"),
};

START_TEST(dir_misc_rejects) { run_case(&misc_dir_errors[_i], NULL); }
END_TEST

START_TEST(dir_access_rules)
{
    OK("tcp { allow 10.1.2.3/8; deny 192.168.1.1; allow 2001:db8::1/32; deny ::1; allow 1.2.3.4/0;\n"
       "allow 10.0.0.255/31; deny all; }");
    const access_rule_t *r = m->tcp->s.rules;
    static const uint8_t v4_8[4] = {255, 0, 0, 0}, net10[4] = {10, 0, 0, 0}, host[4] = {192, 168, 1, 1};
    ck_assert_int_eq(r->family, AF_INET);
    ck_assert_int_eq(r->deny, 0);
    ck_assert_mem_eq(r->addr, net10, 4); /* host bits are ignored */
    ck_assert_mem_eq(r->mask, v4_8, 4);
    r = r->next;
    ck_assert_int_eq(r->deny, 1);
    ck_assert_mem_eq(r->addr, host, 4);
    ck_assert_uint_eq(r->mask[3], 255);
    r = r->next;
    ck_assert_int_eq(r->family, AF_INET6);
    ck_assert_uint_eq(r->addr[0], 0x20);
    ck_assert_uint_eq(r->addr[3], 0xb8);
    ck_assert_uint_eq(r->addr[15], 0);
    ck_assert_uint_eq(r->mask[3], 0xff);
    ck_assert_uint_eq(r->mask[4], 0);
    r = r->next;
    ck_assert_int_eq(r->family, AF_INET6);
    ck_assert_uint_eq(r->addr[15], 1);
    ck_assert_uint_eq(r->mask[15], 0xff);
    r = r->next;
    ck_assert_uint_eq(r->mask[0] | r->addr[0], 0); /* /0 matches everything */
    r = r->next;
    ck_assert_uint_eq(r->addr[3], 254);
    ck_assert_uint_eq(r->mask[3], 254);
    r = r->next;
    ck_assert_int_eq(r->family, 0);
    ck_assert_int_eq(r->deny, 1);
    ck_assert_ptr_null(r->next);
}
END_TEST

START_TEST(dir_resolver)
{
    OK("tcp { resolver 8.8.8.8 1.1.1.1:53 [::1]:5353 ::1 [2001:db8::1] valid=30s ipv6=off; }");
    const srv_conf_t *s = &m->tcp->s;
    static const char *const want[] = {"8.8.8.8", "1.1.1.1:53", "[::1]:5353", "::1", "[2001:db8::1]"};
    const str_list_t *r = s->resolvers;
    for (size_t i = 0; i < N(want); i++, r = r->next) {
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(r->s, want[i]);
    }
    ck_assert_ptr_null(r);
    ck_assert_int_eq(s->resolver_valid, 30000);
    ck_assert_int_eq(s->resolver_ipv6, 0);
    OK("tcp { resolver 127.0.0.1 ipv6=on; }");
    ck_assert_int_eq(m->tcp->s.resolver_ipv6, 1);
    ck_assert_int_eq(m->tcp->s.resolver_valid, 0);
}
END_TEST

START_TEST(dir_log_format_access_log)
{
    OK("tcp { log_format a '$remote_addr ' \"[$msec]\" x; log_format b $protocol;\n"
       "access_log logs/a.log a;\n"
       "server { listen 1; protocol tcp_lua; process_by_lua x; access_log /abs/b.log b; }\n"
       "server { listen 2; protocol tcp_lua; process_by_lua x; access_log off; }\n"
       "server { listen 3; protocol tcp_lua; process_by_lua x; access_log c.log default; }\n"
       "server { listen 4; protocol tcp_lua; process_by_lua x; access_log d.log; } }");
    const tcp_conf_t *t = m->tcp;
    ck_assert_str_eq(t->formats->name, "a"); /* file order */
    ck_assert_str_eq(t->formats->format, "$remote_addr [$msec]x");
    ck_assert_str_eq(t->formats->next->name, "b");
    ck_assert_str_eq(t->s.access_log, "/p/logs/a.log");
    ck_assert_str_eq(t->s.access_log_format, "$remote_addr [$msec]x");
    const server_conf_t *s = t->servers;
    ck_assert_str_eq(s->s.access_log, "/abs/b.log");
    ck_assert_str_eq(s->s.access_log_format, "$protocol");
    s = s->next;
    ck_assert_ptr_null(s->s.access_log);
    s = s->next;
    ck_assert_str_eq(s->s.access_log, "/p/c.log");
    ck_assert_str_eq(s->s.access_log_format, conf_default_log_format);
    s = s->next;
    ck_assert_str_eq(s->s.access_log, "/p/d.log");
    ck_assert_str_eq(s->s.access_log_format, conf_default_log_format);
    ck_assert_str_eq(conf_default_log_format,
                     "$remote_addr $time_iso8601 $msec $request_time $connection $connection_requests $protocol");
}
END_TEST

/* Not in SPEC: a directive holds at most CONF_MAX_ARGS words, its name included. */
START_TEST(dir_too_many_arguments)
{
    char text[512] = "tcp { log_format a";
    for (int i = 2; i < CONF_MAX_ARGS; i++) strcat(text, " x");
    strcat(text, "; }");
    OK(text);
    ck_assert_int_eq(strlen(m->tcp->formats->format), CONF_MAX_ARGS - 2);
    strcpy(strstr(text, ";"), " y; }");
    ERR(text, "too many arguments in \"log_format\" directive in t.conf:1");
}
END_TEST

START_TEST(dir_shared_dict)
{
    OK("tcp { lua_shared_dict a 8k; lua_shared_dict b 10m; lua_shared_dict c 8192; lua_shared_dict 'd e' 1g; }");
    const shdict_conf_t *d = m->tcp->shdicts;
    static const struct {
        const char *name;
        long size;
    } want[] = {
        {"a", 8192}, {"b", 10485760}, {"c", 8192}, {"d e", 1073741824L}};
    for (size_t i = 0; i < N(want); i++, d = d->next) {
        ck_assert_str_eq(d->name, want[i].name);
        ck_assert_int_eq(d->size, want[i].size);
    }
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(dir_lua_code_and_paths)
{
    OK("pid /run/t.pid;\n"
       "tcp { init_by_lua_file init.lua; lua_package_path '/a/?.lua;;'; lua_package_cpath '/b/?.so';\n"
       "process_by_lua 'ngx.say(1)';\n"
       "server { listen 1; protocol tcp_lua;\n\n process_by_lua_file /abs/x.lua; }\n"
       "server { listen 2; protocol tcp_lua;\n process_by_lua\n 'return'; } }");
    ck_assert_str_eq(m->pid, "/run/t.pid");
    const tcp_conf_t *t = m->tcp;
    ck_assert_ptr_null(t->init->code);
    ck_assert_str_eq(t->init->path, "/p/init.lua");
    ck_assert_str_eq(t->init->where, "@/p/init.lua");
    ck_assert_str_eq(t->lua_package_path, "/a/?.lua;;");
    ck_assert_str_eq(t->lua_package_cpath, "/b/?.so");
    ck_assert_str_eq(t->s.process->code, "ngx.say(1)");
    ck_assert_str_eq(t->s.process->where, "=process_by_lua(t.conf:3)");
    ck_assert_ptr_null(t->s.process->path);
    ck_assert_str_eq(t->servers->s.process->path, "/abs/x.lua");
    ck_assert_str_eq(t->servers->next->s.process->code, "return");
    ck_assert_str_eq(t->servers->next->s.process->where, "=process_by_lua(t.conf:9)"); /* at ';' */
    OK("tcp { init_by_lua 'x = 1'; }");
    ck_assert_str_eq(m->tcp->init->code, "x = 1");
    ck_assert_str_eq(m->tcp->init->where, "=init_by_lua(t.conf:1)");
}
END_TEST

/* ---- merge/defaults: [conf.merge], [dir.table] defaults, [conf.server.*], [conf.listen.*] --- */

static void assert_srv_defaults(const srv_conf_t *s)
{
    ck_assert_int_eq(s->read_timeout, 60000);
    ck_assert_int_eq(s->send_timeout, 60000);
    ck_assert_int_eq(s->keepalive_timeout, 75000);
    ck_assert_int_eq(s->session_pool_size, 1024);
    ck_assert_int_eq(s->connection_pool_size, 512);
    ck_assert_int_eq(s->client_max_body_size, 1024);
    ck_assert_int_eq(s->tcp_nodelay, 1);
    ck_assert_ptr_null(s->rules);
    ck_assert_ptr_null(s->resolvers);
    ck_assert_int_eq(s->resolver_timeout, 30000);
    ck_assert_str_eq(s->access_log, "/p/logs/access_tcp.log");
    ck_assert_str_eq(s->access_log_format, conf_default_log_format);
    ck_assert_int_eq(s->lua_code_cache, 1);
    ck_assert_int_eq(s->lua_check_client_abort, 0);
    ck_assert_int_eq(s->lua_socket_connect_timeout, 60000);
    ck_assert_int_eq(s->lua_socket_send_timeout, 60000);
    ck_assert_int_eq(s->lua_socket_read_timeout, 60000);
    ck_assert_int_eq(s->lua_socket_keepalive_timeout, 60000);
    ck_assert_int_eq(s->lua_socket_send_lowat, 0);
    ck_assert_int_eq(s->lua_socket_buffer_size, 4096);
    ck_assert_int_eq(s->lua_socket_pool_size, 30);
    ck_assert_int_eq(s->lua_socket_log_errors, 1);
    ck_assert_ptr_eq(s->error_log, m->error_log);
}

START_TEST(defaults_main)
{
    OK("");
    ck_assert_int_eq(m->worker_processes, 1);
    ck_assert_int_eq(m->daemon, 1);
    ck_assert_int_eq(m->master_process, 1);
    ck_assert_str_eq(m->pid, "/p/logs/tcplua.pid");
    ck_assert_str_eq(m->error_log->path, "/p/logs/error.log");
    ck_assert_int_eq(m->error_log->level, LOG_ERR);
    ck_assert_int_eq(m->worker_connections, 512);
    ck_assert_int_eq(m->worker_shutdown_timeout, 10000);
    ck_assert_ptr_null(m->tcp);
    ck_assert_str_eq(m->prefix, "/p/");
    ck_assert_str_eq(m->conf_file, "/p/conf/t.conf");
    ck_assert_str_eq(m->conf_dir, "/p/conf/");
}
END_TEST

START_TEST(defaults_paths_of_create)
{
    main_conf_t *a = conf_create("rel", "/etc/x/t.conf");
    ck_assert_str_eq(a->prefix, "rel/");
    ck_assert_str_eq(a->conf_file, "/etc/x/t.conf");
    ck_assert_str_eq(a->conf_dir, "/etc/x/");
    conf_destroy(a);
    conf_destroy(NULL);
}
END_TEST

START_TEST(defaults_tcp_and_server)
{
    OK("tcp { " SRV " }");
    const tcp_conf_t *t = m->tcp;
    assert_srv_defaults(&t->s);
    assert_srv_defaults(&t->servers->s);
    ck_assert_ptr_null(t->lua_package_path); /* LUA_PATH or LuaJIT's, decided at start */
    ck_assert_ptr_null(t->lua_package_cpath);
    ck_assert_ptr_null(t->shdicts);
    ck_assert_ptr_null(t->init);
    ck_assert_ptr_null(t->formats);
    ck_assert_ptr_null(t->s.process);
    ck_assert_str_eq(t->servers->protocol, "tcp_lua");
    ck_assert_ptr_null(t->servers->next);
}
END_TEST

START_TEST(merge_tcp_into_server)
{
    OK("error_log main.log;\n"
       "tcp { read_timeout 1s; send_timeout 2s; keepalive_timeout 3s; resolver_timeout 4s;\n"
       "session_pool_size 2k; connection_pool_size 3k; client_max_body_size 4k; tcp_nodelay off;\n"
       "lua_code_cache off; lua_check_client_abort on; lua_socket_connect_timeout 5s;\n"
       "lua_socket_send_timeout 6s; lua_socket_read_timeout 7s; lua_socket_keepalive_timeout 8s;\n"
       "lua_socket_send_lowat 1k; lua_socket_buffer_size 16k; lua_socket_pool_size 9;\n"
       "error_log tcp.log warn; allow 10.0.0.0/8; deny all; resolver 8.8.8.8 valid=9s ipv6=off;\n"
       "access_log off; process_by_lua 'tcp level';\n"
       "server { listen 1; protocol tcp_lua; }\n"
       "server { listen 2; protocol tcp_lua; read_timeout 11s; tcp_nodelay on; error_log srv.log;\n"
       "  deny 1.2.3.4; resolver 1.1.1.1; access_log a.log; process_by_lua 'own';\n"
       "  lua_socket_pool_size 99; client_max_body_size 1m; } }");
    const tcp_conf_t *t = m->tcp;
    const srv_conf_t *a = &t->servers->s, *b = &t->servers->next->s;
    ck_assert_int_eq(a->read_timeout, 1000);
    ck_assert_int_eq(a->send_timeout, 2000);
    ck_assert_int_eq(a->keepalive_timeout, 3000);
    ck_assert_int_eq(a->resolver_timeout, 4000);
    ck_assert_int_eq(a->session_pool_size, 2048);
    ck_assert_int_eq(a->connection_pool_size, 3072);
    ck_assert_int_eq(a->client_max_body_size, 4096);
    ck_assert_int_eq(a->tcp_nodelay, 0);
    ck_assert_int_eq(a->lua_code_cache, 0);
    ck_assert_int_eq(a->lua_check_client_abort, 1);
    ck_assert_int_eq(a->lua_socket_connect_timeout, 5000);
    ck_assert_int_eq(a->lua_socket_send_timeout, 6000);
    ck_assert_int_eq(a->lua_socket_read_timeout, 7000);
    ck_assert_int_eq(a->lua_socket_keepalive_timeout, 8000);
    ck_assert_int_eq(a->lua_socket_send_lowat, 1024);
    ck_assert_int_eq(a->lua_socket_buffer_size, 16384);
    ck_assert_int_eq(a->lua_socket_pool_size, 9);
    ck_assert_ptr_eq(a->error_log, t->s.error_log);
    ck_assert_str_eq(a->error_log->path, "/p/tcp.log");
    ck_assert_ptr_eq(a->rules, t->s.rules);
    ck_assert_ptr_eq(a->resolvers, t->s.resolvers);
    ck_assert_int_eq(a->resolver_valid, 9000);
    ck_assert_int_eq(a->resolver_ipv6, 0);
    ck_assert_ptr_null(a->access_log);
    ck_assert_ptr_eq(a->process, t->s.process); /* [dir.lua_code.tcp_level] */
    ck_assert_str_eq(a->process->code, "tcp level");
    /* b overrides some and inherits the rest */
    ck_assert_int_eq(b->read_timeout, 11000);
    ck_assert_int_eq(b->send_timeout, 2000);
    ck_assert_int_eq(b->tcp_nodelay, 1);
    ck_assert_int_eq(b->lua_socket_pool_size, 99);
    ck_assert_int_eq(b->client_max_body_size, 1048576);
    ck_assert_int_eq(b->lua_code_cache, 0);
    ck_assert_str_eq(b->error_log->path, "/p/srv.log");
    ck_assert_int_eq(b->error_log->level, LOG_ERR);
    ck_assert_int_eq(b->rules->deny, 1); /* replaces the tcp list whole */
    ck_assert_ptr_null(b->rules->next);
    ck_assert_str_eq(b->resolvers->s, "1.1.1.1");
    ck_assert_int_eq(b->resolver_ipv6, 1); /* valid=, ipv6= belong to its own resolver */
    ck_assert_int_eq(b->resolver_valid, 0);
    ck_assert_str_eq(b->access_log, "/p/a.log");
    ck_assert_str_eq(b->process->code, "own");
    ck_assert_str_eq(m->error_log->path, "/p/main.log");
}
END_TEST

START_TEST(merge_error_log_chain)
{
    OK("error_log stderr notice; tcp { " SRV " }");
    ck_assert_ptr_eq(m->tcp->s.error_log, m->error_log);
    ck_assert_ptr_eq(m->tcp->servers->s.error_log, m->error_log);
    ck_assert_str_eq(m->tcp->servers->s.error_log->path, "stderr");
    ck_assert_int_eq(m->tcp->servers->s.error_log->level, LOG_NOTICE);
    OK("tcp { " SRV " } error_log late.log;"); /* main's, wherever it stands */
    ck_assert_str_eq(m->tcp->servers->s.error_log->path, "/p/late.log");
}
END_TEST

static const case_t finish_errors[] = {
    /* [conf.server.listen_required] [conf.server.protocol_required] [conf.server.process_required] */
    C("tcp {\n server {\n protocol tcp_lua; process_by_lua x; } }", "no \"listen\" is defined for server in t.conf:2"),
    C("tcp { " SRV "\n\n server\n { } }", "no \"listen\" is defined for server in t.conf:4"),
    C("tcp { server { listen 1; process_by_lua x; } }", "no \"protocol\" is defined for server in t.conf:1"),
    C("tcp {\n\n server { listen 1; protocol tcp_lua; } }",
      "no \"process_by_lua\" or \"process_by_lua_file\" is defined for server in t.conf:3"),
    C("tcp { server { } }", "no \"listen\" is defined for server in t.conf:1"),
    /* [conf.listen.unique] */
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen 80;\n listen 80; } }",
      "duplicate \"*:80\" address and port pair in t.conf:2"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen 127.0.0.1:80; listen 81;\n listen localhost:80; } }",
      "duplicate \"127.0.0.1:80\" address and port pair in t.conf:2"),
    C("tcp { " SRV "\n server { protocol tcp_lua; process_by_lua x; listen 2; listen\n 1; } }",
      "duplicate \"*:1\" address and port pair in t.conf:3"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen [::1]:80; }\n"
      " server { protocol tcp_lua; process_by_lua x; listen [0::1]:80; } }",
      "duplicate \"[0::1]:80\" address and port pair in t.conf:2"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen 127.0.0.1:80;\n listen 80; } }",
      "\"127.0.0.1:80\" conflicts with \"*:80\" in t.conf:2"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen 80;\n listen 127.0.0.1:80; } }",
      "\"127.0.0.1:80\" conflicts with \"*:80\" in t.conf:2"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen *:80; }\n"
      " server { protocol tcp_lua; process_by_lua x;\n listen 10.0.0.1:80; } }",
      "\"10.0.0.1:80\" conflicts with \"*:80\" in t.conf:3"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen 0.0.0.0:80; listen 10.0.0.1:80; } }",
      "\"10.0.0.1:80\" conflicts with \"0.0.0.0:80\" in t.conf:1"),
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen [::1]:80; listen [::]:80; } }",
      "\"[::1]:80\" conflicts with \"[::]:80\" in t.conf:1"),
    /* accepted: other ports, other families, other addresses */
    C("tcp { server { protocol tcp_lua; process_by_lua x; listen 80; listen [::]:80; listen [::1]:81;\n"
      "listen 127.0.0.1:81; listen 127.0.0.2:81; listen 82; }\n"
      "server { protocol tcp_lua; process_by_lua x; listen 83; listen [::1]:84 ipv6only=off; } }",
      NULL),
    C("tcp { process_by_lua x; server { listen 1; protocol tcp_lua; } server { listen 2; protocol tcp_lua; } }", NULL),
    C("tcp { process_by_lua_file x.lua; " SRV " }", NULL),
    C("tcp { }", NULL),
};

START_TEST(finish_checks) { run_case(&finish_errors[_i], NULL); }
END_TEST

/* ---- include: [conf.include], [conf.include.depth], with real files through conf_load() ---- */

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void include_setup(void)
{
    char path[256];
    strcpy(tmpdir, "/tmp/test_conf.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof path, "%s/conf", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/conf/inc", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void include_teardown(void)
{
    teardown();
    if (nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* Loads conf/t.conf of the temporary prefix (with optional -g text): 0 or -1 with cf.err. */
static int load(const char *main_text, const char *params)
{
    write_file("conf/t.conf", main_text);
    conf_destroy(m);
    m = conf_create(tmpdir, "conf/t.conf");
    conf_init(&cf, m);
    return conf_load(&cf, params);
}

static void expect_load_err(int rc, const char *fmt)
{
    char want[512];
    snprintf(want, sizeof want, fmt, tmpdir, tmpdir, tmpdir);
    expect_err(rc, "(load)", want);
}

START_TEST(include_glob_in_order)
{
    write_file("conf/inc/b.conf", "server { listen 2; protocol tcp_lua; process_by_lua b; }\n");
    write_file("conf/inc/a.conf", "server { listen 1; protocol tcp_lua; process_by_lua a; }\n");
    write_file("conf/inc/c.txt", "this is not read;\n");
    write_file("conf/dict.conf", "lua_shared_dict d 8k;");
    expect_ok(load("tcp {\n include inc/*.conf;\n include dict.conf;\n include none/*.conf; }\n", NULL), "glob");
    const server_conf_t *s = m->tcp->servers;
    ck_assert_str_eq(s->s.process->code, "a");
    ck_assert_str_eq(s->next->s.process->code, "b");
    ck_assert_ptr_null(s->next->next);
    ck_assert_str_eq(m->tcp->shdicts->name, "d");
    char want[256];
    snprintf(want, sizeof want, "%s/conf/inc/a.conf", tmpdir);
    ck_assert_str_eq(s->file, want);
    ck_assert_str_eq(s->s.process->where, "=process_by_lua(a.conf:1)");
    /* every file read is kept for -T, main file first */
    const conf_text_t *t = m->texts;
    snprintf(want, sizeof want, "%s/conf/t.conf", tmpdir);
    ck_assert_str_eq(t->name, want);
    snprintf(want, sizeof want, "%s/conf/inc/a.conf", tmpdir);
    ck_assert_str_eq(t->next->name, want);
    snprintf(want, sizeof want, "%s/conf/dict.conf", tmpdir);
    ck_assert_str_eq(t->next->next->next->name, want);
    ck_assert_ptr_null(t->next->next->next->next);
}
END_TEST

START_TEST(include_absolute_and_every_context)
{
    char text[512];
    write_file("conf/inc/main.conf", "daemon off;");
    write_file("conf/inc/events.conf", "worker_connections 3;");
    write_file("conf/inc/srv.conf", "listen 1; protocol tcp_lua;");
    snprintf(text, sizeof text, "include %s/conf/inc/main.conf;\nevents { include inc/events.conf; }\n"
                                "tcp { process_by_lua x; server { include inc/srv.conf; } }",
             tmpdir);
    expect_ok(load(text, NULL), text);
    ck_assert_int_eq(m->daemon, 0);
    ck_assert_int_eq(m->worker_connections, 3);
    ck_assert_ptr_nonnull(m->tcp->servers->listens);
}
END_TEST

START_TEST(include_errors)
{
    write_file("conf/inc/bad.conf", "\n\nfoo;\n");
    expect_load_err(load("daemon off;\ninclude inc/bad.conf;\n", NULL),
                    "unknown directive \"foo\" in %s/conf/inc/bad.conf:3");
    expect_load_err(load("\ninclude missing.conf;\n", NULL),
                    "open() \"%s/conf/missing.conf\" failed (2: No such file or directory) in %s/conf/t.conf:2");
    expect_load_err(load("include t.conf;\n", NULL),
                    "too deeply nested blocks or includes in %s/conf/t.conf:1");
    write_file("conf/inc/open.conf", "server {\n");
    expect_load_err(load("tcp { include inc/open.conf; }", NULL),
                    "unexpected end of file, expecting \"}\" in %s/conf/inc/open.conf:2");
    write_file("conf/inc/close.conf", "}\n");
    expect_load_err(load("tcp { include inc/close.conf; }", NULL),
                    "unexpected \"}\" in %s/conf/inc/close.conf:1");
    write_file("conf/inc/half.conf", "daemon");
    expect_load_err(load("include inc/half.conf; off;", NULL),
                    "unexpected end of file, expecting \";\" or \"}\" in %s/conf/inc/half.conf:1");
    write_file("conf/inc/listen.conf", "server { listen 1; protocol tcp_lua; process_by_lua x; }");
    expect_load_err(load("tcp { include inc/listen.conf;\n include inc/listen.conf; }", NULL),
                    "duplicate \"*:1\" address and port pair in %s/conf/inc/listen.conf:1");
    expect_load_err(load("tcp { include inc; }", NULL), "\"%s/conf/inc\" is not a regular file in %s/conf/t.conf:1");
    expect_load_err(load("tcp {\ninclude /dev/null; }", NULL), "\"/dev/null\" is not a regular file in %s/conf/t.conf:2");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/conf/inc/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0); /* opened without waiting for a writer */
    expect_load_err(load("include inc/fi*;", NULL), "\"%s/conf/inc/fifo\" is not a regular file in %s/conf/t.conf:1");
}
END_TEST

/* conf_check_files(): the logs open (created, never truncated), the pid file's directory
 * takes a file; the first that fails is named with nginx's open() message. */
START_TEST(check_files)
{
    char err[512], want[512], path[256];
    snprintf(path, sizeof path, "%s/logs", tmpdir); /* the default logs' directory */
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(load("pid p.pid; error_log e.log;\ntcp { server { listen 1; protocol tcp_lua;"
                          " process_by_lua x; access_log a.log; error_log s.log; } }\n",
                          NULL),
                     0);
    write_file("a.log", "kept\n");
    ck_assert_int_eq(conf_check_files(m, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/s.log", tmpdir);
    ck_assert_int_eq(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/a.log", tmpdir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(want, sizeof want, f));
    fclose(f);
    ck_assert_str_eq(want, "kept\n");
    snprintf(path, sizeof path, "%s/p.pid", tmpdir);
    ck_assert_int_eq(access(path, F_OK), -1); /* left alone: a server may be running */
    const char *bad[][2] = {
        {"error_log no/e.log;", "no/e.log"},
        {"tcp { access_log no/a.log; server { listen 1; protocol tcp_lua; process_by_lua x; } }", "no/a.log"},
        {"tcp { server { listen 1; protocol tcp_lua; process_by_lua x; error_log no/s.log; } }", "no/s.log"},
        {"pid no/p.pid;", "no/p.pid"},
        {"pid conf/t.conf/p.pid;", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(load(bad[i][0], NULL), 0);
        ck_assert_int_eq(conf_check_files(m, err, sizeof err), -1);
        if (bad[i][1])
            snprintf(want, sizeof want, "open() \"%s/%s\" failed (2: No such file or directory)", tmpdir, bad[i][1]);
        else
            snprintf(want, sizeof want, "open() \"%s/conf/t.conf/p.pid\" failed (20: Not a directory)", tmpdir);
        ck_assert_str_eq(err, want);
    }
}
END_TEST

START_TEST(include_main_file_and_params)
{
    conf_destroy(m);
    m = conf_create(tmpdir, "conf/none.conf");
    conf_init(&cf, m);
    expect_load_err(conf_load(&cf, NULL), "open() \"%s/conf/none.conf\" failed (2: No such file or directory)");
    expect_ok(load("daemon on;", "worker_processes 3; master_process off;"), "-g");
    ck_assert_int_eq(m->worker_processes, 3);
    ck_assert_int_eq(m->master_process, 0);
    ck_assert_int_eq(m->daemon, 1);
    expect_err(load("daemon on;", "foo;"), "-g foo", "unknown directive \"foo\" in command line");
    expect_err(load("", "tcp { server { } }"), "-g server",
               "no \"listen\" is defined for server in command line");
    expect_err(load("", "tcp { server { listen 1; listen 1; protocol tcp_lua; process_by_lua x; } }"),
               "-g listen", "duplicate \"*:1\" address and port pair in command line");
    expect_load_err(load("\ndaemon on;", "daemon off;"), "\"daemon\" directive is duplicate in %s/conf/t.conf:2");
}
END_TEST

/* ---- dump: [cli.dump] ------------------------------------------------------------------------ */

static char *dump_text(void)
{
    char *s;
    size_t n;
    FILE *f = open_memstream(&s, &n);
    conf_dump(m, f);
    fclose(f);
    return s;
}

static const char *const dump_inputs[] = {
    "",
    "tcp { " SRV " }",
    "worker_processes auto; daemon off; master_process off; error_log stderr debug; pid '/a b/t.pid';\n"
    "worker_shutdown_timeout 1m30s; worker_rlimit_nofile 8192;\n"
    "events { worker_connections 4096; }\n"
    "tcp { lua_package_path '/x/?.lua;;'; lua_package_cpath \"/y/?.so\"; lua_shared_dict cache 10m;\n"
    "lua_shared_dict 'odd name' 8k; init_by_lua 'x = \"\\\\n\" .. \\'q\\''; log_format a '$msec ' 'x';\n"
    "log_format b $protocol; access_log logs/a.log a; error_log 'sp ace.log' info; allow 10.1.0.0/16;\n"
    "deny all; resolver 8.8.8.8 [::1]:53 valid=1h30m ipv6=off; read_timeout 1500ms;\n"
    "keepalive_timeout 1y; client_max_body_size 3g;\n"
    "server { listen 1 backlog=7 rcvbuf=64k sndbuf=1000 deferred bind reuseport so_keepalive=30m::10;\n"
    "  listen [::1]:2 ipv6only=off; listen 127.0.0.1:3 so_keepalive=off; protocol tcp_lua;\n"
    "  process_by_lua '\n  local s = ngx.receive(10, 6)\n  ngx.print(s)\n'; access_log /l/b.log b; }\n"
    "server { listen 4; protocol tcp_lua; process_by_lua_file 'lua/a;b.lua'; access_log off; }\n"
    "server { listen 5; protocol tcp_lua; process_by_lua_file x.lua; access_log c.log default; } }",
};

START_TEST(dump_round_trip)
{
    expect_ok(parse(dump_inputs[_i]), dump_inputs[_i]);
    char *first = dump_text();
    ck_assert_ptr_nonnull(strstr(first, "# effective configuration (defaults applied):\n"));
    expect_ok(parse(first), first); /* the dump is configuration text */
    char *second = dump_text();
    ck_assert_str_eq(second, first);
    free(first);
    free(second);
}
END_TEST

START_TEST(dump_shows_defaults)
{
    OK("tcp { " SRV " }");
    char *d = dump_text();
    static const char *const lines[] = {
        "worker_processes 1;\n",
        "daemon on;\n",
        "master_process on;\n",
        "worker_shutdown_timeout 10s;\n",
        "error_log /p/logs/error.log error;\n",
        "pid /p/logs/tcplua.pid;\n",
        "    worker_connections 512;\n",
        "        listen *:1 backlog=511;\n",
        "        protocol tcp_lua;\n",
        "        read_timeout 60s;\n",
        "        keepalive_timeout 75s;\n",
        "        session_pool_size 1k;\n",
        "        connection_pool_size 512;\n",
        "        lua_socket_buffer_size 4k;\n",
        "        lua_socket_pool_size 30;\n",
        "        lua_socket_log_errors on;\n",
        "    lua_regex_cache_max_entries 1024;\n",
        "    lua_regex_match_limit 0;\n",
        "        tcp_nodelay on;\n",
        "        lua_check_client_abort off;\n",
        "        access_log /p/logs/access_tcp.log default;\n",
        "        process_by_lua 'x';\n",
        "    resolver_timeout 30s;\n",
    };
    for (size_t i = 0; i < N(lines); i++)
        ck_assert_msg(strstr(d, lines[i]) != NULL, "missing %s in:\n%s", lines[i], d);
    free(d);
}
END_TEST

START_TEST(dump_echoes_files)
{
    expect_ok(load("daemon off;", NULL), "load");
    char *d = dump_text(), want[256];
    snprintf(want, sizeof want, "# configuration file %s/conf/t.conf:\ndaemon off;\n\n", tmpdir);
    ck_assert_msg(strncmp(d, want, strlen(want)) == 0, "%s", d);
    free(d);
}
END_TEST

static Suite *conf_suite(const char *name, TCase **tc)
{
    Suite *s = suite_create(name);
    *tc = tcase_create(name);
    tcase_add_checked_fixture(*tc, NULL, teardown);
    suite_add_tcase(s, *tc);
    return s;
}

int main(void)
{
    TCase *tc;
    SRunner *sr = srunner_create(NULL);

    srunner_add_suite(sr, conf_suite("lexer", &tc));
    tcase_add_loop_test(tc, lexer_word_value, 0, N(words));
    tcase_add_loop_test(tc, lexer_accepts, 0, N(lexer_ok));
    tcase_add_test(tc, lexer_values_after_separators);
    tcase_add_loop_test(tc, lexer_rejects, 0, N(lexer_errors));

    srunner_add_suite(sr, conf_suite("errors", &tc));
    tcase_add_loop_test(tc, structure_rejects, 0, N(structure_errors));

    srunner_add_suite(sr, conf_suite("values", &tc));
    tcase_add_loop_test(tc, value_size, 0, N(sizes));
    tcase_add_loop_test(tc, value_time, 0, N(times));
    tcase_add_loop_test(tc, value_rejects, 0, N(value_errors));
    tcase_add_test(tc, value_accepts);

    srunner_add_suite(sr, conf_suite("directives", &tc));
    tcase_add_test(tc, table_names_match_spec);
    tcase_add_loop_test(tc, table_contexts, 0, N(spec_rows));
    tcase_add_loop_test(tc, table_duplicates, 0, N(spec_rows));
    tcase_add_loop_test(tc, table_arity, 0, N(spec_rows));
    tcase_add_loop_test(tc, dir_error_log, 0, N(error_logs));
    tcase_add_loop_test(tc, dir_error_log_rejects, 0, N(error_log_errors));
    tcase_add_loop_test(tc, dir_listen_addr, 0, N(listens));
    tcase_add_test(tc, dir_listen_sockaddr);
    tcase_add_loop_test(tc, dir_listen_rejects, 0, N(listen_errors));
    tcase_add_test(tc, dir_listen_options);
    tcase_add_loop_test(tc, dir_misc_rejects, 0, N(misc_dir_errors));
    tcase_add_test(tc, dir_access_rules);
    tcase_add_test(tc, dir_resolver);
    tcase_add_test(tc, dir_log_format_access_log);
    tcase_add_test(tc, dir_too_many_arguments);
    tcase_add_test(tc, dir_shared_dict);
    tcase_add_test(tc, dir_lua_code_and_paths);

    srunner_add_suite(sr, conf_suite("merge", &tc));
    tcase_add_test(tc, defaults_main);
    tcase_add_test(tc, defaults_paths_of_create);
    tcase_add_test(tc, defaults_tcp_and_server);
    tcase_add_test(tc, merge_tcp_into_server);
    tcase_add_test(tc, merge_error_log_chain);
    tcase_add_loop_test(tc, finish_checks, 0, N(finish_errors));

    Suite *s = suite_create("include");
    tc = tcase_create("include");
    tcase_add_checked_fixture(tc, include_setup, include_teardown);
    tcase_add_test(tc, include_glob_in_order);
    tcase_add_test(tc, include_absolute_and_every_context);
    tcase_add_test(tc, include_errors);
    tcase_add_test(tc, include_main_file_and_params);
    tcase_add_test(tc, check_files);
    tcase_add_test(tc, dump_echoes_files);
    suite_add_tcase(s, tc);
    srunner_add_suite(sr, s);

    srunner_add_suite(sr, conf_suite("dump", &tc));
    tcase_add_loop_test(tc, dump_round_trip, 0, N(dump_inputs));
    tcase_add_test(tc, dump_shows_defaults);

    return check_run(sr);
}
