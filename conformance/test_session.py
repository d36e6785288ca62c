"""SPEC.md §5 Sessions (and [api.context]): the life of a connection session, seen on the wire.

Each case serves a Lua chunk from conf/t.lua (process_by_lua_file) and judges it by the bytes a
client receives, by when the server closes, by error-log text, and for start-up failures by
the exit status and messages of a foreground run. Every client sends first (the 2015 module
starts a script only on the first client byte): a script that reads nothing else begins
with START_LUA, which consumes the byte Client.start() sends, except in the case of
[session.start.on_accept] itself. Where a case must prove that a script was
NOT resumed, the script logs a marker right after the call; the marker would be written before
the session ends, so once the client sees the close the marker's absence is a fact, not a
guess about timing.
"""
import ctypes
import os
import re
import socket
import time

import pytest

from tcplua_harness.cases import entries, script_tcp, serve, start_up
from tcplua_harness.client import DEADLINE, START, START_LUA

spec = pytest.mark.spec
needs = pytest.mark.needs


def server_side_closed(srv, client_port, timeout=DEADLINE):
    """Waits until the server has closed its socket of the connection from client_port,
    read from the kernel's TCP table (/proc/net/tcp): after the client's own close, the
    wire shows nothing more, but the server's socket leaves ESTABLISHED/CLOSE_WAIT only when
    the server closes it. Fails after `timeout` seconds."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    while True:
        open_states = []
        with open("/proc/net/tcp") as f:
            for row in f.read().splitlines()[1:]:
                fields = row.split()
                local, remote, state = fields[1], fields[2], fields[3]
                if (int(local.rsplit(":", 1)[1], 16) == srv.port
                        and int(remote.rsplit(":", 1)[1], 16) == client_port
                        and state in ("01", "08")):        # ESTABLISHED, CLOSE_WAIT
                    open_states.append(state)
        if not open_states:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the server still holds the connection from port %d "
                                 "(state %s) after %gs" % (client_port, open_states, timeout))
        time.sleep(0.02)


# -- session.start.on_accept ----------------------------------------------------------------------
@spec("session.start.on_accept", "diff.start_on_accept")
def test_server_speaks_first(server):
    """session.start.on_accept: "The script of process_by_lua* MUST start as soon as a
    connection is accepted, before any byte arrives (a server may speak first)." The client
    sends nothing and still gets the banner; the script's log line is written too.
    diff.start_on_accept: the 2015 module started the script only on the first bytes."""
    srv = serve(server, 'ngx.log(ngx.ERR, "started-marker") ngx.say("220 banner")\n'
                        'local d = ngx.receive(4) ngx.say("got ", d)')
    c = srv.connect()
    assert c.recv_line() == b"220 banner\n"
    srv.wait_log(r"\[error\].*started-marker")
    c.send(b"abcd")
    assert c.recv_until_close() == b"got abcd\n"


# -- session.coroutine ----------------------------------------------------------------------------
@spec("session.coroutine")
def test_waiting_receive_does_not_block_others(server):
    """session.coroutine: "Each connection MUST run its script in its own coroutine; a
    session that waits (receive, ...) MUST NOT block other sessions of the worker." A waits in
    ngx.receive while B is served completely; then A is answered."""
    srv = serve(server, START_LUA + 'ngx.say("hello") local d = ngx.receive(1) ngx.say("got ", d)')
    a = srv.connect().start()
    assert a.recv_line() == b"hello\n"
    b = srv.connect().start()
    assert b.recv_line() == b"hello\n"
    b.send(b"b")
    assert b.recv_until_close() == b"got b\n"
    a.expect_silence(0.2)
    a.send(b"a")
    assert a.recv_until_close() == b"got a\n"


@spec("session.coroutine")
def test_many_interleaved_sessions(server):
    """session.coroutine: 20 connections all wait in ngx.receive at once; each is answered
    with its own data, in the reverse order of connection."""
    srv = serve(server, START_LUA + 'ngx.say("ready") local d = ngx.receive(3) ngx.say("echo ", d)')
    clients = [srv.connect().start() for _ in range(20)]
    for c in clients:
        assert c.recv_line() == b"ready\n"
    for i, c in reversed(list(enumerate(clients))):
        c.send(b"%03d" % i)
        assert c.recv_until_close() == b"echo %03d\n" % i


# -- session.globals -------------------------------------------------------------------------------
GLOBALS = r"""
local name = ngx.receive(1)
ngx.say("before ", tostring(mark), " ", tostring(INIT))
mark = name
INIT = INIT .. "+" .. name
ngx.say("set ", mark, " ", INIT)
ngx.receive(1)
ngx.say("after ", tostring(mark), " ", INIT)
"""


@spec("session.globals")
def test_globals_are_per_session(server):
    """session.globals: "Each connection session MUST have its own global environment that
    falls back to the globals of init_by_lua* for reading; assignments to globals in one
    session MUST NOT be visible to another." Two concurrent sessions assign `mark` and
    shadow the init global INIT; neither sees the other's values, and a later session starts
    from the init globals again."""
    srv = serve(server, GLOBALS, tcp_extra="init_by_lua 'INIT = \"init\"';")
    a, b = srv.connect(), srv.connect()
    a.send(b"A")
    assert a.recv_line() == b"before nil init\n"
    assert a.recv_line() == b"set A init+A\n"
    b.send(b"B")
    assert b.recv_line() == b"before nil init\n"
    assert b.recv_line() == b"set B init+B\n"
    a.send(b".")
    assert a.recv_until_close() == b"after A init+A\n"
    b.send(b".")
    assert b.recv_until_close() == b"after B init+B\n"
    c = srv.connect()
    c.send(b"C.")
    assert c.recv_until_close() == b"before nil init\nset C init+C\nafter C init+C\n"


@spec("session.globals")
def test_function_defined_as_global_is_per_session(server):
    """session.globals: a global function defined by one session is not callable from
    another session (assignments of any type stay in the session)."""
    script = ('local r = ngx.receive(1)\n'
              'if r == "d" then\n'
              '  function helper() return "mine" end ngx.say(helper()) ngx.receive(1)\n'
              'else ngx.say(type(helper)) end\n')
    srv = serve(server, script)
    a = srv.connect()
    a.send(b"d")
    assert a.recv_line() == b"mine\n"
    b = srv.connect()
    b.send(b"x")
    assert b.recv_until_close() == b"nil\n"


# -- session.coroutine_lib -------------------------------------------------------------------------
@spec("session.coroutine_lib")
def test_coroutine_is_nil(server):
    """session.coroutine_lib: "The global coroutine MUST be nil in scripts (a script's own
    yields would break the suspension protocol)."
    """
    srv = serve(server, START_LUA + 'ngx.say(type(coroutine)) ngx.say(tostring(coroutine == nil))')
    assert srv.connect().start().recv_until_close() == b"nil\ntrue\n"


@spec("session.coroutine_lib")
def test_require_coroutine_fails(server):
    """session.coroutine_lib: `require "coroutine"` MUST fail like the require of any missing
    module (a coroutine made that way, kept in a shared table and resumed by a later session,
    would run API calls on behalf of a session that has ended)."""
    srv = serve(server, START_LUA + 'local ok, err = pcall(require, "coroutine") '
                        'ngx.say(tostring(ok), " ", tostring(err):match("module \'coroutine\' not found") and "not found" or tostring(err))')
    assert srv.connect().start().recv_until_close() == b"false not found\n"


# -- session.end.return ----------------------------------------------------------------------------
@spec("session.end.return")
def test_return_delivers_everything_then_closes(server):
    """session.end.return: "When the script returns, the implementation MUST deliver
    everything it printed, then close the connection." 300 KB printed without any wait,
    then `return`: every byte arrives, in order, then the close."""
    script = (START_LUA + 'for i = 1, 10000 do ngx.print(string.format("%029d\\n", i)) end\n'
              'do return end\n'
              'ngx.say("not reached")')
    srv = serve(server, script)
    want = b"".join(b"%029d\n" % i for i in range(1, 10001))
    assert srv.connect().start().recv_until_close() == want


@spec("session.end.return")
def test_return_after_small_prints(server):
    """session.end.return: output of several print calls with no wait in between is
    delivered whole when the chunk ends, then the connection closes."""
    srv = serve(server, START_LUA + 'ngx.print("a") ngx.print("b") ngx.say("c")')
    c = srv.connect().start()
    assert c.recv_until_close() == b"abc\n"


# -- session.end.exit ------------------------------------------------------------------------------
@spec("session.end.exit")
def test_exit_ends_session(server):
    """session.end.exit: "ngx.exit() MUST end the connection session at once: the rest of
    the script does not run, printed output is delivered, the connection is closed." A log
    line after ngx.exit() must not appear once the connection is closed."""
    srv = serve(server, START_LUA + 'ngx.say("before")\nngx.exit()\n'
                        'ngx.log(ngx.ERR, "after-exit-marker")\nngx.say("after")')
    c = srv.connect().start()
    assert c.recv_until_close() == b"before\n"
    assert "after-exit-marker" not in srv.error_log()


@spec("session.end.exit")
@needs("wait_next_request")
def test_exit_in_later_light_session(server):
    """session.end.exit: ngx.exit() in the second light session ends the connection too,
    after delivering that session's output."""
    srv = serve(server, 'local d = ngx.receive(2) ngx.say(d) ngx.wait_next_request()\n'
                        'd = ngx.receive(2) ngx.say(d) ngx.exit() ngx.say("after")')
    c = srv.connect()
    c.send(b"r1")
    assert c.recv_line() == b"r1\n"
    c.send(b"r2r3")
    assert c.recv_until_close() == b"r2\n"


