/* api_time.c: the ngx.* time family (time, now, utctime, localtime, today, tcp_time,
 * parse_tcp_time, update_time): the clock readers use the cached clock of core/clock.c,
 * tcp_time and parse_tcp_time the HTTP-date code of core/httptime.c. */
#include "api.h"
#include "clock.h"
#include "httptime.h"

#include <math.h>

static int ngx_time(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock_time());
    return 1;
}

static int ngx_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock_now());
    return 1;
}

static int ngx_utctime(lua_State *L)
{
    lua_pushstring(L, clock_utc_str());
    return 1;
}

static int ngx_localtime(lua_State *L)
{
    lua_pushstring(L, clock_local_str());
    return 1;
}

/* The date is the first ten bytes ("yyyy-mm-dd") of the cached local time text. */
static int ngx_today(lua_State *L)
{
    lua_pushlstring(L, clock_local_str(), 10);
    return 1;
}

/* Fractions are floored, not truncated: -0.5 lies in the second 1969-12-31 23:59:59.
 * The negated range test also rejects NaN. */
static int ngx_tcp_time(lua_State *L)
{
    double t = floor(luaL_checknumber(L, 1));
    char buf[HTTPTIME_LEN + 1];

    if (!(t >= (double)HTTPTIME_MIN && t <= (double)HTTPTIME_MAX))
        return luaL_argerror(L, 1, "time out of range");
    lua_pushlstring(L, buf, httptime_format((int64_t)t, buf));
    return 1;
}

/* Malformed input is data, not misuse: it returns nil rather than raising. */
static int ngx_parse_tcp_time(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int64_t sec;

    if (httptime_parse(s, len, &sec) != 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, (lua_Number)sec);
    return 1;
}

static int ngx_update_time(lua_State *L)
{
    (void)L;
    clock_update();
    return 0;
}

void api_time_inject(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"time", ngx_time},
        {"now", ngx_now},
        {"utctime", ngx_utctime},
        {"localtime", ngx_localtime},
        {"today", ngx_today},
        {"tcp_time", ngx_tcp_time},
        {"parse_tcp_time", ngx_parse_tcp_time},
        {"update_time", ngx_update_time},
        {NULL, NULL},
    };

    for (const luaL_Reg *r = funcs; r->name != NULL; r++) {
        lua_pushcfunction(L, r->func); /* ngx, f */
        lua_setfield(L, -2, r->name);  /* ngx */
    }
}
