/* shdict_int.h: the layout of a shared-dict zone, shared by the files that implement it
 * (shdict.c: zone, lock, index and LRU; shdict_ops.c and shdict_list.c: the operations;
 * shdict_slab.c: the allocator; shdict_check.c: the consistency walk). Not for callers.
 *
 * Zone layout, all at offsets from the zone's start:
 *   struct shdict | hash buckets | page descriptors | (to a 4096 boundary) pages
 * Everything inside refers to everything else by shd_ref_t, an offset in 8-byte units
 * (every allocation is 8-aligned), so a 32-bit reference reaches 32 GiB, and 0 is "none"
 * (the header sits at 0). */
#ifndef TCPLUA_SHDICT_INT_H
#define TCPLUA_SHDICT_INT_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shdict.h"

#define SHD_MAGIC 0x54434c53u /* "SLCT" */
#define SHD_VERSION 1u
#define SHD_PAGE_SHIFT 12
#define SHD_PAGE ((size_t)1 << SHD_PAGE_SHIFT)
#define SHD_SLAB_MAX 2048 /* larger blobs take whole pages */
#define SHD_NCLASS 31
#define SHD_NOPAGE UINT32_MAX
#define SHD_MAX_ZONE ((size_t)1 << 35) /* 2^32 references of 8 bytes */
#define SHD_EVICT_ROUNDS 30            /* ngx_lua's bound on forced expiries per allocation */

typedef uint32_t shd_ref_t;

/* One descriptor per page. */
enum {
    PG_FREE,  /* next: the next free page */
    PG_SLAB,  /* objects of class cls; prev/next: the class's list of pages with room */
    PG_BLOB,  /* first page of a blob larger than SHD_SLAB_MAX; next: its next page */
    PG_CHUNK, /* a following page of such a blob; next: its next page */
};
typedef struct shd_page {
    uint32_t prev, next;
    uint16_t used; /* PG_SLAB: objects allocated */
    uint16_t bump; /* PG_SLAB: objects ever carved out; those freed are on the free list */
    uint16_t free; /* PG_SLAB: first free object's index + 1; 0 = none below bump */
    uint8_t type;
    uint8_t cls;
} shd_page_t;

struct shdict {
    uint32_t magic, version;
    uint64_t size;
    pthread_mutex_t lock;
    uint64_t seed;      /* of the key hash, random per zone (flooding a bucket takes guessing it) */
    uint32_t mask;      /* buckets - 1 */
    shd_ref_t buckets;  /* shd_ref_t[mask + 1], each the head of a chain of items */
    shd_ref_t lru_head; /* most recently used item */
    shd_ref_t lru_tail; /* least recently used item: evicted first */
    uint32_t count;     /* items */
    uint32_t recovered; /* times the lock was taken over from a dead owner */
    uint32_t cleared;   /* of those, times the structure was inconsistent and was cleared */
    uint64_t descs_off; /* byte offset of the page descriptors */
    uint64_t pages_off; /* byte offset of page 0 (a multiple of 4096) */
    uint32_t npages;
    uint32_t nfree;               /* pages on the free stack */
    uint32_t free_page;           /* top of the free stack, SHD_NOPAGE when empty */
    uint32_t partial[SHD_NCLASS]; /* per class, the first slab page with room */
};

/* An item: the header, then the key, then the value bytes (a list: shd_list_t). */
typedef struct shd_item {
    int64_t expires; /* ms since the epoch; 0 = never */
    shd_ref_t hnext; /* next item in the bucket's chain */
    shd_ref_t prev;  /* LRU neighbour towards the head (more recent) */
    shd_ref_t next;  /* LRU neighbour towards the tail */
    uint32_t hash;   /* low half of the key's hash: its bucket, and a filter before comparing keys */
    uint32_t vlen;   /* value bytes; a list: its number of elements */
    uint32_t flags;
    uint16_t klen;
    uint8_t type;
    uint8_t pad;
    char key[];
} shd_item_t;
#define SHD_ITEM_HDR offsetof(shd_item_t, key)

/* A list value (in its item, after the key; maybe unaligned, so copied in and out). */
typedef struct shd_list {
    shd_ref_t first, last;
} shd_list_t;

/* A list element: its own allocation. */
typedef struct shd_elem {
    shd_ref_t prev, next;
    uint32_t len;
    uint8_t type;
    char data[];
} shd_elem_t;
#define SHD_ELEM_HDR offsetof(shd_elem_t, data)

static inline char *shd_at(const shdict_t *d, shd_ref_t r)
{
    return (char *)d + ((size_t)r << 3);
}
static inline shd_ref_t shd_ref(const shdict_t *d, const void *p)
{
    return (shd_ref_t)(((const char *)p - (const char *)d) >> 3);
}
static inline shd_item_t *shd_item(const shdict_t *d, shd_ref_t r) { return (shd_item_t *)shd_at(d, r); }
static inline shd_elem_t *shd_elem(const shdict_t *d, shd_ref_t r) { return (shd_elem_t *)shd_at(d, r); }
static inline shd_page_t *shd_desc(const shdict_t *d, uint32_t pg)
{
    return (shd_page_t *)((char *)d + d->descs_off) + pg;
}
static inline char *shd_page_addr(const shdict_t *d, uint32_t pg)
{
    return (char *)d + d->pages_off + ((size_t)pg << SHD_PAGE_SHIFT);
}
static inline uint32_t shd_page_of(const shdict_t *d, shd_ref_t r)
{
    return (uint32_t)((((size_t)r << 3) - d->pages_off) >> SHD_PAGE_SHIFT);
}

