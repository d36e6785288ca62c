/* api_socket_io.c: the cosocket's send, receive, receiveany and receiveuntil, as ngx_lua
 * 0.10.23 behaves (conformance/reference/cosocket_ngx_lua.txt). One receive machine for
 * every pattern: answerable() says whether the buffered bytes answer the pending receive,
 * ready() reads what the kernel has until they do, results() pushes the answer or the
 * failure with its partial data. A read timeout leaves the connection as it was; another
 * read failure closes its reading side only (a later send still tries, as ngx_lua's); a
 * send failure closes the socket. */
#include "socket.h"
#include "api.h"
#include "errstr.h"
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

/* A receiveuntil iterator's state (a userdata upvalue of the iterator). */
typedef struct socket_until {
    size_t plen, size;   /* size: this call's chunk size, 0 for none */
    int inclusive, done; /* done: a sized call handed out the last piece before the pattern */
    char pat[];
} socket_until_t;

static const char *buffered(const stream_t *s, size_t *n)
{
    *n = recvbuf_len(&s->in);
    return *n ? s->in.data + s->in.start : "";
}

/* nil, err, partial for a failed receive; after anything but a timeout the reading side is
 * closed. The partial bytes are consumed. */
static int recv_fail(lua_State *L, cosocket_t *cs, const char *p, size_t n)
{
    stream_t *s = &cs->stream;
    const char *err = s->timed_out ? ERR_TIMEOUT : s->reset ? "connection reset by peer"
                                             : s->err       ? s->err
                                                            : ERR_CLOSED;
    if (s->timed_out) socket_log(cs->ss, 1, "lua tcp socket read timed out");
    else if (s->errnum) socket_log_errno(cs->ss, 0, "recv", s->errnum);
    int r = session_fail(L, err, p, n, 1);
    recvbuf_consume(&s->in, n);
    if (!s->timed_out) {
        cs->read_closed = 1;
        stream_read(s, 0);
    }
    return r;
}

/* The line before the first LF with every CR left out (ngx_lua's *l); consumes `eat`. */
static void push_line(lua_State *L, stream_t *s, size_t k, size_t eat)
{
    size_t n;
    const char *p = buffered(s, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < k; i++)
        if (p[i] != '\r') luaL_addchar(&b, p[i]);
    luaL_pushresult(&b);
    recvbuf_consume(&s->in, eat);
}

/* Whether the pending receive can be answered from the buffer. */
static int answerable(cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    size_t safe, len = recvbuf_len(&s->in);
    socket_until_t *u = cs->until;
    switch (cs->rmode) {
    case RECV_SIZE: return len >= cs->atleast;
    case RECV_ANY: return len > 0;
    case RECV_LINE: return recvbuf_find(&s->in, "\n", 1, &safe) >= 0;
    case RECV_ALL: return 0;
    default:
        if (u->done || recvbuf_find(&s->in, u->pat, u->plen, &safe) >= 0) return 1;
        return u->size && safe >= u->size;
    }
}

static int ready(cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    for (;;) {
        if (answerable(cs) || s->eof || s->err) return 1;
        if (s->drained) return 0;
        size_t len = recvbuf_len(&s->in);
        ssize_t r = stream_fill(s, cs->rmode == RECV_SIZE ? cs->atleast - len : 0);
        if (r < 0) return 1;
        if (r == 0) return 0;
    }
}

/* A sized receiveuntil call: pieces of at most `size` bytes, the last one ending where the
 * pattern starts (with the pattern when inclusive); the call after it says nil, nil, nil. */
static int until_sized(lua_State *L, socket_until_t *u, stream_t *s, long k, const char *p)
{
    if (u->done || (k == 0 && !u->inclusive)) {
        if (!u->done) recvbuf_consume(&s->in, u->plen);
        u->done = 0;
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
        return 3;
    }
    if (k < 0 || (size_t)k > u->size) {
        lua_pushlstring(L, p, u->size);
        recvbuf_consume(&s->in, u->size);
        return 1;
    }
    lua_pushlstring(L, p, (size_t)k + (u->inclusive ? u->plen : 0));
    recvbuf_consume(&s->in, (size_t)k + u->plen);
    u->done = 1;
    return 1;
}

