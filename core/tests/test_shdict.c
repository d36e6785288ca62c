/* test_shdict.c: the shared-dict store (core/shdict*.c): every operation's results as
 * ngx_lua 0.10.23 gives them, LRU eviction and forcible, expiry at explicit times, flushes
 * and get_keys, lists, incr, a full zone, fragmentation, two processes on one zone, a
 * process dying with the lock held, and a zone kept across a reload or mapped twice.
 * Tests that need other processes fork them themselves, so they also run with CK_FORK=no
 * (make valgrind). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "shdict.h"
#include "shdict_int.h"
#include "tests/check_run.h"

static const int64_t T0 = 1700000000000; /* now_ms: a real clock (flush_all marks items with 1) */

typedef struct zone {
    void *mem;
    size_t size;
    shdict_t *d;
} zone_t;

static shdict_t *zone_open(zone_t *z, size_t size)
{
    char err[256];
    z->size = size;
    z->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(z->mem, MAP_FAILED);
    z->d = shdict_open(z->mem, size, 1, err, sizeof err);
    ck_assert_msg(z->d != NULL, "%s", err);
    return z->d;
}

static void consistent(shdict_t *d)
{
    char err[256] = "";
    ck_assert_msg(shdict_check(d, err, sizeof err) == 0, "inconsistent: %s", err);
}

static void zone_close(zone_t *z)
{
    consistent(z->d);
    munmap(z->mem, z->size);
}

static int set(shdict_t *d, int op, const char *k, const char *v, int64_t ttl, int64_t now, int *forcible)
{
    return shdict_store(d, op, k, strlen(k), SHD_TSTRING, v, strlen(v), 0, 0, ttl, now, forcible);
}

static int setn(shdict_t *d, int op, const char *k, int type, double num, uint32_t flags, int64_t ttl, int64_t now)
{
    int forcible;
    return shdict_store(d, op, k, strlen(k), type, NULL, 0, num, flags, ttl, now, &forcible);
}

static int del(shdict_t *d, const char *k)
{
    return setn(d, SHD_SET, k, SHD_TNIL, 0, 0, 0, T0);
}

typedef struct got {
    int rc, type, stale;
    double num;
    uint32_t flags;
    char str[1024];
    size_t len;
} got_t;

static got_t get(shdict_t *d, const char *k, int64_t now, int stale)
{
    got_t g = {.stale = -1};
    char buf[1024], *s = buf;
    size_t n = sizeof buf;
    g.rc = shdict_get(d, k, strlen(k), now, stale, &g.type, &s, &n, &g.num, &g.flags, &g.stale);
    if (g.rc == SHD_OK && g.type == SHD_TSTRING) {
        ck_assert_uint_lt(n, sizeof g.str);
        memcpy(g.str, s, n);
        g.len = n;
    }
    if (s != buf) free(s);
    return g;
}

static int keyf(char *buf, size_t n, int i)
{
    return snprintf(buf, n, "key%06d", i);
}

/* ---- store: set, safe_set, add, safe_add, replace, delete ---- */

START_TEST(store_values_and_flags)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    ck_assert_int_eq(shdict_store(d, SHD_SET, "s", 1, SHD_TSTRING, "hello", 5, 0, 7, 0, T0, &f), SHD_OK);
    ck_assert_int_eq(f, 0);
    got_t g = get(d, "s", T0, 0);
    ck_assert(g.rc == SHD_OK && g.type == SHD_TSTRING && g.len == 5 && memcmp(g.str, "hello", 5) == 0);
    ck_assert_uint_eq(g.flags, 7);
    ck_assert_int_eq(setn(d, SHD_SET, "n", SHD_TNUMBER, -2.5, 0, 0, T0), SHD_OK);
    g = get(d, "n", T0, 0);
    ck_assert(g.rc == SHD_OK && g.type == SHD_TNUMBER && g.num == -2.5 && g.flags == 0);
    ck_assert_int_eq(setn(d, SHD_SET, "b", SHD_TBOOLEAN, 1, 0, 0, T0), SHD_OK);
    g = get(d, "b", T0, 0);
    ck_assert(g.rc == SHD_OK && g.type == SHD_TBOOLEAN && g.num == 1);
    ck_assert_int_eq(setn(d, SHD_SET, "b", SHD_TBOOLEAN, 0, 0, 0, T0), SHD_OK);
    ck_assert(get(d, "b", T0, 0).num == 0);
    ck_assert_int_eq(set(d, SHD_SET, "e", "", 0, T0, &f), SHD_OK); /* an empty string is a value */
    g = get(d, "e", T0, 0);
    ck_assert(g.rc == SHD_OK && g.type == SHD_TSTRING && g.len == 0);
    /* Same length, another type: rewritten in place, flags replaced. */
    ck_assert_int_eq(shdict_store(d, SHD_SET, "b", 1, SHD_TSTRING, "x", 1, 0, 3, 0, T0, &f), SHD_OK);
    g = get(d, "b", T0, 0);
    ck_assert(g.type == SHD_TSTRING && g.len == 1 && g.str[0] == 'x' && g.flags == 3);
    zone_close(&z);
}
END_TEST

