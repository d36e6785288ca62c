"""SPEC §4 signals (TERM/INT, QUIT with worker_shutdown_timeout, HUP, USR1) and §2.1
`-s stop|quit|reopen|reload`, in single-process and master/worker mode.

Signals go to the PID the harness started (the master, or the single process) or through
`-s`; effects are judged on open connections, new connections, the exit status, the pid file
and the log files. Process helpers come from tcplua_harness.procs and tcplua_harness.cases.
"""
import os
import re
import select
import signal
import time

import pytest

from tcplua_harness.cases import (LUA_PID, MASTER, MODES, PID_LUA, PID_SERVER, SINGLE,
                                  poll_reply, rewrite, server_block, serving_pids, start_session,
                                  wait_workers)
from tcplua_harness.cli import run_cli
from tcplua_harness.client import refused
from tcplua_harness.procs import alive, children, read_pid_file, wait_until

spec = pytest.mark.spec

PROMPT = 2.0     # "promptly", in seconds, for this suite


def expected_pids(srv, mode):
    """The processes that must all react to a signal: the single process, or the workers."""
    if mode == SINGLE:
        return [srv.pid]
    return wait_workers(srv)


# -- proc.signal.term -----------------------------------------------------------------------------
@spec("proc.signal.term")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
@pytest.mark.parametrize("mode", MODES)
def test_term_exits_promptly(server, mode, sig):
    """proc.signal.term: TERM or INT MUST make the server exit promptly: open connections
    are closed without waiting, the pid file is removed, the exit status is 0. (A session
    sleeping 30 s must not delay it.)"""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"), main=mode, files={
        "conf/t.lua": "ngx.say(%s) ngx.sleep(30) ngx.say('late')" % LUA_PID})
    procs = expected_pids(srv, mode)
    clients = [start_session(srv) for _ in range(3)]
    for c in clients:
        assert int(c.recv_line()) in procs
    pid_path = srv.prefix / srv.adapter.pid_name
    assert read_pid_file(pid_path) == "%d\n" % srv.pid
    started = time.monotonic()
    srv.signal(sig)
    assert srv.wait_exit(PROMPT) == 0
    assert time.monotonic() - started < PROMPT
    for c in clients:
        c.expect_closed(0.5)
    assert not pid_path.exists(), "pid file left behind"
    wait_until(lambda: not any(alive(p) for p in procs), 1,
               lambda: "still running: %r" % [p for p in procs if alive(p)])
    assert refused(srv.port)


# -- proc.signal.quit -----------------------------------------------------------------------------
QUIT_TCP = (server_block(0, lua_file="conf/sleeper.lua")
            + server_block(1, lua_file="conf/idle.lua")
            + server_block(2, lua_file="conf/probe.lua"))
QUIT_FILES = {
    "conf/sleeper.lua": "ngx.say('start') ngx.sleep(2) ngx.say('done')",
    # Reads the first bytes first, so that the wait finds no buffered request.
    "conf/idle.lua": "ngx.receive(1) ngx.say('ready') ngx.wait_next_request() ngx.say('resumed')",
    "conf/probe.lua": "ngx.say('probe')",
}


@spec("proc.signal.quit")
@pytest.mark.parametrize("mode", MODES)
def test_quit_is_graceful(server, mode):
    """proc.signal.quit: QUIT MUST start a graceful shutdown: listeners close at once (new
    connections are refused), sessions waiting in `ngx.wait_next_request()` with no request
    buffered or readable end, other sessions may run to completion until
    `worker_shutdown_timeout` (default 10s), after which they are closed; then the process
    exits with status 0. (Each client closes after its EOF, as clients do: the server lingers
    until then, [proc.lingering_close].)"""
    srv = server(tcp=QUIT_TCP, main=mode, files=QUIT_FILES)
    procs = expected_pids(srv, mode)
    busy = start_session(srv, 0)
    assert busy.recv_line() == b"start\n"
    idle = start_session(srv, 1)
    assert idle.recv_line() == b"ready\n"
    srv.signal(signal.SIGQUIT)
    # The idle session ends at once (well before the sleeping one finishes, ~2 s).
    idle.expect_closed(1.0)
    idle.close()    # a client closes after the EOF; the server lingers until then (5 s at most)
    for i in (2, 0, 1):
        wait_until(lambda: refused(srv.ports[i]), 1.0,
                   "port index %d still accepts connections after QUIT" % i)
    # ... while the sleeping session is still running (its "done" is ~2 s after "start").
    assert not select.select([busy.sock], [], [], 0)[0], (
        "the listeners closed only after the sleeping session ended")
    # The sleeping session completes and its output arrives.
    assert busy.recv_until_close(4) == b"done\n"
    busy.close()
    assert srv.wait_exit(3) == 0
    assert not (srv.prefix / srv.adapter.pid_name).exists(), "pid file left behind"
    wait_until(lambda: not any(alive(p) for p in procs), 1,
               lambda: "still running: %r" % [p for p in procs if alive(p)])


