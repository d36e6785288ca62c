"""SPEC.md §6.3 Session control: ngx.exit, ngx.sleep, ngx.wait_next_request, ngx.start_time.

Scripts run from conf/t.lua. Ordering between sessions is judged by events (one client's
answer arrives while another's has not), never by measuring how long something took; the
only durations asserted are lower bounds read from the server's own clock (a sleep of 0.3 s
lasts at least 0.29 s).
"""
import re
import select

import pytest

from tcplua_harness.cases import serve, start_session

spec = pytest.mark.spec


def pending(client):
    """True if bytes (or a close) are already waiting on the client's socket, without
    waiting at all."""
    if client.buf or client.eof:
        return True
    readable, _, _ = select.select([client.sock], [], [], 0)
    return bool(readable)


# -- exit.now --------------------------------------------------------------------------------------
@spec("exit.now", "session.end.exit")
def test_exit_does_not_return(server):
    """exit.now: "ngx.exit() MUST not return ([session.end.exit])." The statement after it
    (a say and a log line) never runs; the output before it is delivered, then the close."""
    srv = serve(server, 'ngx.say("one")\nngx.exit()\nngx.say("two")\n'
                        'ngx.log(ngx.ERR, "after-exit-marker")')
    c = start_session(srv)
    assert c.recv_until_close() == b"one\n"
    assert "after-exit-marker" not in srv.error_log()


@spec("exit.now")
def test_exit_inside_pcall_does_not_return(server):
    """exit.now: ngx.exit() called inside pcall (and inside a nested function) does not
    return to the pcall either: neither the code after the call in the function nor the code
    after the pcall runs."""
    script = ('ngx.say("start")\n'
              'local function inner() ngx.exit() ngx.say("inner after") end\n'
              'local ok, e = pcall(function() inner() ngx.say("fn after") end)\n'
              'ngx.say("pcall returned ", tostring(ok), " ", tostring(e))\n'
              'ngx.log(ngx.ERR, "after-exit-marker")\n')
    srv = serve(server, script)
    c = start_session(srv)
    assert c.recv_until_close() == b"start\n"
    assert "after-exit-marker" not in srv.error_log()


@spec("exit.now")
@pytest.mark.parametrize("call", ["ngx.exit(0)", "ngx.exit(ngx.OK)", "ngx.exit(ngx.ERROR)"])
def test_exit_with_status_argument(server, call):
    """exit.now: ngx.exit with a status argument (as in ngx_lua) also ends the session at
    once."""
    srv = serve(server, 'ngx.print("before") %s ngx.print("after")' % call)
    assert start_session(srv).recv_until_close() == b"before"


@spec("exit.now", "session.end.exit")
def test_exit_delivers_large_output(server):
    """exit.now: output printed before ngx.exit() is delivered whole (600 KB) before the
    close."""
    # The script reads the first bytes: a close with unread input could be a reset that
    # drops output still queued.
    srv = serve(server, 'ngx.receive(1)\n'
                        'for i = 1, 20000 do ngx.print(string.format("%029d\\n", i)) end\n'
                        'ngx.exit() ngx.print("never")')
    want = b"".join(b"%029d\n" % i for i in range(1, 20001))
    assert start_session(srv).recv_until_close(timeout=10) == want


# -- sleep.ms --------------------------------------------------------------------------------------
@spec("sleep.ms", "session.coroutine")
def test_sleep_does_not_block_other_sessions(server):
    """sleep.ms: "ngx.sleep(seconds) MUST suspend the script for the given number of seconds
    (millisecond resolution) without blocking other sessions". Session A sleeps 0.5 s; B,
    connected after A started sleeping, is answered while A still has not; then A wakes and
    its clock shows at least 0.49 s passed."""
    script = ('local who = ngx.receive(1)\n'
              'if who == "A" then\n'
              '  ngx.say("A sleeping")\n'
              '  local t0 = ngx.now()\n'
              '  ngx.sleep(0.5)\n'
              '  ngx.say("A woke ", string.format("%.3f", ngx.now() - t0))\n'
              'else ngx.say("B answered") end\n')
    srv = serve(server, script)
    a = srv.connect()
    a.send(b"A")
    assert a.recv_line() == b"A sleeping\n"
    b = srv.connect()
    b.send(b"B")
    assert b.recv_until_close() == b"B answered\n"
    assert not pending(a), "A answered before B: the sleep blocked the worker or ended early"
    line = a.recv_line(timeout=5)
    m = re.fullmatch(rb"A woke (\d+\.\d+)\n", line)
    assert m, line
    assert 0.49 <= float(m.group(1)) < 5, line
    a.expect_closed()


@spec("sleep.ms")
@pytest.mark.parametrize("seconds", ["0.3", "0.05", "0.001"])
def test_sleep_lasts_at_least_the_duration(server, seconds):
    """sleep.ms: a sleep lasts at least the given time (millisecond resolution), measured
    with the server's clock, which is refreshed when the script resumes."""
    script = ('local t0 = ngx.now() ngx.sleep(%s)\n'
              'ngx.say(string.format("%%.3f", ngx.now() - t0))' % seconds)
    srv = serve(server, script)
    elapsed = float(start_session(srv).recv_until_close(timeout=5))
    assert float(seconds) - 0.001 <= elapsed < 5, elapsed


