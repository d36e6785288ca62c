/* conn.h: one client connection: its byte stream, its number, its server and peer, the
 * counters of its current light session, and the application's part (app.h) that lives in
 * the same allocation. Core moves bytes and keeps the list; what a connection means to
 * scripts is the application's business, reached only through app.h. */
#ifndef TCPLUA_CONN_H
#define TCPLUA_CONN_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "stream.h"
#include "vserver.h"
#include "log.h"

typedef struct conn conn_t;

struct conn {
    stream_t stream;      /* its handlers and data belong to the application */
    unsigned long number; /* $connection, also "*N" in log lines */
    vserver_t *vs;
    double session_start;     /* start of the current light session */
    size_t bytes_sent;        /* in the current light session */
    struct conn *next, *prev; /* the worker's list of live connections */
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } peer;
    uint32_t requests;    /* light sessions so far ($connection_requests) */
    unsigned closing : 1; /* the application is done: flushing the rest, then lingering */
    /* The application's state (app->conn_size bytes), allocated with the connection: idle
     * connections are many, so this saves an allocation and a pointer per connection. */
    _Alignas(8) unsigned char app[];
};

static inline void *conn_app(conn_t *c) { return c->app; }
static inline conn_t *conn_of_app(void *p) { return (conn_t *)((char *)p - offsetof(conn_t, app)); }

extern int conn_shutting_down; /* graceful stop: no new light sessions */

/* A new connection on fd (non-blocking) for vs; the application's part is zeroed. */
conn_t *conn_create(int fd, vserver_t *vs, const struct sockaddr *peer);
void conn_close(conn_t *c); /* the only exit path; tells the application first */
/* The application is done: flush what is queued (waiting send_timeout), then close; the
 * lingering way (FIN, then discard until the client closes, 5 s at most) unless the client
 * already closed its side. The connection counts until it is gone. */
void conn_finish(conn_t *c);
/* Texts are formatted when needed (log lines are rare) so idle connections stay small. */
void conn_log(conn_t *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void conn_vlog(conn_t *c, int level, const char *fmt, va_list ap);
void conn_peer_text(const conn_t *c, char *buf, size_t n); /* "127.0.0.1" */
void addr_text(const struct sockaddr *sa, char *buf, size_t n, int with_port);

long conn_timeout(long conf_ms); /* a configured timeout: 0 means none (-1) */
int conn_count(void);
int conn_numbers_share(void); /* before forking workers */
void conn_close_all(void);
/* Graceful stop: finishes connections the application calls idle, except those whose next
 * request has already arrived (the application serves it first). */
void conn_close_idle(void);

#endif
