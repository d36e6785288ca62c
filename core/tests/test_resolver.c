/* test_resolver.c: the c-ares resolver (core/resolver.c) against a tiny DNS responder on a
 * UDP loopback socket in the same libev loop: answers, the error messages as ngx_lua words
 * them, the deadline, the cache (valid= and TTL), sharing of one exchange, cancel, and
 * destroy with queries in flight or from inside a callback. No fixed sleeps: the loop runs
 * until the callback fires, under a guard timer. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include "resolver.h"
#include "tests/check_run.h"

/* ---- the responder ----
 *   a.test      A 10.0.0.1, A 10.0.0.2, AAAA 2001:db8::1 (TTL 300)
 *   v4.test     A 10.0.0.4; AAAA: no data (NOERROR, no answer)
 *   zero.test   A 10.0.0.9 with TTL 0
 *   short.test  A 10.0.0.5 (TTL 300) and A 10.0.0.6 (TTL 1)
 *   fail.test   SERVFAIL;  refused.test REFUSED;  slow.test never answered
 *   mismatch.test  an A record, but for the question "mismatch.tesx" (a stray answer)
 *   anything else NXDOMAIN */
static struct ev_loop *loop;
static int dns_fd = -1, dns_port;
static ev_io dns_io;
static int nq; /* queries received */

static size_t put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return 2;
}

/* One answer record, its name a pointer to the question's. */
static size_t put_rr(unsigned char *p, int type, unsigned ttl, const char *addr)
{
    size_t n = put16(p, 0xc00c);
    int fam = type == 1 ? AF_INET : AF_INET6;
    size_t alen = type == 1 ? 4 : 16;
    n += put16(p + n, (unsigned)type);
    n += put16(p + n, 1);
    n += put16(p + n, ttl >> 16);
    n += put16(p + n, ttl & 0xffff);
    n += put16(p + n, (unsigned)alen);
    ck_assert_int_eq(inet_pton(fam, addr, p + n), 1);
    return n + alen;
}

/* The question's name as text; *end gets the offset after QTYPE and QCLASS. */
static int qname(const unsigned char *b, size_t len, char *name, size_t *end)
{
    size_t i = 12, o = 0;
    while (i < len && b[i]) {
        size_t l = b[i++];
        if (i + l > len || o + l + 1 >= 256) return -1;
        if (o) name[o++] = '.';
        memcpy(name + o, b + i, l);
        o += l;
        i += l;
    }
    name[o] = '\0';
    *end = i + 5;
    return *end <= len ? 0 : -1;
}

/* Answers records for a name and type; returns the rcode (-1: stay silent). */
static int answer(const char *name, int type, unsigned char *p, size_t *n, int *count)
{
    *n = 0;
    *count = 0;
    if (strcasecmp(name, "slow.test") == 0) return -1;
    if (strcasecmp(name, "fail.test") == 0) return 2;
    if (strcasecmp(name, "refused.test") == 0) return 5;
#define RR(t, ttl, a) (*n += put_rr(p + *n, t, ttl, a), ++*count)
    if (strcasecmp(name, "a.test") == 0) {
        if (type == 1) RR(1, 300, "10.0.0.1"), RR(1, 300, "10.0.0.2");
        if (type == 28) RR(28, 300, "2001:db8::1");
    } else if (strcasecmp(name, "v4.test") == 0) {
        if (type == 1) RR(1, 300, "10.0.0.4");
    } else if (strcasecmp(name, "zero.test") == 0) {
        if (type == 1) RR(1, 0, "10.0.0.9");
    } else if (strcasecmp(name, "mismatch.test") == 0) {
        if (type == 1) RR(1, 300, "10.0.0.7");
    } else if (strcasecmp(name, "short.test") == 0) {
        if (type == 1) RR(1, 300, "10.0.0.5"), RR(1, 1, "10.0.0.6");
    } else {
        return 3;
    }
#undef RR
    return 0;
}

