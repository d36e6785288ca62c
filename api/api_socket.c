/* api_socket.c: ngx.socket.tcp(): the cosocket object, connect (pooled connection, address
 * literal, unix socket or a name through the server's resolver), setkeepalive into this
 * worker's pools (core/kpool.c), timeouts, options, close. send/receive live in
 * api_socket_io.c. The object is a table holding the userdata at [1], as ngx_lua's is, so
 * scripts that add fields to their socket keep working. */
#include "socket.h"
#include "api.h"
#include "errstr.h"
#include "kpool.h"
#include "resolver.h"
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_UD_MT "tcplua.socket.ud" /* the userdata's: __gc */
#define SOCKET_IN_MAX (1u << 30)        /* the largest receive a cosocket buffers */

static void cs_read(stream_t *s) { session_event(((cosocket_t *)s->data)->ss, s, SESSION_READ); }
static void cs_write(stream_t *s) { session_event(((cosocket_t *)s->data)->ss, s, SESSION_WRITE); }
static void cs_timeout(stream_t *s) { session_event(((cosocket_t *)s->data)->ss, s, SESSION_TIMEOUT); }
static const stream_handler_t cs_handler = {cs_read, cs_write, cs_timeout};

/* The cosocket of the table at argument 1, or NULL when the table has none (a socket
 * never connected, or any table: ngx_lua makes the userdata at the first connect). */
static cosocket_t *socket_of(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    cosocket_t *cs = lua_touserdata(L, -1);
    if (cs && lua_getmetatable(L, -1)) {
        luaL_getmetatable(L, SOCKET_UD_MT);
        if (!lua_rawequal(L, -1, -2)) cs = NULL;
        lua_pop(L, 2);
    } else
        cs = NULL;
    lua_pop(L, 1);
    return cs;
}

static cosocket_t *socket_new(lua_State *L)
{
    cosocket_t *cs = lua_newuserdata(L, sizeof *cs);
    memset(cs, 0, sizeof *cs);
    luaL_getmetatable(L, SOCKET_UD_MT);
    lua_setmetatable(L, -2);
    return cs;
}

cosocket_t *socket_check(lua_State *L)
{
    cosocket_t *cs = socket_of(L);
    if (!cs) {
        cs = socket_new(L);
        lua_rawseti(L, 1, 1);
    }
    return cs;
}

void socket_nargs(lua_State *L, int lo, int hi, const char *fmt)
{
    int n = lua_gettop(L);
    if (n < lo || n > hi) luaL_error(L, fmt, n);
}

long socket_timeout(const cosocket_t *cs, int kind)
{
    if (cs->tmo[kind] > 0) return cs->tmo[kind];
    const srv_conf_t *s = &session_conn_of(cs->ss)->vs->conf->s;
    long d[] = {s->lua_socket_connect_timeout, s->lua_socket_send_timeout, s->lua_socket_read_timeout};
    return conn_timeout(d[kind]);
}

/* Drops the connection (or the query) without touching the owner's cleanup list. */
static void socket_release(cosocket_t *cs)
{
    if (cs->query) resolver_cancel(cs->query);
    cs->query = NULL;
    if (cs->state >= CS_CONNECTING) stream_close(&cs->stream);
    free(cs->pool);
    cs->pool = NULL;
    cs->state = CS_CLOSED;
    cs->ss = NULL;
}

static void socket_cleanup(session_cleanup_t *cl, session_t *ss)
{
    (void)ss;
    socket_release((cosocket_t *)((char *)cl - offsetof(cosocket_t, cleanup)));
}

void socket_close(cosocket_t *cs)
{
    if (cs->state != CS_CLOSED) session_cleanup_remove(cs->ss, &cs->cleanup);
    socket_release(cs);
}

int socket_fail(lua_State *L, cosocket_t *cs, const char *err)
{
    int n = session_fail(L, err, NULL, 0, 0); /* before the close: err may live in cs */
    socket_close(cs);
    return n;
}

