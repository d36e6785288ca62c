/* fuzz_recv.c: drives core/recvbuf.c the way a connection does and checks
 * that receives lose, duplicate and reorder nothing and respect total/atleast.
 * Input: d[0] picks how many 4-byte control records follow d[1..2] (the
 * `max` limit); records (total hi, total lo, atleast scale, read size) are
 * used round-robin; everything after them is the byte stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "recvbuf.h"

#define CHECK(c)           \
    do {                   \
        if (!(c)) abort(); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    size_t nctl, max, slen, in = 0, outn = 0, step, len, avail, got, k;
    const uint8_t *ctl, *s, *r;
    recvbuf_t b = {0};
    const char *p;
    char *out, *w;

    if (n < 3)
        return 0;
    nctl = 4 * (d[0] % 8 + 1);
    if (n < 3 + nctl)
        return 0;
    max = 1 + ((size_t)d[1] << 8 | d[2]);
    ctl = d + 3, s = ctl + nctl, slen = n - 3 - nctl;
    out = malloc(slen + 1);
    for (step = 0;; step++) {
        r = ctl + (4 * step) % nctl;
        size_t total = 1 + ((size_t)r[0] << 8 | r[1]) % max;
        size_t atleast = 1 + r[2] * total / 256, chunk = 1 + r[3] * r[3];
        while (!recvbuf_peek(&b, total, atleast, &p, &got)) {
            len = recvbuf_len(&b);
            CHECK((w = recvbuf_space(&b, atleast - len, max, &avail)) != NULL);
            CHECK(avail >= atleast - len && b.cap <= max);
            CHECK(avail <= (atleast - len > 4096 ? atleast - len : 4096));
            k = avail < chunk ? avail : chunk;
            k = k < slen - in ? k : slen - in;
            memcpy(w, s + in, k);
            recvbuf_commit(&b, k);
            in += k;
            CHECK((b.data == NULL) == (recvbuf_len(&b) == 0));
            if (k == 0)
                goto done;
        }
        CHECK(got >= atleast && got <= total);
        CHECK(got == (recvbuf_len(&b) < total ? recvbuf_len(&b) : total));
        memcpy(out + outn, p, got);
        outn += got;
        recvbuf_consume(&b, got);
        CHECK((b.data == NULL) == (recvbuf_len(&b) == 0));
    }
done:
    len = recvbuf_len(&b);
    CHECK(recvbuf_peek(&b, len, 0, &p, &got) && got == len);
    CHECK(outn + len == slen && in == slen);
    CHECK(memcmp(out, s, outn) == 0 && memcmp(p, s + outn, len) == 0);
    recvbuf_free(&b);
    free(out);
    return 0;
}
