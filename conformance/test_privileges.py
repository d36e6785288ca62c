"""SPEC §3/§4 privileges and limits: the `user` the workers run as, `worker_rlimit_nofile`, the
descriptor-limit warning, and the default `keepalive_timeout`.

A server can switch its workers to another user only when it runs as root. Run as root (as CI
runs the suite) the cases see the switch; run as another user they check what SPEC says then:
the `user` directive is ignored with a warning and the workers keep the user that started
them. Either way every case judges its clause, none is skipped.
"""
import grp
import os
import pwd
import re
import resource
import signal
import time

import pytest

from tcplua_harness.cases import (AS_ROOT, HERE, MASTER, SERVER, check_in,
                                  default_user, other_user, running_user, serve, start_session,
                                  wait_workers)
from tcplua_harness.client import START_LUA
from tcplua_harness.confdump import args_of, find, parse, parse_time, split_dump
from tcplua_harness.procs import proc_ids, proc_nofile

spec = pytest.mark.spec

ONE_WORKER = "master_process on;\nworker_processes 1;\n"
NOT_ROOT_WARNING = ('the "user" directive makes sense only if the master process runs with '
                    'super-user privileges, ignored')

# Says the serving process's uid and gid lines, its supplementary groups, what init_by_lua
# saw as its uid, and what io.open of the root-only file conf/secret.txt returned.
IDS_LUA = START_LUA + r"""
local function field(name)
    local f = io.open("/proc/self/status")
    local s = f:read("*a")
    f:close()
    return s:match("\n" .. name .. ":[ \t]*([^\n]*)")
end
ngx.say("uid ", field("Uid"))
ngx.say("gid ", field("Gid"))
ngx.say("groups ", field("Groups"))
ngx.say("init uid ", init_uid)
local f, err = io.open("@PREFIX@/conf/secret.txt")
ngx.say("secret ", f and "opened" or err)
"""
INIT_LUA = r"""
local f = io.open("/proc/self/status")
init_uid = f:read("*a"):match("\nUid:%s*(%d+)")
f:close()
"""


def ids_server(server, main):
    """A server (main text `main`) running IDS_LUA with INIT_LUA, and a file only its owner
    may read, conf/secret.txt: root's when the suite runs as root."""
    srv = serve(server, IDS_LUA, main=main, tcp_extra="init_by_lua_file conf/init.lua;",
                files={"conf/init.lua": INIT_LUA, "conf/secret.txt": "secret\n"})
    os.chmod(srv.prefix / "conf" / "secret.txt", 0o600)
    return srv


def said(srv):
    """{"uid", "gid", "groups", "init uid", "secret": text} as IDS_LUA says them over one
    connection."""
    lines = start_session(srv).recv_until_close().decode().splitlines()
    return dict(re.fullmatch(r"(init uid|uid|gid|groups|secret) ?(.*)", l).groups() for l in lines)


def ints(text):
    return [int(v) for v in text.split()]


def expect_ids(srv, workers, user, group):
    """Each of the `workers` workers of srv runs as user/group with exactly the user's groups,
    and so does its script; the master and init_by_lua keep the suite's user. Returns what
    the script said."""
    __tracebackhide__ = True
    pw, gid = pwd.getpwnam(user), grp.getgrnam(group).gr_gid
    want = ([pw.pw_uid] * 4, [gid] * 4, sorted(set(os.getgrouplist(user, gid))))
    assert proc_ids(srv.pid)["Uid"] == [os.geteuid()] * 4, "the master switched user"
    for pid in wait_workers(srv, workers):
        ids = proc_ids(pid)
        assert (ids["Uid"], ids["Gid"], sorted(ids["Groups"])) == want, "worker %d: %r" % (pid, ids)
    got = said(srv)
    assert (ints(got["uid"]), ints(got["gid"]), sorted(ints(got["groups"]))) == want, got
    assert got["init uid"] == str(os.geteuid()), "init_by_lua ran as %s" % got["init uid"]
    return got


# -- proc.user / dir.user ---------------------------------------------------------------------------
@spec("proc.user", "dir.user")
def test_workers_run_as_nobody_by_default(server):
    """proc.user: With `master_process on` and a master running as root, every worker MUST
    switch to the user and group of `user` ... before it runs any Lua code ... a worker's real
    and effective uid and gid are the user's and group's, and Lua's `io.open` of a file only
    root may read fails (`Permission denied`). `init_by_lua*` runs in the master ... so it keeps
    the master's user (root). dir.user: Without the directive, workers run as user `nobody`
    with group `nobody`, or `nogroup` where no group `nobody` exists."""
    srv = ids_server(server, MASTER)
    user, group = default_user() if AS_ROOT else running_user()
    got = expect_ids(srv, 2, user, group)
    if AS_ROOT:
        assert got["secret"].endswith("Permission denied"), got["secret"]
    else:
        assert got["secret"] == "opened", got["secret"]   # the suite's own file