cosocket_t *socket_connected(lua_State *L, int *nret, const char *io)
{
    cosocket_t *cs = socket_of(L);
    session_t *ss = session_get(L);
    if (!cs || cs->state != CS_CONNECTED) {
        if (io) socket_log(ss, 1, "attempt to %s data on a closed socket", io);
        *nret = session_fail(L, ERR_CLOSED, NULL, 0, 0);
        return NULL;
    }
    if (cs->ss != ss) luaL_error(L, "bad request");
    return cs;
}

void socket_log(session_t *ss, int gated, const char *fmt, ...)
{
    conn_t *c = session_conn_of(ss);
    if (gated && !c->vs->conf->s.lua_socket_log_errors) return;
    va_list ap;
    va_start(ap, fmt);
    conn_vlog(c, LOG_ERR, fmt, ap);
    va_end(ap);
}

void socket_log_errno(session_t *ss, int gated, const char *call, int e)
{
    socket_log(ss, gated, "%s() failed (%d: %s)", call, e, strerror(e));
}

void socket_wait_cleanup(session_t *ss)
{
    cosocket_t *cs = ss->wait.obj;
    if (cs->state >= CS_CONNECTING) {
        stream_read(&cs->stream, 0);
        stream_timer(&cs->stream, -1);
    }
    session_wait_cleanup(ss);
}

/* strerror() as ngx_lua words it: "connection refused". */
static const char *errno_text(cosocket_t *cs, int e)
{
    snprintf(cs->errbuf, sizeof cs->errbuf, "%s", strerror(e));
    if (cs->errbuf[0] >= 'A' && cs->errbuf[0] <= 'Z') cs->errbuf[0] += 'a' - 'A';
    return cs->errbuf;
}

/* The socket belongs to session ss until closed: its cleanup closes it when ss ends. */
static void socket_own(cosocket_t *cs, session_t *ss, int state)
{
    cs->state = (unsigned char)state;
    cs->ss = ss;
    cs->cleanup.fn = socket_cleanup;
    session_cleanup_add(ss, &cs->cleanup);
}

/* The socket now holds fd. */
static void socket_attach(cosocket_t *cs, session_t *ss, int fd, int state)
{
    stream_init(&cs->stream, fd, &cs_handler, cs, SOCKET_IN_MAX);
    /* Nothing to read yet (a new connection; a pooled one would have been closed had it
     * turned readable): a receive waits for readiness instead of trying a read that fails
     * with EAGAIN, as nginx's read event starts not ready. */
    cs->stream.drained = 1;
    socket_own(cs, ss, state);
}

/* ---- connect ---- */

static void connect_failed(session_t *ss, cosocket_t *cs, int e)
{
    socket_log_errno(ss, 1, "connect", e);
    cs->err = errno_text(cs, e);
}

/* As ngx_lua words it: the address connected to (a resolved name's address), no brackets. */
static void connect_timed_out(session_t *ss, cosocket_t *cs)
{
    char a[sizeof((struct sockaddr_un *)0)->sun_path + 8];
    const struct sockaddr *sa = (const struct sockaddr *)&cs->peer;
    if (sa->sa_family == AF_UNIX) snprintf(a, sizeof a, "unix:%s", ((const struct sockaddr_un *)sa)->sun_path);
    else addr_text(sa, a, sizeof a, 0);
    socket_log(ss, 1, "lua tcp socket connect timed out, when connecting to %s:%u", a, cs->port);
    cs->err = ERR_TIMEOUT;
}

static int connect_event(session_t *ss, stream_t *src, int what)
{
    cosocket_t *cs = ss->wait.obj;
    if (src != &cs->stream) return src ? session_client_event(ss, src, what) : 1;
    if (what == SESSION_TIMEOUT) {
        connect_timed_out(ss, cs);
        return 1;
    }
    if (what != SESSION_WRITE) return 0;
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(stream_fd(src), SOL_SOCKET, SO_ERROR, &e, &len) < 0) e = errno;
    if (e) connect_failed(ss, cs, e);
    else cs->state = CS_CONNECTED;
    return 1;
}

