"""SPEC §2.3 Structure and errors: the fixed error messages, value syntax, paths, include."""
import os
import random
import re
import time

import pytest

from tcplua_harness.cases import HERE, SERVER, SERVER_BODY, check_in, start_session
from tcplua_harness.confdump import args_of, find, parse, parse_size, parse_time, split_dump

spec = pytest.mark.spec


def effective_server(impl, server_text):
    """The effective directives of the single server after `-T` (asserting success)."""
    r = impl.dump_config(tcp="    server {%s\n        %s\n    }" % (SERVER_BODY, server_text))
    r.assert_ok()
    _, effective = split_dump(r.stdout)
    assert effective is not None, r.stdout
    servers = find(parse(effective), "tcp", "server")
    assert len(servers) == 1, effective
    return servers[0]


# -- conf.err.format --------------------------------------------------------------------------------
def garbage_inputs():
    words = ["tcp", "server", "events", "listen", "daemon", "include", "process_by_lua",
             "protocol", "read_timeout", "1s", "'", '"', "\\", "{", "}", ";", "#", "\n", " ",
             "\t", "$", "*:80", "lua_shared_dict", "on", "x" * 300]
    rng = random.Random(20150101)   # fixed: the same inputs on every run
    fixed = ["}", "{", ";", "tcp {", "tcp { server {", '"', "'abc", "\\", "tcp { server { listen",
             "tcp { server { } }", "events { events { } }", "\xff\xfe\x01", "include;",
             "tcp { server { listen 1; protocol tcp_lua; process_by_lua '", "x" * 5000]
    return fixed + ["".join(rng.choice(words) for _ in range(rng.randrange(1, 40)))
                    for _ in range(25)]


@spec("conf.err.format")
@pytest.mark.parametrize("text", [pytest.param(t, id="%02d_len%d" % (i, len(t)))
                                  for i, t in enumerate(garbage_inputs())])
def test_errors_are_one_emerg_line_and_never_a_crash(impl, text):
    """conf.err.format: Every configuration error MUST be reported as one line
    `tcplua: [emerg] MESSAGE in FILE:LINE` and make start-up or `-t` fail with exit status 1;
    no configuration input may crash the implementation (crashes and sanitizer reports fail
    the run by themselves)."""
    r = impl.test_config(conf_text=text)
    if r.rc != 0:
        r.assert_emerg(None, file="*")


@spec("conf.err.other")
def test_too_many_arguments_is_a_located_error(impl):
    """conf.err.other: Other configuration errors MAY use messages not listed in this
    document (for example `too many arguments in "NAME" directive` beyond 63 arguments);
    they follow conf.err.format: one emerg line located at FILE:LINE, exit status 1."""
    r = check_in(impl, "tcp", "log_format big" + " x" * 70 + ";" + HERE)
    r.assert_emerg(None, r.line_of(HERE))


# -- conf.err.unknown -------------------------------------------------------------------------------
@spec("conf.err.unknown")
@pytest.mark.parametrize("context", ["main", "events", "tcp", "server"])
def test_unknown_directive(impl, context):
    """conf.err.unknown: A word in directive position that names no directive MUST be the
    error `unknown directive "NAME"`."""
    r = check_in(impl, context, "bogus_directive on;")
    r.assert_emerg('unknown directive "bogus_directive"', r.line_of("bogus_directive"))


@spec("conf.err.unknown")
def test_unknown_block_directive(impl):
    """conf.err.unknown: the same for a word opening a block."""
    r = impl.test_config(tcp=SERVER, main="http {\n}")
    r.assert_emerg('unknown directive "http"', r.line_of("http {"))


