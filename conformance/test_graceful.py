"""SPEC §4-§5: stops and reloads that lose nothing ([proc.graceful.buffered]), the lingering
close ([proc.lingering_close]) and what a client of a keepalive connection may rely on
([session.keepalive.client]).

Judged on the wire. A reset is what these clauses forbid, and a client that has already read
the server's FIN does not see one in recv() (Linux returns EOF after a FIN whatever comes
next): `ends_cleanly` therefore sends what it is given, closes the client's side too and waits
until the kernel's TCP state of the client socket is CLOSE, reached both by a clean close and
by an RST; the socket's pending error then tells which of the two it was.

Provoking "a request already arrived when the stop began": the worker is kept busy (another
session spins for BUSY seconds without yielding) while the request and the signal both reach
it, so both are pending when its event loop next polls. The assertion holds in every order in
which the worker may handle them; only an implementation that closes the idle session without
looking at its socket fails (it resets the connection or drops the request).
"""
import signal
import socket
import time

import pytest

from tcplua_harness.cases import SINGLE, server_block, start_session, wait_workers
from tcplua_harness.client import DEADLINE
from tcplua_harness.procs import children, connection_inode, wait_until

spec = pytest.mark.spec
needs = pytest.mark.needs

MASTER1 = "master_process on;\nworker_processes 1;\n"
MODES1 = [pytest.param(SINGLE, id="single"), pytest.param(MASTER1, id="master")]
LINGER_MAX = 5.0     # [proc.lingering_close]: "5 seconds after the FIN at the latest"
BUSY = 1.0           # how long BUSY_LUA keeps its worker from polling

TCP_CLOSE = 7        # tcpi_state of a socket that is fully closed (linux/tcp_states.h)

# A keepalive session: says "ready", then answers each 4-byte request with "got REQ".
KEEPALIVE_LUA = """
ngx.receive(1)
ngx.say("ready")
while true do
    ngx.wait_next_request()
    local d = ngx.receive(4)
    ngx.say("got ", d)
end
"""
# Keeps its worker busy for BUSY seconds without yielding, so that events queue up meanwhile.
BUSY_LUA = """
ngx.receive(1)
ngx.log(ngx.NOTICE, "busy-start")
local t = ngx.now()
repeat ngx.update_time() until ngx.now() - t >= %s
ngx.say("busy-done")
""" % BUSY


