/* test_session.c: the session (api/session.c) over a socketpair, with a real VM and the real
 * connection code but no listener or process: every way a session ends runs its cleanup
 * list exactly once and closes the connection (the lingering way: FIN, then until the peer
 * closes); a cleanup removed before the end does not run; the wait record tells core whether
 * a connection is idle; a graceful stop serves a request that arrived and ends the others. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <lauxlib.h>
#include "lua_app.h"
#include "session_internal.h"
#include "vm.h"
#include "tests/check_run.h"

static main_conf_t *m;
static vserver_t vs;
static conn_t *c;
static int peer, cleanups_run;
static session_cleanup_t node;

static void on_cleanup(session_cleanup_t *cl, session_t *ss)
{
    ck_assert_ptr_eq(cl, &node);
    ck_assert_ptr_nonnull(ss->co); /* cleanups run before the coroutine is released */
    cleanups_run++;
}

static int l_acquire(lua_State *L)
{
    node.fn = on_cleanup;
    session_cleanup_add(session_get(L), &node);
    return 0;
}

static int l_release(lua_State *L)
{
    session_cleanup_remove(session_get(L), &node);
    return 0;
}

/* A VM and one connection running `code` (no single quotes) with `extra` server directives. */
static void start(const char *code, const char *extra)
{
    char text[2048], err[512];
    conf_t cf;
    snprintf(text, sizeof text, "tcp { server { listen 127.0.0.1:1; protocol tcp_lua; access_log off; %s"
                                " process_by_lua '%s'; } }",
             extra, code);
    m = conf_create("/tmp/", "t.conf");
    conf_init(&cf, m);
    ck_assert_msg(conf_parse(&cf, text, strlen(text), "t.conf") == 0 && conf_finish(&cf) == 0, "%s", cf.err);
    app = &lua_app;
    stream_loop = ev_default_loop(0);
    ck_assert_msg(app->cycle_init(m, NULL, err, sizeof err) == 0, "%s", err);
    lua_register(vm_main(), "acquire", l_acquire);
    lua_register(vm_main(), "release", l_release);
    memset(&vs, 0, sizeof vs);
    vs.conf = m->tcp->servers;
    vs.access_fd = -1;
    vs.log = (log_target_t){open("/dev/null", O_WRONLY | O_CLOEXEC), LOG_DEBUG, NULL};
    ck_assert_msg(app->server_init(&vs, err, sizeof err) == 0, "%s", err);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    peer = sv[1];
    cleanups_run = 0;
    c = conn_create(sv[0], &vs, (struct sockaddr *)&sin);
    ck_assert_ptr_nonnull(c);
    app->conn_start(c);
}

static void stop(void)
{
    conn_close_all();
    app->cycle_close();
    close(vs.log.fd);
    conf_destroy(m);
    close(peer);
}

/* Reads what the server sent so far into buf (NUL-terminated); returns the count, 0 at the
 * server's EOF, -1 when nothing is there yet. */
static ssize_t peer_read(char *buf, size_t n)
{
    ssize_t r = read(peer, buf, n - 1);
    buf[r > 0 ? r : 0] = 0;
    return r;
}

/* Turns the loop until the connection is gone (bounded). The peer acts as a client does: it
 * closes its end once it has read the server's EOF, which ends the lingering close. */
static void run_until_closed(void)
{
    char b[4096];
    int peer_open = 1;
    for (int i = 0; i < 2000 && conn_count() > 0; i++) {
        ev_run(stream_loop, EVRUN_NOWAIT);
        if (peer_open && peer_read(b, sizeof b) == 0) {
            close(peer);
            peer = open("/dev/null", O_RDONLY); /* so stop() has something to close */
            peer_open = 0;
        }
        usleep(500);
    }
    ck_assert_int_eq(conn_count(), 0);
}

/* Turns the loop until the peer has read `want` and then the server's EOF (bounded). */
static void peer_expect_end(const char *want)
{
    char got[256] = "", b[256];
    for (int i = 0; i < 2000; i++) {
        ev_run(stream_loop, EVRUN_NOWAIT);
        ssize_t r = peer_read(b, sizeof b);
        if (r == 0) break;
        if (r > 0) strncat(got, b, sizeof got - strlen(got) - 1);
        usleep(500);
    }
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(read(peer, b, sizeof b), 0);
}

/* Turns the loop until the session waits in wait_next_request (bounded). */
static void run_until_idle(void)
{
    for (int i = 0; i < 1000 && !app->conn_idle(c); i++) ev_run(stream_loop, EVRUN_NOWAIT), usleep(500);
    ck_assert(app->conn_idle(c));
}

static void ends_with(const char *code, const char *extra, int cleanups)
{
    start(code, extra);
    run_until_closed();
    ck_assert_int_eq(cleanups_run, cleanups);
    stop();
}
#define ends_once(code, extra) ends_with(code, extra, 1)

