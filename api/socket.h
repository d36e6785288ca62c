/* socket.h: the cosocket object (ngx.socket.tcp) shared by api_socket.c (the object,
 * connect, pools, options, close) and api_socket_io.c (send, receive, receiveuntil).
 * A cosocket is a byte stream owned by one session: its stream's events go to that
 * session's wait record (session_event with src = the cosocket's stream), and a session
 * cleanup closes it on every way the session ends. */
#ifndef TCPLUA_SOCKET_H
#define TCPLUA_SOCKET_H
#include "session_internal.h"
#include <sys/socket.h>

enum {
    CS_CLOSED,     /* never connected, closed, failed, or handed to a pool */
    CS_RESOLVING,  /* waiting for the resolver */
    CS_CONNECTING, /* non-blocking connect() in progress */
    CS_CONNECTED
};

enum {
    TMO_CONNECT,
    TMO_SEND,
    TMO_READ
};

/* What a pending receive asks for. */
enum {
    RECV_SIZE,  /* total[, atleast] bytes */
    RECV_LINE,  /* up to LF, CRs dropped */
    RECV_ALL,   /* until the peer closes */
    RECV_ANY,   /* whatever is there, at most total */
    RECV_UNTIL, /* a receiveuntil iterator */
};

struct resolver_query;
struct socket_until;

typedef struct cosocket {
    stream_t stream; /* valid from CS_CONNECTING on */
    session_t *ss;   /* the owner while not CS_CLOSED */
    session_cleanup_t cleanup;
    struct resolver_query *query;
    char *pool;                   /* the pool key of this connection (malloc'd) */
    const char *err;              /* a connect failure to report (static text or errbuf) */
    struct sockaddr_storage peer; /* where connect goes */
    long tmo[3];                  /* settimeout values in ms; 0: the lua_socket_* default */
    long pool_size;               /* connect's pool_size option; 0: lua_socket_pool_size */
    size_t total, atleast;        /* the pending receive */
    struct socket_until *until;
    unsigned reused;
    unsigned short port;
    unsigned char state, rmode;
    unsigned read_closed : 1;     /* a receive failed: receives say "closed", sends still try */
    unsigned nodelay_pending : 1; /* tcp_nodelay is set at the first send */
    char errbuf[160];
} cosocket_t;

/* The cosocket of the table at argument 1, made there if it has none (raises when argument
 * 1 is not a table). */
cosocket_t *socket_check(lua_State *L);
/* Raises fmt (with the argument count) unless lo <= count <= hi. */
void socket_nargs(lua_State *L, int lo, int hi, const char *fmt);
/* The effective timeout (ms, -1 none) of kind TMO_*. */
long socket_timeout(const cosocket_t *cs, int kind);
/* Closes the connection (if any) and forgets the owner. */
void socket_close(cosocket_t *cs);
/* Pushes nil, err and closes the socket; returns the count. */
int socket_fail(lua_State *L, cosocket_t *cs, const char *err);
/* For methods that need a connection: NULL after pushing nil, "closed" (count in *nret),
 * with the "attempt to IO data on a closed socket" line unless io is NULL; raises "bad
 * request" when another session owns it. */
cosocket_t *socket_connected(lua_State *L, int *nret, const char *io);
/* An [error] line of session ss about one of its cosockets (SPEC [socket.log.errors]): a
 * gated one only with lua_socket_log_errors on; the system errors nginx's core logs
 * whatever the switch says pass gated = 0 ([socket.log.io]). */
void socket_log(session_t *ss, int gated, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "CALL() failed (E: strerror text)", as nginx writes a failed system call. */
void socket_log_errno(session_t *ss, int gated, const char *call, int e);
/* Cleanup of every cosocket wait: stop its watchers and the client watch. */
void socket_wait_cleanup(session_t *ss);

/* The metatable of socket objects (its __index holds the methods): api_socket.c makes it,
 * api_socket_io.c adds its methods to it. */
#define SOCKET_MT "tcplua.socket"
#endif