# -- session.end.error -----------------------------------------------------------------------------
# Every session first says "ready" (after the start byte), so a client knows its session
# waits in ngx.receive; the first line holds it all, keeping the error on line 4.
ERROR_SCRIPT = START_LUA + r"""ngx.say("ready") local r = ngx.receive(1)
if r == "e" then
    ngx.say("dying")
    local function explode() error("boom-marker") end
    explode()
    ngx.say("unreachable")
end
ngx.say("alive ", r)
"""


@spec("session.end.error")
def test_lua_error_is_logged_and_worker_keeps_serving(server):
    """session.end.error: "A Lua error in a script MUST be logged at error level with the
    error message, a stack traceback and client: ADDR in the line; that session then ends as
    for ngx.exit() and the worker keeps serving other and new connections." A session already
    waiting before the error and a new one afterwards are both served."""
    srv = serve(server, ERROR_SCRIPT)
    waiting = srv.connect().start()
    assert waiting.recv_line() == b"ready\n"
    bad = srv.connect().start()
    assert bad.recv_line() == b"ready\n"
    bad.send(b"e")
    assert bad.recv_until_close() == b"dying\n"
    srv.wait_log(r"boom-marker")
    hits = [e for e in entries(srv.error_log()) if "boom-marker" in e]
    assert len(hits) == 1, hits
    entry = hits[0]
    assert " [error] " in entry.split("\n", 1)[0], entry
    assert "stack traceback:" in entry, entry
    assert re.search(r"t\.lua:4\b", entry), entry    # the error's position: message or trace
    assert "client: 127.0.0.1" in entry, entry
    assert "unreachable" not in srv.error_log()
    waiting.send(b"w")
    assert waiting.recv_until_close() == b"alive w\n"
    fresh = srv.connect().start()
    fresh.send(b"n")
    assert fresh.recv_until_close() == b"ready\nalive n\n"


