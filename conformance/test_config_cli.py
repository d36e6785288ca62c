"""SPEC §2.1 Command line: options, -t/-T/-q/-g/-v/-V, default paths and -s signals."""
import os
import re
import socket

import pytest

from tcplua_harness.cases import SERVER, SERVER_BODY, script_tcp, start_session

spec = pytest.mark.spec
needs = pytest.mark.needs


def conf_args(impl):
    """-p PREFIX/ -c CONF as the adapter spells them (placeholders filled by impl.run)."""
    return impl.adapter.conf_args("@PREFIX@")


# -- cli.options ------------------------------------------------------------------------------
@spec("cli.options")
def test_grouped_flags_and_attached_values(impl):
    """cli.options: flags MAY be grouped (`-tq`) and an option's value MAY follow its letter
    directly (`-cfile`) or as the next word."""
    conf = impl.adapter.conf_name
    r = impl.run(["-p@PREFIX@/", "-c" + conf, "-tq"], tcp=SERVER)
    assert r.rc == 0, r.out
    assert "syntax is ok" not in r.stderr
    r = impl.run(["-p", "@PREFIX@/", "-c", conf, "-t"], tcp=SERVER)
    r.assert_ok()


@spec("cli.options")
def test_unknown_option(impl):
    """cli.options: An unknown option MUST print `tcplua: invalid option: "X"` and exit 1."""
    r = impl.run(["-x"])
    assert r.rc == 1
    assert '%s: invalid option: "x"' % impl.program in r.stderr.splitlines()


@spec("cli.options")
def test_help_exits_zero(impl):
    """cli.options: `-h` (nginx's meaning) prints the usage and exits 0."""
    r = impl.run(["-h"])
    assert r.rc == 0
    assert "-t" in r.out and "-p" in r.out and "-c" in r.out


# -- cli.default_conf --------------------------------------------------------------------------
@spec("cli.default_conf")
def test_default_conf_is_conf_nginx_conf(impl):
    """cli.default_conf: Without `-c` the configuration file MUST be `conf/nginx.conf` under
    the prefix."""
    text = impl.adapter.full_config(SERVER, "")
    r = impl.run(["-p", "@PREFIX@/", "-t"], files={"conf/nginx.conf": text})
    conf = r.path("conf/nginx.conf")
    assert r.rc == 0, r.out
    assert "%s: the configuration file %s syntax is ok" % (impl.program, conf) in r.stderr


@spec("cli.default_conf")
def test_default_prefix_is_cwd(impl):
    """cli.default_conf: without `-p` the prefix MUST be the current directory."""
    r = impl.run(["-c", impl.adapter.conf_name, "-t"], tcp=SERVER, cwd="@PREFIX@")
    r.assert_ok()


@spec("cli.default_conf")
def test_relative_conf_is_relative_to_prefix(impl):
    """cli.default_conf: A relative `-c` path is relative to the prefix (not the working
    directory, which the harness keeps elsewhere)."""
    r = impl.run(conf_args(impl) + ["-t"], tcp=SERVER)
    r.assert_ok()


# -- cli.test.ok / cli.test.fail / cli.test.quiet --------------------------------------------------
@spec("cli.test.ok")
def test_t_valid_prints_two_lines(impl):
    """cli.test.ok: `-t` with a valid configuration MUST print on stderr
    `tcplua: the configuration file FILE syntax is ok` then
    `tcplua: configuration file FILE test is successful` (FILE absolute) and exit 0."""
    r = impl.test_config(tcp=SERVER)
    assert os.path.isabs(r.conf)
    r.assert_ok()
    assert r.stderr.splitlines() == [
        "%s: the configuration file %s syntax is ok" % (impl.program, r.conf),
        "%s: configuration file %s test is successful" % (impl.program, r.conf)]


@spec("cli.test.ok")
def test_t_opens_no_listening_socket(impl):
    """cli.test.ok: `-t` exits 0 without opening listening sockets: it succeeds while the
    configured port is held by another socket."""
    prefix = impl.prefix(tcp=SERVER)
    holder = socket.socket()
    try:
        holder.bind(("0.0.0.0", prefix.ports[0]))
        holder.listen(1)
        r = impl.run_in(prefix, conf_args(impl) + ["-t"])
    finally:
        holder.close()
    r.assert_ok()