@spec("proc.user", "dir.user")
@pytest.mark.parametrize("form", ["user", "user_group"])
def test_user_directive_names_the_workers_user(server, form):
    """dir.user: `user name [group]` ...; without `group` the group is the one named like the
    user. When the implementation does not run as root it MUST ignore the directive ... with
    the warning `the "user" directive makes sense only if the master process runs with
    super-user privileges, ignored in FILE:LINE`. proc.user: every worker MUST switch to the
    user and group of `user`."""
    name = other_user() or running_user()[0]
    nobody_group = default_user()[1]
    text = "user %s;" % name if form == "user" else "user %s %s;" % (name, nobody_group)
    srv = ids_server(server, ONE_WORKER + text + "\n")
    if AS_ROOT:
        expect_ids(srv, 1, name, name if form == "user" else nobody_group)
    else:
        expect_ids(srv, 1, *running_user())
        line = srv.read(srv.adapter.conf_name).splitlines().index(text) + 1
        assert "%s: [warn] %s in %s:%d" % (srv.adapter.program, NOT_ROOT_WARNING,
                                           srv.adapter.conf_path(srv.prefix), line) in srv.stderr()


@spec("proc.user")
def test_single_process_keeps_its_user(server):
    """proc.user: The master and, with `master_process off`, the single process keep the user
    that started them (as nginx)."""
    srv = ids_server(server, "master_process off;\n")
    got = said(srv)
    assert ints(got["uid"]) == [os.geteuid()] * 4, got
    assert got["secret"] == "opened", got


@spec("dir.user")
@pytest.mark.parametrize("case", ["unknown_user", "unknown_group", "duplicate"])
def test_user_names_are_looked_up(impl, case):
    """dir.user: `user name [group]` MUST look its names up when the configuration is read: a
    name that is no user MUST be the error `getpwnam("NAME") failed`, a group that is no group
    the error `getgrnam("GROUP") failed`. When the implementation does not run as root it MUST
    ignore the directive (nothing is looked up) with the warning ...; a second `user` is the
    error `"user" directive is duplicate` either way."""
    user = running_user()[0]
    text, message = {
        "unknown_user": ("user no_such_tcplua_user;", 'getpwnam("no_such_tcplua_user") failed'),
        "unknown_group": ("user %s no_such_tcplua_group;" % user,
                          'getgrnam("no_such_tcplua_group") failed'),
        "duplicate": ("user %s;\nuser %s;" % (user, user), '"user" directive is duplicate'),
    }[case]
    r = check_in(impl, "main", text)
    line = r.line_of(HERE) + (1 if case == "duplicate" else 0)
    if AS_ROOT or case == "duplicate":
        r.assert_emerg(message, line)
    else:
        r.assert_ok()
        assert "%s: [warn] %s in %s:%d" % (impl.program, NOT_ROOT_WARNING, r.conf,
                                           r.line_of(HERE)) in r.stderr


@spec("cli.dump")
@pytest.mark.needs("cli.dump")
@pytest.mark.parametrize("form", ["default", "user", "user_group"])
def test_user_in_effective_configuration(impl, form):
    """cli.dump (dir.user): `-T` shows the effective `user NAME GROUP;`: the user and group workers will
    have (when not running as root, the ones that started it)."""
    name = other_user() or running_user()[0]
    main = {"default": "", "user": "user %s;" % name,
            "user_group": "user %s %s;" % (name, default_user()[1])}[form]
    r = impl.dump_config(main=main, tcp=SERVER)
    r.assert_ok()
    tree = parse(split_dump(r.stdout)[1])
    want = {"default": default_user(), "user": (name, name),
            "user_group": (name, default_user()[1])}[form]
    assert args_of(tree, "user") == [list(want if AS_ROOT else running_user())]


# -- proc.user.logs ---------------------------------------------------------------------------------
# Logs "mark XXXX" (the 4 bytes after the first one), says ok, and ends the light session: the
# 2015 module writes an access-log line only there ([proc.signal.usr1]'s cases do the same).
MARK_LUA = START_LUA + """
ngx.log(ngx.ERR, "mark ", ngx.receive(4))
ngx.say("ok")
ngx.wait_next_request()
"""


