/* api_output.c: ngx.print and ngx.say. Output is queued and written with one send when
 * the coroutine next suspends; past OUT_HIGH bytes the call flushes at once and, if the
 * kernel is still full, waits (send_timeout) instead of dropping data as the 2015 module did. */
#include "session_internal.h"
#include "errstr.h"
#include "api.h"
#include <string.h>

#define OUT_HIGH (64 * 1024)
#define MAX_DEPTH 100          /* nested tables; deeper is almost surely a cycle */

static int type_error(lua_State *L, const char *fn, int arg, int idx)
{
    return luaL_error(L, "bad argument #%d to '%s' (string, number, boolean, nil, ngx.null, "
                      "or array table expected, got %s)", arg, fn, luaL_typename(L, idx));
}

/* Appends the text of the value at idx (arrays recurse in order 1..n) and counts its bytes;
 * with c == NULL it only checks the types, so a bad argument raises before anything of
 * the call is queued. */
static void put(lua_State *L, conn_t *c, const char *fn, int idx, int arg, int depth, size_t *bytes)
{
    size_t n;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: case LUA_TNUMBER: s = lua_tolstring(L, idx, &n); break;
    case LUA_TNIL: s = "nil"; n = 3; break;
    case LUA_TBOOLEAN: s = lua_toboolean(L, idx) ? "true" : "false"; n = strlen(s); break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != NULL) type_error(L, fn, arg, idx);
        s = "null"; n = 4; break;
    case LUA_TTABLE: {
        if (depth >= MAX_DEPTH) luaL_error(L, "bad argument #%d to '%s' (table nested too deeply)", arg, fn);
        int len = (int)lua_objlen(L, idx);
        for (int i = 1; i <= len; i++) {
            lua_rawgeti(L, idx, i);
            put(L, c, fn, lua_gettop(L), arg, depth + 1, bytes);
            lua_pop(L, 1);
        }
        return;
    }
    default:
        type_error(L, fn, arg, idx);
        return;
    }
    if (c && conn_out_append(c, s, n)) luaL_error(L, ERR_NOMEM);
    *bytes += n;
}

static int out_wait_event(conn_t *c, int what)
{
    if (what == EV_TIMER) { c->out_err = ERR_TIMEOUT; return 1; }
    return what == EV_WRITE && (c->out.len < OUT_HIGH || c->out_err);
}

static int out_wait_resume(conn_t *c, lua_State *L)
{
    if (c->out_err) return session_fail(L, c->out_err, NULL, 0, 0);
    lua_pushinteger(L, (lua_Integer)c->want_total);
    lua_pushliteral(L, "ok");
    return 2;
}

static void out_wait_cleanup(conn_t *c) { conn_arm_timer(c, -1); }
static const op_t op_out_wait = { "print", 0, 1, out_wait_event, out_wait_cleanup, out_wait_resume };

static int output(lua_State *L, int newline)
{
    conn_t *c = session_conn(L);
    const char *fn = newline ? "say" : "print";
    int top = lua_gettop(L);
    size_t bytes = 0;
    for (int i = 1; i <= top; i++) put(L, NULL, fn, i, i, 0, &bytes);
    if (c->out_err) return session_fail(L, c->out_err, NULL, 0, 0);
    bytes = 0;
    for (int i = 1; i <= top; i++) put(L, c, fn, i, i, 0, &bytes);
    if (newline) {
        if (conn_out_append(c, "\n", 1)) return luaL_error(L, ERR_NOMEM);
        bytes++;
    }
    c->bytes_sent += bytes;
    c->want_total = bytes;
    if (c->out.len >= OUT_HIGH && conn_flush(c) == 1 && c->out.len >= OUT_HIGH) {
        conn_arm_timer(c, conn_timeout(c->vs->conf->s.send_timeout));
        return session_yield(L, c, &op_out_wait);
    }
    if (c->out_err) return session_fail(L, c->out_err, NULL, 0, 0);
    return out_wait_resume(c, L);
}

static int l_print(lua_State *L) { return output(L, 0); }
static int l_say(lua_State *L) { return output(L, 1); }

void api_output_inject(lua_State *L)
{
    lua_pushcfunction(L, l_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, l_say);
    lua_setfield(L, -2, "say");
}