# -- conf.err.context -------------------------------------------------------------------------------
MISPLACED = [
    ("main", "listen 80;", "listen"), ("main", "protocol tcp_lua;", "protocol"),
    ("main", "read_timeout 1s;", "read_timeout"), ("main", "worker_connections 10;",
                                                   "worker_connections"),
    ("main", "server {\n}", "server"), ("main", "lua_shared_dict d 1m;", "lua_shared_dict"),
    ("events", "daemon off;", "daemon"), ("events", "read_timeout 1s;", "read_timeout"),
    ("tcp", "daemon off;", "daemon"), ("tcp", "worker_connections 10;", "worker_connections"),
    ("tcp", "listen 80;", "listen"), ("tcp", "tcp {\n    }", "tcp"),
    ("server", "lua_shared_dict d 1m;", "lua_shared_dict"),
    ("server", "init_by_lua 'x = 1';", "init_by_lua"), ("server", "log_format f x;", "log_format"),
    ("server", "lua_package_path x;", "lua_package_path"), ("server", "pid x.pid;", "pid"),
    ("server", "server {\n        }", "server"), ("server", "events {\n        }", "events"),
]


@spec("conf.err.context")
@pytest.mark.parametrize("context,text,name", MISPLACED,
                         ids=["%s@%s" % (n, c) for c, _, n in MISPLACED])
def test_directive_not_allowed_here(impl, context, text, name):
    """conf.err.context: A directive used outside the contexts listed for it in §3 MUST be the
    error `"NAME" directive is not allowed here`."""
    r = check_in(impl, context, text)
    r.assert_emerg('"%s" directive is not allowed here' % name, r.line_of(HERE))


# -- conf.err.arity ---------------------------------------------------------------------------------
ARITY = [
    ("main", "daemon on off;", "daemon"), ("main", "worker_processes;", "worker_processes"),
    ("main", "include;", "include"), ("main", "events x {\n}", "events"),
    ("tcp", "lua_shared_dict d;", "lua_shared_dict"), ("tcp", "read_timeout 1s 2s;", "read_timeout"),
    ("server", "protocol;", "protocol"), ("server", "listen;", "listen"),
    ("server", "lua_code_cache;", "lua_code_cache"), ("server", "process_by_lua a b;", "process_by_lua"),
]


@spec("conf.err.arity")
@pytest.mark.parametrize("context,text,name", ARITY, ids=[t for _, t, _ in ARITY])
def test_invalid_number_of_arguments(impl, context, text, name):
    """conf.err.arity: A directive with a wrong number of arguments MUST be the error
    `invalid number of arguments in "NAME" directive`."""
    r = check_in(impl, context, text)
    r.assert_emerg('invalid number of arguments in "%s" directive' % name,
                   r.line_of(HERE))


# -- conf.err.terminator ----------------------------------------------------------------------------
@spec("conf.err.terminator")
@pytest.mark.parametrize("context,text,name", [("main", "daemon off {\n}", "daemon"),
                                               ("server", "protocol tcp_lua {\n}", "protocol")])
def test_simple_directive_with_block(impl, context, text, name):
    """conf.err.terminator: A non-block directive followed by `{` MUST be the error
    `directive "NAME" is not terminated by ";"`."""
    r = check_in(impl, context, text)
    r.assert_emerg('directive "%s" is not terminated by ";"' % name, r.line_of(HERE))


@spec("conf.err.terminator")
@pytest.mark.parametrize("text", ["tcp;", "events;"])
def test_block_directive_with_semicolon(impl, text):
    """conf.err.terminator: a block directive followed by `;` MUST be the error
    `directive "NAME" has no opening "{"`."""
    r = impl.test_config(conf_text="daemon off;\n%s\n" % text)
    r.assert_emerg('directive "%s" has no opening "{"' % text[:-1], 2)


@spec("conf.err.terminator")
def test_server_with_semicolon(impl):
    """conf.err.terminator: the same for `server;` in the tcp block."""
    r = impl.test_config(tcp="    server;\n" + SERVER)
    r.assert_emerg('directive "server" has no opening "{"', r.line_of("server;"))


