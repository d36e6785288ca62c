"""SPEC §4 Process model: single process, master and workers, daemon, pid file, respawn,
listening sockets and their options, worker_connections, running out of descriptors,
allow/deny.

Everything is judged from outside: which process answers a connection (a script reads its
own PID from /proc/self/stat and says it), the process tree and socket tables in /proc (and
`ss`), exit codes, the pid file and the error log. The process and PID helpers come from
tcplua_harness.procs and tcplua_harness.cases. A worker is run out of descriptors from
outside too: prlimit(2) lowers its RLIMIT_NOFILE once it is serving, so no adapter needs a
hook for it.
"""
import errno
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tcplua_harness.cases import (FIRST_BYTES, LOG_WHILE, LUA_PID, MASTER, MODES, PID_LUA,
                                  PID_PORT, PID_SERVER, SINGLE, running_user, server_block,
                                  serving_pids, start_session, wait_workers)
from tcplua_harness.cli import run_cli
from tcplua_harness.client import connect_raw, has_ipv6_loopback, refused
from tcplua_harness.procs import (alive, children, connection_inode, listening_inodes,
                                  read_pid_file, socket_inodes, wait_until)

spec = pytest.mark.spec


# =================================================================================================
HELLO = """
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello")';
    }"""

INIT_FILES = {
    "conf/pid.lua": PID_LUA,
    # INIT_PID: the process that ran init_by_lua; each run also appends it to a file.
    "conf/init.lua": """
INIT_PID = %s
G = "set-by-init"
local f = io.open("@PREFIX@/logs/init-runs.txt", "a")
f:write(INIT_PID, "\\n")
f:close()
""" % LUA_PID,
    "conf/who.lua": "ngx.say(%s, ' ', INIT_PID, ' ', G)\n" % LUA_PID,
}

WHO = """
    init_by_lua_file conf/init.lua;
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua_file conf/who.lua;
    }""" + PID_SERVER


def who(srv):
    """(serving pid, init pid, G) said by one connection to who.lua."""
    c = start_session(srv)
    pid, init_pid, g = c.recv_until_close().decode().split()
    return int(pid), int(init_pid), g


# -- proc.single ----------------------------------------------------------------------------------
@spec("proc.single")
def test_single_process_serves_every_connection(server):
    """proc.single: With `master_process off` the implementation MUST run as one process
    that opens the listeners, runs `init_by_lua*` and serves every connection;
    `worker_processes` is then ignored (here 4: still no child process)."""
    srv = server(tcp=WHO, main="master_process off;\nworker_processes 4;\n", files=INIT_FILES)
    for _ in range(8):
        assert who(srv) == (srv.pid, srv.pid, "set-by-init")
    assert set(serving_pids(srv, 2, rounds=5)) == {srv.pid}
    assert children(srv.pid) == [], "master_process off, yet the server has child processes"
    assert (srv.prefix / "logs/init-runs.txt").read_text() == "%d\n" % srv.pid


# -- proc.master / proc.workers.share -------------------------------------------------------------
@spec("proc.master")
def test_master_runs_init_once_and_serves_nothing(server):
    """proc.master: With `master_process on` a master process MUST open every listening
    socket and run `init_by_lua*` once, then start `worker_processes` worker processes that
    share the sockets and serve connections; the master serves no connection itself."""
    srv = server(tcp=WHO, main=MASTER, files=INIT_FILES)
    master = srv.pid
    workers = wait_until(lambda: len(children(master)) == 2 and children(master), 5,
                         lambda: "master %d has children %r, expected 2 workers" % (
                             master, children(master)))
    seen = serving_pids(srv, 2)
    assert master not in seen, "the master served %d connection(s)" % seen[master]
    assert set(seen) == set(workers), "served by %r; the master's children are %r" % (
        sorted(seen), workers)
    # init_by_lua ran once, in the master: the workers inherited its globals.
    assert (srv.prefix / "logs/init-runs.txt").read_text() == "%d\n" % master
    for _ in range(4):
        pid, init_pid, _g = who(srv)
        assert pid in workers and init_pid == master
    # The master holds every listening socket itself.
    for port in (srv.ports[0], srv.ports[PID_PORT]):
        assert listening_inodes(port) & socket_inodes(master), (
            "the master does not hold the listening socket of port %d" % port)


