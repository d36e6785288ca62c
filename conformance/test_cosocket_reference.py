"""SPEC §6.8: cosockets (ngx.socket.tcp) behave as ngx_lua 0.10.23's.

The reference is recorded, not remembered: conformance/reference/cosocket_probe.lua ran under
OpenResty's ngx_lua (Debian 12 packages, content_by_lua_block) against the upstream fixtures
of conformance/reference/cosocket_fixtures.json and wrote
conformance/reference/cosocket_ngx_lua.txt, one line per probe (`NAME => N|results...` or
`NAME => ERR: message`). These cases start the same fixtures
(tcplua_harness/upstreams.py), run the same probe file in a session of the implementation
(one server with `resolver` pointing at the DNS fixture, a second one without any resolver for
the `noresolver.*` probes) and compare each probe's line with the recorded one.

Compared exactly, with the exceptions of [socket.reference]: errors that ngx_lua raises from
inside its own binding (the message names one of its files, "ERR: /usr/share/lua/...") only
have to be errors; probes whose names end in "~" only have to return as many values; the
`tcp.methods.ssl` probe (TLS) is not part of the contract; and the deliberate differences of
DEVIATIONS (the 2015 module's call forms, localhost) must give their own stated line.

Every probe case declares needs("cosocket"). The client sends first (the 2015 module starts
a script only on the first client byte): the scripts begin with START_LUA, which consumes the
byte Client.start() sends.
"""
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tcplua_harness.cases import parse_record, script_tcp, server_block
from tcplua_harness.client import START_LUA
from tcplua_harness.upstreams import lua_env, start_spec, stop_all

spec = pytest.mark.spec

REFERENCE = Path(__file__).resolve().parent / "reference"
PROBE = (REFERENCE / "cosocket_probe.lua").read_text()
FIXTURES = (REFERENCE / "cosocket_fixtures.json").read_text()
# An error raised inside ngx_lua's own binding: "ERR: /usr/share/lua/.../socket.lua:N: ..."
INTERNAL_ERR = re.compile(r"^ERR: /\S+\.lua:\d+: ")
# Not part of the contract: TLS methods.
NOT_COMPARED = re.compile(r"^tcp\.methods\.ssl$")
# Deliberate differences, each with its clause: the line the implementation must give instead.
DEVIATIONS = {
    "receive.extra_arg": ('1|"ab"', "socket.receive.seed: the 2015 module's receive(total, atleast)"),
    "settimeout.three_args": ("0", "socket.timeout.seed: the 2015 module's settimeout(c, s, r)"),
    "resolver.localhost": ("1|1", "socket.resolver: localhost is answered without a query"),
}


REF = parse_record((REFERENCE / "cosocket_ngx_lua.txt").read_text())

RUN_LUA = START_LUA + """
dofile("@PREFIX@/conf/probe.lua").run(function (line) ngx.say(line) end,
                                      dofile("@PREFIX@/conf/env.lua"))
"""
NO_RESOLVER_LUA = START_LUA + """
dofile("@PREFIX@/conf/probe.lua").run_no_resolver(function (line) ngx.say(line) end,
                                                  dofile("@PREFIX@/conf/env.lua"))
"""

_results = {}


def probe_results(server):
    """Runs every probe once per test session (with fresh fixtures, stopped afterwards) and
    returns {name: line}; "__raw__" holds what the sessions said."""
    if _results:
        return _results
    # A short directory of its own: unix socket paths are limited to 108 bytes.
    sockdir = tempfile.mkdtemp(prefix="cosock.")
    fixtures = start_spec(FIXTURES, sockdir)
    try:
        dns = fixtures["dns"].port
        tcp = script_tcp(extra="resolver 127.0.0.1:%d;\n    resolver_timeout 300ms;" % dns)
        tcp += server_block(1, lua_file="conf/noresolver.lua")
        srv = server(tcp=tcp, files={"conf/t.lua": RUN_LUA, "conf/noresolver.lua": NO_RESOLVER_LUA,
                                     "conf/probe.lua": PROBE,
                                     "conf/env.lua": "return " + lua_env(fixtures) + "\n"})
        # Longer than the default deadline: the probes wait on many timeouts in turn (about
        # 4 s here), all of which must end within this one read.
        said, hung = said_until_close(srv.connect(), 30)
        said_nr, hung_nr = said_until_close(srv.connect(1), None)
        # Stopped here, not by whichever case happened to run the probes first: an unclean
        # stop (a crash, a needed SIGKILL) is judged by test_probe_server_stops_cleanly.
        _results["__stop__"] = server.finish_all()
    finally:
        stop_all(fixtures)
        shutil.rmtree(sockdir, ignore_errors=True)
    _results.update(parse_record(said + "\n" + said_nr))
    _results["__raw__"] = said + "\n" + said_nr
    # Computed once for every case: a session that does not end (a probe that never returns)
    # fails each probe it did not print, and, when it printed them all, every probe of it.
    _results["__hung__"] = "; ".join(h for h in (hung, hung_nr) if h)
    return _results


