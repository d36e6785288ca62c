"""SPEC.md §6.1 Output: ngx.print and ngx.say, judged by the exact bytes a client receives.

Scripts run from conf/t.lua. Results of calls that cannot be shown on the wire (a print to a
client that is gone or never reads) are reported through ngx.log and awaited in the error
log. Error cases print the message pcall caught; Lua may put "chunk:line: " first, so the
patterns allow that prefix and nothing else. The client sends first (the 2015 module starts a
script only on the first client byte); a script that would read nothing else begins with
START_LUA, which consumes the byte Client.start() sends.
"""
import re
import socket
import time

import pytest

from tcplua_harness import cases
from tcplua_harness.client import DEADLINE, START, START_LUA, Client

spec = pytest.mark.spec

PRELUDE = cases.PERR_LUA


def serve(server, script, extra=""):
    """Serves PRELUDE + script as conf/t.lua; returns the Instance."""
    return cases.serve(server, PRELUDE + script, extra)


def run(server, script, extra=""):
    """Serves a script that reads nothing; one connection's bytes until the close."""
    return serve(server, START_LUA + script, extra).connect().start().recv_until_close()


def err_re(text):
    """The whole message of a Lua error: an optional "chunk:line: " then exactly `text`."""
    return r"(?:\S+:\d+: )?" + re.escape(text)


# -- output.print.types --------------------------------------------------------------------------
@spec("output.print.types")
def test_seed_example(server):
    """output.print.types: "ngx.print("hello world",21,nil,true,false,{"a","b"}) writes
    hello world21niltruefalseab"."""
    out = run(server, 'ngx.print("hello world",21,nil,true,false,{"a","b"})')
    assert out == b"hello world21niltruefalseab"


@spec("output.print.types")
def test_scalar_types(server):
    """output.print.types: "strings as is, numbers as Lua's tostring, nil as nil, booleans
    as true/false, ngx.null as null", in order with no separator. Each number is printed
    next to tostring() of it, and known LuaJIT renderings are checked too."""
    nums = ["21", "-7", "3.5", "0.1", "1e100", "-1.5e-7", "2^53", "1/0", "-1/0", "0", "1e15"]
    script = "".join('ngx.print(%s, "=", tostring(%s), "\\n")\n' % (n, n) for n in nums)
    script += ('ngx.print("a", nil, "b", true, false, ngx.null, "\\0\\255", "")\n'
               'ngx.print()\n')
    lines = run(server, script).split(b"\n")
    for n, line in zip(nums, lines):
        left, right = line.split(b"=")
        assert left == right, (n, line)
    assert lines[:4] == [b"21=21", b"-7=-7", b"3.5=3.5", b"0.1=0.1"]
    assert lines[len(nums)] == b"anilbtruefalsenull\x00\xff"
    assert len(lines) == len(nums) + 1


@spec("output.print.types")
def test_nested_array_tables(server):
    """output.print.types: "array tables (elements 1..#t, recursively ...) as the
    concatenation of their elements"; keys outside 1..#t are ignored; elements may be any
    printable type including ngx.null."""
    script = ('ngx.print({"a", {"b", {"c", {}}, 1}, true, {{{"d"}}}})\n'
              'ngx.print("|", {}, "|")\n'
              'ngx.print({"x", "y", key = "ignored"}, "|")\n'
              'ngx.print({1, 2.5, false, ngx.null}, "|")\n'
              'ngx.say({"s", {"a", "y"}})\n')
    assert run(server, script) == b"abc1trued||xy|12.5falsenull|say\n"


@spec("output.print.types")
def test_nesting_up_to_100_levels(server):
    """output.print.types: nesting "to any depth up to 100": an argument that is 100 tables
    deep prints its innermost string."""
    script = ('local t = {"deep"}\n'
              'for i = 2, 100 do t = {t} end\n'
              'local n, e = ngx.print(t)\n'
              'ngx.print("|", n, " ", e)\n')
    assert run(server, script) == b"deep|4 ok"


