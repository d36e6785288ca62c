/* shdict_overhead.c: zone bytes per entry of the shared-dict store for 10^5 entries of
 * 16-byte keys and 32-byte values, and the store's raw rate of get/set/incr from C (no Lua,
 * one process, keys from a fixed set of 1,000).
 *   cc -O2 -D_GNU_SOURCE -Icore -o /tmp/shdict_overhead bench/shdict_overhead.c build/libcore.a -lev -lm
 * "marginal": free_space() consumed by the entries (their slab pages), per entry, minus the
 * 48 payload bytes. "whole zone": the smallest zone (in 4 KiB steps) that holds all the
 * entries without evicting, per entry, minus the payload: buckets, page descriptors and
 * header included, i.e. what lua_shared_dict must be given. */
#include "shdict.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#define N 100000
#define T0 1700000000000LL

static void key(char *k, int i) { snprintf(k, 17, "key-%012d", i); } /* 16 bytes */

/* Inserts the N entries with safe_set: 0 when all fit. */
static int fill(shdict_t *d)
{
    char k[17], v[33] = "0123456789abcdef0123456789abcdef";
    int f;
    for (int i = 0; i < N; i++) {
        key(k, i);
        if (shdict_store(d, SHD_SAFE_SET, k, 16, SHD_TSTRING, v, 32, 0, 0, 0, T0, &f) != SHD_OK) return -1;
    }
    return 0;
}

static shdict_t *zone(size_t size, void **mem)
{
    char err[256];
    *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shdict_t *d = *mem == MAP_FAILED ? NULL : shdict_open(*mem, size, 1, err, sizeof err);
    if (!d) fprintf(stderr, "zone: %s\n", err), exit(1);
    return d;
}

static int fits(size_t size)
{
    void *mem;
    shdict_t *d = zone(size, &mem);
    int ok = fill(d) == 0;
    munmap(mem, size);
    return ok;
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void rates(shdict_t *d)
{
    static char keys[1000][17];
    char buf[64], *s;
    double t, num, out;
    size_t n;
    int f, type, stale;
    uint32_t flags;
    const char *names[3] = {"set", "get", "incr"};
    for (int i = 0; i < 1000; i++) key(keys[i], i);
    for (int op = 0; op < 3; op++) {
        t = secs();
        for (int i = 0; i < 1000000; i++) {
            const char *k = keys[i % 1000];
            s = buf, n = sizeof buf;
            if (op == 0) shdict_store(d, SHD_SET, k, 16, SHD_TNUMBER, NULL, 0, i, 0, 0, T0, &f);
            else if (op == 1) shdict_get(d, k, 16, T0, 0, &type, &s, &n, &num, &flags, &stale);
            else shdict_incr(d, k, 16, 1, 0, 0, 0, T0, &out, &f);
        }
        printf("%-5s %.1f M ops/s (C, one process)\n", names[op], 1 / (secs() - t));
    }
}

int main(void)
{
    size_t big = 64 << 20;
    void *mem;
    shdict_t *d = zone(big, &mem);
    size_t before = shdict_free_space(d);
    if (fill(d) != 0) return fprintf(stderr, "did not fit in %zu\n", big), 1;
    printf("marginal:   %.2f bytes of overhead per entry (%.2f in the zone per 48-byte entry)\n",
           (double)(before - shdict_free_space(d)) / N - 48, (double)(before - shdict_free_space(d)) / N);
    rates(d);
    munmap(mem, big);
    size_t lo = 4096, hi = big; /* lo does not fit, hi does */
    while (hi - lo > 4096) {
        size_t mid = (lo + hi) / 2 / 4096 * 4096;
        if (fits(mid)) hi = mid;
        else lo = mid;
    }
    printf("whole zone: %.2f bytes of overhead per entry (smallest zone %zu bytes)\n", (double)hi / N - 48, hi);
    return 0;
}
