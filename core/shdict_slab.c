/* shdict_slab.c: the allocator of a shared-dict zone: pages of 4096 bytes, carved into
 * objects of one size class each (small blobs), or chained one by one (large blobs).
 *
 * Design, and why:
 * - As nginx's ngx_slab (which ngx_lua's dicts use): the zone's pages are either free, or a
 *   slab page of one size class, so free_space() is whole free pages as in ngx_lua.
 * - Size classes are multiples of 8 up to 128, then four per power of two up to 2048:
 *   16, 24, .. 128, 160, 192, 224, 256, 320, .. 1792, 2048. Internal waste is below 20% for
 *   objects over 128 bytes and at most 7 bytes below (ngx_slab's powers of two waste up to
 *   half: a 16-byte key and 32-byte value item is 84 bytes here, in the 88 class).
 * - A slab page keeps its own free list (indexes inside the freed objects) and a bump index
 *   for objects never used, so a fresh page costs O(1). Pages with room are on a doubly
 *   linked list per class; a page whose last object is freed returns to the free pages at
 *   once, so a class never holds empty pages that another could use.
 * - A blob larger than 2048 bytes is a chain of single pages linked through their
 *   descriptors (its first page holds bytes 0..4095, and so on), not a contiguous run. So
 *   there is no external fragmentation at page level: any blob whose page count is at most
 *   the free pages fits, whatever the history (nginx needs a contiguous run and can fail with
 *   free_space() far above the request). Reading or writing past the first page walks the
 *   chain; the dictionary only ever copies values in and out, never hands out pointers.
 * Fragmentation is thus bounded by the class rounding (<= 20% above 128 bytes), the unused
 * tail of slab pages (< one object per page) and partly used pages of each class. */
#include "shdict_int.h"
#include <string.h>

static const uint16_t class_sizes[SHD_NCLASS] = {
    16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128,
    160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048};

unsigned shd_class_of(size_t n)
{
    if (n <= 16) return 0;
    if (n <= 128) return (unsigned)((n + 7) / 8 - 2);
    /* (128, 2048]: e = floor(log2(n - 1)) >= 7; four classes per power of two. */
    unsigned e = 63 - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return 15 + (e - 7) * 4 + (unsigned)((n - 1) >> (e - 2)) - 4;
}

size_t shd_class_size(unsigned c) { return class_sizes[c]; }
unsigned shd_class_per_page(unsigned c) { return (unsigned)(SHD_PAGE / class_sizes[c]); }

static size_t pages_for(size_t n) { return (n + SHD_PAGE - 1) >> SHD_PAGE_SHIFT; }

int shd_layout(size_t size, shd_layout_t *l)
{
    /* One bucket per 128 bytes of zone (a power of two, rounded down): about one item per
     * bucket when items are small, for 3% of the zone at most. */
    size_t want = size / 128, nb = 8;
    while (nb * 2 <= want) nb *= 2;
    l->mask = (uint32_t)(nb - 1);
    l->buckets_off = (sizeof(struct shdict) + 7) & ~(size_t)7;
    l->descs_off = l->buckets_off + nb * sizeof(shd_ref_t);
    if (l->descs_off >= size) return -1;
    size_t n = (size - l->descs_off) / (SHD_PAGE + sizeof(shd_page_t));
    for (;; n--) {
        /* Pages start on a 4096 boundary of the zone (a page of memory when it is mapped). */
        l->pages_off = (l->descs_off + n * sizeof(shd_page_t) + SHD_PAGE - 1) & ~(SHD_PAGE - 1);
        if (n == 0 || l->pages_off + n * SHD_PAGE <= size) break;
    }
    l->npages = (uint32_t)n;
    return n > 0 ? 0 : -1;
}

void shd_slab_init(shdict_t *d)
{
    d->free_page = SHD_NOPAGE;
    for (uint32_t pg = d->npages; pg-- > 0;) {
        *shd_desc(d, pg) = (shd_page_t){.type = PG_FREE, .next = d->free_page, .prev = SHD_NOPAGE};
        d->free_page = pg; /* page 0 on top: low pages are used first */
    }
    d->nfree = d->npages;
    for (unsigned c = 0; c < SHD_NCLASS; c++) d->partial[c] = SHD_NOPAGE;
}

static uint32_t page_take(shdict_t *d)
{
    uint32_t pg = d->free_page;
    if (pg == SHD_NOPAGE) return pg;
    d->free_page = shd_desc(d, pg)->next;
    d->nfree--;
    return pg;
}

