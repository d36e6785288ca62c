"""SPEC §6.8 cosockets: what the recorded ngx_lua probes (test_cosocket_reference.py) cannot
show from inside one request: connection pools across sessions, idle pooled connections
closed without any script running, the end of a session closing its cosockets, client
aborts while a script waits on an upstream, the lua_socket_* defaults, the resolver against a
DNS responder started by the test, and the seed's own upstream example.

Upstreams are the fixtures of tcplua_harness/upstreams.py, or a plain listening socket held
by the test where the case must see what the server does to the connection (a FIN at the end
of a session, a close of an idle pooled connection).

Every case declares needs("cosocket", ...) in one marker (with directive.lua_socket where it
sets a lua_socket_* directive, ipv6, wait_next_request). The client sends first (the 2015
module starts a script only on the first client byte): `serve` puts START_LUA before a script
that reads nothing else, and `lines` / Client.start() send the byte it consumes.
"""
import re
import socket
import struct
import time

import pytest

from tcplua_harness import cases
from tcplua_harness.client import DEADLINE, START_LUA
from tcplua_harness.upstreams import DNS, Echo, Reset, Silent, Blackhole, _TCPFixture, free_port

spec = pytest.mark.spec
needs = pytest.mark.needs


def serve(server, script, start=True, **kw):
    """cases.serve; with `start` the script begins with START_LUA (it reads nothing else
    first, so the client's start byte is consumed there)."""
    return cases.serve(server, (START_LUA if start else "") + script, **kw)


class Listener:
    """A loopback listener the test accepts from itself, to watch one upstream connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(DEADLINE)
        self.port = self.sock.getsockname()[1]

    def accept(self, timeout=DEADLINE):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        conn.settimeout(timeout)
        return conn

    def no_pending_accept(self):
        self.sock.settimeout(0.2)
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            return True
        conn.close()
        return False

    def close(self):
        self.sock.close()


def sees_eof(conn, timeout=DEADLINE):
    """The server closed the connection: EOF (or a reset when it had unread bytes)."""
    conn.settimeout(timeout)
    try:
        while True:
            if conn.recv(4096) == b"":
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@pytest.fixture
def upstreams():
    started = []

    def start(fixture):
        started.append(fixture.start())
        return fixture
    yield start
    for f in started:
        f.stop()


def lines(srv, timeout=None):
    """The lines one connection receives (it sends the start byte first)."""
    return srv.connect().start().recv_until_close(timeout).decode("latin-1").splitlines()


# -- pools ------------------------------------------------------------------------------------
POOL_LUA = """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say("reused ", s:getreusedtimes())
assert(s:send("ping\\n"))
ngx.say(s:receive())
ngx.say("keepalive ", s:setkeepalive())
"""


@spec("socket.pool.reuse")
@needs("cosocket")
def test_pool_is_per_worker_across_sessions(server, upstreams):
    """socket.pool.reuse: a connection put into the pool by one session is the one the next
    session's connect to the same host:port gets, and getreusedtimes() counts the reuses;
    the upstream sees one connection for three sessions."""
    echo = upstreams(Echo())
    srv = serve(server, POOL_LUA % echo.port)
    assert lines(srv) == ["reused 0", "ping", "keepalive 1"]
    assert lines(srv) == ["reused 1", "ping", "keepalive 1"]
    assert lines(srv) == ["reused 2", "ping", "keepalive 1"]
    assert echo.accepted == 1


@spec("socket.pool.name")
@needs("cosocket")
def test_pool_names_separate_pools(server, upstreams):
    """socket.pool.name: connect's pool option names the pool: a connection parked under one
    name is not handed to a connect with another name (nor to the default host:port one)."""
    echo = upstreams(Echo())
    srv = serve(server, """
local a = ngx.socket.tcp()
assert(a:connect("127.0.0.1", %d, {pool = "one"}))
assert(a:setkeepalive())
local b = ngx.socket.tcp()
assert(b:connect("127.0.0.1", %d, "two"))
ngx.say("two ", b:getreusedtimes())
local c = ngx.socket.tcp()
assert(c:connect("127.0.0.1", %d))
ngx.say("default ", c:getreusedtimes())
local d = ngx.socket.tcp()
assert(d:connect("127.0.0.1", %d, {pool = "one"}))
ngx.say("one ", d:getreusedtimes())
""" % ((echo.port,) * 4))
    assert lines(srv) == ["two 0", "default 0", "one 1"]


@spec("socket.pool.size")
@needs("cosocket")
def test_full_pool_closes_least_recently_used(server):
    """socket.pool.size: a pool holds at most its size (setkeepalive's second argument, else
    lua_socket_pool_size) idle connections; parking one more closes the least recently
    parked one at once."""
    ls = Listener()
    srv = serve(server, """