def tcp_state(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def ends_cleanly(c, data=b""):
    """After the server's EOF: send `data` (bytes crossing the server's close, which it must
    read and discard), close the client's side, and wait until the connection is fully
    closed. Returns None for a clean end, else a text saying how it was reset."""
    __tracebackhide__ = True
    assert c.eof, "ends_cleanly() is for a connection whose EOF was seen"
    if c.reset:
        return "the server's close was a reset"
    try:
        if data:
            c.sock.sendall(data)
        c.sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        return "sending after the EOF failed: %r (the server reset the connection)" % exc
    wait_until(lambda: tcp_state(c.sock) == TCP_CLOSE, DEADLINE,
               lambda: "the connection did not close (TCP state %d)" % tcp_state(c.sock))
    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return None if err == 0 else "the server reset the connection (error %d)" % err


def keepalive_server(server, main, extra=""):
    return server(tcp=server_block(0, lua_file="conf/ka.lua", extra=extra)
                  + server_block(1, lua_file="conf/busy.lua"),
                  main=main, files={"conf/ka.lua": KEEPALIVE_LUA, "conf/busy.lua": BUSY_LUA})


def keep_busy(srv):
    """Starts a BUSY_LUA session and returns its client once the worker is spinning."""
    busy = start_session(srv, 1)
    srv.wait_log(r"busy-start")
    return busy


# -- proc.graceful.buffered -----------------------------------------------------------------------
@spec("proc.graceful.buffered", "proc.signal.quit", "session.keepalive.client")
@needs("wait_next_request")
@pytest.mark.parametrize("mode", MODES1)
def test_quit_serves_a_request_that_arrived(server, mode):
    """proc.graceful.buffered: "A gracefully stopping worker (QUIT, ...) MUST serve every
    request whose bytes reached it before it closes that request's connection: a session
    waiting in ngx.wait_next_request() when the stop begins is resumed when bytes of its next
    request are ... readable from its connection at that moment". The request and the QUIT
    reach a busy worker together: the reply comes, then an EOF, and no reset."""
    srv = keepalive_server(server, mode)
    c = start_session(srv, 0)
    assert c.recv_line() == b"ready\n"          # sent after the session began to wait
    busy = keep_busy(srv)
    c.send(b"req1")
    srv.signal(signal.SIGQUIT)
    assert c.recv_until_close(BUSY + DEADLINE) == b"got req1\n", "reset" if c.reset else ""
    assert ends_cleanly(c) is None
    assert busy.recv_until_close() == b"busy-done\n"
    busy.close()
    assert srv.wait_exit(DEADLINE) == 0


@spec("proc.graceful.buffered", "proc.signal.quit")
@needs("wait_next_request")
def test_quit_serves_pipelined_requests_then_ends(server):
    """proc.graceful.buffered: "a call of ngx.wait_next_request() during the stop returns
    when bytes are buffered or readable at the moment of the call, and otherwise ends the
    session without resuming the script." Three requests in one write reach a busy worker
    with the QUIT: all three are answered, then the session ends (EOF) instead of waiting
    for a fourth."""
    srv = keepalive_server(server, SINGLE)
    c = start_session(srv, 0)
    assert c.recv_line() == b"ready\n"
    busy = keep_busy(srv)
    c.send(b"aaaabbbbcccc")
    srv.signal(signal.SIGQUIT)
    assert c.recv_until_close(BUSY + DEADLINE) == b"got aaaa\ngot bbbb\ngot cccc\n"
    assert ends_cleanly(c) is None
    busy.close()
    assert srv.wait_exit(DEADLINE) == 0


@spec("proc.graceful.buffered", "proc.signal.hup", "session.keepalive.client")
@needs("wait_next_request", "master_process", "reload")
def test_reload_serves_requests_that_arrived(server):
    """proc.signal.hup: the old workers shut down gracefully as for QUIT, "and a reload loses
    no request whose bytes reached an old worker". Several idle keepalive connections of the
    old worker get their next request while it is busy and the reload's QUIT reaches it: each
    gets its full reply from the old script, then an EOF, no reset."""
    srv = keepalive_server(server, MASTER1)
    old = wait_workers(srv, 1)
    clients = [start_session(srv, 0) for _ in range(6)]
    for c in clients:
        assert c.recv_line() == b"ready\n"
    busy = keep_busy(srv)
    srv.signal(signal.SIGHUP)
    # The master starts the new worker, then sends QUIT to the old one (still busy).
    wait_until(lambda: len(children(srv.pid)) == 2, DEADLINE, "no new worker after HUP")
    for i, c in enumerate(clients):
        c.send(b"r%03d" % i)
    for i, c in enumerate(clients):
        assert c.recv_until_close(BUSY + DEADLINE) == b"got r%03d\n" % i, (
            "connection %d%s" % (i, " was reset" if c.reset else ""))
        assert ends_cleanly(c) is None, "connection %d" % i
    busy.close()
    wait_until(lambda: old[0] not in children(srv.pid), DEADLINE, "the old worker did not exit")


# -- proc.lingering_close -------------------------------------------------------------------------
@spec("proc.lingering_close", "proc.graceful.buffered", "session.keepalive.client")
@needs("wait_next_request")
@pytest.mark.parametrize("mode", MODES1)
def test_quit_closes_idle_connection_lingering(server, mode):
    """proc.lingering_close: a graceful stop ends an idle session with nothing arrived; the
    implementation "MUST close it the lingering way: ... send its FIN ..., then read and
    discard whatever the client still sends ... A client that sends across the close ...
    thus sees an EOF, never a reset (RST)." A client that keeps sending requests after the
    stop closed its idle connection: EOF, no reply byte, no reset; the worker then exits."""
    srv = keepalive_server(server, mode)
    c = start_session(srv, 0)
    assert c.recv_line() == b"ready\n"
    srv.signal(signal.SIGQUIT)
    c.expect_closed()
    assert ends_cleanly(c, b"req2" * 1000) is None
    assert srv.wait_exit(DEADLINE) == 0


@spec("proc.lingering_close", "session.keepalive.client")
@needs("wait_next_request")
def test_keepalive_timeout_close_lingers(server):
    """proc.lingering_close: when `keepalive_timeout` fired the implementation MUST close the
    connection the lingering way; a request sent across that close sees an EOF without any
    reply byte (session.keepalive.client: the client may send it again), never a reset."""
    srv = keepalive_server(server, SINGLE, extra="keepalive_timeout 100ms;")
    c = start_session(srv, 0)
    assert c.recv_line() == b"ready\n"
    c.expect_closed()
    assert ends_cleanly(c, b"late") is None
    again = start_session(srv, 0)               # ... and sent again, it is served
    assert again.recv_line() == b"ready\n"
    again.send(b"late")
    assert again.recv_line() == b"got late\n"


END_SCRIPTS = {
    "return": 'ngx.receive(1) ngx.say("bye")',
    "exit": 'ngx.receive(1) ngx.say("bye") ngx.exit(0) ngx.say("never")',
    "error": 'ngx.receive(1) ngx.say("bye") error("boom")',
}


@spec("proc.lingering_close")
@pytest.mark.parametrize("how", sorted(END_SCRIPTS))
def test_session_end_closes_lingering(server, how):
    """proc.lingering_close: "When the implementation ends a client connection whose client
    has not closed its side (the script returned, called ngx.exit() or raised an error ...),
    it MUST close it the lingering way": the output, then an EOF; what the client sends after
    it is discarded, never answered with a reset."""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"), main=SINGLE,
                 files={"conf/t.lua": END_SCRIPTS[how]})
    c = start_session(srv, 0)
    assert c.recv_until_close() == b"bye\n"
    assert ends_cleanly(c, b"more data\n" * 100) is None