@spec("proc.workers.share")
@pytest.mark.parametrize("count", [2, 3])
def test_workers_share_one_port(server, count):
    """proc.workers.share: With several workers, connections to one port MUST be served by
    the workers (each connection by exactly one worker); every worker MUST run the same
    scripts with the globals set by `init_by_lua*`."""
    srv = server(tcp=WHO, main="master_process on;\nworker_processes %d;\n" % count,
                 files=INIT_FILES)
    seen = serving_pids(srv, count)     # each connection: exactly one PID line, then closed
    assert len(seen) == count, "after %d connections only workers %r answered" % (
        sum(seen.values()), sorted(seen))
    # Same script and same init globals in every worker.
    answers = set()
    for _ in range(30):
        pid, init_pid, g = who(srv)
        answers.add(pid)
        assert (init_pid, g) == (srv.pid, "set-by-init")
    assert answers <= set(seen)


# -- proc.daemon ----------------------------------------------------------------------------------
@spec("proc.daemon", "proc.pid", "cli.signal")
@pytest.mark.parametrize("main", [
    pytest.param("daemon on;\nmaster_process on;\nworker_processes 1;\n", id="master"),
    pytest.param("daemon on;\nmaster_process off;\n", id="single"),
])
def test_daemon_on_detaches(impl, main):
    """proc.daemon: With `daemon on` the implementation MUST detach from the terminal (the
    command returns 0 once the server is started) and continue in the background.
    proc.pid: the pid file holds the background process's PID and is removed at exit.
    cli.signal: `-s stop` sends TERM to that PID and exits 0."""
    prefix = impl.prefix(tcp=HELLO, main=main)
    port = prefix.ports[0]
    pid_path = prefix.path / impl.adapter.pid_name
    started = time.monotonic()
    rc, _out, err = run_cli(impl.adapter, prefix.path, [], prefix.cwd, timeout=10)
    assert rc == 0, "daemon start exited %s; stderr:\n%s" % (rc, err)
    assert time.monotonic() - started < 10
    # Started: the listener is open by the time the command has returned.
    c = connect_raw(port)
    c.send(FIRST_BYTES)
    assert c.recv_until_close(5) == b"hello\n"
    text = wait_until(lambda: (read_pid_file(pid_path) or "").endswith("\n") and
                      read_pid_file(pid_path), 5, "no pid file %s" % pid_path)
    assert re.fullmatch(r"\d+\n", text), "pid file holds %r" % text
    pid = int(text)
    assert alive(pid), "the pid file names %d, which is not running" % pid
    assert os.getsid(pid) != os.getsid(0), "the daemon did not detach (same session)"
    # Stop it through the command line.
    rc, _out, err = run_cli(impl.adapter, prefix.path, ["-s", "stop"], prefix.cwd)
    assert rc == 0, "-s stop exited %s; stderr:\n%s" % (rc, err)
    wait_until(lambda: not alive(pid), 5, "daemon %d still running after -s stop" % pid)
    wait_until(lambda: not pid_path.exists(), 2, "pid file left behind after exit")
    wait_until(lambda: refused(port), 2, "port %d still accepting after exit" % port)


@spec("proc.daemon")
@pytest.mark.parametrize("mode", MODES)
def test_daemon_off_stays_in_foreground(server, mode):
    """proc.daemon: with `daemon off` it stays in the foreground: the process started is
    the one that keeps running and serving (its PID is in the pid file)."""
    srv = server(tcp=HELLO, main="daemon off;\n" + mode)
    assert start_session(srv).recv_until_close() == b"hello\n"
    assert srv.proc.poll() is None, "the foreground process returned"
    assert read_pid_file(srv.prefix / srv.adapter.pid_name) == "%d\n" % srv.pid


# -- proc.pid ------------------------------------------------------------------------------------
@spec("proc.pid")
@pytest.mark.parametrize("mode", MODES)
def test_pid_file_written_and_removed(server, mode):
    """proc.pid: The master (or the single process) MUST write its PID and a newline to the
    `pid` file once its listeners are open, and remove the file when it exits."""
    srv = server(tcp=HELLO, main=mode + "pid logs/other.pid;\n")
    path = srv.prefix / "logs/other.pid"
    srv.wait_path("logs/other.pid")
    wait_until(lambda: read_pid_file(path) == "%d\n" % srv.pid, 2,
               lambda: "pid file holds %r, expected %r" % (read_pid_file(path), "%d\n" % srv.pid))
    srv.signal(signal.SIGTERM)
    assert srv.wait_exit(5) == 0
    assert not path.exists(), "pid file still there after exit"