local socks = {}
for i = 1, 3 do
    socks[i] = ngx.socket.tcp()
    assert(socks[i]:connect("127.0.0.1", %d))
    socks[i]:send(tostring(i))
    socks[i]:receive(1)
end
for i = 1, 3 do ngx.say("keepalive ", i, " ", socks[i]:setkeepalive(0, 2)) end
""" % ls.port)
    c = srv.connect().start()
    conns = []
    for _ in range(3):
        conn = ls.accept()
        conns.append((conn.recv(1), conn))
        conn.send(b"k")
    assert c.recv_until_close().decode().splitlines() == ["keepalive 1 1", "keepalive 2 1", "keepalive 3 1"]
    by_id = dict(conns)
    assert sees_eof(by_id[b"1"]), "the least recently parked connection stays open"
    for k in (b"2", b"3"):
        by_id[k].settimeout(0.3)
        with pytest.raises(socket.timeout):
            by_id[k].recv(1)
    ls.close()


@spec("socket.pool.size")
@needs("cosocket", "directive.lua_socket")
def test_pool_size_directive(server):
    """socket.pool.size: lua_socket_pool_size is the size when setkeepalive gives none."""
    ls = Listener()
    srv = serve(server, """
local socks = {}
for i = 1, 2 do
    socks[i] = ngx.socket.tcp()
    assert(socks[i]:connect("127.0.0.1", %d))
    socks[i]:send(tostring(i))
    socks[i]:receive(1)
end
for i = 1, 2 do socks[i]:setkeepalive() end
ngx.say("done")
""" % ls.port, extra="lua_socket_pool_size 1;")
    c = srv.connect().start()
    conns = {}
    for _ in range(2):
        conn = ls.accept()
        conns[conn.recv(1)] = conn
        conn.send(b"k")
    assert c.recv_until_close() == b"done\n"
    assert sees_eof(conns[b"1"])
    ls.close()


PARK_LUA = """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say("reused ", s:getreusedtimes())
ngx.say("keepalive ", s:setkeepalive(%s))
"""


@spec("socket.pool.idle_close")
@needs("cosocket")
def test_idle_pooled_connection_closed_when_peer_closes(server):
    """socket.pool.idle_close: when the peer closes an idle pooled connection, the server
    closes it without any script running, and the next connect makes a new connection."""
    ls = Listener()
    srv = serve(server, PARK_LUA % (ls.port, ""))
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_until_close() == b"reused 0\nkeepalive 1\n"
    up.shutdown(socket.SHUT_WR)
    assert sees_eof(up), "the pooled connection was not closed after the peer's FIN"
    up.close()
    assert lines(srv) == ["reused 0", "keepalive 1"]
    ls.accept().close()
    ls.close()


@spec("socket.pool.idle_close")
@needs("cosocket")
def test_idle_pooled_connection_closed_when_peer_sends(server):
    """socket.pool.idle_close: bytes that arrive on an idle pooled connection (no request
    asked for them) make the server close it."""
    ls = Listener()
    srv = serve(server, PARK_LUA % (ls.port, ""))
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_until_close() == b"reused 0\nkeepalive 1\n"
    up.send(b"unsolicited")
    assert sees_eof(up)


@spec("socket.pool.timeout")
@needs("cosocket")
def test_idle_pooled_connection_timeout(server):
    """socket.pool.timeout: setkeepalive(timeout) closes the idle connection once it has been
    idle that long (here 100 ms), without any script running."""
    ls = Listener()
    srv = serve(server, PARK_LUA % (ls.port, "100"))
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_until_close() == b"reused 0\nkeepalive 1\n"
    assert sees_eof(up)


@spec("socket.pool.timeout")
@needs("cosocket", "directive.lua_socket")
def test_keepalive_timeout_directive(server):
    """socket.pool.timeout: lua_socket_keepalive_timeout is the idle timeout when
    setkeepalive gives none."""
    ls = Listener()
    srv = serve(server, PARK_LUA % (ls.port, ""), extra="lua_socket_keepalive_timeout 100ms;")
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_until_close() == b"reused 0\nkeepalive 1\n"
    assert sees_eof(up)


# -- the session's end -----------------------------------------------------------------------
@spec("socket.session_end")
@pytest.mark.parametrize("ending", ["return", "ngx.exit()", "error('boom')"])
@needs("cosocket")
def test_session_end_closes_its_cosockets(server, ending):
    """socket.session_end: however a session ends, every cosocket it still holds (not put
    into a pool) is closed: the upstream sees EOF."""
    ls = Listener()
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say("connected")
%s
""" % (ls.port, ending))
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_until_close() == b"connected\n"
    assert sees_eof(up)