@spec("proc.lingering_close")
def test_lingering_ends_within_five_seconds(server):
    """proc.lingering_close: after its FIN the implementation reads what the client still
    sends and releases the socket "when the client closes its side, or 5 seconds after the FIN
    at the latest". Seen in the kernel's TCP table: after the EOF the server still holds its
    socket (a process owns it: it can read), and lets it go within 5 seconds although this
    client never closes."""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"), main=SINGLE,
                 files={"conf/t.lua": 'ngx.receive(1) ngx.say("bye")'})
    c = start_session(srv, 0)
    assert c.recv_until_close() == b"bye\n"
    fin = time.monotonic()
    local = c.sock.getsockname()[1]
    assert connection_inode(srv.port, local) not in (None, "0"), (
        "the server released its socket at once: no lingering close")
    wait_until(lambda: connection_inode(srv.port, local) in (None, "0"), LINGER_MAX + 1.5,
               "the server still holds the socket %gs after its FIN" % (LINGER_MAX + 1.5))
    assert time.monotonic() - fin <= LINGER_MAX + 1.5


@spec("proc.lingering_close", "proc.shutdown_timeout")
@needs("directive.worker_shutdown_timeout")
def test_lingering_bounded_by_worker_shutdown_timeout(server):
    """proc.lingering_close: "a stopping worker waits for it (within
    worker_shutdown_timeout)": with worker_shutdown_timeout 300ms a client that never closes
    does not keep the stopping worker past it."""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"),
                 main=SINGLE + "worker_shutdown_timeout 300ms;\n",
                 files={"conf/t.lua": 'ngx.receive(1) ngx.say("bye")'})
    c = start_session(srv, 0)
    assert c.recv_until_close() == b"bye\n"
    started = time.monotonic()
    srv.signal(signal.SIGQUIT)
    assert srv.wait_exit(DEADLINE) == 0
    assert time.monotonic() - started < 2.0


@spec("proc.lingering_close", "proc.worker_connections")
def test_lingering_connection_counts_toward_worker_connections(server):
    """proc.lingering_close: a connection in the lingering state "counts toward
    worker_connections": with worker_connections 1 a second client is refused while the
    first one lingers, and served once the first one closed its side."""
    srv = server(tcp=server_block(0, lua_file="conf/t.lua"),
                 main=SINGLE + "events { worker_connections 1; }\n",
                 files={"conf/t.lua": 'ngx.receive(1) ngx.say("bye")'})
    first = start_session(srv, 0)
    assert first.recv_until_close() == b"bye\n"
    second = start_session(srv, 0)
    second.expect_closed()
    srv.wait_log(r"\[alert\].*1 worker_connections are not enough")
    first.close()

    def served():
        with start_session(srv, 0) as c:
            return c.recv_until_close() == b"bye\n"
    wait_until(served, DEADLINE, "no client served after the lingering one closed")


# -- session.keepalive.client ---------------------------------------------------------------------
@spec("session.keepalive.client", "proc.signal.hup")
@needs("wait_next_request", "master_process", "reload")
def test_requests_crossing_a_reload(server):
    """session.keepalive.client: "a request the client sent before it saw that EOF either gets
    its full reply before the EOF, or the connection ends without any byte of that request
    having been read and without any byte of a reply to it, so that the client may safely
    send it again". Keepalive clients send requests at spread times across a reload; each
    gets its full reply or nothing, never a reset; one that got nothing gets its reply from
    the new worker when it sends the request again."""
    srv = server(tcp=server_block(0, lua_file="conf/ka.lua"), main=MASTER1,
                 files={"conf/ka.lua": KEEPALIVE_LUA})
    clients = [start_session(srv, 0) for _ in range(12)]
    for c in clients:
        assert c.recv_line() == b"ready\n"
    old = wait_workers(srv, 1)
    srv.signal(signal.SIGHUP)
    # Spread over the reload: before the old worker's QUIT, around it and after it.
    for i, c in enumerate(clients):
        c.send(b"q%03d" % i)
        time.sleep(0.02)     # spreads the requests in time (the race being provoked)
    for i, c in enumerate(clients):
        got = c.recv_until_close()
        assert got in (b"got q%03d\n" % i, b""), "connection %d: %r" % (i, got)
        assert ends_cleanly(c) is None, "connection %d" % i
        if not got:
            again = start_session(srv, 0)
            assert again.recv_line() == b"ready\n"
            again.send(b"q%03d" % i)
            assert again.recv_line() == b"got q%03d\n" % i
            again.close()
    wait_until(lambda: old[0] not in children(srv.pid), DEADLINE, "the old worker did not exit")
