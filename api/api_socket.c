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

#define SOCKET_MT "tcplua.socket"       /* the object's metatable: the methods */
#define SOCKET_UD_MT "tcplua.socket.ud" /* the userdata's: __gc */
#define SOCKET_IN_MAX (1u << 30)        /* the largest receive a cosocket buffers */

static void cs_read(stream_t *s) { session_event(((cosocket_t *)s->data)->ss, s, SESSION_READ); }
static void cs_write(stream_t *s) { session_event(((cosocket_t *)s->data)->ss, s, SESSION_WRITE); }
static void cs_timeout(stream_t *s) { session_event(((cosocket_t *)s->data)->ss, s, SESSION_TIMEOUT); }
static const stream_handler_t cs_handler = {cs_read, cs_write, cs_timeout};

cosocket_t *socket_check(lua_State *L)
{
    cosocket_t *cs = NULL;
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_rawgeti(L, 1, 1);
        cs = lua_touserdata(L, -1);
        if (cs && lua_getmetatable(L, -1)) {
            luaL_getmetatable(L, SOCKET_UD_MT);
            if (!lua_rawequal(L, -1, -2)) cs = NULL;
            lua_pop(L, 2);
        } else cs = NULL;
        lua_pop(L, 1);
    }
    if (!cs) luaL_argerror(L, 1, "cosocket object expected (call it with ':')");
    return cs;
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

int socket_fail(lua_State *L, cosocket_t *cs, const char *err, const char *p, size_t n, int with_partial)
{
    lua_pushnil(L);
    lua_pushstring(L, err); /* before the close: err may live in the stream */
    if (with_partial) lua_pushlstring(L, p ? p : "", n);
    if (strcmp(err, ERR_TIMEOUT) != 0 || cs->state != CS_CONNECTED) socket_close(cs);
    return with_partial ? 3 : 2;
}

cosocket_t *socket_connected(lua_State *L, int *nret)
{
    cosocket_t *cs = socket_check(L);
    session_t *ss = session_get(L);
    if (cs->state != CS_CONNECTED) {
        *nret = session_fail(L, ERR_CLOSED, NULL, 0, 0);
        return NULL;
    }
    if (cs->ss != ss) luaL_error(L, "bad request");
    return cs;
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

/* The socket now holds fd: it belongs to session ss until closed. */
static void socket_attach(cosocket_t *cs, session_t *ss, int fd, int state)
{
    stream_init(&cs->stream, fd, &cs_handler, cs, SOCKET_IN_MAX);
    cs->state = (unsigned char)state;
    cs->ss = ss;
    cs->cleanup.fn = socket_cleanup;
    session_cleanup_add(ss, &cs->cleanup);
}

/* ---- connect ---- */

static int connect_event(session_t *ss, stream_t *src, int what)
{
    cosocket_t *cs = ss->wait.obj;
    if (src != &cs->stream) return src ? session_client_event(ss, src, what) : 1;
    if (what == SESSION_TIMEOUT) {
        cs->err = ERR_TIMEOUT;
        return 1;
    }
    if (what != SESSION_WRITE) return 0;
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(stream_fd(src), SOL_SOCKET, SO_ERROR, &e, &len) < 0) e = errno;
    if (e) cs->err = errno_text(cs, e);
    else cs->state = CS_CONNECTED;
    return 1;
}

static int connect_push(lua_State *L, cosocket_t *cs)
{
    if (cs->err || cs->state != CS_CONNECTED)
        return socket_fail(L, cs, cs->err ? cs->err : ERR_CLOSED, NULL, 0, 0);
    lua_pushinteger(L, 1);
    return 1;
}

static int connect_results(session_t *ss, lua_State *L) { return connect_push(L, ss->wait.obj); }

static const wait_ops_t wait_connect = {"connect", 0, 0, connect_event, socket_wait_cleanup, connect_results};