@spec("cli.test.ok")
def test_t_does_not_start_lua(impl):
    """cli.test.ok: `-t` exits 0 without starting Lua: an init_by_lua chunk with a visible
    side effect does not run."""
    r = impl.test_config(tcp="""
    init_by_lua 'io.open("@PREFIX@/init-ran", "w"):close()';
""" + SERVER)
    r.assert_ok()
    assert not (r.prefix / "init-ran").exists()


@spec("cli.test.fail", "conf.err.format")
def test_t_invalid_prints_emerg_and_failed(impl):
    """cli.test.fail: `-t` with an invalid configuration MUST print
    `tcplua: [emerg] MESSAGE in FILE:LINE` then `tcplua: configuration file FILE test failed`
    and exit 1."""
    r = impl.test_config(tcp=SERVER + "\n    bogus_directive 1;")
    r.assert_emerg('unknown directive "bogus_directive"', r.line_of("bogus_directive"))
    assert r.stderr.splitlines() == [
        '%s: [emerg] unknown directive "bogus_directive" in %s:%d' % (
            impl.program, r.conf, r.line_of("bogus_directive")),
        "%s: configuration file %s test failed" % (impl.program, r.conf)]


@spec("cli.test.fail")
def test_start_on_invalid_config_fails(impl):
    """cli.test.fail: Starting without `-t` on an invalid configuration MUST print the same
    `[emerg]` line and exit 1."""
    r = impl.run(conf_args(impl), tcp=SERVER + "\n    bogus_directive 1;")
    r.assert_emerg('unknown directive "bogus_directive"', r.line_of("bogus_directive"),
                   tested=False)
    assert "test failed" not in r.stderr


@spec("cli.test.quiet")
def test_quiet_suppresses_syntax_ok(impl):
    """cli.test.quiet: With `-q`, `-t` MUST NOT print the "syntax is ok" line."""
    r = impl.run(conf_args(impl) + ["-t", "-q"], tcp=SERVER)
    assert r.rc == 0, r.out
    assert "syntax is ok" not in r.out


@spec("cli.test.quiet")
def test_quiet_still_prints_errors(impl):
    """cli.test.quiet: errors are still printed."""
    r = impl.run(conf_args(impl) + ["-t", "-q"], tcp=SERVER + "\n    bogus_directive 1;")
    assert r.rc == 1
    assert '%s: [emerg] unknown directive "bogus_directive" in %s:%d' % (
        impl.program, r.conf, r.line_of("bogus_directive")) in r.stderr.splitlines()



# -- cli.test.abs_path ----------------------------------------------------------------------------
def replace_option(args, option, value):
    """args (an adapter's conf_args) with the value of `option` replaced."""
    i = args.index(option)
    return args[:i + 1] + [value] + args[i + 2:]


def _relative_run(impl, tcp, files=None):
    """-t with `-p ../cliN` (relative to the working directory, no trailing slash) and the
    adapter's relative -c, from the harness's working directory beside the prefix."""
    prefix = impl.prefix(tcp=tcp, files=files)
    rel = os.path.relpath(str(prefix.path), str(prefix.cwd))
    assert rel.startswith(".."), rel
    args = replace_option(impl.adapter.conf_args(prefix.path), "-p", rel)
    return prefix, impl.run_in(prefix, args + ["-t"])


def _names_conf(impl, prefix, printed):
    __tracebackhide__ = True
    assert os.path.isabs(printed), "%r is not absolute" % printed
    assert os.path.samefile(printed, str(prefix.path / impl.adapter.conf_name)), printed


@spec("cli.test.abs_path", "cli.test.ok")
def test_t_prints_absolute_path_for_relative_prefix(impl):
    """cli.test.abs_path: "Every configuration file name that -t prints ... MUST be an absolute
    path, also when -p or -c is relative: a relative prefix is taken from the working
    directory (. and .. pieces can stay in the path, as written)." Here -p is `../cliN`."""
    prefix, r = _relative_run(impl, SERVER)
    assert r.rc == 0, r.out
    pat = r"^%s: (?:the )?configuration file (\S+) (?:syntax is ok|test is successful)$" % impl.program
    files = [m.group(1) for m in (re.match(pat, l) for l in r.stderr.splitlines()) if m]
    assert len(files) == 2, r.stderr
    for f in files:
        _names_conf(impl, prefix, f)


