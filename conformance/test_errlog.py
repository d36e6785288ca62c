"""SPEC §7 error log: line format, level filtering, and server/tcp-level error_log files.

Lines are produced by scripts (`ngx.log`, in sessions and in init_by_lua) and by the
implementation itself (`access forbidden by rule`), and read back from the log files.

The ngx.log messages these cases write are only vehicles (their [lua] SOURCE:LINE: form is
log.call's): a subsystem word before [lua] (stream-lua's `stream [lua]`) is allowed.
"""
import re
import time

import pytest

from tcplua_harness.cases import LOG_WHILE, LUA_PID, MODES, SINGLE, server_block, start_session
from tcplua_harness.procs import children

spec = pytest.mark.spec

DATE = r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)"
LEVELS = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]
LUA_LEVELS = ["EMERG", "ALERT", "CRIT", "ERR", "WARN", "NOTICE", "INFO", "DEBUG"]


def lines_with(text, needle):
    return [line for line in text.splitlines() if needle in line]


def check_local_time(stamp):
    """The line's time is the local time now (a few seconds of slack)."""
    __tracebackhide__ = True
    then = time.mktime(time.strptime(stamp, "%Y/%m/%d %H:%M:%S"))
    assert abs(then - time.time()) < 5, "line time %s is not the local time now (%s)" % (
        stamp, time.strftime("%Y/%m/%d %H:%M:%S"))


# -- errlog.format --------------------------------------------------------------------------------
@spec("errlog.format")
@pytest.mark.parametrize("mode", MODES)
def test_connection_line_format(server, mode):
    """errlog.format: Each error-log line MUST have the form
    `YYYY/MM/DD HH:MM:SS [LEVEL] PID#TID: MESSAGE`, with `*N ` (the connection number) before
    the message and `, client: ADDR, server: ADDR:PORT` after it for lines about a
    connection. (PID: the process that wrote it, here the one serving the session.)"""
    srv = server(tcp=server_block(
        0, 'local pid = %s ngx.log(ngx.ERR, "probe from ", pid) ngx.say(pid)' % LUA_PID),
        main=mode)
    pids = []
    for _ in range(3):
        pid = int(start_session(srv).recv_until_close())
        if mode == SINGLE:
            assert pid == srv.pid
        else:
            assert pid in children(srv.pid)
        pids.append(pid)
    line_re = (r"^%s \[error\] (\d+)#\d+: \*(\d+) (?:\w+ )?\[lua\] .*probe from (\d+)%s, client: "
               r"127\.0\.0\.1, server: 127\.0\.0\.1:%d$" % (DATE, LOG_WHILE, srv.port))
    srv.wait_log(r"probe from %d\b" % pids[-1])
    lines = lines_with(srv.error_log(), "probe from")
    assert len(lines) == 3, lines
    numbers = set()
    for line, pid in zip(lines, pids):
        m = re.fullmatch(line_re, line)
        assert m, "line %r does not match %r" % (line, line_re)
        check_local_time(m.group(1))
        assert int(m.group(2)) == int(m.group(4)) == pid, (
            "line written by PID %s, session served by %d" % (m.group(2), pid))
        numbers.add((pid, int(m.group(3))))
    # Distinct per process (whether numbers are unique across workers is not specified).
    assert len(numbers) == 3, "three connections got the (pid, number) pairs %r" % sorted(numbers)


@spec("errlog.format")
@pytest.mark.needs("init_log")
def test_line_outside_connections(server):
    """errlog.format: a line not about a connection (here ngx.log in init_by_lua) has the
    form `YYYY/MM/DD HH:MM:SS [LEVEL] PID#TID: MESSAGE`, without `*N ` and without
    `, client: ...`."""
    srv = server(tcp="init_by_lua 'ngx.log(ngx.WARN, \"from init\")';\n" + server_block(
        0, 'ngx.say("ok")'))
    assert start_session(srv).recv_until_close() == b"ok\n"
    lines = lines_with(srv.error_log(), "from init")
    assert len(lines) == 1, lines
    m = re.fullmatch(r"%s \[warn\] %d#\d+: (?:\w+ )?\[lua\] \S.*from init" % (DATE, srv.pid), lines[0])
    assert m, "line %r is not `DATE TIME [warn] PID#TID: MESSAGE` (PID %d)" % (lines[0], srv.pid)
    assert ", client:" not in lines[0] and ", server:" not in lines[0]
    check_local_time(m.group(1))


