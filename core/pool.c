/* pool.c: arena allocator for configuration-lifetime memory.
 * Configurations are built once and dropped whole (on reload or exit), so a chain of
 * blocks freed together is simpler and leak-proof compared to tracking each string. */
#include "pool.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_BLOCK 8192

typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block_t;
struct pool {
    block_t *head;
};

pool_t *pool_create(void)
{
    pool_t *p = calloc(1, sizeof *p);
    if (!p) abort();
    return p;
}

void pool_destroy(pool_t *p)
{
    if (!p) return;
    for (block_t *b = p->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(p);
}

void *pool_calloc(pool_t *p, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    block_t *b = p->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > POOL_BLOCK ? size : POOL_BLOCK;
        b = calloc(1, sizeof *b + cap);
        if (!b) abort(); /* configuration memory is tiny; no sane recovery */
        b->cap = cap;
        b->next = p->head;
        p->head = b;
    }
    void *r = b->data + b->used;
    b->used += size;
    return r;
}

char *pool_strndup(pool_t *p, const char *s, size_t n)
{
    char *d = pool_calloc(p, n + 1);
    memcpy(d, s, n);
    return d;
}

char *pool_strdup(pool_t *p, const char *s)
{
    return pool_strndup(p, s, strlen(s));
}

char *pool_sprintf(pool_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = pool_calloc(p, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}
