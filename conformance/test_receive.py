"""SPEC.md §6.2 Input: ngx.receive(total[, atleast]), judged on the wire.

Scripts answer with what each receive returned, formatted by `show` as
"data|err|partial" (nil shown as "nil"), so a case sees the exact return values. Partial reads
are provoked by sending pieces with pauses (Client.send_chunks) and by checking that no answer
arrives while too few bytes were sent (Client.expect_silence). Results that cannot go back to
a client that is gone are logged with ngx.log and awaited in the error log. The client sends
first (the 2015 module starts a script only on the first client byte); a script that would
wait for nothing else begins with START_LUA, which consumes the byte Client.start() sends.
"""
import re

import pytest

from tcplua_harness import cases
from tcplua_harness.client import START_LUA

spec = pytest.mark.spec

PRELUDE = r"""
local function show(...)
    local n = select("#", ...)
    local t = {}
    for i = 1, math.max(n, 1) do t[i] = tostring((select(i, ...))) end
    return table.concat(t, "|")
end
"""


def serve(server, script, extra=""):
    """Serves PRELUDE + script as conf/t.lua; returns the Instance."""
    return cases.serve(server, PRELUDE + script, extra)


# -- recv.return -----------------------------------------------------------------------------------
@spec("recv.return")
def test_returns_once_atleast_available(server):
    """recv.return: "ngx.receive(total[, atleast]) MUST return a string of at least atleast
    and at most total bytes as soon as at least atleast bytes are available." receive(10, 6):
    3 bytes give no answer; 3 more give "abcdef" at once (the call does not wait for 10)."""
    srv = serve(server, START_LUA + 'ngx.say("ready") ngx.say(show(ngx.receive(10, 6))) ngx.say("end")')
    c = srv.connect().start()
    assert c.recv_line() == b"ready\n"
    c.send(b"abc")
    c.expect_silence(0.3)
    c.send(b"def")
    assert c.recv_until_close() == b"abcdef\nend\n"


@spec("recv.return", "recv.buffered")
def test_returns_at_most_total(server):
    """recv.return: at most total bytes: 12 bytes in one send to receive(10, 6) give 10, and
    the 2 left over plus 4 more give the next receive(10, 6) its 6."""
    srv = serve(server, 'ngx.say(show(ngx.receive(10, 6))) ngx.say(show(ngx.receive(10, 6)))')
    c = srv.connect()
    c.send(b"ghijklmnopqr")
    assert c.recv_line() == b"ghijklmnop\n"
    c.expect_silence(0.3)           # "qr" is only 2 of the 6 needed
    c.send(b"stuv")
    assert c.recv_until_close() == b"qrstuv\n"


@spec("recv.return")
def test_atleast_one_returns_what_is_there(server):
    """recv.return: receive(100, 1) returns as soon as one byte is there, with what is
    available (1 to 5 bytes of a 5-byte send), without waiting for 100; a second receive
    collects the rest, so the two together are exactly the bytes sent."""
    srv = serve(server, 'local d = ngx.receive(100, 1)\n'
                        'local rest = #d < 5 and ngx.receive(5 - #d) or ""\n'
                        'ngx.say(#d >= 1, " ", d .. rest)')
    c = srv.connect()
    c.send(b"hello")
    assert c.recv_until_close() == b"true hello\n"


@spec("recv.return")
def test_bytewise_send(server):
    """recv.return: bytes sent one at a time with pauses are collected until atleast is
    reached: receive(8, 8) returns all 8 bytes in one string."""
    srv = serve(server, 'ngx.say(show(ngx.receive(8, 8)))')
    c = srv.connect()
    c.send_bytewise(b"12345678", delay=0.01)
    assert c.recv_until_close() == b"12345678\n"


@spec("recv.return", "session.light", "session.pipelining")
@pytest.mark.needs("wait_next_request")
def test_seed_receive_loop(server):
    """recv.return, session.light: the seed's test.lua loop (without the shared dict): in a
    loop, ngx.receive(10, 6), answer, ngx.wait_next_request(). "hello world" gives
    "hello worl", the buffered "d" starts the next light session at once and waits for 5
    more bytes; a close in mid-request reports nil closed with the partial bytes."""
    script = r"""
while true do
    local data, r2, r3 = ngx.receive(10, 6)
    ngx.say("receive ret " .. tostring(data) .. " " .. tostring(r2) .. " " .. tostring(r3))
    if not data then
        ngx.say("exit")
        ngx.exit()
    end
    ngx.wait_next_request()
end
"""
    srv = serve(server, script)
    c = srv.connect()
    c.send(b"hello world")
    assert c.recv_line() == b"receive ret hello worl nil nil\n"
    c.expect_silence(0.3)
    c.send(b"12345")
    assert c.recv_line() == b"receive ret d12345 nil nil\n"
    c.send(b"abcdefgh")
    assert c.recv_line() == b"receive ret abcdefgh nil nil\n"
    c.send(b"xyz")
    c.shutdown_write()
    assert c.recv_until_close() == b"receive ret nil closed xyz\nexit\n"


