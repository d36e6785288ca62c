/* accesslog.c: the access log: one line per light session in the server's log_format
 * (compiled once), appended to a per-server buffer that the worker writes at most 100 ms
 * later (or at once when 32 KiB are pending), so busy servers write many lines per call. */
#include "accesslog.h"
#include "clock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCESS_FLUSH (32 * 1024)

/* The format is compiled once per server into ops: a literal, or a variable to expand. */
enum {
    V_END,
    V_LIT,
    V_REMOTE_ADDR,
    V_TIME_LOCAL,
    V_TIME_ISO8601,
    V_MSEC,
    V_REQUEST_TIME,
    V_CONNECTION,
    V_CONNECTION_REQUESTS,
    V_BYTES_SENT,
    V_PROTOCOL
};

struct accesslog_op {
    int kind;
    const char *lit; /* V_LIT: points into the format text (configuration memory) */
    size_t len;
};

static const struct {
    const char *name;
    int kind;
} vars[] = {
    {"remote_addr", V_REMOTE_ADDR},
    {"time_local", V_TIME_LOCAL},
    {"time_iso8601", V_TIME_ISO8601},
    {"msec", V_MSEC},
    {"request_time", V_REQUEST_TIME},
    {"connection", V_CONNECTION},
    {"connection_requests", V_CONNECTION_REQUESTS},
    {"bytes_sent", V_BYTES_SENT},
    {"protocol", V_PROTOCOL},
};

static int var_kind(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0) return vars[i].kind;
    return V_LIT; /* unknown variable: written as is */
}

int accesslog_compile(vserver_t *vs)
{
    const char *f = vs->conf->s.access_log_format;
    size_t n = 2;
    if (!vs->conf->s.access_log || !f) return 0; /* off: no line is ever written */
    for (const char *p = f; *p; p++) n += *p == '$' ? 2 : 0;
    struct accesslog_op *ops = calloc(n, sizeof *ops), *op = ops;
    if (!ops) return -1;
    for (const char *p = f; *p;) {
        const char *d = p[0] == '$' ? p : strchr(p + 1, '$');
        if (d != p) { /* the literal up to the next '$' */
            *op++ = (struct accesslog_op){V_LIT, p, d ? (size_t)(d - p) : strlen(p)};
            if (!d) break;
        }
        const char *e = d + 1;
        while (*e == '_' || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9')) e++;
        *op++ = (struct accesslog_op){var_kind(d + 1, (size_t)(e - d - 1)), d, (size_t)(e - d)};
        p = e;
    }
    op->kind = V_END;
    free(vs->access_ops);
    vs->access_ops = ops;
    return 0;
}

/* Decimal digits of v ending at end; returns the start. */
static char *digits(char *end, unsigned long long v)
{
    do *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

/* "S.mmm": seconds with 3 decimals, as "%.3f" prints them for the times logged here. */
static int seconds3(char *out, double sec)
{
    unsigned long long ms = sec > 0 ? (unsigned long long)(sec * 1000.0 + 0.5) : 0;
    char buf[32], *end = buf + sizeof buf, *p;
    p = digits(end, ms % 1000 + 1000);
    p[0] = '.'; /* the leading '1' of 1000..1999 becomes the point */
    p = digits(p, ms / 1000);
    memcpy(out, p, (size_t)(end - p));
    return (int)(end - p);
}

static int number(char *out, unsigned long long v)
{
    char buf[24], *end = buf + sizeof buf, *p = digits(end, v);
    memcpy(out, p, (size_t)(end - p));
    return (int)(end - p);
}

static int text(char *out, size_t outlen, const char *s)
{
    size_t n = strnlen(s, outlen - 1);
    memcpy(out, s, n);
    return (int)n;
}

/* IPv4 by hand (the common case; inet_ntop is a tenth of a line's cost), IPv6 as usual. */
static int remote_addr(const conn_t *c, char *out, size_t outlen)
{
    if (c->peer.sa.sa_family != AF_INET) {
        conn_peer_text(c, out, outlen);
        return (int)strlen(out);
    }
    const unsigned char *a = (const unsigned char *)&c->peer.in.sin_addr;
    char *p = out;
    for (int i = 0; i < 4; i++) {
        if (i) *p++ = '.';
        p += number(p, a[i]);
    }
    return (int)(p - out);
}

/* Writes variable `kind` of c into out (at least 128 bytes); returns its length. */
static int var(const conn_t *c, int kind, char *out, size_t outlen)
{
    double now = clock_now();
    switch (kind) {
    case V_REMOTE_ADDR: return remote_addr(c, out, outlen);
    case V_TIME_LOCAL: return text(out, outlen, clock_http_log_str());
    case V_TIME_ISO8601: return text(out, outlen, clock_iso8601_str());
    case V_MSEC: return seconds3(out, now);
    case V_REQUEST_TIME: return seconds3(out, now - c->session_start);
    case V_CONNECTION: return number(out, c->number);
    case V_CONNECTION_REQUESTS: return number(out, c->requests);
    case V_BYTES_SENT: return number(out, c->bytes_sent);
    case V_PROTOCOL: memcpy(out, "TCP", 3); return 3;
    }
    return 0;
}

static int append(vserver_t *vs, const char *p, size_t n)
{
    if (n == 0) return 0;
    if (vs->access_len + n > vs->access_cap) {
        size_t cap = vs->access_cap ? vs->access_cap * 2 : 4096;
        while (cap < vs->access_len + n) cap *= 2;
        char *b = realloc(vs->access_buf, cap);
        if (!b) return -1;
        vs->access_buf = b;
        vs->access_cap = cap;
    }
    memcpy(vs->access_buf + vs->access_len, p, n);
    vs->access_len += n;
    return 0;
}

void accesslog_write(conn_t *c)
{
    vserver_t *vs = c->vs;
    if (vs->access_fd < 0) return;
    size_t start = vs->access_len;
    char val[128];
    for (const struct accesslog_op *op = vs->access_ops; op->kind != V_END; op++) {
        const char *p = op->lit;
        size_t n = op->len;
        if (op->kind != V_LIT) {
            int k = var(c, op->kind, val, sizeof val);
            p = val;
            n = k < 0 ? 0 : (size_t)k < sizeof val ? (size_t)k
                                                   : sizeof val - 1;
        }
        if (append(vs, p, n)) goto lost;
    }
    if (append(vs, "\n", 1)) goto lost;
    if (vs->access_len >= ACCESS_FLUSH) accesslog_flush(vs);
    return;
lost: /* out of memory: the line is lost whole, never half written */
    vs->access_len = start;
}

void accesslog_flush(vserver_t *vs)
{
    size_t off = 0;
    while (vs->access_fd >= 0 && off < vs->access_len) {
        ssize_t w = write(vs->access_fd, vs->access_buf + off, vs->access_len - off);
        if (w <= 0) break; /* a full disk loses log lines, never the worker */
        off += (size_t)w;
    }
    vs->access_len = 0;
}
