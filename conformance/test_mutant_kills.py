"""Cases added because a mutant of ci/mutants/ survived the suite (ci/mutants/README.md): each
names the mutant it kills and the clause that mutant violates. They judge any implementation
like every other case; they live here so that the topic modules stay as their authors keep them.
"""
import calendar
import socket
import time

import pytest

from tcplua_harness.cases import said_lines, serve
from tcplua_harness.client import START_LUA
from tcplua_harness.upstreams import DNS, Echo

spec = pytest.mark.spec
needs = pytest.mark.needs


@spec("sleep.ms")
def test_sleep_lasts_the_time_asked(server):
    """sleep.ms: `ngx.sleep(seconds)` MUST suspend the script for the given number of seconds
    (millisecond resolution). Output is written when the script waits, so the client sees
    "before" when the sleep starts and "after" when it ends: 300 ms apart, not 30
    (mutant 023-sleep-in-centiseconds)."""
    srv = serve(server, START_LUA + 'ngx.say("before") ngx.sleep(0.3) ngx.say("after")')
    c = srv.connect().start()
    assert c.recv_line() == b"before\n"
    started = time.monotonic()
    assert c.recv_line() == b"after\n"
    assert time.monotonic() - started >= 0.25
    c.expect_closed()


@spec("socket.send.wait")
@needs("cosocket")
def test_cosocket_send_timeout_is_between_writes(server):
    """socket.send.wait: the send timeout bounds the time between two writes that make
    progress (as nginx's). An upstream that reads 16 KB every 50 ms takes 400 KB in over a
    second, several times the 300 ms send timeout, but never leaves send waiting 300 ms: the
    send returns the byte count (mutant 036-co-send-timeout-not-rearmed times out)."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # inherited by the accepted socket
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(5)
    srv = serve(server, START_LUA + """
local s = ngx.socket.tcp()
s:settimeout(300)
assert(s:connect("127.0.0.1", %d))
s:setoption("sndbuf", 16384)
ngx.say(s:send(string.rep("y", 400000)))
""" % ls.getsockname()[1])
    c = srv.connect().start()
    up, _ = ls.accept()
    up.settimeout(5)
    got = 0
    started = time.monotonic()
    while got < 400000:
        time.sleep(0.05)  # creates the condition: a reader slower than the sender, never idle for 300 ms
        chunk = up.recv(16384)
        if not chunk:
            break
        got += len(chunk)
    assert got == 400000, "the upstream got %d of 400000 bytes" % got
    assert time.monotonic() - started > 0.6, "the upstream read faster than planned; the case proves nothing"
    assert c.recv_until_close(10) == b"400000\n"
    up.close()
    ls.close()


@spec("socket.pool.timeout")
@needs("cosocket")
def test_setkeepalive_zero_never_expires(server):
    """socket.pool.timeout: an idle pooled connection MUST be closed when its keepalive
    timeout (setkeepalive's; 0 or negative: never) expires. Parked with setkeepalive(0), it
    is still there for the next session (mutant 040-keepalive-zero-timeout closes it at once)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    ls.settimeout(5)
    srv = serve(server, START_LUA + """
local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", %d))
ngx.say("reused ", s:getreusedtimes())
ngx.say("keepalive ", s:setkeepalive(0))
""" % ls.getsockname()[1])
    c = srv.connect().start()
    up, _ = ls.accept()
    assert c.recv_until_close() == b"reused 0\nkeepalive 1\n"
    time.sleep(0.2)  # creates the condition: the connection idles in the pool
    assert srv.connect().start().recv_until_close() == b"reused 1\nkeepalive 1\n"
    up.close()
    ls.close()


@spec("output.return")
def test_print_after_a_reset_while_sleeping_says_closed(server):
    """output.return: "If the connection failed, they MUST return nil and an error string
    (closed when the client is gone ...)". Here the reset arrives while the script sleeps and
    nothing reads, so the server learns of it from the write itself (send fails with
    ECONNRESET, not EPIPE): still `closed` (mutant 062-io-reset-not-closed said
    "Connection reset by peer")."""
    script = (START_LUA + 'ngx.say("ready")\n'
              'ngx.sleep(0.3)\n'
              'for i = 1, 50 do\n'
              '  local n, e = ngx.print("x")\n'
              '  if not n then ngx.log(ngx.ERR, "print failed: ", tostring(n), " ", tostring(e)) return end\n'
              '  ngx.sleep(0.001)\n'
              'end\n'
              'ngx.log(ngx.ERR, "print never failed")\n')
    srv = serve(server, script)
    c = srv.connect().start()
    assert c.recv_line() == b"ready\n"
    c.abort()
    m = srv.wait_log(r"print (?:failed: (\S+) ([^,\n]+)|never failed)")
    assert (m.group(1), m.group(2)) == ("nil", "closed"), m.group(0)


@spec("time.parse.roundtrip")
def test_parse_tcp_time_roundtrip_on_leap_days(server):
    """time.parse.roundtrip: for every `sec` in the range of [time.tcp_time.range],
    `ngx.parse_tcp_time(ngx.tcp_time(sec))` MUST equal `math.floor(sec)`. On 29 February of
    years divisible by 4, including 400 (1600, 2000, 2400), not only on ordinary days
    (mutant 072-httptime-no-400-leap gave nil for 2000 and 2400)."""
    values = [calendar.timegm((year, 2, 29, 12, 0, 0)) for year in (1600, 1972, 2000, 2004, 2400)]
    script = "".join("ngx.say(ngx.parse_tcp_time(ngx.tcp_time(%d)))\n" % v for v in values)
    assert said_lines(server, script) == [str(v) for v in values]


@spec("socket.resolver.cache")
@needs("cosocket")
def test_resolver_valid_outlasts_a_zero_ttl(server):
    """socket.resolver.cache: a positive answer MUST be kept for `valid=` when given, else for
    its smallest TTL. The DNS server answers with TTL 0 and the resolver says valid=30s: three
    connects, one query (mutant 075-resolver-valid-ignored followed the TTL and asked thrice;
    test_cosocket's case answers with TTL 300, which hides it)."""
    echo, dns = Echo().start(), DNS({"up.test": ["127.0.0.1"]}, ttl=0).start()
    try:
        srv = serve(server, START_LUA + """
local s = ngx.socket.tcp()
ngx.say(s:connect("up.test", %d))
s:send("hi\\n")
ngx.say(s:receive())
""" % echo.port, extra="resolver 127.0.0.1:%d valid=30s ipv6=off;\nresolver_timeout 300ms;\n" % dns.port)
        for _ in range(3):
            assert srv.connect().start().recv_until_close().decode().splitlines() == ["1", "hi"]
        assert dns.count("up.test") == 1
    finally:
        dns.stop()
        echo.stop()