# -- conf.err.duplicate -----------------------------------------------------------------------------
DUPLICATES = [
    ("main", "daemon off;\ndaemon off;", "daemon"),
    ("main", "worker_processes 1;\nworker_processes 2;", "worker_processes"),
    ("events", "worker_connections 10;\n    worker_connections 20;", "worker_connections"),
    ("tcp", "lua_package_path 'a';\n    lua_package_path 'b';", "lua_package_path"),
    ("server", "protocol tcp_lua;", "protocol"),
    ("server", "read_timeout 1s;\n        read_timeout 2s;", "read_timeout"),
    ("server", "lua_check_client_abort on;\n        lua_check_client_abort off;",
     "lua_check_client_abort"),
]


@spec("conf.err.duplicate")
@pytest.mark.parametrize("context,text,name", DUPLICATES, ids=[n for _, _, n in DUPLICATES])
def test_single_valued_directive_repeated(impl, context, text, name):
    """conf.err.duplicate: A single-valued directive repeated in one context MUST be the error
    `"NAME" directive is duplicate`."""
    r = check_in(impl, context, text)
    # A line where the directive starts a statement (an adapter may put text before line 1's).
    starts = re.compile(r"(?:^|[;{}])\s*%s\b" % re.escape(name))
    lines = [i for i, l in enumerate(r.conf_text.splitlines(), 1) if starts.search(l)]
    r.assert_emerg('"%s" directive is duplicate' % name, lines[1])


@spec("conf.err.duplicate")
def test_repeatable_directives(impl):
    """conf.err.duplicate: Where a directive may repeat, §3 says so: listen, allow/deny,
    lua_shared_dict (distinct names), log_format (distinct names) and include."""
    # An IPv6 allow rule only where IPv6 rules exist.
    six = "allow ::1;" if impl.adapter.has("ipv6") else ""
    r = impl.test_config(tcp="""
    include none/*.conf;
    include none/*.conf;
    lua_shared_dict a 1m;
    lua_shared_dict b 1m;
    log_format f1 '$remote_addr';
    log_format f2 '$remote_addr';
    server {
        listen @PORT0@;
        listen @PORT1@;
        allow 127.0.0.1;
        %s
        deny all;
        protocol tcp_lua;
        process_by_lua 'ngx.say(1)';
    }""" % six)
    r.assert_ok()


# -- conf.err.braces --------------------------------------------------------------------------------
@spec("conf.err.braces")
@pytest.mark.parametrize("text,message,line", [
    ("daemon off;\n}", 'unexpected "}"', 2),
    ("daemon off;\ntcp {\n    server {", 'unexpected end of file, expecting "}"', 3),
    ("daemon off;\nworker_processes 1", 'unexpected end of file, expecting ";" or "}"', 2),
    ("daemon off;\n;", 'unexpected ";"', 2),
    ("daemon off;\n{\n}", 'unexpected "{"', 2),
], ids=["close", "eof_in_block", "eof_in_directive", "semicolon", "open"])
def test_brace_and_eof_errors(impl, text, message, line):
    """conf.err.braces: A `}` with no open block MUST be the error `unexpected "}"`; end of
    file inside a block MUST be `unexpected end of file, expecting "}"`; end of file in the
    middle of a directive MUST be `unexpected end of file, expecting ";" or "}"`; a `;` or
    `{` with no directive name before it MUST be `unexpected ";"` / `unexpected "{"`."""
    r = impl.test_config(conf_text=text)
    r.assert_emerg(message, line)


# -- conf.err.value ---------------------------------------------------------------------------------
@spec("conf.err.value")
@pytest.mark.parametrize("context,name,value", [
    ("main", "daemon", "yes"), ("main", "master_process", "1"), ("server", "lua_code_cache", "maybe"),
    ("tcp", "lua_code_cache", "enable"), ("server", "lua_check_client_abort", "true")])
def test_invalid_flag(impl, context, name, value):
    """conf.err.value: An invalid flag MUST be the error `invalid value "V" in "NAME"
    directive, it must be "on" or "off"`."""
    r = check_in(impl, context, "%s %s;" % (name, value))
    r.assert_emerg('invalid value "%s" in "%s" directive, it must be "on" or "off"' % (
        value, name), r.line_of(HERE))


