/* accesslog.c: the access log: one line per light session in the server's log_format,
 * appended to a per-server buffer and written once per event-loop turn (or when 32 KiB
 * are pending), so a pipelining client costs no extra system call per message. */
#include "accesslog.h"
#include "clock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCESS_FLUSH (32 * 1024)

static int var(const conn_t *c, const char *name, size_t n, char *out, size_t outlen)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    double now = clock_now();
    if (IS("remote_addr")) return conn_peer_text(c, out, outlen), (int)strlen(out);
    if (IS("time_local")) return snprintf(out, outlen, "%s", clock_http_log_str());
    if (IS("time_iso8601")) return snprintf(out, outlen, "%s", clock_iso8601_str());
    if (IS("msec")) return snprintf(out, outlen, "%.3f", now);
    if (IS("request_time")) return snprintf(out, outlen, "%.3f", now > c->session_start ? now - c->session_start : 0.0);
    if (IS("connection")) return snprintf(out, outlen, "%lu", c->number);
    if (IS("connection_requests")) return snprintf(out, outlen, "%u", (unsigned)c->requests);
    if (IS("bytes_sent")) return snprintf(out, outlen, "%zu", c->bytes_sent);
    if (IS("protocol")) return snprintf(out, outlen, "TCP");
#undef IS
    return -1;
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
    char val[128];
    for (const char *p = vs->conf->s.access_log_format; *p;) {
        const char *d = strchr(p, '$');
        size_t lit = d ? (size_t)(d - p) : strlen(p);
        append(vs, p, lit);
        if (!d) break;
        const char *e = d + 1;
        while (*e == '_' || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9')) e++;
        int n = var(c, d + 1, (size_t)(e - d - 1), val, sizeof val);
        if (n >= 0) append(vs, val, (size_t)n < sizeof val ? (size_t)n : sizeof val - 1);
        else append(vs, d, (size_t)(e - d));     /* unknown variable: written as is */
        p = e;
    }
    append(vs, "\n", 1);
    if (vs->access_len >= ACCESS_FLUSH) accesslog_flush(vs);
}

void accesslog_flush(vserver_t *vs)
{
    size_t off = 0;
    while (vs->access_fd >= 0 && off < vs->access_len) {
        ssize_t w = write(vs->access_fd, vs->access_buf + off, vs->access_len - off);
        if (w <= 0) break;     /* a full disk loses log lines, never the worker */
        off += (size_t)w;
    }
    vs->access_len = 0;
}