@spec("sleep.ms")
def test_sleep_counts_from_the_call(server):
    """sleep.ms: the sleep counts from the call, not from when the worker last woke: the
    script first keeps the CPU for 100 ms (the worker's event loop does not run), refreshes
    its clock, sleeps 50 ms, and the clock has moved on by at least 50 ms."""
    script = ('ngx.update_time() local t = ngx.now()\n'
              'repeat ngx.update_time() until ngx.now() - t >= 0.1\n'
              'local t0 = ngx.now() ngx.sleep(0.05)\n'
              'ngx.say(string.format("%.3f", ngx.now() - t0))')
    srv = serve(server, script)
    elapsed = float(start_session(srv).recv_until_close(timeout=5))
    assert 0.05 <= elapsed < 5, elapsed


@spec("sleep.ms")
def test_sleep_zero_yields(server):
    """sleep.ms: "ngx.sleep(0) MUST yield once and return." Session A loops on
    ngx.sleep(0) until a flag in a table shared through init_by_lua is set; the flag is set
    by session B, which can only run if sleep(0) yields. A then reports it looped."""
    script = ('local who = ngx.receive(1)\n'
              'if who == "A" then\n'
              '  ngx.say("A spinning")\n'
              '  local n, t0 = 0, os.clock()\n'
              # bounded (4 s of CPU) so that where sleep(0) does not yield the case fails
              # cleanly instead of leaving a worker that cannot be stopped
              '  while not SHARED.go and os.clock() - t0 < 4 do ngx.sleep(0) n = n + 1 end\n'
              '  ngx.say("A saw go after ", n > 0 and "some" or "no", " sleeps")\n'
              'else SHARED.go = true ngx.say("B set go") end\n')
    srv = serve(server, script, tcp_extra="init_by_lua 'SHARED = {}';")
    a = srv.connect()
    a.send(b"A")
    assert a.recv_line() == b"A spinning\n"
    b = srv.connect()
    b.send(b"B")
    assert b.recv_until_close() == b"B set go\n"
    assert a.recv_until_close() == b"A saw go after some sleeps\n"


@spec("sleep.ms")
def test_sleep_zero_returns(server):
    """sleep.ms: ngx.sleep(0) returns to the script, which continues; 100 of them in a row
    complete."""
    srv = serve(server, 'for i = 1, 100 do ngx.sleep(0) end ngx.say("done")')
    assert start_session(srv).recv_until_close() == b"done\n"


@spec("sleep.ms")
def test_sleeps_wake_in_order_of_duration(server):
    """sleep.ms: three sessions sleeping 0.6, 0.1 and 0.35 s wake in the order of their
    durations, not of their start: each logs when it wakes."""
    script = ('local d = ngx.receive(4)\n'
              'ngx.say("sleeping") ngx.sleep(tonumber(d))\n'
              'ngx.log(ngx.ERR, "woke ", d)')
    srv = serve(server, script)
    clients = []
    for d in (b"0.60", b"0.10", b"0.35"):
        c = srv.connect()
        c.send(d)
        assert c.recv_line() == b"sleeping\n"
        clients.append(c)
    for c in clients:
        c.expect_closed(timeout=5)
    woke = re.findall(r"woke (\d\.\d\d)", srv.error_log())
    assert woke == ["0.10", "0.35", "0.60"], woke


# -- sleep.badarg ----------------------------------------------------------------------------------
@spec("sleep.badarg")
@pytest.mark.parametrize("arg", ["-1", "-0.001", "0/0", "-1/0"])
def test_sleep_bad_number(server, arg):
    """sleep.badarg: "A negative, NaN or non-number argument MUST raise bad argument #1 to
    'sleep' (invalid sleep duration)". The session continues after the pcall."""
    script = ('local ok, e = pcall(function() ngx.sleep(%s) end)\n'
              'ngx.say(tostring(ok)) ngx.say(tostring(e)) ngx.say("continues")' % arg)
    srv = serve(server, script)
    lines = start_session(srv).recv_until_close().decode().splitlines()
    assert lines[0] == "false" and lines[2] == "continues", lines
    assert re.fullmatch(r"(?:\S+:\d+: )?bad argument #1 to 'sleep' \(invalid sleep duration\)",
                        lines[1]), lines


@spec("sleep.badarg")
@pytest.mark.parametrize("arg", ["'abc'", "nil", "{}", "", "true"])
def test_sleep_non_number(server, arg):
    """sleep.badarg: a non-number argument raises "invalid sleep duration" or Lua's
    "number expected" argument error, for argument #1 of 'sleep'."""
    script = ('local ok, e = pcall(function() ngx.sleep(%s) end)\n'
              'ngx.say(tostring(ok)) ngx.say(tostring(e))' % arg)
    srv = serve(server, script)
    lines = start_session(srv).recv_until_close().decode().splitlines()
    assert lines[0] == "false", lines
    assert re.fullmatch(r"(?:\S+:\d+: )?bad argument #1 to 'sleep' "
                        r"\((?:invalid sleep duration|number expected, got [\w ]+)\)",
                        lines[1]), lines


