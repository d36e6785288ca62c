/* recvbuf.h: the bytes a connection has read but Lua has not yet taken.
 * Pure buffer logic behind ngx.receive(total, atleast) and cosocket
 * receive; no sockets, no Lua.  A zero-initialised recvbuf_t is empty and
 * owns no memory, which is the state every idle connection must be in.
 *
 * Caller protocol for one receive(total, atleast):
 *   1. recvbuf_peek(b, total, atleast, &p, &n): if it returns 1, copy the
 *      n bytes at p (e.g. lua_pushlstring) and recvbuf_consume(b, n).
 *   2. Otherwise p = recvbuf_space(b, atleast - recvbuf_len(b), max, &avail),
 *      read(fd, p, avail), then ALWAYS recvbuf_commit(b, got) with got = 0
 *      on EAGAIN, EOF or error, so an empty buffer is released before the
 *      connection goes to sleep.  Go to 1.
 * Read-size policy: `avail` is at most max(want, RECVBUF_READ_MIN) (and
 * never beyond `max` capacity), so one read never pulls in more than
 * RECVBUF_READ_MIN bytes beyond what the pending receive needs: enough to
 * batch pipelined messages, bounded so one chatty client cannot make the
 * buffer grow past what its own receives ask for. */
#ifndef TCPLUA_RECVBUF_H
#define TCPLUA_RECVBUF_H
#include <stddef.h>
#include <stdint.h>

/* Smallest useful read, and so the smallest allocation (unless `max` is
 * smaller): a read of a few bytes would cost one syscall per message. */
#define RECVBUF_READ_MIN 4096

/* Live bytes are data[start, end); cap is the allocation size.
 * data == NULL  <=>  cap == 0  <=>  nothing buffered. */
typedef struct recvbuf {
    char *data;
    uint32_t start, end, cap;
} recvbuf_t;

/* Writable space after the buffered bytes, at least `want` bytes long
 * (want 0 counts as 1, since read() into 0 bytes would look like EOF).
 * Allocates, compacts or grows (geometrically) as needed, never beyond a
 * total capacity of `max`.  Returns the pointer and sets *avail, or returns
 * NULL with errno EMSGSIZE (len + want > max: the caller asked for more
 * than its limit) or ENOMEM.  Must be followed by recvbuf_commit. */
char *recvbuf_space(recvbuf_t *b, size_t want, size_t max, size_t *avail);

/* n (<= avail) bytes were written at the space pointer; n = 0 is a valid
 * "nothing arrived" and frees the buffer if it holds nothing. */
void recvbuf_commit(recvbuf_t *b, size_t n);

/* Bytes buffered and not yet consumed. */
size_t recvbuf_len(const recvbuf_t *b);

/* If at least `atleast` bytes are buffered, points *out at the first
 * min(len, total) of them, sets *outlen and returns 1; else returns 0.
 * *out stays valid until the next call that modifies b; never NULL. */
int recvbuf_peek(const recvbuf_t *b, size_t total, size_t atleast,
                 const char **out, size_t *outlen);

/* The first occurrence of pat (plen >= 1) in the buffered bytes: its offset, or -1. With
 * *safe it also tells how many leading bytes cannot be part of any occurrence that more
 * data could complete (all but the longest tail that is a proper prefix of pat): what a
 * cosocket's receiveuntil may hand out before it has seen the pattern. */
long recvbuf_find(const recvbuf_t *b, const char *pat, size_t plen, size_t *safe);

/* Drops the first n (<= len) bytes; frees the buffer once it is empty. */
void recvbuf_consume(recvbuf_t *b, size_t n);

/* Drops everything and releases the memory; b is empty afterwards. */
void recvbuf_free(recvbuf_t *b);

#endif