@spec("output.print.types")
def test_print_writes_no_separator_between_calls(server):
    """output.print.types: consecutive calls write their texts back to back."""
    assert run(server, 'for i = 1, 5 do ngx.print(i) end ngx.print({"x"}) ngx.print("")') == \
        b"12345x"


# -- output.print.badarg --------------------------------------------------------------------------
BADARG = ("bad argument #%d to '%s' (string, number, boolean, nil, ngx.null, or array table "
          "expected, got %s)")


@spec("output.print.badarg")
@pytest.mark.parametrize("fn", ["print", "say"])
@pytest.mark.parametrize("args, n, tname", [
    ('function() end', 1, "function"),
    ('"a", print', 2, "function"),
    ('"a", "b", io.stdout', 3, "userdata"),
    ('newproxy()', 1, "userdata"),
    ('"a", {"b", function() end}', 2, "function"),
])
def test_bad_argument_type(server, fn, args, n, tname):
    """output.print.badarg: "Any other argument type (function, userdata, thread, ...) MUST
    raise bad argument #N to 'print' (string, number, boolean, nil, ngx.null, or array table
    expected, got TYPE) (... 'say' for ngx.say) and write nothing of that call." The valid
    arguments before the bad one are not written either (nor say's newline); the session
    continues. (A thread cannot be made without the coroutine library.)"""
    script = ('local ok, e = pcall(function() local r = ngx.%s(%s) return r end)\n'
              'ngx.print("[", tostring(e), "]")\n' % (fn, args))
    out = run(server, script).decode()
    m = re.fullmatch(r"\[(.*)\]", out, re.S)
    assert m, out
    assert re.fullmatch(err_re(BADARG % (n, fn, tname)), m.group(1)), out


@spec("output.print.badarg")
@pytest.mark.parametrize("fn", ["print", "say"])
def test_too_deep_nesting(server, fn):
    """output.print.badarg: "a table nested deeper than 100 MUST raise ... (or table nested
    too deeply ...) and write nothing of that call." 102 levels (deeper than 100 however the
    outer table is counted) after a valid argument, and a table that contains itself."""
    script = ('local t = {"deep"}\n'
              'for i = 2, 102 do t = {t} end\n'
              'local ok, e = pcall(function() local r = ngx.%s("A", t) return r end)\n'
              'ngx.print("[", tostring(e), "]\\n")\n'
              'local c = {"c"} c[2] = c\n'
              'ok, e = pcall(function() local r = ngx.%s(c) return r end)\n'
              'ngx.print("[", tostring(e), "]\\n")\n' % (fn, fn))
    lines = run(server, script).decode().split("\n")
    assert lines[-1] == "" and len(lines) == 3, lines
    for argn, line in zip((2, 1), lines):
        m = re.fullmatch(r"\[(.*)\]", line)
        assert m, lines
        assert re.fullmatch(r"(?:\S+:\d+: )?(?:bad argument #%d to '%s' \()?"
                            r"table nested too deeply\)?" % (argn, fn), m.group(1)), lines


# -- output.say.newline ---------------------------------------------------------------------------
@spec("output.say.newline")
def test_say_appends_newline(server):
    """output.say.newline: "ngx.say(...) MUST behave as ngx.print(...) followed by "\\n"."
    Same argument rules, one newline per call, and ngx.say() alone writes "\\n"."""
    script = ('ngx.say("a", 1, nil, true, {"x", {"y"}}, ngx.null)\n'
              'ngx.say()\n'
              'ngx.say("")\n'
              'ngx.say("line\\n")\n')
    assert run(server, script) == b"a1niltruexynull\n\n\nline\n\n"


