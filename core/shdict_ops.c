/* shdict_ops.c: the scalar operations of a shared dict (store, get, incr, ttl, expire) and
 * those over all items (flush_all, flush_expired, get_keys), each in ngx_lua 0.10.23's order
 * of steps, since that order is observable: which items an operation expires or evicts, and
 * what is left after a failure. Lists are in shdict_list.c. */
#include "shdict_int.h"
#include <stdlib.h>

int shd_read_value(shdict_t *d, shd_ref_t r, size_t off, int type, size_t len, char **str, size_t *slen,
                   double *num)
{
    unsigned char b;
    switch (type) {
    case SHD_TSTRING:
        if (len > *slen) {
            char *p = malloc(len);
            if (!p) return SHD_NO_MEMORY;
            *str = p;
        }
        shd_blob_io(d, r, off, *str, len, SHD_IO_READ);
        *slen = len;
        return SHD_OK;
    case SHD_TNUMBER: shd_blob_io(d, r, off, num, sizeof *num, SHD_IO_READ); return SHD_OK;
    default:
        shd_blob_io(d, r, off, &b, 1, SHD_IO_READ);
        *num = b;
        return SHD_OK;
    }
}

typedef struct value {
    int type;
    const char *p;
    size_t len;
    double num;
    unsigned char b;
} value_t;

/* The bytes a scalar value is stored as, or -1 for a type that is not one. */
static int encode(value_t *v, int type, const char *str, size_t slen, double num)
{
    *v = (value_t){.type = type, .num = num, .b = num != 0};
    switch (type) {
    case SHD_TSTRING: v->p = str, v->len = slen; return 0;
    case SHD_TNUMBER: v->p = (const char *)&v->num, v->len = sizeof v->num; return 0;
    case SHD_TBOOLEAN: v->p = (const char *)&v->b, v->len = 1; return 0;
    case SHD_TNIL: return 0;
    default: return -1;
    }
}

static void fill(shdict_t *d, shd_ref_t r, const value_t *v, uint32_t flags, int64_t expires)
{
    shd_item_t *it = shd_item(d, r);
    it->expires = expires;
    it->flags = flags;
    it->type = (uint8_t)v->type;
    shd_blob_io(d, r, shd_item_value_off(it), (void *)v->p, v->len, SHD_IO_WRITE);
}

static int store_locked(shdict_t *d, int op, const char *key, size_t klen, uint64_t h, const value_t *v,
                        uint32_t flags, int64_t expires, int64_t now, int *forcible)
{
    shd_ref_t r;
    shd_expire_tail(d, 1, now);
    int found = shd_lookup(d, key, klen, h, now, &r);
    if (op == SHD_REPLACE && found != SHD_VALID) return SHD_NOT_FOUND;
    if ((op == SHD_ADD || op == SHD_SAFE_ADD) && found == SHD_VALID) return SHD_EXISTS;
    if (found != SHD_MISSING) {
        shd_item_t *it = shd_item(d, r);
        /* Same length, not a list: rewritten in place (it is at the LRU head already). */
        if (v->type != SHD_TNIL && v->len == it->vlen && it->type != SHD_TLIST) {
            fill(d, r, v, flags, expires);
            return SHD_OK;
        }
        shd_item_remove(d, r); /* before allocating the new one, as ngx_lua */
    }
    if (v->type == SHD_TNIL) return SHD_OK;
    int evict = op != SHD_SAFE_SET && op != SHD_SAFE_ADD;
    r = shd_item_new(d, key, klen, h, v->type, v->len, evict, now, forcible);
    if (!r) return SHD_NO_MEMORY;
    fill(d, r, v, flags, expires);
    return SHD_OK;
}

int shdict_store(shdict_t *d, int op, const char *key, size_t klen, int type, const char *str, size_t slen,
                 double num, uint32_t flags, int64_t exptime_ms, int64_t now_ms, int *forcible)
{
    value_t v;
    *forcible = 0;
    if (klen == 0 || klen > UINT16_MAX || op < SHD_SET || op > SHD_REPLACE) return SHD_INVALID;
    if (encode(&v, type, str, slen, num) != 0) return SHD_INVALID;
    /* ngx_lua: "attempt to add or replace nil values". */
    if (type == SHD_TNIL && op != SHD_SET && op != SHD_SAFE_SET) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    int rc = store_locked(d, op, key, klen, h, &v, flags, shd_deadline(now_ms, exptime_ms), now_ms, forcible);
    shd_unlock(d);
    return rc;
}

int shdict_get(shdict_t *d, const char *key, size_t klen, int64_t now_ms, int get_stale, int *type, char **str,
               size_t *slen, double *num, uint32_t *flags, int *is_stale)
{
    shd_ref_t r;
    int rc = SHD_OK;
    *type = SHD_TNIL;
    *flags = 0;
    *is_stale = 0; /* every out parameter but the value set on every path: none read unset */
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    if (!get_stale) shd_expire_tail(d, 1, now_ms); /* get_stale must still see them */
    int found = shd_lookup(d, key, klen, h, now_ms, &r);
    if (found == SHD_MISSING || (found == SHD_EXPIRED && !get_stale)) {
        rc = SHD_NOT_FOUND;
    } else {
        shd_item_t *it = shd_item(d, r);
        *type = it->type;
        *flags = it->flags;
        *is_stale = found == SHD_EXPIRED;
        if (it->type != SHD_TLIST)
            rc = shd_read_value(d, r, shd_item_value_off(it), it->type, it->vlen, str, slen, num);
    }
    shd_unlock(d);
    return rc;
}

