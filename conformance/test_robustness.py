"""SPEC [session.robust]: hostile and broken clients against a script that uses every
waiting call. A seeded mix of client behaviours runs against one server; afterwards the
server must still answer a well-behaved client, must have closed every abandoned connection
(short timeouts make that observable), and must log nothing at alert level or worse. Under
the sanitizer build the harness also fails the case on any ASan/UBSan/LeakSanitizer report
when the server stops.
"""
import random
import socket
import struct
import time

import pytest

from tcplua_harness.cases import serve

spec = pytest.mark.spec

# Echoes framed requests ("<len byte><payload>"), sleeps on "s", prints a lot on "b",
# errors on "e", exits on "x"; every wait is bounded by short timeouts.
SCRIPT = r"""
while true do
    local n, err = ngx.receive(1)
    if not n then return end
    n = n:byte()
    if n == 115 then ngx.sleep(0.05)
    elseif n == 98 then for i = 1, 64 do ngx.print(string.rep("b", 4096)) end
    elseif n == 101 then error("asked to fail")
    elseif n == 120 then ngx.exit()
    elseif n > 0 and n <= 64 then
        local data = ngx.receive(n)
        if not data then return end
        ngx.print(data)
    end
    ngx.wait_next_request()
end
"""
EXTRA = ("read_timeout 500ms; send_timeout 500ms; keepalive_timeout 500ms; "
         "lua_check_client_abort on; client_max_body_size 64;")


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def behave(rng, port):
    """One client doing one random thing; returns the socket if it stays open."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    kind = rng.randrange(8)
    if kind == 0:
        s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
    elif kind == 1:
        s.sendall(b"\x05hel")          # a partial request, then a reset
        rst(s)
        return None
    elif kind == 2:
        s.sendall(b"b")                # a lot of output the client never reads
    elif kind == 3:
        s.sendall(b"s")                # sleeping session, client goes away
        s.shutdown(socket.SHUT_WR)
    elif kind == 4:
        s.sendall(b"e\x03abc")
    elif kind == 5:
        s.sendall(b"\x03abc\x02zz" * rng.randrange(1, 20))
        rst(s)
        return None
    elif kind == 6:
        pass                           # connects and never sends
    else:
        s.sendall(b"x")
    return s


@spec("session.robust")
@pytest.mark.needs("wait_next_request")
def test_hostile_clients_do_not_hurt_the_server(server):
    """session.robust: No client behaviour MUST crash, hang or stop the worker; other
    sessions keep being served and every abandoned connection is eventually closed."""
    srv = serve(server, SCRIPT, extra=EXTRA)
    rng = random.Random(20261125)
    held = [s for s in (behave(rng, srv.port) for _ in range(300)) if s]
    good = srv.connect()
    good.send(b"\x04ping")
    assert good.recv_exactly(4) == b"ping"
    # Every held connection is closed by the server. Each wait is bounded by 500 ms, but one
    # client's random bytes may chain a few waits (sleeps, partial frames): 10 s bounds that.
    deadline = time.monotonic() + 10
    for s in held:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail("a connection the client abandoned is still open after 10 s")
        s.close()
    fresh = srv.connect()
    fresh.send(b"\x02ok")
    assert fresh.recv_exactly(2) == b"ok"
    log = srv.error_log()
    for level in ("[alert]", "[crit]", "[emerg]"):
        assert level not in log, log[-2000:]