@spec("session.end.error")
def test_yield_across_c_call_is_an_error(server):
    """session.end.error: a suspending call where the session cannot be suspended (inside a
    string.gsub callback, a C call boundary) is a Lua error like any other: output printed
    before it is delivered, the error is logged with client: 127.0.0.1, the connection ends,
    and the next connection is served."""
    script = (START_LUA + 'ngx.say("before")\n'
              'string.gsub("x", "x", function() ngx.sleep(0.01) end)\n'
              'ngx.say("unreachable")\n')
    srv = serve(server, script)
    assert srv.connect().start().recv_until_close() == b"before\n"
    m = srv.wait_log(r"\[error\] .*yield across.*")
    hits = [e for e in entries(srv.error_log()) if "yield across" in e]
    assert len(hits) == 1 and "client: 127.0.0.1" in hits[0], hits
    assert m
    assert srv.connect().start().recv_until_close() == b"before\n"


@spec("session.end.error")
@needs("wait_next_request")
def test_runtime_error_in_later_light_session(server):
    """session.end.error: a runtime error (indexing nil) after ngx.wait_next_request()
    ends the connection after delivering what was printed; the error is logged with
    client: 127.0.0.1, and the next connection is served."""
    script = ('local d = ngx.receive(1) ngx.say("one ", d) ngx.wait_next_request()\n'
              'd = ngx.receive(1) ngx.print("two ", d)\n'
              'local t = nil\n'
              'ngx.say(t.field)\n')
    srv = serve(server, script)
    c = srv.connect()
    c.send(b"a")
    assert c.recv_line() == b"one a\n"
    c.send(b"b")
    assert c.recv_until_close() == b"two b"
    srv.wait_log(r"attempt to index")
    entry = [e for e in entries(srv.error_log()) if "attempt to index" in e][0]
    assert " [error] " in entry and "stack traceback:" in entry and "client: 127.0.0.1" in entry
    c2 = srv.connect()
    c2.send(b"z")
    assert c2.recv_line() == b"one z\n"


# -- session.end.client ----------------------------------------------------------------------------
@spec("session.end.client")
@needs("wait_next_request")
def test_client_close_in_wait_next_request_does_not_resume(server):
    """session.end.client: "When the client closes while the script waits in
    ngx.wait_next_request(), the session MUST end without resuming the script." The client
    half-closes (the server reads EOF); the server then closes, and the line the script
    would log after the call is absent."""
    srv = serve(server, START_LUA + 'ngx.say("first")\nngx.wait_next_request()\n'
                        'ngx.log(ngx.ERR, "resumed-marker")\nngx.say("resumed")')
    c = srv.connect().start()
    assert c.recv_line() == b"first\n"
    c.shutdown_write()
    c.expect_closed()
    assert "resumed-marker" not in srv.error_log()


@spec("session.end.client")
@needs("wait_next_request")
@pytest.mark.parametrize("how", ["close", "reset"])
def test_client_full_close_in_wait_next_request(server, how):
    """session.end.client: a full close (FIN, or RST) while the script waits in
    ngx.wait_next_request(): the server closes its side (seen in the kernel's TCP table)
    and the line the script would log after the call is absent."""
    srv = serve(server, START_LUA + 'ngx.say("first")\nngx.wait_next_request()\n'
                        'ngx.log(ngx.ERR, "resumed-marker")\nngx.say("resumed")')
    c = srv.connect().start()
    assert c.recv_line() == b"first\n"
    port = c.sock.getsockname()[1]
    c.close() if how == "close" else c.abort()
    server_side_closed(srv, port)
    assert "resumed-marker" not in srv.error_log()