def said_until_close(client, timeout):
    """What a probe session said up to its close, and None; or, when it did not close in
    time, what it said and the failure's text."""
    try:
        return client.start().recv_until_close(timeout).decode("latin-1"), None
    except AssertionError as e:
        said = bytes(client.buf).decode("latin-1")
        return said, str(e).split("; received")[0] + " (the probe after the last line never returned)"


def probes(*keys):
    """Probe names: a key ending in "." or "_" is a prefix, any other an exact name."""
    prefixes = tuple(k for k in keys if k.endswith((".", "_")))
    exact = set(keys) - set(prefixes)
    names = [n for n in REF if (n in exact or n.startswith(prefixes)) and not NOT_COMPARED.match(n)]
    assert names, "no reference probes for %r" % (keys,)
    return names


def check(server, name):
    __tracebackhide__ = True
    results = probe_results(server)
    got = results.get(name)
    want = REF[name]
    assert got is not None, "probe %s printed nothing%s; the sessions said (tail):\n%s" % (
        name, " (%s)" % results["__hung__"] if results["__hung__"] else "", results["__raw__"][-2000:])
    assert not results["__hung__"] or not all(n in results for n in REF if not NOT_COMPARED.match(n)), (
        "%s: the probe sessions did not end: %s" % (name, results["__hung__"]))
    if name in DEVIATIONS:
        want, why = DEVIATIONS[name]
        assert got == want, "%s (a deliberate difference, %s):\n  got  %s\n  want %s" % (name, why, got, want)
    elif INTERNAL_ERR.match(want):
        assert got.startswith("ERR: "), "%s: ngx_lua raises (%s); got %s" % (name, want, got)
    elif name.endswith("~"):
        assert got.split("|")[0] == want.split("|")[0], "%s: %s, want the shape of %s" % (name, got, want)
    else:
        assert got == want, "%s:\n  got  %s\n  want %s (ngx_lua)" % (name, got, want)


@spec("socket.reference")
def test_every_recorded_probe_is_cited():
    """Every recorded probe belongs to exactly one case below (a new probe needs a clause)."""
    # Not a clause test: it checks this file against the record, so it cites the reference.
    cited = [n for group in GROUPS for n in probes(*group)]
    missing = sorted(set(REF) - set(cited) - {n for n in REF if NOT_COMPARED.match(n)})
    dup = sorted({n for n in cited if cited.count(n) > 1})
    assert not missing and not dup, "uncited %s, cited twice %s" % (missing, dup)

@spec("socket.reference")
@pytest.mark.needs("cosocket")
def test_probe_server_stops_cleanly(server):
    """socket.reference: the server that ran every probe stops cleanly afterwards (no crash,
    no SIGKILL needed), as any server of the suite must."""
    problems = probe_results(server)["__stop__"]
    assert not problems, "\n".join(problems)


GROUPS = [
    ("tcp.",),
    ("connect.ok", "connect.roundtrip", "connect.twice", "connect.twice_", "connect.after_close", "connect.refused_then_ok",
     "connect.timeout_then_ok", "connect.port_numeric_string", "connect.port_float", "connect.on_plain_table"),
    ("connect.refused", "connect.timeout", "connect.port0", "connect.port65535_refused",
     "connect.ipv4_bad_octet", "connect.bracketed_ipv4", "connect.host_number"),
    ("connect.port65536", "connect.port_negative", "connect.port_string", "connect.port_nil",
     "connect.port_table", "connect.port_missing", "connect.no_args", "connect.host_nil",
     "connect.host_table", "connect.too_many_args", "connect.dot_call", "connect.host_with_port"),
    ("connect.unix", "connect.unix_"),
    ("connect.opts_",),
    ("send.",),
    ("receive.n", "receive.zero", "receive.zero_string", "receive.numeric_string", "receive.float", "receive.negative",
     "receive.bad_", "receive.star_L", "receive.boolean", "receive.table", "receive.nil_is_line",
     "receive.extra_arg", "receive.line_", "receive.10000_bytes", "receive.all_", "receive.slow_",
     "receive.dot_call"),
    ("receive.n_", "receive.timeout_", "receive.usable_after_timeout", "receive.reset", "receive.unconnected",
     "receive.closed", "receive.after_refused"),
    ("receiveany.",),
    ("receiveuntil.",),
    ("settimeout.", "settimeouts."),
    ("setoption.", "getoption."),
    ("getreusedtimes.", "close."),
    ("keepalive.returns", "keepalive.method_results_after", "keepalive.unread_data",
     "keepalive.after_", "keepalive.closed", "keepalive.unconnected", "keepalive.twice",
     "keepalive.args_ok", "keepalive.timeout_", "keepalive.size_", "keepalive.too_many_args",
     "keepalive.idle_timeout_closes"),
    ("keepalive.reuse", "keepalive.same_object_reconnects", "keepalive.default_pool_name",
     "keepalive.pools_distinct", "keepalive.pool_name_not_address", "keepalive.unix",
     "keepalive.pool_size_", "keepalive.reused_counts_up", "keepalive.lp_framing"),
    ("resolver.",),
    ("noresolver.",),
]


