"""100,000 short connections (connect, request, reply, close) and 1,000 sessions ending in a
Lua error: the worker's RSS, sampled from /proc/PID/status, stays flat once warm.

How flat: the slope of a least-squares line through the samples of the second half, in KB
per 10,000 connections. A leak of one malloc'd object per connection costs at least 32 bytes
(glibc's smallest chunk), 312 KB per 10,000, so the bound of 64 KB per 10,000 fails on any
per-connection leak of C memory, and a leaked Lua object (a coroutine is ~1 KB) fails it
tenfold. Below the bound lie the noise of the allocators and of LuaJIT's incremental
collector."""
import re
import socket
import threading
import time

from conftest import slope_per
from tcplua_harness.procs import wait_until

# Sequential in spirit: each client thread does one connection at a time; a few threads keep
# the worker (not Python) the bottleneck. The worker is one process, so it still serves them
# one event at a time.
THREADS = 4
TOTAL = 100_000
SAMPLE_EVERY = 10_000
SLOPE_BOUND_KB = 64          # KB per 10,000 connections over the second half
DEADLINE = 120               # seconds for one test's connections (~20 s on loopback)
MAX_FAILURES = 20

ECHO = r"""
local d = ngx.receive(4)
if d then ngx.print(d) end
"""


def one(port, req, want):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(req)
        got = b""
        while True:
            data = s.recv(64)
            if not data:
                break
            got += data
    finally:
        s.close()
    assert got == want, (req, got, want)


def run_batch(port, n, request, expect, deadline):
    """n connections over THREADS threads; returns the failures. Gives up (one failure per
    connection not made) after MAX_FAILURES failures or at the deadline, so a hung server
    fails the test in bounded time instead of costing a read timeout per connection."""
    errors = []
    per = [n // THREADS + (1 if i < n % THREADS else 0) for i in range(THREADS)]

    def worker(count):
        for i in range(count):
            if len(errors) >= MAX_FAILURES or time.monotonic() > deadline:
                errors.extend(["not run: %s" % ("too many failures" if len(errors) >= MAX_FAILURES
                                                else "deadline")] * (count - i))
                return
            try:
                one(port, request, expect)
            except (OSError, AssertionError) as exc:
                errors.append(repr(exc))
    threads = [threading.Thread(target=worker, args=(c,)) for c in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def measure(srv, total, every, request, expect):
    """Runs `total` connections in batches of `every`, sampling RSS after each; returns
    ([(connections so far, RSS KB)], failures, seconds)."""
    samples = [(0, srv.rss())]
    failures = []
    t0 = time.monotonic()
    deadline = t0 + DEADLINE
    for done in range(every, total + 1, every):
        failures += run_batch(srv.port, every, request, expect, deadline)
        samples.append((done, srv.rss()))
        if failures:
            break
    return samples, failures, time.monotonic() - t0


def second_half_slope(samples, unit):
    half = samples[len(samples) // 2:]
    return slope_per(half, unit)


def test_hundred_thousand_sequential_connections(tcplua, figures):
    srv = tcplua(ECHO)
    samples, failures, secs = measure(srv, TOTAL, SAMPLE_EVERY, b"ping", b"ping")
    figures("connections", TOTAL)
    figures("failed connections", len(failures))
    assert not failures, failures[:5]
    slope = second_half_slope(samples, 10_000)
    srv.assert_healthy()
    figures("time", round(secs, 1), "s")
    figures("connections per second", int(TOTAL / secs))
    figures("RSS samples (connections: KB)", ", ".join("%dk: %d" % (c // 1000, k) for c, k in samples))
    figures("RSS slope over the second half", round(slope, 1), "KB per 10k connections")
    assert slope < SLOPE_BOUND_KB, samples


# The issue asks for 1,000 errors; 10,000 (after 1,000 to warm up) cost two seconds and make
# the slope's resolution fine enough for the same bound: one 4 KB page more over the second
# half is 8 KB per 10,000.
ERRORS = 10_000
ERRORS_WARMUP = 1_000
ERROR_SAMPLE_EVERY = 1_000

FAIL = r"""
local d = ngx.receive(4)
error("abuse error " .. tostring(d))
"""


def test_lua_errors(tcplua, figures):
    """Each of 11,000 sessions raises a Lua error: logged at error level (SPEC [session.end.error]),
    the connection closed, the worker alive, its RSS flat."""
    srv = tcplua(FAIL)
    failures = run_batch(srv.port, ERRORS_WARMUP, b"warm", b"", time.monotonic() + DEADLINE)
    assert not failures, failures[:5]
    samples, failures, secs = measure(srv, ERRORS, ERROR_SAMPLE_EVERY, b"boom", b"")
    assert not failures, failures[:5]
    total = ERRORS_WARMUP + ERRORS
    pattern = re.compile(r"^\S+ \S+ \[error\] .*abuse error (warm|boom)", re.M)
    count = [0]

    def all_logged():
        count[0] = len(pattern.findall(srv.error_log()))
        return count[0] >= total
    wait_until(all_logged, 10, lambda: "%d of %d errors logged" % (count[0], total))
    slope = second_half_slope(samples, 10_000)
    srv.assert_healthy()
    figures("sessions ending in a Lua error", total, "(%d warm-up)" % ERRORS_WARMUP)
    figures("failed connections", len(failures))
    figures("error lines logged", count[0])
    figures("time", round(secs, 2), "s")
    figures("RSS samples (errors: KB)", ", ".join("%dk: %d" % (c // 1000, k) for c, k in samples))
    figures("RSS slope over the second half", round(slope, 1), "KB per 10k errors")
    assert count[0] == total
    assert slope < SLOPE_BOUND_KB, samples
