"""SPEC §3 Directive reference: the directive table (contexts, syntax, defaults) and the
per-directive rules."""
import os
import re

import pytest

from tcplua_harness.cases import (HERE, SERVER, SERVER_BODY, check_in, in_context, running_user,
                                  start_session)
from tcplua_harness.client import has_ipv6_loopback
from tcplua_harness.confdump import args_of, find, parse, parse_size, parse_time, split_dump

spec = pytest.mark.spec


def effective(r):
    r.assert_ok()
    _, text = split_dump(r.stdout)
    assert text is not None, "no effective configuration in -T output:\n" + r.stdout
    return parse(text)


# -- dir.table --------------------------------------------------------------------------------------
# name -> (sample directive text, contexts, kind, default). kind selects how a default shown
# by -T is compared: "time"/"size" by value, "path" relative or prefix-absolute, else as words.
TS = ("tcp", "server")
TABLE = {
    "include": ("include none/*.conf;", ("main", "events", "tcp", "server"), None, None),
    "worker_processes": ("worker_processes 1;", ("main",), "words", "1"),
    "daemon": ("daemon off;", ("main",), "words", "on"),
    "master_process": ("master_process off;", ("main",), "words", "on"),
    "pid": ("pid logs/x.pid;", ("main",), "path", None),   # default: the adapter's pid_name
    # The suite's own user: a valid `user` on any host (ignored with a warning when not root);
    # its default depends on that too (test_privileges.py).
    "user": ("user %s %s;" % running_user(), ("main",), None, None),
    "worker_rlimit_nofile": ("worker_rlimit_nofile 1024;", ("main",), None, None),
    "worker_shutdown_timeout": ("worker_shutdown_timeout 5s;", ("main",), "time", "10s"),
    "error_log": ("error_log logs/x.log info;", ("main",) + TS, "path_level", "logs/error.log error"),
    "events": ("events {\n}", ("main",), None, None),
    "worker_connections": ("worker_connections 64;", ("events",), "words", "512"),
    "tcp": ("tcp {\n}", ("main",), None, None),
    "server": ("server {\n}", ("tcp",), None, None),
    "listen": ("listen 1234;", ("server",), None, None),
    "protocol": ("protocol tcp_lua;", ("server",), None, None),
    "read_timeout": ("read_timeout 5s;", TS, "time", "60s"),
    "send_timeout": ("send_timeout 5s;", TS, "time", "60s"),
    "keepalive_timeout": ("keepalive_timeout 5s;", TS, "time", "75s"),
    "session_pool_size": ("session_pool_size 2k;", TS, "size", "1k"),
    "connection_pool_size": ("connection_pool_size 1k;", TS, "size", "512"),
    "client_max_body_size": ("client_max_body_size 2k;", TS, "size", "1k"),
    "tcp_nodelay": ("tcp_nodelay off;", TS, "words", "on"),
    "allow": ("allow 127.0.0.1;", TS, None, None),
    "deny": ("deny 10.0.0.0/8;", TS, None, None),
    "resolver": ("resolver 127.0.0.1;", TS, None, None),
    "resolver_timeout": ("resolver_timeout 5s;", TS, "time", "30s"),
    "log_format": ("log_format mine '$remote_addr';", ("tcp",), None, None),
    "access_log": ("access_log logs/a.log;", TS, "path_format", "logs/access_tcp.log default"),
    "lua_package_path": ("lua_package_path '/tmp/?.lua;;';", ("tcp",), "present", None),
    "lua_package_cpath": ("lua_package_cpath '/tmp/?.so;;';", ("tcp",), "present", None),
    "lua_shared_dict": ("lua_shared_dict d 1m;", ("tcp",), None, None),
    "lua_code_cache": ("lua_code_cache off;", TS, "words", "on"),
    "lua_check_client_abort": ("lua_check_client_abort on;", TS, "words", "off"),
    "lua_socket_connect_timeout": ("lua_socket_connect_timeout 5s;", TS, "time", "60s"),
    "lua_socket_send_timeout": ("lua_socket_send_timeout 5s;", TS, "time", "60s"),
    "lua_socket_read_timeout": ("lua_socket_read_timeout 5s;", TS, "time", "60s"),
    "lua_socket_keepalive_timeout": ("lua_socket_keepalive_timeout 5s;", TS, "time", "60s"),
    "lua_socket_send_lowat": ("lua_socket_send_lowat 1k;", TS, "size", "0"),
    "lua_socket_buffer_size": ("lua_socket_buffer_size 8k;", TS, "size", "4k"),
    "lua_socket_pool_size": ("lua_socket_pool_size 10;", TS, "words", "30"),
    "lua_socket_log_errors": ("lua_socket_log_errors off;", TS, "words", "on"),
    "lua_regex_cache_max_entries": ("lua_regex_cache_max_entries 10;", ("tcp",), "words", "1024"),
    "lua_regex_match_limit": ("lua_regex_match_limit 1000;", ("tcp",), "words", "0"),
    "init_by_lua": ("init_by_lua 'x = 1';", ("tcp",), None, None),
    "init_by_lua_file": ("init_by_lua_file lua/init.lua;", ("tcp",), None, None),
    "process_by_lua": ("process_by_lua 'ngx.say(1)';", TS, None, None),
    "process_by_lua_file": ("process_by_lua_file lua/x.lua;", TS, None, None),
}
LUA_FILES = {"lua/init.lua": "x = 1\n", "lua/x.lua": "ngx.say(1)\n"}
# Directives of this implementation beyond the 2015 module's -> the capability naming them.
EXTENSIONS = {"tcp_nodelay": "directive.tcp_nodelay",
              "worker_shutdown_timeout": "directive.worker_shutdown_timeout"}
