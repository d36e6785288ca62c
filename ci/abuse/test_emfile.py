"""Descriptor exhaustion, SPEC [proc.accept.emfile]: a server started with RLIMIT_NOFILE 64
gets more clients than it has descriptors. Accepting pauses (a crit line per pause, not per
attempt), the sessions it holds keep being served, and once clients close, the ones waiting
in the listen queue are accepted and served."""
import re
import selectors
import socket
import time

from conftest import fd_count
from tcplua_harness.procs import wait_until

NOFILE = 64
CLIENTS = 120          # well above NOFILE, well below the listen backlog (511)
PAUSE_MAX = 1.0        # SPEC: a pause lasts 100 ms to 1 s

# Greets (proving the session runs), then echoes 4-byte requests until the client closes.
SCRIPT = r"""
ngx.say("hi")
while true do
    local d = ngx.receive(4)
    if not d then return end
    ngx.say("echo ", d)
end
"""
CRIT_RE = re.compile(r"\[crit\] .*accept4?\(\) .*failed \(24: Too many open files\)")


def greeted(socks, want, timeout):
    """The sockets of `socks` that received "hi\n": as soon as `want` did, or those that did
    within timeout seconds."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
        bufs[s] = b""
        sel.register(s, selectors.EVENT_READ)
    done = []
    deadline = time.monotonic() + timeout
    while len(done) < want and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0, deadline - time.monotonic())):
            s = key.fileobj
            data = s.recv(16)
            assert data, "a client was closed before its greeting"
            bufs[s] += data
            if len(bufs[s]) >= 3:
                assert bufs[s] == b"hi\n", bufs[s]
                sel.unregister(s)
                del bufs[s]
                done.append(s)
    sel.close()
    for s in socks:
        s.setblocking(True)
        s.settimeout(5)
    return done


def echo(s, req):
    s.sendall(req)
    want = b"echo " + req + b"\n"
    got = b""
    while len(got) < len(want):
        data = s.recv(64)
        assert data, "closed after %r" % got
        got += data
    assert got == want


def test_descriptor_exhaustion(tcplua, figures):
    srv = tcplua(SCRIPT, events="worker_connections 1024;", nofile=NOFILE)
    base_fds = fd_count(srv.worker)
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(CLIENTS)]
    srv.wait_log(CRIT_RE.pattern, timeout=5)
    t_first_crit = time.monotonic()
    # The worker takes what its descriptors allow; the rest wait in the listen queue.
    # Every descriptor the idle worker did not use is one session.
    capacity = NOFILE - base_fds
    held = greeted(socks, capacity, 5)
    queued = [s for s in socks if s not in held]
    assert len(held) == capacity, (len(held), capacity)
    assert fd_count(srv.worker) == NOFILE

    # While out of descriptors it keeps serving the sessions it holds.
    for i, s in enumerate(held):
        echo(s, b"%04d" % i)
    time.sleep(0.5)                           # a window in which pauses repeat
    crit_lines = len(CRIT_RE.findall(srv.error_log()))
    paused_for = time.monotonic() - t_first_crit
    # One line per pause (>= 100 ms each), not one per attempt; +3 for the first line's
    # detection delay and a pause under way.
    assert 1 <= crit_lines <= paused_for / 0.1 + 3, (crit_lines, paused_for)

    # Recovery: the held clients leave; the queued ones are accepted within a pause or so.
    # They may again be more than the descriptors: each wave is served as the previous leaves.
    waves = []
    t0 = time.monotonic()
    leaving, waiting = held, queued
    while waiting:
        for s in leaving:
            s.close()
        now_held = greeted(waiting, min(len(waiting), capacity), 10 * PAUSE_MAX)
        waves.append((len(now_held), round(time.monotonic() - t0, 2)))
        assert len(now_held) == min(len(waiting), capacity), (
            "%d of %d queued clients accepted after %d left" % (len(now_held), len(waiting), len(leaving)))
        for i, s in enumerate(now_held):
            echo(s, b"%04d" % i)
        leaving, waiting = now_held, [s for s in waiting if s not in now_held]
    for s in leaving:
        s.close()
    wait_until(lambda: fd_count(srv.worker) <= base_fds, 10,
               lambda: "worker holds %d descriptors more" % (fd_count(srv.worker) - base_fds))
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        assert s.recv(3) == b"hi\n"
    srv.assert_healthy()

    figures("server RLIMIT_NOFILE", NOFILE)
    figures("clients", CLIENTS)
    figures("sessions held while out of descriptors", len(held))
    figures("clients left in the listen queue", len(queued))
    figures("crit lines while paused", crit_lines, "(in %.1f s)" % paused_for)
    figures("recovery: queued clients served after the held ones closed", waves[0][0],
            "in %.2f s" % waves[0][1])
    figures("waves (clients served, seconds after the first close)", waves)
