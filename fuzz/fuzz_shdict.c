/* fuzz_shdict: the shared-dict store (core/shdict*.c) under arbitrary sequences of
 * operations on a small zone (8 to 40 KiB, malloc'd per run so ASan sees past its end).
 * After every operation: the structure walk (shdict_check) passes, free_space is whole pages
 * within capacity, a get right after a successful store or incr returns the stored type,
 * value and flags, llen after a push is the pushed length, and get_keys lists exactly the
 * valid items.
 *
 * Input: byte 0 sizes the zone; then operations, each an opcode byte, a key byte and the
 * bytes that operation reads (see the op_* functions); bytes missing at the end read as 0.
 * Keys: 16 short ones, or (key byte >= 240) long ones of up to 8 KiB that span pages.
 * Values: up to 199 bytes, or multiples of 700 bytes up to 38 KiB (more than the zone). */
#include "shdict.h"
#include "shdict_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct in {
    const uint8_t *p;
    size_t n;
} in_t;

typedef struct run {
    shdict_t *d;
    in_t in;
    int64_t now;
    char key[8192];
    size_t klen;
    const char *val;
    size_t vlen;
} run_t;

static unsigned byte(run_t *r)
{
    if (r->in.n == 0) return 0;
    r->in.n--;
    return *r->in.p++;
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_shdict: %s\n", what);
    abort();
}

static void read_key(run_t *r)
{
    unsigned k = byte(r);
    if (k < 240) {
        r->klen = (size_t)snprintf(r->key, sizeof r->key, "k%u", k % 16);
        return;
    }
    r->klen = 1 + ((byte(r) << 8 | byte(r)) % (sizeof r->key - 1));
    memset(r->key, (int)k, r->klen);
}

/* Values are windows of one pattern (no two pages alike), so no bytes are written per op. */
static char pattern[40000 + 256];

static void read_value(run_t *r)
{
    unsigned l = byte(r), start = byte(r);
    r->vlen = l < 200 ? l : (l - 200) * 700;
    if (r->vlen > sizeof pattern - 256) r->vlen = sizeof pattern - 256;
    r->val = pattern + start;
}

static int64_t read_ttl(run_t *r)
{
    unsigned t = byte(r);
    return t < 128 ? 0 : (int64_t)(t - 128) * 3; /* often none, else 0..381 ms */
}

/* get right after a successful store or incr: the same type, value bits and flags. */
static void expect(run_t *r, int type, const char *str, size_t slen, double num, uint32_t flags)
{
    char buf[64], *s = buf;
    size_t n = sizeof buf;
    double got = 0;
    uint32_t gflags = 0;
    int gtype, stale;
    int rc = shdict_get(r->d, r->key, r->klen, r->now, 0, &gtype, &s, &n, &got, &gflags, &stale);
    if (rc != SHD_OK) fail("get after set");
    if (gtype != type || gflags != flags) fail("type or flags after set");
    if (type == SHD_TSTRING && (n != slen || memcmp(s, str, n) != 0)) fail("string after set");
    if (type == SHD_TNUMBER && memcmp(&got, &num, sizeof num) != 0) fail("number after set");
    if (type == SHD_TBOOLEAN && got != (num != 0)) fail("boolean after set");
    if (s != buf) free(s);
}

static void op_store(run_t *r, unsigned how)
{
    int op = (int)(byte(r) % 5), type = how == 0 ? SHD_TSTRING : how == 1 ? SHD_TNUMBER
                                                                          : SHD_TBOOLEAN,
        forcible;
    int64_t ttl = read_ttl(r);
    uint32_t flags = byte(r) * 0x01010101u;
    double num = (double)(int8_t)byte(r) / 4;
    if (type == SHD_TSTRING) read_value(r);
    int rc = shdict_store(r->d, op, r->key, r->klen, type, r->val, r->vlen, num, flags, ttl, r->now, &forcible);
    if (rc == SHD_OK) expect(r, type, r->val, r->vlen, num, flags);
    else if (rc != SHD_EXISTS && rc != SHD_NOT_FOUND && rc != SHD_NO_MEMORY) fail("store result");
    if (forcible && (op == SHD_SAFE_SET || op == SHD_SAFE_ADD)) fail("safe store evicted");
}

static void op_get(run_t *r)
{
    char buf[16], *s = buf;
    size_t n = sizeof buf;
    double num;
    uint32_t flags;
    int type, stale, get_stale = (int)(byte(r) & 1);
    int rc = shdict_get(r->d, r->key, r->klen, r->now, get_stale, &type, &s, &n, &num, &flags, &stale);
    if (rc != SHD_OK && rc != SHD_NOT_FOUND) fail("get result");
    if (rc == SHD_OK && stale && !get_stale) fail("stale value from get");
    if (s != buf) free(s);
}

static void op_incr(run_t *r)
{
    unsigned b = byte(r);
    double out, delta = (double)(int8_t)byte(r);
    int forcible;
    int64_t init_ttl = (int64_t)(b >> 4) * 20;
    int rc = shdict_incr(r->d, r->key, r->klen, delta, b & 1, (double)(b >> 1), init_ttl, r->now, &out, &forcible);
    if (rc == SHD_OK) {
        uint32_t flags = 0;
        char buf[8], *s = buf;
        size_t n = sizeof buf;
        double got;
        int type, stale;
        shdict_get(r->d, r->key, r->klen, r->now, 0, &type, &s, &n, &got, &flags, &stale);
        if (type != SHD_TNUMBER || memcmp(&got, &out, sizeof out) != 0) fail("number after incr");
    } else if (rc != SHD_NOT_FOUND && rc != SHD_NOT_NUMBER && rc != SHD_NO_MEMORY) {
        fail("incr result");
    }
}

