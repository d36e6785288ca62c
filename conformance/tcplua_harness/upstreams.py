"""Upstream fixtures for cosocket cases: small servers a script connects to.

Pure standard library, one thread per listener and per connection, all on loopback. Every
fixture has start()/stop() (and is a context manager), `.port` (or `.path` for a unix
socket), and counters readable while it runs:

- `accepted`: connections accepted so far;
- `conns`: one `ConnStats` per accepted connection (`bytes_in`, `bytes_out`, `closed`);
- the DNS responder counts `queries[name]` (and `queries_by_type[(name, "A"|"AAAA")]`).

Fixtures:

- `Echo(unix=None)`: writes back every byte it reads (on a unix socket when `unix` is a path).
- `LengthPrefixed()`: reads a 4-byte big-endian length N that counts the header itself, then
  N-4 bytes, and replies with the same frame (the 2015 module's test.lua upstream), until EOF.
- `SlowWriter(payload, piece=1, delay=0.01, close=True)`: on accept sends `payload` in pieces
  of `piece` bytes with `delay` seconds between them, then closes (or, with close=False,
  keeps the connection until the peer closes).
- `Silent(read=True)`: accepts, reads and discards, never answers, keeps the connection open;
  with read=False it never reads either (a peer's sends fill the buffers and then time out).
- `Reset(after=0)`: accepts, reads `after` bytes (0: none), then closes with an RST
  (SO_LINGER 0).
- `Closer(payload=b"")`: accepts, sends `payload`, then closes (FIN).
- `Blackhole()`: a listener whose accept queue is full, so a connect to it gets no SYN-ACK and
  times out (Linux drops a SYN when the queue is full); deterministic on loopback.
- `DNS(names, ttl=300, servfail=(), drop=())`: a UDP responder on 127.0.0.1: `names` maps a
  name to a list of IPv4/IPv6 addresses (or to {"addrs": [...], "ttl": N}); A and AAAA queries
  get the addresses of their family (an empty NOERROR answer when there are none); names in
  `servfail` get SERVFAIL, names in `drop` never get an answer; any other name gets NXDOMAIN.
- `Stats(fixtures)`: a line protocol over TCP to read the other fixtures' counters from a
  script: send `dns NAME\\n` (queries for NAME), `dns NAME A\\n`, `accepted FIXTURE\\n` or
  `conns FIXTURE\\n`, get one line with the number (`?` for an unknown key); several
  requests per connection are fine.

`free_port()` returns a loopback port nothing listens on (for "connection refused").

Standalone, for shell scripts (the probe recorder):

    python3 upstreams.py --spec '{"echo": {"type": "Echo"}, "dns": {"type": "DNS", "names":
        {"a.test": ["127.0.0.1"]}}}'

starts every fixture of the spec (keys are names, "type" the class, the other members its
keyword arguments; bytes arguments are given as strings, latin-1), prints one line
`NAME PORT` per fixture (`NAME unix:PATH` for a unix socket), one line `lua { NAME = PORT,
... }` (a Lua table, unix sockets as their path), then `ready`, and serves until
SIGTERM/SIGINT (or, with `--until-eof`, until its standard input closes). `--spec @FILE` reads the JSON from a file.
A fixture of type `Stats` sees every other fixture of the spec by name; a `FreePort` entry
only prints a free port; `@DIR@` in a string is replaced by `--dir` (default: a new
temporary directory), for unix socket paths.
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

__all__ = ["Echo", "LengthPrefixed", "SlowWriter", "Silent", "Reset", "Closer", "Blackhole",
           "DNS", "Stats", "ConnStats", "free_port", "start_spec"]


def free_port(host="127.0.0.1"):
    """A port on `host` that nothing listens on right now (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ConnStats:
    __slots__ = ("bytes_in", "bytes_out", "closed")

    def __init__(self):
        self.bytes_in = 0
        self.bytes_out = 0
        self.closed = False

    def __repr__(self):
        return "ConnStats(in=%d, out=%d, closed=%s)" % (self.bytes_in, self.bytes_out, self.closed)


class _Fixture:
    """Start/stop, context manager, a stop event, daemon threads."""
    port = None
    path = None

    def __init__(self):
        self._stop = threading.Event()
        self._threads = []
        self._lock = threading.Lock()
        self.accepted = 0
        self.conns = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _spawn(self, target, *args):
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(t)
        t.start()
        return t

    def start(self):
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(2)

    def address(self):
        """What a script connects to: `unix:PATH` or the port."""
        return "unix:" + self.path if self.path else self.port


class _TCPFixture(_Fixture):
    """A listener on 127.0.0.1 (or a unix socket) with one thread per connection running
    handle(sock, stats)."""
    backlog = 128

    def __init__(self, unix=None, host="127.0.0.1"):
        super().__init__()
        self.unix = unix
        self.host = host
        self.listener = None
        self._socks = set()

    def start(self):
        if self.unix:
            if os.path.exists(self.unix):
                os.unlink(self.unix)
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(self.unix)
            if os.geteuid() == 0:
                # Workers of a root server run as nobody ([proc.user]): connecting needs write
                # permission on the socket (its directory is made searchable by the harness).
                os.chmod(self.unix, 0o666)
            self.path = self.unix
        else:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self.listener = socket.socket(family, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind((self.host, 0))
            self.port = self.listener.getsockname()[1]
        self.listener.listen(self.backlog)
        self._spawn(self._accept_loop)
        return self

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self.listener], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not r:
                continue
            stats = ConnStats()
            # accept and count under the lock: see settled()
            with self._lock:
                try:
                    sock, _ = self.listener.accept()
                except OSError:
                    continue
                self.accepted += 1
                self.conns.append(stats)
                self._socks.add(sock)
            self._spawn(self._run, sock, stats)

    def settled(self, what, timeout=2):
        """what() once every connection the kernel completed has been accepted: a client's
        connect() returns before this thread accepts, so a counter read right after it
        would lag."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = self.listener is not None and select.select([self.listener], [], [], 0)[0]
                if not pending or time.monotonic() > deadline:
                    return what()
            time.sleep(0.002)   # polling loop: let the accept thread take the lock

    def _run(self, sock, stats):
        try:
            self.handle(sock, stats)
        except OSError:
            pass
        finally:
            stats.closed = True
            with self._lock:
                self._socks.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    # helpers for handlers: every wait gives up when the fixture stops
    def recv(self, sock, stats, n=65536):
        """Bytes read (b"" at EOF), or None when the fixture stops."""
        while not self._stop.is_set():
            r, _, _ = select.select([sock], [], [], 0.05)
            if r:
                data = sock.recv(n)
                stats.bytes_in += len(data)
                return data
        return None

    def recv_exactly(self, sock, stats, n):
        buf = b""
        while len(buf) < n:
            data = self.recv(sock, stats, n - len(buf))
            if not data:
                return None
            buf += data
        return buf

    def send(self, sock, stats, data):
        sock.sendall(data)
        stats.bytes_out += len(data)

    def drain(self, sock, stats):
        """Reads until EOF or stop."""
        while self.recv(sock, stats):
            pass

    def handle(self, sock, stats):
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        super().stop()      # the accept loop ends within one select timeout
        with self._lock:
            if self.listener is not None:
                self.listener.close()
                self.listener = None
        if self.unix and os.path.exists(self.unix):
            os.unlink(self.unix)


class Echo(_TCPFixture):
    def handle(self, sock, stats):
        while True:
            data = self.recv(sock, stats)
            if not data:
                return
            self.send(sock, stats, data)


class LengthPrefixed(_TCPFixture):
    def handle(self, sock, stats):
        while True:
            head = self.recv_exactly(sock, stats, 4)
            if head is None:
                return
            n = struct.unpack(">I", head)[0]
            body = self.recv_exactly(sock, stats, max(n - 4, 0)) if n > 4 else b""
            if body is None:
                return
            self.send(sock, stats, head + body)


def _b(data):
    return data.encode("latin-1") if isinstance(data, str) else bytes(data)


class SlowWriter(_TCPFixture):
    def __init__(self, payload, piece=1, delay=0.01, close=True, **kw):
        super().__init__(**kw)
        self.payload, self.piece, self.delay, self.close = _b(payload), piece, delay, close

    def handle(self, sock, stats):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) if not self.unix else None
        for i in range(0, len(self.payload), self.piece):
            if i:
                if self._stop.wait(self.delay):     # the fixture's purpose: data in pieces
                    return
            self.send(sock, stats, self.payload[i:i + self.piece])
        if not self.close:
            self.drain(sock, stats)


class Silent(_TCPFixture):
    def __init__(self, read=True, **kw):
        super().__init__(**kw)
        self.read = read

    def handle(self, sock, stats):
        if self.read:
            self.drain(sock, stats)
        else:
            # never reads: the peer's sends fill the socket buffers (until the peer closes)
            while not self._stop.wait(0.05):
                try:
                    if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        return
                except BlockingIOError:
                    pass


class Reset(_TCPFixture):
    def __init__(self, after=0, **kw):
        super().__init__(**kw)
        self.after = after

    def handle(self, sock, stats):
        if self.after and self.recv_exactly(sock, stats, self.after) is None:
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # _run closes it: with linger 0 the close sends an RST


class Closer(_TCPFixture):
    def __init__(self, payload=b"", **kw):
        super().__init__(**kw)
        self.payload = _b(payload)

    def handle(self, sock, stats):
        if self.payload:
            self.send(sock, stats, self.payload)
        # Close gracefully: a FIN after the payload. Unread input would turn the close
        # into an RST, so read what already arrived first.
        sock.setblocking(False)
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass
        sock.setblocking(True)


class Blackhole(_Fixture):
    """A listener with backlog 0 that never accepts, its queue filled by connections of its
    own: further SYNs are dropped, so connecting to .port times out."""

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(64):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            _, w, _ = select.select([], [s], [], 0.3)
            if not w or s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                s.close()       # its SYN was dropped: the queue is full
                break
            self.fillers.append(s)
        else:
            raise RuntimeError("Blackhole: the accept queue never filled")
        return self

    def stop(self):
        for s in getattr(self, "fillers", []):
            s.close()
        if getattr(self, "listener", None) is not None:
            self.listener.close()
        super().stop()


# -- DNS ------------------------------------------------------------------------------------
QTYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV", 12: "PTR", 255: "ANY"}


def _read_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        if n == 0:
            return ".".join(labels), off + 1
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n


class DNS(_Fixture):
    def __init__(self, names=None, ttl=300, servfail=(), drop=(), host="127.0.0.1"):
        super().__init__()
        self.host = host
        self.ttl = ttl
        self.names = {}
        for name, v in (names or {}).items():
            if isinstance(v, dict):
                self.names[name.lower()] = (list(v.get("addrs", [])), v.get("ttl", ttl))
            else:
                self.names[name.lower()] = (list(v), ttl)
        self.servfail = {n.lower() for n in servfail}
        self.drop = {n.lower() for n in drop}
        self.queries = {}
        self.queries_by_type = {}
        self.total = 0

    def start(self):
        self.sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.port = self.sock.getsockname()[1]
        self._spawn(self._loop)
        return self

    def stop(self):
        super().stop()
        self.sock.close()

    def count(self, name, qtype=None):
        with self._lock:
            if qtype:
                return self.queries_by_type.get((name.lower(), qtype), 0)
            return self.queries.get(name.lower(), 0)

    def _loop(self):
        while not self._stop.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                msg, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            try:
                reply = self.answer(msg)
            except (ValueError, IndexError, struct.error):
                continue
            if reply is not None:
                self.sock.sendto(reply, peer)

    def answer(self, msg):
        qid, flags, qd, _, _, _ = struct.unpack(">HHHHHH", msg[:12])
        if flags & 0x8000 or qd != 1:
            return None
        name, off = _read_name(msg, 12)
        qtype, qclass = struct.unpack(">HH", msg[off:off + 4])
        question = msg[12:off + 4]
        key = name.lower().rstrip(".")
        tname = QTYPES.get(qtype, str(qtype))
        with self._lock:
            self.total += 1
            self.queries[key] = self.queries.get(key, 0) + 1
            self.queries_by_type[(key, tname)] = self.queries_by_type.get((key, tname), 0) + 1
        if key in self.drop:
            return None
        rd = flags & 0x0100
        answers = []
        if key in self.servfail:
            rcode = 2
        elif key in self.names:
            rcode = 0
            addrs, ttl = self.names[key]
            for a in addrs:
                if qtype == 1 and ":" not in a:
                    rdata = socket.inet_pton(socket.AF_INET, a)
                elif qtype == 28 and ":" in a:
                    rdata = socket.inet_pton(socket.AF_INET6, a)
                else:
                    continue
                answers.append(struct.pack(">HHHIH", 0xC00C, qtype, 1, ttl, len(rdata)) + rdata)
        else:
            rcode = 3
        head = struct.pack(">HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode, 1,
                           len(answers), 0, 0)
        return head + question + b"".join(answers)


class Stats(_TCPFixture):
    """Counters of other fixtures over TCP, for a script: `dns NAME [TYPE]`,
    `accepted FIXTURE`, `conns FIXTURE` (connections not yet closed)."""

    def __init__(self, fixtures, **kw):
        super().__init__(**kw)
        self.fixtures = fixtures

    def value(self, line):
        parts = line.split()
        try:
            if parts[0] == "dns":
                f = next(f for f in self.fixtures.values() if isinstance(f, DNS))
                return f.count(parts[1], parts[2] if len(parts) > 2 else None)
            f = self.fixtures[parts[1]]
            if parts[0] == "accepted":
                return f.settled(lambda: f.accepted)
            if parts[0] == "conns":
                return f.settled(lambda: sum(1 for c in f.conns if not c.closed))
        except (IndexError, KeyError, StopIteration):
            pass
        return "?"

    def handle(self, sock, stats):
        buf = b""
        while True:
            data = self.recv(sock, stats)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.send(sock, stats, b"%s\n" % str(self.value(line.decode("latin-1"))).encode())


# -- a whole set from a spec ------------------------------------------------------------------
TYPES = {c.__name__: c for c in (Echo, LengthPrefixed, SlowWriter, Silent, Reset, Closer,
                                  Blackhole, DNS, Stats)}


def start_spec(spec, dir=None):
    """Starts the fixtures of a spec ({name: {"type": T, **kwargs}}) and returns {name:
    fixture or port}: a `FreePort` entry gives a free port, a `Stats` one sees the others.
    Stats fixtures start last. "@DIR@" in string arguments becomes `dir`."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    if dir is not None:
        spec = json.loads(json.dumps(spec).replace("@DIR@", str(dir)))
    out = {}
    try:
        for name, conf in sorted(spec.items(), key=lambda kv: kv[1]["type"] == "Stats"):
            kw = dict(conf)
            kind = kw.pop("type")
            if kind == "FreePort":
                out[name] = free_port()
                continue
            if kind == "Stats":
                kw["fixtures"] = {k: v for k, v in out.items() if isinstance(v, _Fixture)}
            out[name] = TYPES[kind](**kw).start()
    except BaseException:
        stop_all(out)
        raise
    return out


def lua_env(fixtures):
    """A Lua table constructor for the probe's env: ports, and "unix:PATH" as the path."""
    items = []
    for name, f in sorted(fixtures.items()):
        v = f if isinstance(f, int) else f.address()
        if isinstance(v, str) and v.startswith("unix:"):
            v = '"%s"' % v[5:]
        items.append("%s = %s" % (name, v))
    return "{ " + ", ".join(items) + " }"


def stop_all(fixtures):
    for f in fixtures.values():
        if isinstance(f, _Fixture):
            f.stop()


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="serve upstream fixtures until killed")
    ap.add_argument("--spec", required=True, help="JSON, or @FILE")
    ap.add_argument("--dir", help="replaces @DIR@ in the spec (default: a new temporary directory)")
    ap.add_argument("--until-eof", action="store_true", help="also stop when stdin closes")
    args = ap.parse_args(argv)
    text = args.spec
    if text.startswith("@"):
        with open(text[1:]) as f:
            text = f.read()
    if args.dir is None and "@DIR@" in text:
        import tempfile
        args.dir = tempfile.mkdtemp(prefix="upstreams.")
        os.chmod(args.dir, 0o755)   # sockets in it serve workers running as nobody
    fixtures = start_spec(json.loads(text), args.dir)
    for name, f in fixtures.items():
        addr = f if isinstance(f, int) else f.address()
        print(name, addr, flush=True)
    print("lua", lua_env(fixtures), flush=True)
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())

    def stdin_watch():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            return
        done.set()
    if args.until_eof:
        threading.Thread(target=stdin_watch, daemon=True).start()
    while not done.wait(0.2):
        pass
    stop_all(fixtures)


if __name__ == "__main__":
    main(sys.argv[1:])
