/* test_kpool.c: the pools of idle upstream connections (core/kpool.c) over real loopback
 * TCP connections and the libev default loop: LIFO reuse, LRU eviction at the pool size, the
 * first size kept, empty pools freed, the idle watch (peer FIN, stray data, idle timeout,
 * spurious wake-ups), many pool names, and closing everything when the worker stops.
 * Waits are event-driven with a deadline, never fixed sleeps. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "kpool.h"
#include "stream.h"
#include "tests/check_run.h"

#define DEADLINE_S 5.0 /* any wait longer than this is a failure, not a slow machine */
#define MAXPAIRS 8

/* One upstream connection: the end a cosocket would pool, and the test's accepted end. */
typedef struct pair {
    int fd;   /* the pooled (client) end, non-blocking */
    int peer; /* the accepted end, non-blocking; -1 once closed */
    int port; /* the client end's local port: identifies the connection whatever its fd */
} pair_t;

static int lfd; /* the listening socket */
static struct sockaddr_in laddr;
static pair_t pairs[MAXPAIRS]; /* peers closed by teardown */
static int npairs;

static void setup(void)
{
    stream_loop = ev_default_loop(0);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    socklen_t len = sizeof laddr;
    memset(&laddr, 0, sizeof laddr);
    laddr.sin_family = AF_INET;
    laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&laddr, sizeof laddr), 0);
    ck_assert_int_eq(listen(lfd, 64), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&laddr, &len), 0);
    npairs = 0;
}

/* Under CK_FORK=no (make valgrind) every case shares the process: leave nothing behind. */
static void teardown(void)
{
    kpool_close_all();
    for (int i = 0; i < npairs; i++)
        if (pairs[i].peer >= 0) close(pairs[i].peer);
    close(lfd);
}

static int port_of(int fd, int peer_side)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int r = peer_side ? getpeername(fd, (struct sockaddr *)&a, &len)
                      : getsockname(fd, (struct sockaddr *)&a, &len);
    ck_assert_int_eq(r, 0);
    return ntohs(a.sin_port);
}

/* Waits (bounded) until fd is readable: the peer's view of a close is not instantaneous. */
static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, (int)(DEADLINE_S * 1000)), 1);
}

/* A connected loopback pair; the client end is non-blocking, as kpool_put requires. */
static pair_t connect_pair(void)
{
    pair_t p;
    p.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(p.fd, 0);
    int r = connect(p.fd, (struct sockaddr *)&laddr, sizeof laddr);
    ck_assert(r == 0 || errno == EINPROGRESS);
    p.peer = accept4(lfd, NULL, NULL, SOCK_NONBLOCK); /* blocks until the handshake is done */
    ck_assert_int_ge(p.peer, 0);
    struct pollfd w = {.fd = p.fd, .events = POLLOUT};
    ck_assert_int_eq(poll(&w, 1, (int)(DEADLINE_S * 1000)), 1);
    p.port = port_of(p.fd, 0);
    ck_assert_int_eq(port_of(p.peer, 1), p.port);
    return p;
}

/* connect_pair, with the peer registered for teardown. */
static pair_t new_pair(void)
{
    ck_assert_int_lt(npairs, MAXPAIRS);
    pairs[npairs] = connect_pair();
    return pairs[npairs++];
}

/* The peer sees the pooled end closed: EOF, or a reset when bytes it sent were unread. */
static void assert_peer_closed(const pair_t *p)
{
    char c;
    wait_readable(p->peer);
    ssize_t r = read(p->peer, &c, 1);
    ck_assert_msg(r == 0 || (r < 0 && errno == ECONNRESET), "peer read %zd (%s)", r, strerror(errno));
}

static void assert_peer_open(const pair_t *p)
{
    char c;
    ck_assert_int_eq(read(p->peer, &c, 1), -1);
    ck_assert_int_eq(errno, EAGAIN);
}

/* Takes the pool's next connection and checks it is p's (by port, since fds get reused). */
static void assert_get(const char *name, const pair_t *p, unsigned reused)
{
    unsigned r = 12345;
    int fd = kpool_get(name, &r);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(port_of(fd, 0), p->port);
    ck_assert_uint_eq(r, reused);
    close(fd);
}

static void put(const char *name, const pair_t *p, long timeout_ms, int size)
{
    ck_assert_int_eq(kpool_put(name, p->fd, 0, timeout_ms, size, 0), 0);
}

static void on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)revents;
    *(int *)w->data = 1;
}

/* Runs the loop one turn at a time until pool `name` holds `want`; the guard timer both
 * bounds the wait and makes sure EVRUN_ONCE returns even when nothing else happens. */