@spec("proc.pid")
@pytest.mark.parametrize("mode", MODES)
def test_pid_file_appears_once_listening(server, mode):
    """proc.pid: the pid file is written once the listeners are open: as soon as it holds
    a PID, a connection is served."""
    srv = server(tcp=HELLO, main=mode, wait=False)
    path = srv.prefix / srv.adapter.pid_name

    def written():
        if srv.proc.poll() is not None:
            raise AssertionError("server exited with %s\n%s" % (
                srv.proc.returncode, srv.diagnostics()))
        return (read_pid_file(path) or "").endswith("\n")
    wait_until(written, 10, "no pid file")
    assert start_session(srv).recv_until_close() == b"hello\n"


# -- proc.respawn ---------------------------------------------------------------------------------
RESPAWN = PID_SERVER + """
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua 'os.exit(3)';
    }"""


@spec("proc.respawn")
def test_worker_killed_is_logged_and_replaced(server):
    """proc.respawn: A worker that exits without being asked to MUST be logged at `alert`
    level (`worker process PID exited on signal N`) and replaced by a new worker."""
    srv = server(tcp=RESPAWN, main=MASTER, files={"conf/pid.lua": PID_LUA})
    seen = serving_pids(srv, 2)
    assert len(seen) == 2, "only workers %r answered" % sorted(seen)
    victim, other = sorted(seen)
    os.kill(victim, signal.SIGKILL)
    srv.wait_log(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[alert\] %d#\d+: "
                 r"worker process %d exited on signal 9\b" % (srv.pid, victim))
    workers = wait_until(lambda: (lambda k: len(k) == 2 and victim not in k and k)(
        children(srv.pid)), 5, lambda: "master's children: %r (killed %d)" % (
            children(srv.pid), victim))
    new = (set(workers) - {other}).pop()
    seen = serving_pids(srv, 2)
    assert victim not in seen
    assert new in seen, "the new worker %d served nothing; answers from %r" % (new, sorted(seen))


@spec("proc.respawn")
def test_worker_exiting_with_code_is_logged_and_replaced(server):
    """proc.respawn: a worker that exits by itself (a script calls os.exit(3)) MUST be
    logged at `alert` level as `worker process PID exited with code 3` and replaced."""
    srv = server(tcp=RESPAWN, main=MASTER, files={"conf/pid.lua": PID_LUA})
    before = wait_workers(srv)
    start_session(srv).expect_closed(5)
    m = srv.wait_log(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[alert\] %d#\d+: "
                     r"worker process (\d+) exited with code 3\b" % srv.pid)
    gone = int(m.group(1))
    assert gone in before
    wait_until(lambda: (lambda k: len(k) == 2 and gone not in k)(children(srv.pid)), 5,
               lambda: "master's children: %r (exited %d)" % (children(srv.pid), gone))
    assert len(serving_pids(srv, 2)) == 2


@spec("proc.respawn.fatal")
def test_worker_exiting_with_fatal_code_is_not_replaced(server):
    """proc.respawn.fatal: A worker that exits with status 2 (nginx's fatal code ...) MUST NOT
    be replaced; the master logs `worker process PID exited with fatal code 2 and cannot be
    respawned` at `alert` level and keeps serving with its other workers. (A script's
    os.exit(2) is the portable way to make a worker exit with that status.)"""
    srv = server(tcp=RESPAWN.replace("os.exit(3)", "os.exit(2)"), main=MASTER,
                 files={"conf/pid.lua": PID_LUA})
    before = wait_workers(srv)
    start_session(srv).expect_closed(5)
    m = srv.wait_log(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[alert\] %d#\d+: worker process (\d+) "
                     r"exited with fatal code 2 and cannot be respawned$" % srv.pid)
    gone = int(m.group(1))
    assert gone in before
    left = wait_workers(srv, 1)
    assert set(serving_pids(srv, 1)) == set(left) == set(before) - {gone}
    assert srv.proc.poll() is None


# -- proc.listen.options --------------------------------------------------------------------------
def ss(*args):
    return subprocess.run(["ss", "-Hn"] + list(args), capture_output=True, text=True,
                          timeout=5).stdout


needs_ss = pytest.mark.skipif(shutil.which("ss") is None,
                              reason="iproute2 `ss` is needed to read socket options")