START_TEST(cleanup_on_return)
{
    ends_once("acquire() ngx.print(1)", "");
}
END_TEST
START_TEST(cleanup_on_lua_error) { ends_once("acquire() error(\"boom\")", ""); }
END_TEST
START_TEST(cleanup_on_exit) { ends_once("acquire() ngx.exit(0) ngx.print(\"never\")", ""); }
END_TEST
START_TEST(cleanup_on_read_timeout_return) { ends_once("acquire() ngx.receive(1)", "read_timeout 10ms;"); }
END_TEST
START_TEST(cleanup_on_keepalive_timeout) { ends_once("acquire() ngx.wait_next_request()", "keepalive_timeout 10ms;"); }
END_TEST

START_TEST(cleanup_on_client_abort)
{
    start("acquire() ngx.sleep(100)", "lua_check_client_abort on;");
    ev_run(stream_loop, EVRUN_NOWAIT);
    ck_assert_int_eq(conn_count(), 1);
    ck_assert_int_eq(cleanups_run, 0);
    close(peer);
    peer = open("/dev/null", O_RDONLY); /* so stop() has something to close */
    run_until_closed();
    ck_assert_int_eq(cleanups_run, 1);
    stop();
}
END_TEST

START_TEST(cleanup_on_worker_shutdown)
{
    start("acquire() ngx.receive(1)", "");
    ev_run(stream_loop, EVRUN_NOWAIT);
    ck_assert_int_eq(cleanups_run, 0);
    conn_close_all();
    ck_assert_int_eq(cleanups_run, 1);
    stop();
}
END_TEST

START_TEST(removed_cleanup_does_not_run)
{
    ends_with("acquire() release() ngx.print(1)", "", 0);
}
END_TEST

START_TEST(several_ends_run_once)
{
    /* An error raised after ngx.exit was already requested cannot happen; but a client close
     * during the final flush must not end the session a second time. */
    start("acquire() ngx.print(string.rep(\"x\", 1000000))", "");
    close(peer);
    peer = open("/dev/null", O_RDONLY);
    run_until_closed();
    ck_assert_int_eq(cleanups_run, 1);
    stop();
}
END_TEST

START_TEST(idle_only_between_requests)
{
    start("ngx.receive(1) ngx.print(1) ngx.wait_next_request() ngx.receive(1)", "");
    ev_run(stream_loop, EVRUN_NOWAIT);
    ck_assert(!app->conn_idle(c)); /* waiting in receive: not idle */
    ck_assert_int_eq(write(peer, "a", 1), 1);
    for (int i = 0; i < 100 && !app->conn_idle(c); i++) ev_run(stream_loop, EVRUN_ONCE);
    ck_assert(app->conn_idle(c)); /* in wait_next_request: a stop may close it */
    char b[4];
    ck_assert_int_eq(read(peer, b, sizeof b), 1);
    stop();
}
END_TEST

START_TEST(close_lingers_until_the_peer_closes)
{
    start("ngx.print(1)", "");
    peer_expect_end("1"); /* the FIN came after the output ... */
    ck_assert_int_eq(conn_count(), 1);
    /* ... and what the peer still sends is read and dropped, not answered by a reset */
    ck_assert_int_eq(write(peer, "late", 4), 4);
    for (int i = 0; i < 20; i++) ev_run(stream_loop, EVRUN_NOWAIT);
    ck_assert_int_eq(conn_count(), 1);
    ck_assert_int_eq(cleanups_run, 0);
    run_until_closed(); /* the peer closes: the connection goes */
    stop();
}
END_TEST

#define KEEPALIVE "ngx.receive(1) ngx.print(\"a\") while true do ngx.wait_next_request() ngx.print(ngx.receive(1)) end"

START_TEST(stop_serves_an_arrived_request)
{
    start(KEEPALIVE, "");
    ck_assert_int_eq(write(peer, "x", 1), 1);
    run_until_idle();
    ck_assert_int_eq(write(peer, "yz", 2), 2); /* arrived, not read yet */
    conn_shutting_down = 1;
    conn_close_idle();
    ck_assert_int_eq(conn_count(), 1);
    ck_assert(!c->closing);
    peer_expect_end("ayz"); /* both requests served, then the session ended */
    run_until_closed();
    conn_shutting_down = 0;
    stop();
}
END_TEST

START_TEST(stop_ends_an_idle_session)
{
    start(KEEPALIVE, "");
    ck_assert_int_eq(write(peer, "x", 1), 1);
    run_until_idle();
    conn_shutting_down = 1;
    conn_close_idle();
    ck_assert(c->closing);
    peer_expect_end("a");
    run_until_closed();
    conn_shutting_down = 0;
    stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session");
    TCase *t = tcase_create("ends");
    tcase_add_test(t, cleanup_on_return);
    tcase_add_test(t, cleanup_on_lua_error);
    tcase_add_test(t, cleanup_on_exit);
    tcase_add_test(t, cleanup_on_read_timeout_return);
    tcase_add_test(t, cleanup_on_keepalive_timeout);
    tcase_add_test(t, cleanup_on_client_abort);
    tcase_add_test(t, cleanup_on_worker_shutdown);
    tcase_add_test(t, removed_cleanup_does_not_run);
    tcase_add_test(t, several_ends_run_once);
    tcase_add_test(t, idle_only_between_requests);
    tcase_add_test(t, close_lingers_until_the_peer_closes);
    tcase_add_test(t, stop_serves_an_arrived_request);
    tcase_add_test(t, stop_ends_an_idle_session);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    return check_run(sr);
}