@spec("proc.signal.quit", "proc.shutdown_timeout")
@pytest.mark.needs("directive.worker_shutdown_timeout")
@pytest.mark.parametrize("mode", MODES)
def test_quit_bounded_by_worker_shutdown_timeout(server, mode):
    """proc.shutdown_timeout: `worker_shutdown_timeout time` (main context, default `10s`)
    MUST bound how long a gracefully stopping worker waits for its sessions.
    proc.signal.quit: sessions may run until that timeout, after which they are closed; then
    the process exits with status 0. (300ms here; a session sleeping forever is cut then,
    not before.)"""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"),
                 main=mode + "worker_shutdown_timeout 300ms;\n",
                 files={"conf/t.lua": "ngx.say('start') ngx.sleep(3600) ngx.say('never')"})
    c = start_session(srv)
    assert c.recv_line() == b"start\n"
    started = time.monotonic()
    srv.signal(signal.SIGQUIT)
    assert c.recv_until_close(3) == b""
    elapsed = time.monotonic() - started
    assert elapsed >= 0.2, "the session was closed after %.3fs, before the timeout" % elapsed
    assert elapsed < 2.0, "the session was closed only after %.3fs" % elapsed
    assert srv.wait_exit(3) == 0


# -- proc.signal.hup ------------------------------------------------------------------------------
HUP_SCRIPT = """
ngx.receive(1)
ngx.say("%s ", G)
local d = ngx.receive(1)
ngx.say("%s after ", G, " ", d)
"""


def hup_tcp(ports):
    return ("init_by_lua_file conf/init.lua;\n"
            + "".join(server_block(p, lua_file="conf/t.lua") for p in ports)
            + server_block(1, lua_file="conf/idle.lua") + PID_SERVER)


HUP_FILES_V1 = {
    "conf/init.lua": 'G = "init1"',
    "conf/t.lua": HUP_SCRIPT % ("v1", "v1"),
    "conf/idle.lua": QUIT_FILES["conf/idle.lua"],
    "conf/pid.lua": PID_LUA,
}
HUP_FILES_V2 = {"conf/init.lua": 'G = "init2"', "conf/t.lua": HUP_SCRIPT % ("v2", "v2")}


@spec("proc.signal.hup")
@pytest.mark.parametrize("mode", [MASTER], ids=["master"])
def test_hup_reloads_configuration(server, mode):
    """proc.signal.hup: HUP MUST re-read the configuration. If it is valid, new workers start
    with it (a fresh Lua VM, `init_by_lua*` run again, listeners kept, added or closed as the
    new configuration says) and the old workers shut down gracefully as for QUIT;
    connections already open keep their old script."""
    srv = server(tcp=hup_tcp([0, 2]), main=mode, files=HUP_FILES_V1)
    old = expected_pids(srv, mode)
    kept = start_session(srv, 0)
    assert kept.recv_line() == b"v1 init1\n"
    idle = start_session(srv, 1)
    assert idle.recv_line() == b"ready\n"
    # New script and init file; the listener on PORT2 goes, one on PORT3 comes.
    rewrite(srv, tcp=hup_tcp([0, 3]), main=mode, files=HUP_FILES_V2)
    srv.signal(signal.SIGHUP)
    poll_reply(srv, 0, b"v2 init2\n", timeout=5)
    poll_reply(srv, 3, b"v2 init2\n", timeout=2)
    wait_until(lambda: refused(srv.ports[2]), 2, "the removed listener (PORT2) still accepts")
    # The open connection keeps its old script and VM.
    kept.send("x")
    assert kept.recv_until_close() == b"v1 after init1 x\n"
    kept.close()    # after the EOF, as clients do: the server lingers until then
    if mode == MASTER:
        # Old workers stop as for QUIT: their idle session ends, then they exit.
        idle.expect_closed(3)
        idle.close()
        wait_until(lambda: not any(alive(p) for p in old), 5,
                   lambda: "old workers still running: %r" % [p for p in old if alive(p)])
        assert len(set(serving_pids(srv, 2)) - set(old)) == 2
    assert srv.proc.poll() is None, "the server exited on HUP"
    assert read_pid_file(srv.prefix / srv.adapter.pid_name) == "%d\n" % srv.pid