@spec("proc.listen.options")
def test_listen_options_accepted_and_served(server):
    """proc.listen.options: The options of `listen` MUST be applied to the listening socket;
    `bind` is accepted. A server with every option starts and serves."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ backlog=64 rcvbuf=64k sndbuf=64k so_keepalive=on deferred
               reuseport bind;
        listen 127.0.0.1:@PORT1@ so_keepalive=30s:10s:3 bind;
        listen 127.0.0.1:@PORT2@ so_keepalive=off backlog=1;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello")';
    }""")
    c = srv.connect(0)
    c.send("x")                       # deferred: accepted once data arrives
    assert c.recv_until_close() == b"hello\n"
    for i in (1, 2):
        assert start_session(srv, i).recv_until_close() == b"hello\n"


@needs_ss
@spec("proc.listen.options")
def test_listen_backlog_applied(server):
    """proc.listen.options: `backlog` MUST be applied to the listening socket (its accept
    queue limit, which `ss` shows for a listener; the default is 511)."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ backlog=7;
        listen 127.0.0.1:@PORT1@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello")';
    }""")
    for port, want in ((srv.ports[0], "7"), (srv.ports[1], "511")):
        line = ss("-lt", "sport = :%d" % port).split()
        assert line[:1] == ["LISTEN"] and line[2] == want, (
            "ss shows %r for port %d, expected backlog %s" % (line, port, want))


@needs_ss
@spec("proc.listen.options")
def test_listen_buffers_applied(server):
    """proc.listen.options: `rcvbuf` and `sndbuf` MUST be applied to the listening socket
    (SO_RCVBUF / SO_SNDBUF, which Linux reports doubled)."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ rcvbuf=48k sndbuf=24k;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello")';
    }""")
    out = ss("-ltm", "sport = :%d" % srv.port)
    rb = re.search(r"\brb(\d+)", out)
    tb = re.search(r"\btb(\d+)", out)
    assert rb and int(rb.group(1)) in (48 * 1024, 96 * 1024), out
    assert tb and int(tb.group(1)) in (24 * 1024, 48 * 1024), out


@needs_ss
@spec("proc.listen.options")
def test_listen_so_keepalive_applied(server):
    """proc.listen.options: `so_keepalive` MUST be applied: with `so_keepalive=30s:10s:3`
    accepted connections run a keepalive timer of 30 s idle; with `on`, the system default;
    without the option (or `off`), none."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ so_keepalive=30s:10s:3;
        listen 127.0.0.1:@PORT1@ so_keepalive=on;
        listen 127.0.0.1:@PORT2@ so_keepalive=off;
        listen 127.0.0.1:@PORT3@;
        protocol tcp_lua;
        process_by_lua 'ngx.receive(1) ngx.say("hello") ngx.receive(1)';
    }""", wait=[0, 1, 2, 3])
    held = []
    for i in range(4):
        c = start_session(srv, i)
        assert c.recv_line() == b"hello\n"
        held.append(c)
    timers = {}
    for i in range(4):
        out = ss("-to", "state", "established", "sport = :%d" % srv.ports[i])
        timers[i] = re.search(r"timer:\(keepalive,([^,]+),", out)
    assert timers[0] and re.fullmatch(r"(2\d|30)sec", timers[0].group(1)), (
        "port with so_keepalive=30s:10s:3: %r" % (timers[0] and timers[0].group(0)))
    assert timers[1], "port with so_keepalive=on has no keepalive timer"
    assert not timers[2] and not timers[3], "keepalive on a port without so_keepalive"


@spec("proc.listen.options")
def test_listen_deferred_waits_for_data(server):
    """proc.listen.options: `deferred` (TCP_DEFER_ACCEPT) MUST be applied: a connection is
    accepted only once the client has sent data; without it, at once. Acceptance is seen in
    /proc/net/tcp: the server's side of the connection gets an inode the serving process
    holds."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ deferred;
        listen 127.0.0.1:@PORT1@;
        protocol tcp_lua;
        process_by_lua 'ngx.receive(1) ngx.say("hello")';
    }""")
    def accepted(client, port_index):
        inode = connection_inode(srv.ports[port_index], client.sock.getsockname()[1])
        return inode not in (None, "0") and inode in socket_inodes(srv.pid)

    plain = srv.connect(1)
    wait_until(lambda: accepted(plain, 1), 2, "a connection to the plain port is not accepted")
    deferred = srv.connect(0)
    deferred.expect_silence(0.5)    # sleeps: the time in which a deferred accept must not happen
    assert not accepted(deferred, 0), "the deferred port accepted before any data"
    deferred.send("x")
    assert deferred.recv_line(3) == b"hello\n"
    plain.send(FIRST_BYTES)
    assert plain.recv_line(2) == b"hello\n"