@spec("cli.test.abs_path", "cli.test.fail")
def test_t_failure_lines_name_absolute_path(impl):
    """cli.test.abs_path: the `[emerg] ... in FILE:LINE` and `test failed` lines of a relative
    -p name the configuration file by one absolute path."""
    prefix, r = _relative_run(impl, SERVER + "\n    bogus_directive 1;")
    assert r.rc == 1, r.out
    lines = r.stderr.splitlines()
    m = re.match(r'^%s: \[emerg\] unknown directive "bogus_directive" in (\S+):(\d+)$' % impl.program,
                 lines[0])
    assert m and int(m.group(2)) == r.line_of("bogus_directive"), r.stderr
    _names_conf(impl, prefix, m.group(1))
    assert lines[-1] == "%s: configuration file %s test failed" % (impl.program, m.group(1)), r.stderr


@spec("cli.test.abs_path")
def test_t_include_error_names_absolute_path(impl):
    """cli.test.abs_path: an error in an included file names that file absolutely too."""
    prefix, r = _relative_run(impl, "    include extra.inc;\n" + SERVER,
                              files={"conf/extra.inc": "\nbogus_directive 1;\n"})
    m = re.match(r'^%s: \[emerg\] unknown directive "bogus_directive" in (\S+):2$' % impl.program,
                 r.stderr.splitlines()[0])
    assert r.rc == 1 and m, r.stderr
    assert os.path.isabs(m.group(1)) and os.path.samefile(m.group(1), str(prefix.path / "conf/extra.inc"))


# -- cli.test.scripts -----------------------------------------------------------------------------
def emerg_lines(r):
    head = "%s: [emerg] " % r.program
    return [l for l in r.stderr.splitlines() if l.startswith(head)]


def t_then_start(impl, tcp=None, main="", files=None):
    """-t, then a start-up without -t, of one configuration in one prefix: (-t, start-up)."""
    prefix = impl.prefix(tcp=tcp, main=main, files=files)
    tested = impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-t"])
    started = impl.run_in(prefix, impl.adapter.conf_args(prefix.path))
    return tested, started


def assert_same_failure(impl, tested, started, want):
    """Both runs fail (exit 1) with one `[emerg]` line, the same one, which matches the regex
    `want` (placeholders filled by the case); -t closes with its `test failed` line."""
    __tracebackhide__ = True
    emerg = emerg_lines(tested)
    assert tested.rc == 1 and len(emerg) == 1, tested.stderr
    assert re.fullmatch(want, emerg[0]), "%r does not match %r" % (emerg[0], want)
    assert tested.stderr.splitlines()[-1] == "%s: configuration file %s test failed" % (
        impl.program, tested.conf), tested.stderr
    assert started.rc == 1, started.out
    assert emerg_lines(started) == emerg, "start-up:\n%s\n-t:\n%s" % (started.stderr, tested.stderr)


def _at(r, text):
    return re.escape(" in %s:%d" % (r.conf, r.line_of(text)))


SCRIPT_FAULTS = {
    # id: (tcp text, files, directive text to locate, regex of the message before " in ")
    "inline_syntax": (
        script_tcp().replace("process_by_lua_file conf/t.lua;", "process_by_lua 'ngx.say(\"x\"';"),
        {}, "process_by_lua ", r"failed to load Lua code: .*expected.*"),
    "file_syntax": (script_tcp(), {"conf/t.lua": "ngx.say('ok')\nend end\n"},
                    "process_by_lua_file", r"failed to load Lua code: .*t\.lua:2: .*"),
    "file_missing": (script_tcp().replace("conf/t.lua", "conf/missing.lua"), {},
                     "process_by_lua_file",
                     re.escape('open() "@PREFIX@/conf/missing.lua" failed (2: No such file or directory)')),
    "file_is_directory": (script_tcp().replace("conf/t.lua", "conf/lua"), {"conf/lua/x.lua": "x = 1\n"},
                          "process_by_lua_file", re.escape('"@PREFIX@/conf/lua" is not a regular file')),
    "tcp_level_unused": (script_tcp(tcp_extra="process_by_lua 'if then';"), {"conf/t.lua": "ngx.say(1)\n"},
                         "process_by_lua 'if", r"failed to load Lua code: .*"),
    "code_cache_off_missing": (script_tcp("lua_code_cache off;").replace("conf/t.lua", "conf/gone.lua"), {},
                               "process_by_lua_file",
                               re.escape('open() "@PREFIX@/conf/gone.lua" failed (2: No such file or directory)')),
    "code_cache_off_syntax": (script_tcp("lua_code_cache off;"), {"conf/t.lua": "local = 1\n"},
                              "process_by_lua_file", r"failed to load Lua code: .*t\.lua:1: .*"),
    "shebang_syntax": (script_tcp(), {"conf/t.lua": "#!/usr/bin/env luajit\nngx.say(1)\nend end\n"},
                       "process_by_lua_file", r"failed to load Lua code: .*t\.lua:3: .*"),
    "bytecode": (script_tcp(), {"conf/t.lua": "\x1bLJ\x02\x00junk"},
                 "process_by_lua_file", r".*bytecode is not supported.*"),
    "init_syntax": (script_tcp(tcp_extra="init_by_lua 'x = = 1';"), {"conf/t.lua": "ngx.say(1)\n"},
                    "init_by_lua", r"init_by_lua error: failed to load Lua code: .*"),
    "init_file_missing": (script_tcp(tcp_extra="init_by_lua_file conf/none.lua;"), {"conf/t.lua": "ngx.say(1)\n"},
                          "init_by_lua_file", re.escape(
                              'init_by_lua error: open() "@PREFIX@/conf/none.lua" failed (2: No such file or directory)')),
}