static void dns_reply(const unsigned char *q, size_t len, struct sockaddr_storage *from, socklen_t flen)
{
    unsigned char out[512];
    char name[256];
    size_t end, an;
    int count;
    if (len < 12 || qname(q, len, name, &end)) return;
    int type = q[end - 4] << 8 | q[end - 3];
    int rcode = answer(name, type, out + end, &an, &count);
    if (rcode < 0) return;
    memcpy(out, q, end); /* id and question */
    if (strcasecmp(name, "mismatch.test") == 0) out[end - 6] = 'x';
    out[2] = (unsigned char)(0x80 | (q[2] & 0x01)); /* QR, RD echoed */
    out[3] = (unsigned char)(0x80 | rcode);         /* RA */
    put16(out + 4, 1);
    put16(out + 6, (unsigned)count);
    put16(out + 8, 0);
    put16(out + 10, 0);
    sendto(dns_fd, out, end + an, 0, (struct sockaddr *)from, flen);
}

static void dns_cb(struct ev_loop *l, ev_io *w, int revents)
{
    unsigned char buf[512];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t got;
    (void)l, (void)w, (void)revents;
    while ((got = recvfrom(dns_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen)) > 0) {
        nq++;
        dns_reply(buf, (size_t)got, &from, flen);
        flen = sizeof from;
    }
}

static void dns_start(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(dns_fd, 0);
    ck_assert_int_eq(bind(dns_fd, (struct sockaddr *)&sa, len), 0);
    ck_assert_int_eq(getsockname(dns_fd, (struct sockaddr *)&sa, &len), 0);
    dns_port = ntohs(sa.sin_port);
    ev_io_init(&dns_io, dns_cb, dns_fd, EV_READ);
    ev_io_start(loop, &dns_io);
}

/* ---- fixtures and helpers ---- */

typedef struct result {
    int called, n;
    struct sockaddr_storage addrs[8];
    char err[300];
    resolver_query_t *other; /* cancel_other(): the query to cancel, */
    struct result *peer;     /* and the result that holds our handle */
} result_t;

static resolver_t *res;
static char server[64];
static str_list_t servers = {server, NULL};

static void setup(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    nq = 0;
    dns_start();
    snprintf(server, sizeof server, "127.0.0.1:%d", dns_port);
    res = NULL;
}

static void teardown(void)
{
    resolver_destroy(res);
    ev_io_stop(loop, &dns_io);
    close(dns_fd);
    ev_loop_destroy(loop);
}

static resolver_t *make(long timeout_ms, long valid_ms, int ipv6)
{
    char err[200] = "";
    resolver_t *r = resolver_create(loop, &servers, timeout_ms, valid_ms, ipv6, err, sizeof err);
    ck_assert_msg(r != NULL, "resolver_create: %s", err);
    return r;
}

static void on_result(void *data, const struct sockaddr_storage *addrs, int n, const char *err)
{
    result_t *rs = data;
    rs->called++;
    rs->n = n;
    for (int i = 0; i < n && i < 8; i++) rs->addrs[i] = addrs[i];
    snprintf(rs->err, sizeof rs->err, "%s", err ? err : "");
    ck_assert((n > 0) == (err == NULL) && (n > 0) == (addrs != NULL));
}

static void guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l, (void)revents;
    *(int *)w->data = 1;
}

/* Runs the loop until *flag >= want or `seconds` pass; returns whether the flag got there. */
static int run_for(int *flag, int want, double seconds)
{
    int expired = 0;
    ev_timer guard;
    ev_timer_init(&guard, guard_cb, seconds, 0.);
    guard.data = &expired;
    ev_timer_start(loop, &guard);
    while (*flag < want && !expired) ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &guard);
    return *flag >= want;
}

static void run_until(int *flag) { ck_assert_msg(run_for(flag, 1, 5.0), "callback did not fire"); }

/* Lets the loop run for `seconds` (for expiry and "nothing else happens" checks). */
static void run_idle(double seconds)
{
    int never = 0;
    run_for(&never, 1, seconds);
}

static const char *addr_text(const struct sockaddr_storage *ss, char *buf)
{
    const void *a = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                                             : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    return inet_ntop(ss->ss_family, a, buf, INET6_ADDRSTRLEN);
}