static int connect_push(lua_State *L, cosocket_t *cs)
{
    if (cs->err || cs->state != CS_CONNECTED)
        return socket_fail(L, cs, cs->err ? cs->err : ERR_CLOSED);
    lua_pushinteger(L, 1);
    return 1;
}

static int connect_results(session_t *ss, lua_State *L) { return connect_push(L, ss->wait.obj); }

static const wait_ops_t wait_connect = {"connect", 0, 0, connect_event, socket_wait_cleanup, connect_results};

/* Starts a non-blocking connect to cs->peer: 1 when it is over (connected, or cs->err),
 * 0 when it is in progress with its watchers armed. */
static int connect_start(session_t *ss, cosocket_t *cs, socklen_t len)
{
    const struct sockaddr *sa = (const struct sockaddr *)&cs->peer;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    cs->err = NULL;
    if (fd < 0) {
        cs->err = errno_text(cs, errno);
        return 1;
    }
    /* As ngx_lua, tcp_nodelay is applied at the first send (getoption sees 0 before). */
    cs->nodelay_pending = sa->sa_family != AF_UNIX && session_conn_of(ss)->vs->conf->s.tcp_nodelay == 1;
    int r;
    do r = connect(fd, sa, len);
    while (r < 0 && errno == EINTR);
    int e = errno;
    socket_attach(cs, ss, fd, r == 0 ? CS_CONNECTED : CS_CONNECTING);
    if (r == 0) return 1;
    if (e != EINPROGRESS) {
        connect_failed(ss, cs, e);
        return 1;
    }
    stream_want_write(&cs->stream);
    stream_timer(&cs->stream, socket_timeout(cs, TMO_CONNECT));
    return 0;
}

static int connect_to(lua_State *L, session_t *ss, cosocket_t *cs, socklen_t len)
{
    if (connect_start(ss, cs, len)) return connect_push(L, cs);
    session_watch_client(ss);
    return session_yield(L, ss, &wait_connect, cs);
}

static socklen_t inet_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* One of the addresses, chosen at random as ngx_lua does, with the socket's port. */
static void pick_addr(cosocket_t *cs, const struct sockaddr_storage *addrs, int n)
{
    cs->peer = addrs[n > 1 ? rand() % n : 0];
    ((struct sockaddr_in *)&cs->peer)->sin_port = htons(cs->port); /* same offset in sin6 */
}

/* The resolver answered or failed: the event of no stream that resolve_event() takes. */
static void resolved(void *data, const struct sockaddr_storage *addrs, int n, const char *err)
{
    cosocket_t *cs = data;
    cs->query = NULL;
    cs->err = NULL;
    if (n == 0) {
        snprintf(cs->errbuf, sizeof cs->errbuf, "%s", err);
        cs->err = cs->errbuf;
    } else
        pick_addr(cs, addrs, n);
    session_event(cs->ss, NULL, SESSION_READ);
}

/* After the answer the same wait goes on as a connect's (ops switched in place). */
static int resolve_event(session_t *ss, stream_t *src, int what)
{
    cosocket_t *cs = ss->wait.obj;
    if (src) return session_client_event(ss, src, what);
    if (cs->err) return 1;
    session_cleanup_remove(ss, &cs->cleanup);
    cs->state = CS_CLOSED;
    if (connect_start(ss, cs, inet_len(&cs->peer))) return 1;
    ss->wait.ops = &wait_connect;
    return 0;
}

static const wait_ops_t wait_resolve = {"resolve", 0, 0, resolve_event, session_wait_cleanup, connect_results};

