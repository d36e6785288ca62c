/* session.c: the Lua side of a connection: one coroutine per connection, the one yield
 * protocol (a wait record per session; events from the streams it waits on; the resume
 * driver that flushes once per batch), and the end of a session, the same on every path:
 * normal return, Lua error, ngx.exit, client abort, worker shutdown. */
#include "session_internal.h"
#include "session.h"
#include "vm.h"
#include "clock.h"
#include "accesslog.h"

/* The session whose coroutine is running. Not a pointer kept in the coroutine: a coroutine
 * that a script made some other way (and kept past its session's end) must not lead an API
 * call to a session that is gone; only the coroutine that run() resumed has a session. */
static session_t *running;

/* Disarms whatever the session waits for (nothing when it waits for nothing). */
static void wait_clear(session_t *ss)
{
    const wait_ops_t *ops = ss->wait.ops;
    ss->wait.ops = NULL;
    if (ops && ops->cleanup) ops->cleanup(ss);
}

session_t *session_get_opt(lua_State *L)
{
    return running && running->co == L ? running : NULL;
}

session_t *session_get(lua_State *L)
{
    session_t *ss = session_get_opt(L);
    if (!ss) luaL_error(L, "API disabled in the context of init_by_lua*");
    /* While the script runs it waits for nothing, unless a call armed a wait and then could
     * not yield (across a C function: a table.sort comparator) and the script caught that
     * error: disarm it before the next call, or its watchers would fire for nobody. */
    wait_clear(ss);
    return ss;
}

int session_yield(lua_State *L, session_t *ss, const wait_ops_t *ops, void *obj)
{
    ss->wait.ops = ops;
    ss->wait.obj = obj;
    return lua_yield(L, 0);
}

void session_wait_cleanup(session_t *ss)
{
    stream_t *s = session_stream(ss);
    stream_read(s, 0);
    stream_timer(s, -1);
}

int session_fail(lua_State *L, const char *err, const char *partial, size_t plen, int with_partial)
{
    lua_pushnil(L);
    lua_pushstring(L, err);
    if (!with_partial) return 2;
    lua_pushlstring(L, partial ? partial : "", plen);
    return 3;
}

void session_cleanup_add(session_t *ss, session_cleanup_t *cl)
{
    cl->next = ss->cleanups;
    ss->cleanups = cl;
}

void session_cleanup_remove(session_t *ss, session_cleanup_t *cl)
{
    for (session_cleanup_t **p = &ss->cleanups; *p; p = &(*p)->next)
        if (*p == cl) {
            *p = cl->next;
            return;
        }
}

int session_no_results(session_t *ss, lua_State *L)
{
    (void)ss;
    (void)L;
    return 0;
}

static int exit_event(session_t *ss, stream_t *src, int what)
{
    (void)ss;
    (void)src;
    (void)what;
    return 0;
}

const wait_ops_t session_wait_exit = {"exit", 0, 0, exit_event, NULL, session_no_results};

/* Ends the wait: disarms it and pushes its results. */
static int wake(session_t *ss)
{
    const wait_ops_t *ops = ss->wait.ops;
    wait_clear(ss);
    return ops->resume(ss, ss->co);
}

/* The one end path (app.h conn_end): runs once, whatever ended the session. */
void session_end(conn_t *c)
{
    session_t *ss = session_of(c);
    if (!ss->co) return; /* never started (refused by allow/deny) or already ended */
    wait_clear(ss);
    session_light_end(ss);
    while (ss->cleanups) {
        session_cleanup_t *cl = ss->cleanups;
        ss->cleanups = cl->next;
        cl->fn(cl, ss);
    }
    luaL_unref(vm_main(), LUA_REGISTRYINDEX, ss->co_ref);
    ss->co = NULL;
}

/* The error and its traceback as one escaped line. The message is taken with its length and
 * the traceback made without it: luaL_traceback would cut the message at a NUL, and a client's
 * NUL must not hide the rest of the text (SPEC errlog.escape). */
