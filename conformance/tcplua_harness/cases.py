"""Helpers for writing cases: configuration pieces, session scripts served from conf/t.lua,
Lua snippets that make the serving process observable, and a few ways of talking to an
Instance that go beyond its methods. Like the fixtures they judge an implementation only
through its configuration, TCP, files in its prefix, logs and /proc.
"""
import grp
import os
import pwd
import re
import time

import pytest

from .client import START
from .prefix import fill
from .procs import children, wait_until

# -- starting a session -----------------------------------------------------------------------------
# [session.start.on_accept]: a script starts on accept; the 2015 module started it only when
# the client's first bytes arrived ([diff.start_on_accept]). A case that is not about that
# clause therefore sends something right after connecting, so that it judges its own clause
# on both: its natural first request, or FIRST_BYTES when the script reads nothing (a script
# that reads consumes them: ngx.receive(1) returns ".").
FIRST_BYTES = START  # one convention with Client.start() and START_LUA (client.py)


# A reference record's line (conformance/reference/*_ngx_lua.txt): `NAME => RESULT`.
RECORD_LINE = re.compile(r"^(\S+) => (.*)$")


def parse_record(text):
    """{name: result} of the `NAME => RESULT` lines of a probe's output or record (lines
    starting with # are comments)."""
    out = {}
    for line in text.splitlines():
        m = RECORD_LINE.match(line)
        if m and not line.startswith("#"):
            out[m.group(1)] = m.group(2)
    return out


def start_session(srv, port_index=0, first=FIRST_BYTES, **connect_args):
    """srv.connect(port_index, **connect_args), then send `first` (FIRST_BYTES by default):
    a Client whose session has started under either start rule."""
    client = srv.connect(port_index, **connect_args)
    if first:
        client.send(first)
    return client


# -- one server running conf/t.lua ----------------------------------------------------------------
SCRIPT_TCP = """
%s
server {
    listen 127.0.0.1:@PORT0@;
    protocol tcp_lua;
    process_by_lua_file conf/t.lua;
    %s
}"""


def script_tcp(extra="", tcp_extra=""):
    """A tcp block with one server on 127.0.0.1:@PORT0@ running conf/t.lua; `extra` goes
    into the server, `tcp_extra` before it."""
    return SCRIPT_TCP % (tcp_extra, extra)


def serve(server, script, extra="", tcp_extra="", main="", files=None):
    """Starts (with the `server` fixture) script_tcp(extra, tcp_extra) serving `script` as
    conf/t.lua; `files` are written too. Returns the Instance."""
    all_files = {"conf/t.lua": script}
    all_files.update(files or {})
    return server(tcp=script_tcp(extra, tcp_extra), main=main, files=all_files)


def said_lines(server, script, init=None, timeout=10):
    """Serves `script` (and `init` as init_by_lua_file conf/init.lua unless None); returns
    the lines one connection receives before the close, decoded as latin-1. The connection
    sends FIRST_BYTES first, which the script need not read."""
    tcp_extra, files = "", {}
    if init is not None:
        tcp_extra, files = "init_by_lua_file conf/init.lua;", {"conf/init.lua": init}
    srv = serve(server, script, tcp_extra=tcp_extra, files=files)
    return start_session(srv).recv_until_close(timeout).decode("latin-1").splitlines()


# perr(f): runs f under pcall and says the error it raised (or "no error").
PERR_LUA = r"""
local function perr(f)
    local ok, e = pcall(f)
    ngx.say(ok and "no error" or tostring(e))
end
"""


def lua_str(data):
    """A Lua string literal holding exactly these bytes (3-digit decimal escapes)."""
    if isinstance(data, str):
        data = data.encode("latin-1")
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else "\\%03d" % b
                         for b in data) + '"'


# -- servers in a tcp block -----------------------------------------------------------------------
def server_block(port, code=None, extra="", lua_file=None):
    """A server on 127.0.0.1:@PORT<port>@ running `code` (process_by_lua '...', so the code
    must not hold a single quote) or, given lua_file, process_by_lua_file; `extra`
    directives go before the handler. Concatenate several for a multi-server tcp block."""
    handler = ("process_by_lua_file %s;" % lua_file if lua_file
               else "process_by_lua '%s';" % code)
    return """
    server {
        listen 127.0.0.1:@PORT%d@;
        protocol tcp_lua;
        %s
        %s
    }""" % (port, extra, handler)


# -- configuration cases (-t / -T) ----------------------------------------------------------------
# The smallest valid server, for cases about the rest of the configuration.
SERVER_BODY = """
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("ok")';"""
SERVER = "    server {%s\n    }" % SERVER_BODY
# Marks the first line in_context() placed, so a case finds its line: r.line_of(HERE).
HERE = "  # HERE"


def in_context(context, text):
    """(tcp, main) placing `text` in context "main", "events", "tcp" or "server" of an
    otherwise valid configuration (SERVER); its first line is marked with HERE."""
    first, sep, rest = text.partition("\n")
    text = first + HERE + sep + rest
    if context == "main":
        return SERVER, text
    if context == "events":
        return SERVER, "events {\n    %s\n}" % text
    if context == "tcp":
        return "    %s\n%s" % (text, SERVER), ""
    if context == "server":
        return "    server {%s\n        %s\n    }" % (SERVER_BODY, text), ""
    raise ValueError(context)


def check_in(impl, context, text):
    """`-t` of a configuration with `text` in `context` (see in_context); a Result."""
    tcp, main = in_context(context, text)
    return impl.test_config(tcp=tcp, main=main)


# -- process modes and the serving process --------------------------------------------------------
SINGLE = "master_process off;\n"
MASTER = "master_process on;\nworker_processes 2;\n"
# Parametrize a case over both: @pytest.mark.parametrize("mode", MODES), then main=mode.
MODES = [pytest.param(SINGLE, id="single"), pytest.param(MASTER, id="master")]