# -- wait.return -----------------------------------------------------------------------------------
@spec("wait.return")
def test_wait_next_request_returns_nothing(server):
    """wait.return: "ngx.wait_next_request() MUST return nothing when the next request's
    bytes are available." select('#', ...) of its results is 0, both when the bytes were
    already buffered and when they arrived later."""
    script = ('ngx.receive(1)\n'
              'ngx.say(select("#", ngx.wait_next_request()))\n'
              'ngx.receive(1)\n'
              'ngx.say(select("#", ngx.wait_next_request()))\n'
              'ngx.say(ngx.receive(1))\n')
    srv = serve(server, script)
    c = srv.connect()
    c.send(b"ab")                 # "b" is buffered when the first wait is called
    assert c.recv_line() == b"0\n"
    c.expect_silence(0.2)         # the second wait idles: nothing is buffered
    c.send(b"c")
    assert c.recv_until_close() == b"0\nc\n"


# -- start_time.light ------------------------------------------------------------------------------
START = r"""
local st1, now1 = ngx.start_time(), ngx.now()
ngx.receive(1)
ngx.sleep(0.05)
local st1b = ngx.start_time()
local before_wait = ngx.now()
ngx.wait_next_request()
local st2, now2 = ngx.start_time(), ngx.now()
ngx.say(string.format("%.3f %.3f %.3f %.3f %.3f %.3f", st1, now1, st1b, before_wait, st2, now2))
ngx.say(string.format("%.6f %.6f", st1, st2))
"""


def _start_times(server):
    """st1 now1 st1b before_wait st2 now2 (see START) and the 6-decimal st1 st2; the next
    request comes 0.4 s after the first, so at least 0.35 s after the wait started."""
    srv = serve(server, START)
    c = srv.connect()
    c.send(b"x")
    c.expect_silence(0.4)
    c.send(b"y")
    lines = c.recv_until_close().decode().splitlines()
    return [float(v) for v in lines[0].split()], lines[1].split(), lines


@spec("start_time.light")
def test_start_time_of_first_light_session(server):
    """start_time.light: "ngx.start_time() MUST return the time (seconds, millisecond
    fraction) at which the current light session started: the accept for the first ...".
    It equals ngx.now() read as the script starts (accept and start happen together; 1 ms
    slack), stays the same across a 0.05 s sleep, and has no digits below the millisecond;
    after wait_next_request it has moved on."""
    (st1, now1, st1b, before_wait, st2, now2), fine, lines = _start_times(server)
    assert abs(now1 - st1) <= 0.0015, lines
    assert st1b == st1, lines
    assert before_wait - st1 >= 0.049, lines
    assert st2 >= before_wait > st1, lines
    for v in fine:
        assert v.endswith("000"), lines


@spec("start_time.light")
def test_start_time_of_later_light_session_is_the_return(server):
    """start_time.light: for later light sessions start_time is "the moment
    ngx.wait_next_request() found the next request's bytes and returned (so idle time between
    requests counts in neither light session)": equal to ngx.now() read right after the
    return (1 ms slack), at least 0.29 s after ngx.now() read just before the call, since the
    next request came 0.35 s or more after the wait started."""
    (st1, now1, st1b, before_wait, st2, now2), fine, lines = _start_times(server)
    assert abs(st2 - now2) <= 0.0015, lines
    assert st2 - before_wait >= 0.29, lines


@spec("start_time.light")
def test_start_time_restarts_for_pipelined_requests(server):
    """start_time.light: when wait_next_request returns at once (the next request was
    buffered), the new light session starts then: with a 0.1 s sleep in each light session,
    each start_time is at least 0.099 s after the previous one."""
    script = ('local out = {}\n'
              'for i = 1, 3 do\n'
              '  ngx.receive(1) out[i] = ngx.start_time() ngx.sleep(0.1) ngx.wait_next_request()\n'
              'end\n'
              'ngx.say(string.format("%.3f %.3f %.3f", out[1], out[2], out[3]))')
    srv = serve(server, script)
    c = srv.connect()
    c.send(b"abcd")
    a, b, d = map(float, c.recv_until_close(timeout=5).split())
    assert b - a >= 0.099 and d - b >= 0.099, (a, b, d)


@spec("session.end.client", "wait.return")
def test_wait_after_close_already_seen_ends_session(server):
    """session.end.client: the client's close was already seen by a receive; the following
    ngx.wait_next_request() MUST end the session without resuming the script."""
    srv = serve(server, 'local d, e, p = ngx.receive(10) ngx.say(e, ":", p)\n'
                        'ngx.wait_next_request()\n'
                        'ngx.log(ngx.ERR, "resumed after close")\n')
    c = srv.connect()
    c.send(b"abc")
    c.shutdown_write()
    assert c.recv_until_close() == b"closed:abc\n"
    # A resumed script would have logged before its session ended and closed the connection.
    assert "resumed after close" not in srv.error_log()
