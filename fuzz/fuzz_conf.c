/* fuzz_conf.c: drives the pure configuration seam conf_parse() with arbitrary text.
 * cf.read_file stays NULL, so "include" is refused and no file is ever touched. Every input
 * must end in a one-line error located " in FILE:LINE" ([conf.err.format]), or in a finished
 * config whose -T dump is itself a valid configuration that dumps identically ([cli.dump]:
 * "in the configuration language"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

#define CHECK(c)           \
    do {                   \
        if (!(c)) abort(); \
    } while (0)

/* Parses and finishes text into m; 0 or -1 with cf->err set. */
static int load(conf_t *cf, main_conf_t *m, const char *text, size_t n)
{
    conf_init(cf, m);
    return conf_parse(cf, text, n, "f.conf") || conf_finish(cf) ? -1 : 0;
}

static char *dump(const main_conf_t *m, size_t *n)
{
    char *s;
    FILE *f = open_memstream(&s, n);
    CHECK(f != NULL);
    conf_dump(m, f);
    fclose(f);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    main_conf_t *m = conf_create("/tmp/fuzzprefix/", "conf/f.conf"), *again;
    conf_t cf;
    size_t n1, n2;

    if (load(&cf, m, (const char *)d, n) != 0) {
        CHECK(cf.err[0] != '\0' && strstr(cf.err, " in ") != NULL && !strpbrk(cf.err, "\r\n"));
        conf_destroy(m);
        return 0;
    }
    CHECK(cf.err[0] == '\0');
    char *d1 = dump(m, &n1); /* only a finished config has every default set */
    again = conf_create("/tmp/fuzzprefix/", "conf/f.conf");
    CHECK(load(&cf, again, d1, n1) == 0);
    char *d2 = dump(again, &n2);
    CHECK(n1 == n2 && memcmp(d1, d2, n1) == 0);
    free(d1);
    free(d2);
    conf_destroy(again);
    conf_destroy(m);
    return 0;
}