@spec("session.end.client")
@needs("wait_next_request")
def test_client_close_in_wait_after_requests(server):
    """session.end.client: in the request loop, a close while idle after two answered
    requests ends the session without a third iteration (the loop would log)."""
    script = ('while true do\n'
              '  local d, err = ngx.receive(2)\n'
              '  ngx.log(ngx.ERR, "iteration ", tostring(d), " ", tostring(err))\n'
              '  if d then ngx.say(d) end\n'
              '  ngx.wait_next_request()\n'
              'end')
    srv = serve(server, script)
    c = srv.connect()
    c.send(b"r1")
    assert c.recv_line() == b"r1\n"
    c.send(b"r2")
    assert c.recv_line() == b"r2\n"
    c.shutdown_write()
    c.expect_closed()
    log = srv.error_log()
    assert "iteration r1 nil" in log and "iteration r2 nil" in log
    assert "iteration nil" not in log, log


# -- session.light --------------------------------------------------------------------------------
LOOP = r"""
while true do
    local d = ngx.receive(4)
    ngx.say("got ", d)
    ngx.wait_next_request()
end
"""


@spec("session.light", "wait.return")
@needs("wait_next_request")
def test_wait_returns_at_once_when_buffered(server):
    """session.light: wait_next_request "return[s] as soon as request bytes are available:
    at once if some are already buffered". Two requests in one send: two answers."""
    srv = serve(server, LOOP)
    c = srv.connect()
    c.send(b"AAAABBBB")
    assert c.recv_exactly(18) == b"got AAAA\ngot BBBB\n"
    c.expect_silence(0.2)


@spec("session.light", "wait.return")
@needs("wait_next_request")
def test_wait_returns_when_data_arrives(server):
    """session.light: "... else when data arrives". The server idles silently until the
    next request, then answers it (the default keepalive_timeout, 75s, is far away)."""
    srv = serve(server, LOOP)
    c = srv.connect()
    c.send(b"AAAA")
    assert c.recv_line() == b"got AAAA\n"
    c.expect_silence(0.3)
    c.send(b"BB")
    c.expect_silence(0.1)       # half a request: the receive(4) waits for the rest
    c.send(b"BB")
    assert c.recv_line() == b"got BBBB\n"


@spec("session.light")
@needs("wait_next_request")
def test_keepalive_timeout_ends_idle_session(server):
    """session.light: "While it idles, keepalive_timeout (if non-zero) bounds the wait; when
    it fires the session ends without resuming the script." With keepalive_timeout 200ms
    the server closes the idle connection and the post-wait log line never appears."""
    srv = serve(server, START_LUA + 'ngx.say("first")\nngx.wait_next_request()\n'
                        'ngx.log(ngx.ERR, "resumed-marker")\nngx.say("resumed")',
                extra="keepalive_timeout 200ms;")
    c = srv.connect().start()
    assert c.recv_line() == b"first\n"
    c.expect_closed()
    assert "resumed-marker" not in srv.error_log()


@spec("session.light")
@needs("wait_next_request")
def test_keepalive_timeout_only_bounds_idle(server):
    """session.light: with keepalive_timeout 200ms a client that sends its next request
    promptly is served each time; the timer closes the connection only once it idles."""
    srv = serve(server, LOOP, extra="keepalive_timeout 200ms;")
    c = srv.connect()
    for i in range(5):
        c.send(b"req%d" % i)
        assert c.recv_line() == b"got req%d\n" % i
    c.expect_closed()


@spec("session.light")
@needs("wait_next_request")
def test_light_session_access_log_and_bytes_sent(server):
    """session.light: wait_next_request ends the light session: "one access log line ...
    $bytes_sent restarts". Two light sessions printing 3 and 7 bytes give the lines
    "1 3" and "2 7" ($connection_requests $bytes_sent)."""
    srv = serve(server, 'ngx.receive(1) ngx.say("ab") ngx.wait_next_request()\n'
                        'ngx.receive(1) ngx.say("abcdef") ngx.wait_next_request()\n'
                        'ngx.receive(1)',
                extra="access_log logs/light.log light;",
                tcp_extra="log_format light '$connection_requests $bytes_sent';")
    c = srv.connect()
    c.send(b"x")
    assert c.recv_line() == b"ab\n"
    c.send(b"y")
    assert c.recv_line() == b"abcdef\n"
    m = srv.wait_file("logs/light.log", r"\A1 3\n2 7\n")
    assert m


# -- session.pipelining ----------------------------------------------------------------------------
PIPE = r"""
while true do
    local d = ngx.receive(5)
    ngx.say("[", d:sub(1, 4), "]")
    ngx.wait_next_request()
end
"""


@spec("session.pipelining", "recv.buffered")
@needs("wait_next_request")
def test_three_pipelined_requests_in_one_send(server):
    """session.pipelining: "Bytes that arrive beyond what a receive returns MUST stay
    buffered, in order, for later receives of the same connection; nothing is lost between
    light sessions." Three requests in one send: three answers, in order, nothing more."""
    srv = serve(server, PIPE)
    c = srv.connect()
    c.send(b"req1\nreq2\nreq3\n")
    assert c.recv_exactly(21) == b"[req1]\n[req2]\n[req3]\n"
    c.expect_silence(0.2)


@spec("session.pipelining")
@needs("wait_next_request")
def test_pipelined_requests_split_across_sends(server):
    """session.pipelining: requests split at arbitrary points across sends (with pauses)
    are reassembled in order."""
    srv = serve(server, PIPE)
    c = srv.connect()
    c.send_chunks(b"req1\nre" b"q2\nreq3" b"\nreq4\n", [7, 7])
    assert c.recv_exactly(28) == b"[req1]\n[req2]\n[req3]\n[req4]\n"