START_TEST(store_operation_results)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    ck_assert_int_eq(set(d, SHD_REPLACE, "k", "v", 0, T0, &f), SHD_NOT_FOUND);
    ck_assert_int_eq(set(d, SHD_ADD, "k", "v1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_ADD, "k", "v2", 0, T0, &f), SHD_EXISTS);
    ck_assert_int_eq(set(d, SHD_SAFE_ADD, "k", "v2", 0, T0, &f), SHD_EXISTS);
    ck_assert_str_eq(get(d, "k", T0, 0).str, "v1");
    ck_assert_int_eq(set(d, SHD_REPLACE, "k", "v3", 0, T0, &f), SHD_OK);
    ck_assert_str_eq(get(d, "k", T0, 0).str, "v3");
    ck_assert_int_eq(set(d, SHD_SAFE_SET, "k", "v4", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SAFE_ADD, "k2", "w", 0, T0, &f), SHD_OK);
    ck_assert_str_eq(get(d, "k", T0, 0).str, "v4");
    ck_assert_int_eq(del(d, "k"), SHD_OK); /* set nil = delete */
    ck_assert_int_eq(get(d, "k", T0, 0).rc, SHD_NOT_FOUND);
    got_t g = get(d, "k", T0, 0);
    ck_assert(g.type == SHD_TNIL && g.stale == 0 && g.flags == 0);
    ck_assert_int_eq(del(d, "k"), SHD_OK); /* deleting a missing key is fine */
    ck_assert_int_eq(setn(d, SHD_SAFE_SET, "k2", SHD_TNIL, 0, 0, 0, T0), SHD_OK);
    ck_assert_int_eq(get(d, "k2", T0, 0).rc, SHD_NOT_FOUND);
    zone_close(&z);
}
END_TEST

START_TEST(store_invalid_arguments)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    static char longkey[65536];
    memset(longkey, 'k', sizeof longkey);
    ck_assert_int_eq(setn(d, SHD_ADD, "k", SHD_TNIL, 0, 0, 0, T0), SHD_INVALID); /* add/replace nil */
    ck_assert_int_eq(setn(d, SHD_REPLACE, "k", SHD_TNIL, 0, 0, 0, T0), SHD_INVALID);
    ck_assert_int_eq(setn(d, SHD_SET, "k", SHD_TLIST, 0, 0, 0, T0), SHD_INVALID);
    ck_assert_int_eq(setn(d, SHD_SET, "k", 2, 0, 0, 0, T0), SHD_INVALID);
    ck_assert_int_eq(shdict_store(d, 99, "k", 1, SHD_TSTRING, "v", 1, 0, 0, 0, T0, &f), SHD_INVALID);
    ck_assert_int_eq(shdict_store(d, SHD_SET, "", 0, SHD_TSTRING, "v", 1, 0, 0, 0, T0, &f), SHD_INVALID);
    ck_assert_int_eq(shdict_store(d, SHD_SET, longkey, 65536, SHD_TSTRING, "v", 1, 0, 0, 0, T0, &f), SHD_INVALID);
    zone_close(&z);
}
END_TEST

