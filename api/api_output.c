/* api_output.c: ngx.print and ngx.say. Output is queued and written with one send when
 * the coroutine next suspends; past OUT_HIGH bytes the call flushes at once and, if the
 * kernel is still full, waits (send_timeout) instead of dropping data as the 2015 module did. */
#include "session_internal.h"
#include "errstr.h"
#include "api.h"
#include <string.h>

#define OUT_HIGH (64 * 1024)
#define MAX_DEPTH 100 /* nested tables; deeper is almost surely a cycle */

static int type_error(lua_State *L, const char *fn, int arg, int idx)
{
    return luaL_error(L, "bad argument #%d to '%s' (string, number, boolean, nil, ngx.null, "
                         "or array table expected, got %s)",
                      arg, fn, luaL_typename(L, idx));
}

/* Appends the text of the value at idx (arrays recurse in order 1..n) and counts its bytes;
 * with out == NULL it only checks the types, so a bad argument raises before anything of
 * the call is queued. */
void api_put(lua_State *L, stream_t *out, const char *fn, int idx, int arg, int depth, size_t *bytes)
{
    size_t n;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: s = lua_tolstring(L, idx, &n); break;
    case LUA_TNIL:
        s = "nil";
        n = 3;
        break;
    case LUA_TBOOLEAN:
        s = lua_toboolean(L, idx) ? "true" : "false";
        n = strlen(s);
        break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != NULL) type_error(L, fn, arg, idx);
        s = "null";
        n = 4;
        break;
    case LUA_TTABLE: {
        if (depth >= MAX_DEPTH) luaL_error(L, "bad argument #%d to '%s' (table nested too deeply)", arg, fn);
        int len = (int)lua_objlen(L, idx);
        for (int i = 1; i <= len; i++) {
            lua_rawgeti(L, idx, i);
            api_put(L, out, fn, lua_gettop(L), arg, depth + 1, bytes);
            lua_pop(L, 1);
        }
        return;
    }
    default:
        type_error(L, fn, arg, idx);
        return;
    }
    if (out && stream_write(out, s, n)) luaL_error(L, ERR_NOMEM);
    *bytes += n;
}

static int out_wait_event(session_t *ss, stream_t *s, int what)
{
    if (what == SESSION_TIMEOUT && !s->err) s->err = ERR_TIMEOUT;
    if (what == SESSION_TIMEOUT) return 1;
    if (what != SESSION_WRITE) return 0;
    if (stream_queued(s) < OUT_HIGH || s->err) return 1;
    /* As nginx, send_timeout bounds the time between two writes, not the whole wait. */
    stream_timer(s, conn_timeout(session_conn_of(ss)->vs->conf->s.send_timeout));
    return 0;
}

/* print's results: the bytes this call queued (wait.n1), or nil, err. */
static int out_results(session_t *ss, lua_State *L)
{
    stream_t *s = session_stream(ss);
    if (s->err) return session_fail(L, s->err, NULL, 0, 0);
    lua_pushinteger(L, (lua_Integer)ss->wait.n1);
    lua_pushliteral(L, "ok");
    return 2;
}

static void out_wait_cleanup(session_t *ss) { stream_timer(session_stream(ss), -1); }
static const wait_ops_t wait_out = {"print", 0, 1, out_wait_event, out_wait_cleanup, out_results};

static int output(lua_State *L, int newline)
{
    session_t *ss = session_get(L);
    conn_t *c = session_conn_of(ss);
    stream_t *s = &c->stream;
    const char *fn = newline ? "say" : "print";
    int top = lua_gettop(L);
    size_t bytes = 0;
    for (int i = 1; i <= top; i++) api_put(L, NULL, fn, i, i, 0, &bytes);
    if (s->err) return session_fail(L, s->err, NULL, 0, 0);
    bytes = 0;
    for (int i = 1; i <= top; i++) api_put(L, s, fn, i, i, 0, &bytes);
    if (newline) {
        if (stream_write(s, "\n", 1)) return luaL_error(L, ERR_NOMEM);
        bytes++;
    }
    c->bytes_sent += bytes;
    ss->wait.n1 = bytes;
    if (stream_queued(s) >= OUT_HIGH && stream_flush(s) == 1 && stream_queued(s) >= OUT_HIGH) {
        stream_timer(s, conn_timeout(c->vs->conf->s.send_timeout));
        return session_yield(L, ss, &wait_out, s);
    }
    return out_results(ss, L);
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
