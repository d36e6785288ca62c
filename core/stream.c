/* stream.c: the byte stream: reading into the receive buffer, queueing and flushing output
 * with a sent offset, the one I/O watcher whose mask follows what is wanted, the deadline,
 * and dispatch of events to the owner's handler table. */
#include "stream.h"
#include "blockpool.h"
#include "errstr.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

struct ev_loop *stream_loop;

#define STREAM_OF(w, field) ((stream_t *)((char *)(w)-offsetof(stream_t, field)))

/* Kept outside the struct's bit fields: whether a flush left bytes for EV_WRITE to send. */
static int writing(const stream_t *s)
{
    return (s->io.events & EV_WRITE) != 0 && ev_is_active(&s->io);
}

/* Sets the watcher's mask; a no-op when it is unchanged, so the common arm/disarm pair of a
 * ping-pong costs what two watchers cost. */
static void io_set(stream_t *s, int want)
{
    if (ev_is_active(&s->io) && (s->io.events & (EV_READ | EV_WRITE)) == want) return;
    ev_io_stop(stream_loop, &s->io);
    if (!want) return;
    ev_io_modify(&s->io, want);
    ev_io_start(stream_loop, &s->io);
    s->watched = 1;
}

/* The mask now wanted, except that read interest no longer wanted stays registered until
 * the socket turns readable (on_io drops it then). libev's epoll backend leaves a stopped fd
 * in the kernel's set, so restarting it after a poll costs a failing EPOLL_CTL_ADD (EEXIST):
 * one per wait of a proxy, whose client idles while it waits on its upstream and whose
 * upstream idles while it waits on the client. */
static void io_update(stream_t *s, int write)
{
    int have = ev_is_active(&s->io) ? s->io.events & (EV_READ | EV_WRITE) : 0;
    io_set(s, (s->reading || (have & EV_READ) ? EV_READ : 0) | (write ? EV_WRITE : 0));
}

/* The stream whose on_write handler is running: cleared by stream_detach, so on_io knows
 * whether the handler ended the stream's owner before it reports a read of the same turn. */
static stream_t *dispatching;

/* Writes, then reads: both in one turn, or a steady writer would hold back every read. */
static void on_io(struct ev_loop *l, ev_io *w, int revents)
{
    stream_t *s = STREAM_OF(w, io);
    (void)l;
    if ((revents & EV_WRITE) && writing(s)) {
        stream_flush(s);
        dispatching = s;
        if (s->h->on_write) s->h->on_write(s);
        if (dispatching != s) return; /* the handler closed it */
        dispatching = NULL;
    }
    if (!(revents & EV_READ)) return;
    if (!s->reading) { /* readable, and nobody reads: now drop the read interest kept */
        io_set(s, writing(s) ? EV_WRITE : 0);
        return;
    }
    s->drained = 0;
    s->h->on_read(s);
}

static void on_timer(struct ev_loop *l, ev_timer *w, int revents)
{
    stream_t *s = STREAM_OF(w, timer);
    (void)l;
    (void)revents;
    s->timed_out = 1;
    s->h->on_timeout(s);
}

void stream_init(stream_t *s, int fd, const stream_handler_t *h, void *data, size_t in_max)
{
    memset(s, 0, sizeof *s);
    ev_init(&s->io, on_io);
    ev_io_set(&s->io, fd, 0);
    ev_init(&s->timer, on_timer);
    s->h = h;
    s->data = data;
    s->in_max = in_max > UINT32_MAX ? UINT32_MAX : (uint32_t)in_max;
}

/* libev marks a watcher set with ev_io_set as naming a possibly new file (EV__IOFDSET), and
 * its first start makes the backend register the fd again; for an fd it already watched and
 * that stayed open, that is a wasted (failing) epoll_ctl. */
void stream_adopt(stream_t *s)
{
    s->io.events &= ~EV__IOFDSET;
    s->watched = 1;
}

static void sendq_free(sendq_t *q)
{
    block_free(q->data, q->cap);
    *q = (sendq_t){0};
}

int stream_detach(stream_t *s)
{
    if (dispatching == s) dispatching = NULL;
    ev_io_stop(stream_loop, &s->io);
    ev_timer_stop(stream_loop, &s->timer);
    recvbuf_free(&s->in);
    sendq_free(&s->out);
    s->reading = 0;
    return s->io.fd;
}

void stream_close(stream_t *s)
{
    close(stream_detach(s));
}

static const char *io_error(int e)
{
    return e == EPIPE || e == ECONNRESET ? ERR_CLOSED : strerror(e);
}