static int until_results(lua_State *L, cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    socket_until_t *u = cs->until;
    size_t n, safe;
    const char *p = buffered(s, &n);
    long k = recvbuf_find(&s->in, u->pat, u->plen, &safe);
    if (!u->done && k < 0 && !(u->size && safe >= u->size))
        /* The bytes that may begin the pattern are not part of a timeout's partial data. */
        return recv_fail(L, cs, p, s->timed_out ? safe : n);
    if (u->size) return until_sized(L, u, s, k, p);
    lua_pushlstring(L, p, (size_t)k + (u->inclusive ? u->plen : 0));
    recvbuf_consume(&s->in, (size_t)k + u->plen);
    return 1;
}

static int recv_results_of(lua_State *L, cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    size_t n, safe;
    const char *p = buffered(s, &n);
    long k;
    switch (cs->rmode) {
    case RECV_SIZE:
    case RECV_ANY:
        if (n < cs->atleast || n == 0) return recv_fail(L, cs, p, n);
        n = n < cs->total ? n : cs->total;
        lua_pushlstring(L, p, n);
        recvbuf_consume(&s->in, n);
        return 1;
    case RECV_LINE:
        if ((k = recvbuf_find(&s->in, "\n", 1, &safe)) >= 0) {
            push_line(L, s, (size_t)k, (size_t)k + 1);
            return 1;
        }
        push_line(L, s, n, 0);
        p = lua_tolstring(L, -1, &n);
        k = recv_fail(L, cs, p, n); /* consumes as many bytes as the line had: all of them */
        recvbuf_consume(&s->in, recvbuf_len(&s->in));
        lua_remove(L, -(int)k - 1);
        return (int)k;
    case RECV_ALL:
        if (!s->eof || s->timed_out || s->err || s->reset) return recv_fail(L, cs, p, n);
        lua_pushlstring(L, p, n);
        recvbuf_consume(&s->in, n);
        return 1;
    default: return until_results(L, cs);
    }
}

static int recv_results(session_t *ss, lua_State *L) { return recv_results_of(L, ss->wait.obj); }

static int recv_event(session_t *ss, stream_t *src, int what)
{
    cosocket_t *cs = ss->wait.obj;
    if (src != &cs->stream) return src ? session_client_event(ss, src, what) : 0;
    if (what == SESSION_TIMEOUT) return 1;
    return what == SESSION_READ ? ready(cs) : 0;
}

static const wait_ops_t wait_recv = {"socket receive", 0, 0, recv_event, socket_wait_cleanup, recv_results};

/* The pending receive is set up in cs: answer now or wait (read timeout). A reading side
 * that failed before (or a peer that closed, for everything but "*a") says closed. */
static int receive_start(lua_State *L, cosocket_t *cs)
{
    cs->stream.timed_out = 0;
    if (cs->read_closed) {
        if (cs->rmode != RECV_UNTIL) socket_log(cs->ss, 1, "attempt to receive data on a closed socket");
        return session_fail(L, ERR_CLOSED, NULL, 0, 0);
    }
    if (ready(cs)) return recv_results_of(L, cs);
    stream_read(&cs->stream, 1);
    stream_timer(&cs->stream, socket_timeout(cs, TMO_READ));
    session_watch_client(cs->ss);
    return session_yield(L, cs->ss, &wait_recv, cs);
}

static int bad_pattern(lua_State *L) { return luaL_argerror(L, 2, "bad pattern argument"); }

/* The pattern of receive(): "*l", "*a", a size (a number or numeric string; fractions are
 * dropped), or the 2015 module's receive(total, atleast) (SPEC [socket.receive.seed]). */