@spec("conf.err.value")
@pytest.mark.parametrize("context,name,value", [
    ("events", "worker_connections", "many"), ("events", "worker_connections", "-1"),
    ("events", "worker_connections", "1k")])
def test_invalid_number(impl, context, name, value):
    """conf.err.value: an invalid number `"NAME" directive invalid number`."""
    r = check_in(impl, context, "%s %s;" % (name, value))
    r.assert_emerg('"%s" directive invalid number' % name, r.line_of(HERE))



@spec("dir.worker_connections")
def test_worker_connections_zero_is_invalid(impl):
    """dir.worker_connections: "worker_connections MUST be a number of at least 1: 0 MUST be the
    error `"worker_connections" directive invalid value`", at parse time (so start-up fails
    with the same line)."""
    r = check_in(impl, "events", "worker_connections 0;")
    r.assert_emerg('"worker_connections" directive invalid value', r.line_of(HERE))


@spec("dir.worker_connections")
@pytest.mark.parametrize("value", ["1", "00001"])
def test_worker_connections_one_is_valid(impl, value):
    """dir.worker_connections: 1 (however written) is the least valid value."""
    check_in(impl, "events", "worker_connections %s;" % value).assert_ok()


@spec("dir.worker_connections", "conf.err.value")
@pytest.mark.parametrize("value", ["-1", "-0", "+5", "0x10"])
def test_worker_connections_not_a_number(impl, value):
    """dir.worker_connections: "a word that is not a number, a sign included, ...
    `"worker_connections" directive invalid number`"."""
    r = check_in(impl, "events", "worker_connections %s;" % value)
    r.assert_emerg('"worker_connections" directive invalid number', r.line_of(HERE))


@spec("conf.err.value")
@pytest.mark.parametrize("name,value", [
    ("client_max_body_size", "4q"), ("session_pool_size", "big"),
    ("read_timeout", "5x"), ("send_timeout", "soon")])
def test_invalid_size_or_time(impl, name, value):
    """conf.err.value: an invalid size or time `"NAME" directive invalid value`."""
    r = check_in(impl, "server", "%s %s;" % (name, value))
    r.assert_emerg('"%s" directive invalid value' % name, r.line_of(HERE))


# -- conf.value.size --------------------------------------------------------------------------------
SIZES = ["0", "1000", "8k", "8K", "3m", "3M", "1g", "1G"]


@spec("conf.value.size")
@pytest.mark.parametrize("value", SIZES)
def test_valid_sizes(impl, value):
    """conf.value.size: A size MUST be decimal digits optionally followed by `k`/`K` (×1024),
    `m`/`M` (×1024²) or `g`/`G` (×1024³) (accepted by -t)."""
    check_in(impl, "server", "client_max_body_size %s;" % value).assert_ok()


@spec("conf.value.size", "cli.dump")
@pytest.mark.needs("cli.dump")
@pytest.mark.parametrize("value", SIZES)
def test_valid_sizes_effective(impl, value):
    """conf.value.size: A size MUST be decimal digits optionally followed by `k`/`K` (×1024),
    `m`/`M` (×1024²) or `g`/`G` (×1024³); the effective value shown by -T is that size."""
    srv = effective_server(impl, "client_max_body_size %s;" % value)
    [[shown]] = args_of(srv, "client_max_body_size")
    assert parse_size(shown) == parse_size(value)


@spec("conf.value.size", "conf.err.value")
@pytest.mark.parametrize("value", ["1.5k", "k", "-1", "1kb", "1t", "0x10", "", "1 k", "+1"])
def test_invalid_sizes(impl, value):
    """conf.value.size: nothing else is a size (`"NAME" directive invalid value`)."""
    r = check_in(impl, "server", "client_max_body_size '%s';" % value)
    r.assert_emerg('"client_max_body_size" directive invalid value', r.line_of(HERE))


