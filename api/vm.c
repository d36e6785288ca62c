/* vm.c: the worker's Lua VM: created per configuration with ngx.* injected, package paths
 * and init_by_lua run; kept beside the previous one until a reload commits, so a reload
 * that fails later leaves the old VM serving; each server's compiled script; and the
 * fresh closure with its own globals that every session runs. */
#include "vm.h"
#include "session_load.h"
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>

static lua_State *VM, *prev_vm; /* prev_vm: kept until a reload commits */
static int env_mt_ref = LUA_NOREF, prev_mt_ref = LUA_NOREF;

lua_State *vm_main(void)
{
    return VM;
}

static int env_metatable(lua_State *L)
{
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int run_init(lua_State *L, main_conf_t *m, char *err, size_t errlen)
{
    if (!m->tcp || !m->tcp->init) return 0;
    if (vm_load_init(L, m->tcp->init, err, errlen)) return -1;
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
 * vm_cycle_commit() or restored by vm_cycle_rollback(), so a reload that fails later
 * (a script that does not compile) leaves the old configuration's VM serving. */
int vm_cycle_init(main_conf_t *m, int (*inject)(lua_State *L), char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    if (!L) return snprintf(err, errlen, "failed to create the Lua VM"), -1;
    luaL_openlibs(L);
    vm_set_paths(L, m);
    lua_pushnil(L); /* coroutines of its own would break the one yield protocol */
    lua_setglobal(L, "coroutine");
    lua_getglobal(L, "package"); /* nor through require "coroutine" */
    lua_getfield(L, -1, "loaded");
    lua_pushnil(L);
    lua_setfield(L, -2, "coroutine");
    lua_pop(L, 2);
    lua_createtable(L, 0, 64);
    if (inject(L)) {
        snprintf(err, errlen, "failed to set up the ngx API: %s", lua_tostring(L, -1));
        lua_close(L);
        return -1;
    }
    lua_setglobal(L, "ngx");
    int mt = env_metatable(L);
    if (run_init(L, m, err, errlen)) {
        lua_close(L);
        return -1;
    }
    vm_cycle_commit();
    prev_vm = VM;
    prev_mt_ref = env_mt_ref;
    VM = L;
    env_mt_ref = mt;
    return 0;
}

void vm_cycle_commit(void)
{
    if (prev_vm) lua_close(prev_vm);
    prev_vm = NULL;
}

void vm_cycle_rollback(void)
{
    if (VM) lua_close(VM); /* at first start there is no previous VM: none is current */
    VM = prev_vm;
    env_mt_ref = prev_mt_ref;
    prev_vm = NULL;
}

int vm_server_init(vserver_t *vs, char *err, size_t errlen)
{
    vs->app_ref = LUA_NOREF;
    if (!vs->conf->s.lua_code_cache)
        log_write(&vs->log, LOG_ALERT, 0, NULL, "lua_code_cache is off; this will hurt performance");
    if (vm_load_conf_chunk(VM, vs->conf->s.process, 1, err, errlen)) return -1;
    if (!vs->conf->s.lua_code_cache) { /* read per connection, but a reload checks it too */
        lua_pop(VM, 1);
        return 0;
    }
    vs->app_ref = luaL_ref(VM, LUA_REGISTRYINDEX);
    return 0;
}

void vm_cycle_close(void)
{
    vm_cycle_commit();
    if (VM) lua_close(VM);
    VM = NULL;
}

int vm_push_session_fn(conn_t *c)
{
    vserver_t *vs = c->vs;
    char err[1024];
    if (vs->app_ref != LUA_NOREF) lua_rawgeti(VM, LUA_REGISTRYINDEX, vs->app_ref);
    else if (vm_load_chunk(VM, vs->conf->s.process, 1, err, sizeof err)) {
        conn_log(c, LOG_ERR, "%s", err);
        return -1;
    }
    if (lua_pcall(VM, 0, 1, 0) != 0) { /* the factory returns a fresh closure */
        conn_log(c, LOG_ERR, "failed to create the session closure: %s", lua_tostring(VM, -1));
        lua_pop(VM, 1);
        return -1;
    }
    lua_createtable(VM, 0, 0); /* per-session globals falling back to _G */
    lua_rawgeti(VM, LUA_REGISTRYINDEX, env_mt_ref);
    lua_setmetatable(VM, -2);
    lua_setfenv(VM, -2);
    return 0;
}
