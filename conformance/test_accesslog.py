"""SPEC §7 access log: one line per light session, the variables, `access_log off`, the
default path and format.

An implementation may keep access-log lines in memory for a short while ([accesslog.write]),
so cases poll the file (bounded) and make their final count after stopping the server with
TERM (after which every line must be on disk).
"""
import calendar
import re
import signal
import time

import pytest

from tcplua_harness.cases import LOG_WHILE, MASTER, server_block, start_session

spec = pytest.mark.spec

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DEFAULT_RE = (r"127\.0\.0\.1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d (\d+\.\d{3}) "
              r"(\d+\.\d{3}) (\d+) (\d+) TCP")


def lines_of(srv, rel):
    return [line for line in srv.read(rel).splitlines() if line]


def wait_lines(srv, rel, count, timeout=5):
    """Poll until the file holds at least `count` lines; returns them."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    while True:
        lines = lines_of(srv, rel)
        if len(lines) >= count:
            return lines
        if time.monotonic() > deadline:
            raise AssertionError("%s has %d line(s) after %gs, expected %d:\n%s" % (
                rel, len(lines), timeout, count, "\n".join(lines[-10:])))
        time.sleep(0.02)


def stop(srv):
    """TERM and wait for a clean exit: every buffered line is written by then."""
    __tracebackhide__ = True
    srv.signal(signal.SIGTERM)
    assert srv.wait_exit(5) == 0


# -- accesslog.line ------------------------------------------------------------------------------
@spec("accesslog.line", "dir.access_log", "dir.log_format")
def test_default_path_and_format(server):
    """accesslog.line / dir.access_log: without `access_log` the log MUST be written to
    `logs/access_tcp.log` in the format `default`:
    `$remote_addr $time_iso8601 $msec $request_time $connection $connection_requests
    $protocol`; one line per light session."""
    srv = server(tcp=server_block(0, 'ngx.say("ok")'))
    for _ in range(3):
        assert start_session(srv).recv_until_close() == b"ok\n"
    lines = wait_lines(srv, "logs/access_tcp.log", 3)
    stop(srv)
    lines = lines_of(srv, "logs/access_tcp.log")
    assert len(lines) == 3, lines
    for line in lines:
        m = re.fullmatch(DEFAULT_RE, line)
        assert m, "%r does not match the default format" % line
        assert m.group(4) == "1"


LIGHT_LUA = """
ngx.receive(1)
ngx.print("hello\\n")
while true do
    ngx.wait_next_request()
    local n = tonumber(ngx.receive(1))
    ngx.print(string.rep("x", n))