/* A missing or expired key with init: ngx_lua reuses an expired item whose value has a
 * double's size (whatever its type, not a list), else makes a new one, evicting if needed. */
static int incr_create(shdict_t *d, const char *key, size_t klen, uint64_t h, shd_ref_t r, double v,
                       int64_t expires, int64_t now, int *forcible)
{
    value_t val = {.type = SHD_TNUMBER, .num = v, .len = sizeof v};
    val.p = (const char *)&val.num;
    if (r && (shd_item(d, r)->vlen != sizeof v || shd_item(d, r)->type == SHD_TLIST)) {
        shd_item_remove(d, r);
        r = 0;
    }
    if (!r && !(r = shd_item_new(d, key, klen, h, SHD_TNUMBER, sizeof v, 1, now, forcible))) return SHD_NO_MEMORY;
    fill(d, r, &val, 0, expires);
    return SHD_OK;
}

static int incr_locked(shdict_t *d, const char *key, size_t klen, uint64_t h, double delta, int has_init,
                       double init, int64_t init_ttl, int64_t now, double *out, int *forcible)
{
    shd_ref_t r;
    shd_expire_tail(d, 1, now);
    int found = shd_lookup(d, key, klen, h, now, &r);
    if (found == SHD_VALID) {
        shd_item_t *it = shd_item(d, r);
        if (it->type != SHD_TNUMBER || it->vlen != sizeof(double)) return SHD_NOT_NUMBER;
        size_t off = shd_item_value_off(it);
        shd_blob_io(d, r, off, out, sizeof *out, SHD_IO_READ);
        *out += delta;
        shd_blob_io(d, r, off, out, sizeof *out, SHD_IO_WRITE);
        return SHD_OK;
    }
    if (!has_init) return SHD_NOT_FOUND;
    *out = delta + init;
    return incr_create(d, key, klen, h, r, *out, shd_deadline(now, init_ttl), now, forcible);
}

int shdict_incr(shdict_t *d, const char *key, size_t klen, double delta, int has_init, double init,
                int64_t init_ttl_ms, int64_t now_ms, double *out, int *forcible)
{
    *forcible = 0;
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    int rc = incr_locked(d, key, klen, h, delta, has_init, init, init_ttl_ms, now_ms, out, forcible);
    shd_unlock(d);
    return rc;
}

int shdict_ttl(shdict_t *d, const char *key, size_t klen, int64_t now_ms, int64_t *ttl_ms)
{
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    shd_ref_t r = shd_peek(d, key, klen, h);
    int64_t expires = r ? shd_item(d, r)->expires : 0;
    shd_unlock(d);
    if (!r) return SHD_NOT_FOUND;
    *ttl_ms = expires ? expires - now_ms : 0;
    return SHD_OK;
}

int shdict_expire(shdict_t *d, const char *key, size_t klen, int64_t exptime_ms, int64_t now_ms)
{
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    shd_ref_t r = shd_peek(d, key, klen, h);
    if (r) shd_item(d, r)->expires = shd_deadline(now_ms, exptime_ms);
    shd_unlock(d);
    return r ? SHD_OK : SHD_NOT_FOUND;
}

void shdict_flush_all(shdict_t *d)
{
    shd_lock(d);
    for (shd_ref_t r = d->lru_head; r; r = shd_item(d, r)->next) shd_item(d, r)->expires = 1;
    shd_expire_tail(d, 0, 1); /* every item has expired by any clock now */
    shd_unlock(d);
}

int shdict_flush_expired(shdict_t *d, int max, int64_t now_ms)
{
    int freed = 0;
    shd_lock(d);
    for (shd_ref_t r = d->lru_tail, prev; r; r = prev) {
        shd_item_t *it = shd_item(d, r);
        prev = it->prev;
        if (it->expires == 0 || it->expires > now_ms) continue;
        shd_item_remove(d, r);
        if (++freed == max) break; /* max <= 0 never matches: all, as ngx_lua */
    }
    shd_unlock(d);
    return freed;
}

/* Calls each() with the key of item r: in place when contiguous, else through a copy. */
static int key_out(shdict_t *d, shd_ref_t r, void (*each)(void *, const char *, size_t), void *ud)
{
    shd_item_t *it = shd_item(d, r);
    if (SHD_ITEM_HDR + it->klen <= SHD_PAGE) {
        each(ud, it->key, it->klen);
        return 0;
    }
    char *k = malloc(it->klen);
    if (!k) return -1;
    shd_blob_io(d, r, SHD_ITEM_HDR, k, it->klen, SHD_IO_READ);
    each(ud, k, it->klen);
    free(k);
    return 0;
}

int shdict_get_keys(shdict_t *d, int max, int64_t now_ms, void (*each)(void *ud, const char *key, size_t klen),
                    void *ud)
{
    int n = 0;
    shd_lock(d);
    for (shd_ref_t r = d->lru_tail; r; r = shd_item(d, r)->prev) {
        shd_item_t *it = shd_item(d, r);
        if (it->expires != 0 && it->expires <= now_ms) continue;
        if (key_out(d, r, each, ud) != 0) {
            n = SHD_NO_MEMORY;
            break;
        }
        if (++n == max) break;
    }
    shd_unlock(d);
    return n;
}