@spec("session.pipelining")
@needs("wait_next_request")
def test_thousand_pipelined_requests(server):
    """session.pipelining: 1000 requests (5000 bytes, beyond client_max_body_size 1k) sent
    at once are all answered in order."""
    srv = serve(server, PIPE)
    c = srv.connect()
    c.send(b"".join(b"%04d\n" % i for i in range(1000)))
    want = b"".join(b"[%04d]\n" % i for i in range(1000))
    assert c.recv_exactly(len(want)) == want
    c.expect_silence(0.2)


@spec("session.pipelining")
def test_bytes_arriving_during_sleep_stay_buffered(server):
    """session.pipelining: bytes that arrive while the script sleeps (with
    lua_check_client_abort on, so the socket is watched) are kept for the next receive."""
    srv = serve(server, START_LUA + 'ngx.say("sleeping") ngx.sleep(0.5) local d = ngx.receive(6)'
                        ' ngx.say("got ", d)', extra="lua_check_client_abort on;")
    c = srv.connect().start()
    assert c.recv_line() == b"sleeping\n"
    c.send(b"abcdef")
    assert c.recv_until_close() == b"got abcdef\n"


# -- session.client_abort --------------------------------------------------------------------------
@spec("session.client_abort.on")
def test_client_abort_on_ends_sleeping_session(server):
    """session.client_abort.on: "With lua_check_client_abort on, a client close while the
    script sleeps MUST end the session promptly without resuming the script." The script
    sleeps 30 s; the server closes within a few seconds of the client's close and never
    logs the post-sleep marker."""
    srv = serve(server, START_LUA + 'ngx.say("sleeping")\nngx.sleep(30)\n'
                        'ngx.log(ngx.ERR, "resumed-marker")\nngx.say("woke")',
                extra="lua_check_client_abort on;")
    c = srv.connect().start()
    assert c.recv_line() == b"sleeping\n"
    c.shutdown_write()
    c.expect_closed()
    assert "resumed-marker" not in srv.error_log()


@spec("session.client_abort.on")
@pytest.mark.parametrize("how", ["close", "reset"])
def test_client_abort_on_full_close(server, how):
    """session.client_abort.on: after a full close (FIN, or RST) during a 30 s sleep, the
    server closes its side of the connection within seconds (seen in the kernel's TCP
    table), and the post-sleep marker never appears."""
    srv = serve(server, START_LUA + 'ngx.say("sleeping")\nngx.sleep(30)\n'
                        'ngx.log(ngx.ERR, "resumed-marker")',
                extra="lua_check_client_abort on;")
    c = srv.connect().start()
    assert c.recv_line() == b"sleeping\n"
    port = c.sock.getsockname()[1]
    c.close() if how == "close" else c.abort()
    server_side_closed(srv, port)
    assert "resumed-marker" not in srv.error_log()


@spec("session.client_abort.on")
def test_client_abort_on_data_does_not_end_sleep(server):
    """session.client_abort.on: only a close ends the session; data sent during the sleep
    does not interrupt it and stays readable afterwards."""
    srv = serve(server, START_LUA + 'ngx.say("sleeping") ngx.sleep(0.3) ngx.say("woke")'
                        ' ngx.say(ngx.receive(3))', extra="lua_check_client_abort on;")
    c = srv.connect().start()
    assert c.recv_line() == b"sleeping\n"
    c.send(b"xyz")
    assert c.recv_until_close() == b"woke\nxyz\n"


@spec("session.client_abort.off")
def test_client_abort_off_half_close(server):
    """session.client_abort.off: "With lua_check_client_abort off (the default), a client
    close while the script sleeps MUST NOT interrupt it; the next ngx.receive reports
    closed." The client half-closes during the sleep and still reads what the script says
    after waking, including the receive's result."""
    srv = serve(server, START_LUA + 'ngx.say("sleeping") ngx.sleep(0.5) ngx.say("woke")\n'
                        'local d, err, p = ngx.receive(1)\n'
                        'ngx.say(tostring(d), " ", tostring(err), " [", tostring(p), "]")')
    c = srv.connect().start()
    assert c.recv_line() == b"sleeping\n"
    c.shutdown_write()
    assert c.recv_until_close() == b"woke\nnil closed []\n"


@spec("session.client_abort.off")
def test_client_abort_off_full_close_logged(server):
    """session.client_abort.off: after a full close during the sleep the script still
    wakes, and the next ngx.receive returns nil, "closed" (reported via ngx.log since the
    client is gone)."""
    srv = serve(server, START_LUA + 'ngx.say("sleeping") ngx.sleep(0.5)\n'
                        'local d, err, p = ngx.receive(1)\n'
                        'ngx.log(ngx.ERR, "after sleep: ", tostring(d), " ", tostring(err),'
                        ' " [", tostring(p), "]")',
                extra="lua_check_client_abort off;")
    c = srv.connect().start()
    assert c.recv_line() == b"sleeping\n"
    c.close()
    srv.wait_log(r"after sleep: nil closed \[\]")