static void op_ttl_expire(run_t *r, unsigned which)
{
    int64_t ttl;
    int rc = which ? shdict_expire(r->d, r->key, r->klen, read_ttl(r), r->now)
                   : shdict_ttl(r->d, r->key, r->klen, r->now, &ttl);
    if (rc != SHD_OK && rc != SHD_NOT_FOUND) fail("ttl/expire result");
}

static void op_push(run_t *r)
{
    unsigned b = byte(r);
    size_t len, llen;
    read_value(r);
    int type = b & 2 ? SHD_TNUMBER : SHD_TSTRING;
    int rc = shdict_push(r->d, r->key, r->klen, (int)(b & 1), type, r->val, r->vlen, (double)b, r->now, &len);
    if (rc == SHD_OK && (shdict_llen(r->d, r->key, r->klen, r->now, &llen) != SHD_OK || llen != len))
        fail("llen after push");
    if (rc != SHD_OK && rc != SHD_NOT_LIST && rc != SHD_NO_MEMORY) fail("push result");
}

static void op_pop(run_t *r)
{
    char buf[16], *s = buf;
    size_t n = sizeof buf, len;
    double num;
    int type, rc = shdict_pop(r->d, r->key, r->klen, (int)(byte(r) & 1), r->now, &type, &s, &n, &num);
    if (rc == SHD_OK && type != SHD_TSTRING && type != SHD_TNUMBER) fail("popped type");
    if (rc != SHD_OK && rc != SHD_NOT_FOUND && rc != SHD_NOT_LIST && rc != SHD_NO_MEMORY) fail("pop result");
    if (s != buf) free(s);
    rc = shdict_llen(r->d, r->key, r->klen, r->now, &len);
    if (rc != SHD_OK && rc != SHD_NOT_LIST) fail("llen result");
}

typedef struct keys {
    run_t *r;
    int n;
} keys_t;

static void each_key(void *ud, const char *key, size_t klen)
{
    keys_t *k = ud;
    k->n++;
    /* Called under the lock: check the item through the structure, not the API. */
    shd_ref_t ref = shd_peek(k->r->d, key, klen, shd_hash(k->r->d, key, klen));
    if (!ref || shd_is_expired(shd_item(k->r->d, ref), k->r->now)) fail("get_keys listed a key not valid");
}

static void op_get_keys(run_t *r)
{
    int max = (int)(byte(r) % 8), valid = 0;
    keys_t k = {r, 0};
    int n = shdict_get_keys(r->d, max, r->now, each_key, &k);
    for (shd_ref_t i = r->d->lru_head; i; i = shd_item(r->d, i)->next) {
        shd_item_t *it = shd_item(r->d, i);
        valid += it->expires == 0 || it->expires > r->now;
    }
    if (max > 0 && valid > max) valid = max;
    if (n != k.n || n != valid) fail("get_keys count");
}

static void step(run_t *r)
{
    unsigned op = byte(r) % 13;
    if (op <= 8) read_key(r);
    switch (op) {
    case 0:
    case 1:
    case 2: op_store(r, op); break;
    case 3: shdict_store(r->d, SHD_SET, r->key, r->klen, SHD_TNIL, NULL, 0, 0, 0, 0, r->now, &(int){0}); break;
    case 4: op_get(r); break;
    case 5: op_incr(r); break;
    case 6: op_ttl_expire(r, byte(r) & 1); break;
    case 7: op_push(r); break;
    case 8: op_pop(r); break;
    case 9: r->now += byte(r); break;
    case 10: shdict_flush_all(r->d); break;
    case 11: shdict_flush_expired(r->d, (int)(byte(r) % 4), r->now); break;
    default: op_get_keys(r); break;
    }
}

static void invariants(run_t *r)
{
    char err[256];
    if (shdict_check(r->d, err, sizeof err) != 0) fail(err);
    size_t free = shdict_free_space(r->d);
    if (free > shdict_capacity(r->d) || free % SHD_PAGE != 0) fail("free_space");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_t r;
    char err[256];
    if (size == 0) return 0;
    if (!pattern[1])
        for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (char)(i * 7 + (i >> 8) * 13 + 1);
    size_t zsize = 8192 + (size_t)(data[0] % 8) * 4096 + (size_t)(data[0] >> 3) * 8;
    void *zone = malloc(zsize);
    r.in = (in_t){data + 1, size - 1};
    r.now = 1700000000000;
    r.d = shdict_open(zone, zsize, 1, err, sizeof err);
    if (!r.d) fail(err);
    r.d->seed = 0x5eed; /* the buckets are empty: a fixed seed keeps runs reproducible */
    for (int i = 0; i < 4096 && r.in.n > 0; i++) {
        step(&r);
        invariants(&r);
    }
    pthread_mutex_destroy(&r.d->lock);
    free(zone);
    return 0;
}