# -- recv.atleast.default -------------------------------------------------------------------------
@spec("recv.atleast.default")
@pytest.mark.parametrize("call", ["ngx.receive(5)", "ngx.receive(5, nil)"])
def test_atleast_defaults_to_total(server, call):
    """recv.atleast.default: "When atleast is omitted or nil it MUST default to total."
    3 bytes give no answer; 2 more complete the 5."""
    srv = serve(server, 'ngx.say(show(%s))' % call)
    c = srv.connect()
    c.send(b"abc")
    c.expect_silence(0.3)
    c.send(b"de")
    assert c.recv_until_close() == b"abcde\n"


@spec("recv.atleast.default")
def test_atleast_default_in_chunks(server):
    """recv.atleast.default: receive(12) across three pauses returns the 12 bytes as one
    string, and no more (the 13th byte stays for the next receive)."""
    srv = serve(server, 'ngx.say(show(ngx.receive(12))) ngx.say(show(ngx.receive(1)))')
    c = srv.connect()
    c.send_chunks(b"0123456789abZ", [4, 4])
    assert c.recv_until_close() == b"0123456789ab\nZ\n"


# -- recv.atleast.range ----------------------------------------------------------------------------
@spec("recv.atleast.range")
@pytest.mark.parametrize("args, argn", [
    ("0", 1), ("-1", 1), ("1.5", 1), ("'x'", 1), ("nil", 1), ("{}", 1), ("0/0", 1),
    ("5, 0", 2), ("5, 6", 2), ("5, -1", 2), ("5, 2.5", 2), ("5, 'x'", 2), ("1, 2", 2),
])
def test_bad_total_or_atleast_raises(server, args, argn):
    """recv.atleast.range: "total MUST be an integer >= 1 and atleast an integer in
    [1, total]; otherwise the call MUST raise a Lua argument error." The error names the
    offending argument; nothing is consumed (the next valid receive gets the bytes)."""
    script = ('local ok, e = pcall(function() local r = ngx.receive(%s) return r end)\n'
              'ngx.say(tostring(ok), " ", tostring(e))\n'
              'ngx.say(show(ngx.receive(5)))\n' % args)
    srv = serve(server, script)
    c = srv.connect()
    c.send(b"abcde")
    c.shutdown_write()
    out = c.recv_until_close().decode()
    first, second = out.split("\n")[:2]
    assert re.fullmatch(r"false (?:\S+:\d+: )?bad argument #%d to '\w+'.*" % argn, first), out
    assert second == "abcde", out


@spec("recv.atleast.range")
def test_boundaries_accepted(server):
    """recv.atleast.range: total 1 and atleast == total (and atleast 1) are valid."""
    srv = serve(server, 'ngx.say(show(ngx.receive(1))) ngx.say(show(ngx.receive(1, 1)))\n'
                        'ngx.say(show(ngx.receive(3, 3))) ngx.say(show(ngx.receive(3, 1)))')
    c = srv.connect()
    c.send(b"ab")
    assert c.recv_line() == b"a\n"
    assert c.recv_line() == b"b\n"
    c.send(b"cde")
    assert c.recv_line() == b"cde\n"
    c.send(b"f")
    assert c.recv_until_close() == b"f\n"


# -- recv.max --------------------------------------------------------------------------------------
@spec("recv.max")
@pytest.mark.parametrize("extra, limit", [("", 1024), ("client_max_body_size 2k;", 2048)])
def test_total_above_client_max_body_size(server, extra, limit):
    """recv.max: "total above client_max_body_size MUST raise the argument error total
    exceeds client_max_body_size N." With the default 1k and with 2k: limit + 1 raises,
    exactly limit works."""
    script = ('local ok, e = pcall(function() local r = ngx.receive(%d) return r end)\n'
              'ngx.say(tostring(ok), " ", tostring(e))\n'
              'local d = ngx.receive(%d)\n'
              'ngx.say(#d, " ", d == string.rep("q", %d))\n' % (limit + 1, limit, limit))
    srv = serve(server, script, extra)
    c = srv.connect()
    c.send(b"q" * limit)
    first, second = c.recv_until_close().decode().splitlines()
    assert re.fullmatch(r"false (?:\S+:\d+: )?(?:bad argument #1 to '\w+' \()?"
                        r"total exceeds client_max_body_size %d\)?" % limit, first), first
    assert second == "%d true" % limit


# -- recv.timeout ----------------------------------------------------------------------------------
@spec("recv.timeout", "diff.read_timeout")
def test_timeout_returns_partial(server):
    """recv.timeout: "When fewer than atleast bytes arrive within read_timeout, the call
    MUST return nil, "timeout", partial where partial holds the bytes received (and
    consumed)." With read_timeout 200ms, 3 of 6 bytes: nil|timeout|abc; the connection stays
    usable and the 3 bytes are not returned again."""
    srv = serve(server, 'ngx.say(show(ngx.receive(10, 6))) ngx.say(show(ngx.receive(2)))',
                "read_timeout 200ms;")
    c = srv.connect()
    c.send(b"abc")
    assert c.recv_line() == b"nil|timeout|abc\n"
    c.send(b"XY")
    assert c.recv_until_close() == b"XY\n"