static int connect_name(lua_State *L, session_t *ss, cosocket_t *cs, const char *host)
{
    vserver_t *vs = session_conn_of(ss)->vs;
    char err[200];
    struct sockaddr_storage addrs[RESOLVER_MAX_ADDRS];
    int n;
    if (!vs->conf->s.resolvers) {
        snprintf(err, sizeof err, "no resolver defined to resolve \"%s\"", host);
        return socket_fail(L, cs, err);
    }
    resolver_t *r = vserver_resolver(vs, err, sizeof err);
    if (!r) return socket_fail(L, cs, err);
    if (resolver_cached(r, host, addrs, RESOLVER_MAX_ADDRS, &n)) {
        pick_addr(cs, addrs, n);
        return connect_to(L, ss, cs, inet_len(&cs->peer));
    }
    cs->query = resolver_query(r, host, resolved, cs);
    if (!cs->query) return socket_fail(L, cs, ERR_NOMEM);
    socket_own(cs, ss, CS_RESOLVING);
    session_watch_client(ss);
    return session_yield(L, ss, &wait_resolve, cs);
}

/* An address literal ("127.0.0.1", "::1", "[::1]") into sa; 0, or -1 for a name. */
static int parse_literal(const char *host, unsigned short port, struct sockaddr_storage *sa, socklen_t *len)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
    memset(sa, 0, sizeof *sa);
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *len = sizeof *in;
        return 0;
    }
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) return -1;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    *len = sizeof *in6;
    return 0;
}

static int connect_unix(lua_State *L, session_t *ss, cosocket_t *cs, const char *path)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&cs->peer;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof un->sun_path) return socket_fail(L, cs, "invalid unix domain socket path");
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    return connect_to(L, ss, cs, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1));
}

/* connect's options table (its last argument): pool, pool_size, backlog (checked; backlog
 * has no effect here: see SPEC [socket.pool.size]). Leaves the pool option on the stack. */
static void connect_opts(lua_State *L, cosocket_t *cs, int t)
{
    static const char *const nums[] = {"pool_size", "backlog"};
    for (int i = 0; i < 2; i++) {
        lua_getfield(L, t, nums[i]);
        if (!lua_isnil(L, -1)) {
            if (!lua_isnumber(L, -1))
                luaL_argerror(L, t, lua_pushfstring(L, "bad \"%s\" option type: %s", nums[i], luaL_typename(L, -1)));
            lua_Integer v = lua_tointeger(L, -1);
            if (i == 0 ? v <= 0 : v < 0)
                luaL_argerror(L, t, lua_pushfstring(L, "bad \"%s\" option value: %d", nums[i], (int)v));
            if (i == 0) cs->pool_size = (long)v;
        }
        lua_pop(L, 1);
    }
    lua_getfield(L, t, "pool");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
        luaL_argerror(L, t, lua_pushfstring(L, "bad \"pool\" option type: %s", luaL_typename(L, -1)));
}

/* The pool key: the pool option, else the host (and ":port" when a port was given), as
 * ngx_lua keys its pools. */
static void pool_key(lua_State *L, cosocket_t *cs, int n, int has_port)
{
    cs->pool_size = 0;
    if (lua_type(L, n) == LUA_TTABLE) connect_opts(L, cs, n);
    else if (n == 4 && (lua_type(L, 4) == LUA_TSTRING || lua_type(L, 4) == LUA_TNUMBER)) lua_pushvalue(L, 4);
    else lua_pushnil(L);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (has_port) lua_pushfstring(L, "%s:%d", lua_tostring(L, 2), (int)cs->port);
        else lua_pushvalue(L, 2);
    }
    free(cs->pool);
    cs->pool = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (!cs->pool) luaL_error(L, ERR_NOMEM);
}

/* The third argument when it is the port: 1; 0 when there is none (a table, a string, or
 * nothing); -1 after pushing nil, "bad port number: N". */
static int connect_port(lua_State *L, cosocket_t *cs, int n)
{
    if (n < 3 || !lua_isnumber(L, 3)) return 0; /* a numeric string too */
    lua_Integer p = lua_tointeger(L, 3);
    if (p < 0 || p > 65535) {
        lua_pushnil(L);
        lua_pushfstring(L, "bad port number: %d", (int)p);
        return -1;
    }
    cs->port = (unsigned short)p;
    return 1;
}