static void run_until_count(const char *name, size_t want)
{
    int expired = 0;
    ev_timer guard;
    ev_timer_init(&guard, on_guard, DEADLINE_S, 0.);
    guard.data = &expired;
    ev_timer_start(stream_loop, &guard);
    while (kpool_count(name) != want && !expired) ev_run(stream_loop, EVRUN_ONCE);
    ev_timer_stop(stream_loop, &guard);
    ck_assert_uint_eq(kpool_count(name), want);
}

START_TEST(put_then_get_same_connection)
{
    pair_t a = new_pair();
    ck_assert_int_eq(kpool_put("up:1", a.fd, 0, -1, 4, 7), 0);
    ck_assert_uint_eq(kpool_count("up:1"), 1);
    ck_assert_uint_eq(kpool_count("up:2"), 0); /* pools are per name */
    unsigned r = 12345;
    ck_assert_int_eq(kpool_get("up:2", &r), -1);
    assert_get("up:1", &a, 7);
    ck_assert_uint_eq(kpool_count("up:1"), 0);
    ck_assert_int_eq(kpool_get("up:1", &r), -1);
}
END_TEST

START_TEST(get_is_lifo)
{
    pair_t a = new_pair(), b = new_pair(), c = new_pair();
    put("p", &a, -1, 10);
    put("p", &b, -1, 10);
    put("p", &c, -1, 10);
    ck_assert_uint_eq(kpool_count("p"), 3);
    assert_get("p", &c, 0); /* most recently put: the warmest connection */
    ck_assert_uint_eq(kpool_count("p"), 2);
    assert_get("p", &b, 0);
    assert_get("p", &a, 0);
    ck_assert_uint_eq(kpool_count("p"), 0);
}
END_TEST

START_TEST(full_pool_closes_least_recently_used)
{
    pair_t a = new_pair(), b = new_pair(), c = new_pair();
    put("p", &a, -1, 2);
    put("p", &b, -1, 2);
    put("p", &c, -1, 2);
    ck_assert_uint_eq(kpool_count("p"), 2);
    assert_peer_closed(&a);
    assert_peer_open(&b);
    assert_peer_open(&c);
    assert_get("p", &c, 0);
    assert_get("p", &b, 0);
}
END_TEST

/* Regression: evicting the only connection of a pool of size 1 emptied it, and kpool_put
 * freed the pool it was about to insert into. */
START_TEST(pool_of_one_evicts_and_stays)
{
    pair_t a = new_pair(), b = new_pair();
    put("one", &a, -1, 1);
    put("one", &b, -1, 1);
    ck_assert_uint_eq(kpool_count("one"), 1);
    assert_peer_closed(&a);
    assert_get("one", &b, 0);
}
END_TEST

START_TEST(first_size_is_kept)
{
    pair_t a = new_pair(), b = new_pair(), c = new_pair();
    put("p", &a, -1, 2);
    put("p", &b, -1, 10); /* as ngx_lua: the size of the call that created the pool */
    put("p", &c, -1, 10);
    ck_assert_uint_eq(kpool_count("p"), 2);
    assert_peer_closed(&a);
}
END_TEST

START_TEST(empty_pool_is_freed_and_recreated)
{
    pair_t a = new_pair(), b = new_pair(), c = new_pair(), d = new_pair();
    put("p", &a, -1, 1);
    assert_get("p", &a, 0); /* empty: freed, so its size is forgotten */
    put("p", &b, -1, 3);
    put("p", &c, -1, 1);
    put("p", &d, -1, 1);
    ck_assert_uint_eq(kpool_count("p"), 3);
    assert_peer_open(&b);
}
END_TEST

START_TEST(peer_fin_closes_idle)
{
    pair_t a = new_pair(), b = new_pair();
    put("p", &a, -1, 4);
    put("p", &b, -1, 4);
    ck_assert_int_eq(shutdown(a.peer, SHUT_WR), 0);
    run_until_count("p", 1);
    assert_peer_closed(&a);
    assert_peer_open(&b);
    assert_get("p", &b, 0);
}
END_TEST

static void no_read(stream_t *s) { (void)s; }
static const stream_handler_t quiet = {no_read, NULL, no_read};

/* A connection an earlier stream watched (a cosocket that waited on it) is parked with its
 * registration kept (watched = 1): the pool must still hear the peer's FIN. (An fd never
 * watched must be parked with watched = 0: conformance probe keepalive.unix.) */
