"""SPEC §2.4 Cross-directive rules: what every server needs, unique listens, tcp->server merge."""
import time

import pytest

from tcplua_harness.cases import start_session
from tcplua_harness.confdump import args_of, find, parse, parse_time, split_dump

spec = pytest.mark.spec


# -- conf.server.*_required -------------------------------------------------------------------------
@spec("conf.server.listen_required")
def test_server_without_listen(impl):
    """conf.server.listen_required: A `server` without `listen` MUST be the error
    `no "listen" is defined for server in FILE:LINE`, FILE:LINE being where the `server`
    block opens."""
    r = impl.test_config(tcp="""
    server {
        protocol tcp_lua;
        process_by_lua 'ngx.say(1)';
    }""")
    r.assert_emerg('no "listen" is defined for server', r.line_of("server {"))


@spec("conf.server.protocol_required")
def test_server_without_protocol(impl):
    """conf.server.protocol_required: A `server` without `protocol` MUST be the error
    `no "protocol" is defined for server in FILE:LINE`."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        process_by_lua 'ngx.say(1)';
    }""")
    r.assert_emerg('no "protocol" is defined for server', r.line_of("server {"))


@spec("conf.server.process_required")
def test_server_without_process(impl):
    """conf.server.process_required: A `server` with no `process_by_lua*` of its own nor in
    the enclosing `tcp` block MUST be the error
    `no "process_by_lua" or "process_by_lua_file" is defined for server in FILE:LINE`."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say(1)';
    }
    server {
        listen @PORT1@;
        protocol tcp_lua;
    }""")
    second = [i for i, l in enumerate(r.conf_text.splitlines(), 1) if "server {" in l][1]
    r.assert_emerg('no "process_by_lua" or "process_by_lua_file" is defined for server', second)


# -- conf.listen.unique -----------------------------------------------------------------------------
def _listen_lines(r):
    return tuple(i for i, l in enumerate(r.conf_text.splitlines(), 1) if "listen" in l)


@spec("conf.listen.unique")
@pytest.mark.parametrize("layout", ["one_server", "two_servers"])
def test_duplicate_address_and_port(impl, layout):
    """conf.listen.unique: The same address and port in two `listen` directives (in one
    server or in two) MUST be the error
    `duplicate "ADDR:PORT" address and port pair in FILE:LINE`."""
    if layout == "one_server":
        tcp = """
    server {
        listen 127.0.0.1:@PORT0@;
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say(1)';
    }"""
    else:
        tcp = """
    server { listen 127.0.0.1:@PORT0@; protocol tcp_lua; process_by_lua 'ngx.say(1)'; }
    server { listen 127.0.0.1:@PORT0@; protocol tcp_lua; process_by_lua 'ngx.say(2)'; }"""
    r = impl.test_config(tcp=tcp)
    r.assert_emerg('duplicate "127.0.0.1:%d" address and port pair' % r.ports[0], _listen_lines(r))


@spec("conf.listen.unique")
@pytest.mark.parametrize("wildcard", ["*:@PORT0@", "@PORT0@"])
@pytest.mark.parametrize("order", ["specific_first", "wildcard_first"])
def test_wildcard_conflicts_with_specific(impl, wildcard, order):
    """conf.listen.unique: A wildcard and a specific address of the same family on the same
    port MUST be the error `"ADDR:PORT" conflicts with "*:PORT" in FILE:LINE`."""
    listens = ["listen 127.0.0.1:@PORT0@;", "listen %s;" % wildcard]
    if order == "wildcard_first":
        listens.reverse()
    r = impl.test_config(tcp="""
    server { %s protocol tcp_lua; process_by_lua 'ngx.say(1)'; }
    server { %s protocol tcp_lua; process_by_lua 'ngx.say(2)'; }""" % tuple(listens))
    port = r.ports[0]
    r.assert_emerg('"127.0.0.1:%d" conflicts with "*:%d"' % (port, port), _listen_lines(r))


