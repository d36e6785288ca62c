/* session_internal.h: the session object the API families share with api/session.c: the
 * coroutine of a connection, the one wait record of the one yield protocol, and the list
 * of cleanups that run on every way a session ends. */
#ifndef TCPLUA_SESSION_INTERNAL_H
#define TCPLUA_SESSION_INTERNAL_H
#include <lua.h>
#include <lauxlib.h>
#include "conn.h"
#include "accesslog.h"
#include "clock.h"

typedef struct session session_t;

/* What a suspended call waits for. event() sees each event of an object the session waits
 * on (src: which stream; what: SESSION_READ/WRITE/TIMEOUT) and answers 0 keep waiting, 1
 * resume now, SESSION_ABORT end the session and close at once (the client is gone), or
 * SESSION_FINISH end it without resuming but deliver its output first; cleanup() disarms
 * what the call armed; resume() pushes the call's results and returns their count. All three run from the
 * event loop (or the resume driver after a yield), never inside the API call itself. */
typedef struct wait_ops {
    const char *name;
    unsigned idle : 1;     /* waiting between requests: a graceful stop ends it unless a request arrived */
    unsigned on_write : 1; /* asked again after the flush that follows every yield */
    int (*event)(session_t *ss, stream_t *src, int what);
    void (*cleanup)(session_t *ss);
    int (*resume)(session_t *ss, lua_State *L);
} wait_ops_t;

enum {
    SESSION_READ = 1,
    SESSION_WRITE,
    SESSION_TIMEOUT
};
enum {
    SESSION_ABORT = -1,
    SESSION_FINISH = -2
};

/* The one wait record: the operations, the object waited on (whose stream timer holds the
 * deadline), and the call's own arguments (a receive's total and atleast, a print's size). */
typedef struct wait {
    const wait_ops_t *ops; /* NULL while the script runs or after it ended */
    void *obj;
    size_t n1, n2;
} wait_t;

/* A cleanup registered by whatever a session acquires (a cosocket, a DNS query, a lock):
 * embed it in the object and recover the object with offsetof. Runs once, LIFO. */
typedef struct session_cleanup {
    void (*fn)(struct session_cleanup *cl, session_t *ss);
    struct session_cleanup *next;
} session_cleanup_t;

struct session {
    lua_State *co; /* the coroutine, NULL once the session ended */
    wait_t wait;
    session_cleanup_t *cleanups;
    int co_ref;
    unsigned light_logged : 1; /* the current light session has had its access-log line */
};

static inline session_t *session_of(conn_t *c) { return conn_app(c); }
static inline conn_t *session_conn_of(session_t *ss) { return conn_of_app(ss); }
static inline stream_t *session_stream(session_t *ss) { return &session_conn_of(ss)->stream; }

/* The session of the running coroutine; raises "API disabled in the context of
 * init_by_lua*" outside a session. */
session_t *session_get(lua_State *L);
/* The session or NULL (for calls valid in init_by_lua too, such as ngx.log). */
session_t *session_get_opt(lua_State *L);
/* Records the wait and suspends the coroutine; use as `return session_yield(...)`. */
int session_yield(lua_State *L, session_t *ss, const wait_ops_t *ops, void *obj);
/* Stops reading the client and its deadline: the cleanup of most waits. */
void session_wait_cleanup(session_t *ss);
/* Pushes nil, err (and partial when given) and returns the count. */
int session_fail(lua_State *L, const char *err, const char *partial, size_t plen, int with_partial);
void session_cleanup_add(session_t *ss, session_cleanup_t *cl);
void session_cleanup_remove(session_t *ss, session_cleanup_t *cl);

/* Delivers an event of a stream (src; NULL for an event of no stream, such as a finished
 * DNS query) to the session's wait: resumes, ends or leaves the session waiting. */
void session_event(session_t *ss, stream_t *src, int what);
/* With lua_check_client_abort on, a session waiting on something else watches its client:
 * session_watch_client() arms that, and the wait's event() hands client events to
 * session_client_event(), which buffers data for later receives and answers SESSION_ABORT
 * when the client closed. session_wait_cleanup() disarms it. */
void session_watch_client(session_t *ss);
int session_client_event(session_t *ss, stream_t *s, int what);

extern const wait_ops_t session_wait_exit;
/* The resume() of waits whose call returns nothing (exit, sleep). */
int session_no_results(session_t *ss, lua_State *L);

/* Ends the current light session: its access-log line, once. Inline: pipelined requests
 * pass here once per message. */
static inline void session_light_end(session_t *ss)
{
    conn_t *c = session_conn_of(ss);
    if (!ss->light_logged && c->vs->access_fd >= 0) accesslog_write(c);
    ss->light_logged = 1;
}

/* The next light session begins (wait_next_request returns to the script). */
static inline void session_light_begin(session_t *ss)
{
    conn_t *c = session_conn_of(ss);
    ss->light_logged = 0;
    c->requests++;
    c->session_start = clock_now();
    c->bytes_sent = 0;
}
#endif