START_TEST(get_long_string_is_malloced)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 256 << 10);
    int f, type, stale;
    char big[10000], buf[16], *s = buf;
    size_t n = sizeof buf;
    double num;
    uint32_t flags;
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    ck_assert_int_eq(shdict_store(d, SHD_SET, "big", 3, SHD_TSTRING, big, sizeof big, 0, 0, 0, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_get(d, "big", 3, T0, 0, &type, &s, &n, &num, &flags, &stale), SHD_OK);
    ck_assert_ptr_ne(s, buf);
    ck_assert_uint_eq(n, sizeof big);
    ck_assert_int_eq(memcmp(s, big, sizeof big), 0);
    free(s);
    s = buf, n = sizeof buf; /* one that fits the buffer stays in it */
    ck_assert_int_eq(shdict_store(d, SHD_SET, "small", 5, SHD_TSTRING, big, 16, 0, 0, 0, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_get(d, "small", 5, T0, 0, &type, &s, &n, &num, &flags, &stale), SHD_OK);
    ck_assert(s == buf && n == 16 && memcmp(buf, big, 16) == 0);
    zone_close(&z);
}
END_TEST

/* Keys longer than a page: the item spans pages (chained), every operation works on it. */
START_TEST(long_keys_span_pages)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 1 << 20);
    static char key[65535];
    int f;
    double out;
    size_t len;
    int64_t ttl;
    memset(key, 'q', sizeof key);
    key[sizeof key - 1] = 'z';
    ck_assert_int_eq(shdict_store(d, SHD_SET, key, sizeof key, SHD_TNUMBER, NULL, 0, 5, 0, 0, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_incr(d, key, sizeof key, 1, 0, 0, 0, T0, &out, &f), SHD_OK);
    ck_assert(out == 6);
    ck_assert_int_eq(shdict_incr(d, key, sizeof key - 1, 1, 0, 0, 0, T0, &out, &f), SHD_NOT_FOUND); /* a prefix */
    ck_assert_int_eq(shdict_expire(d, key, sizeof key, 5000, T0), SHD_OK);
    ck_assert_int_eq(shdict_ttl(d, key, sizeof key, T0, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, 5000);
    ck_assert_int_eq(shdict_push(d, key + 1, 5000, 0, SHD_TSTRING, "e", 1, 0, T0, &len), SHD_OK);
    ck_assert_int_eq(shdict_llen(d, key + 1, 5000, T0, &len), SHD_OK);
    ck_assert_uint_eq(len, 1);
    consistent(d);
    ck_assert_int_eq(shdict_store(d, SHD_SET, key, sizeof key, SHD_TNIL, NULL, 0, 0, 0, 0, T0, &f), SHD_OK);
    zone_close(&z);
}
END_TEST

/* ---- expiry ---- */

START_TEST(expiry_and_ttl)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    int64_t ttl;
    ck_assert_int_eq(set(d, SHD_SET, "a", "1", 1000, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "forever", "1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_ttl(d, "a", 1, T0 + 400, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, 600);
    ck_assert_int_eq(shdict_ttl(d, "forever", 7, T0, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, 0);
    ck_assert_int_eq(shdict_ttl(d, "none", 4, T0, &ttl), SHD_NOT_FOUND);
    ck_assert_int_eq(get(d, "a", T0 + 999, 0).rc, SHD_OK);
    ck_assert_int_eq(get(d, "a", T0 + 1001, 0).rc, SHD_NOT_FOUND);
    /* Expired but not yet removed: get_stale still returns it, ttl is negative (ngx_lua). */
    got_t g = get(d, "a", T0 + 1001, 1);
    ck_assert(g.rc == SHD_OK && g.stale == 1 && g.str[0] == '1');
    ck_assert_int_eq(get(d, "forever", T0 + 1001, 1).stale, 0);
    ck_assert_int_eq(shdict_ttl(d, "a", 1, T0 + 1500, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, -500);
    /* expire() on it revives it, as ngx_lua's set_expire does. */
    ck_assert_int_eq(shdict_expire(d, "a", 1, 2000, T0 + 1500), SHD_OK);
    ck_assert_int_eq(get(d, "a", T0 + 3000, 0).rc, SHD_OK);
    ck_assert_int_eq(shdict_expire(d, "a", 1, 0, T0 + 3000), SHD_OK); /* 0: never */
    ck_assert_int_eq(get(d, "a", T0 + 999999999, 0).rc, SHD_OK);
    ck_assert_int_eq(shdict_expire(d, "none", 4, 10, T0), SHD_NOT_FOUND);
    zone_close(&z);
}
END_TEST

START_TEST(expired_items_and_add_replace)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "k", "old", 10, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "other", "o", 0, T0, &f), SHD_OK); /* k is not at the LRU tail */
    ck_assert_int_eq(set(d, SHD_REPLACE, "k", "new", 0, T0 + 11, &f), SHD_NOT_FOUND);
    ck_assert_int_eq(set(d, SHD_ADD, "k", "new!", 0, T0 + 11, &f), SHD_OK); /* an expired item is replaced */
    ck_assert_str_eq(get(d, "k", T0 + 20, 0).str, "new!");
    ck_assert_int_eq(get(d, "k", T0 + 20, 0).stale, 0);
    zone_close(&z);
}
END_TEST

/* ngx_lua's two expiry tests differ by one ms: a lookup finds an item valid while
 * expires == now, but the pass over the LRU tail that starts every operation frees it. */
START_TEST(expiry_boundary_as_ngx_lua)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "tail", "t", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "a", "1", 100, T0, &f), SHD_OK);
    ck_assert_int_eq(get(d, "a", T0 + 100, 0).rc, SHD_OK); /* not at the tail: found */
    ck_assert_int_eq(del(d, "tail"), SHD_OK);
    ck_assert_int_eq(get(d, "a", T0 + 100, 0).rc, SHD_NOT_FOUND); /* at the tail: freed first */
    ck_assert_int_eq(get(d, "a", T0 + 100, 1).rc, SHD_NOT_FOUND); /* gone, even for get_stale */
    zone_close(&z);
}
END_TEST

/* ---- LRU eviction ---- */

/* Fills d with 300-byte values under key000000.. until a set evicts; returns that set's index. */
static int fill_until_forcible(shdict_t *d, char *val)
{
    char k[32];
    int f = 0, i;
    memset(val, 'v', 300);
    val[300] = 0;
    for (i = 0; !f; i++) {
        keyf(k, sizeof k, i);
        ck_assert_int_eq(set(d, SHD_SET, k, val, 0, T0, &f), SHD_OK);
    }
    return i - 1;
}

