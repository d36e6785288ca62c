/* api_log.c: ngx.log, the log level constants, the global print (NOTICE), and the
 * constants ngx.OK/AGAIN/DONE/DECLINED/ERROR and ngx.null. */
#include "session_internal.h"
#include "api.h"
#include <stdio.h>
#include <string.h>

/* Joins args from..top into one string on the stack, as ngx_lua does. */
static void join_args(lua_State *L, int from, const char *fname)
{
    luaL_Buffer b;
    int top = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = from; i <= top; i++) {
        switch (lua_type(L, i)) {
        case LUA_TNIL: luaL_addstring(&b, "nil"); break;
        case LUA_TBOOLEAN: luaL_addstring(&b, lua_toboolean(L, i) ? "true" : "false"); break;
        case LUA_TSTRING:
        case LUA_TNUMBER:
            lua_pushvalue(L, i);
            luaL_addvalue(&b);
            break;
        case LUA_TLIGHTUSERDATA:
            if (lua_touserdata(L, i) == NULL) {
                luaL_addstring(&b, "null");
                break;
            }
            /* fall through */
        default:
            if (!luaL_callmeta(L, i, "__tostring") || !lua_isstring(L, -1))
                luaL_error(L, "bad argument #%d to '%s' (expected table to have __tostring metamethod)",
                           i, fname);
            luaL_addvalue(&b);
        }
    }
    luaL_pushresult(&b);
}

/* Logs the joined message on top of the stack; escaped here, with its length, because a NUL
 * from a client would otherwise cut it (the log escapes the other control bytes). */
static void emit(lua_State *L, int level)
{
    lua_Debug ar;
    char where[256] = "", msg[4096];
    size_t len;
    const char *raw = lua_tolstring(L, -1, &len);
    log_escape(msg, sizeof msg, raw, len);
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        snprintf(where, sizeof where, "%s:%d: ", ar.short_src, ar.currentline);
    session_t *ss = session_get_opt(L);
    if (ss) conn_log(session_conn_of(ss), level, "[lua] %s%s", where, msg);
    else log_write(&log_main, level, 0, NULL, "[lua] %s%s", where, msg);
}

static int l_log(lua_State *L)
{
    lua_Integer level = luaL_checkinteger(L, 1);
    if (level < LOG_STDERR || level > LOG_DEBUG) {
        /* lua_pushfstring's %d takes an int: 2^32 + 4 would read "bad log level: 4". */
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long)level);
        return luaL_error(L, "bad log level: %s", n);
    }
    join_args(L, 2, "log");
    emit(L, (int)level);
    return 0;
}

static int l_print(lua_State *L)
{
    join_args(L, 1, "print");
    emit(L, LOG_NOTICE);
    return 0;
}

void api_log_inject(lua_State *L)
{
    static const struct {
        const char *name;
        int value;
    } consts[] = {
        {"STDERR", LOG_STDERR},
        {"EMERG", LOG_EMERG},
        {"ALERT", LOG_ALERT},
        {"CRIT", LOG_CRIT},
        {"ERR", LOG_ERR},
        {"WARN", LOG_WARN},
        {"NOTICE", LOG_NOTICE},
        {"INFO", LOG_INFO},
        {"DEBUG", LOG_DEBUG},
        {"OK", 0},
        {"ERROR", -1},
        {"AGAIN", -2},
        {"DONE", -4},
        {"DECLINED", -5},
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
        lua_pushinteger(L, consts[i].value);
        lua_setfield(L, -2, consts[i].name);
    }
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, l_log);
    lua_setfield(L, -2, "log");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
}