# The PID of the process running the script, as a string: observable by any script.
LUA_PID = 'io.open("/proc/self/stat"):read("*l"):match("^%d+")'

# Says the PID of the worker serving the connection. It first keeps that worker's event loop
# busy for 30 ms, so that connections arriving meanwhile are accepted by another worker:
# a burst of connections then reaches every worker without relying on the kernel's wake-up
# order.
PID_LUA = """
local pid = %s
local t = os.clock()
while os.clock() - t < 0.03 do end
ngx.say(pid)
""" % LUA_PID

# A server on @PORT9@ answering with the serving worker's PID (PID_LUA as conf/pid.lua).
PID_SERVER = """
    server {
        listen 127.0.0.1:@PORT9@;
        protocol tcp_lua;
        process_by_lua_file conf/pid.lua;
    }"""
PID_PORT = 9


def serving_pids(srv, want, port_index=PID_PORT, rounds=30, burst=4):
    """Connect in bursts to a PID_LUA server until `want` distinct PIDs answered (or rounds
    run out); returns {pid: connections served}. Every connection sends FIRST_BYTES and must
    get exactly one PID line and then be closed."""
    __tracebackhide__ = True
    seen = {}
    for _ in range(rounds):
        clients = [start_session(srv, port_index) for _ in range(burst)]
        for c in clients:
            reply = c.recv_until_close(5)
            assert re.fullmatch(rb"\d+\n", reply), "expected one PID line, got %r" % reply
            pid = int(reply)
            seen[pid] = seen.get(pid, 0) + 1
            c.close()
        if len(seen) >= want:
            break
    return seen


def wait_workers(srv, count=2):
    """The sorted PIDs of the master's workers, once it has exactly `count` children
    (5 s at most)."""
    __tracebackhide__ = True
    return wait_until(lambda: len(children(srv.pid)) == count and children(srv.pid), 5,
                      lambda: "master has children %r, expected %d" % (children(srv.pid), count))


def poll_reply(srv, port_index, want, timeout=5):
    """Connect (sending FIRST_BYTES) repeatedly until a connection's first line is `want`
    (bytes); bounded."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            c = start_session(srv, port_index, timeout=2)
            line = c.recv_line(2)
            c.close()
        except (OSError, AssertionError) as exc:
            last = exc
        else:
            if line == want:
                return
            last = line
        if time.monotonic() > deadline:
            raise AssertionError("no connection to port index %d answered %r within %gs; last: %r"
                                 % (port_index, want, timeout, last))
        time.sleep(0.05)


def rewrite(srv, tcp=None, main="", files=None):
    """Replace the configuration (composed like the harness does) and files of a running
    instance, placeholders filled in; for reload cases."""
    if tcp is not None:
        text = fill(srv.adapter.full_config(tcp, main), srv.ports, srv.prefix)
    else:
        text = None
    filled = {rel: fill(content, srv.ports, srv.prefix) for rel, content in (files or {}).items()}
    # The adapter translates a configuration or Lua file as it does when a prefix is made.
    text, filled = srv.adapter.prepare(text, filled)
    for rel, content in filled.items():
        (srv.prefix / rel).write_text(content)
    if text is not None:
        (srv.prefix / srv.adapter.conf_name).write_text(text)


# -- logs and start-up failures -------------------------------------------------------------------
# nginx adds " while CONTEXT" after a message (" while reading client data", say) and
# ", client: ADDR, server: ADDR:PORT" after that for lines about a connection; a log regex
# puts LOG_WHILE right after the message so that either form matches.
LOG_WHILE = r"(?: while [^,\n]*)?"
# The client/server part of a connection's line, where a case does not check it exactly.
LOG_CONN = r"(?:, client: [^,\n]+, server: [^,\n]+)?"


def entries(log):
    """Error-log entries: a line starting with a date plus the continuation lines a
    multi-line message (a traceback) adds."""
    out = []
    for line in log.splitlines():
        if re.match(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", line) or not out:
            out.append(line)
        else:
            out[-1] += "\n" + line
    return out


def start_up(impl, tcp_text, files=None):
    """Runs the server in the foreground (no -t) and returns (rc, stderr + error log):
    for configurations whose start-up must fail. A server that does start is killed after
    10 s and the run fails."""
    prefix = impl.prefix(tcp=tcp_text, files=files)
    r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path))
    log = (prefix.path / impl.adapter.error_log_name)
    return r.rc, r.stderr + "\n" + (log.read_text(errors="replace") if log.exists() else "")


# -- users of the serving processes ([dir.user], [proc.user]) ------------------------------------
# Whether the suite runs as root: only then can a server switch its workers to another user,
# and a case checks what SPEC says for the other case (the `user` directive ignored) otherwise.
AS_ROOT = os.geteuid() == 0


def running_user():
    """(user, group) names of the suite's effective uid and gid: a `user` directive valid on
    any host, and the user workers keep when the server does not run as root."""
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def default_user():
    """(user, group) the workers of a root server take without a `user` directive: nobody,
    with group nobody where it exists, else nogroup (nginx's build-time choice)."""
    return "nobody", "nobody" if group_exists("nobody") else "nogroup"


def other_user():
    """A user other than root and nobody that has a group of its own name (`user NAME;`
    means group NAME), preferring Debian's `daemon`; None when the host has none."""
    names = [p.pw_name for p in pwd.getpwall()
             if p.pw_uid not in (0, pwd.getpwnam("nobody").pw_uid) and group_exists(p.pw_name)]
    return "daemon" if "daemon" in names else (names[0] if names else None)