@spec("socket.session_end", "socket.client_abort")
@needs("cosocket")
def test_client_abort_while_waiting_on_upstream(server):
    """socket.client_abort: with lua_check_client_abort on, a client that closes while the
    script waits on a cosocket ends the session at once (the script is not resumed) and the
    cosocket is closed."""
    ls = Listener()
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say("waiting")
local d, err = s:receive()
ngx.log(ngx.ERR, "resumed-marker ", tostring(err))
""" % ls.port, extra="lua_check_client_abort on;")
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_line() == b"waiting\n"
    c.close()
    assert sees_eof(up), "the cosocket was not closed when the client went away"
    assert "resumed-marker" not in srv.error_log()


@spec("socket.client_abort")
@needs("cosocket")
def test_no_client_abort_check_by_default(server):
    """socket.client_abort: with lua_check_client_abort off (the default) the wait on the
    upstream goes on after the client closed: the script is resumed with the upstream's
    answer."""
    ls = Listener()
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say("waiting")
local d, err = s:receive()
ngx.log(ngx.ERR, "resumed-marker ", tostring(d))
""" % ls.port)
    c = srv.connect().start()
    up = ls.accept()
    assert c.recv_line() == b"waiting\n"
    c.close()
    up.send(b"late\n")
    srv.wait_log(r"resumed-marker late")


@spec("socket.several")
@needs("cosocket")
def test_several_cosockets_in_one_session(server, upstreams):
    """socket.several: one session may hold several connected cosockets and use them in turn."""
    a, b = upstreams(Echo()), upstreams(Echo())
    srv = serve(server, """
local x, y = ngx.socket.tcp(), ngx.socket.tcp()
assert(x:connect("127.0.0.1", %d))
assert(y:connect("127.0.0.1", %d))
for i = 1, 3 do
    x:send("x" .. i .. "\\n")
    y:send("y" .. i .. "\\n")
    ngx.say(y:receive(), x:receive())
end
""" % (a.port, b.port))
    assert lines(srv) == ["y1x1", "y2x2", "y3x3"]


@spec("socket.owner")
@needs("cosocket")
def test_socket_of_another_session(server, upstreams):
    """socket.owner: a cosocket kept where another session can reach it (a module's table)
    raises `bad request` there, catchable, and keeps serving its own session."""
    echo = upstreams(Echo())
    srv = serve(server, start=False, script="""
local m = require "shared_sock"
local first = ngx.receive(1)
if first == "A" then
    m.s = ngx.socket.tcp()
    assert(m.s:connect("127.0.0.1", %d))
    ngx.say("held")
    ngx.receive(1)
    m.s:send("still mine\\n")
    ngx.say(m.s:receive())
else
    ngx.say(select(2, pcall(m.s.send, m.s, "x")))
end
""" % echo.port, tcp_extra='lua_package_path "$prefix/conf/?.lua;;";',
        files={"conf/shared_sock.lua": "return {}\n"})
    a = srv.connect()
    a.send(b"A")
    assert a.recv_line() == b"held\n"
    b = srv.connect()
    b.send(b"B")
    assert b"bad request" in b.recv_until_close()
    a.send(b"!")
    assert a.recv_until_close() == b"still mine\n"