static int host_error(lua_State *L, const char *host, const char *why)
{
    lua_pushnil(L);
    lua_pushfstring(L, "failed to parse host name \"%s\": %s", host, why);
    return 2;
}

/* Connects to what the arguments name (the socket is closed, its pool key set). */
static int connect_target(lua_State *L, session_t *ss, cosocket_t *cs, const char *host, int has_port)
{
    socklen_t len;
    if (strncmp(host, "unix:", 5) == 0) {
        if (!host[5]) return host_error(L, host, "no path in the unix domain socket");
        return connect_unix(L, ss, cs, host + 5);
    }
    if (!*host) return host_error(L, host, "no host");
    if (!has_port) return session_fail(L, "missing the port number", NULL, 0, 0);
    if (parse_literal(host, cs->port, &cs->peer, &len) == 0) return connect_to(L, ss, cs, len);
    if (host[0] == '[') return host_error(L, host, "invalid IPv6 address");
    return connect_name(L, ss, cs, host);
}

/* sock:connect(host, port[, opts]) | sock:connect("unix:/path"[, opts]); opts: a pool
 * name or {pool = name, pool_size = n, backlog = n}. A connected socket is closed first. */
static int l_connect(lua_State *L)
{
    socket_nargs(L, 2, 4, "ngx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen %d");
    int n = lua_gettop(L);
    cosocket_t *cs = socket_check(L);
    session_t *ss = session_get(L);
    if (cs->state != CS_CLOSED && cs->ss != ss) return luaL_error(L, "bad request");
    const char *host = luaL_checkstring(L, 2);
    int has_port = connect_port(L, cs, n);
    if (has_port < 0) return 2;
    socket_close(cs);
    pool_key(L, cs, n, has_port);
    unsigned reused;
    int fd = kpool_get(cs->pool, &reused);
    cs->reused = 0;
    cs->read_closed = 0;
    if (fd < 0) return connect_target(L, ss, cs, host, has_port);
    socket_attach(cs, ss, fd, CS_CONNECTED);
    stream_adopt(&cs->stream); /* the pool had it registered with the loop */
    cs->reused = reused + 1;
    lua_pushinteger(L, 1);
    return 1;
}

/* ---- timeouts, options ---- */

/* A timeout argument as ngx_lua reads it: anything not a number is 0 (the default). */
static long check_timeout(lua_State *L, int arg)
{
    lua_Number t = lua_tonumber(L, arg);
    if (!(t >= 0 && t < 2147483648.0)) luaL_error(L, "bad timeout value");
    return (long)t;
}

/* settimeout(ms) sets all three (ngx_lua); settimeout(connect, send, read) is the 2015
 * module's form, the same as settimeouts() (SPEC [socket.timeout.seed]). 0 restores the
 * lua_socket_* default. */
static int l_settimeout(lua_State *L)
{
    if (lua_gettop(L) != 4)
        socket_nargs(L, 2, 2, "ngx.socket settimeout: expecting 2 arguments (including the object) but seen %d");
    cosocket_t *cs = socket_check(L);
    if (lua_gettop(L) == 4) {
        for (int i = 0; i < 3; i++) cs->tmo[i] = check_timeout(L, i + 2);
        return 0;
    }
    cs->tmo[0] = cs->tmo[1] = cs->tmo[2] = check_timeout(L, 2);
    return 0;
}

static int l_settimeouts(lua_State *L)
{
    socket_nargs(L, 4, 4, "ngx.socket settimeout: expecting 4 arguments (including the object) but seen %d");
    cosocket_t *cs = socket_check(L);
    for (int i = 0; i < 3; i++) cs->tmo[i] = check_timeout(L, i + 2);
    return 0;
}

static const struct sockopt {
    const char *name;
    int level, opt, is_bool;
} sockopts[] = {
    {"keepalive", SOL_SOCKET, SO_KEEPALIVE, 1},
    {"reuseaddr", SOL_SOCKET, SO_REUSEADDR, 1},
    {"tcp-nodelay", IPPROTO_TCP, TCP_NODELAY, 1},
    {"sndbuf", SOL_SOCKET, SO_SNDBUF, 0},
    {"rcvbuf", SOL_SOCKET, SO_RCVBUF, 0},
};

