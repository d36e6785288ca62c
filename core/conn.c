/* conn.c: client connections: create with the application's part, the worker's list, the
 * per-connection log context, the final flush and the lingering close, and conn_close(), the
 * single exit path.
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
#include <sys/socket.h>
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

/* The lingering close (SPEC proc.lingering_close): the FIN goes out after the output, then
 * whatever the client still sends is read and dropped until it closes its side, so that a
 * request crossing our close meets an EOF; close(2) with unread bytes, or bytes arriving at a
 * closed socket, would make the kernel answer with an RST instead. Bounded in total (not
 * per read, as nginx's lingering_timeout is) so a trickling client cannot hold it longer. */
#define LINGER_MS 5000

static void linger_read(stream_t *s)
{
    if (stream_discard(s) < 0) conn_close(s->data);
}

static void linger_timeout(stream_t *s)
{
    conn_close(s->data);
}

static const stream_handler_t linger_handler = {linger_read, NULL, linger_timeout};

/* All output is out. A client that already closed its side (the usual end of a session it
 * ended) is closed at once: no extra system call on that path. */
static void linger(conn_t *c)
{
    stream_t *s = &c->stream;
    if (s->eof || s->err || shutdown(stream_fd(s), SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    recvbuf_free(&s->in); /* unread requests are dropped with the rest */
    s->h = &linger_handler;
    stream_read(s, 1);
    stream_timer(s, LINGER_MS);
}

/* The final flush: the stream now belongs to core again. */
static void finish_write(stream_t *s)
{
    conn_t *c = s->data;
    if (s->err) conn_close(c);
    else if (stream_queued(s) == 0) linger(c);
    else stream_timer(s, conn_timeout(c->vs->conf->s.send_timeout)); /* between two writes, as nginx */
}

/* send_timeout: the client does not read, so the rest of the output is lost anyway. */
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
    int r = stream_flush(&c->stream);
    if (r < 0) conn_close(c);
    else if (r == 0) linger(c);
    else stream_timer(&c->stream, conn_timeout(c->vs->conf->s.send_timeout));
}

int conn_count(void) { return nlive; }

void conn_close_all(void)
{
    while (live) conn_close(live);
}

/* A graceful stop (SPEC proc.graceful.buffered): an idle session whose next request has
 * arrived unread is left waiting, its read watcher armed, so the loop resumes it to serve
 * that request; the others end now. One peek per idle connection, only at the stop. */
void conn_close_idle(void)
{
    for (conn_t *c = live, *n; c; c = n) {
        n = c->next;
        if (c->closing || !app->conn_idle(c)) continue;
        if (stream_pending(&c->stream) > 0) continue;
        conn_finish(c); /* its last replies still go out */
    }
}

void conn_peer_text(const conn_t *c, char *buf, size_t n)
{
    addr_text(&c->peer.sa, buf, n, 0);
}

void conn_vlog(conn_t *c, int level, const char *fmt, va_list ap)
{
    char peer[64], local[80] = "?", ctx[192];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (level > c->vs->log.level) return;
    conn_peer_text(c, peer, sizeof peer);
    if (getsockname(stream_fd(&c->stream), (struct sockaddr *)&ss, &sl) == 0)
        addr_text((struct sockaddr *)&ss, local, sizeof local, 1);
    snprintf(ctx, sizeof ctx, "client: %s, server: %s", peer, local);
    log_vwrite(&c->vs->log, level, c->number, ctx, fmt, ap);
}

void conn_log(conn_t *c, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn_vlog(c, level, fmt, ap);
    va_end(ap);
}

long conn_timeout(long conf_ms)
{
    return conf_ms > 0 ? conf_ms : -1;
}