/* shdict_slab.c: the allocator. */
typedef struct shd_layout {
    uint32_t mask;
    uint64_t buckets_off, descs_off, pages_off;
    uint32_t npages;
} shd_layout_t;
int shd_layout(size_t size, shd_layout_t *l); /* 0, or -1 when no page fits */
void shd_slab_init(shdict_t *d);
shd_ref_t shd_alloc(shdict_t *d, size_t n); /* 0 when no room */
void shd_free(shdict_t *d, shd_ref_t r);
int shd_fits_ever(const shdict_t *d, size_t n); /* could n bytes be allocated in an empty zone? */
unsigned shd_class_of(size_t n);                /* n <= SHD_SLAB_MAX */
size_t shd_class_size(unsigned c);
unsigned shd_class_per_page(unsigned c);
enum {
    SHD_IO_READ,  /* blob -> buf */
    SHD_IO_WRITE, /* buf -> blob */
    SHD_IO_CMP    /* memcmp(blob, buf) != 0 */
};
int shd_blob_io_chained(const shdict_t *d, shd_ref_t r, size_t off, void *buf, size_t n, int op);
/* Bytes [off, off + n) of the blob at r against buf; 0, or nonzero for a CMP difference.
 * A blob's first 4096 bytes are contiguous at shd_at(r); the rest follow page by page.
 * Inline: every value and key goes through here, and op is a constant at each call. */
static inline int shd_blob_io(const shdict_t *d, shd_ref_t r, size_t off, void *buf, size_t n, int op)
{
    if (n == 0) return 0; /* buf may be NULL then, which memcpy must not see */
    if (off + n > SHD_PAGE) return shd_blob_io_chained(d, r, off, buf, n, op);
    char *p = shd_at(d, r) + off;
    switch (op) {
    case SHD_IO_READ: memcpy(buf, p, n); return 0;
    case SHD_IO_WRITE: memcpy(p, buf, n); return 0;
    default: return memcmp(p, buf, n) != 0;
    }
}

/* The key hash: multiply-fold (as wyhash), 16 bytes per step, seeded per zone. Inline: it
 * runs once per operation, before the lock. */
static inline uint64_t shd_fold(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t shd_rd(const char *p, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);
    return v;
}

static inline uint64_t shd_hash(const shdict_t *d, const char *key, size_t n)
{
    const uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull, k3 = 0x8ebc6af09c88c6e3ull;
    uint64_t h = d->seed ^ shd_fold(n ^ k1, k2);
    for (; n > 16; key += 16, n -= 16) h = shd_fold(shd_rd(key, 8) ^ k1, shd_rd(key + 8, 8) ^ h);
    uint64_t a = n > 8 ? shd_rd(key, 8) : shd_rd(key, n), b = n > 8 ? shd_rd(key + 8, n - 8) : 0;
    return shd_fold(shd_fold(a ^ k2, b ^ h) ^ k3, h ^ n);
}

/* shdict.c: zone, lock, index, LRU and items. */
void shd_lock(shdict_t *d);
void shd_unlock(shdict_t *d);
void shd_clear(shdict_t *d); /* formats everything but the header's identity and lock */
enum {
    SHD_MISSING,
    SHD_VALID,
    SHD_EXPIRED
};
/* Finds key, moving a found item (even an expired one, as ngx_lua) to the LRU head. */
int shd_lookup(shdict_t *d, const char *key, size_t klen, uint64_t h, int64_t now, shd_ref_t *out);
shd_ref_t shd_peek(shdict_t *d, const char *key, size_t klen, uint64_t h); /* no LRU move */
void shd_lru_touch(shdict_t *d, shd_ref_t r);
/* A new item of the given value size (a list: sizeof(shd_list_t)), linked at the LRU head
 * with its key, type and vlen set and flags/expires 0; 0 when no room. evict: make room from
 * the LRU tail as ngx_lua's set does, setting *forcible. */
shd_ref_t shd_item_new(shdict_t *d, const char *key, size_t klen, uint64_t h, int type, size_t vbytes, int evict,
                       int64_t now, int *forcible);
void shd_item_remove(shdict_t *d, shd_ref_t r);
void shd_free_elems(shdict_t *d, shd_ref_t r);        /* empties list item r */
int shd_expire_tail(shdict_t *d, int n, int64_t now); /* ngx_lua's ngx_http_lua_shdict_expire */
static inline size_t shd_item_value_off(const shd_item_t *it) { return SHD_ITEM_HDR + it->klen; }
static inline int shd_is_expired(const shd_item_t *it, int64_t now) { return it->expires != 0 && it->expires < now; }
int64_t shd_deadline(int64_t now, int64_t ttl); /* now + ttl, saturated; 0 when ttl <= 0 */

/* shdict_ops.c: copies a scalar value out as shdict_get returns it (a string longer than
 * *slen into malloc'd memory). SHD_OK or SHD_NO_MEMORY. */
int shd_read_value(shdict_t *d, shd_ref_t r, size_t off, int type, size_t len, char **str, size_t *slen,
                   double *num);

/* shdict_check.c: the consistency walk with the lock held. */
int shd_check_locked(shdict_t *d, char *err, size_t errlen);
#endif