@spec("cli.test.scripts", "cli.test.fail", "session.load_error")
@pytest.mark.parametrize("fault", sorted(SCRIPT_FAULTS))
def test_script_faults_fail_t_and_start_up_alike(impl, fault):
    """cli.test.scripts: "-t MUST compile, without running any, every Lua chunk of the
    configuration ... A chunk that does not compile MUST fail the test with a message that
    contains `failed to load Lua code` and the Lua error text; a *_by_lua_file that cannot be
    opened MUST fail it with `open() "PATH" failed (ERRNO: TEXT)`, one that is not a regular
    file with `"PATH" is not a regular file`; each message ends with ` in FILE:LINE` of the
    directive, and for init_by_lua* starts with `init_by_lua error: `. Start-up makes the same
    checks ... and for the same fault prints the same [emerg] line"."""
    tcp, files, directive, message = SCRIPT_FAULTS[fault]
    tested, started = t_then_start(impl, tcp=tcp, files=files)
    want = re.escape("%s: [emerg] " % impl.program) + message.replace(
        "@PREFIX@", re.escape(str(tested.prefix))) + _at(tested, directive)
    assert_same_failure(impl, tested, started, want)


@spec("cli.test.scripts", "cli.test.ok", "session.load.shebang")
def test_t_compiles_without_running(impl):
    """cli.test.scripts: chunks are compiled, not run: scripts that would raise at once, an
    init_by_lua that would raise, and a script file with a `#!` line all pass -t."""
    r = impl.test_config(tcp="""
    init_by_lua 'error("init must not run under -t")';
    process_by_lua 'error("tcp-level")';
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua_file conf/t.lua;
    }
    server {
        listen @PORT1@;
        protocol tcp_lua;
        lua_code_cache off;
    }""", files={"conf/t.lua": "#!/usr/bin/env luajit\nerror('server')\n"})
    r.assert_ok()


# -- cli.test.files --------------------------------------------------------------------------------
def _enoent(path):
    return re.escape('open() "%s" failed (2: No such file or directory)' % path)


LOG_FAULTS = {
    # id: (main text, tcp text, prefix-relative path that cannot be opened)
    "main_error_log": ("error_log nope/error.log debug;", SERVER, "nope/error.log"),
    "server_error_log": ("", SERVER.replace("process_by_lua", "error_log nope/s.log;\n        process_by_lua"),
                         "nope/s.log"),
    "tcp_access_log": ("", "    access_log nope/a.log;\n" + SERVER, "nope/a.log"),
    "server_access_log": ("", SERVER.replace("process_by_lua", "access_log nope/sa.log;\n        process_by_lua"),
                          "nope/sa.log"),
    "pid": ("pid nope/x.pid;", SERVER, "nope/x.pid"),
    "pid_daemon": ("daemon on;\npid nope/x.pid;", SERVER, "nope/x.pid"),
}


@spec("cli.test.files", "errlog.open_fail")
@pytest.mark.parametrize("fault", sorted(LOG_FAULTS))
def test_unusable_log_or_pid_path_fails_t_and_start_up_alike(impl, fault):
    """cli.test.files: "A log file that cannot be opened MUST fail the test with
    `open() "PATH" failed (ERRNO: TEXT)`; a missing or read-only pid directory with
    `open() "PIDPATH" failed (ERRNO: TEXT)` ... these lines name no FILE:LINE ... Start-up makes
    the same checks before it opens a listener or detaches, and for the same fault prints the
    same [emerg] line and exits 1." (A directory that does not exist; with `daemon on` too.)"""
    main, tcp, rel = LOG_FAULTS[fault]
    tested, started = t_then_start(impl, tcp=tcp, main=main)
    want = re.escape("%s: [emerg] " % impl.program) + _enoent(tested.path(rel))
    assert_same_failure(impl, tested, started, want)