START_TEST(lru_evicts_least_recently_used)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    char k[32], val[301];
    int f, n = fill_until_forcible(d, val);
    ck_assert_int_gt(n, 10);
    ck_assert_int_eq(get(d, "key000000", T0, 0).rc, SHD_NOT_FOUND); /* the oldest went */
    ck_assert_int_eq(get(d, "key000001", T0, 0).rc, SHD_OK);        /* now the most recent */
    keyf(k, sizeof k, n + 1);
    ck_assert_int_eq(set(d, SHD_SET, k, val, 0, T0, &f), SHD_OK);
    ck_assert_int_eq(f, 1);
    ck_assert_int_eq(get(d, "key000002", T0, 0).rc, SHD_NOT_FOUND); /* 1 was touched: 2 went */
    ck_assert_int_eq(get(d, "key000001", T0, 0).rc, SHD_OK);
    ck_assert_int_eq(get(d, "key000003", T0, 0).rc, SHD_OK);
    zone_close(&z);
}
END_TEST

START_TEST(safe_operations_never_evict)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    char k[32], val[301];
    int f, n = fill_until_forcible(d, val);
    keyf(k, sizeof k, n + 1);
    ck_assert_int_eq(set(d, SHD_SAFE_SET, k, val, 0, T0, &f), SHD_NO_MEMORY);
    ck_assert_int_eq(f, 0);
    ck_assert_int_eq(set(d, SHD_SAFE_ADD, k, val, 0, T0, &f), SHD_NO_MEMORY);
    int64_t ttl;
    ck_assert_int_eq(shdict_ttl(d, "key000001", 9, T0, &ttl), SHD_OK); /* the LRU tail is still there */
    /* Expired items at the LRU tail are freed first, even by safe_set, and are no eviction. */
    keyf(k, sizeof k, 1);
    ck_assert_int_eq(shdict_expire(d, k, strlen(k), 1, T0), SHD_OK);
    keyf(k, sizeof k, n + 2);
    ck_assert_int_eq(set(d, SHD_SAFE_SET, k, val, 0, T0 + 2, &f), SHD_OK);
    ck_assert_int_eq(f, 0);
    zone_close(&z);
}
END_TEST

/* A value that cannot fit even in an empty zone fails at once: nothing else is evicted.
 * The key's old value is gone though, as in ngx_lua (removed before allocating). */
START_TEST(value_that_never_fits)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    size_t huge = shdict_capacity(d) + 1;
    char *big = calloc(1, huge);
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "a", "1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "k", "old", 0, T0, &f), SHD_OK);
    size_t free0 = shdict_free_space(d);
    ck_assert_int_eq(shdict_store(d, SHD_SET, "k", 1, SHD_TSTRING, big, huge, 0, 0, 0, T0, &f), SHD_NO_MEMORY);
    ck_assert_int_eq(f, 0);
    size_t over = free0 + SHD_PAGE; /* more than all pages: the header, buckets, descriptors */
    ck_assert_int_eq(shdict_store(d, SHD_SET, "x", 1, SHD_TSTRING, big, over, 0, 0, 0, T0, &f), SHD_NO_MEMORY);
    ck_assert_int_eq(get(d, "a", T0, 0).rc, SHD_OK);
    ck_assert_int_eq(get(d, "k", T0, 0).rc, SHD_NOT_FOUND);
    size_t len;
    ck_assert_int_eq(shdict_push(d, "l", 1, 0, SHD_TSTRING, big, huge, 0, T0, &len), SHD_NO_MEMORY);
    ck_assert_int_eq(shdict_llen(d, "l", 1, T0, &len), SHD_OK); /* no empty list left */
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_eq(shdict_free_space(d), free0);
    free(big);
    zone_close(&z);
}
END_TEST

/* ---- flush_all, flush_expired, get_keys ---- */

static void collect(void *ud, const char *key, size_t klen)
{
    char *out = ud;
    strncat(out, key, klen);
    strcat(out, ",");
}

START_TEST(get_keys_oldest_first)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    char keys[256] = "";
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "a", "1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "b", "1", 50, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "c", "1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(get(d, "a", T0, 0).rc, SHD_OK); /* a is now the most recent */
    ck_assert_int_eq(shdict_get_keys(d, 0, T0, collect, keys), 3);
    ck_assert_str_eq(keys, "b,c,a,");
    keys[0] = 0;
    ck_assert_int_eq(shdict_get_keys(d, 2, T0, collect, keys), 2);
    ck_assert_str_eq(keys, "b,c,");
    keys[0] = 0;
    ck_assert_int_eq(shdict_get_keys(d, 0, T0 + 50, collect, keys), 2); /* b expired */
    ck_assert_str_eq(keys, "c,a,");
    zone_close(&z);
}
END_TEST