static int has_addr(const result_t *rs, const char *text)
{
    char buf[INET6_ADDRSTRLEN];
    for (int i = 0; i < rs->n; i++)
        if (strcmp(addr_text(&rs->addrs[i], buf), text) == 0) return 1;
    return 0;
}

static void resolve(const char *name, result_t *rs)
{
    memset(rs, 0, sizeof *rs);
    ck_assert_ptr_nonnull(resolver_query(res, name, on_result, rs));
    ck_assert_int_eq(rs->called, 0); /* never from inside resolver_query() */
    run_until(&rs->called);
}

/* ---- answers ---- */

START_TEST(a_only_when_ipv6_off)
{
    result_t rs;
    res = make(2000, 0, 0);
    resolve("a.test", &rs);
    ck_assert_int_eq(rs.n, 2);
    ck_assert(has_addr(&rs, "10.0.0.1") && has_addr(&rs, "10.0.0.2"));
    for (int i = 0; i < rs.n; i++) {
        ck_assert_int_eq(rs.addrs[i].ss_family, AF_INET);
        ck_assert_int_eq(((struct sockaddr_in *)&rs.addrs[i])->sin_port, 0);
    }
    ck_assert_int_eq(nq, 1); /* no AAAA asked */
}
END_TEST

START_TEST(a_and_aaaa_when_ipv6_on)
{
    result_t rs;
    res = make(2000, 0, 1);
    resolve("a.test", &rs);
    ck_assert_int_eq(rs.n, 3);
    ck_assert(has_addr(&rs, "10.0.0.1") && has_addr(&rs, "10.0.0.2") && has_addr(&rs, "2001:db8::1"));
    ck_assert_int_eq(nq, 2);
}
END_TEST

START_TEST(a_without_aaaa_when_ipv6_on)
{
    result_t rs;
    res = make(2000, 0, 1);
    resolve("v4.test", &rs);
    ck_assert_int_eq(rs.n, 1);
    ck_assert(has_addr(&rs, "10.0.0.4"));
}
END_TEST

/* ---- errors ---- */

START_TEST(nxdomain)
{
    result_t rs;
    res = make(2000, 0, _i);
    resolve("nope.test", &rs);
    ck_assert_int_eq(rs.n, 0);
    ck_assert_str_eq(rs.err, "nope.test could not be resolved (3: Host not found)");
}
END_TEST

START_TEST(servfail)
{
    result_t rs;
    res = make(2000, 0, 0);
    resolve("fail.test", &rs);
    ck_assert_str_eq(rs.err, "fail.test could not be resolved (2: Server failure)");
}
END_TEST

START_TEST(refused)
{
    result_t rs;
    res = make(2000, 0, 0);
    resolve("refused.test", &rs);
    ck_assert_str_eq(rs.err, "refused.test could not be resolved (5: Operation refused)");
}
END_TEST

START_TEST(error_names_the_name_as_written)
{
    result_t rs;
    res = make(2000, 0, 0);
    resolve("NoPe.Test", &rs);
    ck_assert_str_eq(rs.err, "NoPe.Test could not be resolved (3: Host not found)");
}
END_TEST

START_TEST(timeout)
{
    result_t rs;
    res = make(100, 0, 0);
    ev_now_update(loop);
    ev_tstamp t0 = ev_now(loop);
    resolve("slow.test", &rs);
    ck_assert_str_eq(rs.err, "slow.test could not be resolved (110: Operation timed out)");
    ck_assert(ev_now(loop) - t0 >= 0.09 && ev_now(loop) - t0 < 1.0);
    ck_assert_int_ge(nq, 1);
    /* teardown destroys the resolver while c-ares still retries the orphaned lookup */
}
END_TEST

/* An answer whose question is not ours is dropped: the query times out. */
START_TEST(answer_to_another_question_ignored)
{
    result_t rs;
    res = make(200, 0, 0);
    resolve("mismatch.test", &rs);
    ck_assert_str_eq(rs.err, "mismatch.test could not be resolved (110: Operation timed out)");
}
END_TEST

/* c-ares refuses to encode a label over 63 bytes, from inside ares_getaddrinfo(): still
 * reported from the loop, as nginx reports a name it cannot ask (NXDOMAIN). */
