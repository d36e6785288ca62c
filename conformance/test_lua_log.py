"""SPEC.md §6.4 Logging from Lua: ngx.log, the global print, the level and status constants.

Scripts run from conf/t.lua; cases read the error log (the adapter's error_log_name, level
debug unless a case sets another) and check each line's level, the `[lua] SOURCE:LINE: ` prefix with the
line number of the call, the message text, and `client: 127.0.0.1`. Values of constants are
said back to the client. The client sends first (the 2015 module starts a script only on the
first client byte): every script begins with START_LUA, on its first line so that line numbers
stay, which consumes the byte Client.start() sends.
"""
import re

import pytest

from tcplua_harness import cases
from tcplua_harness.client import START_LUA

spec = pytest.mark.spec


def serve(server, script, **kw):
    """cases.serve with START_LUA first: the script starts on the client's first byte."""
    return cases.serve(server, START_LUA + script, **kw)


def error_log_at(srv_adapter, level):
    """An error_log directive for the adapter's error log at `level`."""
    return "error_log %s %s;" % (getattr(srv_adapter, "error_log_name", "logs/error.log"), level)

LEVELS = ["stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]


def line_no(script, text):
    """1-based number of the first line of `script` containing `text`."""
    for n, line in enumerate(script.splitlines(), 1):
        if text in line:
            return n
    raise AssertionError("%r not in script" % text)


def log_line(srv, marker, timeout=5):
    """The one error-log line containing `marker` (waited for)."""
    srv.wait_log(re.escape(marker), timeout)
    lines = [l for l in srv.error_log().splitlines() if marker in l]
    assert len(lines) == 1, lines
    return lines[0]


def lua_line_re(level, line, message):
    """`[LEVEL] PID#TID: *N [lua] SOURCE:LINE: MESSAGE, client: 127.0.0.1`; SOURCE must name
    t.lua (its path may be shortened)."""
    return (r"\[%s\] \d+#\d+: (?:\*\d+ )?\[lua\] \S*t\.lua:%d: %s%s, client: 127\.0\.0\.1\b"
            % (level, line, re.escape(message), cases.LOG_WHILE))


# -- log.levels ------------------------------------------------------------------------------------
@spec("log.levels")
def test_level_constants(server):
    """log.levels: "ngx.STDERR, ngx.EMERG, ngx.ALERT, ngx.CRIT, ngx.ERR, ngx.WARN,
    ngx.NOTICE, ngx.INFO, ngx.DEBUG MUST be the integers 0 to 8 in that order." Also in
    init_by_lua."""
    names = ["STDERR", "EMERG", "ALERT", "CRIT", "ERR", "WARN", "NOTICE", "INFO", "DEBUG"]
    expr = ", ".join("ngx.%s" % n for n in names)
    srv = serve(server, "ngx.say(table.concat({%s}, ' ')) ngx.say(INIT)" % expr,
                tcp_extra="init_by_lua \"INIT = table.concat({%s}, ' ')\";" % expr)
    assert srv.connect().start().recv_until_close() == b"0 1 2 3 4 5 6 7 8\n0 1 2 3 4 5 6 7 8\n"


@spec("log.levels", "log.call")
def test_each_level_logs_at_its_name(server):
    """log.levels, log.call: a line logged with each of ngx.EMERG .. ngx.DEBUG carries that
    level's name (the server logs at debug, so all pass)."""
    script = "".join('ngx.log(%d, "lvl-marker-%d")\n' % (i, i) for i in range(1, 9))
    script += 'ngx.say("done")'
    srv = serve(server, script)
    assert srv.connect().start().recv_until_close() == b"done\n"
    for i in range(1, 9):
        line = log_line(srv, "lvl-marker-%d" % i)
        assert re.search(lua_line_re(LEVELS[i], i, "lvl-marker-%d" % i), line), line


# -- log.constants ---------------------------------------------------------------------------------
@spec("log.constants")
def test_status_constants_and_null(server):
    """log.constants: "ngx.OK, ngx.ERROR, ngx.AGAIN, ngx.DONE, ngx.DECLINED MUST be 0, -1,
    -2, -4, -5; ngx.null MUST be a light userdata NULL distinct from nil." A light userdata
    NULL prints as "userdata: NULL" in LuaJIT, has no metatable, and is the same value in
    init_by_lua and in the session."""
    script = ('ngx.say(ngx.OK, " ", ngx.ERROR, " ", ngx.AGAIN, " ", ngx.DONE, " ", ngx.DECLINED)\n'
              'ngx.say(type(ngx.null), " ", tostring(ngx.null ~= nil), " ", tostring(ngx.null))\n'
              'ngx.say(tostring(getmetatable(ngx.null)), " ", tostring(ngx.null == INIT_NULL))\n'
              'local t = {[ngx.null] = "k"} ngx.say(t[ngx.null])\n')
    srv = serve(server, script, tcp_extra="init_by_lua 'INIT_NULL = ngx.null';")
    assert srv.connect().start().recv_until_close() == (
        b"0 -1 -2 -4 -5\nuserdata true userdata: NULL\nnil true\nk\n")


# -- log.call --------------------------------------------------------------------------------------
CALL = r"""local mt = {__tostring = function() return "TS" end}
local obj = setmetatable({}, mt)
local function helper()
    ngx.log(ngx.ERR, "call-marker ", 42, " ", 3.5, " ", nil, " ", true, " ", false, " ",
            ngx.null, " ", obj)
end
helper()
ngx.log(ngx.WARN, "two", "parts", "joined")
ngx.log(ngx.ERR)
ngx.say("done")
"""


@spec("log.call")
def test_log_line_format_and_arguments(server):
    """log.call: "ngx.log(level, ...) MUST write one error-log line at that level ... whose
    message is [lua] SOURCE:LINE: followed by the arguments joined without separator (nil,
    booleans, numbers, strings, ngx.null as null, tables with __tostring), with client: ADDR
    in the line during a session." LINE is the line of the ngx.log call (inside a helper
    function here)."""
    srv = serve(server, CALL)
    assert srv.connect().start().recv_until_close() == b"done\n"
    line = log_line(srv, "call-marker")
    want = "call-marker 42 3.5 nil true false null TS"
    assert re.search(lua_line_re("error", line_no(CALL, "call-marker"), want), line), line
    message = re.sub(cases.LOG_WHILE + "$", "", line.split("[lua] ", 1)[1].split(", client:")[0], count=1)
    assert message.endswith(": " + want), line
    line = log_line(srv, "twopartsjoined")
    assert re.search(lua_line_re("warn", line_no(CALL, '"two"'), "twopartsjoined"),
                     line), line


@spec("log.call")
def test_log_without_message(server):
    """log.call: ngx.log(level) with no further argument writes a line whose message is
    the [lua] SOURCE:LINE: prefix alone."""
    srv = serve(server, CALL)
    assert srv.connect().start().recv_until_close() == b"done\n"
    srv.wait_log(r"twopartsjoined")
    n = line_no(CALL, "ngx.log(ngx.ERR)")
    pattern = r"\[error\] \d+#\d+: (?:\*\d+ )?\[lua\] \S*t\.lua:%d: ?%s, client: 127\.0\.0\.1" % (
        n, cases.LOG_WHILE)
    m = srv.wait_log(pattern)
    assert m


@spec("log.call")
@pytest.mark.needs("init_log")
def test_log_inline_code_and_init(server):
    """log.call: from inline process_by_lua the line still has [lua] SOURCE:LINE: and
    client:; from init_by_lua (no session) it has the prefix and no client."""
    tcp = """
    init_by_lua 'ngx.log(ngx.ERR, "init-log-marker")';
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua '%sngx.log(ngx.ERR, "inline-log-marker") ngx.say("ok")';
    }""" % START_LUA
    srv = server(tcp=tcp)
    assert srv.connect().start().recv_until_close() == b"ok\n"
    line = log_line(srv, "inline-log-marker")
    assert re.search(r"\[error\] .*\[lua\] \S+:1: inline-log-marker%s, client: 127\.0\.0\.1" % cases.LOG_WHILE,
                     line), line
    line = log_line(srv, "init-log-marker")
    assert re.search(r"\[error\] .*\[lua\] \S+:1: init-log-marker", line), line
    assert "client:" not in line, line


@spec("log.call")
def test_log_filtered_by_error_log_level(server, adapter):
    """log.call: "... (if the server's error_log level lets it through)". With the
    error log at warn, info, notice and debug lines (and print, which logs at
    notice) are absent while warn, error and crit lines are there."""
    script = ('ngx.log(ngx.DEBUG, "hidden-debug")\n'
              'ngx.log(ngx.INFO, "hidden-info")\n'
              'ngx.log(ngx.NOTICE, "hidden-notice")\n'
              'print("hidden-print")\n'
              'ngx.log(ngx.WARN, "shown-warn")\n'
              'ngx.log(ngx.CRIT, "shown-crit")\n'
              'ngx.log(ngx.ERR, "shown-final")\n'
              'ngx.say("done")\n')
    srv = serve(server, script, main=error_log_at(adapter, "warn"))
    assert srv.connect().start().recv_until_close() == b"done\n"
    srv.wait_log("shown-final")
    log = srv.error_log()
    for hidden in ("hidden-debug", "hidden-info", "hidden-notice", "hidden-print"):
        assert hidden not in log, log
    assert re.search(r"\[warn\] .*shown-warn", log) and re.search(r"\[crit\] .*shown-crit", log)


# -- log.badlevel ----------------------------------------------------------------------------------
@spec("log.badlevel")
@pytest.mark.parametrize("level", ["9", "-1", "100"])
def test_bad_level_raises(server, level):
    """log.badlevel: "A level outside 0..8 MUST raise bad log level: N." Nothing is logged
    for the call and the session continues."""
    script = ('local ok, e = pcall(function() ngx.log(%s, "badlevel-marker") end)\n'
              'ngx.say(tostring(ok)) ngx.say(tostring(e)) ngx.say("continues")' % level)
    srv = serve(server, script)
    lines = srv.connect().start().recv_until_close().decode().splitlines()
    assert lines[0] == "false" and lines[2] == "continues", lines
    assert re.fullmatch(r"(?:\S+:\d+: )?bad log level: %s" % re.escape(level), lines[1]), lines
    assert "badlevel-marker" not in srv.error_log()


@spec("log.badlevel")
def test_boundary_levels_accepted(server):
    """log.badlevel: 0 and 8, the ends of the range, are valid levels."""
    script = ('local ok0 = pcall(ngx.log, 0, "edge-0") local ok8 = pcall(ngx.log, 8, "edge-8")\n'
              'ngx.say(tostring(ok0), " ", tostring(ok8))')
    srv = serve(server, script)
    assert srv.connect().start().recv_until_close() == b"true true\n"
    srv.wait_log("edge-0")
    srv.wait_log(r"\[debug\] .*edge-8")


# -- log.print -------------------------------------------------------------------------------------
PRINT = r"""ngx.say("x")
print("print-marker ", 7, " ", nil, " ", true, " ", ngx.null)
ngx.say("done")
"""


@spec("log.print")
def test_global_print_logs_at_notice(server):
    """log.print: "The global print(...) MUST log like ngx.log(ngx.NOTICE, ...)": a
    [notice] line with the [lua] SOURCE:LINE: prefix, the arguments joined without
    separator, and client:. Nothing is sent to the client."""
    srv = serve(server, PRINT)
    assert srv.connect().start().recv_until_close() == b"x\ndone\n"
    line = log_line(srv, "print-marker")
    assert re.search(lua_line_re("notice", 2, "print-marker 7 nil true null"), line), line


@spec("log.print")
def test_print_passes_notice_filter(server, adapter):
    """log.print: with error_log at notice, print lines are written (and info lines are
    not), as for ngx.log(ngx.NOTICE, ...)."""
    script = ('ngx.log(ngx.INFO, "hidden-info") print("print-shown") '
              'ngx.log(ngx.ERR, "final-marker") ngx.say("done")')
    srv = serve(server, script, main=error_log_at(adapter, "notice"))
    assert srv.connect().start().recv_until_close() == b"done\n"
    srv.wait_log("final-marker")
    log = srv.error_log()
    assert re.search(r"\[notice\] .*print-shown", log), log
    assert "hidden-info" not in log


@spec("log.call")
def test_log_rejects_values_without_text(server):
    """log.call: the arguments are joined as text (nil, booleans, numbers, strings,
    ngx.null, tables with __tostring); a table without __tostring is an argument error."""
    srv = serve(server, 'local ok, e = pcall(ngx.log, ngx.ERR, "a", {}) ngx.say(ok, " ", e)\n'
                        'ngx.log(ngx.ERR, "t=", setmetatable({}, {__tostring = function() return "T" end}))')
    reply = srv.connect().start().recv_until_close()
    assert re.fullmatch(rb"false .*bad argument #3 to 'log' \(expected table to have __tostring "
                        rb"metamethod\)\n", reply), reply
    srv.wait_log(r"\[lua\] \S+:2: t=T, client: ")
