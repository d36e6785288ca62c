/* shdict.h: the store behind ngx.shared.DICT: a dictionary of keys to nil/boolean/number/
 * string/list values with user flags, millisecond expiry and LRU eviction, living entirely in
 * one shared-memory zone so that every worker mapping the zone sees the same dictionary.
 *
 * No Lua here. The functions are shaped for a LuaJIT FFI binding, as ngx_lua's
 * ngx_http_lua_ffi_shdict_* are, and reproduce the semantics of ngx_lua 0.10.23 (its C half,
 * ngx_http_lua_shdict.c, and lua-resty-core 0.1.25's shdict.lua), quirks included; each
 * function says which. The binding does the argument checks and error strings of shdict.lua
 * (key 1..65535 bytes, exptime >= 0 converted to ms, ...).
 *
 * The zone holds no pointers, only offsets, so it may be mapped at different addresses.
 * Every function takes the zone's lock itself: a robust process-shared mutex, so a worker
 * dying while holding it cannot wedge the others. The next locker takes it over, walks the
 * structure (shdict_check) and keeps it if consistent (the dead worker's update may be lost
 * or half written) or clears the dictionary if not (logged at alert). So there is no
 * force-unlock for the master to call, unlike nginx's lock of a dead worker.
 * Times are the caller's cached clock in milliseconds since the epoch (any now_ms > 1:
 * flush_all marks items expired with 1). */
#ifndef TCPLUA_SHDICT_H
#define TCPLUA_SHDICT_H
#include <stddef.h>
#include <stdint.h>

/* Value types: ngx_lua's numbering, which is Lua's. */
enum {
    SHD_TNIL = 0,
    SHD_TBOOLEAN = 1,
    SHD_TNUMBER = 3,
    SHD_TSTRING = 4,
    SHD_TLIST = 5
};

/* Results. The binding's error strings: "exists", "not found", "no memory", "not a number",
 * "value not a list"; SHD_INVALID is an argument the binding should have refused. */
enum {
    SHD_OK = 0,
    SHD_EXISTS = -1,
    SHD_NOT_FOUND = -2,
    SHD_NO_MEMORY = -3,
    SHD_NOT_NUMBER = -4,
    SHD_NOT_LIST = -5,
    SHD_INVALID = -6
};

/* shdict_store operations. */
enum {
    SHD_SET,
    SHD_SAFE_SET,
    SHD_ADD,
    SHD_SAFE_ADD,
    SHD_REPLACE
};

typedef struct shdict shdict_t; /* at the start of its zone */

/* The dictionary in zone[0, size). fresh: format the zone (a new, zero-filled mapping); else
 * attach to a zone formatted earlier, e.g. kept across a reload (its magic, version and size
 * must match). NULL + err when the zone is too small (shdict_min_size), too large (32 GiB),
 * not 8-byte aligned, or not a dictionary. */
shdict_t *shdict_open(void *zone, size_t size, int fresh, char *err, size_t errlen);
size_t shdict_min_size(void);

/* The zone's size (as ngx_lua: the whole zone, overhead included). */
size_t shdict_capacity(shdict_t *d);
/* Bytes in whole free pages of the allocator (as ngx_lua: pages free * 4096); room in
 * partly used pages is not counted. */
size_t shdict_free_space(shdict_t *d);

/* set/safe_set/add/safe_add/replace, and delete (SHD_SET with SHD_TNIL). The value is str
 * [slen] for a string, num for a number, num != 0 for a boolean. exptime_ms > 0 expires the
 * item then, else never. *forcible = 1 when valid items were evicted to make room.
 * SHD_EXISTS (add: a valid item exists; an expired one is replaced), SHD_NOT_FOUND (replace:
 * missing or expired), SHD_NO_MEMORY (no room: safe_* never evict; set evicts from the LRU
 * tail, at most 30 rounds as ngx_lua, and a value that can never fit evicts nothing),
 * SHD_INVALID (nil with add/replace, a list type, a bad key length).
 * As ngx_lua: an existing item whose new value has another length is removed before the new
 * one is allocated, so a failed set/safe_set of a bigger value leaves the key deleted. */
int shdict_store(shdict_t *d, int op, const char *key, size_t klen, int type, const char *str, size_t slen,
                 double num, uint32_t flags, int64_t exptime_ms, int64_t now_ms, int *forcible);