@spec("conf.listen.unique")
def test_distinct_listens_are_fine(impl):
    """conf.listen.unique: different ports, or different families on one port, do not
    clash."""
    # The IPv6 listen (another family on the same port) only where IPv6 listens exist.
    six = "listen [::1]:@PORT1@; " if impl.adapter.has("ipv6") else ""
    r = impl.test_config(tcp="""
    server { listen 127.0.0.1:@PORT0@; listen @PORT1@; protocol tcp_lua; process_by_lua 'ngx.say(1)'; }
    server { %slisten 127.0.0.2:@PORT0@; protocol tcp_lua; process_by_lua 'ngx.say(2)'; }""" % six)
    r.assert_ok()


# -- conf.merge -------------------------------------------------------------------------------------
# Reads the first bytes, then waits for one more byte: says how the wait ended.
WAIT_LUA = 'ngx.receive(1) local d, e = ngx.receive(1) ngx.say(tostring(d), " ", tostring(e))'


@spec("conf.merge")
def test_server_inherits_tcp_read_timeout(server):
    """conf.merge: A directive valid in both `tcp` and `server` and absent from a server MUST
    take the value set in `tcp`: with `read_timeout 1s` in tcp, a server without its own
    times a pending receive out after about 1 s, one with `read_timeout 200ms` after about
    0.2 s (seen on the wire)."""
    srv = server(tcp="""
    read_timeout 1s;
    server { listen @PORT0@; protocol tcp_lua; process_by_lua '%s'; }
    server { listen @PORT1@; protocol tcp_lua; process_by_lua '%s'; read_timeout 200ms; }""" % (
        WAIT_LUA, WAIT_LUA))
    elapsed = []
    for index in (0, 1):
        t0 = time.monotonic()
        reply = start_session(srv, index).recv_until_close(timeout=5)
        elapsed.append(time.monotonic() - t0)
        assert reply == b"nil timeout\n", (index, reply)
    inherited, own = elapsed
    assert 0.8 <= inherited < 4, elapsed
    assert own < 0.8, elapsed


@spec("conf.merge", "cli.dump")
@pytest.mark.needs("cli.dump", "directive.lua_socket")
def test_server_inherits_tcp_values(impl):
    """conf.merge: A directive valid in both `tcp` and `server` and absent from a server MUST
    take the value set in `tcp`, else the default of §3 (seen in the -T effective
    configuration)."""
    r = impl.dump_config(tcp="""
    read_timeout 7s;
    send_timeout 8s;
    server { listen @PORT0@; protocol tcp_lua; process_by_lua 'ngx.say(1)'; }
    server { listen @PORT1@; protocol tcp_lua; process_by_lua 'ngx.say(2)'; read_timeout 9s; }""")
    r.assert_ok()
    _, effective = split_dump(r.stdout)
    assert effective is not None, r.stdout
    a, b = find(parse(effective), "tcp", "server")
    times = lambda srv, name: [parse_time(v[0]) for v in args_of(srv, name)]
    assert times(a, "read_timeout") == [7000]
    assert times(a, "send_timeout") == [8000]
    assert times(b, "read_timeout") == [9000]
    assert times(b, "send_timeout") == [8000]
    assert times(a, "resolver_timeout") == [30000]
    assert args_of(a, "lua_socket_pool_size") == [["30"]]


@spec("conf.merge")
def test_server_rules_replace_tcp_rules(server):
    """conf.merge: `allow`/`deny` rules given in a server replace the tcp-level list as a
    whole: a server without rules is denied by the tcp-level `deny all`, one with its own
    `allow 127.0.0.1` is not."""
    srv = server(tcp="""
    deny all;
    server { listen @PORT0@; protocol tcp_lua; process_by_lua 'ngx.say("a")'; }
    server { listen @PORT1@; protocol tcp_lua; process_by_lua 'ngx.say("b")'; allow 127.0.0.1; }""")
    assert start_session(srv, 0).recv_until_close() == b""
    assert start_session(srv, 1).recv_until_close() == b"b\n"