EXTENSIONS.update({name: "directive.lua_socket" for name in TABLE if name.startswith("lua_socket_")})
EXTENSIONS.update({name: "regex" for name in TABLE if name.startswith("lua_regex_")})


def _has(adapter, capability):
    has = getattr(adapter, "has", None)
    return has(capability) if has else True


@spec("dir.table")
@pytest.mark.parametrize("init", ["init_by_lua", "init_by_lua_file"])
@pytest.mark.parametrize("process", ["process_by_lua", "process_by_lua_file"])
def test_every_directive_in_every_context(impl, init, process):
    """dir.table: The implementation MUST accept exactly these directives, in these contexts
    (one configuration using every directive the 2015 module has in every context listed for
    it; the others are test_extension_directive_in_every_context)."""
    main, events, tcp, srv = [], [], [], []
    for name, (text, contexts, _, _) in TABLE.items():
        if name in ("events", "tcp", "server", "listen", "protocol") or "by_lua" in name:
            continue
        if name in EXTENSIONS:
            continue            # test_extension_directive_in_every_context
        for context in contexts:
            {"main": main, "events": events, "tcp": tcp, "server": srv}[context].append(text)
    r = impl.test_config(main="\n".join(main) + "\nevents {\n    %s\n}" % "\n    ".join(events),
                         tcp="""
    %s
    %s
    %s
    server {
        listen @PORT0@;
        protocol tcp_lua;
        %s
        %s
    }
    server {
        listen @PORT1@;
        protocol tcp_lua;
    }""" % ("\n    ".join(tcp), TABLE[init][0], TABLE[process][0], "\n        ".join(srv),
           TABLE[process][0]),
                         files=LUA_FILES)
    r.assert_ok()


def _extensions():
    for name, capability in sorted(EXTENSIONS.items()):
        text, contexts, _, _ = TABLE[name]
        yield pytest.param(text, contexts, id=name, marks=pytest.mark.needs(capability))


@spec("dir.table")
@pytest.mark.parametrize("text,contexts", list(_extensions()))
def test_extension_directive_in_every_context(impl, text, contexts):
    """dir.table: The implementation MUST accept exactly these directives, in these contexts:
    the directives the 2015 module lacks, each in every context listed for it."""
    main, tcp, srv = [], "", ""
    if "main" in contexts:
        main.append(text)
    if "tcp" in contexts:
        tcp = "    %s\n" % text
    if "server" in contexts:
        srv = "\n        %s" % text
    r = impl.test_config(main="\n".join(main), tcp=tcp + "    server {%s%s\n    }" % (
        SERVER_BODY, srv))
    r.assert_ok()