START_TEST(unaskable_name_not_found)
{
    result_t rs;
    char name[100];
    memset(name, 'x', 70);
    strcpy(name + 70, ".test");
    res = make(2000, 0, 0);
    resolve(name, &rs);
    ck_assert_int_eq(rs.n, 0);
    ck_assert(strstr(rs.err, "could not be resolved (3: Host not found)") != NULL);
    ck_assert_int_eq(nq, 0);
}
END_TEST

/* c-ares does not ask a server for "localhost"; the resolver answers 127.0.0.1 itself. */
START_TEST(localhost_is_loopback)
{
    result_t rs;
    res = make(2000, 0, _i);
    resolve("LocalHost", &rs);
    ck_assert_int_eq(rs.n, 1);
    ck_assert(has_addr(&rs, "127.0.0.1"));
    ck_assert_int_eq(nq, 0);
}
END_TEST

START_TEST(errors_are_not_cached)
{
    result_t rs;
    int n;
    struct sockaddr_storage a[4];
    res = make(2000, 0, 0);
    resolve("fail.test", &rs);
    ck_assert_int_eq(resolver_cached(res, "fail.test", a, 4, &n), 0);
    resolve("fail.test", &rs);
    ck_assert_int_eq(nq, 2);
}
END_TEST

START_TEST(invalid_server)
{
    char err[200];
    str_list_t bad = {"10.0.0.1:99999", NULL}, name = {"example.com", NULL}, v6 = {"[::1]:5353", NULL};
    ck_assert_ptr_null(resolver_create(loop, &bad, 1000, 0, 1, err, sizeof err));
    ck_assert_str_eq(err, "invalid resolver address \"10.0.0.1:99999\"");
    ck_assert_ptr_null(resolver_create(loop, &name, 1000, 0, 1, err, sizeof err));
    ck_assert_str_eq(err, "invalid resolver address \"example.com\"");
    res = resolver_create(loop, &v6, 1000, 0, 1, err, sizeof err); /* accepted; teardown frees it */
    ck_assert_ptr_nonnull(res);
}
END_TEST

/* ---- the cache ---- */

START_TEST(cache_hit_after_query)
{
    result_t rs;
    int n = -1;
    struct sockaddr_storage a[4];
    res = make(2000, 0, 0);
    ck_assert_int_eq(resolver_cached(res, "a.test", a, 4, &n), 0);
    resolve("a.test", &rs);
    ck_assert_int_eq(nq, 1);
    ck_assert_int_eq(resolver_cached(res, "A.Test", a, 4, &n), 1); /* case-insensitive */
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(resolver_cached(res, "a.test", a, 1, &n), 1); /* capped at max */
    ck_assert_int_eq(n, 1);
    run_idle(0.05);
    ck_assert_int_eq(resolver_cached(res, "a.test", a, 4, &n), 1); /* TTL 300 s */
    ck_assert_int_eq(nq, 1);
}
END_TEST

START_TEST(valid_expires)
{
    result_t rs;
    int n;
    struct sockaddr_storage a[4];
    res = make(2000, 50, 0);
    resolve("a.test", &rs);
    ck_assert_int_eq(resolver_cached(res, "a.test", a, 4, &n), 1);
    run_idle(0.1);
    ck_assert_int_eq(resolver_cached(res, "a.test", a, 4, &n), 0);
}
END_TEST

START_TEST(ttl_zero_not_cached)
{
    result_t rs;
    int n;
    struct sockaddr_storage a[4];
    res = make(2000, 0, 0);
    resolve("zero.test", &rs);
    ck_assert_int_eq(rs.n, 1);
    ck_assert_int_eq(resolver_cached(res, "zero.test", a, 4, &n), 0);
}
END_TEST

/* The smallest TTL of the answer decides (1 s here, beside a 300 s record). */
START_TEST(min_ttl_expires)
{
    result_t rs;
    int n;
    struct sockaddr_storage a[4];
    res = make(2000, 0, 0);
    resolve("short.test", &rs);
    ck_assert_int_eq(rs.n, 2);
    ck_assert_int_eq(resolver_cached(res, "short.test", a, 4, &n), 1);
    run_idle(1.1);
    ck_assert_int_eq(resolver_cached(res, "short.test", a, 4, &n), 0);
}
END_TEST