@spec("errlog.format")
def test_level_names(server, adapter):
    """errlog.format: LEVEL is the level's name: emerg, alert, crit, error, warn, notice,
    info, debug."""
    code = " ".join('ngx.log(ngx.%s, "lvl %s")' % (n, n) for n in LUA_LEVELS) + ' ngx.say("ok")'
    srv = server(tcp=server_block(0, code), main="error_log %s debug;\n" % adapter.error_log_name)
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_log("lvl DEBUG")
    for name, lua in zip(LEVELS, LUA_LEVELS):
        srv.wait_log(r"^%s \[%s\] \d+#\d+: \*\d+ (?:\w+ )?\[lua\] .*lvl %s%s, client: " % (
            DATE, name, lua, LOG_WHILE), timeout=1)


# -- errlog.level ---------------------------------------------------------------------------------
def _levels_code():
    # Least severe first: once the emerg line is in the file, every other one would be too.
    return " ".join('ngx.log(ngx.%s, "at %s")' % (n, n) for n in reversed(LUA_LEVELS)) + \
        ' ngx.say("ok")'


@spec("errlog.level", "dir.error_log")
@pytest.mark.parametrize("directive,threshold", [
    ("error_log LOG debug;", "debug"),
    ("error_log LOG info;", "info"),
    ("error_log LOG warn;", "warn"),
    ("error_log LOG crit;", "crit"),
    ("error_log LOG emerg;", "emerg"),
    ("error_log LOG;", "error"),                  # default level
], ids=["debug", "info", "warn", "crit", "emerg", "default"])
def test_main_level_filters(server, adapter, directive, threshold):
    """errlog.level: A line MUST be written only if its level is at or above (more severe
    than) the `error_log` level of its context. dir.error_log: the level defaults to
    `error`."""
    srv = server(tcp=server_block(0, _levels_code()),
                 main=directive.replace("LOG", adapter.error_log_name) + "\n")
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_log(r"\[emerg\] .*at EMERG")
    log = srv.error_log()
    cut = LEVELS.index(threshold)
    for i, lua in enumerate(LUA_LEVELS):
        present = bool(re.search(r"at %s\b" % lua, log))
        assert present == (i <= cut), "level %s with error_log level %s: %s" % (
            LEVELS[i], threshold, "written" if present else "missing")


@spec("errlog.level")
@pytest.mark.needs("init_log")
def test_server_level_and_main_level(server, adapter):
    """errlog.level: the level of the line's context decides: a server's `error_log ... warn`
    filters its sessions' lines, while the main `error_log` (debug) serves lines outside
    servers (init_by_lua)."""
    srv = server(
        tcp="init_by_lua 'ngx.log(ngx.INFO, \"init info\")';\n" + server_block(
            0, 'ngx.log(ngx.INFO, "session info") ngx.log(ngx.WARN, "session warn") '
               'ngx.say("ok")', "error_log logs/server.log warn;"),
        main="error_log %s debug;\n" % adapter.error_log_name)
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_file("logs/server.log", r"session warn%s, client: 127\.0\.0\.1, server: " % LOG_WHILE)
    srv.wait_log(r"\[info\] \d+#\d+: (?:\w+ )?\[lua\] .*init info")
    assert not lines_with(srv.read("logs/server.log"), "session info")
    assert not lines_with(srv.error_log(), "session info")


@spec("errlog.level")
@pytest.mark.needs("init_log")
def test_main_level_for_lines_outside_servers(server, adapter):
    """errlog.level: the main `error_log` serves lines outside servers: with
    `error_log ... notice` in main, init_by_lua's notice line is written and its info line
    is not, whatever the server's level."""
    srv = server(
        tcp="init_by_lua 'ngx.log(ngx.INFO, \"init info\") ngx.log(ngx.NOTICE, \"init notice\")';\n"
            + server_block(0, 'ngx.say("ok")', "error_log logs/server.log debug;"),
        main="error_log %s notice;\n" % adapter.error_log_name)
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_log(r"\[notice\] \d+#\d+: (?:\w+ )?\[lua\] .*init notice")
    assert not lines_with(srv.error_log(), "init info")
    assert not lines_with(srv.read("logs/server.log"), "init ")