def _misplacements():
    for name, (text, contexts, _, _) in TABLE.items():
        for context in ("main", "events", "tcp", "server"):
            if context not in contexts:
                marks = [pytest.mark.needs(EXTENSIONS[name])] if name in EXTENSIONS else []
                yield pytest.param(name, text, context, id="%s@%s" % (name, context),
                                   marks=marks)


@spec("dir.table", "conf.err.context")
@pytest.mark.parametrize("name,text,context", list(_misplacements()))
def test_directive_outside_its_contexts(impl, name, text, context):
    """dir.table: only in these contexts: elsewhere `"NAME" directive is not allowed here`."""
    tcp, main = in_context(context, text)
    r = impl.test_config(tcp=tcp, main=main, files=LUA_FILES)
    r.assert_emerg('"%s" directive is not allowed here' % name, r.line_of(HERE))


def _same(kind, shown, default, prefix):
    if kind == "time":
        return len(shown) == 1 and parse_time(shown[0]) == parse_time(default)
    if kind == "size":
        return len(shown) == 1 and parse_size(shown[0]) == parse_size(default)
    if kind.startswith("path") and shown and shown[0].startswith(prefix + "/"):
        shown = [shown[0][len(prefix) + 1:]] + shown[1:]   # resolved against the prefix
    if kind in ("path_level", "path_format") and len(shown) == 1:
        shown = shown + default.split()[1:]   # an omitted level/format means the default one
    return shown == default.split()


@spec("dir.table", "cli.dump")
@pytest.mark.needs("cli.dump")
def test_defaults_in_effective_configuration(impl):
    """dir.table: with these defaults: `-T` shows every directive that has a default, in every
    context it may appear in, with the default value when the configuration does not set it
    (the directives of capabilities the implementation lacks are left out)."""
    r = impl.dump_config(conf_text="""
tcp {
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say(1)';
    }
}
""")
    tree = effective(r)
    blocks = {"main": [tree], "events": find(tree, "events"), "tcp": find(tree, "tcp"),
              "server": find(tree, "tcp", "server")}
    problems = []
    for name, (_, contexts, kind, default) in TABLE.items():
        if kind is None or (name in EXTENSIONS and not _has(impl.adapter, EXTENSIONS[name])):
            continue
        if name == "pid":
            default = impl.adapter.pid_name
        for context in contexts:
            for block in blocks[context] or [[]]:
                shown = args_of(block, name)
                ok = len(shown) == 1 and (kind == "present" or
                                          _same(kind, shown[0], default, str(r.prefix)))
                if not ok:
                    problems.append("%s in %s: expected %r, shown %r" % (
                        name, context, default, shown))
    assert not problems, "\n".join(problems)


# -- dir.worker_processes ---------------------------------------------------------------------------
@spec("dir.worker_processes")
@pytest.mark.parametrize("value", ["1", "4", "1024", "auto"])
def test_worker_processes_valid(impl, value):
    """dir.worker_processes: `worker_processes` MUST be a number from 1 to 1024 or `auto`."""
    check_in(impl, "main", "worker_processes %s;" % value).assert_ok()


@spec("dir.worker_processes", "cli.dump")
@pytest.mark.needs("cli.dump")
@pytest.mark.parametrize("value", ["1", "4", "1024", "auto"])
def test_worker_processes_effective(impl, value):
    """dir.worker_processes: a number from 1 to 1024 or `auto` (the number of online CPUs),
    as the -T effective configuration shows it."""
    tree = effective(impl.dump_config(main="worker_processes %s;" % value, tcp=SERVER))
    want = {str(os.cpu_count()), "auto"} if value == "auto" else {value}
    assert [a[0] for a in args_of(tree, "worker_processes")][0] in want


@spec("dir.worker_processes")
@pytest.mark.parametrize("value", ["0", "1025", "-1", "x", "2k", "''"])
def test_worker_processes_invalid(impl, value):
    """dir.worker_processes: anything else is the error
    `"worker_processes" directive invalid value`."""
    r = check_in(impl, "main", "worker_processes %s;" % value)
    r.assert_emerg('"worker_processes" directive invalid value', r.line_of(HERE))