# -- conf.value.time --------------------------------------------------------------------------------
TIMES = ["1h30m", "500ms", "10", "1d", "1w", "2M", "1y", "1m30", "1s500ms", "2h1s", "0"]


@spec("conf.value.time")
@pytest.mark.parametrize("value", TIMES)
def test_valid_times(impl, value):
    """conf.value.time: A time MUST be one or more number+unit pairs with units `ms`, `s`,
    `m`, `h`, `d`, `w`, `M` (30 days), `y` (365 days), each unit at most once and in
    decreasing order (`1h30m`) (accepted by -t)."""
    check_in(impl, "server", "read_timeout %s;" % value).assert_ok()


@spec("conf.value.time")
def test_bare_number_means_seconds(server):
    """conf.value.time: a bare number means seconds, seen on the wire: with `read_timeout 1`
    a pending receive times out after about 1 s (not 1 ms), with `read_timeout 300ms` sooner."""
    wait = 'ngx.receive(1) local d, e = ngx.receive(1) ngx.say(tostring(d), " ", tostring(e))'
    srv = server(tcp="""
    server { listen @PORT0@; protocol tcp_lua; read_timeout 1; process_by_lua '%s'; }
    server { listen @PORT1@; protocol tcp_lua; read_timeout 300ms; process_by_lua '%s'; }""" % (
        wait, wait))
    elapsed = []
    for index in (0, 1):
        t0 = time.monotonic()
        assert start_session(srv, index).recv_until_close() == b"nil timeout\n"
        elapsed.append(time.monotonic() - t0)
    assert 0.8 <= elapsed[0] < 4 and 0.2 <= elapsed[1] < 0.8, elapsed


@spec("conf.value.time", "cli.dump")
@pytest.mark.needs("cli.dump")
@pytest.mark.parametrize("value", TIMES)
def test_valid_times_effective(impl, value):
    """conf.value.time: A time MUST be one or more number+unit pairs with units `ms`, `s`,
    `m`, `h`, `d`, `w`, `M` (30 days), `y` (365 days), each unit at most once and in
    decreasing order (`1h30m`); a bare number, alone or last, means seconds (the effective
    value shown by -T)."""
    srv = effective_server(impl, "read_timeout %s;" % value)
    [[shown]] = args_of(srv, "read_timeout")
    assert parse_time(shown) == parse_time(value)


@spec("conf.value.time", "conf.err.value")
@pytest.mark.parametrize("value", ["30m1h", "1m1m", "5x", "ms", "", "1.5s", "-1s", "s1", "1S",
                                   "99999999999999999999999y"])
def test_invalid_times(impl, value):
    """conf.value.time: units out of order, repeated or unknown, and overflow, are an invalid
    value."""
    r = check_in(impl, "server", "read_timeout '%s';" % value)
    r.assert_emerg('"read_timeout" directive invalid value', r.line_of(HERE))



# -- conf.value.overflow ----------------------------------------------------------------------------
# Each invalid value below is accepted when one of the parser's bound checks is left out: the
# digit loop's (a number wraps), the unit's scale (k/m/g), a time piece's or the running sum's.
TIME_LIMITS_OK = ["2147483647", "2147483647s", "24855d3h14m7s", "68y", "2147483647000ms"]
TIME_OVERFLOWS = ["2147483648", "99999999999d", "24855d3h14m8s", "2147483647s1ms", "69y",
                  "999999999999999999s", "9223372036854775808ms", "18446744073709551617"]
SIZE_LIMITS_OK = ["9223372036854775807", "8589934591g", "9007199254740991k", "8796093022207m"]
SIZE_OVERFLOWS = ["9223372036854775808", "99999999999999999999", "1000000000000g",
                  "20000000000000000k", "20000000000000m", "8589934592g"]


