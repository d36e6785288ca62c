/* fuzz_until.c: drives recvbuf_find() (core/recvbuf.c) the way a cosocket's receiveuntil
 * does, and checks it against a naive reference: reads arrive in fuzzer-chosen chunks; after
 * each one the buffer is searched; a match is handed out through its end, and in "size mode"
 * (receiveuntil with a size) the `safe` bytes are handed out when there is no match.
 * Aborts unless the offset is the first occurrence (-1 iff none), `safe` equals the offset
 * when found and len minus the longest suffix that is a proper prefix of the pattern when
 * not, and the bytes handed out plus what stays buffered are the input stream, in order.
 * Input: d[0] gives the pattern length (d[0] % 32 + 1), the pattern follows; then a byte
 * giving (b % 8 + 1) control bytes, used round-robin, one per read (bit 7: size mode; bits
 * 0-6 r: a read of up to 1 + r * r bytes); everything after them is the byte stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "recvbuf.h"

#define CHECK(c)           \
    do {                   \
        if (!(c)) abort(); \
    } while (0)

#define MAX (1u << 24) /* the receive buffer's limit: never the constraint here */

typedef struct run {
    const char *pat, *s; /* the pattern; the stream the peer sends */
    size_t plen, slen;
    size_t in;   /* stream bytes read into the buffer */
    size_t out;  /* stream bytes handed out; the buffer holds s[out, in) */
    size_t from; /* no occurrence starts before this buffer offset (already checked) */
    recvbuf_t b;
} run_t;

/* The first occurrence at or after `from`, by brute force. Starting at `from` rather than
 * 0 keeps a run linear in the stream (an earlier start was ruled out by a checked call on
 * the same bytes), so the fuzzer does not spend its time on quadratic reference work. */
static long ref_first(const char *p, size_t len, const char *pat, size_t plen, size_t from)
{
    for (size_t i = from; i + plen <= len; i++)
        if (memcmp(p + i, pat, plen) == 0) return (long)i;
    return -1;
}

/* len minus the longest suffix of p[0, len) that is a proper prefix of pat. */
static size_t ref_safe(const char *p, size_t len, const char *pat, size_t plen)
{
    for (size_t k = len < plen - 1 ? len : plen - 1; k > 0; k--)
        if (memcmp(p + len - k, pat, k) == 0) return len - k;
    return len;
}

/* The buffered bytes, after checking they are exactly the stream's unconsumed part. */
static const char *buffered(const run_t *r, size_t *len)
{
    const char *p;
    *len = recvbuf_len(&r->b);
    CHECK(recvbuf_peek(&r->b, *len, 0, &p, len) == 1);
    CHECK(*len == r->in - r->out && memcmp(p, r->s + r->out, *len) == 0);
    CHECK((r->b.data == NULL) == (*len == 0)); /* an empty buffer holds no memory */
    return p;
}

/* One recvbuf_find, checked against the reference; returns its offset and sets *safe. */
static long find_checked(run_t *r, size_t *safe)
{
    size_t len;
    const char *p = buffered(r, &len);
    *safe = (size_t)-1;
    long k = recvbuf_find(&r->b, r->pat, r->plen, safe);
    CHECK(k == ref_first(p, len, r->pat, r->plen, r->from));
    if (k >= 0) {
        CHECK(*safe == (size_t)k);
        return k;
    }
    CHECK(*safe == ref_safe(p, len, r->pat, r->plen));
    r->from = len >= r->plen ? len - r->plen + 1 : 0;
    return -1;
}

/* Hands out (consumes) the first n buffered bytes, as receiveuntil returns them. */
static void hand_out(run_t *r, size_t n)
{
    recvbuf_consume(&r->b, n);
    r->out += n;
    r->from = r->from > n ? r->from - n : 0;
}

/* One read of up to `chunk` stream bytes, following recvbuf.h's caller protocol (commit
 * even when nothing arrived). Returns the bytes read; 0 once the stream is exhausted. */
static size_t feed(run_t *r, size_t chunk)
{
    size_t avail, k;
    char *w = recvbuf_space(&r->b, chunk, MAX, &avail);
    CHECK(w != NULL && avail >= chunk);
    k = chunk < r->slen - r->in ? chunk : r->slen - r->in;
    memcpy(w, r->s + r->in, k);
    recvbuf_commit(&r->b, k);
    r->in += k;
    return k;
}

/* Answers receives from the buffer until one would have to wait for more data. */
static void drain(run_t *r, int size_mode)
{
    size_t safe;
    for (;;) {
        long k = find_checked(r, &safe);
        if (k >= 0) hand_out(r, (size_t)k + r->plen);
        else if (size_mode && safe > 0) hand_out(r, safe);
        else return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    run_t r = {0};
    size_t safe, nctl;
    if (n < 1) return 0;
    r.plen = d[0] % 32 + 1;
    if (n < 2 + r.plen) return 0;
    r.pat = (const char *)d + 1;
    nctl = d[1 + r.plen] % 8 + 1;
    if (n < 2 + r.plen + nctl) return 0;
    const uint8_t *ctl = d + 2 + r.plen;
    r.s = (const char *)ctl + nctl;
    r.slen = n - 2 - r.plen - nctl;

    CHECK(find_checked(&r, &safe) == -1 && safe == 0); /* nothing buffered yet */
    for (size_t step = 0;; step++) {
        uint8_t c = ctl[step % nctl];
        size_t rr = c & 0x7f;
        if (feed(&r, 1 + rr * rr) == 0) break;
        drain(&r, c >> 7);
    }
    size_t len;
    buffered(&r, &len);
    CHECK(r.in == r.slen && r.out + len == r.slen); /* nothing lost or duplicated */
    recvbuf_free(&r.b);
    return 0;
}
