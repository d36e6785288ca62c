/* conn.c: client connection plumbing: create, read into the receive buffer, queue and flush
 * output, the per-connection log context, and conn_close(), the single exit path.
 * What the connection means to Lua lives in api/session.c; this file only moves bytes. */
#include "conn.h"
#include "errstr.h"
#include "blockpool.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <netinet/in.h>

struct ev_loop *conn_loop;
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

void session_on_event(conn_t *c, int what);    /* api/session.c */
void session_release(conn_t *c);               /* api/session.c */

#define CONN_OF(w, field) ((conn_t *)((char *)(w) - offsetof(conn_t, field)))

static void on_read(struct ev_loop *l, ev_io *w, int ev)
{
    (void)l; (void)ev;
    conn_t *c = CONN_OF(w, rio);
    c->drained = 0;
    session_on_event(c, EV_READ);
}
static void on_write(struct ev_loop *l, ev_io *w, int ev) { (void)l; (void)ev; session_on_event(CONN_OF(w, wio), EV_WRITE); }
static void on_timer(struct ev_loop *l, ev_timer *w, int ev) { (void)l; (void)ev; session_on_event(CONN_OF(w, timer), EV_TIMER); }

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
    conn_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->vs = vs;
    c->number = __atomic_add_fetch(next_number, 1, __ATOMIC_RELAXED);
    ev_io_init(&c->rio, on_read, fd, EV_READ);
    ev_io_init(&c->wio, on_write, fd, EV_WRITE);
    ev_init(&c->timer, on_timer);
    memcpy(&c->peer, peer, peer->sa_family == AF_INET6 ? sizeof c->peer.in6 : sizeof c->peer.in);
    c->next = live;
    if (live) live->prev = c;
    live = c;
    nlive++;
    return c;
}

void conn_close(conn_t *c)
{
    ev_io_stop(conn_loop, &c->rio);
    ev_io_stop(conn_loop, &c->wio);
    ev_timer_stop(conn_loop, &c->timer);
    session_release(c);
    close(c->fd);
    recvbuf_free(&c->in);
    block_free(c->out.data, c->out.cap);
    if (c->prev) c->prev->next = c->next; else live = c->next;
    if (c->next) c->next->prev = c->prev;
    nlive--;
    free(c);
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
        if (c->op && c->op->idle) conn_close(c);
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
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0) addr_text((struct sockaddr *)&ss, local, sizeof local, 1);
    snprintf(ctx, sizeof ctx, "client: %s, server: %s", peer, local);
    va_start(ap, fmt);
    log_vwrite(&c->vs->log, level, c->number, ctx, fmt, ap);
    va_end(ap);
}

int conn_out_append(conn_t *c, const char *p, size_t n)
{
    outbuf_t *o = &c->out;
    if (n == 0) return 0;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : BLOCK_SIZE;
        while (cap < o->len + n) cap *= 2;
        char *d = block_alloc(cap);
        if (!d) return -1;
        if (o->len) memcpy(d, o->data, o->len);
        block_free(o->data, o->cap);
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
    return 0;
}

static const char *io_error(int e)
{
    return e == EPIPE || e == ECONNRESET ? ERR_CLOSED : strerror(e);
}

int conn_flush(conn_t *c)
{
    outbuf_t *o = &c->out;
    while (o->len && !c->out_err) {
        ssize_t w = send(c->fd, o->data, o->len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) { ev_io_start(conn_loop, &c->wio); return 1; }
        if (w < 0) { c->out_err = io_error(errno); break; }
        memmove(o->data, o->data + w, o->len - (size_t)w);
        o->len -= (size_t)w;
    }
    ev_io_stop(conn_loop, &c->wio);
    block_free(o->data, o->cap);    /* an idle connection holds no output memory */
    o->data = NULL;
    o->len = o->cap = 0;
    return c->out_err ? -1 : 0;
}

ssize_t conn_fill(conn_t *c, size_t want)
{
    size_t max = (size_t)c->vs->conf->s.client_max_body_size, avail;
    if (max < RECVBUF_READ_MIN) max = RECVBUF_READ_MIN;
    char *p = recvbuf_space(&c->in, want, max, &avail);
    if (!p) return 0;           /* buffer full: stop reading until Lua takes some (flow control) */
    ssize_t r;
    do r = recv(c->fd, p, avail, 0); while (r < 0 && errno == EINTR);
    recvbuf_commit(&c->in, r > 0 ? (size_t)r : 0);
    c->drained = r >= 0 && (size_t)r < avail;   /* nginx's trick: a short read means "wait" */
    if (r > 0) return r;
    if (r < 0 && errno == EAGAIN) return 0;
    c->eof = 1;
    if (r < 0 && errno != ECONNRESET) c->out_err = c->out_err ? c->out_err : io_error(errno);
    return -1;
}

void conn_arm_read(conn_t *c, int on)
{
    if (on) ev_io_start(conn_loop, &c->rio);
    else ev_io_stop(conn_loop, &c->rio);
}

void conn_arm_timer(conn_t *c, long ms)
{
    ev_timer_stop(conn_loop, &c->timer);
    if (ms < 0) return;
    ev_timer_set(&c->timer, (double)ms / 1000.0, 0.);
    ev_timer_start(conn_loop, &c->timer);
}

long conn_timeout(long conf_ms)
{
    return conf_ms > 0 ? conf_ms : -1;
}