# -- timeouts from the configuration ---------------------------------------------------------
@spec("socket.timeout.defaults")
@needs("cosocket", "directive.lua_socket")
def test_read_timeout_directive(server, upstreams):
    """socket.timeout.defaults: lua_socket_read_timeout bounds a receive when the script set
    no timeout; the connection stays usable afterwards."""
    silent = upstreams(Silent())
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say(s:receive(4))
ngx.say(s:send("x"))
""" % silent.port, extra="lua_socket_read_timeout 100ms;")
    assert lines(srv) == ["niltimeout", "1"]


@spec("socket.timeout.defaults")
@needs("cosocket", "directive.lua_socket")
def test_connect_timeout_directive(server, upstreams):
    """socket.timeout.defaults: lua_socket_connect_timeout bounds a connect."""
    hole = upstreams(Blackhole())
    srv = serve(server, """
local s = ngx.socket.tcp()
ngx.say(s:connect("127.0.0.1", %d))
""" % hole.port, extra="lua_socket_connect_timeout 100ms;")
    assert lines(srv) == ["niltimeout"]


@spec("socket.timeout.defaults", "socket.send.wait")
@needs("cosocket", "directive.lua_socket")
def test_send_timeout_directive(server, upstreams):
    """socket.timeout.defaults, socket.send.wait: a send waits while the peer reads nothing
    and fails with `timeout` after lua_socket_send_timeout without progress."""
    ls = Listener()
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say(s:send(string.rep("x", 32 * 1024 * 1024)))
""" % ls.port, extra="lua_socket_send_timeout 200ms;")
    c = srv.connect().start()
    up = ls.accept()  # and never read
    assert c.recv_until_close() == b"niltimeout\n"
    up.close()
    ls.close()


@spec("socket.send.wait")
@needs("cosocket")
def test_send_waits_for_a_slow_reader(server, upstreams):
    """socket.send.wait: send() returns only when the kernel took every byte, however slowly
    the peer reads, and returns the byte count."""
    sink = upstreams(Silent())
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say(s:send({string.rep("a", 4 * 1024 * 1024), string.rep("b", 1024)}))
""" % sink.port)
    assert lines(srv) == [str(4 * 1024 * 1024 + 1024)]
    deadline = time.monotonic() + 5
    while sink.conns[0].bytes_in < 4 * 1024 * 1024 + 1024 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sink.conns[0].bytes_in == 4 * 1024 * 1024 + 1024


# -- the resolver ----------------------------------------------------------------------------
RESOLVE_LUA = """
local s = ngx.socket.tcp()
ngx.say(s:connect(%r, %d))
if s:getreusedtimes() then
    s:send("hi\\n")
    ngx.say(s:receive())
end
"""


def resolver_server(server, dns, script, extra=""):
    return serve(server, script, extra="resolver 127.0.0.1:%d %s;\nresolver_timeout 300ms;\n" % (dns.port, extra))


@spec("socket.resolver")
@needs("cosocket")
def test_connect_by_name(server, upstreams):
    """socket.resolver: a host name is resolved through the server's resolver and connected."""
    echo = upstreams(Echo())
    dns = upstreams(DNS({"up.test": ["127.0.0.1"]}))
    srv = resolver_server(server, dns, RESOLVE_LUA.replace("%r", '"%s"') % ("up.test", echo.port))
    assert lines(srv) == ["1", "hi"]


@spec("socket.resolver.error")
@needs("cosocket")
def test_resolver_nxdomain(server, upstreams):
    """socket.resolver.error: a name the DNS server does not know gives
    `nil, "NAME could not be resolved (3: Host not found)"`."""
    dns = upstreams(DNS({}))
    srv = resolver_server(server, dns, RESOLVE_LUA.replace("%r", '"%s"') % ("nope.test", 9))
    assert lines(srv) == ["nilnope.test could not be resolved (3: Host not found)"]


@spec("socket.resolver.error")
@needs("cosocket")
def test_resolver_timeout(server, upstreams):
    """socket.resolver.error: a DNS server that never answers gives, after resolver_timeout,
    `nil, "NAME could not be resolved (110: Operation timed out)"`."""
    dns = upstreams(DNS({}, drop=["slow.test"]))
    srv = resolver_server(server, dns, RESOLVE_LUA.replace("%r", '"%s"') % ("slow.test", 9))
    assert lines(srv) == ["nilslow.test could not be resolved (110: Operation timed out)"]


@spec("socket.resolver.none")
@needs("cosocket")
def test_no_resolver(server):
    """socket.resolver.none: without a resolver directive a name cannot be connected:
    `nil, 'no resolver defined to resolve "NAME"'`."""
    srv = serve(server, RESOLVE_LUA.replace("%r", '"%s"') % ("up.test", 9))
    assert lines(srv) == ['nilno resolver defined to resolve "up.test"']