static void set_nodelay(session_t *ss, int fd, int family)
{
    int on = 1;
    if (family != AF_UNIX && session_conn_of(ss)->vs->conf->s.tcp_nodelay == 1)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

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
    set_nodelay(ss, fd, sa->sa_family);
    int r;
    do r = connect(fd, sa, len);
    while (r < 0 && errno == EINTR);
    int e = errno;
    socket_attach(cs, ss, fd, r == 0 ? CS_CONNECTED : CS_CONNECTING);
    if (r == 0) return 1;
    if (e != EINPROGRESS) {
        cs->err = errno_text(cs, e);
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
        return socket_fail(L, cs, err, NULL, 0, 0);
    }
    resolver_t *r = vserver_resolver(vs, err, sizeof err);
    if (!r) return socket_fail(L, cs, err, NULL, 0, 0);
    if (resolver_cached(r, host, addrs, RESOLVER_MAX_ADDRS, &n)) {
        pick_addr(cs, addrs, n);
        return connect_to(L, ss, cs, inet_len(&cs->peer));
    }
    cs->query = resolver_query(r, host, resolved, cs);
    if (!cs->query) return socket_fail(L, cs, ERR_NOMEM, NULL, 0, 0);
    cs->state = CS_RESOLVING;
    cs->ss = ss;
    cs->cleanup.fn = socket_cleanup;
    session_cleanup_add(ss, &cs->cleanup);
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
    if (n == 0 || n >= sizeof un->sun_path) return socket_fail(L, cs, "invalid unix domain socket path", NULL, 0, 0);
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    return connect_to(L, ss, cs, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1));
}

/* The pool key: connect's pool option, else "host:port" or "unix:/path" (ngx_lua's). */
static int pool_key(lua_State *L, cosocket_t *cs, const char *host, int is_unix, int optarg)
{
    const char *name = NULL;
    cs->pool_size = 0;
    if (lua_type(L, optarg) == LUA_TSTRING) name = lua_tostring(L, optarg);
    else if (lua_type(L, optarg) == LUA_TTABLE) {
        lua_getfield(L, optarg, "pool");
        name = lua_tostring(L, -1);
        lua_getfield(L, optarg, "pool_size");
        if (!lua_isnil(L, -1)) {
            lua_Number n = lua_tonumber(L, -1);
            if (!(n >= 1 && n <= INT32_MAX)) return luaL_error(L, "bad \"pool_size\" option value: %s", lua_tostring(L, -1));
            cs->pool_size = (long)n;
        }
        lua_pop(L, 2); /* name stays valid: the table still references it */
    } else if (!lua_isnoneornil(L, optarg))
        return luaL_argerror(L, optarg, "bad options argument");
    if (name) lua_pushstring(L, name);
    else if (is_unix) lua_pushstring(L, host);
    else lua_pushfstring(L, "%s:%d", host, (int)cs->port);
    cs->pool = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return cs->pool ? 0 : luaL_error(L, ERR_NOMEM);
}

static int check_port(lua_State *L, int arg, cosocket_t *cs)
{
    lua_Number p = luaL_checknumber(L, arg);
    if (!(p >= 0 && p <= 65535) || p != floor(p)) return luaL_error(L, "bad port number: %d", (int)p);
    cs->port = (unsigned short)p;
    return 0;
}

/* sock:connect(host, port[, opts]) | sock:connect("unix:/path"[, opts]); opts: a pool
 * name or {pool = name, pool_size = n}. A connected socket is closed first (ngx_lua). */
static int l_connect(lua_State *L)
{
    cosocket_t *cs = socket_check(L);
    session_t *ss = session_get(L);
    if (cs->state != CS_CLOSED && cs->ss != ss) return luaL_error(L, "bad request");
    const char *host = luaL_checkstring(L, 2);
    int is_unix = strncmp(host, "unix:", 5) == 0;
    if (!is_unix) check_port(L, 3, cs);
    socket_close(cs);
    pool_key(L, cs, host, is_unix, is_unix ? 3 : 4);
    unsigned reused;
    int fd = kpool_get(cs->pool, &reused);
    cs->reused = 0;
    if (fd >= 0) {
        socket_attach(cs, ss, fd, CS_CONNECTED);
        cs->reused = reused + 1;
        lua_pushinteger(L, 1);
        return 1;
    }
    if (is_unix) return connect_unix(L, ss, cs, host + 5);
    socklen_t len;
    if (parse_literal(host, cs->port, &cs->peer, &len) == 0) return connect_to(L, ss, cs, len);
    return connect_name(L, ss, cs, host);
}

/* ---- timeouts, options ---- */

static long check_timeout(lua_State *L, int arg)
{
    lua_Number t = luaL_checknumber(L, arg);
    if (!(t >= 0 && t <= INT32_MAX)) luaL_error(L, "bad timeout value");
    return (long)t;
}

/* settimeout(ms) sets all three (ngx_lua); settimeout(connect, send, read) is the 2015
 * module's form, the same as settimeouts(). 0 restores the lua_socket_* default. */