# -- dir.events.once --------------------------------------------------------------------------------
@spec("dir.events.once")
def test_events_twice(impl):
    """dir.events.once: `events` MUST appear at most once; a second one is
    `"events" directive is duplicate`."""
    r = impl.test_config(main="events {\n}\nevents {\n}", tcp=SERVER)
    r.assert_emerg('"events" directive is duplicate', 3)


@spec("dir.events.once")
def test_tcp_twice(impl):
    """dir.events.once: `tcp` MUST appear at most once: `"tcp" directive is duplicate`."""
    r = impl.test_config(main="tcp {\n%s\n}" % SERVER.replace("@PORT0@", "@PORT1@"), tcp=SERVER)
    # Lines where a tcp block starts a statement (an adapter may put text before line 1's).
    lines = [i for i, l in enumerate(r.conf_text.splitlines(), 1) if re.search(r"(?:^|[;{}])\s*tcp \{", l)]
    r.assert_emerg('"tcp" directive is duplicate', lines[1])


# -- dir.error_log ----------------------------------------------------------------------------------
LEVELS = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"]


@spec("dir.error_log")
@pytest.mark.parametrize("context", ["main", "tcp", "server"])
@pytest.mark.parametrize("level", LEVELS + [None])
def test_error_log_levels(impl, context, level):
    """dir.error_log: `error_log` takes a file (or `stderr`) and an optional level among
    `debug info notice warn error crit alert emerg` (default `error`)."""
    text = "error_log logs/x.log%s;" % ("" if level is None else " " + level)
    if context == "main":
        r = impl.test_config(main=text, tcp=SERVER)
    else:
        r = check_in(impl, context, text)
    r.assert_ok()


@spec("dir.error_log")
def test_error_log_stderr(impl):
    """dir.error_log: `stderr` instead of a file."""
    impl.test_config(main="error_log stderr warn;", tcp=SERVER).assert_ok()


@spec("dir.error_log")
@pytest.mark.parametrize("level", ["verbose", "ERROR", "warning"])
def test_error_log_invalid_level(impl, level):
    """dir.error_log: another level MUST be the error `invalid log level "LEVEL"`."""
    r = check_in(impl, "tcp", "error_log logs/x.log %s;" % level)
    r.assert_emerg('invalid log level "%s"' % level, r.line_of(HERE))


@spec("dir.error_log", "conf.err.duplicate")
def test_error_log_once_per_context(impl):
    """dir.error_log: One `error_log` per context."""
    r = check_in(impl, "server", "error_log logs/a.log;\n        error_log logs/b.log;")
    r.assert_emerg('"error_log" directive is duplicate', r.line_of("logs/b.log"))


@spec("dir.error_log")
def test_error_log_inheritance(server):
    """dir.error_log: a server without one uses the tcp block's, which defaults to the main
    one (script messages at error level land in the inherited file)."""
    say_and_log = "ngx.log(ngx.ERR, \"marker-%s\") ngx.say(\"%s\")"
    srv = server(main="error_log logs/main.log debug;", tcp="""
    server { listen @PORT0@; protocol tcp_lua; process_by_lua '%s'; }
    server { listen @PORT1@; protocol tcp_lua; process_by_lua '%s'; error_log logs/srv.log; }
    """ % (say_and_log % ("a", "a"), say_and_log % ("b", "b")))
    assert start_session(srv, 0).recv_until_close() == b"a\n"
    assert start_session(srv, 1).recv_until_close() == b"b\n"
    srv.wait_file("logs/main.log", "marker-a")
    srv.wait_file("logs/srv.log", "marker-b")
    assert "marker-b" not in srv.read("logs/main.log")
    srv2 = server(main="error_log logs/main.log debug;", tcp="""
    error_log logs/tcp.log;
    server { listen @PORT0@; protocol tcp_lua; process_by_lua '%s'; }
    """ % (say_and_log % ("c", "c")))
    assert start_session(srv2, 0).recv_until_close() == b"c\n"
    srv2.wait_file("logs/tcp.log", "marker-c")
    assert "marker-c" not in srv2.read("logs/main.log")


