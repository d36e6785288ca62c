/* shdict.c: a shared dict's zone (format, attach), its lock, and its items: the hash index,
 * the LRU list and the item lifecycle that the operations (shdict_ops.c, shdict_list.c) are
 * written with. Layout in shdict_int.h, allocator in shdict_slab.c. */
#include "shdict_int.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

size_t shdict_min_size(void)
{
    shd_layout_t l;
    size_t size = SHD_PAGE;
    while (shd_layout(size, &l) != 0) size += SHD_PAGE;
    return size;
}

static int init_lock(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc == 0) rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (rc == 0) rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (rc == 0) rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

static uint64_t random_seed(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) == (ssize_t)sizeof s) return s;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32);
}

void shd_clear(shdict_t *d)
{
    memset(shd_at(d, d->buckets), 0, ((size_t)d->mask + 1) * sizeof(shd_ref_t));
    d->lru_head = d->lru_tail = 0;
    d->count = 0;
    shd_slab_init(d);
}

static shdict_t *format(void *zone, size_t size, char *err, size_t errlen)
{
    shd_layout_t l;
    shdict_t *d = zone;
    if (shd_layout(size, &l) != 0) {
        snprintf(err, errlen, "zone of %zu bytes too small for a shared dict (at least %zu)", size, shdict_min_size());
        return NULL;
    }
    *d = (shdict_t){.version = SHD_VERSION, .size = size, .seed = random_seed(), .mask = l.mask};
    d->buckets = (shd_ref_t)(l.buckets_off >> 3);
    d->descs_off = l.descs_off;
    d->pages_off = l.pages_off;
    d->npages = l.npages;
    int rc = init_lock(&d->lock);
    if (rc != 0) {
        snprintf(err, errlen, "shared dict lock: %s", strerror(rc));
        return NULL;
    }
    shd_clear(d);
    d->magic = SHD_MAGIC; /* last: a zone half formatted is not a dict */
    return d;
}

shdict_t *shdict_open(void *zone, size_t size, int fresh, char *err, size_t errlen)
{
    shdict_t *d = zone;
    if ((uintptr_t)zone % 8 != 0 || size > SHD_MAX_ZONE) {
        snprintf(err, errlen, "shared dict zone must be 8-byte aligned and at most 32 GiB");
        return NULL;
    }
    if (fresh) return format(zone, size, err, errlen);
    if (size < sizeof *d || d->magic != SHD_MAGIC || d->version != SHD_VERSION || d->size != size) {
        snprintf(err, errlen, "zone of %zu bytes holds no shared dict of version %u", size, SHD_VERSION);
        return NULL;
    }
    return d;
}

/* The lock's owner died inside a critical section (killed, or crashed): its update may be
 * half done. The walk decides: a consistent structure is kept (at worst that one update is
 * lost or its value half written); an inconsistent one is cleared, since it is a cache and
 * a wrong offset followed later would corrupt the zone or crash every worker. */
static void recover(shdict_t *d)
{
    char err[256];
    pthread_mutex_consistent(&d->lock);
    d->recovered++;
    if (shd_check_locked(d, err, sizeof err) == 0) {
        log_error(LOG_ALERT, "shared dict: a process died holding its lock; the dict is consistent and kept");
        return;
    }
    log_error(LOG_ALERT, "shared dict: a process died holding its lock and left it inconsistent (%s); cleared", err);
    shd_clear(d);
    d->cleared++;
}

void shd_lock(shdict_t *d)
{
    int rc = pthread_mutex_lock(&d->lock);
    if (rc == EOWNERDEAD) recover(d);
    else if (rc != 0) abort(); /* not a robust mutex any more: the zone is not ours */
}

void shd_unlock(shdict_t *d)
{
    pthread_mutex_unlock(&d->lock);
}

size_t shdict_capacity(shdict_t *d)
{
    return d->size;
}

size_t shdict_free_space(shdict_t *d)
{
    shd_lock(d);
    size_t n = d->nfree;
    shd_unlock(d);
    return n * SHD_PAGE;
}

/* The low 32 bits of the hash are stored in the item: they give its bucket back when it is
 * removed (no rehash of the key) and filter key comparisons along the chain. */
static shd_ref_t *bucket(shdict_t *d, uint32_t h)
{
    return (shd_ref_t *)shd_at(d, d->buckets) + (h & d->mask);
}

static int key_is(shdict_t *d, shd_ref_t r, const char *key, size_t klen, uint32_t tag)
{
    shd_item_t *it = shd_item(d, r);
    return it->hash == tag && it->klen == klen && shd_blob_io(d, r, SHD_ITEM_HDR, (void *)key, klen, SHD_IO_CMP) == 0;
}

shd_ref_t shd_peek(shdict_t *d, const char *key, size_t klen, uint64_t h)
{
    shd_ref_t r = *bucket(d, h);
    while (r && !key_is(d, r, key, klen, (uint32_t)h)) r = shd_item(d, r)->hnext;
    return r;
}

static void lru_unlink(shdict_t *d, shd_ref_t r)
{
    shd_item_t *it = shd_item(d, r);
    if (it->prev) shd_item(d, it->prev)->next = it->next;
    else d->lru_head = it->next;
    if (it->next) shd_item(d, it->next)->prev = it->prev;
    else d->lru_tail = it->prev;
}