/* ---- sharing, cancel, destroy ---- */

START_TEST(same_name_shares_one_exchange)
{
    result_t r1 = {0}, r2 = {0};
    res = make(2000, 0, 0);
    ck_assert_ptr_nonnull(resolver_query(res, "a.test", on_result, &r1));
    ck_assert_ptr_nonnull(resolver_query(res, "A.TEST", on_result, &r2));
    run_until(&r1.called);
    run_until(&r2.called);
    ck_assert_int_eq(r1.n, 2);
    ck_assert_int_eq(r2.n, 2);
    ck_assert_int_eq(nq, 1);
}
END_TEST

START_TEST(cancel_before_asked)
{
    result_t r1 = {0}, r2 = {0};
    res = make(2000, 0, 0);
    resolver_cancel(resolver_query(res, "a.test", on_result, &r1));
    resolve("v4.test", &r2);
    run_idle(0.05);
    ck_assert_int_eq(r1.called, 0);
    ck_assert_int_eq(nq, 1); /* a.test was never asked */
}
END_TEST

START_TEST(cancel_one_of_shared)
{
    result_t r1 = {0}, r2 = {0};
    res = make(2000, 0, 0);
    resolver_query_t *q1 = resolver_query(res, "a.test", on_result, &r1);
    ck_assert_ptr_nonnull(resolver_query(res, "a.test", on_result, &r2));
    run_for(&nq, 1, 5.0); /* the exchange is under way */
    resolver_cancel(q1);
    run_until(&r2.called);
    run_idle(0.05);
    ck_assert_int_eq(r1.called, 0);
    ck_assert_int_eq(r2.n, 2);
}
END_TEST

START_TEST(cancel_in_flight_still_caches)
{
    result_t r1 = {0};
    int n;
    struct sockaddr_storage a[4];
    res = make(2000, 0, 0);
    resolver_query_t *q = resolver_query(res, "a.test", on_result, &r1);
    run_for(&nq, 1, 5.0);
    resolver_cancel(q);
    for (int i = 0; i < 100 && !resolver_cached(res, "a.test", a, 4, &n); i++) run_idle(0.01);
    ck_assert_int_eq(resolver_cached(res, "a.test", a, 4, &n), 1);
    ck_assert_int_eq(r1.called, 0);
}
END_TEST

/* Whichever of two sharing queries is answered first cancels the other. */
static void cancel_other(void *data, const struct sockaddr_storage *addrs, int n, const char *err)
{
    result_t *rs = data;
    on_result(data, addrs, n, err);
    resolver_cancel(rs->other);
    rs->peer->other = NULL; /* our own handle is already freed */
}

START_TEST(cancel_from_inside_callback)
{
    result_t r[2];
    memset(r, 0, sizeof r);
    res = make(2000, 0, 0);
    r[0].other = resolver_query(res, "a.test", cancel_other, &r[1]);
    r[1].other = resolver_query(res, "a.test", cancel_other, &r[0]);
    r[0].peer = &r[1];
    r[1].peer = &r[0];
    ck_assert(r[0].other && r[1].other);
    int total = 0;
    for (int i = 0; i < 500 && r[0].called + r[1].called == 0; i++) ev_run(loop, EVRUN_ONCE);
    run_idle(0.05);
    total = r[0].called + r[1].called;
    ck_assert_int_eq(total, 1);
    ck_assert_int_eq(nq, 1);
}
END_TEST

/* A callback asking the same name again gets a fresh exchange, not the finished one. */
static result_t again;
static void ask_again(void *data, const struct sockaddr_storage *addrs, int n, const char *err)
{
    on_result(data, addrs, n, err);
    ck_assert_ptr_nonnull(resolver_query(res, "nope.test", on_result, &again));
    ck_assert_int_eq(again.called, 0);
}

START_TEST(query_from_inside_callback)
{
    result_t r1 = {0};
    memset(&again, 0, sizeof again);
    res = make(2000, 0, 0);
    ck_assert_ptr_nonnull(resolver_query(res, "nope.test", ask_again, &r1));
    run_until(&again.called);
    ck_assert_int_eq(r1.called, 1);
    ck_assert_int_eq(nq, 2);
    ck_assert_str_eq(again.err, "nope.test could not be resolved (3: Host not found)");
}
END_TEST