@spec("conf.value.overflow", "conf.value.time")
@pytest.mark.parametrize("value", TIME_LIMITS_OK)
def test_time_at_the_limit(impl, value):
    """conf.value.overflow: "a time MUST be at most 2147483647 seconds (2^31−1 s, about 68
    years: 2147483647, 24855d3h14m7s, 68y)": the limit itself is a valid time."""
    check_in(impl, "server", "read_timeout %s;" % value).assert_ok()


@spec("conf.value.overflow", "conf.err.value")
@pytest.mark.parametrize("value", TIME_OVERFLOWS)
@pytest.mark.parametrize("context,name", [("server", "read_timeout"), ("tcp", "keepalive_timeout")])
def test_time_overflow_is_invalid(impl, value, context, name):
    """conf.value.overflow: "a time MUST be at most 2147483647 seconds ..., counting the sum of
    its pieces; a larger size or time is an invalid value": one second or one millisecond
    more, 99999999999d (which fits a 64-bit count of milliseconds), digits that overflow."""
    r = check_in(impl, context, "%s %s;" % (name, value))
    r.assert_emerg('"%s" directive invalid value' % name, r.line_of(HERE))


@spec("conf.value.overflow", "conf.value.size")
@pytest.mark.parametrize("value", SIZE_LIMITS_OK)
def test_size_at_the_limit(impl, value):
    """conf.value.overflow: "a size MUST be at most 9223372036854775807 bytes": the largest
    multiple of each unit within it is valid."""
    check_in(impl, "server", "client_max_body_size %s;" % value).assert_ok()


@spec("conf.value.overflow", "conf.err.value")
@pytest.mark.parametrize("value", SIZE_OVERFLOWS)
def test_size_overflow_is_invalid(impl, value):
    """conf.value.overflow: a larger size is an invalid value, whichever unit overflows."""
    r = check_in(impl, "server", "client_max_body_size %s;" % value)
    r.assert_emerg('"client_max_body_size" directive invalid value', r.line_of(HERE))


@spec("conf.value.overflow", "conf.err.value")
@pytest.mark.parametrize("context,name,value", [
    ("events", "worker_connections", "99999999999999999999"),
    ("events", "worker_connections", "9223372036854775808"),
    ("server", "lua_socket_pool_size", "18446744073709551617")])
def test_number_overflow_is_invalid_number(impl, context, name, value):
    """conf.value.overflow: "A number MUST be at most 9223372036854775807 (2^63−1), else it is
    an invalid number" (`"NAME" directive invalid number`)."""
    r = check_in(impl, context, "%s %s;" % (name, value))
    r.assert_emerg('"%s" directive invalid number' % name, r.line_of(HERE))


# -- conf.value.path --------------------------------------------------------------------------------
LUA = {"lua/hello.lua": 'ngx.say("from file")\n'}


@spec("conf.value.path")
def test_relative_paths_resolve_against_prefix(server):
    """conf.value.path: A relative path argument (files of `pid`, `error_log`, `access_log`,
    `*_by_lua_file`) MUST be resolved against the prefix (the server runs in another
    directory, which stays empty)."""
    srv = server(main="pid logs/other.pid;\nerror_log logs/other-error.log debug;", tcp="""
    access_log logs/other-access.log;
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua_file lua/hello.lua;
    }""", files=LUA)
    assert start_session(srv).recv_until_close() == b"from file\n"
    srv.wait_file("logs/other.pid", r"^%d\s*$" % srv.pid)
    srv.wait_path("logs/other-error.log")
    srv.wait_path("logs/other-access.log")
    assert list(srv.cwd.iterdir()) == []


@spec("conf.value.path")
def test_absolute_paths_used_as_is(server):
    """conf.value.path: an absolute path is used as is."""
    srv = server(main="pid @PREFIX@/abs/x.pid;\nerror_log @PREFIX@/abs/e.log debug;", tcp="""
    access_log @PREFIX@/abs/a.log;
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua_file @PREFIX@/abs/hello.lua;
    }""", files={"abs/hello.lua": 'ngx.say("from file")\n'})
    assert start_session(srv).recv_until_close() == b"from file\n"
    srv.wait_file("abs/x.pid", r"^%d\s*$" % srv.pid)
    srv.wait_path("abs/e.log")
    srv.wait_path("abs/a.log")