# -- dir.listen.addr --------------------------------------------------------------------------------
@spec("dir.listen.addr")
def test_listen_address_forms(server):
    """dir.listen.addr: `listen` MUST accept `port`, `*:port`, `IPv4:port`, `localhost:port`
    (127.0.0.1) and `[IPv6]:port`; `port` alone means `*:port`. A server MAY have several
    `listen` directives."""
    srv = server(tcp="""
    server {
        listen @PORT0@;
        listen *:@PORT1@;
        listen 127.0.0.1:@PORT2@;
        listen localhost:@PORT3@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("ok")';
    }""")
    for i in range(4):
        assert start_session(srv, i).recv_until_close() == b"ok\n", "port index %d" % i


@spec("dir.listen.addr")
@pytest.mark.needs("ipv6")
def test_listen_ipv6(server):
    """dir.listen.addr: `[IPv6]:port`."""
    if not has_ipv6_loopback():
        pytest.skip("this host has no IPv6 loopback")   # the host's limit, not the server's
    srv = server(tcp="""
    server { listen [::1]:@PORT0@; protocol tcp_lua; process_by_lua 'ngx.say("six")'; }""")
    assert start_session(srv, 0, host="::1").recv_until_close() == b"six\n"


@spec("dir.listen.addr")
@pytest.mark.parametrize("arg", ["0", "65536", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:99999",
                                 "127.0.0.1", "*:",
                                 pytest.param("[::1]:", marks=pytest.mark.needs("ipv6"))])
def test_listen_invalid_port(impl, arg):
    """dir.listen.addr: A port outside 1..65535 or missing MUST be the error
    `invalid port in "ARG" of the "listen" directive`."""
    r = check_in(impl, "server", "listen %s;" % arg)
    r.assert_emerg('invalid port in "%s" of the "listen" directive' % arg, r.line_of(HERE))


@spec("dir.listen.addr")
@pytest.mark.parametrize("host", ["example.invalid", "256.1.1.1", "localhostx"])
def test_listen_unknown_host(impl, host):
    """dir.listen.addr: any other host MUST be the error
    `host not found in "ARG" of the "listen" directive`."""
    r = check_in(impl, "server", "listen %s:1234;" % host)
    r.assert_emerg('host not found in "%s:1234" of the "listen" directive' % host, r.line_of(HERE))


# -- dir.listen.options -----------------------------------------------------------------------------
@spec("dir.listen.options")
@pytest.mark.parametrize("options", [
    "backlog=1", "backlog=65535", "rcvbuf=8k", "sndbuf=64k", "deferred", "bind", "reuseport",
    "so_keepalive=on", "so_keepalive=off", "so_keepalive=30s:10s:5", "so_keepalive=30m::",
    "so_keepalive=:10:", "so_keepalive=::3",
    "backlog=10 rcvbuf=8k sndbuf=8k deferred bind reuseport so_keepalive=on"])
def test_listen_options_valid(impl, options):
    """dir.listen.options: `listen` MUST accept the options `backlog=N` (1..65535),
    `rcvbuf=size`, `sndbuf=size`, `deferred`, `bind`, `reuseport` and
    `so_keepalive=on|off|[idle]:[intvl]:[cnt]`."""
    check_in(impl, "server", "listen @PORT1@ %s;" % options).assert_ok()


@spec("dir.listen.options")
@pytest.mark.needs("ipv6")
@pytest.mark.parametrize("value", ["on", "off"])
def test_listen_ipv6only_valid(impl, value):
    """dir.listen.options: `ipv6only=on|off` (IPv6 addresses only)."""
    check_in(impl, "server", "listen [::1]:@PORT1@ ipv6only=%s;" % value).assert_ok()


@spec("dir.listen.options")
@pytest.mark.parametrize("option,message", [
    ("backlog=0", 'invalid backlog "0"'), ("backlog=65536", 'invalid backlog "65536"'),
    ("backlog=x", 'invalid backlog "x"'), ("rcvbuf=x", 'invalid rcvbuf "x"'),
    ("sndbuf=1q", 'invalid sndbuf "1q"'), ("so_keepalive=bogus", 'invalid so_keepalive value: "bogus"'),
    ("so_keepalive=1x::", 'invalid so_keepalive value: "1x::"'), ("fast", 'invalid parameter "fast"'),
    ("backlog", 'invalid parameter "backlog"')])