ssize_t stream_fill(stream_t *s, size_t want)
{
    size_t max = s->in_max < RECVBUF_READ_MIN ? RECVBUF_READ_MIN : s->in_max, avail;
    char *p = recvbuf_space(&s->in, want, max, &avail);
    if (!p && errno == EMSGSIZE) return 0; /* full: the owner stops reading (flow control) */
    if (!p) {                              /* a buffer that cannot grow ends the stream */
        s->eof = 1;
        s->err = s->err ? s->err : ERR_NOMEM;
        return -1;
    }
    ssize_t r;
    do r = recv(stream_fd(s), p, avail, 0);
    while (r < 0 && errno == EINTR);
    int e = errno; /* before commit, which may free() */
    recvbuf_commit(&s->in, r > 0 ? (size_t)r : 0);
    s->drained = r >= 0 && (size_t)r < avail; /* nginx's trick: a short read means "wait" */
    if (r > 0) return r;
    if (r < 0 && (e == EAGAIN || e == EWOULDBLOCK)) return 0;
    s->eof = 1;
    s->reset = r < 0 && e == ECONNRESET;
    if (r < 0 && !s->errnum) s->errnum = (unsigned)e & 0xffff;
    if (r < 0 && e != ECONNRESET && !s->err) s->err = io_error(e);
    return -1;
}

int stream_pending(stream_t *s)
{
    char b;
    ssize_t r;
    do r = recv(stream_fd(s), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r > 0) return 1;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    s->eof = 1;
    return -1;
}

/* Reads per event while discarding: a client that sends faster than this is drained over
 * several turns of the loop instead of holding it. */
#define DISCARD_READS 16

int stream_discard(stream_t *s)
{
    static char sink[16384]; /* never read: one for every stream, so discarding costs no memory */
    for (int i = 0; i < DISCARD_READS; i++) {
        ssize_t r = recv(stream_fd(s), sink, sizeof sink, 0);
        if (r > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        s->eof = 1;
        return -1;
    }
    return 0;
}

/* Room for n more bytes when the tail is too short: compacts when no more bytes move than were sent since the last
 * compaction (amortised O(1) per byte), else doubles. */
static int sendq_reserve(sendq_t *q, size_t n)
{
    size_t live = q->len - q->off;
    if (live + n > UINT32_MAX) return -1;
    if (q->off >= live && n <= q->cap - live) {
        memmove(q->data, q->data + q->off, live);
        q->off = 0;
        q->len = (uint32_t)live;
        return 0;
    }
    size_t cap = q->cap ? (size_t)q->cap * 2 : BLOCK_SIZE; /* doubling pays for the copy */
    while (cap < live + n) cap *= 2;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    char *d = block_alloc(cap);
    if (!d) return -1;
    if (live) memcpy(d, q->data + q->off, live);
    block_free(q->data, q->cap);
    *q = (sendq_t){d, 0, (uint32_t)live, (uint32_t)cap};
    return 0;
}

int stream_write(stream_t *s, const char *p, size_t n)
{
    sendq_t *q = &s->out;
    if (n == 0) return 0;
    if (n > q->cap - q->len && sendq_reserve(q, n)) return -1;
    memcpy(q->data + q->len, p, n);
    q->len += (uint32_t)n;
    return 0;
}

int stream_flush(stream_t *s)
{
    sendq_t *q = &s->out;
    while (q->off < q->len && !s->err) {
        ssize_t w = send(stream_fd(s), q->data + q->off, q->len - q->off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            io_update(s, 1);
            return 1;
        }
        if (w < 0) {
            s->epipe = errno == EPIPE;
            s->reset = errno == ECONNRESET;
            s->errnum = (unsigned)errno & 0xffff;
            s->err = io_error(errno);
        } else q->off += (uint32_t)w;
    }
    io_update(s, 0);
    sendq_free(q); /* an idle stream holds no output memory; after an error, none is sent */
    return s->err ? -1 : 0;
}

void stream_read(stream_t *s, int on)
{
    s->reading = on != 0;
    io_update(s, writing(s));
}

void stream_want_write(stream_t *s) { io_update(s, 1); }

void stream_timer(stream_t *s, long ms)
{
    ev_timer_stop(stream_loop, &s->timer);
    if (ms < 0) return; /* timed_out stays: the owner reads it after disarming */
    s->timed_out = 0;
    ev_timer_set(&s->timer, (double)ms / 1000.0, 0.);
    ev_timer_start(stream_loop, &s->timer);
}