@spec("conf.value.path")
@pytest.mark.parametrize("context,text", [
    ("main", "pid '';"),
    ("tcp", "access_log '';"),
    ("server", "access_log \"\";"),
    ("main", "error_log '';"),
])
def test_empty_path_is_invalid(impl, context, text):
    """conf.value.path: An empty path MUST be the error `"NAME" directive invalid value`."""
    r = check_in(impl, context, text + HERE)
    name = text.split()[0]
    r.assert_emerg('"%s" directive invalid value' % name, r.line_of(HERE))


# -- conf.include -----------------------------------------------------------------------------------
@spec("conf.include")
def test_include_glob_in_tcp_serves_each_file(server):
    """conf.include: `include PATTERN` parses the matching files as if their text stood in
    place of the directive, in the current context. A relative PATTERN is relative to the
    directory of the main configuration file."""
    srv = server(tcp="    include servers/*.conf;", files={
        "conf/servers/a.conf": """
server { listen @PORT0@; protocol tcp_lua; process_by_lua 'ngx.say("a")'; }""",
        "conf/servers/b.conf": """
server { listen @PORT1@; protocol tcp_lua; process_by_lua 'ngx.say("b")'; }"""})
    assert start_session(srv, 0).recv_until_close() == b"a\n"
    assert start_session(srv, 1).recv_until_close() == b"b\n"


@spec("conf.include")
def test_include_allowed_in_every_context(impl):
    """conf.include: `include PATTERN` MUST be allowed in every context."""
    r = impl.test_config(main="include main.inc;\nevents {\n    include events.inc;\n}", tcp="""
    include tcp.inc;
    server {
        include server.inc;
        protocol tcp_lua;
        process_by_lua 'ngx.say(1)';
    }""", files={"conf/main.inc": "worker_processes 1;\n",
                 "conf/events.inc": "worker_connections 64;\n",
                 "conf/tcp.inc": "read_timeout 5s;\n",
                 "conf/server.inc": "listen @PORT0@;\n"})
    r.assert_ok()


@spec("conf.include")
def test_included_text_is_in_the_current_context(impl):
    """conf.include: the included text is in the current context, and errors in it name the
    included file and its line."""
    r = impl.test_config(tcp="    include listen.inc;\n" + SERVER,
                         files={"conf/listen.inc": "# tcp level\nlisten 80;\n"})
    r.assert_emerg('"listen" directive is not allowed here', 2, file=r.path("conf/listen.inc"))


@spec("conf.include")
def test_include_in_glob_order(impl):
    """conf.include: matching files are parsed in glob order: the repeat is in the later one."""
    r = impl.test_config(tcp=SERVER, main="include parts/*.conf;", files={
        "conf/parts/b.conf": "worker_processes 2;\n",
        "conf/parts/a.conf": "worker_processes 1;\n"})
    r.assert_emerg('"worker_processes" directive is duplicate', 1, file=r.path("conf/parts/b.conf"))


@spec("conf.include")
def test_wildcard_matching_nothing(impl):
    """conf.include: A pattern with wildcards MAY match nothing."""
    impl.test_config(tcp="    include nothing/*.conf;\n" + SERVER).assert_ok()


@spec("conf.include")
def test_missing_include_file(impl):
    """conf.include: a pattern without wildcards that names no file MUST be the error
    `open() "PATH" failed (ERRNO: TEXT)`."""
    r = impl.test_config(tcp="    include missing.conf;\n" + SERVER)
    r.assert_emerg('open() "%s" failed (2: No such file or directory)' % r.path("conf/missing.conf"),
                   r.line_of("include missing.conf"))