/* The option named by argument 2, or NULL after pushing nil, err (count in *nret). Options
 * on a socket that is not connected are a Lua error, as in ngx_lua's FFI binding. */
static const struct sockopt *sockopt_arg(lua_State *L, cosocket_t **cs, int *nret)
{
    *cs = socket_of(L);
    if (!*cs) luaL_error(L, "socket is never created nor connected");
    if ((*cs)->state != CS_CONNECTED) {
        *nret = session_fail(L, ERR_CLOSED, NULL, 0, 0);
        return NULL;
    }
    if (lua_isnoneornil(L, 2)) {
        *nret = session_fail(L, "missing the \"option\" argument", NULL, 0, 0);
        return NULL;
    }
    const char *name = luaL_checkstring(L, 2);
    for (size_t i = 0; i < sizeof sockopts / sizeof sockopts[0]; i++)
        if (strcmp(name, sockopts[i].name) == 0) return &sockopts[i];
    lua_pushnil(L);
    lua_pushfstring(L, "unsupported option %s", name);
    *nret = 2;
    return NULL;
}

/* setsockopt's own error text, not lower-cased (as ngx_lua reports it here). */
static int sockopt_fail(lua_State *L) { return session_fail(L, strerror(errno), NULL, 0, 0); }

static int l_setoption(lua_State *L)
{
    cosocket_t *cs;
    int nret;
    const struct sockopt *o = sockopt_arg(L, &cs, &nret);
    if (!o) return nret;
    if (lua_isnone(L, 3)) return session_fail(L, "missing the \"value\" argument", NULL, 0, 0);
    /* Numbers only (booleans too for the on/off ones), as the FFI binding converts them. */
    if (lua_type(L, 3) != LUA_TNUMBER && !(o->is_bool && lua_isboolean(L, 3))) luaL_typerror(L, 3, "number");
    int v = lua_isboolean(L, 3) ? lua_toboolean(L, 3) : (int)lua_tointeger(L, 3);
    if (setsockopt(stream_fd(&cs->stream), o->level, o->opt, &v, sizeof v) < 0) return sockopt_fail(L);
    if (o->opt == TCP_NODELAY && o->level == IPPROTO_TCP) cs->nodelay_pending = 0; /* the script decided */
    lua_pushboolean(L, 1);
    return 1;
}

static int l_getoption(lua_State *L)
{
    cosocket_t *cs;
    int nret, v = 0;
    socklen_t len = sizeof v;
    const struct sockopt *o = sockopt_arg(L, &cs, &nret);
    if (!o) return nret;
    if (getsockopt(stream_fd(&cs->stream), o->level, o->opt, &v, &len) < 0) return sockopt_fail(L);
    lua_pushinteger(L, o->is_bool ? v != 0 : v);
    return 1;
}

/* ---- pools, close ---- */

/* setkeepalive's arguments: the idle timeout (ms, -1 none) and the pool size. */
static void keepalive_args(lua_State *L, cosocket_t *cs, long *tmo, long *size)
{
    const srv_conf_t *s = &session_conn_of(cs->ss)->vs->conf->s;
    *tmo = s->lua_socket_keepalive_timeout;
    if (!lua_isnoneornil(L, 2)) *tmo = (long)luaL_checkinteger(L, 2);
    if (*tmo <= 0) *tmo = -1; /* 0: no timeout; ngx_lua reads a negative one as unsigned, so no timeout either */
    *size = cs->pool_size ? cs->pool_size : s->lua_socket_pool_size;
    if (lua_isnoneornil(L, 3)) return;
    lua_Integer v = luaL_checkinteger(L, 3);
    if (v <= 0) luaL_argerror(L, 3, lua_pushfstring(L, "bad \"pool_size\" option value: %d", (int)v));
    *size = v > INT32_MAX ? INT32_MAX : (long)v;
}