@spec("cli.test.shm")
@needs("shdict")
def test_unmappable_shared_dict_fails_t_and_start_up_alike(impl):
    """cli.test.shm: a lua_shared_dict zone the system cannot map (10^15 bytes, beyond the
    47-bit address space of a process, whatever the overcommit policy) fails -t with the
    [emerg] line start-up prints for it."""
    tcp = "    lua_shared_dict huge 1000000000m;\n" + SERVER
    tested, started = t_then_start(impl, tcp=tcp)
    want = (re.escape("%s: [emerg] mmap(MAP_ANON|MAP_SHARED, 1048576000000000) of zone \"huge\" "
                      "failed (" % impl.program) + r"\d+: [^)]+\)")
    assert_same_failure(impl, tested, started, want)


@spec("cli.test.files")
def test_t_creates_log_files_and_keeps_their_text(impl):
    """cli.test.files: -t opens every log file for appending, "creating a missing one as
    start-up does": the logs are there afterwards, and a log that held text still holds it."""
    prefix = impl.prefix(main="error_log logs/t-error.log info;", tcp="""
    access_log logs/t-access.log;
    server {%s
        error_log logs/t-server.log;
    }""" % SERVER_BODY)
    prefix.write("logs/t-access.log", "old line\n")
    r = impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-t"])
    r.assert_ok()
    for rel in ("logs/t-error.log", "logs/t-server.log"):
        assert (prefix.path / rel).is_file(), rel
    assert (prefix.path / "logs/t-access.log").read_text().startswith("old line\n")


@spec("cli.test.files")
def test_t_leaves_the_pid_file_alone(impl):
    """cli.test.files: "-t never creates or changes the pid file": after a successful -t the
    configured pid file does not exist, and an existing one keeps its text."""
    prefix = impl.prefix(tcp=SERVER)
    pid = prefix.path / impl.adapter.pid_name
    impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-t"]).assert_ok()
    assert not pid.exists()
    pid.write_text("12345\n")
    impl.run_in(prefix, impl.adapter.conf_args(prefix.path) + ["-t"]).assert_ok()
    assert pid.read_text() == "12345\n"


# -- cli.dump -----------------------------------------------------------------------------------
@spec("cli.dump")
@pytest.mark.needs("cli.dump")
def test_dump_echoes_each_file(impl):
    """cli.dump: `-T` MUST behave as `-t` and also print on stdout each file read,
    introduced by `# configuration file FILE:`."""
    from tcplua_harness.confdump import split_dump
    inc = "    lua_shared_dict cache 1m;\n"
    r = impl.dump_config(tcp="    include extra.conf;\n" + SERVER, files={"conf/extra.conf": inc})
    r.assert_ok()
    files, _ = split_dump(r.stdout)
    assert list(files) == [r.conf, r.path("conf/extra.conf")]
    # Each file as it is on disk (an adapter's prepare() may have translated it).
    assert files[r.conf].strip() == (r.prefix / impl.adapter.conf_name).read_text().strip()
    assert files[r.path("conf/extra.conf")].strip() == (r.prefix / "conf/extra.conf").read_text().strip()


@spec("cli.dump")
@pytest.mark.needs("cli.dump")
def test_dump_effective_configuration_reparses(impl):
    """cli.dump: `-T` prints `# effective configuration (defaults applied):` and every
    directive of every context with its effective value, in the configuration language: the
    printed text is itself a valid configuration."""
    from tcplua_harness.confdump import find, parse, split_dump
    r = impl.dump_config(tcp=SERVER)
    r.assert_ok()
    _, effective = split_dump(r.stdout)
    assert effective is not None, "no '# effective configuration (defaults applied):' line"
    tree = parse(effective)
    assert len(find(tree, "tcp", "server")) == 1
    again = impl.test_config(conf_text=effective)
    assert again.rc == 0, again.out


@spec("cli.dump")
@pytest.mark.needs("cli.dump")
def test_dump_invalid_fails_like_t(impl):
    """cli.dump: `-T` MUST behave as `-t`: an invalid configuration fails the same way."""
    r = impl.dump_config(tcp=SERVER + "\n    bogus_directive 1;")
    r.assert_emerg('unknown directive "bogus_directive"', r.line_of("bogus_directive"))


