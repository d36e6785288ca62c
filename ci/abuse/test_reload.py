"""Reloads and worker deaths under a load of keepalive clients (SPEC [session.keepalive.client],
[proc.graceful.buffered], [proc.lingering_close], [proc.respawn]).

CLIENTS threads each open connections in a loop and send REQS requests per connection, one at
a time (an 8-byte id; the reply is the id and the serving worker's PID). Every request ends in
exactly one of:

- ok: its full reply;
- clean close: an EOF before any byte of its reply, and the connection then closes without a
  reset; SPEC says the request was not read, so the client sends it again on a new connection;
- reset: an RST (on a read, a write, or answering bytes that crossed the server's close);
- half-served: part of a reply, then the close;
- lost: no reply and no close within TIMEOUT.

test_reloads_lose_nothing: 20 reloads (HUP to the master, waiting each time until the new
worker answers) while the load runs; 0 resets, 0 half-served, 0 lost, and every request served
exactly once (the script counts each id in a shared dict, which survives reloads: a request
whose reply was lost, or one served twice after a retry, shows up there).
test_worker_kill_loses_only_its_sessions: two workers; one is killed with SIGKILL under load;
only connections of that worker may fail, the master starts a replacement.

Servers start through conftest.py's `tcplua` fixture. The per-reload table is printed
(pytest -s shows it) and written to build/abuse-reload.txt; the totals go to the `figures`
report (build/abuse-report.md) with the other tests'.
"""
import collections
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from conftest import BIN
from tcplua_harness.procs import alive, children, wait_until

FIGURES = Path(BIN).parent / "abuse-reload.txt"

CLIENTS = 50
REQS = 5              # requests per connection
RELOADS = 20
LOAD_PER_RELOAD = 1.0  # seconds of load between a new worker's first answer and the next HUP
TIMEOUT = 5.0         # a reply (or a close) later than this is a lost request
TCP_CLOSE = 7

SCRIPT = r"""
local pid = io.open("/proc/self/stat"):read("*l"):match("^%d+")
local seen = ngx.shared.seen
while true do
    local id = ngx.receive(8)
    if not id then return end
    if id == "CHECK..." then
        local keys, twice = seen:get_keys(0), 0
        for _, k in ipairs(keys) do if seen:get(k) ~= 1 then twice = twice + 1 end end
        ngx.print(#keys, " ", twice, "\n")
        return
    end
    if id:sub(1, 1) ~= "P" then seen:incr(id, 1, 0) end
    ngx.print(id, " ", pid, "\n")
    ngx.wait_next_request()
end
"""


def start_server(tcplua, workers):
    """A master with `workers` workers serving SCRIPT, with the shared dict it counts in."""
    return tcplua(SCRIPT, tcp_extra="lua_shared_dict seen 128m;", server_extra="access_log off;",
                  workers=workers)


def report(lines):
    text = "\n".join(lines) + "\n"
    sys.__stdout__.write("\n" + text)
    with open(FIGURES, "a") as f:
        f.write(text)


# -- one client's connections ---------------------------------------------------------------------
def ask(sock, rid):
    """Sends one request and reads its reply line: ("ok", pid) | ("clean", None) | ("reset",
    text) | ("half", bytes) | ("lost", bytes)."""
    try:
        sock.sendall(rid)
    except OSError as exc:             # EPIPE / ECONNRESET: the server reset the connection
        return "reset", repr(exc)
    buf = b""
    deadline = time.monotonic() + TIMEOUT
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return "lost", buf
        sock.settimeout(left)
        try:
            data = sock.recv(256)
        except socket.timeout:
            return "lost", buf
        except OSError as exc:
            return "reset", repr(exc)
        if not data:
            return ("clean", None) if not buf else ("half", buf)
        buf += data
    if not buf.startswith(rid + b" "):
        return "half", buf
    return "ok", int(buf[len(rid) + 1:])


