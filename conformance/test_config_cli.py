"""SPEC §2.1 Command line: options, -t/-T/-q/-g/-v/-V, default paths and -s signals."""
import os
import re
import socket

import pytest

from tcplua_harness.cases import SERVER, start_session

spec = pytest.mark.spec


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