# -- session.init ----------------------------------------------------------------------------------
@spec("session.init")
@needs("init_log")
def test_init_runs_once_before_sessions(server):
    """session.init: "init_by_lua* MUST run once at start-up before any connection is
    served; globals it sets MUST be visible to every session." Two sessions read the init
    globals; the init's log line appears exactly once, before the sessions' lines."""
    srv = serve(server, START_LUA + 'ngx.log(ngx.ERR, "session-marker") ngx.say(GREETING, " ", COUNT)',
                tcp_extra="init_by_lua_file conf/init.lua;",
                files={"conf/init.lua": 'ngx.log(ngx.ERR, "init-marker")\n'
                                        'GREETING = "from-init"\nCOUNT = (COUNT or 0) + 1\n'})
    for _ in range(2):
        assert srv.connect().start().recv_until_close() == b"from-init 1\n"
    srv.wait_log(r"(?s)session-marker.*session-marker")
    log = srv.error_log()
    assert log.count("init-marker") == 1, log
    assert log.index("init-marker") < log.index("session-marker")


@spec("session.init")
@pytest.mark.parametrize("code", [
    'error("init-boom")',
    'local t = nil; t.x = 1 -- init-boom',
])
def test_init_error_fails_start_up(impl, code):
    """session.init: "An error in it MUST make start-up fail with a message containing
    init_by_lua error and exit status 1." A raised error and a runtime error."""
    rc, out = start_up(impl, "init_by_lua_file conf/init.lua;\n" + script_tcp(),
                       files={"conf/init.lua": code + "\n", "conf/t.lua": 'ngx.say("x")'})
    assert rc == 1, out
    assert "init_by_lua error" in out, out


@spec("session.init")
def test_init_syntax_error_fails_start_up(impl):
    """session.init: a syntax error in init_by_lua is an error in it: start-up fails with
    a message containing init_by_lua error and exit status 1."""
    rc, out = start_up(impl, "init_by_lua 'x = = 1';\n" + script_tcp(),
                       files={"conf/t.lua": 'ngx.say("x")'})
    assert rc == 1, out
    assert "init_by_lua error" in out, out


# -- session.load_error ----------------------------------------------------------------------------
@spec("session.load_error")
def test_process_syntax_error_inline_fails_start_up(impl):
    """session.load_error: "A syntax error in process_by_lua* code MUST make start-up fail
    with a message containing failed to load Lua code and exit status 1 (when lua_code_cache
    is on)." Inline code."""
    text = """
server {
    listen 127.0.0.1:@PORT0@;
    protocol tcp_lua;
    process_by_lua 'ngx.say("x"';
}"""
    rc, out = start_up(impl, text)
    assert rc == 1, out
    assert "failed to load Lua code" in out, out


@spec("session.load_error")
def test_process_syntax_error_file_fails_start_up(impl):
    """session.load_error: the same for process_by_lua_file."""
    rc, out = start_up(impl, script_tcp(), files={"conf/t.lua": "ngx.say('ok')\nend end\n"})
    assert rc == 1, out
    assert "failed to load Lua code" in out, out


# -- session.package_path --------------------------------------------------------------------------
def _say_paths(server, tcp_extra, files=None):
    srv = serve(server, START_LUA + 'ngx.say(package.path) ngx.say(package.cpath)',
                tcp_extra=tcp_extra, files=files)
    out = srv.connect().start().recv_until_close().decode()
    path, cpath = out.split("\n")[:2]
    return srv, path, cpath


def _norm(p):
    return re.sub(r"/+", "/", p)


@spec("session.package_path")
def test_package_path_prefix_and_default(server):
    """session.package_path: "lua_package_path and lua_package_cpath MUST set
    package.path/package.cpath, with ;; replaced by the default path and $prefix by the
    prefix, so that require finds modules there." The default paths are read from a server
    without the directives."""
    _, default_path, default_cpath = _say_paths(server, "")
    srv, path, cpath = _say_paths(server, "lua_package_path '$prefix/lua/?.lua;;';\n"
                                          "lua_package_cpath '$prefix/clib/?.so;;';")
    prefix = str(srv.prefix)
    assert "$prefix" not in path and ";;" not in path, path
    assert _norm(path).startswith(prefix + "/lua/?.lua;"), path
    assert default_path and default_path in path, (default_path, path)
    assert "$prefix" not in cpath and ";;" not in cpath, cpath
    assert _norm(cpath).startswith(prefix + "/clib/?.so;"), cpath
    assert default_cpath and default_cpath in cpath, (default_cpath, cpath)


@spec("session.package_path")
def test_require_finds_module_under_prefix(server):
    """session.package_path: with lua_package_path '$prefix/lua/?.lua;;', require finds
    $prefix/lua/mymod.lua and $prefix/lua/sub/inner.lua, from a session and from
    init_by_lua."""
    srv = serve(server,
                START_LUA + 'ngx.say(require("mymod").value, " ", INIT_VALUE)\n'
                'ngx.say(require("sub.inner").name)',
                tcp_extra="lua_package_path '$prefix/lua/?.lua;;';\n"
                          "init_by_lua 'INIT_VALUE = require(\"mymod\").value';",
                files={"lua/mymod.lua": 'return { value = "from-module" }\n',
                       "lua/sub/inner.lua": 'return { name = "inner" }\n'})
    assert srv.connect().start().recv_until_close() == b"from-module from-module\ninner\n"