START_TEST(watched_connection_keeps_events)
{
    pair_t a = new_pair();
    stream_t s;
    stream_init(&s, a.fd, &quiet, NULL, 0);
    stream_read(&s, 1);
    ev_run(stream_loop, EVRUN_NOWAIT); /* the loop registers the fd */
    ck_assert(s.watched);
    int fd = stream_detach(&s);
    ck_assert_int_eq(kpool_put("w", fd, 1, -1, 4, 0), 0);
    ck_assert_int_eq(shutdown(a.peer, SHUT_WR), 0);
    run_until_count("w", 0);
    assert_peer_closed(&a);
}
END_TEST

START_TEST(peer_data_closes_idle)
{
    pair_t a = new_pair();
    put("p", &a, -1, 4);
    ck_assert_int_eq(write(a.peer, "stray", 5), 5); /* no request asked for it */
    run_until_count("p", 0);
    assert_peer_closed(&a);
}
END_TEST

START_TEST(idle_timeout_closes)
{
    pair_t a = new_pair(), b = new_pair();
    ev_now_update(stream_loop);
    ev_tstamp t0 = ev_now(stream_loop);
    put("p", &a, 50, 4);
    put("p", &b, -1, 4); /* no timeout: stays */
    run_until_count("p", 1);
    ev_now_update(stream_loop);
    ck_assert_double_ge(ev_now(stream_loop) - t0, 0.045);
    assert_peer_closed(&a);
    assert_get("p", &b, 0);
}
END_TEST

/* A readiness report with nothing to read (as epoll may give) is not a close. */
START_TEST(spurious_wakeup_keeps_idle)
{
    pair_t a = new_pair();
    put("p", &a, -1, 4);
    ev_feed_fd_event(stream_loop, a.fd, EV_READ);
    ev_run(stream_loop, EVRUN_NOWAIT);
    ck_assert_uint_eq(kpool_count("p"), 1);
    assert_peer_open(&a);
    unsigned r;
    int fd = kpool_get("p", &r);
    ck_assert_int_eq(write(fd, "ok", 2), 2); /* still usable */
    wait_readable(a.peer);
    char buf[2];
    ck_assert_int_eq(read(a.peer, buf, 2), 2);
    close(fd);
}
END_TEST

/* 1000 names make the hash table double from 16 buckets to 1024. The loop never runs here,
 * so each peer is closed at once (the FIN goes unnoticed) to stay within a 1024-fd limit. */
START_TEST(many_names_all_retrievable)
{
    enum {
        N = 1000
    };
    static int port[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        pair_t p = connect_pair();
        close(p.peer);
        port[i] = p.port;
        snprintf(name, sizeof name, "10.0.%d.%d:80", i / 256, i % 256);
        ck_assert_int_eq(kpool_put(name, p.fd, 0, -1, 2, (unsigned)i), 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "10.0.%d.%d:80", i / 256, i % 256);
        ck_assert_uint_eq(kpool_count(name), 1);
        pair_t p = {.fd = -1, .peer = -1, .port = port[i]};
        assert_get(name, &p, (unsigned)i);
        ck_assert_uint_eq(kpool_count(name), 0);
    }
}
END_TEST

START_TEST(close_all_closes_everything_and_resets)
{
    pair_t a = new_pair(), b = new_pair(), c = new_pair(), d = new_pair();
    put("p", &a, -1, 4);
    put("p", &b, 1000, 4);
    put("q", &c, -1, 1);
    kpool_close_all();
    ck_assert_uint_eq(kpool_count("p"), 0);
    ck_assert_uint_eq(kpool_count("q"), 0);
    assert_peer_closed(&a);
    assert_peer_closed(&b);
    assert_peer_closed(&c);
    put("p", &d, -1, 4); /* the module starts over */
    ck_assert_uint_eq(kpool_count("p"), 1);
    assert_get("p", &d, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kpool");
    TCase *t = tcase_create("pool");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, put_then_get_same_connection);
    tcase_add_test(t, get_is_lifo);
    tcase_add_test(t, full_pool_closes_least_recently_used);
    tcase_add_test(t, pool_of_one_evicts_and_stays);
    tcase_add_test(t, first_size_is_kept);
    tcase_add_test(t, empty_pool_is_freed_and_recreated);
    tcase_add_test(t, many_names_all_retrievable);
    tcase_add_test(t, close_all_closes_everything_and_resets);
    suite_add_tcase(s, t);
    TCase *w = tcase_create("idle watch");
    tcase_add_checked_fixture(w, setup, teardown);
    tcase_add_test(w, peer_fin_closes_idle);
    tcase_add_test(w, watched_connection_keeps_events);
    tcase_add_test(w, peer_data_closes_idle);
    tcase_add_test(w, idle_timeout_closes);
    tcase_add_test(w, spurious_wakeup_keeps_idle);
    suite_add_tcase(s, w);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    return check_run(sr);
}
