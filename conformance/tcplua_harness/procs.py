"""Processes and sockets seen from outside, through /proc: the implementation's process tree,
the sockets a process holds, bounded polling, and the clean-up of processes a case left behind.

Nothing here knows an implementation: a PID is all it needs, so cases may judge master and
worker processes, daemons and pid files of any implementation with it.
"""
import ctypes
import os
import signal
import time

_GONE = "ZXx"          # /proc/PID/stat states of a process that has exited (zombie, dead)


def proc_stat(pid):
    """(state, ppid, session) of a process from /proc/PID/stat, None if it does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ")".
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[3])


def alive(pid):
    """The process exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] not in _GONE


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children(pid):
    """Live (non-zombie) child processes of pid, sorted."""
    kids = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[1] == pid and st[0] not in _GONE:
            kids.append(p)
    return sorted(kids)


def wait_until(predicate, timeout, what):
    """Poll predicate() every 20 ms until it returns a true value (returned); fail after
    timeout seconds with `what` (a string, or a callable returning one) in the message."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("after %gs: %s" % (timeout, what() if callable(what) else what))
        time.sleep(0.02)


def read_pid_file(path):
    """Text of a pid file (a pathlib.Path), None if it does not exist."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


# -- sockets --------------------------------------------------------------------------------------
def _tcp_sockets():
    """(local port, remote port, state, inode) of every IPv4 and IPv6 TCP socket, from
    /proc/net/tcp*: fields sl local_address rem_address st ... inode (index 9)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            yield (int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16),
                   fields[3], fields[9])


def listening_inodes(port):
    """Inodes of the sockets listening on `port` (IPv4 or IPv6); state 0A is LISTEN."""
    return {inode for local, _, state, inode in _tcp_sockets() if state == "0A" and local == port}


def connection_inode(local_port, remote_port):
    """Inode of the socket whose local port is local_port and remote port remote_port (the
    server's side of one client connection), from /proc/net/tcp*: "0" while no process has
    accepted it yet, None when there is no such socket."""
    for local, remote, _, inode in _tcp_sockets():
        if local == local_port and remote == remote_port:
            return inode
    return None


def socket_inodes(pid):
    """Inodes of the sockets process pid holds open (empty if it cannot be read)."""
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


# -- what a case leaves running -------------------------------------------------------------------
def become_subreaper():
    """Make this process adopt its orphaned descendants (a daemonized server, workers whose
    master died) instead of init, so that they can be found and killed by PID."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def own_children():
    """{pid: state} of the direct children of this process, zombies included."""
    me = os.getpid()
    kids = {}
    for p in all_pids():
        st = proc_stat(p)
        if st and st[1] == me:
            kids[p] = st[0]
    return kids


def reap_children(keep, timeout=5):
    """Kill (by PID) and reap every child of this process not in `keep`: what a case left
    running, adopted daemons and orphaned workers included. Gives up after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = {p: st for p, st in own_children().items() if p not in keep}
        if not kids:
            return
        for pid, state in kids.items():
            if state not in _GONE:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.05)


def proc_ids(pid):
    """{"Uid": [real, effective, saved, fs], "Gid": [...], "Groups": [...]} of a process, from
    /proc/PID/status (ints): which user a worker runs as."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(v) for v in value.split()]
    return ids


def proc_nofile(pid):
    """(soft, hard) RLIMIT_NOFILE of a process, from /proc/PID/limits ("unlimited" as -1)."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line[len("Max open files"):].split()[:2]
                return tuple(-1 if v == "unlimited" else int(v) for v in (soft, hard))
    raise AssertionError("/proc/%d/limits has no 'Max open files' line" % pid)
