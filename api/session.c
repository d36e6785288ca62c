/* session.c: the Lua side of a connection: the worker's VM, loading chunks as closure
 * factories, one coroutine per connection with its own globals, the yield/resume protocol
 * and the end of a session (flush, then close). */
#include "session_internal.h"
#include "session.h"
#include "api.h"
#include "clock.h"
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *VM, *prev_vm;     /* prev_vm: kept until a reload commits */
static int env_mt_ref = LUA_NOREF, prev_mt_ref = LUA_NOREF;

int vm_load_chunk(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen);  /* session_load.c */
int vm_set_paths(lua_State *L, main_conf_t *m);                                                    /* session_load.c */

conn_t *session_conn_opt(lua_State *L)
{
    return lua_getexdata(L);
}

conn_t *session_conn(lua_State *L)
{
    conn_t *c = lua_getexdata(L);
    if (!c) luaL_error(L, "API disabled in the context of init_by_lua*");
    return c;
}

int session_yield(lua_State *L, conn_t *c, const op_t *op)
{
    c->op = op;
    c->timed_out = 0;
    return lua_yield(L, 0);
}

void session_op_cleanup(conn_t *c)
{
    conn_arm_read(c, 0);
    conn_arm_timer(c, -1);
}

int session_fail(lua_State *L, const char *err, const char *partial, size_t plen, int with_partial)
{
    lua_pushnil(L);
    lua_pushstring(L, err);
    if (!with_partial) return 2;
    lua_pushlstring(L, partial ? partial : "", plen);
    return 3;
}

int session_no_results(conn_t *c, lua_State *L) { (void)c; (void)L; return 0; }
static int exit_event(conn_t *c, int what) { (void)c; (void)what; return 0; }
const op_t session_op_exit = { "exit", 0, 0, exit_event, NULL, session_no_results };

