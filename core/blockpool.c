/* blockpool.c: a per-process free list of BLOCK_SIZE blocks. A connection gives its
 * receive or send buffer back as soon as it is empty, so an idle connection holds none;
 * the free list makes that give-back-and-take-again, once per message, cost no malloc or
 * free. It is bounded so a burst of busy connections does not pin memory for ever. */
#include "blockpool.h"
#include <stdlib.h>

#define BLOCK_CACHE_MAX 256 /* 1 MiB per process at most */

typedef struct block {
    struct block *next;
} block_t;

static block_t *free_list;
static int nfree;

void *block_alloc(size_t size)
{
    if (size != BLOCK_SIZE || !free_list) return malloc(size);
    block_t *b = free_list;
    free_list = b->next;
    nfree--;
    return b;
}

void block_free(void *p, size_t size)
{
    if (!p) return;
    if (size != BLOCK_SIZE || nfree >= BLOCK_CACHE_MAX) {
        free(p);
        return;
    }
    block_t *b = p;
    b->next = free_list;
    free_list = b;
    nfree++;
}