@spec("socket.resolver.cache")
@needs("cosocket")
def test_resolver_caches_answers(server, upstreams):
    """socket.resolver.cache: an answer is kept for valid= (or its TTL): later connects to the
    same name ask the DNS server nothing."""
    echo = upstreams(Echo())
    dns = upstreams(DNS({"up.test": ["127.0.0.1"]}))
    srv = resolver_server(server, dns, RESOLVE_LUA.replace("%r", '"%s"') % ("up.test", echo.port),
                          extra="valid=30s ipv6=off")
    for _ in range(3):
        assert lines(srv) == ["1", "hi"]
    assert dns.count("up.test") == 1


@spec("socket.resolver.ipv6")
@needs("cosocket")
def test_resolver_ipv6_off_asks_only_a(server, upstreams):
    """socket.resolver.ipv6: with ipv6=off only A records are asked for; with the default
    (on) AAAA records too."""
    echo = upstreams(Echo())
    dns = upstreams(DNS({"up.test": ["127.0.0.1"]}))
    srv = resolver_server(server, dns, RESOLVE_LUA.replace("%r", '"%s"') % ("up.test", echo.port),
                          extra="ipv6=off")
    assert lines(srv) == ["1", "hi"]
    assert dns.count("up.test", "AAAA") == 0
    dns6 = upstreams(DNS({"up6.test": ["127.0.0.1"]}))
    srv6 = resolver_server(server, dns6, RESOLVE_LUA.replace("%r", '"%s"') % ("up6.test", echo.port))
    assert lines(srv6) == ["1", "hi"]
    assert dns6.count("up6.test", "AAAA") >= 1


# -- the seed's example ----------------------------------------------------------------------
class SeedUpstream(_TCPFixture):
    """The upstream of the 2015 module's test.lua: a request is a 4-byte big-endian length L
    and L bytes; the reply is a 4-byte length L+4 (counting itself) and the same L bytes."""

    def handle(self, sock, stats):
        while True:
            head = self.recv_exactly(sock, stats, 4)
            if not head:
                return
            n = struct.unpack(">I", head)[0]
            body = self.recv_exactly(sock, stats, n)
            self.send(sock, stats, struct.pack(">I", n + 4) + body)


NETUTIL = """
local M = {}
function M.htonl(n) return n end
function M.packint32(n)
    return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
                       math.floor(n / 256) % 256, n % 256)
end
function M.unpackint32(s)
    local a, b, c, d = s:byte(1, 4)
    return ((a * 256 + b) * 256 + c) * 256 + d
end
return M
"""


@spec("socket.seed")
@needs("cosocket", "wait_next_request")
def test_seed_upstream_test(server, upstreams):
    """socket.seed: the seed's test.lua upstream_test (settimeout with three arguments, a
    named pool as connect's third argument, receive(4, nil), setkeepalive) runs unchanged,
    one request per light session, reusing the pooled connection."""
    up = upstreams(SeedUpstream())
    seed = """
local client_sock = ngx.socket.tcp()
client_sock:settimeout(5000,1000,3000)
local data = "hello world 1234567890"
local data_len = string.len(data)
local data_len_h = netutil.htonl(data_len)
local req_data = netutil.packint32(data_len_h) .. data
local upstream_test = function(u)
    local ret,err = u:connect("127.0.0.1",%d,"127.0.0.1_8000_1");
    local reuse = u:getreusedtimes()
    ngx.log(ngx.INFO,"connect : "..tostring(ret).." "..tostring(err).." "..tostring(reuse))
    if not ret then return end
    ret,err = u:send(req_data)
    if not ret then return end
    local data,err = u:receive(4,nil)
    if not data then return end
    local totoal_len = netutil.unpackint32(string.sub(data,1,4))
    local data,err = u:receive(totoal_len - 4,nil)
    ngx.log(ngx.INFO,"receive again: ["..tostring(data).."] "..tostring(err))
    if not data then return end
    if totoal_len - 4 ~= #data then return end
    u:setkeepalive()
end
while true do
    local data,r2,r3 = ngx.receive(10,6)
    if not data then ngx.exit() end
    upstream_test(client_sock)
    ngx.say("done")
    ngx.wait_next_request()
end
""" % up.port
    srv = serve(server, seed, start=False, tcp_extra='lua_package_path "$prefix/conf/?.lua;;";\n'
                                         'init_by_lua \'netutil = require "netutil"\';',
                files={"conf/netutil.lua": NETUTIL})
    with srv.connect() as c:
        for _ in range(3):
            c.send(b"0123456789")
            assert c.recv_line() == b"done\n"
    log = srv.error_log()
    assert log.count("receive again: [hello world 1234567890] nil") == 3
    assert "connect : 1 nil 0" in log and "connect : 1 nil 2" in log
    assert up.accepted == 1