static int env_metatable(lua_State *L)
{
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int run_init(lua_State *L, main_conf_t *m, char *err, size_t errlen)
{
    char msg[1024];
    if (!m->tcp || !m->tcp->init) return 0;
    if (vm_load_chunk(L, m->tcp->init, 0, msg, sizeof msg))
        return snprintf(err, errlen, "init_by_lua error: %s", msg), -1;
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "traceback");
    lua_remove(L, -2);
    lua_insert(L, -2);
    if (lua_pcall(L, 0, 0, -2) != 0) {
        snprintf(err, errlen, "init_by_lua error: %s", lua_tostring(L, -1));
        lua_pop(L, 2);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

/* Builds a complete VM for m and makes it current; the previous one is kept until
 * session_vm_commit() or restored by session_vm_rollback(), so a reload that fails later
 * (a script that does not compile) leaves the old configuration's VM serving. */
int session_vm_init(main_conf_t *m, char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    if (!L) return snprintf(err, errlen, "failed to create the Lua VM"), -1;
    luaL_openlibs(L);
    vm_set_paths(L, m);
    lua_pushnil(L);             /* coroutines of its own would break the one yield protocol */
    lua_setglobal(L, "coroutine");
    lua_createtable(L, 0, 64);
    api_output_inject(L);
    api_session_inject(L);
    api_log_inject(L);
    api_time_inject(L);
    api_string_inject(L);
    lua_setglobal(L, "ngx");
    int mt = env_metatable(L);
    if (run_init(L, m, err, errlen)) { lua_close(L); return -1; }
    session_vm_commit();
    prev_vm = VM;
    prev_mt_ref = env_mt_ref;
    VM = L;
    env_mt_ref = mt;
    return 0;
}

void session_vm_commit(void)
{
    if (prev_vm) lua_close(prev_vm);
    prev_vm = NULL;
}

void session_vm_rollback(void)
{
    if (VM) lua_close(VM);     /* at first start there is no previous VM: none is current */
    VM = prev_vm;
    env_mt_ref = prev_mt_ref;
    prev_vm = NULL;
}

int session_server_init(vserver_t *vs, char *err, size_t errlen)
{
    vs->chunk_ref = LUA_NOREF;
    if (!vs->conf->s.lua_code_cache) {
        log_write(&vs->log, LOG_ALERT, 0, NULL, "lua_code_cache is off; this will hurt performance");
        return 0;
    }
    if (vm_load_chunk(VM, vs->conf->s.process, 1, err, errlen)) return -1;
    vs->chunk_ref = luaL_ref(VM, LUA_REGISTRYINDEX);
    return 0;
}

void session_vm_close(void)
{
    session_vm_commit();
    if (VM) lua_close(VM);
    VM = NULL;
}

void session_release(conn_t *c)
{
    if (!c->co) return;
    lua_setexdata(c->co, NULL);
    luaL_unref(VM, LUA_REGISTRYINDEX, c->co_ref);
    c->co = NULL;
}

/* Flushes what the script printed, then closes; waits (send_timeout) if the kernel is full. */
static void finish(conn_t *c)
{
    session_light_end(c);
    session_release(c);
    c->op = NULL;
    c->finishing = 1;
    conn_arm_read(c, 0);
    if (conn_flush(c) == 1) { conn_arm_timer(c, conn_timeout(c->vs->conf->s.send_timeout)); return; }
    conn_close(c);
}

static void log_lua_error(conn_t *c, int status)
{
    const char *msg = lua_tostring(c->co, -1);
    luaL_traceback(VM, c->co, msg ? msg : "(error object is not a string)", 0);
    conn_log(c, LOG_ERR, "lua session aborted: %s error: %s",
             status == LUA_ERRMEM ? "memory" : "runtime", lua_tostring(VM, -1));
    lua_pop(VM, 1);
}

static void resume(conn_t *c, int nargs)
{
    int status = lua_resume(c->co, nargs);
    if (status == LUA_YIELD && c->op && c->op != &session_op_exit) {
        /* The one write per batch: everything printed since the last wait. If it drained
         * the queue, no EV_WRITE will come for an op waiting on that: post one. */
        if (conn_flush(c) != 1 && c->op->on_write) ev_feed_event(conn_loop, &c->wio, EV_WRITE);
        return;
    }
    if (status == LUA_YIELD && !c->op)
        conn_log(c, LOG_ERR, "lua session aborted: unexpected yield outside the ngx API");
    else if (status != 0 && status != LUA_YIELD)
        log_lua_error(c, status);
    finish(c);
}

static int push_closure(conn_t *c)
{
    vserver_t *vs = c->vs;
    char err[1024];
    if (vs->chunk_ref != LUA_NOREF) lua_rawgeti(VM, LUA_REGISTRYINDEX, vs->chunk_ref);
    else if (vm_load_chunk(VM, vs->conf->s.process, 1, err, sizeof err)) {
        conn_log(c, LOG_ERR, "%s", err);
        return -1;
    }
    if (lua_pcall(VM, 0, 1, 0) != 0) {       /* the factory returns a fresh closure */
        conn_log(c, LOG_ERR, "failed to create the session closure: %s", lua_tostring(VM, -1));
        lua_pop(VM, 1);
        return -1;
    }
    lua_createtable(VM, 0, 0);               /* per-session globals falling back to _G */
    lua_rawgeti(VM, LUA_REGISTRYINDEX, env_mt_ref);
    lua_setmetatable(VM, -2);
    lua_setfenv(VM, -2);
    return 0;
}

void session_start(conn_t *c)
{
    c->co = lua_newthread(VM);
    c->co_ref = luaL_ref(VM, LUA_REGISTRYINDEX);
    lua_setexdata(c->co, c);
    c->requests = 1;
    c->session_start = clock_now();
    if (push_closure(c)) { conn_close(c); return; }
    lua_xmove(VM, c->co, 1);
    resume(c, 0);
}

void session_on_event(conn_t *c, int what)
{
    if (c->finishing) {
        if (what != EV_WRITE || conn_flush(c) != 1) conn_close(c);
        return;
    }
    if (what == EV_WRITE) conn_flush(c);
    if (what == EV_TIMER) c->timed_out = 1;
    if (!c->op) return;
    int r = c->op->event(c, what);
    if (r == 0) return;
    const op_t *op = c->op;
    if (op->cleanup) op->cleanup(c);
    c->op = NULL;
    if (r < 0) { conn_close(c); return; }
    resume(c, op->resume(c, c->co));
}
