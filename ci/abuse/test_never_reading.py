"""A client that sends its request and never reads while the script prints 100 MB in 64 KB
chunks. SPEC [output.nodrop]: print waits once more than 64 KiB is queued, and returns
nil, "timeout" when send_timeout passes without the client taking a byte. So the worker's
memory stays bounded by the queue (not the 100 MB), the session ends about send_timeout
after the kernel's buffers filled, and other clients are served meanwhile."""
import re
import socket
import time

from conftest import fd_count
from tcplua_harness.procs import wait_until

SEND_TIMEOUT = 2.0
TOTAL = 100 * 1024 * 1024
CHUNK = 64 * 1024
RSS_BOUND_KB = 16 * 1024

# "big\n" prints 100 MB (logging how far it got), "ping" answers "pong".
SCRIPT = r"""
local req = ngx.receive(4)
if req ~= "big\n" then ngx.print("pong") return end
local chunk = string.rep("x", %d)
local total = 0
for i = 1, %d do
    local n, err = ngx.print(chunk)
    if not n then
        ngx.log(ngx.ERR, "print failed after ", total, " bytes: ", err)
        return
    end
    total = total + n
end
ngx.log(ngx.ERR, "printed all ", total, " bytes")
""" % (CHUNK, TOTAL // CHUNK)


def ping(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"ping")
        return s.makefile("rb").read()


def queued(sock):
    """Bytes waiting in the client's receive queue (SIOCINQ)."""
    import fcntl
    import struct
    import termios
    return struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, b"\0\0\0\0"))[0]


def test_never_reading_client_of_100mb(tcplua, figures):
    srv = tcplua(SCRIPT, server_extra="send_timeout %gs;" % SEND_TIMEOUT,
                 tcp_extra="log_format sent '$connection_requests $bytes_sent $request_time';\n"
                           "access_log logs/sent.log sent;")
    assert ping(srv.port) == b"pong"           # warm: the VM and buffers have been used once
    base_rss, base_fds = srv.rss(), fd_count(srv.worker)
    peak = base_rss
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    slow.sendall(b"big\n")
    t0 = last_growth = time.monotonic()
    last_q = 0
    pongs = 0
    log_re = re.compile(r"print failed after (\d+) bytes: (\w+)|printed all")
    deadline = t0 + SEND_TIMEOUT + 20
    while True:
        now = time.monotonic()
        assert now < deadline, "session did not end\n" + srv.inst.diagnostics()
        peak = max(peak, srv.rss())
        q = queued(slow)
        if q != last_q:
            last_q, last_growth = q, now
        m = log_re.search(srv.error_log())
        if m:
            break
        assert ping(srv.port) == b"pong"       # others are served while it waits
        pongs += 1
        time.sleep(0.02)                        # the sampling period
    t_end = time.monotonic()
    assert m.group(0) != "printed all", "100 MB printed to a client that never reads"
    printed, err = int(m.group(1)), m.group(2)
    assert err == "timeout", m.group(0)
    # The session is over: its descriptor is closed without the client reading anything.
    wait_until(lambda: fd_count(srv.worker) <= base_fds, 5,
               lambda: "worker holds %d descriptors more" % (fd_count(srv.worker) - base_fds))
    t_closed = time.monotonic()
    peak = max(peak, srv.rss())
    # Now the client reads: what the kernel held, then the close (an EOF, not a reset).
    slow.settimeout(10)
    got = 0
    while True:
        data = slow.recv(1 << 20)
        if not data:
            break
        got += len(data)
        assert data.count(b"x") == len(data)
    slow.close()
    assert ping(srv.port) == b"pong"
    # The session's end is in the access log like any other's, with what it printed.
    line = srv.inst.wait_file("logs/sent.log", r"^1 (\d{6,}) (\S+)$", timeout=2)
    logged_bytes, logged_time = int(line.group(1)), float(line.group(2))
    srv.assert_healthy()

    figures("bytes printed before the timeout", printed, "B")
    figures("bytes the client then read", got, "B")
    figures("worker RSS before", base_rss, "KB")
    figures("worker RSS peak during the print", peak, "KB")
    figures("worker RSS growth (peak - before)", peak - base_rss, "KB")
    figures("time from request to print's timeout logged", round(t_end - t0, 2), "s")
    figures("time from request to connection closed", round(t_closed - t0, 2), "s")
    figures("client's receive queue last grew after", round(last_growth - t0, 2), "s")
    figures("access log: $bytes_sent, $request_time", "%d, %.3f" % (logged_bytes, logged_time))
    figures("other clients served meanwhile", pongs)
    assert peak - base_rss < RSS_BOUND_KB
    assert got <= printed + CHUNK
    assert printed <= logged_bytes <= printed + CHUNK
    assert SEND_TIMEOUT - 0.05 <= logged_time <= SEND_TIMEOUT + 3
    # Ended by send_timeout: the worker's last write came after the request (t0), so the
    # timeout cannot fire before t0 + send_timeout; the kernel's buffers fill in well under a
    # second on loopback, so it fires soon after.
    assert SEND_TIMEOUT - 0.05 <= t_end - t0 <= SEND_TIMEOUT + 3
    assert pongs >= 10