@spec("recv.timeout")
def test_timeout_without_bytes(server):
    """recv.timeout: no byte at all within read_timeout: nil|timeout| (empty partial)."""
    srv = serve(server, START_LUA + 'ngx.say(show(ngx.receive(4)))', "read_timeout 200ms;")
    c = srv.connect().start()
    assert c.recv_until_close() == b"nil|timeout|\n"


@spec("recv.timeout")
def test_timeout_applies_to_each_receive(server):
    """recv.timeout: every pending receive is bounded: three timeouts in a row, each
    reported, then a successful receive."""
    srv = serve(server, START_LUA + 'for i = 1, 3 do ngx.say(i, ":", show(ngx.receive(1))) end\n'
                        'ngx.say("done")', "read_timeout 200ms;")
    c = srv.connect().start()
    assert c.recv_until_close() == (
        b"1:nil|timeout|\n2:nil|timeout|\n3:nil|timeout|\ndone\n")


@spec("recv.timeout")
def test_timeout_after_chunks(server):
    """recv.timeout: bytes arriving in pieces before the timeout are all in partial, in
    order."""
    srv = serve(server, 'ngx.say(show(ngx.receive(20, 10)))', "read_timeout 400ms;")
    c = srv.connect()
    c.send_chunks(b"abcdef", [2, 2], delay=0.05)
    assert c.recv_until_close() == b"nil|timeout|abcdef\n"


# -- recv.closed -----------------------------------------------------------------------------------
@spec("recv.closed")
def test_half_close_returns_closed_with_partial(server):
    """recv.closed: "When the client closes before atleast bytes arrived, the call MUST
    return nil, "closed", partial." The client half-closes after 3 of 6 bytes and reads the
    answer; a further receive also reports closed with an empty partial."""
    srv = serve(server, 'ngx.say(show(ngx.receive(10, 6))) ngx.say(show(ngx.receive(1)))')
    c = srv.connect()
    c.send(b"abc")
    c.shutdown_write()
    assert c.recv_until_close() == b"nil|closed|abc\nnil|closed|\n"


@spec("recv.closed")
def test_close_without_bytes(server):
    """recv.closed: a close with nothing sent: nil|closed| (empty partial)."""
    srv = serve(server, START_LUA + 'ngx.say("ready") ngx.say(show(ngx.receive(4)))')
    c = srv.connect().start()
    assert c.recv_line() == b"ready\n"
    c.shutdown_write()
    assert c.recv_until_close() == b"nil|closed|\n"


@spec("recv.closed")
def test_full_close_reported_in_log(server):
    """recv.closed: after a full close (the client is gone) the script logs what receive
    returned: nil, "closed" and the 2 bytes sent before the close."""
    srv = serve(server, START_LUA + 'ngx.say("ready")\n'
                        'ngx.log(ngx.ERR, "got: ", show(ngx.receive(10, 6)))')
    c = srv.connect().start()
    assert c.recv_line() == b"ready\n"
    c.send(b"ab")
    c.close()
    srv.wait_log(r"got: nil\|closed\|ab,")


@spec("recv.closed")
def test_close_after_enough_bytes_returns_data_first(server):
    """recv.closed: bytes that satisfy atleast are returned even when a close follows them;
    only the receive after that reports closed."""
    srv = serve(server, 'ngx.say(show(ngx.receive(10, 2))) ngx.say(show(ngx.receive(10, 2)))')
    c = srv.connect()
    c.send(b"abcd")
    c.shutdown_write()
    out = c.recv_until_close()
    assert out == b"abcd\nnil|closed|\n", out


# -- recv.buffered ---------------------------------------------------------------------------------
@spec("recv.buffered")
def test_bytes_beyond_total_stay_buffered(server):
    """recv.buffered: "Bytes beyond total MUST stay buffered for the next receive." Ten
    bytes in one send, read as 4 + 6 + 0 more: the second receive needs no further send."""
    srv = serve(server, 'ngx.say(show(ngx.receive(4))) ngx.say(show(ngx.receive(6)))\n'
                        'ngx.say(show(ngx.receive(3, 1)))')
    c = srv.connect()
    c.send(b"abcdefghij")
    assert c.recv_line() == b"abcd\n"
    assert c.recv_line() == b"efghij\n"
    c.expect_silence(0.2)
    c.send(b"k")
    assert c.recv_until_close() == b"k\n"


@spec("recv.buffered")
def test_large_send_read_in_small_pieces(server):
    """recv.buffered: 3000 bytes sent at once (beyond client_max_body_size 1k) read with
    receive(6) calls come back complete and in order."""
    data = bytes(range(256)) * 11 + bytes(range(184))
    assert len(data) == 3000
    srv = serve(server, 'local t = {} for i = 1, 3000 / 6 do t[#t + 1] = ngx.receive(6) end\n'
                        'ngx.print(table.concat(t))')
    c = srv.connect()
    c.send(data)
    assert c.recv_until_close() == data
