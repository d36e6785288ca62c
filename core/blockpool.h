/* blockpool.h: recycled 4 KiB blocks for receive and send buffers. */
#ifndef TCPLUA_BLOCKPOOL_H
#define TCPLUA_BLOCKPOOL_H
#include <stddef.h>

#define BLOCK_SIZE 4096

/* Like malloc/free; blocks of exactly BLOCK_SIZE come from and go back to a free list. */
void *block_alloc(size_t size);
void block_free(void *p, size_t size);
#endif