# -- session.code_cache.off ------------------------------------------------------------------------
@spec("session.code_cache.off")
def test_code_cache_off_rereads_file(server):
    """session.code_cache.off: "With lua_code_cache off, a process_by_lua_file script MUST
    be read again for every new connection, and a warning logged at start-up." The file is
    rewritten between two connections; the second runs the new text. The start-up warning
    (a line mentioning lua_code_cache, at warn level or more severe) is in the error log."""
    srv = serve(server, START_LUA + 'ngx.say("version one")', extra="lua_code_cache off;")
    assert srv.connect().start().recv_until_close() == b"version one\n"
    (srv.prefix / "conf" / "t.lua").write_text(START_LUA + 'ngx.say("version two")')
    assert srv.connect().start().recv_until_close() == b"version two\n"
    (srv.prefix / "conf" / "t.lua").write_text(START_LUA + 'ngx.say("version three")')
    assert srv.connect().start().recv_until_close() == b"version three\n"
    lines = [l for l in srv.error_log().splitlines() if "lua_code_cache" in l]
    assert lines, srv.error_log()
    assert re.search(r"\[(warn|error|crit|alert|emerg)\]", lines[0]), lines


@spec("session.code_cache.off")
def test_code_cache_off_script_that_fails_to_load(server):
    """session.code_cache.off: "A script that then fails to load MUST be logged at error
    level with `failed to load Lua code` and that connection closed; the worker keeps
    serving." """
    srv = serve(server, START_LUA + 'ngx.say("fine")', extra="lua_code_cache off;")
    assert srv.connect().start().recv_until_close() == b"fine\n"
    (srv.prefix / "conf" / "t.lua").write_text('ngx.say(("broken"')
    assert srv.connect().start().recv_until_close() == b""
    srv.wait_log(r"\[error\] .*failed to load Lua code")
    (srv.prefix / "conf" / "t.lua").write_text(START_LUA + 'ngx.say("fixed")')
    assert srv.connect().start().recv_until_close() == b"fixed\n"


# -- session.load.shebang --------------------------------------------------------------------------
@spec("session.load.shebang")
def test_shebang_line_ignored_and_lines_kept(server):
    """session.load.shebang: A first line that starts with `#` MUST be ignored, with line
    numbers of the rest unchanged: the error raised on line 3 is reported as t.lua:3."""
    srv = serve(server, '#!/usr/bin/env lua\n' + START_LUA + 'ngx.say("ran")\nerror("line three")\n')
    assert srv.connect().start().recv_until_close() == b"ran\n"
    srv.wait_log(r"t\.lua:3: line three")


@spec("session.load.shebang", "session.load_error")
def test_bytecode_refused(impl):
    """session.load.shebang: precompiled bytecode MUST be refused with `bytecode is not
    supported` (start-up fails, as for any script that does not load)."""
    rc, out = start_up(impl, script_tcp(), files={"conf/t.lua": "\x1bLJ\x02\x00junk"})
    assert rc == 1, out
    assert "bytecode is not supported" in out, out


# -- session.end.return (pending output) -----------------------------------------------------------
@spec("session.end.return", "output.nodrop")
def test_output_pending_at_return_is_delivered(server):
    """session.end.return: "When the script returns, the implementation MUST deliver
    everything it printed, then close the connection": 8 MiB printed to a client that starts
    reading only once the socket buffers are full (so the script ends with output still
    queued) arrive complete and in order before the close."""
    script = (START_LUA + 'for i = 1, 128 do ngx.print(string.format("%06d", i), string.rep("x", 65530)) end\n'
              'ngx.log(ngx.ERR, "script done")\n')
    srv = serve(server, script)
    c = srv.connect().start()
    time.sleep(0.5)         # not a timing assertion: lets the kernel buffers fill up
    data = c.recv_until_close()
    srv.wait_log(r"script done")
    assert len(data) == 128 * 65536, len(data)
    for i in range(128):
        piece = data[i * 65536:(i + 1) * 65536]
        assert piece == b"%06d" % (i + 1) + b"x" * 65530, "piece %d differs" % i


@spec("session.end.return")
def test_output_queued_at_return_is_delivered_before_close(server):
    """session.end.return: "When the script returns, the implementation MUST deliver
    everything it printed, then close the connection." With a 4 KiB server send buffer and a
    client receive buffer of 4 KiB that is not read, 60000 printed bytes (below the 64 KiB at
    which print waits) are still queued when the script returns; they all arrive, in order,
    then the close."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ sndbuf=4k;
        protocol tcp_lua;
        process_by_lua_file conf/t.lua;
    }""", files={"conf/t.lua": START_LUA + 'for i = 1, 6 do ngx.print(string.rep(tostring(i), 10000)) end\n'
                               'ngx.log(ngx.ERR, "script done")\n'})
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(DEADLINE)
    s.connect(("127.0.0.1", srv.port))
    s.sendall(START)
    srv.wait_log(r"script done")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data == b"".join(str(i).encode() * 10000 for i in range(1, 7)), len(data)