static int l_settimeout(lua_State *L)
{
    cosocket_t *cs = socket_check(L);
    if (lua_gettop(L) >= 4) {
        for (int i = 0; i < 3; i++) cs->tmo[i] = check_timeout(L, i + 2);
        return 0;
    }
    cs->tmo[0] = cs->tmo[1] = cs->tmo[2] = check_timeout(L, 2);
    return 0;
}

static int l_settimeouts(lua_State *L)
{
    cosocket_t *cs = socket_check(L);
    for (int i = 0; i < 3; i++) cs->tmo[i] = check_timeout(L, i + 2);
    return 0;
}

static int l_setoption(lua_State *L)
{
    static const struct {
        const char *name;
        int level, opt, is_bool;
    } opts[] = {
        {"keepalive", SOL_SOCKET, SO_KEEPALIVE, 1},
        {"reuseaddr", SOL_SOCKET, SO_REUSEADDR, 1},
        {"tcp-nodelay", IPPROTO_TCP, TCP_NODELAY, 1},
        {"sndbuf", SOL_SOCKET, SO_SNDBUF, 0},
        {"rcvbuf", SOL_SOCKET, SO_RCVBUF, 0},
    };
    int n;
    cosocket_t *cs = socket_connected(L, &n);
    const char *name = luaL_checkstring(L, 2);
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (strcmp(name, opts[i].name) != 0) continue;
        int v = opts[i].is_bool ? lua_toboolean(L, 3) : (int)luaL_checkinteger(L, 3);
        if (!cs) return n;
        if (setsockopt(stream_fd(&cs->stream), opts[i].level, opts[i].opt, &v, sizeof v) < 0)
            return session_fail(L, errno_text(cs, errno), NULL, 0, 0);
        lua_pushboolean(L, 1);
        return 1;
    }
    return luaL_argerror(L, 2, lua_pushfstring(L, "unsupported option \"%s\"", name));
}

/* ---- pools, close ---- */

static int l_setkeepalive(lua_State *L)
{
    int n;
    cosocket_t *cs = socket_connected(L, &n);
    if (!cs) return n;
    const srv_conf_t *s = &session_conn_of(cs->ss)->vs->conf->s;
    long tmo = lua_isnoneornil(L, 2) ? s->lua_socket_keepalive_timeout : check_timeout(L, 2);
    long size = cs->pool_size ? cs->pool_size : s->lua_socket_pool_size;
    if (!lua_isnoneornil(L, 3)) {
        lua_Number v = luaL_checknumber(L, 3);
        if (!(v >= 1 && v <= INT32_MAX)) return luaL_error(L, "bad \"pool_size\" option value: %d", (int)v);
        size = (long)v;
    }
    if (recvbuf_len(&cs->stream.in) > 0) return socket_fail(L, cs, "unread data in buffer", NULL, 0, 0);
    if (cs->stream.eof || cs->stream.err) return socket_fail(L, cs, ERR_CLOSED, NULL, 0, 0);
    char *key = cs->pool;
    unsigned reused = cs->reused;
    cs->pool = NULL;
    session_cleanup_remove(cs->ss, &cs->cleanup);
    int fd = stream_detach(&cs->stream);
    cs->state = CS_CLOSED;
    cs->ss = NULL;
    int r = kpool_put(key, fd, tmo ? tmo : -1, (int)size, reused);
    free(key);
    if (r) return session_fail(L, ERR_NOMEM, NULL, 0, 0);
    lua_pushinteger(L, 1);
    return 1;
}

static int l_getreusedtimes(lua_State *L)
{
    int n;
    cosocket_t *cs = socket_connected(L, &n);
    if (!cs) return n;
    lua_pushinteger(L, cs->reused);
    return 1;
}

static int l_close(lua_State *L)
{
    int n;
    cosocket_t *cs = socket_connected(L, &n);
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

static int l_tcp(lua_State *L)
{
    lua_createtable(L, 1, 0);
    cosocket_t *cs = lua_newuserdata(L, sizeof *cs);
    memset(cs, 0, sizeof *cs);
    luaL_getmetatable(L, SOCKET_UD_MT);
    lua_setmetatable(L, -2);
    lua_rawseti(L, -2, 1);
    luaL_getmetatable(L, SOCKET_MT);
    lua_setmetatable(L, -2);
    return 1;
}

void api_socket_inject(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"connect", l_connect},
        {"settimeout", l_settimeout},
        {"settimeouts", l_settimeouts},
        {"setoption", l_setoption},
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
    api_socket_io_methods(L);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_newtable(L); /* ngx.socket */
    lua_pushcfunction(L, l_tcp);
    lua_setfield(L, -2, "tcp");
    lua_setfield(L, -2, "socket");
}
