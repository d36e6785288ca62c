/* api_session.c: the session control family: ngx.receive, ngx.exit, ngx.sleep,
 * ngx.wait_next_request, ngx.start_time. Each follows the one yield protocol: try now,
 * else arm watchers, record the op, yield; the op's resume() pushes the results. */
#include "session_internal.h"
#include "errstr.h"
#include "api.h"
#include "clock.h"
#include "vserver.h"
#include <math.h>

/* ---- ngx.receive(total[, atleast]) ---- */

/* Pushes the requested bytes if buffered; reads more first when the kernel has some. */
static int recv_ready(conn_t *c)
{
    const char *p;
    size_t n;
    while (!recvbuf_peek(&c->in, c->want_total, c->want_atleast, &p, &n)) {
        if (c->drained) return 0;     /* the kernel had nothing more a moment ago: wait */
        ssize_t r = conn_fill(c, c->want_atleast - recvbuf_len(&c->in));
        if (r <= 0) return r < 0;     /* EOF/error: ready to report; EAGAIN: wait */
    }
    return 1;
}

static int recv_results(conn_t *c, lua_State *L)
{
    const char *p;
    size_t n;
    if (recvbuf_peek(&c->in, c->want_total, c->want_atleast, &p, &n)) {
        lua_pushlstring(L, p, n);
        recvbuf_consume(&c->in, n);
        return 1;
    }
    n = recvbuf_len(&c->in);          /* failure: hand over whatever arrived as partial */
    recvbuf_peek(&c->in, n, 0, &p, &n);
    int k = session_fail(L, c->timed_out ? ERR_TIMEOUT : c->out_err ? c->out_err : ERR_CLOSED, p, n, 1);
    recvbuf_consume(&c->in, n);
    return k;
}

static int recv_event(conn_t *c, int what)
{
    if (what == EV_TIMER) return 1;
    if (what == EV_READ) return recv_ready(c);
    return 0;
}

static const op_t op_recv = { "receive", 0, 0, recv_event, session_op_cleanup, recv_results };

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
    conn_t *c = session_conn(L);
    lua_Integer total = check_int(L, 1, 0);
    long max = c->vs->conf->s.client_max_body_size;
    if (total < 1) return luaL_argerror(L, 1, "total must be at least 1");
    if (total > max) return luaL_argerror(L, 1, lua_pushfstring(L, "total exceeds client_max_body_size %d", (int)max));
    lua_Integer atleast = check_int(L, 2, total);
    if (atleast < 1 || atleast > total) return luaL_argerror(L, 2, "atleast must be in [1, total]");
    c->want_total = (size_t)total;
    c->want_atleast = (size_t)atleast;
    c->timed_out = 0;
    if (c->out_err || c->eof || recv_ready(c)) return recv_results(c, L);
    conn_arm_read(c, 1);
    conn_arm_timer(c, conn_timeout(c->vs->conf->s.read_timeout));
    return session_yield(L, c, &op_recv);
}

/* ---- ngx.exit() ---- */

static int l_exit(lua_State *L)
{
    return session_yield(L, session_conn(L), &session_op_exit);
}

/* ---- ngx.sleep(seconds) ---- */

/* With lua_check_client_abort on, a sleeping session watches the socket: data is buffered
 * for later receives, a close ends the session at once. */
static int sleep_event(conn_t *c, int what)
{
    if (what == EV_TIMER) return 1;
    if (what != EV_READ) return 0;
    if (conn_fill(c, 1) < 0) return -1;
    if (recvbuf_len(&c->in) >= (size_t)c->vs->conf->s.client_max_body_size) conn_arm_read(c, 0);
    return 0;
}

static const op_t op_sleep = { "sleep", 0, 0, sleep_event, session_op_cleanup, session_no_results };

static int l_sleep(lua_State *L)
{
    conn_t *c = session_conn(L);
    lua_Number s = luaL_checknumber(L, 1);
    if (!(s >= 0) || s > 1e9) return luaL_argerror(L, 1, "invalid sleep duration");
    conn_arm_timer(c, (long)floor(s * 1000 + 0.5));
    if (c->vs->conf->s.lua_check_client_abort && !c->eof) conn_arm_read(c, 1);
    return session_yield(L, c, &op_sleep);
}

/* ---- ngx.wait_next_request() ---- */

void session_light_end(conn_t *c)
{
    if (!c->light_logged) accesslog_write(c);
    c->light_logged = 1;
}

/* The next light session begins when wait_next_request returns to the script. */
static void light_begin(conn_t *c)
{
    c->light_logged = 0;
    c->requests++;
    c->session_start = clock_now();
    c->bytes_sent = 0;
}

static int wait_event(conn_t *c, int what)
{
    if (what == EV_TIMER) return -1;            /* keepalive_timeout: end without resuming */
    if (what != EV_READ) return 0;
    ssize_t r = conn_fill(c, 1);
    return r > 0 ? 1 : r < 0 ? -1 : 0;
}

static int wait_resume(conn_t *c, lua_State *L) { (void)L; light_begin(c); return 0; }
static const op_t op_wait = { "wait_next_request", 1, 0, wait_event, session_op_cleanup, wait_resume };

static int l_wait_next_request(lua_State *L)
{
    conn_t *c = session_conn(L);
    session_light_end(c);       /* no flush here: pipelined requests batch their replies */
    if (recvbuf_len(&c->in) > 0) return wait_resume(c, L);
    if (c->eof || conn_shutting_down || (!c->drained && conn_fill(c, 1) < 0))
        return session_yield(L, c, &session_op_exit);
    if (recvbuf_len(&c->in) > 0) return wait_resume(c, L);
    conn_arm_read(c, 1);
    conn_arm_timer(c, conn_timeout(c->vs->conf->s.keepalive_timeout));
    return session_yield(L, c, &op_wait);
}

/* ---- ngx.start_time() ---- */

static int l_start_time(lua_State *L)
{
    lua_pushnumber(L, session_conn(L)->session_start);
    return 1;
}

void api_session_inject(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"receive", l_receive}, {"exit", l_exit}, {"sleep", l_sleep},
        {"wait_next_request", l_wait_next_request}, {"start_time", l_start_time}, {NULL, NULL},
    };
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
}