START_TEST(flush_all_then_expired)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    char k[32];
    int f;
    size_t free0 = shdict_free_space(d);
    for (int i = 0; i < 10; i++) {
        keyf(k, sizeof k, i);
        ck_assert_int_eq(set(d, SHD_SET, k, "value", 0, T0, &f), SHD_OK);
    }
    shdict_flush_all(d);
    ck_assert_int_eq(shdict_get_keys(d, 0, T0, collect, (char[512]){0}), 0);
    ck_assert_int_eq(get(d, "key000009", T0, 1).rc, SHD_OK); /* still there, expired */
    ck_assert_int_eq(get(d, "key000009", T0, 1).stale, 1);
    /* flush_all freed the three at the LRU tail; flush_expired frees the rest. */
    ck_assert_int_eq(shdict_flush_expired(d, 2, T0), 2);
    ck_assert_int_eq(shdict_flush_expired(d, 0, T0), 5);
    ck_assert_int_eq(shdict_flush_expired(d, 0, T0), 0);
    ck_assert_uint_eq(shdict_free_space(d), free0);
    ck_assert_int_eq(set(d, SHD_ADD, "key000009", "again", 0, T0, &f), SHD_OK);
    zone_close(&z);
}
END_TEST

START_TEST(flush_expired_keeps_valid_items)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "a", "1", 10, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "b", "1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "c", "1", 30, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_flush_expired(d, 0, T0 + 20), 1);
    ck_assert_int_eq(shdict_flush_expired(d, 0, T0 + 30), 1); /* expires <= now */
    ck_assert_int_eq(get(d, "b", T0 + 30, 0).rc, SHD_OK);
    zone_close(&z);
}
END_TEST

/* ---- incr ---- */

START_TEST(incr_results)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    double out;
    int f;
    int64_t ttl;
    ck_assert_int_eq(shdict_incr(d, "n", 1, 1, 0, 0, 0, T0, &out, &f), SHD_NOT_FOUND);
    ck_assert_int_eq(shdict_incr(d, "n", 1, 2, 1, 10, 500, T0, &out, &f), SHD_OK); /* created: init + delta */
    ck_assert(out == 12 && f == 0);
    ck_assert_int_eq(shdict_ttl(d, "n", 1, T0, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, 500);
    ck_assert_int_eq(shdict_incr(d, "n", 1, -0.5, 1, 100, 9000, T0 + 100, &out, &f), SHD_OK); /* exists: init ignored */
    ck_assert(out == 11.5);
    ck_assert_int_eq(shdict_ttl(d, "n", 1, T0 + 100, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, 400); /* init_ttl applies only on creation */
    ck_assert_int_eq(setn(d, SHD_SET, "m", SHD_TNUMBER, 1, 42, 0, T0), SHD_OK);
    ck_assert_int_eq(shdict_incr(d, "m", 1, 1, 0, 0, 0, T0, &out, &f), SHD_OK);
    ck_assert_uint_eq(get(d, "m", T0, 0).flags, 42); /* kept */
    ck_assert_int_eq(set(d, SHD_SET, "s", "12345678", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_incr(d, "s", 1, 1, 1, 0, 0, T0, &out, &f), SHD_NOT_NUMBER);
    ck_assert_int_eq(setn(d, SHD_SET, "b", SHD_TBOOLEAN, 1, 0, 0, T0), SHD_OK);
    ck_assert_int_eq(shdict_incr(d, "b", 1, 1, 0, 0, 0, T0, &out, &f), SHD_NOT_NUMBER);
    zone_close(&z);
}
END_TEST

START_TEST(incr_on_expired_items)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    double out;
    int f;
    ck_assert_int_eq(setn(d, SHD_SET, "tail", SHD_TNUMBER, 0, 0, 0, T0), SHD_OK);
    ck_assert_int_eq(setn(d, SHD_SET, "n", SHD_TNUMBER, 5, 9, 10, T0), SHD_OK);
    ck_assert_int_eq(shdict_incr(d, "n", 1, 1, 0, 0, 0, T0 + 20, &out, &f), SHD_NOT_FOUND);
    ck_assert_int_eq(shdict_incr(d, "n", 1, 1, 1, 100, 0, T0 + 20, &out, &f), SHD_OK);
    ck_assert(out == 101);
    got_t g = get(d, "n", T0 + 20, 0);
    ck_assert(g.num == 101 && g.flags == 0 && g.stale == 0);
    /* An expired 8-byte string is reused as the number (ngx_lua): the type changes. */
    ck_assert_int_eq(set(d, SHD_SET, "s", "12345678", 10, T0 + 20, &f), SHD_OK);
    ck_assert_int_eq(shdict_incr(d, "s", 1, 1, 1, 1, 0, T0 + 40, &out, &f), SHD_OK);
    ck_assert_int_eq(get(d, "s", T0 + 40, 0).type, SHD_TNUMBER);
    zone_close(&z);
}
END_TEST

/* ---- lists ---- */

static int push(shdict_t *d, const char *k, int left, const char *v, size_t *len)
{
    return shdict_push(d, k, strlen(k), left, SHD_TSTRING, v, strlen(v), 0, T0, len);
}

static int pop(shdict_t *d, const char *k, int left, char *out)
{
    char buf[64], *s = buf;
    size_t n = sizeof buf;
    double num;
    int type, rc = shdict_pop(d, k, strlen(k), left, T0, &type, &s, &n, &num);
    if (rc == SHD_OK && type == SHD_TSTRING) memcpy(out, s, n), out[n] = 0;
    if (rc == SHD_OK && type == SHD_TNUMBER) sprintf(out, "%g", num);
    return rc;
}

START_TEST(list_push_pop_llen)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    size_t len;
    char out[64];
    ck_assert_int_eq(push(d, "l", 0, "a", &len), SHD_OK);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(push(d, "l", 0, "b", &len), SHD_OK);
    ck_assert_int_eq(shdict_push(d, "l", 1, 1, SHD_TNUMBER, NULL, 0, 7, T0, &len), SHD_OK);
    ck_assert_uint_eq(len, 3); /* 7 a b */
    got_t g = get(d, "l", T0, 0);
    ck_assert(g.rc == SHD_OK && g.type == SHD_TLIST && g.stale == 0 && g.flags == 0); /* no value */
    ck_assert_int_eq(pop(d, "l", 1, out), SHD_OK);
    ck_assert_str_eq(out, "7");
    ck_assert_int_eq(pop(d, "l", 0, out), SHD_OK);
    ck_assert_str_eq(out, "b");
    ck_assert_int_eq(shdict_llen(d, "l", 1, T0, &len), SHD_OK);
    ck_assert_uint_eq(len, 1);
    consistent(d);
    ck_assert_int_eq(pop(d, "l", 1, out), SHD_OK);
    ck_assert_str_eq(out, "a");
    ck_assert_int_eq(get(d, "l", T0, 1).rc, SHD_NOT_FOUND); /* the last pop removed the list */
    ck_assert_int_eq(pop(d, "l", 1, out), SHD_NOT_FOUND);
    ck_assert_int_eq(shdict_llen(d, "l", 1, T0, &len), SHD_OK);
    ck_assert_uint_eq(len, 0);
    zone_close(&z);
}
END_TEST