@spec("proc.user.logs", "proc.signal.usr1")
def test_usr1_reopens_logs_of_workers_running_as_user(server):
    """proc.user.logs: With workers running as another user, USR1 MUST still make every
    process write to the log files recreated under their configured names: the master reopens
    (creates) each file first and gives it to the workers' user ... which then reopen it."""
    srv = server(tcp="""
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        access_log logs/access_tcp.log;
        process_by_lua_file conf/t.lua;
    }""", main=ONE_WORKER, files={"conf/t.lua": MARK_LUA})
    worker = wait_workers(srv, 1)[0]
    uid = proc_ids(worker)["Uid"][1]
    logs = srv.prefix / "logs"
    error_log = srv.prefix / srv.adapter.error_log_name

    def session(mark):
        c = start_session(srv)
        c.send(mark)
        assert c.recv_line() == b"ok\n"
        c.close()

    session("aaaa")
    srv.wait_log("mark aaaa")
    os.rename(error_log, str(error_log) + ".old")
    os.rename(logs / "access_tcp.log", logs / "access_tcp.log.old")
    srv.signal(signal.SIGUSR1)
    # The worker reopens when its USR1 arrives: sessions until one's line is in the new file.
    deadline = time.monotonic() + 5
    n = 0
    while not (error_log.exists() and re.search(r"mark m\d{3}", error_log.read_text())):
        assert time.monotonic() < deadline, "no session's line reached the recreated error log"
        session("m%03d" % n)
        n += 1
        time.sleep(0.05)
    srv.wait_file("logs/access_tcp.log", r"\S")
    for path in (error_log, logs / "access_tcp.log"):
        assert path.stat().st_uid == uid, "%s belongs to uid %d, the worker runs as %d" % (
            path, path.stat().st_uid, uid)
    assert srv.proc.poll() is None and wait_workers(srv, 1) == [worker]


# -- dir.worker_rlimit_nofile / proc.rlimit_nofile --------------------------------------------------
SOFT, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)


def nr_open():
    with open("/proc/sys/fs/nr_open") as f:
        return int(f.read())


@spec("dir.worker_rlimit_nofile")
@pytest.mark.parametrize("value", ["x", "-1", "1k", "''"])
def test_worker_rlimit_nofile_invalid(impl, value):
    """dir.worker_rlimit_nofile: `worker_rlimit_nofile number` (main context) MUST accept a
    decimal number; anything else is the error `"worker_rlimit_nofile" directive invalid
    number`."""
    r = check_in(impl, "main", "worker_rlimit_nofile %s;" % value)
    r.assert_emerg('"worker_rlimit_nofile" directive invalid number', r.line_of(HERE))


@spec("cli.dump")
@pytest.mark.needs("cli.dump")
def test_worker_rlimit_nofile_in_effective_configuration(impl):
    """cli.dump (dir.worker_rlimit_nofile): Without it the descriptor limit is left as the implementation
    was started with; `-T` shows it only when it is set."""
    tree = parse(split_dump(impl.dump_config(main="worker_rlimit_nofile 4096;",
                                             tcp=SERVER).assert_ok().stdout)[1])
    assert args_of(tree, "worker_rlimit_nofile") == [["4096"]]
    tree = parse(split_dump(impl.dump_config(tcp=SERVER).assert_ok().stdout)[1])
    assert args_of(tree, "worker_rlimit_nofile") == []


@spec("proc.rlimit_nofile")
def test_workers_take_worker_rlimit_nofile(server):
    """proc.rlimit_nofile: With `master_process on`, each worker MUST set its `RLIMIT_NOFILE`
    soft and hard limits to the value of `worker_rlimit_nofile` ... As in nginx, the master
    and the single process of `master_process off` keep their own limit."""
    # Raising a hard limit needs CAP_SYS_RESOURCE, which a root in a container may lack: the
    # soft limit is raised to the hard one where it is below it, else both are lowered (which
    # anyone may do). Either way the worker's limits differ from the master's.
    n = HARD if SOFT < HARD else SOFT - 1
    srv = serve(server, START_LUA + 'ngx.say("ok")', main=ONE_WORKER + "worker_rlimit_nofile %d;" % n)
    worker = wait_workers(srv, 1)[0]
    assert proc_nofile(worker) == (n, n)
    assert proc_nofile(srv.pid) == (SOFT, HARD)
    assert start_session(srv).recv_until_close() == b"ok\n"


@spec("proc.rlimit_nofile")
def test_single_process_keeps_its_limit(server):
    """proc.rlimit_nofile: As in nginx, the master and the single process of
    `master_process off` keep their own limit."""
    srv = serve(server, START_LUA + 'ngx.say("ok")',
                main="master_process off;\nworker_rlimit_nofile %d;" % (SOFT - 1))
    assert start_session(srv).recv_until_close() == b"ok\n"
    assert proc_nofile(srv.pid) == (SOFT, HARD)


