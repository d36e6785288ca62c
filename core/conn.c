/* conn.c: client connections: create with the application's part, the worker's list, the
 * per-connection log context, the final flush, and conn_close(), the single exit path.
 * Bytes move through the stream (stream.c); what a connection means to scripts is the
 * application's (app.h). */
#include "conn.h"
#include "app.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <netinet/in.h>

int conn_shutting_down;
static conn_t *live;
static int nlive;
/* Connection numbers are unique across workers (as nginx's): one counter in memory mapped
 * shared before the fork; a process-local one until conn_numbers_share() runs. */
static unsigned long local_number;
static unsigned long *next_number = &local_number;

int conn_numbers_share(void)
{
    void *p = mmap(NULL, sizeof *next_number, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    next_number = p;
    return 0;
}

void addr_text(const struct sockaddr *sa, char *buf, size_t n, int with_port)
{
    char a[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)sa;
        inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
        port = ntohs(s->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof a);
        port = ntohs(s->sin6_port);
    }
    if (!with_port) snprintf(buf, n, "%s", a);
    else if (sa->sa_family == AF_INET6) snprintf(buf, n, "[%s]:%d", a, port);
    else snprintf(buf, n, "%s:%d", a, port);
}

conn_t *conn_create(int fd, vserver_t *vs, const struct sockaddr *peer)
{
    conn_t *c = calloc(1, sizeof *c + app->conn_size);
    if (!c) return NULL;
    stream_init(&c->stream, fd, NULL, c, (size_t)vs->conf->s.client_max_body_size);
    c->vs = vs;
    c->number = __atomic_add_fetch(next_number, 1, __ATOMIC_RELAXED);
    memcpy(&c->peer, peer, peer->sa_family == AF_INET6 ? sizeof c->peer.in6 : sizeof c->peer.in);
    c->next = live;
    if (live) live->prev = c;
    live = c;
    nlive++;
    return c;
}

void conn_close(conn_t *c)
{
    if (!c->closing) app->conn_end(c);
    stream_close(&c->stream);
    if (c->prev) c->prev->next = c->next;
    else live = c->next;
    if (c->next) c->next->prev = c->prev;
    nlive--;
    free(c);
}

/* The final flush: the stream now belongs to core again. */
static void finish_write(stream_t *s)
{
    conn_t *c = s->data;
    if (stream_queued(s) == 0 || s->err) {
        conn_close(c);
        return;
    }
    stream_timer(s, conn_timeout(c->vs->conf->s.send_timeout)); /* between two writes, as nginx */
}

static void finish_timeout(stream_t *s)
{
    conn_close(s->data);
}

static const stream_handler_t finish_handler = {NULL, finish_write, finish_timeout};

void conn_finish(conn_t *c)
{
    app->conn_end(c);
    c->closing = 1;
    c->stream.h = &finish_handler;
    stream_read(&c->stream, 0);
    if (stream_flush(&c->stream) != 1) {
        conn_close(c);
        return;
    }
    stream_timer(&c->stream, conn_timeout(c->vs->conf->s.send_timeout));
}

int conn_count(void) { return nlive; }

void conn_close_all(void)
{
    while (live) conn_close(live);
}

void conn_close_idle(void)
{
    for (conn_t *c = live, *n; c; c = n) {
        n = c->next;
        if (!c->closing && app->conn_idle(c)) conn_finish(c); /* its last replies still go out */
    }
}

void conn_peer_text(const conn_t *c, char *buf, size_t n)
{
    addr_text(&c->peer.sa, buf, n, 0);
}

void conn_log(conn_t *c, int level, const char *fmt, ...)
{
    char peer[64], local[80] = "?", ctx[192];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    va_list ap;
    if (level > c->vs->log.level) return;
    conn_peer_text(c, peer, sizeof peer);
    if (getsockname(stream_fd(&c->stream), (struct sockaddr *)&ss, &sl) == 0)
        addr_text((struct sockaddr *)&ss, local, sizeof local, 1);
    snprintf(ctx, sizeof ctx, "client: %s, server: %s", peer, local);
    va_start(ap, fmt);
    log_vwrite(&c->vs->log, level, c->number, ctx, fmt, ap);
    va_end(ap);
}

long conn_timeout(long conf_ms)
{
    return conf_ms > 0 ? conf_ms : -1;
}
