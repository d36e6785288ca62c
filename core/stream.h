/* stream.h: a byte stream over a non-blocking socket: one I/O watcher, one deadline timer,
 * the receive buffer, the send queue, and eof/error state. It knows nothing of who owns it:
 * the owner sets a handler table and a data pointer, as nginx sets c->read->handler and
 * c->data. The client connection, a cosocket and a pooled idle upstream all use it.
 *
 * Events reach the owner only from the event loop, never from inside the call that armed
 * them. Readiness to write is the stream's own business: it flushes the queue itself when
 * the socket becomes writable and then tells the owner (on_write) how far it got. */
#ifndef TCPLUA_STREAM_H
#define TCPLUA_STREAM_H
#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "recvbuf.h"

typedef struct stream stream_t;

typedef struct stream_handler {
    void (*on_read)(stream_t *s);    /* readable (only while reading is wanted) */
    void (*on_write)(stream_t *s);   /* a flush made progress, drained, or failed */
    void (*on_timeout)(stream_t *s); /* the deadline passed; s->timed_out is set */
} stream_handler_t;

/* Queued output: live bytes are data[off, len); cap is the allocation size. A sent offset
 * instead of moving the rest after each partial send, so a slow reader costs linear time. */
typedef struct sendq {
    char *data;
    uint32_t off, len, cap;
} sendq_t;

struct stream {
    ev_io io;       /* one watcher; its mask is read-wanted | write-pending */
    ev_timer timer; /* the owner's deadline */
    recvbuf_t in;
    sendq_t out;
    const stream_handler_t *h;
    void *data;             /* the owner's */
    const char *err;        /* first I/O error ("closed", strerror text), sticky */
    uint32_t in_max;        /* receive buffer cap */
    unsigned eof : 1;       /* peer half-closed or reset */
    unsigned drained : 1;   /* the last read got less than asked: skip reading until readable */
    unsigned timed_out : 1; /* the deadline passed since it was last armed */
    unsigned reading : 1;   /* the owner wants on_read */
    unsigned reset : 1;     /* the eof was a reset (ECONNRESET) */
    unsigned epipe : 1;     /* a send found the peer gone (EPIPE) */
    unsigned watched : 1;   /* the loop has registered the fd (a watcher was started on it) */
    unsigned errnum : 16;   /* errno of the failed recv/send (a reset too), 0 for none: for logs */
};

extern struct ev_loop *stream_loop;

/* Takes fd (non-blocking); buffers stay unallocated until used, so an idle stream holds none. */
void stream_init(stream_t *s, int fd, const stream_handler_t *h, void *data, size_t in_max);
/* After stream_init on an fd that an earlier stream of this loop watched (its `watched` bit)
 * and that has not been closed since (a connection moving between a cosocket and a pool):
 * tells libev the kernel already knows the fd, sparing a re-registration (a failing
 * EPOLL_CTL_ADD) per move. Wrong for an fd never watched: it would never report events. */
void stream_adopt(stream_t *s);
/* Stops the watchers and frees the buffers; returns the fd, still open (pooling keeps it). */
int stream_detach(stream_t *s);
/* stream_detach and close(2). */
void stream_close(stream_t *s);
static inline int stream_fd(const stream_t *s) { return s->io.fd; }

/* One non-blocking read of at least `want` bytes of space (bounded by in_max). Returns the
 * bytes read; 0 when the kernel had none or the buffer is at in_max (flow control: the
 * owner stops reading until it consumes); -1 on eof or error (s->eof set, s->err for an
 * error other than a reset, "no memory" when the buffer could not grow). */
ssize_t stream_fill(stream_t *s, size_t want);

/* Whether the peer has sent bytes that no read has taken yet, without taking them (a peek):
 * 1 yes, 0 no; -1 on eof or error (s->eof set). */
int stream_pending(stream_t *s);
/* Reads and drops what the peer sent (a bounded number of reads): 0 when the kernel has no
 * more for now, -1 on eof or error (s->eof set). The receive buffer is not used. */
int stream_discard(stream_t *s);

/* Appends to the send queue: 0, or -1 when out of memory. Nothing is sent until a flush. */
int stream_write(stream_t *s, const char *p, size_t n);
static inline size_t stream_queued(const stream_t *s) { return s->out.len - s->out.off; }
/* Sends as much of the queue as the kernel takes: 0 all sent, 1 some left (the stream
 * flushes the rest when writable, then calls on_write), -1 error (s->err). */
int stream_flush(stream_t *s);

void stream_read(stream_t *s, int on); /* want on_read or not */
/* Wants on_write once the socket is writable even with nothing queued: the end of a
 * non-blocking connect(). */
void stream_want_write(stream_t *s);
void stream_timer(stream_t *s, long ms); /* ms < 0 disarms; arming clears timed_out */

#endif
