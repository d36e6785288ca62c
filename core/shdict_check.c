/* shdict_check.c: the consistency walk of a shared-dict zone: every reference in bounds and
 * of the right kind, every list acyclic and linked both ways, the index and the LRU holding
 * the same items, every allocated object reached exactly once and every free one never.
 * It runs with the lock held: when the lock is taken over from a dead owner (shdict.c
 * decides from it whether to keep or clear the zone), and in tests and the fuzzer.
 * Marks live in malloc'd maps: one bit per 8-byte unit of the pages (an object's start) and
 * one byte per page, so the walk is linear in the zone's size. */
#include "shdict_int.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    PM_FREE = 1,  /* on the free stack */
    PM_CHAIN = 2, /* a page of a blob's chain */
    PM_ROOM = 3   /* on its class's list of pages with room */
};

typedef struct walk {
    shdict_t *d;
    uint8_t *pmark;      /* per page: PM_* */
    uint8_t *omark;      /* per 8-byte unit of the pages: an object starting there was reached */
    char *kbuf;          /* a key spanning pages copied out, to hash it */
    size_t slab_reached; /* objects reached in slab pages */
    size_t blob_reached;
    char *err;
    size_t errlen;
} walk_t;

static int fail(walk_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(walk_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, w->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int check_header(walk_t *w)
{
    shdict_t *d = w->d;
    shd_layout_t l;
    if (d->magic != SHD_MAGIC || d->version != SHD_VERSION) return fail(w, "bad magic or version");
    if (shd_layout(d->size, &l) != 0 || l.mask != d->mask || l.buckets_off != (size_t)d->buckets << 3
        || l.descs_off != d->descs_off || l.pages_off != d->pages_off || l.npages != d->npages)
        return fail(w, "layout fields do not match the zone size");
    if (d->nfree > d->npages) return fail(w, "%u free pages of %u", d->nfree, d->npages);
    if ((d->lru_head == 0) != (d->count == 0) || (d->lru_tail == 0) != (d->count == 0))
        return fail(w, "LRU ends do not match %u items", d->count);
    return 0;
}

static int check_free_stack(walk_t *w)
{
    shdict_t *d = w->d;
    uint32_t pg = d->free_page;
    for (uint32_t i = 0; i < d->nfree; i++, pg = shd_desc(d, pg)->next) {
        if (pg >= d->npages || shd_desc(d, pg)->type != PG_FREE || w->pmark[pg])
            return fail(w, "free stack: bad page %u at depth %u", pg, i);
        w->pmark[pg] = PM_FREE;
    }
    return pg == SHD_NOPAGE ? 0 : fail(w, "free stack longer than %u pages", d->nfree);
}

static int check_chain(walk_t *w, uint32_t first)
{
    shdict_t *d = w->d;
    w->pmark[first] = PM_CHAIN;
    for (uint32_t pg = shd_desc(d, first)->next; pg != SHD_NOPAGE; pg = shd_desc(d, pg)->next) {
        if (pg >= d->npages || shd_desc(d, pg)->type != PG_CHUNK || w->pmark[pg])
            return fail(w, "blob at page %u: bad chained page %u", first, pg);
        w->pmark[pg] = PM_CHAIN;
    }
    return 0;
}

static int check_room_list(walk_t *w, unsigned c)
{
    shdict_t *d = w->d;
    uint32_t prev = SHD_NOPAGE;
    for (uint32_t pg = d->partial[c]; pg != SHD_NOPAGE; prev = pg, pg = shd_desc(d, pg)->next) {
        shd_page_t *p = shd_desc(d, pg);
        if (pg >= d->npages || p->type != PG_SLAB || p->cls != c || w->pmark[pg] || p->prev != prev
            || p->used >= shd_class_per_page(c))
            return fail(w, "class %u: bad page %u on its list of pages with room", c, pg);
        w->pmark[pg] = PM_ROOM;
    }
    return 0;
}

static int check_page(walk_t *w, uint32_t pg)
{
    shd_page_t *p = shd_desc(w->d, pg);
    switch (p->type) {
    case PG_FREE: return w->pmark[pg] == PM_FREE ? 0 : fail(w, "free page %u not on the free stack", pg);
    case PG_CHUNK: return w->pmark[pg] == PM_CHAIN ? 0 : fail(w, "chained page %u in no blob", pg);
    case PG_BLOB: return 0;
    case PG_SLAB: break;
    default: return fail(w, "page %u of unknown type %u", pg, p->type);
    }
    if (p->cls >= SHD_NCLASS) return fail(w, "slab page %u of class %u", pg, p->cls);
    unsigned per = shd_class_per_page(p->cls);
    if (p->used == 0 || p->used > p->bump || p->bump > per)
        return fail(w, "slab page %u: %u used, %u carved", pg, p->used, p->bump);
    if ((p->used < per) != (w->pmark[pg] == PM_ROOM)) return fail(w, "slab page %u: room and list disagree", pg);
    return 0;
}

static int check_pages(walk_t *w)
{
    shdict_t *d = w->d;
    if (check_free_stack(w) != 0) return -1;
    for (uint32_t pg = 0; pg < d->npages; pg++)
        if (shd_desc(d, pg)->type == PG_BLOB && check_chain(w, pg) != 0) return -1;
    for (unsigned c = 0; c < SHD_NCLASS; c++)
        if (check_room_list(w, c) != 0) return -1;
    for (uint32_t pg = 0; pg < d->npages; pg++)
        if (check_page(w, pg) != 0) return -1;
    return 0;
}

static size_t chain_bytes(shdict_t *d, uint32_t pg)
{
    size_t n = 0;
    for (; pg != SHD_NOPAGE; pg = shd_desc(d, pg)->next) n += SHD_PAGE;
    return n;
}

/* Where r points: the start of an allocated object (of *cap bytes), or -1. */
static int locate(walk_t *w, shd_ref_t r, size_t *cap, const char *what)
{
    shdict_t *d = w->d;
    size_t off = (size_t)r << 3;
    if (off < d->pages_off || off >= d->pages_off + ((size_t)d->npages << SHD_PAGE_SHIFT))
        return fail(w, "%s %u out of the pages", what, r);
    uint32_t pg = shd_page_of(d, r);
    shd_page_t *p = shd_desc(d, pg);
    size_t in = off - (size_t)(shd_page_addr(d, pg) - (char *)d);
    if (p->type == PG_SLAB) {
        *cap = shd_class_size(p->cls);
        if (in % *cap == 0 && in / *cap < p->bump) return 0;
    } else if (p->type == PG_BLOB && in == 0) {
        *cap = chain_bytes(d, pg);
        return 0;
    }
    return fail(w, "%s %u is no allocated object", what, r);
}

static size_t unit_of(walk_t *w, shd_ref_t r)
{
    return (((size_t)r << 3) - w->d->pages_off) >> 3;
}

static int is_reached(walk_t *w, shd_ref_t r)
{
    size_t u = unit_of(w, r);
    return (w->omark[u / 8] >> u % 8) & 1;
}

/* Marks the object at r (located already) reached; -1 if it was. */
static int claim(walk_t *w, shd_ref_t r, const char *what)
{
    size_t u = unit_of(w, r);
    if (is_reached(w, r)) return fail(w, "%s %u reached twice", what, r);
    w->omark[u / 8] |= (uint8_t)(1u << u % 8);
    if (shd_desc(w->d, shd_page_of(w->d, r))->type == PG_SLAB) w->slab_reached++;
    else w->blob_reached++;
    return 0;
}

static int check_item(walk_t *w, shd_ref_t r, uint32_t b)
{
    shdict_t *d = w->d;
    size_t cap;
    if (locate(w, r, &cap, "item") != 0) return -1;
    if (cap < SHD_ITEM_HDR) return fail(w, "item %u in an object of %zu bytes", r, cap);
    shd_item_t *it = shd_item(d, r);
    int ok = it->type == SHD_TSTRING || it->type == SHD_TLIST || (it->type == SHD_TNUMBER && it->vlen == 8)
          || (it->type == SHD_TBOOLEAN && it->vlen == 1);
    size_t need = SHD_ITEM_HDR + it->klen + (it->type == SHD_TLIST ? sizeof(shd_list_t) : it->vlen);
    if (!ok || it->klen == 0 || need > cap)
        return fail(w, "item %u: type %u, key %u and value %u bytes in %zu", r, it->type, it->klen, it->vlen, cap);
    if (claim(w, r, "item") != 0) return -1;
    const char *key = it->key; /* in place when the key does not leave the first page */
    if (SHD_ITEM_HDR + it->klen > SHD_PAGE) {
        if (!w->kbuf && !(w->kbuf = malloc(UINT16_MAX))) return fail(w, "no memory for the walk");
        shd_blob_io(d, r, SHD_ITEM_HDR, w->kbuf, it->klen, SHD_IO_READ);
        key = w->kbuf;
    }
    uint32_t h = (uint32_t)shd_hash(d, key, it->klen);
    if (h != it->hash || (h & d->mask) != b) return fail(w, "item %u: hash does not match its key or bucket", r);
    return 0;
}

static int check_index(walk_t *w)
{
    shdict_t *d = w->d;
    uint32_t n = 0;
    shd_ref_t *buckets = (shd_ref_t *)shd_at(d, d->buckets);
    for (uint32_t b = 0; b <= d->mask; b++) {
        for (shd_ref_t r = buckets[b]; r; r = shd_item(d, r)->hnext, n++)
            if (check_item(w, r, b) != 0) return -1;
    }
    return n == d->count ? 0 : fail(w, "index holds %u items, count says %u", n, d->count);
}

static int check_elem(walk_t *w, shd_ref_t l, shd_ref_t e, shd_ref_t prev)
{
    size_t cap;
    if (locate(w, e, &cap, "element") != 0) return -1;
    shd_elem_t *el = shd_elem(w->d, e);
    int ok = cap >= SHD_ELEM_HDR && (el->type == SHD_TSTRING || (el->type == SHD_TNUMBER && el->len == 8));
    if (!ok || el->prev != prev || SHD_ELEM_HDR + (size_t)el->len > cap)
        return fail(w, "list %u: bad element %u", l, e);
    return claim(w, e, "element");
}

static int check_list(walk_t *w, shd_ref_t r)
{
    shdict_t *d = w->d;
    shd_list_t l;
    shd_ref_t prev = 0, e;
    uint32_t n = 0;
    shd_blob_io(d, r, shd_item_value_off(shd_item(d, r)), &l, sizeof l, SHD_IO_READ);
    for (e = l.first; e; prev = e, e = shd_elem(d, e)->next, n++)
        if (check_elem(w, r, e, prev) != 0) return -1;
    if (prev != l.last || n != shd_item(d, r)->vlen || n == 0)
        return fail(w, "list %u: %u elements, %u expected, or a bad last", r, n, shd_item(d, r)->vlen);
    return 0;
}

static int check_lru(walk_t *w)
{
    shdict_t *d = w->d;
    shd_ref_t r = d->lru_head, prev = 0;
    /* Only items are marked yet: a marked reference is an item of the index. */
    for (uint32_t i = 0; i < d->count; i++, prev = r, r = shd_item(d, r)->next) {
        size_t cap;
        if (!r || locate(w, r, &cap, "LRU item") != 0 || !is_reached(w, r) || shd_item(d, r)->prev != prev)
            return fail(w, "LRU: bad item %u at %u", r, i);
    }
    if (r != 0 || prev != d->lru_tail) return fail(w, "LRU longer than %u items or a bad tail", d->count);
    for (r = d->lru_head; r; r = shd_item(d, r)->next)
        if (shd_item(d, r)->type == SHD_TLIST && check_list(w, r) != 0) return -1;
    return 0;
}

/* A slab page's free list: below its bump index, never reached, bump - used long. */
static int check_free_objects(walk_t *w, uint32_t pg)
{
    shdict_t *d = w->d;
    shd_page_t *p = shd_desc(d, pg);
    size_t size = shd_class_size(p->cls);
    unsigned n = 0, want = (unsigned)(p->bump - p->used);
    for (uint16_t f = p->free; f; n++) {
        char *obj = shd_page_addr(d, pg) + (f - 1u) * size;
        if (f > p->bump || n >= want) return fail(w, "slab page %u: bad free list", pg);
        if (claim(w, shd_ref(d, obj), "free object") != 0) return -1;
        memcpy(&f, obj, sizeof f);
    }
    return n == want ? 0 : fail(w, "slab page %u: %u free of %u expected", pg, n, want);
}

/* Every object carved out is reached (from the index or a free list): none leaked. */
static int check_accounting(walk_t *w)
{
    shdict_t *d = w->d;
    size_t carved = 0, blobs = 0;
    for (uint32_t pg = 0; pg < d->npages; pg++) {
        shd_page_t *p = shd_desc(d, pg);
        if (p->type == PG_SLAB && check_free_objects(w, pg) != 0) return -1;
        if (p->type == PG_SLAB) carved += p->bump;
        blobs += p->type == PG_BLOB;
    }
    if (carved != w->slab_reached || blobs != w->blob_reached)
        return fail(w, "%zu small and %zu large objects, %zu and %zu reached", carved, blobs, w->slab_reached,
                    w->blob_reached);
    return 0;
}

int shd_check_locked(shdict_t *d, char *err, size_t errlen)
{
    walk_t w = {.d = d, .err = err, .errlen = errlen};
    int rc = check_header(&w);
    if (rc != 0) return rc;
    w.pmark = calloc(d->npages, 1);
    w.omark = calloc(((size_t)d->npages << SHD_PAGE_SHIFT) / 64, 1);
    if (!w.pmark || !w.omark) rc = fail(&w, "no memory for the walk");
    if (rc == 0) rc = check_pages(&w);
    if (rc == 0) rc = check_index(&w);
    if (rc == 0) rc = check_lru(&w);
    if (rc == 0) rc = check_accounting(&w);
    free(w.pmark);
    free(w.omark);
    free(w.kbuf);
    return rc;
}

int shdict_check(shdict_t *d, char *err, size_t errlen)
{
    shd_lock(d);
    int rc = shd_check_locked(d, err, errlen);
    shd_unlock(d);
    return rc;
}