@spec("proc.listen.options")
def test_listen_reuseport_applied(server):
    """proc.listen.options: `reuseport` (SO_REUSEPORT) MUST be applied: another socket of
    the same user can then bind the same address and port with SO_REUSEPORT, which a
    listener without the option forbids."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@ reuseport;
        listen 127.0.0.1:@PORT1@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello")';
    }""")

    def bind_reuseport(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            s.bind(("127.0.0.1", port))
            return 0
        except OSError as exc:
            return exc.errno
        finally:
            s.close()
    assert bind_reuseport(srv.ports[0]) == 0, "listen ... reuseport: SO_REUSEPORT not set"
    assert bind_reuseport(srv.ports[1]) == errno.EADDRINUSE
    assert start_session(srv, 0).recv_until_close() == b"hello\n"


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback (::1)")


@needs_ipv6
@pytest.mark.needs("ipv6")
@spec("proc.listen.options")
def test_listen_ipv6only_applied(server):
    """proc.listen.options: `ipv6only` (IPV6_V6ONLY) MUST be applied: `[::]:PORT` (default
    on) refuses IPv4 clients; with `ipv6only=off` IPv4 clients are served too."""
    srv = server(tcp="""
    server {
        listen [::]:@PORT0@;
        listen [::]:@PORT1@ ipv6only=off;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello")';
    }""")
    assert start_session(srv, 0, host="::1").recv_until_close() == b"hello\n"
    assert refused(srv.ports[0], "127.0.0.1"), "ipv6only=on (default) accepted an IPv4 client"
    assert start_session(srv, 1, host="127.0.0.1").recv_until_close() == b"hello\n"
    assert start_session(srv, 1, host="::1").recv_until_close() == b"hello\n"


# -- proc.listen.ipv6 -----------------------------------------------------------------------------
@needs_ipv6
@pytest.mark.needs("ipv6")
@spec("proc.listen.ipv6", "diff.ipv6")
def test_ipv6_listeners_accept_ipv6_clients(server):
    """proc.listen.ipv6: `listen [::1]:PORT` and `listen [::]:PORT` MUST accept IPv6
    clients."""
    srv = server(tcp="""
    server {
        listen [::1]:@PORT0@;
        listen [::]:@PORT1@;
        protocol tcp_lua;
        process_by_lua 'ngx.log(ngx.ERR, "v6 session") ngx.say("hello")';
    }""")
    for i in (0, 1):
        assert start_session(srv, i, host="::1").recv_until_close() == b"hello\n"
    srv.wait_log(r"v6 session.*, client: ::1, ")


# -- proc.listen.fail -----------------------------------------------------------------------------
@spec("proc.listen.fail")
@pytest.mark.parametrize("mode", MODES)
def test_bind_failure_fails_start(impl, mode):
    """proc.listen.fail: A listen address that cannot be bound MUST make start-up fail with
    `tcplua: [emerg] bind() to ADDR failed (ERRNO: TEXT)` and exit status 1."""
    prefix = impl.prefix(tcp=HELLO, main=mode)
    port = prefix.ports[0]
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", port))
        blocker.listen(1)
        r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path), timeout=5)
    finally:
        blocker.close()
    want = "%s: [emerg] bind() to 127.0.0.1:%d failed (98: Address already in use)" % (
        impl.program, port)
    assert r.rc == 1, "exit %s; stderr:\n%s" % (r.rc, r.stderr)
    assert want in r.stderr.splitlines(), "expected the line\n%s\nstderr:\n%s" % (want, r.stderr)


