/* kpool.c: pools of idle upstream connections. Pools live in a hash table by name and are
 * freed when their last connection leaves, so a script that makes up many pool names holds
 * memory only for the connections it parks. Each pool is a list, most recently used first. */
#include "kpool.h"
#include "stream.h"
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <unistd.h>

typedef struct kpool kpool_t;

typedef struct kitem {
    stream_t stream; /* owned by the pool while idle; data = the item */
    kpool_t *pool;
    struct kitem *prev, *next;
    unsigned reused;
} kitem_t;

struct kpool {
    kpool_t *hnext;       /* hash chain */
    kitem_t *head, *tail; /* most / least recently used */
    size_t count;
    int size;
    char name[];
};

static kpool_t **table;
static size_t nbuckets, npools;

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s) h = h * 33 + (unsigned char)*s++;
    return h;
}

static kpool_t **slot(const char *name)
{
    kpool_t **p = &table[hash(name) & (nbuckets - 1)];
    while (*p && strcmp((*p)->name, name) != 0) p = &(*p)->hnext;
    return p;
}

static kpool_t *find(const char *name) { return nbuckets ? *slot(name) : NULL; }

/* Doubles the table (the first call makes it): load stays at most one pool per bucket. */
static int grow(void)
{
    size_t n = nbuckets ? nbuckets * 2 : 16;
    kpool_t **t = calloc(n, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < nbuckets; i++)
        for (kpool_t *p = table[i], *next; p; p = next) {
            next = p->hnext;
            p->hnext = t[hash(p->name) & (n - 1)];
            t[hash(p->name) & (n - 1)] = p;
        }
    free(table);
    table = t;
    nbuckets = n;
    return 0;
}

static kpool_t *pool_create(const char *name, int size)
{
    if (npools >= nbuckets && grow()) return NULL;
    size_t len = strlen(name) + 1;
    kpool_t *p = calloc(1, sizeof *p + len);
    if (!p) return NULL;
    memcpy(p->name, name, len);
    p->size = size < 1 ? 1 : size;
    kpool_t **s = slot(name);
    p->hnext = *s;
    *s = p;
    npools++;
    return p;
}

static void pool_free_if_empty(kpool_t *p)
{
    if (p->count) return;
    *slot(p->name) = p->hnext;
    npools--;
    free(p);
}

static void unlink_item(kitem_t *it)
{
    kpool_t *p = it->pool;
    if (it->prev) it->prev->next = it->next;
    else p->head = it->next;
    if (it->next) it->next->prev = it->prev;
    else p->tail = it->prev;
    p->count--;
}

/* Takes the item out of its pool, which stays even if empty; returns its fd, still open. */
static int item_unlink(kitem_t *it)
{
    unlink_item(it);
    int fd = stream_detach(&it->stream);
    free(it);
    return fd;
}

static int item_take(kitem_t *it)
{
    kpool_t *p = it->pool;
    int fd = item_unlink(it);
    pool_free_if_empty(p);
    return fd;
}

static void item_close(kitem_t *it) { close(item_take(it)); }

/* Readable while idle: the peer closed, reset, or sent something no request asked for.
 * A peek that finds nothing was a spurious wake-up. */
static void idle_read(stream_t *s)
{
    char c;
    ssize_t r = recv(stream_fd(s), &c, 1, MSG_PEEK);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    item_close(s->data);
}

static void idle_timeout(stream_t *s) { item_close(s->data); }

static const stream_handler_t idle_handler = {idle_read, NULL, idle_timeout};

int kpool_put(const char *name, int fd, int watched, long timeout_ms, int size, unsigned reused)
{
    kpool_t *p = find(name);
    kitem_t *it = NULL;
    if (!p) p = pool_create(name, size);
    if (p) it = malloc(sizeof *it);
    if (!it) {
        close(fd);
        if (p) pool_free_if_empty(p);
        return -1;
    }
    if (p->count >= (size_t)p->size) close(item_unlink(p->tail)); /* the pool stays */
    stream_init(&it->stream, fd, &idle_handler, it, 0);
    if (watched) stream_adopt(&it->stream); /* the cosocket that parks it had it registered */
    it->pool = p;
    it->prev = NULL;
    it->next = p->head;
    it->reused = reused;
    if (p->head) p->head->prev = it;
    else p->tail = it;
    p->head = it;
    p->count++;
    stream_read(&it->stream, 1);
    if (timeout_ms >= 0) stream_timer(&it->stream, timeout_ms);
    return 0;
}

int kpool_get(const char *name, unsigned *reused)
{
    kpool_t *p = find(name);
    if (!p) return -1;
    kitem_t *it = p->head;
    *reused = it->reused;
    return item_take(it);
}

size_t kpool_count(const char *name)
{
    kpool_t *p = find(name);
    return p ? p->count : 0;
}

void kpool_close_all(void)
{
    for (size_t i = 0; i < nbuckets; i++)
        while (table[i]) {
            kpool_t *p = table[i];
            while (p->count > 1) item_close(p->tail);
            item_close(p->head); /* frees p, which unlinks it from table[i] */
        }
    free(table);
    table = NULL;
    nbuckets = npools = 0;
}
