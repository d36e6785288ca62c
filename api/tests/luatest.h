/* luatest.h: the small Lua harness shared by the api/ unit tests: one bare Lua state with
 * the families under test injected into `ngx`, an evaluator, and error assertions. */
#ifndef TCPLUA_LUATEST_H
#define TCPLUA_LUATEST_H
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <lualib.h>
#include "api.h"

static lua_State *L;

/* A fresh state whose `ngx` table holds what inject() puts there. */
static void luatest_open(void (*inject)(lua_State *))
{
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    inject(L);
    lua_setglobal(L, "ngx");
}

/* Runs a chunk; returns tostring() of its first result, or "ERR: msg" if it raised. */
static const char *eval(const char *chunk)
{
    static char out[1024];
    int top = lua_gettop(L);

    if (luaL_loadstring(L, chunk) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
        snprintf(out, sizeof out, "ERR: %s", lua_tostring(L, -1));
    } else {
        lua_getglobal(L, "tostring");
        lua_insert(L, -2);
        lua_call(L, 1, 1);
        snprintf(out, sizeof out, "%s", lua_tostring(L, -1));
    }
    lua_settop(L, top);
    return out;
}

#define ck_eval(chunk, want) ck_assert_str_eq(eval(chunk), want)

/* Asserts that `call` raised an error whose message ends with `want` (LuaJIT puts the
 * caller's "chunk:line: " first). Not a tail call: Lua names the function in argument
 * errors only while the caller's frame exists; a tail call reports '?'. */
static void ck_raises_at(const char *call, const char *want, int line)
{
    char chunk[256];
    const char *got;
    size_t gl, wl = strlen(want);

    snprintf(chunk, sizeof chunk, "local r = %s return r", call);
    got = eval(chunk);
    gl = strlen(got);
    ck_assert_msg(strncmp(got, "ERR: ", 5) == 0 && gl >= wl && strcmp(got + gl - wl, want) == 0,
                  "line %d: %s -> \"%s\", want suffix \"%s\"", line, call, got, want);
}
#define ck_raises(call, want) ck_raises_at(call, want, __LINE__)
#endif