def test_listen_options_invalid(impl, option, message):
    """dir.listen.options: Invalid values MUST be the errors `invalid backlog "V"`,
    `invalid rcvbuf "V"`, `invalid sndbuf "V"`, `invalid so_keepalive value: "V"`; an unknown
    option MUST be the error `invalid parameter "OPT"`."""
    r = check_in(impl, "server", "listen @PORT1@ %s;" % option)
    r.assert_emerg(message, r.line_of(HERE))


@spec("dir.listen.options")
@pytest.mark.needs("ipv6")
def test_listen_ipv6only_invalid(impl):
    """dir.listen.options: `invalid ipv6only flags "V"`."""
    r = check_in(impl, "server", "listen [::1]:@PORT1@ ipv6only=maybe;")
    r.assert_emerg('invalid ipv6only flags "maybe"', r.line_of(HERE))


@spec("dir.listen.options")
@pytest.mark.needs("ipv6")
def test_listen_ipv6only_on_ipv4(impl):
    """dir.listen.options: `ipv6only is not supported on addr "ARG"`."""
    r = check_in(impl, "server", "listen 127.0.0.1:@PORT1@ ipv6only=on;")
    r.assert_emerg('ipv6only is not supported on addr "127.0.0.1:%d"' % r.ports[1], r.line_of(HERE))


# -- dir.protocol -----------------------------------------------------------------------------------
@spec("dir.protocol")
@pytest.mark.parametrize("name", ["http", "TCP_LUA", "tcp"])
def test_unknown_protocol(impl, name):
    """dir.protocol: `protocol` MUST accept only `tcp_lua`; another name MUST be the error
    `unknown protocol "NAME"`."""
    r = impl.test_config(tcp=SERVER.replace("protocol tcp_lua;", "protocol %s;" % name))
    r.assert_emerg('unknown protocol "%s"' % name, r.line_of("protocol %s" % name))


# -- dir.access.syntax ------------------------------------------------------------------------------
@spec("dir.access.syntax")
def test_access_rules_valid(impl):
    """dir.access.syntax: `allow`/`deny` MUST accept an IPv4 address, a CIDR (`10.0.0.0/8`)
    or `all`, and MAY repeat."""
    check_in(impl, "server", "allow 127.0.0.1; deny 10.0.0.0/8; "
                             "allow 10.1.2.3/8; deny all;").assert_ok()
    check_in(impl, "tcp", "allow 192.168.0.0/16; deny all;").assert_ok()


@spec("dir.access.syntax")
@pytest.mark.needs("ipv6")
def test_access_rules_valid_ipv6(impl):
    """dir.access.syntax: `allow`/`deny` MUST accept an IPv6 address or a CIDR
    (`2001:db8::/32`), mixed with IPv4 rules."""
    check_in(impl, "server", "allow 127.0.0.1; allow ::1; deny 10.0.0.0/8; "
                             "deny 2001:db8::/32; deny all;").assert_ok()


@spec("dir.access.syntax")
def test_access_cidr_host_bits_ignored(server):
    """dir.access.syntax: host bits are ignored: `allow 127.255.255.255/8` admits 127.0.0.1."""
    srv = server(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        allow 127.255.255.255/8;
        deny all;
        process_by_lua 'ngx.say("in")';
    }""")
    assert start_session(srv).recv_until_close() == b"in\n"


@spec("dir.access.syntax")
@pytest.mark.parametrize("directive", ["allow", "deny"])
@pytest.mark.parametrize("arg", ["foo", "300.1.1.1", "10.0.0.0/33", "::1/129", "1.2.3.4/",
                                 "localhost", "all/8"])
def test_access_rules_invalid(impl, directive, arg):
    """dir.access.syntax: anything else MUST be the error `invalid parameter "ARG"`."""
    r = check_in(impl, "server", "%s %s;" % (directive, arg))
    r.assert_emerg('invalid parameter "%s"' % arg, r.line_of(HERE))


# -- dir.resolver -----------------------------------------------------------------------------------
@spec("dir.resolver")
@pytest.mark.parametrize("args", ["127.0.0.1", pytest.param("127.0.0.1:5353 [::1]:53 ::1",
                                                             marks=pytest.mark.needs("ipv6")),
                                  "127.0.0.1 valid=30s ipv6=off", "10.0.0.1 ipv6=on"])
def test_resolver_valid(impl, args):
    """dir.resolver: `resolver` MUST accept one or more IPv4/IPv6 address literals, each with
    an optional `:port` (IPv6 as `[addr]:port`), plus `valid=time` and `ipv6=on|off`."""
    check_in(impl, "tcp", "resolver %s;" % args).assert_ok()


@spec("dir.resolver")
@pytest.mark.parametrize("arg", ["example.com", "localhost", "256.1.1.1", "1.2.3"])
def test_resolver_invalid(impl, arg):
    """dir.resolver: a host name or malformed address MUST be the error
    `invalid resolver address "ARG"`."""
    r = check_in(impl, "server", "resolver %s;" % arg)
    r.assert_emerg('invalid resolver address "%s"' % arg, r.line_of(HERE))


# -- dir.log_format / dir.access_log ------------------------------------------------------------------
@spec("dir.log_format")
def test_log_format_joins_strings(server):
    """dir.log_format: `log_format name string ...` MUST join its strings without
    separator."""
    srv = server(tcp="""
    log_format joined '$remote_addr' '|' 'X';
    access_log logs/joined.log joined;