def ended_cleanly(sock):
    """After the server's EOF: close this side and wait for the end of the connection; False
    when it was reset (an RST answered bytes that crossed the server's close)."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + TIMEOUT
        while sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != TCP_CLOSE:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    except OSError:
        return False


class Load:
    """CLIENTS threads of keepalive clients; outcomes counted per epoch (the reload index, or
    before/after a kill) and per serving PID."""

    def __init__(self, port):
        self.port = port
        self.epoch = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = collections.defaultdict(collections.Counter)   # epoch -> outcome -> n
        self.by_pid = collections.defaultdict(collections.Counter)   # pid -> outcome -> n
        self.examples = []
        self.ok = 0
        self.threads = [threading.Thread(target=self.client, args=(t,), daemon=True)
                        for t in range(CLIENTS)]

    def count(self, outcome, pid, detail=None):
        with self.lock:
            self.counts[self.epoch][outcome] += 1
            self.by_pid[pid][outcome] += 1
            if outcome == "ok":
                self.ok += 1
            elif outcome not in ("clean", "conn") and len(self.examples) < 10:
                self.examples.append((self.epoch, outcome, pid, detail))

    def client(self, tid):
        seq, retry = 0, []
        while not self.stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
            except OSError as exc:
                self.count("connect_error", None, repr(exc))
                time.sleep(0.01)
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.count("conn", None)
            pid = None
            with sock:
                for _ in range(REQS):
                    if retry:
                        rid = retry.pop()
                    else:
                        seq += 1
                        rid = b"%02d%06d" % (tid, seq)
                    outcome, detail = ask(sock, rid)
                    if outcome == "ok":
                        pid = detail
                        self.count("ok", pid)
                        continue
                    if outcome == "clean":
                        retry.append(rid)      # not read by the server: safe to send again
                        if not ended_cleanly(sock):
                            outcome, detail = "reset", "RST after the EOF"
                    self.count(outcome, pid, detail)
                    break

    def run(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(TIMEOUT * 3)
        assert not any(t.is_alive() for t in self.threads), "a client thread hung"

    def failures(self, counter):
        return sum(counter[k] for k in ("reset", "half", "lost", "connect_error"))


def probe(port):
    """The PID answering a new connection (the listener's current worker), or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
            outcome, pid = ask(s, b"PROBE...")
            return pid if outcome == "ok" else None
    except OSError:
        return None


def served_counts(port):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(b"CHECK...")
        s.settimeout(30)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            assert chunk, "CHECK: connection closed after %r" % data
            data += chunk
    keys, twice = data.split()
    return int(keys), int(twice)


# -- the tests ------------------------------------------------------------------------------------
def test_reloads_lose_nothing(tcplua, figures):
    srv = start_server(tcplua, 1)
    load = Load(srv.port)
    started = time.monotonic()
    load.run()
    time.sleep(LOAD_PER_RELOAD)
    for i in range(1, RELOADS + 1):
        old = children(srv.master)
        load.epoch = i
        os.kill(srv.master, signal.SIGHUP)
        wait_until(lambda: probe(srv.port) not in old + [None], 10,
                   "reload %d: no new worker answered" % i)
        time.sleep(LOAD_PER_RELOAD)
    load.finish()
    elapsed = time.monotonic() - started
    wait_until(lambda: len(children(srv.master)) == 1, 10, "old workers still running")
    keys, twice = served_counts(srv.port)

    total = collections.Counter()
    lines = ["reloads under keepalive load: %d clients, %d requests per connection, %d reloads, "
             "%.1f s" % (CLIENTS, REQS, RELOADS, elapsed)]
    for epoch in sorted(load.counts):
        c = load.counts[epoch]
        total += c
        if not c:
            continue
        name = "before the first reload" if epoch == 0 else "reload %2d" % epoch
        lines.append("  %-24s connections %6d  failed %d (reset %d, half-served %d, lost %d)  "
                     "clean closes retried %d" % (name, c["conn"], load.failures(c), c["reset"],
                                                  c["half"], c["lost"], c["clean"]))
    lines.append("  total: %d connections, %d requests answered, %d failed connections "
                 "(reset %d, half-served %d, lost %d, connect errors %d), %d clean closes "
                 "retried; served once: %d of %d ids, %d served more than once"
                 % (total["conn"], load.ok, load.failures(total), total["reset"], total["half"],
                    total["lost"], total["connect_error"], total["clean"], keys - twice, keys,
                    twice))
    report(lines)
    figures("reloads", RELOADS)
    figures("connections", total["conn"])
    figures("requests answered", load.ok)
    figures("failed connections (reset, half-served, lost)", load.failures(total))
    figures("requests met by a clean close and resent", total["clean"])
    assert load.failures(total) == 0, load.examples
    assert twice == 0, "%d requests were served more than once" % twice
    assert keys == load.ok, "%d requests served, %d answered: replies were lost" % (keys, load.ok)


def test_worker_kill_loses_only_its_sessions(tcplua, figures):
    srv = start_server(tcplua, 2)
    workers = children(srv.master)
    load = Load(srv.port)
    load.run()
    # Both workers serve before one dies (bounded: a worker may get few connections).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(load.by_pid[w]["ok"] for w in workers):
        time.sleep(0.05)
    victim = workers[0]
    load.epoch = 1
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(children(srv.master)) == 2 and victim not in children(srv.master), 10,
               "no replacement for the killed worker")
    time.sleep(1.0)
    load.finish()
    assert not alive(victim)

    others = collections.Counter()
    for pid, c in load.by_pid.items():
        if pid not in (victim, None):
            others += c
    # A connection that failed before its first reply cannot name its worker; only a worker
    # that accepted it can end it, and the living ones end none unanswered: it was the victim's.
    mine = load.by_pid[victim] + load.by_pid[None]
    report(["worker SIGKILL under keepalive load: %d clients, 2 workers; killed worker: %d "
            "failed connections (reset %d, half-served %d, lost %d), %d requests answered; other "
            "workers: %d requests answered, %d failed connections"
            % (CLIENTS, load.failures(mine), mine["reset"], mine["half"], mine["lost"],
               mine["ok"], others["ok"], load.failures(others))])
    figures("killed worker's failed connections", load.failures(mine))
    figures("other workers' failed connections", load.failures(others))
    assert load.failures(others) == 0, load.examples
    assert sum(c["connect_error"] for c in load.counts.values()) == 0, load.examples
    assert others["ok"] > 0