@spec("proc.signal.hup")
@pytest.mark.parametrize("mode", [MASTER], ids=["master"])
def test_hup_with_invalid_configuration_keeps_serving(server, mode):
    """proc.signal.hup: If the re-read configuration is invalid, the error MUST be logged at
    `emerg` level in the error log and the old configuration keeps serving unchanged (here
    the broken file also adds a listener, which must not appear)."""
    srv = server(tcp=hup_tcp([0]), main=mode, files=HUP_FILES_V1)
    assert start_session(srv, 0).recv_line() == b"v1 init1\n"
    rewrite(srv, tcp=hup_tcp([0, 2]) + "\n    bogus_directive on;\n", main=mode)
    srv.signal(signal.SIGHUP)
    conf = srv.adapter.conf_path(srv.prefix)
    text = (srv.prefix / srv.adapter.conf_name).read_text().splitlines()
    line = next(n for n, l in enumerate(text, 1) if "bogus_directive" in l)
    # The configuration error as -t would report it, in an emerg line of the error log
    # (text after FILE:LINE is tolerated).
    srv.wait_log(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[emerg\] \d+#\d+: unknown directive "
                 r"\"bogus_directive\" in %s:%d\b" % (re.escape(conf), line))
    for _ in range(6):
        assert start_session(srv, 0).recv_line() == b"v1 init1\n"
    assert refused(srv.ports[2]), "a listener of the rejected configuration was opened"
    assert srv.proc.poll() is None, "the server exited on a bad reload"
    assert read_pid_file(srv.prefix / srv.adapter.pid_name) == "%d\n" % srv.pid


@spec("proc.signal.hup", "proc.respawn")
def test_hup_with_script_that_does_not_compile_keeps_serving(server):
    """proc.signal.hup: If the new configuration is invalid (here: its script does not
    compile, while its init_by_lua would run), the error MUST be logged at `emerg` level and
    the old configuration keeps serving unchanged: old script, old init_by_lua globals, also
    in a worker respawned after the failed reload (proc.respawn)."""
    srv = server(tcp=hup_tcp([0]), main=MASTER, files=HUP_FILES_V1)
    assert start_session(srv, 0).recv_line() == b"v1 init1\n"
    rewrite(srv, files={"conf/init.lua": 'G = "init2"', "conf/t.lua": "ngx.say(("})
    srv.signal(signal.SIGHUP)
    srv.wait_log(r"\[emerg\] \d+#\d+: .*failed to load Lua code")
    workers = wait_workers(srv)
    os.kill(workers[0], signal.SIGKILL)
    wait_until(lambda: len(children(srv.pid)) == 2 and workers[0] not in children(srv.pid), 5,
               lambda: "no replacement for worker %d: %r" % (workers[0], children(srv.pid)))
    for _ in range(8):
        assert start_session(srv, 0).recv_line() == b"v1 init1\n"
    assert srv.proc.poll() is None, "the master exited after a failed reload"