%s""" % SERVER)
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_file("logs/joined.log", r"^127\.0\.0\.1\|X$")


@spec("dir.log_format")
@pytest.mark.parametrize("name", ["mine", "default"])
def test_log_format_duplicate_name(impl, name):
    """dir.log_format: a name already defined (or `default`) MUST be the error
    `duplicate "log_format" name "NAME"`."""
    text = "log_format %s '$remote_addr';" % name
    if name != "default":
        text = "log_format mine '$msec';\n    " + text
    r = check_in(impl, "tcp", text)
    lines = [i for i, l in enumerate(r.conf_text.splitlines(), 1) if "log_format %s" % name in l]
    r.assert_emerg('duplicate "log_format" name "%s"' % name, lines[-1])


@spec("dir.access_log")
def test_access_log_off(server):
    """dir.access_log: `access_log off` MUST disable the access log at that level (the
    session on the logging server is the only line)."""
    srv = server(tcp="""
    access_log logs/all.log;
    server { listen @PORT0@; protocol tcp_lua; process_by_lua 'ngx.say("a")'; access_log off; }
    server { listen @PORT1@; protocol tcp_lua; process_by_lua 'ngx.say("b")'; }""")
    assert start_session(srv, 0).recv_until_close() == b"a\n"
    assert start_session(srv, 1).recv_until_close() == b"b\n"
    srv.wait_file("logs/all.log", r"\n")
    assert len(srv.read("logs/all.log").splitlines()) == 1


@spec("dir.access_log")
def test_access_log_named_format(server):
    """dir.access_log: `access_log path [name]` MUST use the named format."""
    srv = server(tcp="""
    log_format marker 'marker $remote_addr';