# -- errlog.server --------------------------------------------------------------------------------
@spec("errlog.server", "dir.error_log")
def test_server_error_log_gets_its_connections(server, adapter):
    """errlog.server: `error_log` in a `server` block MUST receive the lines of that
    server's connections, scripts' and the implementation's (`access forbidden by rule`).
    dir.error_log: a server without one uses the tcp block's, which defaults to the main
    one; a server with one does not write to the main log."""
    srv = server(tcp=(
        server_block(0, 'ngx.log(ngx.ERR, "from a") ngx.say("a")', "error_log logs/a.log info;")
        + server_block(1, 'ngx.log(ngx.ERR, "from b") ngx.say("b")')
        + server_block(2, 'ngx.say("c")', "error_log logs/c.log; deny all;")),
        main="error_log %s debug;\n" % adapter.error_log_name)
    assert start_session(srv, 0).recv_until_close() == b"a\n"
    assert start_session(srv, 1).recv_until_close() == b"b\n"
    srv.connect(2).expect_closed()         # denied at accept: no script, no first bytes
    srv.wait_file("logs/a.log", r"^%s \[error\] \d+#\d+: \*\d+ (?:\w+ )?\[lua\] .*from a%s, client: "
                                r"127\.0\.0\.1, server: 127\.0\.0\.1:%d$" % (
                                    DATE, LOG_WHILE, srv.ports[0]))
    srv.wait_log(r"\[error\] .*from b%s, client: 127\.0\.0\.1, server: 127\.0\.0\.1:%d$"
                 % (LOG_WHILE, srv.ports[1]))
    srv.wait_file("logs/c.log", r"\[error\] \d+#\d+: \*\d+ access forbidden by rule%s, client: "
                                r"127\.0\.0\.1, server: 127\.0\.0\.1:%d$" % (
                                    LOG_WHILE, srv.ports[2]))
    main = srv.error_log()
    assert not lines_with(main, "from a"), "server a's line also went to the main log"
    assert not lines_with(main, "access forbidden"), "server c's line went to the main log"
    assert not lines_with(srv.read("logs/a.log"), "from b")


@spec("errlog.server")
def test_tcp_error_log_gets_its_servers(server, adapter):
    """errlog.server: `error_log` in a `tcp` block MUST receive the lines of the
    connections of its servers (those without their own)."""
    srv = server(tcp="error_log logs/tcp.log info;\n" + (
        server_block(0, 'ngx.log(ngx.INFO, "from a") ngx.say("a")')
        + server_block(1, 'ngx.log(ngx.INFO, "from b") ngx.log(ngx.ERR, "b err") ngx.say("b")',
                       "error_log logs/b.log;")),
        main="error_log %s debug;\n" % adapter.error_log_name)
    assert start_session(srv, 0).recv_until_close() == b"a\n"
    assert start_session(srv, 1).recv_until_close() == b"b\n"
    srv.wait_file("logs/tcp.log", r"\[info\] \d+#\d+: \*\d+ (?:\w+ )?\[lua\] .*from a%s, client: "
                                  r"127\.0\.0\.1, server: 127\.0\.0\.1:%d$" % (
                                      LOG_WHILE, srv.ports[0]))
    assert not lines_with(srv.error_log(), "from a")
    # b has its own log at the default level (error): its info line goes nowhere.
    srv.wait_file("logs/b.log", r"\[error\] .*b err%s, client: " % LOG_WHILE)
    assert not lines_with(srv.read("logs/b.log"), "from b")
    assert not lines_with(srv.read("logs/tcp.log"), "from b")


@spec("errlog.format")
def test_connection_numbers_unique_across_workers(server):
    """errlog.format: Connection numbers (`*N`, `$connection`) MUST be unique across all
    worker processes of one server run. Two workers each log a line per connection; the
    lines come from both workers and no `*N` appears twice."""
    lua = ("local t = os.clock() while os.clock() - t < 0.02 do end "
           "ngx.log(ngx.ERR, \"pid \", %s) ngx.say(\"ok\")" % LUA_PID)
    srv = server(tcp=server_block(0, lua.replace("'", "\\'")),
                 main="master_process on;\nworker_processes 2;\n")
    pids, numbers = set(), []
    for _ in range(30):
        clients = [start_session(srv) for _ in range(4)]
        for c in clients:
            assert c.recv_until_close() == b"ok\n"
        lines = re.findall(r"\*(\d+) (?:\w+ )?\[lua\] .*pid (\d+)%s, client:" % LOG_WHILE,
                           srv.error_log())
        numbers = [n for n, _ in lines]
        pids = {p for _, p in lines}
        if len(pids) == 2 and len(numbers) >= 16:
            break
    assert len(pids) == 2, "connections were not spread over both workers: %r" % pids
    assert len(numbers) == len(set(numbers)), "repeated connection numbers: %r" % sorted(numbers)