# -- output.return ---------------------------------------------------------------------------------
@spec("output.return")
def test_success_returns_bytes_and_ok(server):
    """output.return: "On success both MUST return the number of bytes of the call and the
    string "ok"." Counted in bytes (UTF-8), including say's newline and nested tables."""
    script = ('local r = {}\n'
              'local function rec(...) r[#r + 1] = table.concat({tostring(select(1, ...)), '
              'tostring(select(2, ...)), tostring(select("#", ...))}, ",") end\n'
              'rec(ngx.print("h\\195\\169llo"))\n'
              'rec(ngx.say("abc"))\n'
              'rec(ngx.print())\n'
              'rec(ngx.say())\n'
              'rec(ngx.print({"ab", {"cd"}}, 12, nil, false))\n'
              'rec(ngx.print(string.rep("x", 100000)))\n'
              'ngx.print("\\n")\n'
              'for _, v in ipairs(r) do ngx.say(v) end\n')
    out = run(server, script)
    head = b"h\xc3\xa9lloabc\n\nabcd12nilfalse" + b"x" * 100000 + b"\n"
    assert out.startswith(head), out[:200]
    assert out[len(head):].decode().splitlines() == [
        "6,ok,2", "4,ok,2", "0,ok,2", "1,ok,2", "14,ok,2", "100000,ok,2"]


@spec("output.return")
def test_print_to_closed_client_returns_closed(server):
    """output.return: "If the connection failed, they MUST return nil and an error string
    (closed when the client is gone ...)". The client resets the connection; the script
    prints (each followed by a sleep, which writes the output) until print fails, and logs
    the first failure."""
    script = (START_LUA + 'ngx.say("ready")\n'
              'local d, err = ngx.receive(1)\n'
              'for i = 1, 2000 do\n'
              '  local n, e = ngx.print("x")\n'
              '  if not n then ngx.log(ngx.ERR, "print failed: ", tostring(n), " ", tostring(e))'
              ' break end\n'
              '  ngx.sleep(0.001)\n'
              'end\n'
              'local n, e = ngx.say("y")\n'
              'ngx.log(ngx.ERR, "say after: ", tostring(n), " ", tostring(e))\n')
    srv = serve(server, script)
    c = srv.connect().start()
    assert c.recv_line() == b"ready\n"
    c.abort()
    srv.wait_log(r"say after: ")
    log = srv.error_log()
    assert re.search(r"print failed: nil closed\b", log), log
    assert re.search(r"say after: nil closed\b", log), log