static void page_put(shdict_t *d, uint32_t pg)
{
    *shd_desc(d, pg) = (shd_page_t){.type = PG_FREE, .next = d->free_page, .prev = SHD_NOPAGE};
    d->free_page = pg;
    d->nfree++;
}

static void partial_push(shdict_t *d, unsigned c, uint32_t pg)
{
    shd_page_t *p = shd_desc(d, pg);
    p->prev = SHD_NOPAGE;
    p->next = d->partial[c];
    if (p->next != SHD_NOPAGE) shd_desc(d, p->next)->prev = pg;
    d->partial[c] = pg;
}

static void partial_remove(shdict_t *d, unsigned c, uint32_t pg)
{
    shd_page_t *p = shd_desc(d, pg);
    if (p->prev != SHD_NOPAGE) shd_desc(d, p->prev)->next = p->next;
    else d->partial[c] = p->next;
    if (p->next != SHD_NOPAGE) shd_desc(d, p->next)->prev = p->prev;
    p->prev = p->next = SHD_NOPAGE;
}

static shd_ref_t alloc_small(shdict_t *d, unsigned c)
{
    uint32_t pg = d->partial[c];
    if (pg == SHD_NOPAGE) {
        if ((pg = page_take(d)) == SHD_NOPAGE) return 0;
        *shd_desc(d, pg) = (shd_page_t){.type = PG_SLAB, .cls = (uint8_t)c};
        partial_push(d, c, pg);
    }
    shd_page_t *p = shd_desc(d, pg);
    char *base = shd_page_addr(d, pg);
    unsigned idx;
    if (p->free) {
        idx = p->free - 1u;
        memcpy(&p->free, base + idx * class_sizes[c], sizeof p->free);
    } else {
        idx = p->bump++;
    }
    if (++p->used == shd_class_per_page(c)) partial_remove(d, c, pg);
    return shd_ref(d, base + idx * class_sizes[c]);
}

/* Takes the pages last to first so that each links to the one after it. */
static shd_ref_t alloc_pages(shdict_t *d, size_t n)
{
    size_t k = pages_for(n);
    if (k > d->nfree) return 0;
    uint32_t first = SHD_NOPAGE;
    while (k-- > 0) {
        uint32_t pg = page_take(d);
        *shd_desc(d, pg) = (shd_page_t){.type = PG_CHUNK, .next = first, .prev = SHD_NOPAGE};
        first = pg;
    }
    shd_desc(d, first)->type = PG_BLOB;
    return shd_ref(d, shd_page_addr(d, first));
}

shd_ref_t shd_alloc(shdict_t *d, size_t n)
{
    return n <= SHD_SLAB_MAX ? alloc_small(d, shd_class_of(n)) : alloc_pages(d, n);
}

void shd_free(shdict_t *d, shd_ref_t r)
{
    uint32_t pg = shd_page_of(d, r);
    shd_page_t *p = shd_desc(d, pg);
    if (p->type == PG_BLOB) {
        while (pg != SHD_NOPAGE) {
            uint32_t next = shd_desc(d, pg)->next;
            page_put(d, pg);
            pg = next;
        }
        return;
    }
    unsigned c = p->cls;
    char *obj = shd_at(d, r);
    uint16_t idx = (uint16_t)((size_t)(obj - shd_page_addr(d, pg)) / class_sizes[c]);
    memcpy(obj, &p->free, sizeof p->free);
    p->free = (uint16_t)(idx + 1);
    if (p->used-- == shd_class_per_page(c)) partial_push(d, c, pg);
    if (p->used == 0) {
        partial_remove(d, c, pg);
        page_put(d, pg);
    }
}

int shd_fits_ever(const shdict_t *d, size_t n)
{
    return n <= SHD_SLAB_MAX || pages_for(n) <= d->npages;
}

static int io(char *p, void *buf, size_t n, int op)
{
    switch (op) {
    case SHD_IO_READ: memcpy(buf, p, n); return 0;
    case SHD_IO_WRITE: memcpy(p, buf, n); return 0;
    default: return memcmp(p, buf, n) != 0;
    }
}

int shd_blob_io_chained(const shdict_t *d, shd_ref_t r, size_t off, void *buf, size_t n, int op)
{
    uint32_t pg = shd_page_of(d, r);
    for (; off >= SHD_PAGE; off -= SHD_PAGE) pg = shd_desc(d, pg)->next;
    for (char *b = buf; n > 0; off = 0, pg = shd_desc(d, pg)->next) {
        size_t k = SHD_PAGE - off < n ? SHD_PAGE - off : n;
        if (io(shd_page_addr(d, pg) + off, b, k, op)) return 1;
        b += k;
        n -= k;
    }
    return 0;
}