/* setkeepalive([timeout[, size]]): into this worker's pool for the connection's key. Unread
 * data refuses (the socket stays usable); a connection the peer closed is closed. */
static int l_setkeepalive(lua_State *L)
{
    socket_nargs(L, 1, 3, "expecting 1 to 3 arguments (including the object), but got %d");
    int n;
    cosocket_t *cs = socket_connected(L, &n, NULL);
    if (!cs) return n;
    long tmo, size;
    keepalive_args(L, cs, &tmo, &size);
    if (recvbuf_len(&cs->stream.in) > 0) return session_fail(L, "unread data in buffer", NULL, 0, 0);
    if (cs->read_closed || cs->stream.eof || cs->stream.err) return socket_fail(L, cs, ERR_CLOSED);
    char *key = cs->pool;
    unsigned reused = cs->reused;
    int watched = cs->stream.watched;
    cs->pool = NULL;
    session_cleanup_remove(cs->ss, &cs->cleanup);
    int fd = stream_detach(&cs->stream);
    cs->state = CS_CLOSED;
    cs->ss = NULL;
    int r = kpool_put(key, fd, watched, tmo, (int)size, reused);
    free(key);
    if (r) return session_fail(L, ERR_NOMEM, NULL, 0, 0);
    lua_pushinteger(L, 1);
    return 1;
}

static int l_getreusedtimes(lua_State *L)
{
    int n;
    cosocket_t *cs = socket_connected(L, &n, NULL);
    if (!cs) return n;
    lua_pushinteger(L, cs->reused);
    return 1;
}

static int l_close(lua_State *L)
{
    socket_nargs(L, 1, 1, "expecting 1 argument (including the object) but seen %d");
    int n;
    cosocket_t *cs = socket_connected(L, &n, NULL);
    if (!cs) return n;
    socket_close(cs);
    lua_pushinteger(L, 1);
    return 1;
}

/* The script dropped its last reference: a connection still open is closed. */
static int l_gc(lua_State *L)
{
    cosocket_t *cs = lua_touserdata(L, 1);
    if (cs) socket_close(cs);
    return 0;
}

/* The userdata comes with the first connect (socket_check), as in ngx_lua: a socket never
 * connected costs a table only. */
static int l_tcp(lua_State *L)
{
    lua_createtable(L, 1, 0);
    luaL_getmetatable(L, SOCKET_MT);
    lua_setmetatable(L, -2);
    return 1;
}

/* ngx.socket.connect(host, port[, opts]): a new socket, connected, or nil, err. In Lua,
 * so that the connect can yield through it. */
static const char socket_connect_lua[] = "local tcp = ...\n"
                                         "return function(...)\n"
                                         "  local s = tcp()\n"
                                         "  local ok, err = s:connect(...)\n"
                                         "  if not ok then return nil, err end\n"
                                         "  return s\n"
                                         "end\n";

void api_socket_inject(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"connect", l_connect},
        {"settimeout", l_settimeout},
        {"settimeouts", l_settimeouts},
        {"setoption", l_setoption},
        {"getoption", l_getoption},
        {"setkeepalive", l_setkeepalive},
        {"getreusedtimes", l_getreusedtimes},
        {"close", l_close},
        {NULL, NULL},
    };
    luaL_newmetatable(L, SOCKET_UD_MT);
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, SOCKET_MT);
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_newtable(L); /* ngx.socket */
    lua_pushcfunction(L, l_tcp);
    lua_setfield(L, -2, "tcp");
    if (luaL_loadbuffer(L, socket_connect_lua, sizeof socket_connect_lua - 1, "=ngx.socket.connect") == 0) {
        lua_pushcfunction(L, l_tcp);
        lua_call(L, 1, 1);
        lua_setfield(L, -2, "connect");
    } else
        lua_pop(L, 1); /* cannot happen: the chunk is fixed */
    lua_setfield(L, -2, "socket");
}