@spec("errlog.open_fail")
@pytest.mark.parametrize("where,text,message", [
    ("main", "error_log /nonexistent-dir/e.log;",
     'open() "/nonexistent-dir/e.log" failed (2: No such file or directory)'),
    ("server", "error_log /nonexistent-dir/s.log;",
     'open() "/nonexistent-dir/s.log" failed (2: No such file or directory)'),
    ("server", "access_log /nonexistent-dir/a.log;", '"/nonexistent-dir/a.log"'),
])
def test_unopenable_log_fails_start_up(impl, where, text, message):
    """errlog.open_fail: A log file that cannot be opened at start-up MUST make start-up
    fail with `tcplua: [emerg] open() "PATH" failed (ERRNO: TEXT)` (for error_log) or a
    message naming the path, and exit status 1."""
    main = text if where == "main" else ""
    extra = text if where == "server" else ""
    prefix = impl.prefix(main=main, tcp=server_block(0, 'ngx.say(1)', extra=extra))
    r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path))
    assert r.rc == 1, (r.rc, r.stderr)
    emerg = [l for l in r.stderr.splitlines() if "[emerg]" in l]
    assert emerg and message in emerg[0], r.stderr


# -- errlog.escape --------------------------------------------------------------------------------
# Bytes a client sends, which the script logs: a newline that would forge an [emerg] line, CR,
# an ANSI colour sequence, a NUL that would cut the message, DEL, another C0 byte, TAB, a
# literal backslash-n (written as is), UTF-8 (passes) and a tail that must survive the NUL.
HOSTILE = b"a\n2026/01/01 00:00:00 [emerg] 1#0: FORGED\r\x1b[31m\x00tail\x7f\x01\t\\n\xc3\xa9end"
HOSTILE_ESCAPED = ("a\\n2026/01/01 00:00:00 [emerg] 1#0: FORGED\\r\\x1b[31m\\x00tail\\x7f\\x01"
                   "\\t\\n\xc3\xa9end").encode("latin-1")
ESCAPE_LUA = ("ngx.receive(1) local d = ngx.receive(%d) "
              'ngx.log(ngx.ERR, "log-marker[", d, "]") print("print-marker[", d, "]") '
              'error("error-marker[" .. d .. "]")' % len(HOSTILE))


def raw_log(srv):
    return (srv.prefix / srv.adapter.error_log_name).read_bytes()


@spec("errlog.escape", "log.call")
def test_client_bytes_cannot_forge_log_lines(server):
    """errlog.escape: "Every error-log message MUST be written as exactly one line, whatever
    bytes it holds: each byte below 0x20 and DEL (0x7F) MUST be written as an escape, LF as
    `\\n`, CR as `\\r`, TAB as `\\t` and any other as `\\xHH` ...; a NUL MUST NOT end the
    message. Other bytes are written unchanged ..." ngx.log, print and error() each log the
    client's bytes: each call is one line holding the whole escaped text, no line of the log
    starts with the forged text, and no raw control byte (ESC, NUL, CR, DEL) is in the file."""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"), files={"conf/t.lua": ESCAPE_LUA})
    c = srv.connect().start()
    c.send(HOSTILE)
    c.recv_until_close()
    srv.wait_log(r"error-marker\[")
    log = raw_log(srv)
    for marker in (b"log-marker[", b"print-marker[", b"error-marker["):
        lines = [l for l in log.split(b"\n") if marker in l]
        assert len(lines) == 1, lines
        assert marker + HOSTILE_ESCAPED + b"]" in lines[0], lines[0]
    assert not [l for l in log.split(b"\n") if l.startswith(b"2026/01/01")], log
    for byte in (b"\x1b", b"\x00", b"\r", b"\x7f", b"\x01"):
        assert byte not in log, (byte, log)


@spec("errlog.escape", "session.end.error")
def test_traceback_is_one_line(server):
    """errlog.escape: error messages "and their stack tracebacks, which become one line with
    `\\n\\t` between frames": the error line holds `stack traceback:` and the frames, and no
    line of the log is a traceback's continuation (starting with a TAB or `stack traceback`)."""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"), files={"conf/t.lua": ESCAPE_LUA})
    c = srv.connect().start()
    c.send(HOSTILE)
    c.recv_until_close()
    srv.wait_log(r"error-marker\[")
    lines = [l for l in raw_log(srv).split(b"\n") if b"error-marker[" in l]
    assert len(lines) == 1 and b"stack traceback:\\n\\t" in lines[0], lines
    for line in raw_log(srv).split(b"\n"):
        assert not line.startswith((b"\t", b"stack traceback")), line