START_TEST(list_type_mismatch)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    size_t len;
    char out[64];
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "s", "v", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(push(d, "s", 1, "x", &len), SHD_NOT_LIST);
    ck_assert_int_eq(pop(d, "s", 1, out), SHD_NOT_LIST);
    ck_assert_int_eq(shdict_llen(d, "s", 1, T0, &len), SHD_NOT_LIST);
    ck_assert_int_eq(shdict_push(d, "l", 1, 1, SHD_TBOOLEAN, NULL, 0, 1, T0, &len), SHD_INVALID);
    ck_assert_int_eq(push(d, "l", 1, "x", &len), SHD_OK);
    double n;
    ck_assert_int_eq(shdict_incr(d, "l", 1, 1, 0, 0, 0, T0, &n, &f), SHD_NOT_NUMBER);
    ck_assert_int_eq(set(d, SHD_SET, "l", "scalar", 0, T0, &f), SHD_OK); /* set replaces a list */
    ck_assert_str_eq(get(d, "l", T0, 0).str, "scalar");
    zone_close(&z);
}
END_TEST

START_TEST(list_expired_is_restarted)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    size_t len;
    char out[64];
    int f;
    ck_assert_int_eq(push(d, "l", 1, "old1", &len), SHD_OK);
    ck_assert_int_eq(push(d, "l", 1, "old2", &len), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "tail", "t", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(shdict_expire(d, "l", 1, 10, T0), SHD_OK);
    ck_assert_int_eq(pop(d, "l", 1, out), SHD_OK);
    ck_assert_int_eq(shdict_push(d, "l", 1, 1, SHD_TSTRING, "new", 3, 0, T0 + 20, &len), SHD_OK);
    ck_assert_uint_eq(len, 1); /* the expired elements are gone */
    int64_t ttl;
    ck_assert_int_eq(shdict_ttl(d, "l", 1, T0 + 20, &ttl), SHD_OK);
    ck_assert_int_eq(ttl, 0); /* and the list no longer expires */
    ck_assert_int_eq(pop(d, "l", 1, out), SHD_OK);
    ck_assert_str_eq(out, "new");
    zone_close(&z);
}
END_TEST

START_TEST(list_large_elements)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 256 << 10);
    static char big[20000];
    size_t len, n = 10;
    char buf[10], *s = buf;
    int type;
    double num;
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)i;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(shdict_push(d, "l", 1, 0, SHD_TSTRING, big, sizeof big, 0, T0, &len), SHD_OK);
    ck_assert_int_eq(shdict_pop(d, "l", 1, 1, T0, &type, &s, &n, &num), SHD_OK);
    ck_assert(s != buf && n == sizeof big && memcmp(s, big, n) == 0);
    free(s);
    ck_assert_int_eq(del(d, "l"), SHD_OK); /* frees the elements */
    zone_close(&z);
}
END_TEST

/* ---- memory: exhaustion and fragmentation ---- */

static size_t free_pages_bytes(shdict_t *d)
{
    return (size_t)d->nfree * SHD_PAGE;
}