# -- conf.include.type ------------------------------------------------------------------------------
def _not_regular(r, path, line=None):
    """The `"PATH" is not a regular file` error: located at `line` of the main file (an
    include), or with no location (-c); exit 1 and the `test failed` line."""
    __tracebackhide__ = True
    if line is not None:
        return r.assert_emerg('"%s" is not a regular file' % path, line)
    assert r.rc == 1, r.out
    assert r.stderr.splitlines() == [
        '%s: [emerg] "%s" is not a regular file' % (r.program, path),
        "%s: configuration file %s test failed" % (r.program, path)], r.stderr


@spec("conf.include.type")
@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_include_of_a_non_regular_file(impl, kind):
    """conf.include.type: "A file named by include ... that is not a regular file (a directory,
    a FIFO, a device) MUST be the error `"PATH" is not a regular file`, followed for include by
    ` in FILE:LINE` of the directive. ... -t and start-up never wait on a FIFO." """
    target = {"directory": "@PREFIX@/conf/sub", "fifo": "@PREFIX@/conf/pipe",
              "device": "/dev/null"}[kind]
    prefix = impl.prefix(tcp="    include %s;\n%s" % (target, SERVER),
                         files={"conf/sub/x.lua": "x = 1\n"})
    if kind == "fifo":
        os.mkfifo(str(prefix.path / "conf/pipe"))
    r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-t"])
    _not_regular(r, prefix.fill(target), r.line_of("include "))


@spec("conf.include.type")
@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_glob_include_matching_a_non_regular_file(impl, kind):
    """conf.include.type: the same for a file matched by a wildcard: `include parts/*` where
    parts/ holds a regular file and then a directory (or a FIFO) fails on the latter."""
    files = {"conf/parts/a": "read_timeout 5s;\n"}
    if kind == "directory":
        files["conf/parts/b/x"] = "x\n"
    prefix = impl.prefix(tcp="    include parts/*;\n" + SERVER, files=files)
    if kind == "fifo":
        os.mkfifo(str(prefix.path / "conf/parts/b"))
    r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-t"])
    _not_regular(r, "%s/conf/parts/b" % prefix.path, r.line_of("include parts"))


@spec("conf.include.type")
@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_c_naming_a_non_regular_file(impl, kind):
    """conf.include.type: the same for the file named by -c (no FILE:LINE: nothing was read)."""
    prefix = impl.prefix(tcp=SERVER, files={"conf/dir/x": "x\n"})
    rel = "conf/dir" if kind == "directory" else "conf/pipe"
    if kind == "fifo":
        os.mkfifo(str(prefix.path / rel))
    args = impl.adapter.conf_args(prefix.path)
    i = args.index("-c")
    r = impl.run_in(prefix, args[:i + 1] + [rel] + args[i + 2:] + ["-t"])
    _not_regular(r, "%s/%s" % (prefix.path, rel))


@spec("conf.include.depth")
def test_self_include(impl):
    """conf.include.depth: Nesting of blocks and includes deeper than 64 levels (for example a
    file that includes itself) MUST be the error `too deeply nested blocks or includes`."""
    r = impl.test_config(tcp="    include self.conf;\n" + SERVER,
                         files={"conf/self.conf": "include self.conf;\n"})
    r.assert_emerg("too deeply nested blocks or includes", file="*")


@spec("conf.include.depth")
def test_mutual_include(impl):
    """conf.include.depth: the same for two files including each other."""
    r = impl.test_config(main="include a.inc;", tcp=SERVER,
                         files={"conf/a.inc": "include b.inc;\n", "conf/b.inc": "include a.inc;\n"})
    r.assert_emerg("too deeply nested blocks or includes", file="*")


@spec("conf.include.depth")
def test_sixty_levels_are_fine(impl):
    """conf.include.depth: nesting up to the limit is not an error (a chain of 60 files)."""
    files = {"conf/n%d.inc" % i: "include n%d.inc;\n" % (i + 1) for i in range(60)}
    files["conf/n60.inc"] = "worker_processes 1;\n"
    impl.test_config(main="include n0.inc;", tcp=SERVER, files=files).assert_ok()
