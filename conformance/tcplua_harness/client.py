"""Client: a TCP connection with bounded-time reads that fail with what was received.

Every read takes a timeout and never hangs the suite; on failure the message shows the bytes
that did arrive, which is most of a diagnosis. Bytes read past what a call returns stay
buffered for the next call.

Deadline: a read without an explicit timeout waits at most DEADLINE seconds (3 s, or the
environment variable TCPLUA_DEADLINE). Every expected byte on loopback arrives within
milliseconds, so the deadline only decides how fast a case fails when bytes never come (an
implementation that waits for the client, a lost reply); a case passes an explicit, longer
timeout only where the server legitimately needs long (a transfer of many megabytes), with a
comment saying why.

First bytes: the 2015 module starts a script only when the client's first byte arrives, so a
runtime case sends first unless it tests start-on-accept itself ([session.start.on_accept]).
A script that would not read anything begins with START_LUA, which consumes the one byte
Client.start() sends: no unread byte is left to turn the server's close into an RST.
"""
import os
import select
import socket
import struct
import time

DEADLINE = float(os.environ.get("TCPLUA_DEADLINE", "3"))

# The first statement of a script that otherwise reads nothing, on the script's first line
# (so error positions keep their line numbers); it consumes the byte Client.start() sends.
START_LUA = "ngx.receive(1) "
START = b"."


def _bytes(data):
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _show(data, limit=400):
    text = repr(bytes(data[:limit]))
    return text + ("... (%d bytes)" % len(data) if len(data) > limit else "")


class Client:
    def __init__(self, sock, label="client"):
        self.sock = sock
        self.label = label
        self.buf = bytearray()
        self.eof = False      # peer closed (FIN or RST); later reads return what is buffered
        self.reset = False    # the close was an RST, not a FIN
        # Each send is meant to reach the server as written; Nagle would merge delayed pieces.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- sending ----------------------------------------------------------------------------
    def send(self, data):
        data = _bytes(data)
        self.sock.sendall(data)
        return len(data)

    sendall = send

    def start(self):
        """Send START, the byte a script's leading START_LUA consumes: it starts the script
        in an implementation that waits for the client's first byte, and leaves nothing
        unread. Returns self, for `srv.connect().start()`."""
        self.send(START)
        return self

    def send_chunks(self, data, sizes, delay=0.05):
        """Send `data` in pieces of `sizes` bytes (the rest goes last), pausing `delay` s
        between pieces so each one reaches the server as its own read."""
        data = _bytes(data)
        pos = 0
        pieces = []
        for size in sizes:
            pieces.append(data[pos:pos + size])
            pos += size
        if pos < len(data):
            pieces.append(data[pos:])
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(delay)
            self.sock.sendall(piece)

    def send_bytewise(self, data, delay=0.02):
        """Send one byte at a time: the harshest split a reader must cope with."""
        data = _bytes(data)
        self.send_chunks(data, [1] * len(data), delay)

    def shutdown_write(self):
        """Half-close: the server reads EOF while this side can still read its reply."""
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()

    def abort(self):
        """Close with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    # -- receiving --------------------------------------------------------------------------
    def _fill(self, deadline):
        """Read once into the buffer. True if bytes or EOF arrived, False on timeout."""
        if self.eof:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = self.reset = True
            return True
        if not data:
            self.eof = True
        self.buf += data
        return True

    def _take(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _fail(self, what, timeout):
        __tracebackhide__ = True
        state = "the peer closed the connection" if self.eof else "timed out after %gs" % timeout
        raise AssertionError("%s: %s: %s; received %s" % (self.label, what, state, _show(self.buf)))

    def recv_exactly(self, n, timeout=None):
        """Exactly n bytes; fails if the connection closes or time runs out first."""
        __tracebackhide__ = True
        timeout = DEADLINE if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if self.eof or not self._fill(deadline):
                self._fail("recv_exactly(%d)" % n, timeout)
        return self._take(n)

    def recv_until(self, delim, timeout=None):
        """Bytes up to and including `delim`."""
        __tracebackhide__ = True
        delim = _bytes(delim)
        timeout = DEADLINE if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                return self._take(i + len(delim))
            if self.eof or not self._fill(deadline):
                self._fail("recv_until(%r)" % delim, timeout)

    def recv_line(self, timeout=None):
        """One line including its b"\\n"."""
        __tracebackhide__ = True
        return self.recv_until(b"\n", timeout)

    def recv_some(self, timeout=None):
        """Whatever is available (at least one byte); fails on close or timeout."""
        __tracebackhide__ = True
        timeout = DEADLINE if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not self.buf:
            if self.eof or not self._fill(deadline):
                self._fail("recv_some()", timeout)
        return self._take(len(self.buf))

    def recv_until_close(self, timeout=None):
        """Everything until the peer closes (FIN or RST); fails if still open at timeout."""
        __tracebackhide__ = True
        timeout = DEADLINE if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._fill(deadline):
                self._fail("recv_until_close()", timeout)
        return self._take(len(self.buf))

    def expect_closed(self, timeout=None):
        """The peer closes (FIN or RST) without sending any further byte."""
        __tracebackhide__ = True
        timeout = DEADLINE if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not self.eof and not self.buf:
            if not self._fill(deadline):
                self._fail("expect_closed()", timeout)
        if self.buf:
            raise AssertionError("%s: expected the connection to close, got %s%s" % (
                self.label, _show(self.buf), " and then close" if self.eof else ""))

    def expect_silence(self, seconds=0.3):
        """Nothing arrives and the connection stays open for `seconds`. This is the one
        place a fixed wait is acceptable: absence can only be observed over time."""
        __tracebackhide__ = True
        if self.buf or self.eof:
            raise AssertionError("%s: expected silence, but already %s" % (
                self.label, "closed" if self.eof else "received " + _show(self.buf)))
        readable, _, _ = select.select([self.sock], [], [], seconds)
        if readable:
            self._fill(time.monotonic() + 1)
            what = "received " + _show(self.buf) if self.buf else (
                "the connection was " + ("reset" if self.reset else "closed"))
            raise AssertionError("%s: expected %gs of silence, but %s" % (self.label, seconds, what))

    # Lets `with srv.connect() as c:` close the socket even when an assertion fails.
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- connections to any port ----------------------------------------------------------------------
def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect_raw(port, host="127.0.0.1", timeout=2, label=None):
    """A Client connected to host:port ("::1" for IPv6), also for a server the harness did
    not start (a daemon). A connection the server resets before connect() returns is not a
    connect error: the Client comes back closed, with `reset` set."""
    sock = socket.socket(_family(host))
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except ConnectionResetError:
        # The handshake completed and the server reset the connection before connect()
        # returned: for the case that is a connection closed by RST, not a connect error.
        client = Client(sock, label or "raw:%d" % port)
        client.eof = client.reset = True
        return client
    except BaseException:
        sock.close()
        raise
    return Client(sock, label or "raw:%d" % port)


def refused(port, host="127.0.0.1"):
    """True when a TCP connect to host:port is refused right now."""
    sock = socket.socket(_family(host))
    sock.settimeout(1)
    try:
        sock.connect((host, port))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        sock.close()
    return False


def has_ipv6_loopback():
    """This host can bind ::1 (cases needing IPv6 skip without it: a host limit)."""
    try:
        s = socket.socket(socket.AF_INET6)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()