/* get (get_stale = 0) and get_stale. On entry *str is a buffer of *slen bytes; a longer
 * string is copied into malloc'd memory (the caller frees it when *str changed). Sets *type,
 * *flags and *is_stale (the item had expired; only get_stale finds those) always (SHD_TNIL,
 * 0, 0 when not found), and the value: *slen and *str (strings), *num (numbers; booleans as
 * 0/1). A list sets no value (the binding's "value is a list"). SHD_NOT_FOUND when missing
 * or expired; SHD_NO_MEMORY when the malloc failed. */
int shdict_get(shdict_t *d, const char *key, size_t klen, int64_t now_ms, int get_stale, int *type, char **str,
               size_t *slen, double *num, uint32_t *flags, int *is_stale);

/* incr: *out = value + delta. A missing or expired key is SHD_NOT_FOUND unless has_init,
 * which creates it as init + delta with flags 0 and expiry init_ttl_ms (> 0; else never),
 * evicting if needed (*forcible). A valid key keeps its flags and expiry. SHD_NOT_NUMBER when
 * the value is not a number; SHD_NO_MEMORY. */
int shdict_incr(shdict_t *d, const char *key, size_t klen, double delta, int has_init, double init,
                int64_t init_ttl_ms, int64_t now_ms, double *out, int *forcible);

/* ttl: *ttl_ms left, 0 = never expires. As ngx_lua: an expired item not yet removed is still
 * found, with a negative ttl. SHD_NOT_FOUND when missing. Does not touch the LRU. */
int shdict_ttl(shdict_t *d, const char *key, size_t klen, int64_t now_ms, int64_t *ttl_ms);
/* expire: the item now expires exptime_ms from now_ms (<= 0: never). As ngx_lua this also
 * revives an expired item not yet removed. SHD_NOT_FOUND when missing. No LRU move. */
int shdict_expire(shdict_t *d, const char *key, size_t klen, int64_t exptime_ms, int64_t now_ms);

/* flush_all: marks every item expired and, as ngx_lua, frees the three at the LRU tail; the
 * rest go as later operations meet them. */
void shdict_flush_all(shdict_t *d);
/* flush_expired: frees expired items from the LRU tail, at most max (0 = all); the count. */
int shdict_flush_expired(shdict_t *d, int max, int64_t now_ms);
/* get_keys: calls each() for at most max (0 = all) valid keys, least recently used first;
 * the count, or SHD_NO_MEMORY. each() runs under the lock: it must not call this dictionary
 * nor longjmp (collect the keys and build the Lua table after). */
int shdict_get_keys(shdict_t *d, int max, int64_t now_ms, void (*each)(void *ud, const char *key, size_t klen),
                    void *ud);

/* lpush (left) / rpush: a number or string element; *len = the list's new length. A missing
 * or expired key becomes a new list (never evicting, as ngx_lua: SHD_NO_MEMORY when full);
 * SHD_NOT_LIST when the valid value is not a list; SHD_INVALID for another type. */
int shdict_push(shdict_t *d, const char *key, size_t klen, int left, int type, const char *str, size_t slen,
                double num, int64_t now_ms, size_t *len);
/* lpop / rpop: *type (SHD_TNUMBER or SHD_TSTRING) and the value as shdict_get returns it; a
 * list whose last element is popped is removed. SHD_NOT_FOUND when missing, expired or empty
 * (the binding returns nil); SHD_NOT_LIST; SHD_NO_MEMORY (a long string's malloc failed:
 * nothing popped). */
int shdict_pop(shdict_t *d, const char *key, size_t klen, int left, int64_t now_ms, int *type, char **str,
               size_t *slen, double *num);
/* llen: *len = the list's length, 0 when missing or expired (as ngx_lua; SHD_OK). */
int shdict_llen(shdict_t *d, const char *key, size_t klen, int64_t now_ms, size_t *len);

/* Walks the whole structure (index, LRU, lists, allocator) and returns 0 when it is
 * consistent, else -1 with the first fault in err. O(size of the zone); for tests, the
 * fuzzer and the recovery after a worker died holding the lock. */
int shdict_check(shdict_t *d, char *err, size_t errlen);
#endif
