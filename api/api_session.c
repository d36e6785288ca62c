/* api_session.c: the session control family: ngx.receive, ngx.exit, ngx.sleep,
 * ngx.wait_next_request, ngx.start_time. Each follows the one yield protocol: try now,
 * else arm watchers, record the op, yield; the op's resume() pushes the results. */
#include "session_internal.h"
#include "errstr.h"
#include "api.h"
#include "clock.h"
#include "accesslog.h"
#include <math.h>
#include <stdio.h>

/* ---- ngx.receive(total[, atleast]) ---- */

/* Pushes the requested bytes if buffered; reads more first when the kernel has some. */
static int recv_ready(session_t *ss)
{
    stream_t *s = session_stream(ss);
    const char *p;
    size_t n;
    while (!recvbuf_peek(&s->in, ss->wait.n1, ss->wait.n2, &p, &n)) {
        if (s->drained) return 0; /* the kernel had nothing more a moment ago: wait */
        ssize_t r = stream_fill(s, ss->wait.n2 - recvbuf_len(&s->in));
        if (r <= 0) return r < 0; /* EOF/error: ready to report; EAGAIN: wait */
    }
    return 1;
}

static int recv_results(session_t *ss, lua_State *L)
{
    stream_t *s = session_stream(ss);
    const char *p;
    size_t n;
    if (recvbuf_peek(&s->in, ss->wait.n1, ss->wait.n2, &p, &n)) {
        lua_pushlstring(L, p, n);
        recvbuf_consume(&s->in, n);
        return 1;
    }
    n = recvbuf_len(&s->in); /* failure: hand over whatever arrived as partial */
    recvbuf_peek(&s->in, n, 0, &p, &n);
    int k = session_fail(L, s->timed_out ? ERR_TIMEOUT : s->err ? s->err
                                                                : ERR_CLOSED,
                         p, n, 1);
    recvbuf_consume(&s->in, n);
    return k;
}

static int recv_event(session_t *ss, stream_t *src, int what)
{
    (void)src;
    if (what == SESSION_TIMEOUT) return 1;
    if (what == SESSION_READ) return recv_ready(ss);
    return 0;
}

static const wait_ops_t wait_recv = {"receive", 0, 0, recv_event, session_wait_cleanup, recv_results};

/* An integral number (1.5 is an error, not 1); `dflt` when absent or nil and dflt > 0. */
static lua_Integer check_int(lua_State *L, int arg, lua_Integer dflt)
{
    if (dflt > 0 && lua_isnoneornil(L, arg)) return dflt;
    lua_Number n = luaL_checknumber(L, arg);
    if (n != floor(n) || n < -1e15 || n > 1e15) luaL_argerror(L, arg, "integer expected");
    return (lua_Integer)n;
}

static int l_receive(lua_State *L)
{
    session_t *ss = session_get(L);
    conn_t *c = session_conn_of(ss);
    stream_t *s = &c->stream;
    lua_Integer total = check_int(L, 1, 0);
    long max = (long)s->in_max; /* client_max_body_size, at most what a receive buffer holds */
    if (total < 1) return luaL_argerror(L, 1, "total must be at least 1");
    if (total > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "total exceeds client_max_body_size %ld", max);
        return luaL_argerror(L, 1, msg);
    }
    lua_Integer atleast = check_int(L, 2, total);
    if (atleast < 1 || atleast > total) return luaL_argerror(L, 2, "atleast must be in [1, total]");
    ss->wait.n1 = (size_t)total;
    ss->wait.n2 = (size_t)atleast;
    s->timed_out = 0;
    if (s->err || s->eof || recv_ready(ss)) return recv_results(ss, L);
    stream_read(s, 1);
    stream_timer(s, conn_timeout(c->vs->conf->s.read_timeout));
    return session_yield(L, ss, &wait_recv, s);
}

/* ---- ngx.exit() ---- */

static int l_exit(lua_State *L)
{
    return session_yield(L, session_get(L), &session_wait_exit, NULL);
}

/* ---- ngx.sleep(seconds) ---- */

/* With lua_check_client_abort on, a sleeping session watches the socket: data is buffered
 * for later receives, a close ends the session at once. */
static int sleep_event(session_t *ss, stream_t *s, int what)
{
    if (what == SESSION_TIMEOUT) return 1;
    return session_client_event(ss, s, what);
}

static const wait_ops_t wait_sleep = {"sleep", 0, 0, sleep_event, session_wait_cleanup, session_no_results};

static int l_sleep(lua_State *L)
{
    session_t *ss = session_get(L);
    conn_t *c = session_conn_of(ss);
    lua_Number sec = luaL_checknumber(L, 1);
    if (!(sec >= 0) || sec > 1e9) return luaL_argerror(L, 1, "invalid sleep duration");
    /* libev counts a timer from the time its loop iteration began: after a script that ran
     * for a while (or under load) the sleep would end early by that much (SPEC sleep.ms). */
    ev_now_update(stream_loop);
    stream_timer(&c->stream, (long)floor(sec * 1000 + 0.5));
    session_watch_client(ss);
    return session_yield(L, ss, &wait_sleep, &c->stream);
}

/* ---- ngx.wait_next_request() ---- */

static int wait_event(session_t *ss, stream_t *s, int what)
{
    (void)ss;
    /* keepalive_timeout, or the client closed its side: end without resuming, but deliver
     * what the last light session printed first (a half-closed client still reads). */
    if (what == SESSION_TIMEOUT) return SESSION_FINISH;
    if (what != SESSION_READ) return 0;
    ssize_t r = stream_fill(s, 1);
    return r > 0 ? 1 : r < 0 ? SESSION_FINISH
                             : 0;
}

static int wait_resume(session_t *ss, lua_State *L)
{
    (void)L;
    session_light_begin(ss);
    return 0;
}
static const wait_ops_t wait_next = {"wait_next_request", 1, 0, wait_event, session_wait_cleanup, wait_resume};

static int l_wait_next_request(lua_State *L)
{
    session_t *ss = session_get(L);
    conn_t *c = session_conn_of(ss);
    stream_t *s = &c->stream;
    session_light_end(ss); /* no flush here: pipelined requests batch their replies */
    if (recvbuf_len(&s->in) > 0) return wait_resume(ss, L);
    /* A graceful stop serves the requests that have arrived and no later one (SPEC
     * proc.graceful.buffered): the kernel is asked even after a short read. */
    if (!s->eof && (!s->drained || conn_shutting_down)) stream_fill(s, 1);
    if (recvbuf_len(&s->in) > 0) return wait_resume(ss, L);
    if (s->eof || conn_shutting_down) return session_yield(L, ss, &session_wait_exit, NULL);
    stream_read(s, 1);
    stream_timer(s, conn_timeout(c->vs->conf->s.keepalive_timeout));
    return session_yield(L, ss, &wait_next, s);
}

/* ---- ngx.start_time() ---- */

static int l_start_time(lua_State *L)
{
    lua_pushnumber(L, session_conn_of(session_get(L))->session_start);
    return 1;
}

void api_session_inject(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"receive", l_receive},
        {"exit", l_exit},
        {"sleep", l_sleep},
        {"wait_next_request", l_wait_next_request},
        {"start_time", l_start_time},
        {NULL, NULL},
    };
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
}