START_TEST(exhaustion_keeps_the_zone_consistent)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 128 << 10);
    static char val[9000];
    char k[32];
    int f, fails = 0, n = 0;
    size_t free0 = shdict_free_space(d);
    ck_assert_uint_le(free0, shdict_capacity(d));
    srand(1);
    for (int i = 0; fails < 200; i++) {
        keyf(k, sizeof k, i);
        size_t len = (size_t)rand() % sizeof val;
        int rc = shdict_store(d, SHD_SAFE_SET, k, strlen(k), SHD_TSTRING, val, len, 0, 0, 0, T0, &f);
        ck_assert(rc == SHD_OK || rc == SHD_NO_MEMORY);
        fails += rc == SHD_NO_MEMORY;
        n = i + 1;
        ck_assert_uint_eq(shdict_free_space(d), free_pages_bytes(d));
    }
    consistent(d);
    ck_assert_uint_lt(shdict_free_space(d), 9000 + SHD_PAGE);
    for (int i = 0; i < n; i++) {
        keyf(k, sizeof k, i);
        del(d, k);
    }
    ck_assert_uint_eq(shdict_free_space(d), free0); /* every page came back */
    zone_close(&z);
}
END_TEST

/* After many mixed-size writes and deletes, any item whose size (header, key, value) is
 * at most free_space() fits without eviction: blobs over 2048 bytes are page chains, not
 * contiguous runs, so free pages never become unusable by being scattered. */
START_TEST(fragmentation_leaves_free_space_usable)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 1 << 20);
    static char val[1 << 20];
    char k[32];
    int f;
    srand(2);
    for (int i = 0; i < 20000; i++) {
        keyf(k, sizeof k, rand() % 2000);
        size_t len = rand() % 4 == 0 ? (size_t)rand() % 12000 : (size_t)rand() % 600;
        if (rand() % 3 == 0) del(d, k);
        else shdict_store(d, SHD_SAFE_SET, k, strlen(k), SHD_TSTRING, val, len, 0, 0, 0, T0, &f);
    }
    for (int i = 0; i < 2000; i += 2) {
        keyf(k, sizeof k, i);
        del(d, k);
    }
    consistent(d);
    size_t room = shdict_free_space(d);
    ck_assert_uint_gt(room, 64 << 10);
    size_t vlen = room - SHD_ITEM_HDR - 3;
    ck_assert_int_eq(shdict_store(d, SHD_SAFE_SET, "big", 3, SHD_TSTRING, val, vlen, 0, 0, 0, T0, &f), SHD_OK);
    ck_assert_uint_eq(shdict_free_space(d), 0);
    zone_close(&z);
}
END_TEST

START_TEST(size_classes_cover_every_size)
{
    for (size_t n = 1; n <= SHD_SLAB_MAX; n++) {
        unsigned c = shd_class_of(n);
        ck_assert_uint_lt(c, SHD_NCLASS);
        ck_assert_uint_ge(shd_class_size(c), n);
        if (c > 0) ck_assert_uint_lt(shd_class_size(c - 1), n);
        ck_assert_uint_eq(shd_class_size(c) % 8, 0);
    }
}
END_TEST

/* ---- processes ---- */

static void wait_ok(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
}

START_TEST(two_processes_increment_exactly)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    double out;
    int f;
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            for (int i = 0; i < 100000; i++)
                if (shdict_incr(d, "hits", 4, 1, 1, 0, 0, T0, &out, &f) != SHD_OK) _exit(1);
            _exit(0);
        }
    }
    wait_ok(pids[0]);
    wait_ok(pids[1]);
    ck_assert(get(d, "hits", T0, 0).num == 200000);
    zone_close(&z);
}
END_TEST

/* A child takes the lock and exits holding it: the next locker gets the lock (EOWNERDEAD),
 * finds the structure consistent and keeps it. */
START_TEST(dead_owner_does_not_wedge_the_lock)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    ck_assert_int_eq(set(d, SHD_SET, "kept", "yes", 0, T0, &f), SHD_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        shd_lock(d);
        _exit(0);
    }
    wait_ok(pid);
    ck_assert_int_eq(set(d, SHD_SET, "after", "1", 0, T0, &f), SHD_OK);
    ck_assert_str_eq(get(d, "kept", T0, 0).str, "yes");
    ck_assert_uint_eq(d->recovered, 1);
    ck_assert_uint_eq(d->cleared, 0);
    zone_close(&z);
}
END_TEST

/* A child dies in the middle of an update (simulated: a dangling LRU link): the walk finds
 * it and the dictionary is cleared rather than followed into garbage. */