@spec("proc.signal.hup")
def test_hup_ignored_without_master(server):
    """proc.signal.hup: With `master_process off` a HUP MUST be logged at `warn` level
    (`reload needs "master_process on"; SIGHUP ignored`) and change nothing."""
    srv = server(tcp=hup_tcp([0]), main=SINGLE, files=HUP_FILES_V1)
    assert start_session(srv, 0).recv_line() == b"v1 init1\n"
    for path, text in HUP_FILES_V2.items():
        (srv.prefix / path).write_text(text)
    srv.signal(signal.SIGHUP)
    srv.wait_log(r"\[warn\] \d+#\d+: reload needs \"master_process on\"; SIGHUP ignored")
    assert start_session(srv, 0).recv_line() == b"v1 init1\n"
    assert srv.proc.poll() is None, "the server exited on HUP"


# -- proc.signal.usr1 -----------------------------------------------------------------------------
USR1_LUA = """
local pid = %s
local t = os.clock()
while os.clock() - t < 0.03 do end
ngx.log(ngx.ERR, "mark from ", pid)
ngx.say(pid)
-- End the light session: the 2015 module writes an access-log line only there (not when a
-- connection session ends); where there are no light sessions the call ends the session.
ngx.wait_next_request()
""" % LUA_PID


def wait_reopened(srv, procs, timeout=5):
    """Connect until the (recreated) error.log holds a line logged by every process in procs
    and access_tcp.log holds a line; bounded."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    while True:
        for c in [start_session(srv) for _ in range(4)]:
            c.recv_line()
            c.close()
        log = srv.error_log()
        missing = [p for p in procs if not re.search(r"mark from %d\b" % p, log)]
        if not missing and srv.read("logs/access_tcp.log").strip():
            return
        if time.monotonic() > deadline:
            raise AssertionError("after USR1: error.log lacks lines from %r; access_tcp.log: %r"
                                 % (missing, srv.read("logs/access_tcp.log")[-300:]))
        time.sleep(0.05)


def usr1_server(server, mode):
    return server(tcp=server_block(0, lua_file="conf/t.lua",
                                   extra="access_log logs/access_tcp.log;"),
                  main=mode, files={"conf/t.lua": USR1_LUA})


@spec("proc.signal.usr1")
@pytest.mark.parametrize("mode", MODES)
def test_usr1_reopens_logs(server, mode):
    """proc.signal.usr1: USR1 MUST reopen every log file (error and access logs) in every
    process, so that a log file renamed away is recreated under its configured name."""
    srv = usr1_server(server, mode)
    procs = expected_pids(srv, mode)
    wait_reopened(srv, procs)        # both files exist and are written before the rename
    logs, error_log = srv.prefix / "logs", srv.prefix / srv.adapter.error_log_name
    os.rename(error_log, str(error_log) + ".old")
    os.rename(logs / "access_tcp.log", logs / "access_tcp.log.old")
    srv.signal(signal.SIGUSR1)
    wait_reopened(srv, procs)
    assert srv.proc.poll() is None, "the server exited on USR1"


# -- cli.signal ---------------------------------------------------------------------------------
CLI_MAIN = "pid logs/other.pid;\n"


def cli_signal(srv, name):
    __tracebackhide__ = True
    rc, out, err = run_cli(srv.adapter, srv.prefix, ["-s", name], srv.cwd)
    assert rc == 0, "-s %s exited %s\n%s%s" % (name, rc, out, err)


def cli_server(server, mode, files, tcp=None):
    """A server with `pid logs/other.pid`, once that file names it."""
    if tcp is None:
        tcp = "".join(server_block(i, lua_file="conf/t%d.lua" % i) for i in range(len(files)))
    srv = server(tcp=tcp, main=mode + CLI_MAIN, files=files)
    srv.wait_file("logs/other.pid", r"^%d\n" % srv.pid)
    return srv


@spec("cli.signal", "proc.signal.term")
@pytest.mark.parametrize("mode", MODES)
def test_s_stop_sends_term(server, mode):
    """cli.signal: `-s stop` MUST send TERM to the PID in the configured `pid` file and exit
    0: the server exits promptly, closing a sleeping session."""
    srv = cli_server(server, mode, {"conf/t0.lua": "ngx.say('start') ngx.sleep(30)"})
    c = start_session(srv)
    assert c.recv_line() == b"start\n"
    cli_signal(srv, "stop")
    c.expect_closed(PROMPT)
    assert srv.wait_exit(PROMPT) == 0


@spec("cli.signal", "proc.signal.quit")
@pytest.mark.parametrize("mode", MODES)
def test_s_quit_sends_quit(server, mode):
    """cli.signal: `-s quit` MUST send QUIT: the sleeping session completes, then the
    server exits 0."""
    srv = cli_server(server, mode, {"conf/t0.lua": "ngx.say('start') ngx.sleep(1) ngx.say('done')"})
    c = start_session(srv)
    assert c.recv_line() == b"start\n"
    cli_signal(srv, "quit")
    wait_until(lambda: refused(srv.port), 1, "still accepting after -s quit")
    assert c.recv_until_close(4) == b"done\n"
    c.close()    # after the EOF, as clients do: the server lingers until then
    assert srv.wait_exit(3) == 0


@spec("cli.signal", "proc.signal.usr1")
@pytest.mark.parametrize("mode", MODES)
def test_s_reopen_sends_usr1(server, mode):
    """cli.signal: `-s reopen` MUST send USR1: a renamed error log is recreated and gets
    the next lines; the server keeps running."""
    srv = cli_server(server, mode, {"conf/t.lua": USR1_LUA},
                     tcp=server_block(0, lua_file="conf/t.lua",
                                      extra="access_log logs/access_tcp.log;"))
    procs = expected_pids(srv, mode)
    wait_reopened(srv, procs)
    logs, error_log = srv.prefix / "logs", srv.prefix / srv.adapter.error_log_name
    os.rename(error_log, str(error_log) + ".old")
    os.rename(logs / "access_tcp.log", logs / "access_tcp.log.old")
    cli_signal(srv, "reopen")
    wait_reopened(srv, procs)
    assert srv.proc.poll() is None


@spec("cli.signal", "proc.signal.hup")
@pytest.mark.parametrize("mode", [MASTER], ids=["master"])
def test_s_reload_sends_hup(server, mode):
    """cli.signal: `-s reload` MUST send HUP: new connections run the changed script; the
    server keeps running."""
    srv = cli_server(server, mode, {"conf/t0.lua": "ngx.say('v1')"})
    assert start_session(srv).recv_line() == b"v1\n"
    rewrite(srv, files={"conf/t0.lua": "ngx.say('v2')"})
    cli_signal(srv, "reload")
    poll_reply(srv, 0, b"v2\n", timeout=5)
    assert srv.proc.poll() is None


@spec("cli.signal")
@pytest.mark.parametrize("pid_conf,errno_text", [
    ("logs/nothing-here.pid", "2: No such file or directory"),
    ("logs/plain-file/x.pid", "20: Not a directory"),
])
def test_s_unreadable_pid_file(impl, pid_conf, errno_text):
    """cli.signal: a missing or unreadable pid file MUST print
    `tcplua: [error] open() "PATH" failed (ERRNO: TEXT)` and exit 1."""
    prefix = impl.prefix(tcp=server_block(0, lua_file="conf/t.lua"), main="pid %s;\n" % pid_conf,
                         files={"conf/t.lua": "ngx.say(1)", "logs/plain-file": "not a dir\n"})
    for name in ("stop", "quit", "reopen", "reload"):
        r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-s", name])
        want = '%s: [error] open() "%s/%s" failed (%s)' % (
            impl.program, prefix.path, pid_conf, errno_text)
        assert r.rc == 1, "-s %s: exit %s\n%s" % (name, r.rc, r.out)
        assert want in r.stderr.splitlines(), "-s %s: expected\n%s\ngot:\n%s" % (
            name, want, r.stderr)


@spec("cli.signal")
@pytest.mark.parametrize("name", ["term", "STOP", "hup"])
def test_s_other_names_rejected(impl, name):
    """cli.signal: another signal name MUST print `tcplua: invalid option: "-s NAME"` and
    exit 1 (names are exact: `term`, `STOP`, `hup` are not signal names here)."""
    prefix = impl.prefix(tcp=server_block(0, lua_file="conf/t.lua"),
                         files={"conf/t.lua": "ngx.say(1)"})
    r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-s", name])
    assert r.rc == 1
    assert '%s: invalid option: "-s %s"' % (impl.program, name) in r.stderr.splitlines(), r.stderr
