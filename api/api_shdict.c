/* api_shdict.c: ngx.shared: one table per lua_shared_dict whose methods (api/shdict.lua) call
 * the store (core/shdict.c) through LuaJIT's FFI. This file holds the C side of that FFI: the
 * exported tcplua_ffi_shdict_* functions, which add the cached clock and turn seconds into
 * milliseconds the way ngx_lua does, and the snapshot get_keys builds its table from. */
#include "api.h"
#include "clock.h"
#include "shdict.h"
#include "shm.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

extern const char tcplua_lua_shdict[]; /* api/shdict.lua, embedded by ci/lua2c.sh */
extern const size_t tcplua_lua_shdict_len;

static int64_t now_ms(void)
{
    return (int64_t)clock_time() * 1000 + clock_msec();
}

/* Milliseconds as ngx_lua passes them through a C long: truncated; below 1 ms, beyond a
 * long, inf and nan all mean "never expires". */
static int64_t ms_of(double ms)
{
    return ms >= 1 && ms < 9.2e18 ? (int64_t)ms : 0;
}

int tcplua_ffi_shdict_get(void *d, const char *key, size_t klen, int get_stale, int *type, char **str, size_t *slen,
                          double *num, int *flags, int *is_stale)
{
    uint32_t f = 0;
    int rc = shdict_get(d, key, klen, now_ms(), get_stale, type, str, slen, num, &f, is_stale);
    *flags = (int)f;
    return rc;
}

int tcplua_ffi_shdict_store(void *d, int op, const char *key, size_t klen, int type, const char *str, size_t slen,
                            double num, double exptime_ms, int flags, int *forcible)
{
    *forcible = 0;
    return shdict_store(d, op, key, klen, type, str, slen, num, (uint32_t)flags, ms_of(exptime_ms), now_ms(),
                        forcible);
}

int tcplua_ffi_shdict_incr(void *d, const char *key, size_t klen, double *value, int has_init, double init,
                           double init_ttl_ms, int *forcible)
{
    *forcible = 0;
    return shdict_incr(d, key, klen, *value, has_init, init, ms_of(init_ttl_ms), now_ms(), value, forcible);
}

int tcplua_ffi_shdict_ttl(void *d, const char *key, size_t klen, double *ttl_ms)
{
    int64_t t = 0;
    int rc = shdict_ttl(d, key, klen, now_ms(), &t);
    *ttl_ms = (double)t;
    return rc;
}

int tcplua_ffi_shdict_expire(void *d, const char *key, size_t klen, double exptime_ms)
{
    return shdict_expire(d, key, klen, ms_of(exptime_ms), now_ms());
}

double tcplua_ffi_shdict_capacity(void *d)
{
    return (double)shdict_capacity(d);
}

double tcplua_ffi_shdict_free_space(void *d)
{
    return (double)shdict_free_space(d);
}

void tcplua_ffi_shdict_flush_all(void *d)
{
    shdict_flush_all(d);
}

int tcplua_ffi_shdict_flush_expired(void *d, int max)
{
    return shdict_flush_expired(d, max < 0 ? 0 : max, now_ms());
}

int tcplua_ffi_shdict_push(void *d, const char *key, size_t klen, int left, int type, const char *str, size_t slen,
                           double num, double *len)
{
    size_t n = 0;
    int rc = shdict_push(d, key, klen, left, type, str, slen, num, now_ms(), &n);
    *len = (double)n;
    return rc;
}

int tcplua_ffi_shdict_pop(void *d, const char *key, size_t klen, int left, int *type, char **str, size_t *slen,
                          double *num)
{
    return shdict_pop(d, key, klen, left, now_ms(), type, str, slen, num);
}

int tcplua_ffi_shdict_llen(void *d, const char *key, size_t klen, double *len)
{
    size_t n = 0;
    int rc = shdict_llen(d, key, klen, now_ms(), &n);
    *len = (double)n;
    return rc;
}

/* get_keys: the keys are copied out under the store's lock into this process-local snapshot
 * (the Lua table cannot be built under the lock: it may raise), then read one by one. */
static struct {
    char *bytes;
    size_t len, cap;
    size_t *ends; /* end offset of each key in bytes */
    int n, cap_keys, failed;
} snap;

static void snap_key(void *ud, const char *key, size_t klen)
{
    (void)ud;
    if (snap.failed) return;
    if (snap.n == snap.cap_keys) {
        int cap = snap.cap_keys ? snap.cap_keys * 2 : 64;
        size_t *e = realloc(snap.ends, (size_t)cap * sizeof *e);
        if (!e) goto fail;
        snap.ends = e;
        snap.cap_keys = cap;
    }
    if (snap.len + klen > snap.cap) {
        size_t cap = snap.cap ? snap.cap : 4096;
        while (cap < snap.len + klen) cap *= 2;
        char *b = realloc(snap.bytes, cap);
        if (!b) goto fail;
        snap.bytes = b;
        snap.cap = cap;
    }
    memcpy(snap.bytes + snap.len, key, klen);
    snap.len += klen;
    snap.ends[snap.n++] = snap.len;
    return;
fail:
    snap.failed = 1;
}

int tcplua_ffi_shdict_keys(void *d, int max)
{
    snap.len = 0;
    snap.n = 0;
    snap.failed = 0;
    int rc = shdict_get_keys(d, max < 0 ? 0 : max, now_ms(), snap_key, NULL);
    return rc < 0 || snap.failed ? -1 : snap.n; /* -1: no memory for the keys */
}

int tcplua_ffi_shdict_key(void *d, int i, const char **key, size_t *klen)
{
    (void)d;
    size_t start = i > 0 ? snap.ends[i - 1] : 0;
    *key = snap.bytes + start;
    *klen = snap.ends[i] - start;
    return 0;
}

int api_shdict_inject(lua_State *L, shm_zone_t *zones)
{
    if (luaL_loadbuffer(L, tcplua_lua_shdict, tcplua_lua_shdict_len, "=shdict.lua") || lua_pcall(L, 0, 1, 0))
        return -1;
    lua_newtable(L); /* name -> store, the argument of the function shdict.lua returns */
    for (shm_zone_t *z = zones; z; z = z->next) {
        lua_pushlightuserdata(L, z->data);
        lua_setfield(L, -2, z->name);
    }
    if (lua_pcall(L, 1, 1, 0)) return -1;
    lua_setfield(L, -2, "shared");
    return 0;
}
