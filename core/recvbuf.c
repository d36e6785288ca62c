/* recvbuf.c: buffering of received bytes between the socket and their reader.
 * See recvbuf.h for the caller protocol and the read-size policy. */
#include "recvbuf.h"
#include "blockpool.h"

/* Receive buffers come from the block pool when they have its size. */
_Static_assert(RECVBUF_READ_MIN == BLOCK_SIZE, "recvbuf blocks must match the pool");
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t recvbuf_len(const recvbuf_t *b)
{
    return b->end - b->start;
}

void recvbuf_free(recvbuf_t *b)
{
    block_free(b->data, b->cap);
    *b = (recvbuf_t){0};
}

/* Moves the live bytes to offset 0 so the consumed head becomes tail space. */
static void recvbuf_compact(recvbuf_t *b)
{
    size_t len = recvbuf_len(b);

    memmove(b->data, b->data + b->start, len);
    b->start = 0;
    b->end = (uint32_t)len;
}

/* Moves the live bytes into a new allocation of `cap` bytes.  Not realloc:
 * that would also copy the consumed head, and the live bytes are often a
 * small leftover at the end of the old buffer. */
static int recvbuf_resize(recvbuf_t *b, size_t cap)
{
    size_t len = recvbuf_len(b);
    char *p = block_alloc(cap);

    if (p == NULL)
        return -1;
    if (len > 0)
        memcpy(p, b->data + b->start, len);
    block_free(b->data, b->cap);
    b->data = p;
    b->start = 0;
    b->end = (uint32_t)len;
    b->cap = (uint32_t)cap;
    return 0;
}

/* Capacity for `need` bytes: the first allocation is one full read so small
 * messages never grow; later ones double, so a large receive costs a
 * logarithmic number of copies.  `need` <= max is checked by the caller. */
static size_t recvbuf_grow_cap(size_t cap, size_t need, size_t max)
{
    size_t c = cap > 0 ? cap * 2 : RECVBUF_READ_MIN;

    if (c < need)
        c = need;
    return c < max ? c : max;
}

char *recvbuf_space(recvbuf_t *b, size_t want, size_t max, size_t *avail)
{
    size_t len = recvbuf_len(b), target, tail;

    if (max > UINT32_MAX)
        max = UINT32_MAX;
    if (want == 0)
        want = 1;
    if (len > max || want > max - len) {
        errno = EMSGSIZE;
        return NULL;
    }
    /* What we would like to read: the receive's need, or one full read to
     * batch pipelined messages, but never past the caller's limit. */
    target = want > RECVBUF_READ_MIN ? want : RECVBUF_READ_MIN;
    if (target > max - len)
        target = max - len;

    tail = b->cap - b->end;
    if (b->cap - len < want) {
        if (recvbuf_resize(b, recvbuf_grow_cap(b->cap, len + want, max)) < 0) {
            errno = ENOMEM;
            return NULL;
        }
    } else if (tail < want || (tail < target && b->start >= len)) {
        /* Needed for `want`.  For a fuller read only when no more bytes move
         * than were consumed since the last compaction, so the copying is
         * paid for by the bytes taken: amortised O(1) per byte. */
        recvbuf_compact(b);
    }
    tail = b->cap - b->end;
    *avail = tail < target ? tail : target;
    return b->data + b->end;
}

void recvbuf_commit(recvbuf_t *b, size_t n)
{
    assert(n <= (size_t)(b->cap - b->end));
    b->end += (uint32_t)n;
    /* A read that brought nothing must not leave a sleeping connection
     * holding the buffer that recvbuf_space allocated for it. */
    if (b->start == b->end)
        recvbuf_free(b);
}

int recvbuf_peek(const recvbuf_t *b, size_t total, size_t atleast,
                 const char **out, size_t *outlen)
{
    size_t len = recvbuf_len(b);

    if (len < atleast)
        return 0;
    *outlen = len < total ? len : total;
    /* "" rather than NULL: callers hand the pointer on (e.g. to lua_pushlstring). */
    *out = b->data != NULL ? b->data + b->start : "";
    return 1;
}

void recvbuf_consume(recvbuf_t *b, size_t n)
{
    assert(n <= recvbuf_len(b));
    b->start += (uint32_t)n;
    if (b->start == b->end)
        recvbuf_free(b);
}

long recvbuf_find(const recvbuf_t *b, const char *pat, size_t plen, size_t *safe)
{
    size_t len = recvbuf_len(b);
    const char *p = len ? b->data + b->start : "";
    const char *hit = plen && len >= plen ? memmem(p, len, pat, plen) : NULL;
    if (hit) {
        *safe = (size_t)(hit - p);
        return (long)(hit - p);
    }
    *safe = len;
    for (size_t i = len >= plen ? len - plen + 1 : 0; i < len; i++)
        if (memcmp(p + i, pat, len - i) == 0) {
            *safe = i;
            break;
        }
    return -1;
}
