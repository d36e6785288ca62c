/* conn.h: one client connection: its socket watchers, buffers, and the Lua session bound
 * to it. Watchers are embedded (libev idiom) so callbacks recover the conn with offsetof. */
#ifndef TCPLUA_CONN_H
#define TCPLUA_CONN_H
#include <ev.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "recvbuf.h"
#include "conf.h"
#include "log.h"

typedef struct lua_State lua_State;
typedef struct conn conn_t;

/* A suspended API call (the one yield protocol). event() sees each socket/timer event
 * while the call waits and answers 0 keep waiting, 1 resume now, -1 end the session without
 * resuming; cleanup() disarms what the call armed; resume() pushes the call's results and
 * returns their count. All run from the worker's loop, never inside the API call itself. */
typedef struct op {
    const char *name;
    int idle;                  /* waiting between requests: closed first by a graceful stop */
    int on_write;              /* waits for the output queue to drain (see session.c resume) */
    int (*event)(conn_t *c, int what);
    void (*cleanup)(conn_t *c);
    int (*resume)(conn_t *c, lua_State *L);
} op_t;

/* A listening server as the worker sees it. */
typedef struct vserver {
    server_conf_t *conf;
    log_target_t log;          /* this server's error_log */
    int access_fd;             /* access log, -1 when off */
    char *access_buf;          /* pending access log lines, written once per loop turn */
    size_t access_len, access_cap;
    int chunk_ref;             /* registry ref of the compiled closure factory, or LUA_NOREF */
    struct vserver *next;
} vserver_t;

typedef struct outbuf { char *data; size_t len, cap; } outbuf_t;

struct conn {
    ev_io rio, wio;            /* readable / writable; only armed while someone waits */
    ev_timer timer;            /* the pending op's deadline, or keepalive */
    unsigned long number;      /* $connection, also "*N" in log lines */
    vserver_t *vs;
    recvbuf_t in;
    outbuf_t out;
    const char *out_err;       /* error seen while flushing, reported by the next API call */
    lua_State *co;             /* the session's coroutine, NULL once released */
    const op_t *op;            /* pending suspended call, NULL while Lua runs or is idle */
    size_t want_total, want_atleast;   /* the pending receive (want_total: bytes of a print) */
    double session_start;      /* start of the current light session */
    size_t bytes_sent;         /* in the current light session */
    struct conn *next, *prev;  /* the worker's list of live connections */
    union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } peer;
    int fd;
    int co_ref;
    uint32_t requests;         /* light sessions so far ($connection_requests) */
    /* Flags as bits: idle connections are many, so every byte of this struct counts. */
    unsigned eof : 1;          /* client half-closed or reset */
    unsigned drained : 1;      /* the last read got less than asked: skip reading until EV_READ */
    unsigned finishing : 1;    /* script is done; close once output is flushed */
    unsigned timed_out : 1;    /* the pending op's timer fired */
    unsigned light_logged : 1; /* the current light session has had its access log line */
};

extern struct ev_loop *conn_loop;
extern int conn_shutting_down;             /* graceful stop: no new light sessions */

conn_t *conn_create(int fd, vserver_t *vs, const struct sockaddr *peer);
void conn_close(conn_t *c);                 /* the only exit path */
/* Texts are formatted when needed (log lines are rare) so idle connections stay small. */
void conn_log(conn_t *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void conn_peer_text(const conn_t *c, char *buf, size_t n);       /* "127.0.0.1" */
void addr_text(const struct sockaddr *sa, char *buf, size_t n, int with_port);

/* Output: append to the queue; flush tries one write of the whole queue. */
int conn_out_append(conn_t *c, const char *p, size_t n);
int conn_flush(conn_t *c);                  /* 0 all written, 1 pending (wio armed), -1 error */
/* Input: one non-blocking read into the receive buffer; returns bytes, 0 on EAGAIN, -1 on EOF/error. */
ssize_t conn_fill(conn_t *c, size_t want);

void conn_arm_read(conn_t *c, int on);
void conn_arm_timer(conn_t *c, long ms);    /* ms < 0 disarms; 0 fires on the next iteration */
long conn_timeout(long conf_ms);            /* a configured timeout: 0 means none (-1) */
int conn_count(void);
int conn_numbers_share(void);               /* before forking workers */
void conn_close_all(void);
void conn_close_idle(void);                 /* closes sessions idle between requests */

#endif