@spec("output.return", "output.nodrop")
def test_print_to_non_reading_client_times_out(server):
    """output.return: "... timeout when send_timeout expired". output.nodrop: "once more than
    64 KiB is queued the print call MUST wait until the kernel takes the data, up to
    send_timeout, then return nil, "timeout"." With send_timeout 300ms and a client that
    never reads, every print returns bytes, "ok" until one returns nil, "timeout"; what the
    client then reads is an in-order prefix of the printed stream."""
    script = (START_LUA + 'local piece = string.rep("0123456789abcdef", 4096)\n'
              'for i = 1, 2048 do\n'
              '  local n, e = ngx.print(piece)\n'
              '  if n ~= 65536 or e ~= "ok" then\n'
              '    ngx.log(ngx.ERR, "print #", i, ": ", tostring(n), " ", tostring(e)) return\n'
              '  end\n'
              'end\n'
              'ngx.log(ngx.ERR, "print never failed")\n')
    srv = serve(server, script, extra="send_timeout 300ms;")
    c = srv.connect().start()
    m = srv.wait_log(r"print #(\d+): ([^\s,]+) ([^\s,]+)|print never failed")
    assert m.group(0) != "print never failed"
    assert int(m.group(1)) > 1 and (m.group(2), m.group(3)) == ("nil", "timeout"), m.group(0)
    data = c.recv_until_close()
    pattern = b"0123456789abcdef"
    whole = len(data) // 16 * 16
    assert data[:whole] == pattern * (whole // 16)
    assert pattern.startswith(data[whole:])


# -- output.flush ----------------------------------------------------------------------------------
@spec("output.flush")
def test_output_written_when_receive_waits(server):
    """output.flush: "Output MUST be written when the script next waits (receive, ...)".
    The client gets the prompt before it sends what the receive waits for."""
    srv = serve(server, START_LUA + 'ngx.print("p1") local d = ngx.receive(1) ngx.print("p2:", d)')
    c = srv.connect().start()
    assert c.recv_exactly(2) == b"p1"
    c.send(b"x")
    assert c.recv_until_close() == b"p2:x"


@spec("output.flush")
def test_output_written_when_sleeping(server):
    """output.flush: output is written when the script sleeps: it arrives during a 30 s
    sleep."""
    srv = serve(server, START_LUA + 'ngx.print("s1") ngx.sleep(30) ngx.print("never")')
    c = srv.connect().start()
    assert c.recv_exactly(2) == b"s1"
    c.expect_silence(0.2)


@spec("output.flush")
@pytest.mark.needs("wait_next_request")
def test_output_written_when_waiting_for_next_request(server):
    """output.flush: output is written when the script calls ngx.wait_next_request()."""
    srv = serve(server, START_LUA + 'ngx.print("w1") ngx.wait_next_request() ngx.print("w2", ngx.receive(1))')
    c = srv.connect().start()
    assert c.recv_exactly(2) == b"w1"
    c.send(b"!")
    assert c.recv_until_close() == b"w2!"


@spec("output.flush")
def test_output_written_on_exit(server):
    """output.flush: output is written on ngx.exit()."""
    assert run(server, 'ngx.print("e1") ngx.exit() ngx.print("e2")') == b"e1"


@spec("output.flush", "session.coroutine")
def test_concurrent_sessions_output_in_order_and_complete(server):
    """output.flush: "bytes printed by one session MUST reach the client in order and
    complete." Three sessions print 3000 numbered lines each, yielding every 7 lines; each
    client gets exactly its own lines, in order."""
    script = ('local tag = ngx.receive(1)\n'
              'for i = 1, 3000 do\n'
              '  ngx.say(tag, string.format("%05d", i))\n'
              '  if i % 7 == 0 then ngx.sleep(0) end\n'
              'end\n')
    srv = serve(server, script)
    clients = [srv.connect() for _ in range(3)]
    for tag, c in zip(b"ABC", clients):
        c.send(bytes([tag]))
    for tag, c in zip(b"ABC", clients):
        want = b"".join(b"%c%05d\n" % (tag, i) for i in range(1, 3001))
        assert c.recv_until_close() == want


# -- output.nodrop -------------------------------------------------------------------------------
NODROP = r"""
local fails = 0
for i = 1, 256 do
    local n, e = ngx.print(string.rep(string.format("%07d\n", i), 8192))
    if n ~= 65536 or e ~= "ok" then
        fails = fails + 1
        ngx.log(ngx.ERR, "print ", i, ": ", tostring(n), " ", tostring(e))
    end
end
ngx.log(ngx.ERR, "printed-all fails=", fails)
"""


def _expect_no_log(srv, text, seconds):
    """The error log does not contain `text` during `seconds` (an absence can only be
    observed over a bounded time, as Client.expect_silence does for bytes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert text not in srv.error_log(), srv.error_log()
        time.sleep(0.02)


@spec("output.nodrop", "diff.no_drop")
def test_slow_reader_gets_every_byte(server):
    """output.nodrop: "When the client reads slower than the script writes, output MUST NOT
    be dropped: once more than 64 KiB is queued the print call MUST wait until the kernel
    takes the data". 16 MiB printed in 64 KiB pieces to a client with a small receive buffer
    that does not read at first: the script cannot finish printing while the client does not
    read (far more than socket buffers hold), every print returns 65536, "ok", and the client
    receives exactly all bytes in order."""
    srv = serve(server, START_LUA + NODROP)
    c = srv.connect().start()
    _expect_no_log(srv, "printed-all", 0.3)
    got = bytearray()
    total = 256 * 65536
    while len(got) < total:
        got += c.recv_exactly(min(65536, total - len(got)))
    want = b"".join(b"%07d\n" % i * 8192 for i in range(1, 257))
    assert bytes(got) == want
    c.expect_closed()
    srv.wait_log(r"printed-all fails=\d+")
    assert "printed-all fails=0" in srv.error_log(), srv.error_log()


@spec("output.nodrop")
def test_many_small_prints_to_slow_reader(server):
    """output.nodrop: 200,000 small say calls (2.2 MB) without any other wait, read after
    the client first stays away: all lines arrive, in order."""
    srv = serve(server, START_LUA + 'for i = 1, 200000 do ngx.say(string.format("%010d", i)) end')
    c = srv.connect().start()
    time.sleep(0.3)     # provoke a full socket; nothing is asserted about time
    want = b"".join(b"%010d\n" % i for i in range(1, 200001))
    # Longer than the default deadline: the whole 2.2 MB must come within it, and an
    # implementation may legitimately need seconds for 200,000 separate say calls.
    assert c.recv_until_close(timeout=10) == want


@spec("output.nodrop", "session.coroutine")
def test_blocked_writer_does_not_block_others(server):
    """output.nodrop, session.coroutine: while one session waits in print for a client that
    does not read, another session is served."""
    script = ('if ngx.receive(1) == "b" then\n'
              '  local piece = string.rep("z", 65536)\n'
              '  for i = 1, 512 do ngx.print(piece) end\n'
              'else ngx.say("served") end\n')
    srv = serve(server, script)
    blocked = srv.connect()
    blocked.send(b"b")
    other = srv.connect()
    other.send(b"o")
    assert other.recv_until_close() == b"served\n"
    # Longer than the default deadline: all 32 MiB must come within it (a slower, e.g.
    # sanitizer-instrumented, implementation may legitimately need seconds).
    assert blocked.recv_until_close(timeout=10) == b"z" * (512 * 65536)


HALF_CLOSE_TCP = """
server {
    listen 127.0.0.1:@PORT0@ sndbuf=4k;
    protocol tcp_lua;
    process_by_lua_file conf/t.lua;
}"""


@pytest.mark.spec("output.flush")
@pytest.mark.needs("wait_next_request")
def test_half_closed_client_gets_everything(server):
    """output.flush: "bytes printed by one session MUST reach the client in order and
    complete." A client that half-closes (shutdown of its sending side, as `nc -N` does) while
    the reply is still partly queued in the server, the script waiting in wait_next_request,
    still gets every byte: the end of its input ends the session, not the session's output.
    (Small socket buffers on both sides keep most of the 60000 bytes queued in the server.)"""
    srv = server(tcp=HALF_CLOSE_TCP, files={
        "conf/t.lua": 'local d = ngx.receive(1) ngx.print(string.rep("x", 60000)) ngx.wait_next_request()'})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(DEADLINE)
    sock.connect(("127.0.0.1", srv.port))
    c = Client(sock, "half-close")
    c.send(b"x")
    first = c.recv_some()           # the server flushed part of it: it waits now, the rest queued
    c.shutdown_write()
    rest = c.recv_until_close()
    assert len(first) + len(rest) == 60000, "got %d of 60000 bytes" % (len(first) + len(rest))


STEADY_TCP = """
server {
    listen 127.0.0.1:@PORT0@ sndbuf=16k;
    protocol tcp_lua;
    send_timeout 300ms;
    process_by_lua_file conf/t.lua;
}"""


@spec("output.nodrop")
def test_send_timeout_is_between_writes(server):
    """output.nodrop: only when `send_timeout` passes without the client taking any byte
    (the time between two successive writes, as nginx) does print return nil, "timeout". A
    client that reads 16 KB every 50 ms takes 400 KB in over a second, four times send_timeout
    (300ms), yet never leaves the server waiting 300 ms: the print succeeds."""
    srv = server(tcp=STEADY_TCP, files={"conf/t.lua": START_LUA + 'local n, e = ngx.print(string.rep("y", 400000)) '
                                                      'ngx.log(ngx.ERR, "print ", tostring(n), " ", tostring(e))'})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    sock.settimeout(DEADLINE)
    sock.connect(("127.0.0.1", srv.port))
    sock.sendall(START)
    got = 0
    started = time.monotonic()
    while got < 400000:
        time.sleep(0.05)
        chunk = sock.recv(16384)
        if not chunk:
            break
        got += len(chunk)
    sock.close()
    assert got == 400000, "got %d of 400000 bytes" % got
    assert time.monotonic() - started > 0.6, "the client read faster than planned; the case proves nothing"
    srv.wait_log(r"print 400000 ok")