@spec("proc.rlimit_nofile")
def test_refused_worker_rlimit_nofile_is_logged(server):
    """proc.rlimit_nofile: When the system refuses, the worker MUST log `setrlimit(RLIMIT_NOFILE,
    N) failed (ERRNO: TEXT)` at `alert` level and go on with the limit it has."""
    n = max(nr_open(), HARD) + 1      # above fs.nr_open: refused even to root
    srv = serve(server, START_LUA + 'ngx.say("ok")', main=ONE_WORKER + "worker_rlimit_nofile %d;" % n)
    srv.wait_log(r"\[alert\] \d+#\d+: setrlimit\(RLIMIT_NOFILE, %d\) failed \(1: Operation not "
                 r"permitted\)" % n)
    assert proc_nofile(wait_workers(srv, 1)[0]) == (SOFT, HARD)
    assert start_session(srv).recv_until_close() == b"ok\n"


# -- proc.rlimit.warn -------------------------------------------------------------------------------
WARN = "%d worker_connections exceed open file resource limit: %d"
# name -> (main text, events text, (connections, limit) warned about or None)
LIMITS = {
    "rlimit": (ONE_WORKER + "worker_rlimit_nofile 64;", "worker_connections 1024;", (1024, 64)),
    "soft": ("", "worker_connections %d;" % (SOFT + 1), (SOFT + 1, SOFT)),
    "rlimit_above": (ONE_WORKER + "worker_rlimit_nofile %d;" % (SOFT + 10),
                     "worker_connections %d;" % (SOFT + 1), None),
    # worker_rlimit_nofile is the workers': the single process has the soft limit.
    "rlimit_single": ("master_process off;\nworker_rlimit_nofile 64;", "worker_connections 1024;",
                      None),
    "within": ("", "worker_connections 64;", None),
}


@spec("proc.rlimit.warn")
@pytest.mark.parametrize("case", sorted(LIMITS))
def test_fd_limit_warning_under_t(impl, case):
    """proc.rlimit.warn: When `worker_connections` exceeds the descriptor limit a worker will
    processes will have (the value of `worker_rlimit_nofile` when it is set and
    `master_process` is on, else the current soft `RLIMIT_NOFILE`), `-t` MUST print `tcplua: [warn] N worker_connections exceed open
    file resource limit: M` on stderr and still succeed."""
    main, events, warned = LIMITS[case]
    r = impl.test_config(main="%s\nevents {\n    %s\n}" % (main, events), tcp=SERVER)
    # The warning may come before "syntax is ok" or, as nginx prints it, after it.
    ok = ["%s: the configuration file %s syntax is ok" % (impl.program, r.conf),
          "%s: configuration file %s test is successful" % (impl.program, r.conf)]
    assert r.rc == 0 and [l for l in r.stderr.splitlines() if l in ok] == ok, r.stderr
    lines = [l for l in r.stderr.splitlines() if "open file resource limit" in l]
    assert lines == (["%s: [warn] %s" % (impl.program, WARN % warned)] if warned else []), r.stderr


@spec("proc.rlimit.warn")
def test_fd_limit_warning_at_start_up(server):
    """proc.rlimit.warn: starting the server MUST print the same line on stderr and log
    `N worker_connections exceed open file resource limit: M` at `warn` level in the error log,
    and start."""
    srv = serve(server, START_LUA + 'ngx.say("ok")',
                main="events {\n    worker_connections %d;\n}\n" % (SOFT + 1))
    assert start_session(srv).recv_until_close() == b"ok\n"
    warning = WARN % (SOFT + 1, SOFT)
    assert "%s: [warn] %s" % (srv.adapter.program, warning) in srv.stderr().splitlines()
    srv.wait_log(r"\[warn\] \d+#\d+: %s" % re.escape(warning))


# -- session.keepalive.default ----------------------------------------------------------------------
@spec("session.keepalive.default", "diff.keepalive_default", "dir.table")
@pytest.mark.needs("cli.dump")
def test_keepalive_timeout_default_is_75s(impl):
    """session.keepalive.default: without a `keepalive_timeout` directive the wait of
    `ngx.wait_next_request()` is bounded by 75 seconds ...; `keepalive_timeout 0` restores
    "never" (the effective values as -T shows them; the bound itself is
    test_session.py::test_keepalive_timeout_ends_idle_session with a short value)."""
    tree = parse(split_dump(impl.dump_config(tcp=SERVER).assert_ok().stdout)[1])
    for block in find(tree, "tcp") + find(tree, "tcp", "server"):
        assert [parse_time(a[0]) for a in args_of(block, "keepalive_timeout")] == [75000]
    tree = parse(split_dump(impl.dump_config(tcp="    keepalive_timeout 0;\n" + SERVER)
                            .assert_ok().stdout)[1])
    for block in find(tree, "tcp", "server"):
        assert [parse_time(a[0]) for a in args_of(block, "keepalive_timeout")] == [0]