end
"""


@spec("accesslog.line", "accesslog.vars")
def test_one_line_per_light_session(server):
    """accesslog.line: With `access_log` on, one line MUST be written per light session,
    when it ends (`ngx.wait_next_request()` or the end of the connection session; a
    connection that ends while idle between requests adds no line), in the chosen format.
    Five light sessions, then a close while idle: five lines."""
    srv = server(tcp='log_format f "$connection $connection_requests $bytes_sent";\n'
                     + server_block(0, lua_file="conf/t.lua", extra="access_log logs/a.log f;"),
                 files={"conf/t.lua": LIGHT_LUA})
    c = start_session(srv)
    assert c.recv_exactly(6) == b"hello\n"
    for n in (3, 0, 5, 1):
        c.send(str(n))
        if n:
            assert c.recv_exactly(n) == b"x" * n
    lines = wait_lines(srv, "logs/a.log", 4)
    c.close()            # idle in wait_next_request after the fifth session
    wait_lines(srv, "logs/a.log", 5)
    time.sleep(0.3)      # give a wrong sixth line the chance to appear before the stop
    stop(srv)
    lines = lines_of(srv, "logs/a.log")
    fields = [line.split(" ") for line in lines]
    assert len(lines) == 5, lines
    assert len({f[0] for f in fields}) == 1, "one connection, several $connection: %r" % lines
    assert [f[1] for f in fields] == ["1", "2", "3", "4", "5"], lines
    assert [f[2] for f in fields] == ["6", "3", "0", "5", "1"], lines


@spec("accesslog.line")
@pytest.mark.parametrize("code,client_closes", [
    pytest.param('ngx.print("ab")', False, id="return"),
    pytest.param('ngx.print("ab") ngx.exit(0) ngx.print("no")', False, id="exit"),
    pytest.param('ngx.print("ab") error("boom")', False, id="error"),
    pytest.param('ngx.print("ab") ngx.receive(5) ngx.print("zz")', True, id="client_close"),
])
def test_line_at_end_of_connection_session(server, code, client_closes):
    """accesslog.line: the end of the connection session ends its light session and writes
    its line: when the script returns, calls ngx.exit, fails with a Lua error, or the client
    closes while the script reads."""
    srv = server(tcp='log_format f "$connection_requests $bytes_sent";\n'
                     + server_block(0, code, "access_log logs/a.log f;"))
    c = start_session(srv)
    if client_closes:
        assert c.recv_exactly(2) == b"ab"
        c.close()
    else:
        assert c.recv_until_close() == b"ab"
    wait_lines(srv, "logs/a.log", 1)
    stop(srv)
    lines = lines_of(srv, "logs/a.log")
    assert len(lines) == 1, lines
    assert lines[0].split(" ")[0] == "1", lines
    if not client_closes:
        assert lines[0] == "1 2"


@spec("accesslog.line")
def test_lines_from_several_workers(server):
    """accesslog.line: with two workers writing one access log, every light session still
    gives exactly one whole line."""
    srv = server(tcp=server_block(0, 'ngx.say("ok")', "access_log logs/a.log;"), main=MASTER)
    clients = []
    for _ in range(8):
        clients = [start_session(srv) for _ in range(5)]
        for c in clients:
            assert c.recv_until_close() == b"ok\n"
            c.close()
    wait_lines(srv, "logs/a.log", 40)
    stop(srv)
    lines = lines_of(srv, "logs/a.log")
    assert len(lines) == 40, "40 sessions, %d lines" % len(lines)
    bad = [line for line in lines if not re.fullmatch(DEFAULT_RE, line)]
    assert not bad, "malformed lines: %r" % bad[:5]


@spec("dir.log_format", "accesslog.line")
def test_format_strings_are_joined(server):
    """dir.log_format: `log_format name string ...` MUST join its strings without
    separator."""
    srv = server(tcp="log_format j '[$remote_addr] ' \"<$protocol>\" '$connection_requests';\n"
                     + server_block(0, 'ngx.say("ok")', "access_log logs/a.log j;"))
    assert start_session(srv).recv_until_close() == b"ok\n"
    assert wait_lines(srv, "logs/a.log", 1) == ["[127.0.0.1] <TCP>1"]


# -- accesslog.vars ------------------------------------------------------------------------------
VARS_FORMAT = ("log_format all '$remote_addr|$time_local|$time_iso8601|$msec|$request_time|"
               "$connection|$connection_requests|$bytes_sent|$protocol|$foo|';\n")
VARS_LUA = """
ngx.receive(1)
ngx.log(ngx.ERR, "conn mark")
ngx.sleep(0.2)
ngx.print("hello\\n")
ngx.wait_next_request()
ngx.receive(1)
ngx.sleep(0.3)
ngx.print("0123456789")
ngx.wait_next_request()
ngx.receive(1)
"""


def _local_epoch(text, pattern, offset_re):
    """Seconds since the epoch of a local time with a numeric UTC offset."""
    m = re.fullmatch(pattern, text)
    assert m, "%r does not match %s" % (text, pattern)
    parts = m.groupdict()
    month = MONTHS.index(parts["mon"]) + 1 if "mon" in parts else int(parts["mo"])
    utc = calendar.timegm((int(parts["y"]), month, int(parts["d"]), int(parts["h"]),
                           int(parts["mi"]), int(parts["s"]), 0, 0, 0))
    off = re.fullmatch(offset_re, parts["off"])
    seconds = (int(off.group(2)) * 60 + int(off.group(3))) * 60
    return utc - (seconds if off.group(1) == "+" else -seconds), parts["off"]


@spec("accesslog.vars")
@pytest.mark.parametrize("tz,local_off,iso_off", [
    ("XST-5:30", "+0530", "+05:30"),
    ("XST+3", "-0300", "-03:00"),
])
def test_variables(server, monkeypatch, tz, local_off, iso_off):
    """accesslog.vars: The variables MUST be: `$remote_addr` (client IP), `$time_local`
    (`18/Nov/2010:19:27:35 +0800`), `$time_iso8601` (`2010-11-18T19:27:35+08:00`), `$msec`
    (seconds with millisecond fraction, 3 decimals), `$request_time` (seconds since the light
    session started, 3 decimals), `$connection` (connection number), `$connection_requests`
    (1 for the first light session of a connection, then 2, ...), `$bytes_sent` (bytes printed
    in the light session), `$protocol` (`TCP`). An unknown `$name` is written as is.
    (Local time: the zone of the server's TZ.)"""
    monkeypatch.setenv("TZ", tz)
    srv = server(tcp=VARS_FORMAT + server_block(0, lua_file="conf/t.lua",
                                                extra="access_log logs/a.log all;"),
                 files={"conf/t.lua": VARS_LUA})
    before = time.time()
    c = start_session(srv)
    assert c.recv_exactly(6) == b"hello\n"
    time.sleep(1.0)     # idle between requests: counts in no light session (start_time.light)
    c.send("a")
    assert c.recv_exactly(10) == b"0123456789"
    c.send("b")
    assert c.recv_until_close() == b""
    wait_lines(srv, "logs/a.log", 3)
    after = time.time()
    mark = srv.wait_log(r"\*(\d+) \[lua\] .*conn mark%s, client: " % LOG_WHILE)
    stop(srv)
    lines = lines_of(srv, "logs/a.log")
    assert len(lines) == 3, lines
    rows = [line.split("|") for line in lines]
    for row in rows:
        assert len(row) == 11 and row[10] == "", row
    assert [r[0] for r in rows] == ["127.0.0.1"] * 3
    msecs = []
    for r in rows:
        assert re.fullmatch(r"\d+\.\d{3}", r[3]), "$msec %r" % r[3]
        msec = float(r[3])
        assert before - 1 <= msec <= after + 1, "$msec %s not between %.3f and %.3f" % (
            r[3], before, after)
        msecs.append(msec)
        local, off = _local_epoch(
            r[1], r"(?P<d>\d\d)/(?P<mon>[A-Z][a-z]{2})/(?P<y>\d{4}):(?P<h>\d\d):(?P<mi>\d\d):"
                  r"(?P<s>\d\d) (?P<off>[+-]\d{4})", r"([+-])(\d\d)(\d\d)")
        assert off == local_off, "$time_local %r: expected offset %s (TZ=%s)" % (
            r[1], local_off, tz)
        assert abs(local - msec) <= 1, "$time_local %r is not $msec %s" % (r[1], r[3])
        iso, off = _local_epoch(
            r[2], r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)T(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
                  r"(?P<off>[+-]\d\d:\d\d)", r"([+-])(\d\d):(\d\d)")
        assert off == iso_off, "$time_iso8601 %r: expected offset %s (TZ=%s)" % (
            r[2], iso_off, tz)
        assert abs(iso - msec) <= 1, "$time_iso8601 %r is not $msec %s" % (r[2], r[3])
    assert msecs == sorted(msecs)
    times = []
    for r in rows:
        assert re.fullmatch(r"\d+\.\d{3}", r[4]), "$request_time %r" % r[4]
        times.append(float(r[4]))
    assert 0.19 <= times[0] < 3, "session 1 slept 0.2 s: $request_time %s" % rows[0][4]
    assert 0.29 <= times[1] < 1.0, ("session 2 slept 0.3 s after its request; the 1 s idle "
                                    "before it must not count: %s" % rows[1][4])
    assert 0 <= times[2] < 3
    assert {r[5] for r in rows} == {mark.group(1)}, (
        "$connection %r, the error log says *%s" % ([r[5] for r in rows], mark.group(1)))
    assert [r[6] for r in rows] == ["1", "2", "3"]
    assert [r[7] for r in rows] == ["6", "10", "0"]
    assert [r[8] for r in rows] == ["TCP"] * 3
    assert [r[9] for r in rows] == ["$foo"] * 3


@spec("accesslog.vars")
def test_connection_differs_between_connections(server):
    """accesslog.vars: `$connection` is the connection number: two connections of one
    process have different numbers; each starts at `$connection_requests` 1."""
    srv = server(tcp='log_format f "$connection $connection_requests";\n'
                     + server_block(0, 'ngx.say("ok")', "access_log logs/a.log f;"))
    for _ in range(2):
        assert start_session(srv).recv_until_close() == b"ok\n"
    lines = wait_lines(srv, "logs/a.log", 2)
    (a, ra), (b, rb) = (line.split(" ") for line in lines)
    assert a != b and ra == rb == "1", lines


# -- accesslog.off -------------------------------------------------------------------------------
@spec("accesslog.off", "dir.access_log")
def test_off_at_tcp_level(server):
    """accesslog.off: `access_log off` MUST write no access log for that level: with `off`
    in the tcp block, a server without its own `access_log` writes none; a server with one
    writes to its own file."""
    srv = server(tcp='log_format f "$bytes_sent";\naccess_log off;\n'
                     + server_block(0, 'ngx.print("aaa")')
                     + server_block(1, 'ngx.print("bbbbb")', "access_log logs/b.log f;"))
    assert start_session(srv, 0).recv_until_close() == b"aaa"
    assert start_session(srv, 1).recv_until_close() == b"bbbbb"
    assert start_session(srv, 0).recv_until_close() == b"aaa"
    wait_lines(srv, "logs/b.log", 1)
    stop(srv)
    assert lines_of(srv, "logs/b.log") == ["5"]
    assert lines_of(srv, "logs/access_tcp.log") == []


@spec("accesslog.off", "conf.merge")
def test_off_at_server_level(server):
    """accesslog.off: `access_log off` in a server MUST write no access log for that server,
    while another server keeps the tcp block's `access_log`."""
    srv = server(tcp='log_format f "$bytes_sent";\naccess_log logs/t.log f;\n'
                     + server_block(0, 'ngx.print("aaa")', "access_log off;")
                     + server_block(1, 'ngx.print("bbbbb")'))
    assert start_session(srv, 0).recv_until_close() == b"aaa"
    assert start_session(srv, 1).recv_until_close() == b"bbbbb"
    assert start_session(srv, 0).recv_until_close() == b"aaa"
    wait_lines(srv, "logs/t.log", 1)
    stop(srv)
    assert lines_of(srv, "logs/t.log") == ["5"]
    assert lines_of(srv, "logs/access_tcp.log") == []


# -- accesslog.abort -----------------------------------------------------------------------------
SLEEPER = 'ngx.print("ab") ngx.sleep(3600) ngx.print("never")'


@spec("accesslog.abort", "session.client_abort.on")
def test_line_when_client_aborts_a_sleep(server):
    """accesslog.abort: a light session that ends because the client went away while the
    script slept (`lua_check_client_abort on`) MUST still write its line."""
    srv = server(tcp='log_format f "$connection_requests $bytes_sent";\n'
                     + server_block(0, SLEEPER, "access_log logs/a.log f;\n"
                                                "        lua_check_client_abort on;"))
    c = start_session(srv)
    assert c.recv_exactly(2) == b"ab"
    c.close()
    assert wait_lines(srv, "logs/a.log", 1) == ["1 2"]
    stop(srv)
    assert lines_of(srv, "logs/a.log") == ["1 2"]


@spec("accesslog.abort", "proc.signal.term")
@pytest.mark.parametrize("how", [
    "term", pytest.param("quit", marks=pytest.mark.needs("directive.worker_shutdown_timeout"))])
def test_line_when_the_worker_stops(server, how):
    """accesslog.abort: a light session that ends because the worker stopped (TERM, or QUIT
    once worker_shutdown_timeout expired) while the script waited MUST still write its line;
    a connection idle between requests adds none."""
    srv = server(tcp='log_format f "$connection_requests $bytes_sent";\n'
                     + server_block(0, SLEEPER, "access_log logs/a.log f;")
                     + server_block(1, 'ngx.receive(1) ngx.print("i") ngx.wait_next_request()',
                                    "access_log logs/idle.log f;"),
                 main="worker_shutdown_timeout 200ms;\n" if how == "quit" else "")
    c = start_session(srv)
    idle = start_session(srv, 1)
    assert c.recv_exactly(2) == b"ab"
    assert idle.recv_exactly(1) == b"i"
    assert wait_lines(srv, "logs/idle.log", 1) == ["1 1"]
    srv.signal(signal.SIGTERM if how == "term" else signal.SIGQUIT)
    assert srv.wait_exit(5) == 0
    assert lines_of(srv, "logs/a.log") == ["1 2"]
    assert lines_of(srv, "logs/idle.log") == ["1 1"]


# -- accesslog.write -----------------------------------------------------------------------------
@spec("accesslog.write")
def test_lines_reach_the_file_without_further_traffic(server):
    """accesslog.write: each line MUST reach the file without further traffic and without a
    stop: one short session, then nothing; the line appears while the server keeps running."""
    srv = server(tcp=server_block(0, 'ngx.print("x")', "access_log logs/a.log;"))
    assert start_session(srv).recv_until_close() == b"x"
    assert len(wait_lines(srv, "logs/a.log", 1)) == 1
    assert srv.proc.poll() is None, "the line was written only because the server exited"


@spec("accesslog.write")
def test_lines_reach_the_file_while_the_worker_is_busy(server):
    """accesslog.write: lines MUST reach the file while other connections keep the worker
    busy: a client keeps one connection in a tight request loop; the lines of its earlier
    light sessions appear in the file before the load stops."""
    srv = server(tcp='log_format f "$connection_requests";\n'
                     + server_block(0, 'while true do local d = ngx.receive(1) if not d then return end '
                                       'ngx.print(d) ngx.wait_next_request() end',
                                    "access_log logs/a.log f;"))
    c = srv.connect()
    deadline = time.monotonic() + 5
    seen = []
    while time.monotonic() < deadline and not seen:
        for _ in range(50):
            c.send(b"p")
            assert c.recv_exactly(1) == b"p"
        seen = lines_of(srv, "logs/a.log")
    assert seen, "no access-log line reached the file during 5 s of continuous requests"
    c.close()