START_TEST(dead_owner_inconsistent_zone_is_cleared)
{
    zone_t z;
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    size_t free0 = shdict_free_space(d);
    ck_assert_int_eq(set(d, SHD_SET, "a", "1", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(set(d, SHD_SET, "b", "2", 0, T0, &f), SHD_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        shd_lock(d);
        shd_item(d, d->lru_head)->next = 12345;
        _exit(0);
    }
    wait_ok(pid);
    ck_assert_int_eq(get(d, "a", T0, 0).rc, SHD_NOT_FOUND);
    ck_assert_uint_eq(d->cleared, 1);
    ck_assert_uint_eq(shdict_free_space(d), free0);
    ck_assert_int_eq(set(d, SHD_SET, "c", "3", 0, T0, &f), SHD_OK);
    ck_assert_str_eq(get(d, "c", T0, 0).str, "3");
    zone_close(&z);
}
END_TEST

/* ---- the zone ---- */

START_TEST(open_checks_the_zone)
{
    char err[256];
    size_t min = shdict_min_size();
    void *mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_uint_le(min, 8192); /* lua_shared_dict's minimum, 8k, holds a dict */
    ck_assert_ptr_null(shdict_open(mem, min - 1, 1, err, sizeof err));
    ck_assert_msg(strstr(err, "too small") != NULL, "%s", err);
    ck_assert_ptr_null(shdict_open(mem, 1 << 20, 0, err, sizeof err)); /* zero-filled: not a dict */
    ck_assert_ptr_null(shdict_open((char *)mem + 4, 1 << 16, 1, err, sizeof err));
    shdict_t *d = shdict_open(mem, min, 1, err, sizeof err);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(shdict_capacity(d), min);
    ck_assert_uint_eq(shdict_free_space(d), SHD_PAGE);
    ck_assert_ptr_null(shdict_open(mem, min + SHD_PAGE, 0, err, sizeof err)); /* another size */
    munmap(mem, 1 << 20);
}
END_TEST

START_TEST(kept_zone_is_attached_with_its_data)
{
    zone_t z;
    char err[256];
    shdict_t *d = zone_open(&z, 64 << 10);
    int f;
    size_t len;
    ck_assert_int_eq(set(d, SHD_SET, "k", "v", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(push(d, "l", 1, "e", &len), SHD_OK);
    shdict_t *again = shdict_open(z.mem, z.size, 0, err, sizeof err); /* the reload's bring-up */
    ck_assert_msg(again != NULL, "%s", err);
    ck_assert_str_eq(get(again, "k", T0, 0).str, "v");
    ck_assert_int_eq(shdict_llen(again, "l", 1, T0, &len), SHD_OK);
    ck_assert_uint_eq(len, 1);
    zone_close(&z);
}
END_TEST

/* The same memory mapped twice at different addresses (as workers may map it): what one
 * mapping writes the other reads, so nothing inside depends on the address. */
START_TEST(zone_works_at_two_addresses)
{
    char err[256];
    size_t size = 64 << 10;
    int fd = memfd_create("shdict", 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
    char *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert(a != MAP_FAILED && b != MAP_FAILED && a != b);
    shdict_t *da = shdict_open(a, size, 1, err, sizeof err), *db = shdict_open(b, size, 0, err, sizeof err);
    ck_assert(da && db);
    size_t len;
    int f;
    ck_assert_int_eq(set(da, SHD_SET, "k", "through a", 0, T0, &f), SHD_OK);
    ck_assert_int_eq(push(da, "l", 1, "e1", &len), SHD_OK);
    ck_assert_str_eq(get(db, "k", T0, 0).str, "through a");
    ck_assert_int_eq(push(db, "l", 1, "e2", &len), SHD_OK);
    ck_assert_uint_eq(len, 2);
    consistent(da);
    consistent(db);
    munmap(a, size);
    munmap(b, size);
    close(fd);
}
END_TEST

/* A test case of the NULL-terminated tests given. */
static void add_case(Suite *s, const char *name, ...)
{
    va_list ap;
    TCase *t = tcase_create(name);
    tcase_set_timeout(t, 120);
    va_start(ap, name);
    for (const TTest *test; (test = va_arg(ap, const TTest *));) tcase_add_test(t, test);
    va_end(ap);
    suite_add_tcase(s, t);
}

int main(void)
{
    Suite *s = suite_create("shdict");
    add_case(s, "store", store_values_and_flags, store_operation_results, store_invalid_arguments,
             get_long_string_is_malloced, long_keys_span_pages, NULL);
    add_case(s, "expiry", expiry_and_ttl, expired_items_and_add_replace, expiry_boundary_as_ngx_lua, NULL);
    add_case(s, "lru", lru_evicts_least_recently_used, safe_operations_never_evict, value_that_never_fits, NULL);
    add_case(s, "flush", get_keys_oldest_first, flush_all_then_expired, flush_expired_keeps_valid_items, NULL);
    add_case(s, "incr", incr_results, incr_on_expired_items, NULL);
    add_case(s, "list", list_push_pop_llen, list_type_mismatch, list_expired_is_restarted, list_large_elements, NULL);
    add_case(s, "memory", exhaustion_keeps_the_zone_consistent, fragmentation_leaves_free_space_usable,
             size_classes_cover_every_size, NULL);
    add_case(s, "processes", two_processes_increment_exactly, dead_owner_does_not_wedge_the_lock,
             dead_owner_inconsistent_zone_is_cleared, NULL);
    add_case(s, "zone", open_checks_the_zone, kept_zone_is_attached_with_its_data, zone_works_at_two_addresses, NULL);
    SRunner *sr = srunner_create(s);
    return check_run(sr);
}
