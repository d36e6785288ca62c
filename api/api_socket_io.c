/* api_socket_io.c: the cosocket's send, receive and receiveuntil. One receive machine for
 * every pattern: ready() says whether the buffered bytes answer the pending receive (reading
 * what the kernel has first), results() pushes the answer or the failure with its partial
 * data. A read timeout leaves the connection open (ngx_lua since 0.8.8); other failures
 * close it. */
#include "socket.h"
#include "api.h"
#include "errstr.h"
#include <math.h>
#include <string.h>

/* A receiveuntil iterator's state (a userdata upvalue of the iterator). */
typedef struct socket_until {
    size_t plen, size; /* size: this call's chunk size, 0 for none */
    int inclusive;
    char pat[];
} socket_until_t;

static int push_fail(lua_State *L, cosocket_t *cs, const char *p, size_t n)
{
    stream_t *s = &cs->stream;
    const char *err = s->timed_out ? ERR_TIMEOUT : s->err ? s->err
                                               : s->reset ? "connection reset by peer"
                                                          : ERR_CLOSED;
    return socket_fail(L, cs, err, p, n, 1);
}

static const char *buffered(const stream_t *s, size_t *n)
{
    *n = recvbuf_len(&s->in);
    return *n ? s->in.data + s->in.start : "";
}

/* Pushes the bytes before the first LF with every CR left out (as ngx_lua's *l), consumes
 * the line and its LF; without a LF (failure) pushes the whole buffer the same way. */
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