@spec("socket.timeout.seed")
@needs("cosocket", "directive.lua_socket")
def test_settimeout_three_arguments(server, upstreams):
    """socket.timeout.seed: settimeout(connect, send, read) sets each: here the read timeout
    (the third) of 100 ms ends a receive from a silent upstream while the others are long."""
    silent = upstreams(Silent())
    srv = serve(server, """
local s = ngx.socket.tcp()
s:settimeout(5000, 5000, 100)
assert(s:connect("127.0.0.1", %d))
ngx.say(s:receive(1))
""" % silent.port, extra="lua_socket_read_timeout 60s;")
    assert lines(srv) == ["niltimeout"]


@spec("socket.receive.seed")
@needs("cosocket")
def test_receive_total_atleast(server, upstreams):
    """socket.receive.seed: receive(total, atleast) returns as soon as atleast bytes are there,
    at most total; receive(n, nil) reads exactly n."""
    echo = upstreams(Echo())
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
s:send("abc")
ngx.say(s:receive(10, 2))
s:send("0123456789")
ngx.say(s:receive(4, nil))
ngx.say(s:receive(100, 6))
""" % echo.port)
    assert lines(srv) == ["abc", "0123", "456789"]


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@spec("socket.connect")
@needs("cosocket", "ipv6")
def test_connect_ipv6_literal(server, upstreams):
    """socket.connect: an IPv6 address literal connects, bare or in brackets; the pool key is
    the host as written, so the two forms are two pools."""
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")     # the host's limit
    echo = upstreams(Echo(host="::1"))
    srv = serve(server, """
for _, host in ipairs({"::1", "[::1]"}) do
    local s = ngx.socket.tcp()
    ngx.say(host, " ", s:connect(host, %d), " ", s:getreusedtimes())
    s:send("x\\n")
    ngx.say(s:receive())
    s:setkeepalive()