START_TEST(destroy_with_pending_queries)
{
    result_t r[3];
    memset(r, 0, sizeof r);
    res = make(2000, 0, 1);
    ck_assert_ptr_nonnull(resolver_query(res, "slow.test", on_result, &r[0]));
    ck_assert_ptr_nonnull(resolver_query(res, "a.test", on_result, &r[1]));
    run_for(&nq, 1, 5.0);                                                      /* some asked, answers not yet read */
    ck_assert_ptr_nonnull(resolver_query(res, "nope.test", on_result, &r[2])); /* not yet asked */
    resolver_destroy(res);
    res = NULL;
    run_idle(0.05);
    ck_assert_int_eq(r[0].called + r[1].called + r[2].called, 0);
}
END_TEST

/* The first callback destroys the resolver: nobody else is called after it. */
static void destroy_in_cb(void *data, const struct sockaddr_storage *addrs, int n, const char *err)
{
    on_result(data, addrs, n, err);
    ck_assert_ptr_nonnull(res);
    resolver_destroy(res);
    res = NULL;
}

START_TEST(destroy_from_inside_callback)
{
    result_t r[3];
    memset(r, 0, sizeof r);
    res = make(2000, 0, 0);
    ck_assert_ptr_nonnull(resolver_query(res, "a.test", destroy_in_cb, &r[0]));
    ck_assert_ptr_nonnull(resolver_query(res, "a.test", destroy_in_cb, &r[1]));
    ck_assert_ptr_nonnull(resolver_query(res, "v4.test", destroy_in_cb, &r[2]));
    for (int i = 0; i < 500 && r[0].called + r[1].called + r[2].called == 0; i++) ev_run(loop, EVRUN_ONCE);
    run_idle(0.05);
    ck_assert_int_eq(r[0].called + r[1].called + r[2].called, 1);
    ck_assert_ptr_null(res);
}
END_TEST

static Suite *resolver_suite(void)
{
    Suite *s = suite_create("resolver");
    TCase *ans = tcase_create("answers");
    TCase *errs = tcase_create("errors");
    TCase *cache = tcase_create("cache");
    TCase *life = tcase_create("sharing, cancel, destroy");
    TCase *all[] = {ans, errs, cache, life};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 20);
    }
    tcase_add_test(ans, a_only_when_ipv6_off);
    tcase_add_test(ans, a_and_aaaa_when_ipv6_on);
    tcase_add_test(ans, a_without_aaaa_when_ipv6_on);
    tcase_add_loop_test(ans, localhost_is_loopback, 0, 2);
    tcase_add_loop_test(errs, nxdomain, 0, 2);
    tcase_add_test(errs, servfail);
    tcase_add_test(errs, refused);
    tcase_add_test(errs, error_names_the_name_as_written);
    tcase_add_test(errs, timeout);
    tcase_add_test(errs, answer_to_another_question_ignored);
    tcase_add_test(errs, unaskable_name_not_found);
    tcase_add_test(errs, errors_are_not_cached);
    tcase_add_test(errs, invalid_server);
    tcase_add_test(cache, cache_hit_after_query);
    tcase_add_test(cache, valid_expires);
    tcase_add_test(cache, ttl_zero_not_cached);
    tcase_add_test(cache, min_ttl_expires);
    tcase_add_test(life, same_name_shares_one_exchange);
    tcase_add_test(life, cancel_before_asked);
    tcase_add_test(life, cancel_one_of_shared);
    tcase_add_test(life, cancel_in_flight_still_caches);
    tcase_add_test(life, cancel_from_inside_callback);
    tcase_add_test(life, query_from_inside_callback);
    tcase_add_test(life, destroy_with_pending_queries);
    tcase_add_test(life, destroy_from_inside_callback);
    suite_add_tcase(s, ans);
    suite_add_tcase(s, errs);
    suite_add_tcase(s, cache);
    suite_add_tcase(s, life);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resolver_suite());

    return check_run(sr);
}