# -- proc.worker_connections ---------------------------------------------------------------------
@spec("proc.worker_connections")
def test_worker_connections_limit(server):
    """proc.worker_connections: A worker MUST NOT hold more than `worker_connections` client
    connections at once; a connection accepted beyond that is closed at once and logged at
    `alert` level as `N worker_connections are not enough`. A slot freed by a finished
    session serves again."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.receive(1) ngx.say("hi") ngx.receive(1)';
    }""", main="master_process off;\nevents { worker_connections 2; }\n")
    a, b = start_session(srv), start_session(srv)
    assert a.recv_line() == b"hi\n"
    assert b.recv_line() == b"hi\n"
    extra = srv.connect()
    extra.expect_closed(2)
    srv.wait_log(r"\[alert\] \d+#\d+: (?:\*\d+ )?2 worker_connections are not enough")
    # Closing `a` ends its session (receive reports "closed"): the slot is free again.
    a.close()

    def served():
        c = start_session(srv)
        try:
            return c.recv_line(2) == b"hi\n" and c
        except AssertionError:
            c.close()
            return False
    d = wait_until(served, 3, "no connection served after a slot was freed")
    # b and d are held now: the next one is refused service again.
    srv.connect().expect_closed(2)
    b.send("x")
    d.send("x")
    b.expect_closed()
    d.expect_closed()


# -- proc.accept.emfile --------------------------------------------------------------------------
ECHO_TWO_PORTS = """
    server {
        listen 127.0.0.1:@PORT0@;
        listen 127.0.0.1:@PORT1@;
        protocol tcp_lua;
        process_by_lua '
            ngx.receive(1)
            ngx.say("hi")
            while true do
                local data = ngx.receive(64, 1)
                if not data then return end
                ngx.print(data)
            end';
    }"""
EMFILE_RE = r"^.*\[crit\].*\(24: Too many open files\)"


def emfile_re(srv):
    """The crit line of an accept pause: SPEC quotes its message "for example", so an adapter
    may give its own regex as wording "proc.accept.emfile"."""
    return srv.adapter.wording("proc.accept.emfile", EMFILE_RE)
PAUSE_MIN = 0.1          # [proc.accept.emfile]: a pause lasts at least 100 ms ...
PAUSE_MAX = 1.0          # ... and at most 1 s


def serving_process(srv, main):
    """The PID that accepts: the process itself, or the master's one worker."""
    return wait_workers(srv, 1)[0] if "master_process on" in main else srv.pid


def leave_descriptors(pid, spare):
    """Lower pid's soft RLIMIT_NOFILE (through /proc and prlimit(2), as the `prlimit` tool
    does) so that exactly `spare` more descriptors can be opened; returns the old limits."""
    used = {int(fd) for fd in os.listdir("/proc/%d/fd" % pid)}
    free = [n for n in range(max(used) + spare + 1) if n not in used][:spare]
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (free[-1] + 1, old[1]))
    return old


def out_of_descriptors(srv, pid):
    """Two served connections, the second taking the worker's last descriptor, then one
    more on each port that waits in the listen queue. Returns (held, waiting, old limits)."""
    first = start_session(srv, 0)
    assert first.recv_line() == b"hi\n"        # the event loop runs: its descriptors exist
    old = leave_descriptors(pid, 1)
    second = start_session(srv, 1)
    assert second.recv_line() == b"hi\n"
    # Connected by the kernel, never accepted yet; their first bytes wait in the queue.
    waiting = [start_session(srv, 0), start_session(srv, 1)]
    srv.wait_log(emfile_re(srv))
    return [first, second], waiting, old


@spec("proc.accept.emfile")
@pytest.mark.parametrize("main", [
    pytest.param(SINGLE, id="single"),
    # The worker keeps the suite's user ([dir.user]): prlimit(2) on a process of another user
    # needs CAP_SYS_RESOURCE, which a root in a container may lack.
    pytest.param("master_process on;\nworker_processes 1;\nuser %s %s;\n" % running_user(),
                 id="master"),
])
def test_out_of_descriptors_pauses_accepting(server, main):
    """proc.accept.emfile: When accepting fails because the process or the system has run
    out of file descriptors (EMFILE, ENFILE), a worker MUST pause accepting on all of its
    listeners for at least 100 ms and at most 1 s, log the failure at `crit` level once per
    pause (not once per attempt), keep serving the connections it holds, and accept again
    after the pause, so that connections waiting in the listen queue are served once
    descriptors are free."""
    srv = server(tcp=ECHO_TWO_PORTS, main=main)
    pid = serving_process(srv, main)
    started = time.monotonic()
    held, waiting, old = out_of_descriptors(srv, pid)
    try:
        # The condition lasts a while (the waiting connection is not served meanwhile): a
        # worker retrying at once would log thousands of lines in that time.
        waiting[0].expect_silence(1.0)
        held[0].send("ping")
        assert held[0].recv_exactly(4) == b"ping"
        lines = [l for l in srv.error_log().splitlines() if re.match(emfile_re(srv), l)]
        elapsed = time.monotonic() - started
        assert len(lines) <= elapsed / PAUSE_MIN + 2, (
            "%d accept failure lines in %.1fs: accepting did not pause; first:\n%s" % (
                len(lines), elapsed, "\n".join(lines[:3])))
        # Two descriptors freed: both waiting connections, one per listener, are served.
        for c in held:
            c.close()
        for c in waiting:
            assert c.recv_line(PAUSE_MAX + 2) == b"hi\n"
        waiting[1].send("pong")
        assert waiting[1].recv_exactly(4) == b"pong"
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)