# -- session.nodelay -------------------------------------------------------------------------------
def _server_socket_nodelay(pid, client):
    """TCP_NODELAY of the server's socket for this client, read through a duplicate of the
    server's descriptor (pidfd_getfd). None if the OS does not allow it."""
    if not hasattr(os, "pidfd_open"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    peer = client.sock.getsockname()
    pids = [pid]
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            pidfd = os.pidfd_open(p)
        except OSError:
            return None
        try:
            for fd in os.listdir("/proc/%d/fd" % p):
                try:
                    if not os.readlink("/proc/%d/fd/%s" % (p, fd)).startswith("socket:"):
                        continue
                except OSError:
                    continue
                dup = libc.syscall(438, pidfd, int(fd), 0)     # SYS_pidfd_getfd
                if dup < 0:
                    return None
                s = socket.socket(fileno=dup)
                try:
                    if s.family == socket.AF_INET and s.getpeername() == peer:
                        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                except OSError:
                    pass
                finally:
                    s.close()
        finally:
            os.close(pidfd)
    return None


@spec("session.nodelay", "diff.nodelay")
@pytest.mark.parametrize("extra", [
    "", pytest.param("tcp_nodelay on;", marks=needs("directive.tcp_nodelay"))])
def test_client_socket_has_nodelay(server, extra):
    """session.nodelay: "With tcp_nodelay on (the default) client sockets SHOULD have
    TCP_NODELAY set." Observed on the server's socket for this client through a duplicate
    of its descriptor (pidfd_getfd): the one property of the socket that the wire shows only
    as a timing effect."""
    srv = serve(server, START_LUA + 'ngx.say("hi") ngx.receive(1)', extra=extra)
    c = srv.connect().start()
    assert c.recv_line() == b"hi\n"
    nodelay = _server_socket_nodelay(srv.pid, c)
    if nodelay is None:
        pytest.skip("this OS does not let the suite inspect the server's socket (pidfd_getfd)")
    assert nodelay is True


# -- session.memory --------------------------------------------------------------------------------
MEMORY = r"""
local r = ngx.receive(1)
if r == "r" then
    collectgarbage("collect") collectgarbage("collect")
    ngx.say(string.format("%d", collectgarbage("count")))
    return
end
big = {}
for i = 1, 50 do big[i] = string.rep(string.char(65 + i % 26), 4096) .. i end
if r == "x" then ngx.exit() end
if r == "e" then error("planned") end
if r == "w" then ngx.say("w") ngx.wait_next_request() end
ngx.say("ok")
"""


@spec("session.memory")
@needs("wait_next_request")
def test_finished_sessions_release_resources(server):
    """session.memory: "A finished connection session MUST release its coroutine, buffers
    and socket." With worker_connections 8, 200 sessions that end by return, ngx.exit(),
    a Lua error and a client close in wait_next_request are all served (a leaked connection
    would exhaust the limit), and after a full collection the Lua heap has not grown by the
    ~40 MB the sessions' globals held (a leaked coroutine or environment would keep them)."""
    srv = serve(server, MEMORY, main="events { worker_connections 8; }")

    def ask(kind):
        c = srv.connect()
        c.send(kind)
        return c

    def reply(kind):
        # Closed once read: a client that keeps its end open after the server's EOF holds its
        # slot while the server lingers (proc.lingering_close), up to 5 s.
        with ask(kind) as c:
            return c.recv_until_close()

    base = int(reply(b"r"))
    for i in range(50):
        assert reply(b"o") == b"ok\n"
        assert reply(b"x") == b""
        assert reply(b"e") == b""
        c = ask(b"w")
        assert c.recv_line() == b"w\n"
        c.shutdown_write()
        c.expect_closed()
        c.close()
    after = int(reply(b"r"))
    assert after - base < 4096, (base, after)      # KiB


# -- api.context -----------------------------------------------------------------------------------
SESSION_ONLY = ["receive(1)", "print('x')", "say('x')", "exit()", "sleep(0)",
                "wait_next_request()", "start_time()"]


@spec("api.context")
@needs("wait_next_request", "init_log")
def test_session_functions_disabled_in_init(server):
    """api.context: "ngx.receive, ngx.print, ngx.say, ngx.exit, ngx.sleep,
    ngx.wait_next_request and ngx.start_time called from init_by_lua* MUST raise API disabled
    in the context of init_by_lua*." Each call runs under pcall in init; the session says
    what each raised. ngx.log still works there."""
    init = "ERRS = {}\n" + "".join(
        "do local ok, e = pcall(function() local r = ngx.%s return r end)"
        " ERRS[#ERRS + 1] = ok and 'no error' or tostring(e) end\n" % call
        for call in SESSION_ONLY) + "ngx.log(ngx.ERR, 'init-still-logs')\n"
    srv = serve(server, START_LUA + "for _, e in ipairs(ERRS) do ngx.say(e) end",
                tcp_extra="init_by_lua_file conf/init.lua;", files={"conf/init.lua": init})
    lines = srv.connect().start().recv_until_close().decode().splitlines()
    assert len(lines) == len(SESSION_ONLY), lines
    for call, line in zip(SESSION_ONLY, lines):
        assert re.fullmatch(r"(?:\S+:\d+: )?API disabled in the context of init_by_lua\*",
                            line), (call, line)
    assert "init-still-logs" in srv.error_log()