static void lru_push(shdict_t *d, shd_ref_t r)
{
    shd_item_t *it = shd_item(d, r);
    it->prev = 0;
    it->next = d->lru_head;
    if (d->lru_head) shd_item(d, d->lru_head)->prev = r;
    else d->lru_tail = r;
    d->lru_head = r;
}

void shd_lru_touch(shdict_t *d, shd_ref_t r)
{
    if (d->lru_head == r) return;
    lru_unlink(d, r);
    lru_push(d, r);
}

int shd_lookup(shdict_t *d, const char *key, size_t klen, uint64_t h, int64_t now, shd_ref_t *out)
{
    shd_ref_t r = *out = shd_peek(d, key, klen, h);
    if (!r) return SHD_MISSING;
    shd_lru_touch(d, r);
    return shd_is_expired(shd_item(d, r), now) ? SHD_EXPIRED : SHD_VALID;
}

int64_t shd_deadline(int64_t now, int64_t ttl)
{
    int64_t t;
    if (ttl <= 0) return 0;
    return __builtin_add_overflow(now, ttl, &t) ? INT64_MAX : t;
}

static size_t item_size(size_t klen, int type, size_t vbytes)
{
    return SHD_ITEM_HDR + klen + (type == SHD_TLIST ? sizeof(shd_list_t) : vbytes);
}

/* ngx_lua's set: up to 30 rounds of one forced expiry at the LRU tail (plus up to two
 * expired items behind it), trying again after each. */
static shd_ref_t alloc_evicting(shdict_t *d, size_t n, int64_t now, int *forcible)
{
    shd_ref_t r = shd_alloc(d, n);
    for (int i = 0; !r && i < SHD_EVICT_ROUNDS; i++) {
        if (shd_expire_tail(d, 0, now) == 0) break;
        *forcible = 1;
        r = shd_alloc(d, n);
    }
    return r;
}

shd_ref_t shd_item_new(shdict_t *d, const char *key, size_t klen, uint64_t h, int type, size_t vbytes, int evict,
                       int64_t now, int *forcible)
{
    size_t n = item_size(klen, type, vbytes);
    /* A value that cannot fit even in an empty zone: ngx_lua would still evict 30 rounds of
     * items for nothing; this does not. */
    if (vbytes > UINT32_MAX || !shd_fits_ever(d, n)) return 0;
    shd_ref_t r = evict ? alloc_evicting(d, n, now, forcible) : shd_alloc(d, n);
    if (!r) return 0;
    shd_item_t *it = shd_item(d, r);
    memset(it, 0, SHD_ITEM_HDR); /* not sizeof: its padding would overlap the key */
    it->hash = (uint32_t)h;
    it->klen = (uint16_t)klen;
    it->type = (uint8_t)type;
    it->vlen = type == SHD_TLIST ? 0 : (uint32_t)vbytes;
    shd_blob_io(d, r, SHD_ITEM_HDR, (void *)key, klen, SHD_IO_WRITE);
    if (type == SHD_TLIST) {
        shd_list_t empty = {0};
        shd_blob_io(d, r, SHD_ITEM_HDR + klen, &empty, sizeof empty, SHD_IO_WRITE);
    }
    shd_ref_t *b = bucket(d, h);
    it->hnext = *b;
    *b = r;
    lru_push(d, r);
    d->count++;
    return r;
}

void shd_free_elems(shdict_t *d, shd_ref_t r)
{
    shd_list_t l;
    shd_item_t *it = shd_item(d, r);
    shd_blob_io(d, r, shd_item_value_off(it), &l, sizeof l, SHD_IO_READ);
    for (shd_ref_t e = l.first, next; e; e = next) {
        next = shd_elem(d, e)->next;
        shd_free(d, e);
    }
    l = (shd_list_t){0};
    shd_blob_io(d, r, shd_item_value_off(it), &l, sizeof l, SHD_IO_WRITE);
    it->vlen = 0;
}

void shd_item_remove(shdict_t *d, shd_ref_t r)
{
    shd_item_t *it = shd_item(d, r);
    shd_ref_t *p = bucket(d, it->hash);
    while (*p != r) p = &shd_item(d, *p)->hnext;
    *p = it->hnext;
    if (it->type == SHD_TLIST) shd_free_elems(d, r);
    lru_unlink(d, r);
    d->count--;
    shd_free(d, r);
}

/* ngx_lua's ngx_http_lua_shdict_expire(ctx, n). n == 0 (eviction) first frees the LRU tail
 * whatever its expiry; then, n == 1 from the start, up to two more tail items while they are
 * expired. Its test is expires <= now where a lookup's is expires < now: ngx_lua's. */
int shd_expire_tail(shdict_t *d, int n, int64_t now)
{
    int freed = 0;
    for (; n < 3 && d->lru_tail; n++) {
        shd_item_t *it = shd_item(d, d->lru_tail);
        if (n != 0 && (it->expires == 0 || it->expires > now)) break;
        shd_item_remove(d, d->lru_tail);
        freed++;
    }
    return freed;
}