@spec("socket.object", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[0]))
def test_socket_object(server, name):
    """socket.object: ngx.socket.tcp() returns a new table with the cosocket methods;
    ngx.socket.connect(host, port) creates and connects one."""
    check(server, name)


@spec("socket.connect", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[1]))
def test_connect(server, name):
    """socket.connect: connect(host, port) returns 1; connecting a connected socket closes the
    old connection first; a socket can connect again after a failure or a close."""
    check(server, name)


@spec("socket.connect.error", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[2]))
def test_connect_errors(server, name):
    """socket.connect.error: `nil, "connection refused"`, `nil, "timeout"`, and a host that is
    not an address literal goes to the resolver."""
    check(server, name)


@spec("socket.connect.args", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[3]))
def test_connect_arguments(server, name):
    """socket.connect.args: `bad port number: N`, `missing the port number`, argument count and
    type errors with ngx_lua's messages."""
    check(server, name)


@spec("socket.connect.unix", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[4]))
def test_connect_unix(server, name):
    """socket.connect.unix: connect("unix:PATH") reaches a unix-domain stream socket; a port
    argument is ignored; errors as ngx_lua's."""
    check(server, name)


@spec("socket.pool", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[5]))
def test_connect_options(server, name):
    """socket.pool: the options table of connect (pool, pool_size, backlog) is checked as
    ngx_lua checks it."""
    check(server, name)


@spec("socket.send", "socket.closed", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[6]))
def test_send(server, name):
    """socket.send: send(data) returns the byte count for strings, numbers, booleans, nil
    and nested array tables; other types raise ngx_lua's argument errors."""
    check(server, name)


@spec("socket.receive", "socket.receive.pattern", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[7]))
def test_receive_patterns(server, name):
    """socket.receive.pattern: receive(n), receive()/"*l" (LF ends a line, every CR is
    dropped), "*a" (until close); any other pattern raises `bad pattern argument`."""
    check(server, name)


@spec("socket.receive", "socket.timeout", "socket.closed", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[8]))
def test_receive_errors(server, name):
    """socket.receive: errors are `nil, err, partial`: "timeout" keeps the connection,
    "closed" and "connection reset by peer" end reading."""
    check(server, name)


@spec("socket.receiveany", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[9]))
def test_receiveany(server, name):
    """socket.receiveany: receiveany(max) returns what is available, at most max bytes."""
    check(server, name)


@spec("socket.receiveuntil", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[10]))
def test_receiveuntil(server, name):
    """socket.receiveuntil: an iterator that reads up to a pattern, across reads, with
    {inclusive = true} and a size argument, as ngx_lua's."""
    check(server, name)


@spec("socket.timeout", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[11]))
def test_timeouts(server, name):
    """socket.timeout: settimeout(ms) takes exactly one argument and settimeouts(c, s, r)
    three; a send timeout closes the socket, a read timeout does not."""
    check(server, name)


@spec("socket.option", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[12]))
def test_options(server, name):
    """socket.option: setoption/getoption for keepalive, reuseaddr, tcp-nodelay, sndbuf,
    rcvbuf; `unsupported option NAME` otherwise."""
    check(server, name)


@spec("socket.closed", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[13]))
def test_close_and_reused_times(server, name):
    """socket.closed: close() returns 1 once, then `nil, "closed"`, as every I/O method on a
    closed or never connected socket."""
    check(server, name)


@spec("socket.keepalive", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[14]))
def test_setkeepalive(server, name):
    """socket.keepalive: setkeepalive([timeout[, size]]) puts the connection in its pool and
    returns 1; `nil, "unread data in buffer"` keeps it connected."""
    check(server, name)


@spec("socket.pool", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[15]))
def test_pools(server, name):
    """socket.pool: a connect with a pool name (default "host:port" or "unix:PATH") reuses an
    idle connection of that pool; getreusedtimes counts the reuses."""
    check(server, name)


@spec("socket.resolver", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[16]))
def test_resolver(server, name):
    """socket.resolver: names are resolved with the `resolver` servers, cached, and fail with
    `NAME could not be resolved (N: text)`."""
    check(server, name)


@spec("socket.resolver.none", "socket.reference")
@pytest.mark.needs("cosocket")
@pytest.mark.parametrize("name", probes(*GROUPS[17]))
def test_no_resolver(server, name):
    """socket.resolver.none: without `resolver`, a name fails with `no resolver defined to
    resolve "NAME"`; addresses and unix sockets still connect."""
    check(server, name)