# -- cli.version --------------------------------------------------------------------------------
@spec("cli.version")
def test_v_prints_version(impl):
    """cli.version: `-v` MUST print `tcplua version: tcplua/VERSION` and exit 0."""
    r = impl.run(["-v"])
    assert r.rc == 0
    assert re.search(r"^%s version: %s/\S+$" % (impl.program, impl.program), r.out, re.M), r.out


@spec("cli.version")
@pytest.mark.needs("cli.version")
def test_V_adds_luajit_and_libev(impl):
    """cli.version: `-V` MUST add the LuaJIT and libev versions."""
    r = impl.run(["-V"])
    assert r.rc == 0
    assert re.search(r"^%s version: %s/\S+$" % (impl.program, impl.program), r.out, re.M), r.out
    assert re.search(r"LuaJIT \d", r.out), r.out
    assert re.search(r"libev \d", r.out, re.I), r.out


# -- cli.params ---------------------------------------------------------------------------------
@spec("cli.params")
def test_g_directives_are_main_context(impl):
    """cli.params: `-g 'directives'` MUST parse its text as main-context directives."""
    r = impl.run(conf_args(impl) + ["-g", "worker_processes 2;", "-t"], tcp=SERVER)
    r.assert_ok()


@spec("cli.params")
def test_g_error_ends_in_command_line(impl):
    """cli.params: errors in it end with ` in command line` instead of ` in FILE:LINE`."""
    r = impl.run(conf_args(impl) + ["-g", "bogus_directive 1;", "-t"], tcp=SERVER)
    assert r.rc == 1
    assert '%s: [emerg] unknown directive "bogus_directive" in command line' % impl.program \
        in r.stderr.splitlines(), r.stderr


@spec("cli.params", "conf.err.duplicate")
def test_g_is_parsed_before_the_file(impl):
    """cli.params: `-g` text is parsed before the file, so the file's repeat of a
    directive set by `-g` is the duplicate."""
    r = impl.run(conf_args(impl) + ["-g", "daemon off;", "-t"], main="daemon off;", tcp=SERVER)
    r.assert_emerg('"daemon" directive is duplicate', r.line_of("daemon off;"))


# -- cli.signal ---------------------------------------------------------------------------------
def _signal_args(srv, name):
    return srv.adapter.conf_args(srv.prefix) + ["-s", name]


@spec("cli.signal")
@pytest.mark.parametrize("name", ["stop", "quit"])
def test_s_stop_and_quit_end_the_server(impl, server, name):
    """cli.signal: `-s stop|quit` MUST send TERM / QUIT to the PID in the configured `pid`
    file and exit 0; the server exits."""
    srv = server(tcp=SERVER)
    srv.wait_file(srv.adapter.pid_name, r"^%d\s*$" % srv.pid)
    r = impl.run(_signal_args(srv, name))
    assert r.rc == 0, r.out
    assert srv.wait_exit(10) == 0


@spec("cli.signal")
def test_s_reopen_reopens_logs(impl, server):
    """cli.signal: `-s reopen` MUST send USR1, which reopens the log files: a renamed error
    log is created anew and the server keeps running."""
    srv = server(tcp=SERVER)
    srv.wait_file(srv.adapter.pid_name, r"^%d\s*$" % srv.pid)
    log = srv.adapter.error_log_name
    os.rename(srv.prefix / log, srv.prefix / (log + ".1"))
    r = impl.run(_signal_args(srv, "reopen"))
    assert r.rc == 0, r.out
    assert start_session(srv).recv_until_close() == b"ok\n"
    srv.wait_path(log)


@spec("cli.signal")
def test_s_without_pid_file(impl):
    """cli.signal: a missing or unreadable pid file MUST print
    `tcplua: [error] open() "PATH" failed (ERRNO: TEXT)` and exit 1."""
    r = impl.run(conf_args(impl) + ["-s", "stop"], tcp=SERVER)
    assert r.rc == 1
    assert '%s: [error] open() "%s" failed (2: No such file or directory)' % (
        impl.program, r.path(impl.adapter.pid_name)) in r.stderr.splitlines(), r.stderr


@spec("cli.signal")
def test_s_unknown_signal(impl):
    """cli.signal: another signal name MUST print `tcplua: invalid option: "-s NAME"` and
    exit 1."""
    r = impl.run(conf_args(impl) + ["-s", "bogus"], tcp=SERVER)
    assert r.rc == 1
    assert '%s: invalid option: "-s bogus"' % impl.program in r.stderr.splitlines(), r.stderr