@spec("proc.accept.emfile", "proc.signal.quit")
def test_graceful_stop_during_accept_pause(server):
    """proc.accept.emfile: A graceful stop ([proc.signal.quit]) during a pause MUST NOT
    reopen accepting: the listeners stay closed after the pause would have ended, the held
    connections are still served, and the process exits once they end."""
    srv = server(tcp=ECHO_TWO_PORTS, main=SINGLE)
    held, waiting, old = out_of_descriptors(srv, srv.pid)
    try:
        srv.signal(signal.SIGQUIT)
        for c in waiting:                      # the closed listeners drop their queues
            c.expect_closed()
        # Longer than any pause: an accept watcher re-armed by it would show up now.
        held[0].expect_silence(PAUSE_MAX + 0.2)
        assert refused(srv.ports[0]) and refused(srv.ports[1])
        held[1].send("ping")
        assert held[1].recv_exactly(4) == b"ping"
        for c in held:
            c.close()
        assert srv.wait_exit() == 0
    finally:
        if alive(srv.pid):
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)


# -- proc.access ---------------------------------------------------------------------------------
ACCESS_SCRIPT = "ngx.log(ngx.ERR, \"script ran\") ngx.say(\"hi\")"


def _access_server(server, rules, tcp_rules=""):
    return server(tcp="\n    %s%s" % (tcp_rules, server_block(0, ACCESS_SCRIPT, rules)))


def _check_access(srv, allowed):
    __tracebackhide__ = True
    c = start_session(srv)
    if allowed:
        assert c.recv_until_close() == b"hi\n"
        srv.wait_log(r"script ran")
        assert "access forbidden by rule" not in srv.error_log()
    else:
        c.expect_closed()
        srv.wait_log(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#\d+: \*\d+ access forbidden "
                     r"by rule%s, client: 127\.0\.0\.1, server: 127\.0\.0\.1:%d$" % (
                         LOG_WHILE, srv.port))
        assert "script ran" not in srv.error_log(), "the script ran for a denied client"


@spec("proc.access")
@pytest.mark.parametrize("rules,allowed", [
    ("deny 127.0.0.1; allow all;", False),
    ("allow 127.0.0.1; deny all;", True),
    ("deny all;", False),
    ("allow 127.0.0.1; deny 127.0.0.1;", True),           # the first match decides
    ("deny 127.0.0.0/8; allow 127.0.0.1;", False),
    ("allow 10.0.0.0/8; deny 127.0.0.1/32; allow all;", False),
    ("deny 127.1.2.3/8;", False),                          # host bits are ignored
    ("deny 10.0.0.0/8;", True),                            # no match allows
    ("deny ::1; deny 192.168.0.0/16;", True),
])
def test_allow_deny(server, rules, allowed):
    """proc.access: `allow`/`deny` rules MUST be checked on accept, in order, the first match
    deciding (no match allows); a denied client is closed before any script runs and logged
    at `error` level as `access forbidden by rule`."""
    _check_access(_access_server(server, rules), allowed)


@spec("proc.access", "conf.merge")
@pytest.mark.parametrize("tcp_rules,rules,allowed", [
    ("deny all;", "", False),
    ("deny all;", "allow 127.0.0.1;", True),
    ("allow 127.0.0.1; deny all;", "deny 127.0.0.1;", False),
])
def test_allow_deny_tcp_level(server, tcp_rules, rules, allowed):
    """proc.access with conf.merge: a server without rules uses the tcp block's; rules given
    in a server replace the tcp-level list as a whole."""
    _check_access(_access_server(server, rules, tcp_rules), allowed)