end
""" % echo.port)
    assert lines(srv) == ["::1 1 0", "x", "[::1] 1 0", "x"]


# -- the error log ----------------------------------------------------------------------------
# name -> (upstream fixture or None (a port nothing listens on), the script (PORT is the
# upstream's), what it says, the message it logs with lua_socket_log_errors on (None: no line
# of any cosocket failure)). Recorded from ngx_lua by reference/socket_log_probe.py.
# Every script ends by logging END_OF_CASE: the log is judged once that line is there.
SOCKET_LOG_CASES = {
    "connect_refused": (None, 'ngx.say(s:connect("127.0.0.1", PORT))', ["nilconnection refused"],
                        r"connect\(\) failed \(111: Connection refused\)"),
    "connect_timeout": (Blackhole, 's:settimeout(100) ngx.say(s:connect("127.0.0.1", PORT))',
                        ["niltimeout"], r"lua tcp socket connect timed out, when connecting to "
                                        r"127\.0\.0\.1:PORT"),
    "read_timeout": (Silent, 's:settimeout(100) assert(s:connect("127.0.0.1", PORT)) '
                     'ngx.say(s:receive(4))', ["niltimeout"], r"lua tcp socket read timed out"),
    "reader_timeout": (Silent, 's:settimeout(100) assert(s:connect("127.0.0.1", PORT)) '
                       'ngx.say(s:receiveuntil("--")())', ["niltimeout"],
                       r"lua tcp socket read timed out"),
    "write_timeout": (lambda: Silent(read=False), 's:settimeout(200) '
                      'assert(s:connect("127.0.0.1", PORT)) '
                      'ngx.say(s:send(string.rep("x", 32 * 1024 * 1024)))', ["niltimeout"],
                      r"lua tcp socket write timed out"),
    "receive_unconnected": (None, 'ngx.say(s:receive())', ["nilclosed"],
                            r"attempt to receive data on a closed socket"),
    "receiveany_closed": (Echo, 'assert(s:connect("127.0.0.1", PORT)) s:close() '
                          'ngx.say(s:receiveany(10))', ["nilclosed"],
                          r"attempt to receive data on a closed socket"),
    # ngx_lua's reader says closed without a line (its receive and receiveany log one)
    "reader_closed": (Echo, 'assert(s:connect("127.0.0.1", PORT)) local r = s:receiveuntil("--") '
                      's:close() ngx.say(r())', ["nilclosed"], None),
    "send_unconnected": (None, 'ngx.say(s:send("x"))', ["nilclosed"],
                         r"attempt to send data on a closed socket"),
    "send_pooled": (Echo, 'assert(s:connect("127.0.0.1", PORT)) s:setkeepalive() '
                    'ngx.say(s:send("x"))', ["nilclosed"],
                    r"attempt to send data on a closed socket"),
}


def socket_log_case(server, upstreams, name, extra=""):
    """Runs one SOCKET_LOG_CASES script; returns (the server, the message regex)."""
    fixture, script, said, message = SOCKET_LOG_CASES[name]
    port = upstreams(fixture()).port if fixture else free_port()
    srv = serve(server, "local s = ngx.socket.tcp()\n%s\nngx.log(ngx.ERR, 'END_OF_CASE')\n"
                % script.replace("PORT", str(port)), extra=extra)
    assert lines(srv) == said
    srv.wait_log("END_OF_CASE")
    return srv, message.replace("PORT", str(port)) if message else ANY_SOCKET_ERROR


ANY_SOCKET_ERROR = r"(?:connect\(\) failed|lua tcp socket|attempt to \w+ data on a closed socket)"


def error_line(message):
    """An error-log line of a session saying message (detail after it allowed; a module's
    word before it, as nginx's stream modules write `stream `)."""
    return r"^\S+ \S+ \[error\] \d+#\d+: \*\d+ (?:\w+ )?%s.*, client: " % message


@spec("socket.log.errors")
@pytest.mark.parametrize("name", sorted(SOCKET_LOG_CASES))
@needs("cosocket")
def test_socket_errors_logged(server, upstreams, name):
    """socket.log.errors: by default a cosocket's connect failure, timeout, or I/O on a
    closed socket writes one [error] line worded as ngx_lua's, in the session's context."""
    srv, message = socket_log_case(server, upstreams, name)
    want = 0 if SOCKET_LOG_CASES[name][3] is None else 1
    assert len(re.findall(error_line(message), srv.error_log(), re.M)) == want, srv.error_log()


@spec("socket.log.errors")
@pytest.mark.parametrize("name", sorted(SOCKET_LOG_CASES))
@needs("cosocket", "directive.lua_socket")
def test_socket_errors_not_logged_when_off(server, upstreams, name):
    """socket.log.errors: with lua_socket_log_errors off the same failures return the same
    values and write no line."""
    srv, message = socket_log_case(server, upstreams, name, extra="lua_socket_log_errors off;")
    assert not re.search(error_line(message), srv.error_log(), re.M), srv.error_log()


@spec("socket.log.io", "socket.log.errors")
@pytest.mark.parametrize("switch", ["on", "off"])
@needs("cosocket", "directive.lua_socket")
def test_socket_io_errors_logged(server, upstreams, switch):
    """socket.log.io: a reset seen by a receive and the broken pipe of a later send are logged
    as recv() failed / send() failed whatever lua_socket_log_errors says; the receive on the
    failed reading side in between only when it is on."""
    reset = upstreams(Reset(after=1))
    srv = serve(server, """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
assert(s:send("x"))
ngx.say(s:receive())
ngx.say(s:receive())
ngx.say(s:send("y"))
ngx.log(ngx.ERR, "END_OF_CASE")
""" % reset.port, extra="lua_socket_log_errors %s;" % switch)
    assert lines(srv) == ["nilconnection reset by peer", "nilclosed", "nilbroken pipe"]
    srv.wait_log("END_OF_CASE")
    log = srv.error_log()
    assert re.search(error_line(r"recv\(\) failed \(104: Connection reset by peer\)"), log, re.M), log
    assert re.search(error_line(r"send\(\) failed \(32: Broken pipe\)"), log, re.M), log
    closed = re.findall(error_line("attempt to receive data on a closed socket"), log, re.M)
    assert len(closed) == (1 if switch == "on" else 0), log