/* Whether the pending receive can be answered from the buffer (found: the answer). */
static int answerable(cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    size_t safe, len = recvbuf_len(&s->in);
    socket_until_t *u = cs->until;
    switch (cs->rmode) {
    case RECV_SIZE: return len >= cs->atleast;
    case RECV_LINE: return recvbuf_find(&s->in, "\n", 1, &safe) >= 0;
    case RECV_ALL: return 0;
    default:
        if (recvbuf_find(&s->in, u->pat, u->plen, &safe) >= 0) return 1;
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

/* A failure that hands over (and consumes) everything buffered as the partial data. */
static int fail_all(lua_State *L, cosocket_t *cs)
{
    size_t n;
    const char *p = buffered(&cs->stream, &n);
    int r = push_fail(L, cs, p, n); /* pushes before it closes */
    if (cs->state == CS_CONNECTED) recvbuf_consume(&cs->stream.in, n);
    return r;
}

static int until_results(lua_State *L, cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    socket_until_t *u = cs->until;
    size_t n, safe;
    const char *p = buffered(s, &n);
    long k = recvbuf_find(&s->in, u->pat, u->plen, &safe);
    if (k < 0 && !(u->size && safe >= u->size)) return fail_all(L, cs);
    size_t take = k < 0 ? u->size : (size_t)k;
    if (u->size && take > u->size) take = u->size;
    if (u->size && k == 0) { /* the data before the pattern is out: the pattern ends it */
        recvbuf_consume(&s->in, u->plen);
        if (u->inclusive) {
            lua_pushlstring(L, u->pat, u->plen);
            return 1;
        }
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    int whole = k >= 0 && (size_t)k == take;
    lua_pushlstring(L, p, take + (whole && !u->size && u->inclusive ? u->plen : 0));
    recvbuf_consume(&s->in, take + (whole && !u->size ? u->plen : 0));
    return 1;
}

static int recv_results_of(lua_State *L, cosocket_t *cs)
{
    stream_t *s = &cs->stream;
    size_t n, safe;
    const char *p = buffered(s, &n);
    switch (cs->rmode) {
    case RECV_SIZE:
        if (n < cs->atleast) break;
        n = n < cs->total ? n : cs->total;
        lua_pushlstring(L, p, n);
        recvbuf_consume(&s->in, n);
        return 1;
    case RECV_LINE: {
        long k = recvbuf_find(&s->in, "\n", 1, &safe);
        if (k >= 0) {
            push_line(L, s, (size_t)k, (size_t)k + 1);
            return 1;
        }
        push_line(L, s, n, n);
        size_t pl;
        const char *pp = lua_tolstring(L, -1, &pl);
        int r = push_fail(L, cs, pp, pl);
        lua_remove(L, -r - 1);
        return r;
    }
    case RECV_ALL:
        if (!s->eof || s->timed_out || s->err || s->reset) break;
        lua_pushlstring(L, p, n);
        recvbuf_consume(&s->in, n);
        return 1;
    default: return until_results(L, cs);
    }
    return fail_all(L, cs);
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

/* The pending receive is set up in cs: answer now or wait (read timeout). */
static int receive_start(lua_State *L, cosocket_t *cs)
{
    cs->stream.timed_out = 0;
    if (ready(cs)) return recv_results_of(L, cs);
    stream_read(&cs->stream, 1);
    stream_timer(&cs->stream, socket_timeout(cs, TMO_READ));
    session_watch_client(cs->ss);
    return session_yield(L, cs->ss, &wait_recv, cs);
}

static int bad_pattern(lua_State *L)
{
    return luaL_argerror(L, 2, "bad pattern argument");
}

/* receive() / receive("*l") a line; receive("*a") until close; receive(n) n bytes;
 * receive(total, atleast) the 2015 module's form (as ngx.receive). */
static int l_receive(lua_State *L)
{
    int nret;
    cosocket_t *cs = socket_connected(L, &nret);
    if (!cs) return nret;
    cs->until = NULL;
    if (lua_isnoneornil(L, 2)) cs->rmode = RECV_LINE;
    else if (lua_type(L, 2) == LUA_TSTRING) {
        const char *p = lua_tostring(L, 2);
        if (strcmp(p, "*l") == 0) cs->rmode = RECV_LINE;
        else if (strcmp(p, "*a") == 0) cs->rmode = RECV_ALL;
        else return bad_pattern(L);
    } else if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_Number t = lua_tonumber(L, 2), a = luaL_optnumber(L, 3, t);
        if (!(t >= 0 && t <= (1 << 30))) return bad_pattern(L);
        if (!(a >= (t ? 1 : 0) && a <= t)) return luaL_argerror(L, 3, "atleast must be in [1, total]");
        cs->rmode = RECV_SIZE;
        cs->total = (size_t)t;
        cs->atleast = (size_t)a;
        if (t == 0) {
            lua_pushliteral(L, "");
            return 1;
        }
    } else
        return bad_pattern(L);
    return receive_start(L, cs);
}

static int until_iter(lua_State *L)
{
    socket_until_t *u = lua_touserdata(L, lua_upvalueindex(2));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1); /* the socket as argument 1, the size as 2 */
    int nret;
    cosocket_t *cs = socket_connected(L, &nret);
    if (!cs) return nret;
    lua_Number size = luaL_optnumber(L, 2, 0);
    if (!(size >= 0 && size <= (1 << 30))) return luaL_argerror(L, 1, "bad size argument");
    u->size = (size_t)size;
    cs->rmode = RECV_UNTIL;
    cs->until = u;
    return receive_start(L, cs);
}

/* receiveuntil(pattern[, {inclusive = bool}]): an iterator reading up to the pattern. */
static int l_receiveuntil(lua_State *L)
{
    socket_check(L);
    size_t plen;
    const char *pat = luaL_checklstring(L, 2, &plen);
    if (plen == 0) return luaL_argerror(L, 2, "pattern is empty");
    int inclusive = 0;
    if (lua_type(L, 3) == LUA_TTABLE) {
        lua_getfield(L, 3, "inclusive");
        if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
            return luaL_error(L, "bad \"inclusive\" option value type: %s", luaL_typename(L, -1));
        inclusive = lua_toboolean(L, -1);
        lua_pop(L, 1);
    } else if (!lua_isnoneornil(L, 3))
        return luaL_argerror(L, 3, "table expected");
    lua_pushvalue(L, 1);
    socket_until_t *u = lua_newuserdata(L, sizeof *u + plen);
    u->plen = plen;
    u->size = 0;
    u->inclusive = inclusive;
    memcpy(u->pat, pat, plen);
    lua_pushcclosure(L, until_iter, 2);
    return 1;
}

/* ---- send ---- */

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
    if (cs->stream.err) return socket_fail(L, cs, cs->stream.err, NULL, 0, 0);
    lua_pushinteger(L, (lua_Integer)bytes);
    return 1;
}

static int send_results(session_t *ss, lua_State *L) { return send_results_of(L, ss->wait.obj, ss->wait.n1); }

static void send_cleanup(session_t *ss)
{
    cosocket_t *cs = ss->wait.obj;
    if (cs->state == CS_CONNECTED) stream_timer(&cs->stream, -1);
    session_wait_cleanup(ss);
}

static const wait_ops_t wait_send = {"socket send", 0, 0, send_event, send_cleanup, send_results};

/* sock:send(data): a string, number or (nested) array table of them; returns once the
 * kernel has taken every byte (send_timeout between two writes). */
static int l_send(lua_State *L)
{
    int nret;
    cosocket_t *cs = socket_connected(L, &nret);
    if (!cs) return nret;
    size_t bytes = 0;
    api_put(L, NULL, "send", 2, 1, 0, &bytes);
    bytes = 0;
    api_put(L, &cs->stream, "send", 2, 1, 0, &bytes);
    if (stream_flush(&cs->stream) != 1) return send_results_of(L, cs, bytes);
    cs->ss->wait.n1 = bytes;
    stream_timer(&cs->stream, socket_timeout(cs, TMO_SEND));
    session_watch_client(cs->ss);
    return session_yield(L, cs->ss, &wait_send, cs);
}

void api_socket_io_methods(lua_State *L)
{
    lua_pushcfunction(L, l_send);
    lua_setfield(L, -2, "send");
    lua_pushcfunction(L, l_receive);
    lua_setfield(L, -2, "receive");
    lua_pushcfunction(L, l_receiveuntil);
    lua_setfield(L, -2, "receiveuntil");
}