static void log_lua_error(session_t *ss, int status)
{
    lua_State *L = vm_main();
    size_t len;
    const char *msg = lua_isstring(ss->co, -1) ? lua_tolstring(ss->co, -1, &len) : NULL;
    if (msg) lua_pushlstring(L, msg, len);
    else lua_pushliteral(L, "(error object is not a string)");
    lua_pushliteral(L, "\n");
    luaL_traceback(L, ss->co, NULL, 0);
    lua_concat(L, 3);
    const char *text = lua_tolstring(L, -1, &len);
    char esc[4096];
    log_escape(esc, sizeof esc, text, len);
    conn_log(session_conn_of(ss), LOG_ERR, "lua session aborted: %s error: %s",
             status == LUA_ERRMEM ? "memory" : "runtime", esc);
    lua_pop(L, 1);
}

/* Runs the coroutine until it waits or ends. After each yield, everything printed since
 * the last wait goes out in one write; a wait for the queue to drain that this very flush
 * satisfied gets no EV_WRITE, so it is asked here and resumed at once. */
static void run(session_t *ss, int nargs)
{
    conn_t *c = session_conn_of(ss);
    for (;;) {
        session_t *outer = running;
        running = ss;
        int status = lua_resume(ss->co, nargs);
        running = outer;
        const wait_ops_t *ops = ss->wait.ops;
        if (status == LUA_YIELD && ops && ops != &session_wait_exit) {
            if (stream_flush(&c->stream) == 1 || !ops->on_write) return;
            if (ops->event(ss, &c->stream, SESSION_WRITE) == 0) return;
            nargs = wake(ss);
            continue;
        }
        if (status == LUA_YIELD && !ops)
            conn_log(c, LOG_ERR, "lua session aborted: unexpected yield outside the ngx API");
        else if (status != 0 && status != LUA_YIELD)
            log_lua_error(ss, status);
        conn_finish(c); /* ends the session (session_end), flushes, closes */
        return;
    }
}

/* An event of a stream the session waits on. */
void session_event(session_t *ss, stream_t *src, int what)
{
    const wait_ops_t *ops = ss->wait.ops;
    if (!ops) return;
    int r = ops->event(ss, src, what);
    if (r == 0) return;
    if (r == SESSION_FINISH) {
        conn_finish(session_conn_of(ss));
        return;
    }
    if (r < 0) {
        conn_close(session_conn_of(ss));
        return;
    }
    run(ss, wake(ss));
}

int session_client_event(session_t *ss, stream_t *s, int what)
{
    (void)ss;
    if (what != SESSION_READ) return 0;
    if (stream_fill(s, 1) < 0) return SESSION_ABORT;
    if (recvbuf_len(&s->in) >= s->in_max) stream_read(s, 0); /* full: stop watching */
    return 0;
}

void session_watch_client(session_t *ss)
{
    conn_t *c = session_conn_of(ss);
    if (c->vs->conf->s.lua_check_client_abort && !c->stream.eof) stream_read(&c->stream, 1);
}

static void client_read(stream_t *s) { session_event(session_of(s->data), s, SESSION_READ); }
static void client_write(stream_t *s) { session_event(session_of(s->data), s, SESSION_WRITE); }
static void client_timeout(stream_t *s) { session_event(session_of(s->data), s, SESSION_TIMEOUT); }
static const stream_handler_t client_handler = {client_read, client_write, client_timeout};

void session_start(conn_t *c)
{
    session_t *ss = session_of(c);
    lua_State *L = vm_main();
    c->stream.h = &client_handler;
    ss->co = lua_newthread(L);
    ss->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    c->requests = 1;
    c->session_start = clock_now();
    if (vm_push_session_fn(c)) {
        conn_close(c);
        return;
    }
    lua_xmove(L, ss->co, 1);
    run(ss, 0);
}

int session_idle(const conn_t *c)
{
    const session_t *ss = (const session_t *)c->app;
    return ss->wait.ops && ss->wait.ops->idle;
}