%s""" % SERVER.replace("listen", "access_log logs/m.log marker;\n        listen"))
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_file("logs/m.log", r"^marker 127\.0\.0\.1$")


@spec("dir.access_log")
@pytest.mark.parametrize("order", ["undefined", "defined_later"])
def test_access_log_unknown_format(impl, order):
    """dir.access_log: the format must be defined earlier in the tcp block; an unknown name
    MUST be the error `unknown log format "NAME"`."""
    text = "access_log logs/x.log later;"
    if order == "defined_later":
        text += "\n    log_format later '$remote_addr';"
    r = check_in(impl, "tcp", text)
    r.assert_emerg('unknown log format "later"', r.line_of(HERE))


# -- dir.shared_dict --------------------------------------------------------------------------------
@spec("dir.shared_dict")
@pytest.mark.parametrize("size", ["4k", "8191", "x", "0", "1.5m"])
def test_shared_dict_bad_size(impl, size):
    """dir.shared_dict: `lua_shared_dict name size` MUST reject a size below 8k (or not a
    size) with `invalid lua shared dict size "SIZE"`."""
    r = check_in(impl, "tcp", "lua_shared_dict d %s;" % size)
    r.assert_emerg('invalid lua shared dict size "%s"' % size, r.line_of(HERE))


@spec("dir.shared_dict")
def test_shared_dict_sizes_and_names(impl):
    """dir.shared_dict: 8k is enough, and it MAY repeat with distinct names."""
    check_in(impl, "tcp", "lua_shared_dict a 8k; lua_shared_dict b 8192; "
                          "lua_shared_dict c 1m;").assert_ok()


@spec("dir.shared_dict")
def test_shared_dict_defined_twice(impl):
    """dir.shared_dict: a name defined twice with `lua_shared_dict "NAME" is already
    defined`."""
    r = check_in(impl, "tcp", "lua_shared_dict d 1m;\n    lua_shared_dict d 2m;")
    r.assert_emerg('lua_shared_dict "d" is already defined', r.line_of("d 2m"))


# -- dir.lua_code -----------------------------------------------------------------------------------
@spec("dir.lua_code")
@pytest.mark.parametrize("first,second", [
    ("init_by_lua 'x = 1';", "init_by_lua_file lua/init.lua;"),
    ("init_by_lua_file lua/init.lua;", "init_by_lua 'x = 1';"),
    ("init_by_lua 'x = 1';", "init_by_lua 'x = 2';")])
def test_init_slot_taken_twice(impl, first, second):
    """dir.lua_code: `init_by_lua` and `init_by_lua_file` are one slot: giving both, or one
    twice, MUST be the error `"NAME" directive is duplicate`."""
    r = impl.test_config(tcp="    %s\n    %s%s\n%s" % (first, second, HERE, SERVER),
                         files=LUA_FILES)
    r.assert_emerg('"%s" directive is duplicate' % second.split()[0], r.line_of(HERE))


@spec("dir.lua_code")
@pytest.mark.parametrize("context", ["tcp", "server"])
@pytest.mark.parametrize("second", ["process_by_lua_file lua/x.lua;", "process_by_lua 'ngx.say(2)';"])
def test_process_slot_taken_twice(impl, context, second):
    """dir.lua_code: likewise `process_by_lua` and `process_by_lua_file` in one context."""
    if context == "server":
        tcp = SERVER.replace("    }", "        %s%s\n    }" % (second, HERE))
    else:
        tcp = "    process_by_lua 'ngx.say(1)';\n    %s%s\n%s" % (second, HERE, SERVER)
    r = impl.test_config(tcp=tcp, files=LUA_FILES)
    r.assert_emerg('"%s" directive is duplicate' % second.split()[0], r.line_of(HERE))


@spec("dir.lua_code")
@pytest.mark.parametrize("directive", ["init_by_lua", "init_by_lua_file", "process_by_lua",
                                       "process_by_lua_file"])
def test_empty_code_or_path(impl, directive):
    """dir.lua_code: An empty code or path argument MUST be the error
    `"NAME" directive invalid value`."""
    r = check_in(impl, "tcp", "%s '';" % directive)
    r.assert_emerg('"%s" directive invalid value' % directive, r.line_of(HERE))


@spec("dir.lua_code.tcp_level", "conf.server.process_required")
def test_tcp_level_process_serves_servers_without_one(server):
    """dir.lua_code.tcp_level: `process_by_lua*` in the `tcp` block MUST serve every server
    that has none of its own."""
    srv = server(tcp="""
    process_by_lua 'ngx.say("tcp level")';
    server { listen @PORT0@; protocol tcp_lua; }
    server { listen @PORT1@; protocol tcp_lua; process_by_lua 'ngx.say("own")'; }
    server { listen @PORT2@; protocol tcp_lua; }""")
    assert start_session(srv, 0).recv_until_close() == b"tcp level\n"
    assert start_session(srv, 1).recv_until_close() == b"own\n"
    assert start_session(srv, 2).recv_until_close() == b"tcp level\n"


@spec("dir.lua_code.tcp_level")
def test_tcp_level_process_file(server):
    """dir.lua_code.tcp_level: the same with `process_by_lua_file`."""
    srv = server(tcp="""
    process_by_lua_file lua/x.lua;
    server { listen @PORT0@; protocol tcp_lua; }""", files={"lua/x.lua": 'ngx.say("file")\n'})
    assert start_session(srv, 0).recv_until_close() == b"file\n"