static void receive_pattern(lua_State *L, cosocket_t *cs)
{
    if (lua_type(L, 2) == LUA_TSTRING && !lua_isnumber(L, 2)) {
        const char *p = lua_tostring(L, 2);
        if (strcmp(p, "*l") == 0) cs->rmode = RECV_LINE;
        else if (strcmp(p, "*a") == 0) cs->rmode = RECV_ALL;
        else if (p[0] == '*') bad_pattern(L);
        else luaL_argerror(L, 2, lua_pushfstring(L, "bad pattern argument: %s", p));
        return;
    }
    if (!lua_isnumber(L, 2)) bad_pattern(L);
    lua_Number t = floor(lua_tonumber(L, 2));
    lua_Number a = lua_isnoneornil(L, 3) ? t : floor(luaL_checknumber(L, 3));
    if (!(t >= 0 && t <= (1 << 30))) bad_pattern(L);
    if (!(a >= (t ? 1 : 0) && a <= t)) luaL_argerror(L, 3, "atleast must be in [1, total]");
    cs->rmode = RECV_SIZE;
    cs->total = (size_t)t;
    cs->atleast = (size_t)a;
}

static int l_receive(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 2 && !(n == 3 && lua_type(L, 2) == LUA_TNUMBER))
        return luaL_error(L, "expecting 1 or 2 arguments (including the object), but got %d", n);
    int nret;
    cosocket_t *cs = socket_connected(L, &nret, "receive");
    if (!cs) return nret;
    cs->until = NULL;
    if (n == 1) cs->rmode = RECV_LINE;
    else receive_pattern(L, cs);
    if (cs->rmode == RECV_SIZE && cs->total == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    return receive_start(L, cs);
}

/* receiveany(max): whatever is there, at most max bytes, as soon as there is any. */
static int l_receiveany(lua_State *L)
{
    socket_nargs(L, 2, 2, "expecting 2 arguments (including the object), but got %d");
    lua_Number max = lua_tonumber(L, 2);
    if (!(max >= 1)) return luaL_argerror(L, 2, "bad max argument");
    int nret;
    cosocket_t *cs = socket_connected(L, &nret, "receive");
    if (!cs) return nret;
    cs->until = NULL;
    cs->rmode = RECV_ANY;
    cs->total = max > (1 << 30) ? (1 << 30) : (size_t)max;
    cs->atleast = 1;
    return receive_start(L, cs);
}

static int until_iter(lua_State *L)
{
    socket_until_t *u = lua_touserdata(L, lua_upvalueindex(2));
    lua_Number size = luaL_optnumber(L, 1, 0);
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the socket as argument 1 */
    int nret;
    cosocket_t *cs = socket_connected(L, &nret, NULL); /* ngx_lua's reader logs nothing here */
    if (!cs) return nret;
    u->size = size >= 1 ? (size > (1 << 30) ? (1 << 30) : (size_t)size) : 0;
    if (!u->size) u->done = 0;
    cs->rmode = RECV_UNTIL;
    cs->until = u;
    return receive_start(L, cs);
}

/* receiveuntil(pattern[, {inclusive = bool}]): an iterator reading up to the pattern. */
static int l_receiveuntil(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE); /* the reader finds the connection when called */
    size_t plen;
    const char *pat = luaL_checklstring(L, 2, &plen);
    if (plen == 0) return session_fail(L, "pattern is empty", NULL, 0, 0);
    int inclusive = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "inclusive");
        if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
            return luaL_error(L, "bad \"inclusive\" option value type: %s", luaL_typename(L, -1));
        inclusive = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_pushvalue(L, 1);
    socket_until_t *u = lua_newuserdata(L, sizeof *u + plen);
    *u = (socket_until_t){plen, 0, inclusive, 0};
    memcpy(u->pat, pat, plen);
    lua_pushcclosure(L, until_iter, 2);
    return 1;
}

/* ---- send ---- */

static int send_fail(lua_State *L, cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    const char *err = s->epipe ? "broken pipe" : s->reset ? "connection reset by peer"
                                                          : s->err;
    if (!strcmp(err, ERR_TIMEOUT)) socket_log(cs->ss, 1, "lua tcp socket write timed out");
    else if (s->errnum) socket_log_errno(cs->ss, 0, "send", s->errnum);
    return socket_fail(L, cs, err);
}

static int send_event(session_t *ss, stream_t *src, int what)
{
    cosocket_t *cs = ss->wait.obj;
    if (src != &cs->stream) return src ? session_client_event(ss, src, what) : 0;
    if (what == SESSION_TIMEOUT && !src->err) src->err = ERR_TIMEOUT;
    if (what == SESSION_TIMEOUT || src->err || stream_queued(src) == 0) return 1;
    if (what == SESSION_WRITE) stream_timer(src, socket_timeout(cs, TMO_SEND)); /* between writes */
    return 0;
}

static int send_results_of(lua_State *L, cosocket_t *cs, size_t bytes)
{
    if (cs->stream.err) return send_fail(L, cs);
    lua_pushinteger(L, (lua_Integer)bytes);
    return 1;
}

static int send_results(session_t *ss, lua_State *L) { return send_results_of(L, ss->wait.obj, ss->wait.n1); }

static const wait_ops_t wait_send = {"socket send", 0, 0, send_event, socket_wait_cleanup, send_results};

/* Checks an array table for send as ngx_lua does (strictly: only strings, numbers and
 * tables of them, no holes, no other keys) and counts its bytes, or appends them. */
static size_t send_table(lua_State *L, int idx, stream_t *out, int depth)
{
    lua_Number max = 0;
    size_t bytes = 0, n;
    if (depth > 100) luaL_argerror(L, 2, "table nested too deeply");
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        lua_Number k = lua_type(L, -2) == LUA_TNUMBER ? lua_tonumber(L, -2) : 0;
        if (k < 1 || k != floor(k)) luaL_argerror(L, 2, "non-array table found");
        if (k > max) max = k;
    }
    for (lua_Number i = 1; i <= max; i++) {
        lua_rawgeti(L, idx, (int)i);
        int t = lua_type(L, -1);
        if (t == LUA_TTABLE) bytes += send_table(L, lua_gettop(L), out, depth + 1);
        else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
            const char *p = lua_tolstring(L, -1, &n);
            if (out && stream_write(out, p, n)) luaL_error(L, ERR_NOMEM);
            bytes += n;
        } else
            luaL_argerror(L, 2, lua_pushfstring(L, "bad data type %s found", luaL_typename(L, -1)));
        lua_pop(L, 1);
    }
    return bytes;
}

/* Appends send's argument (string, number, boolean, nil, or array table); its byte count. */
static size_t send_value(lua_State *L, stream_t *out)
{
    size_t n = 0;
    const char *p;
    switch (lua_type(L, 2)) {
    case LUA_TTABLE: return send_table(L, 2, out, 1);
    case LUA_TSTRING:
    case LUA_TNUMBER: p = lua_tolstring(L, 2, &n); break;
    case LUA_TNIL: p = "nil", n = 3; break;
    case LUA_TBOOLEAN: p = lua_toboolean(L, 2) ? "true" : "false", n = strlen(p); break;
    default:
        return luaL_argerror(L, 2, lua_pushfstring(L, "string, number, boolean, nil, or array table expected, got %s", luaL_typename(L, 2)));
    }
    if (out && stream_write(out, p, n)) luaL_error(L, ERR_NOMEM);
    return n;
}

/* sock:send(data): returns once the kernel has taken every byte (the send timeout bounds
 * the time between two writes). */
static int l_send(lua_State *L)
{
    socket_nargs(L, 2, 2, "expecting 2 arguments (including the object), but got %d");
    int nret;
    cosocket_t *cs = socket_connected(L, &nret, "send");
    if (!cs) return nret;
    send_value(L, NULL);
    size_t bytes = send_value(L, &cs->stream);
    if (cs->nodelay_pending) {
        int on = 1;
        setsockopt(stream_fd(&cs->stream), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        cs->nodelay_pending = 0;
    }
    if (stream_flush(&cs->stream) != 1) return send_results_of(L, cs, bytes);
    cs->ss->wait.n1 = bytes;
    stream_timer(&cs->stream, socket_timeout(cs, TMO_SEND));
    session_watch_client(cs->ss);
    return session_yield(L, cs->ss, &wait_send, cs);
}

void api_socket_io_inject(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"send", l_send},
        {"receive", l_receive},
        {"receiveany", l_receiveany},
        {"receiveuntil", l_receiveuntil},
        {NULL, NULL},
    };
    luaL_getmetatable(L, SOCKET_MT);
    lua_getfield(L, -1, "__index");
    luaL_register(L, NULL, methods);
    lua_pop(L, 2);
}
