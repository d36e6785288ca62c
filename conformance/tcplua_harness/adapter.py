"""The adapter contract: everything the harness knows about one implementation.

Cases never talk to an implementation directly; they go through the `server` and `impl`
fixtures, which call an Adapter for the few implementation-specific facts: where the binary
is, how a configuration file is composed, which command line serves or tests it, and how to
ask it to stop. Subclass Adapter, override what differs, and put the class in
`tcplua_harness/adapters/<name>.py` as ADAPTER; `--impl <name>` selects it.
"""
import ctypes
import os
import re
import signal
import subprocess
from pathlib import Path

CONFORMANCE_DIR = Path(__file__).resolve().parent.parent

# Every capability a case may declare with @pytest.mark.needs(...): what a case needs beyond
# the clause it checks. An adapter lists the ones its implementation has in `capabilities`;
# a case needing one it lacks is reported as "not run: needs NAME", never as a failure.
ALL_CAPABILITIES = frozenset({
    "cli.dump",                         # -T prints the files and the effective configuration
    "cli.version",                      # -v/-V text beyond "PROGRAM version: PROGRAM/V"
    "directive.tcp_nodelay",            # the tcp_nodelay directive
    "directive.lua_socket",             # lua_socket_* directives (cosocket defaults)
    "directive.worker_shutdown_timeout",
    "ipv6",                             # listen on and connect to IPv6 addresses
    "wait_next_request",                # light sessions: ngx.wait_next_request()
    "init_log",                         # ngx.log from init_by_lua reaches the error log
    "cosocket",                         # ngx.socket.tcp()
    "shdict",                           # lua_shared_dict / ngx.shared
    "master_process",                   # master_process on: a master and its workers
    "reload",                           # -s reload / SIGHUP re-reads the configuration
    "regex",                            # ngx.re.match/find/gmatch/sub/gsub (ngx_lua's API)
})


def _die_with_parent():
    # Runs in the child before exec: if pytest is killed hard, the server must not outlive it
    # and keep ports busy for the next run. PR_SET_PDEATHSIG = 1.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Adapter:
    name = "base"
    # The word before ":" in command-line messages ("tcplua: [emerg] ..."); cases build
    # expected messages from it so an nginx-based build can say "nginx: ...".
    program = "tcplua"
    conf_name = "conf/tcplua.conf"
    # The error log and pid file the default main directives name (prefix-relative); cases
    # read them through these names, never through a literal path.
    error_log_name = "logs/error.log"
    pid_name = "logs/tcplua.pid"
    # What this implementation can do beyond the clauses (see ALL_CAPABILITIES).
    capabilities = ALL_CAPABILITIES
    # Expected text of messages SPEC.md quotes "for example": key -> text or regex (the
    # case says which); wording(key, default) returns the override or the case's default.
    wordings = {}
    stop_signal = signal.SIGTERM

    @property
    def default_main(self):
        """(directive name, line) pairs appended to the main text unless it sets that
        directive. A subclass may replace this with a plain tuple."""
        return (
            ("daemon", "daemon off;"),
            ("master_process", "master_process off;"),
            ("error_log", "error_log %s debug;" % self.error_log_name),
            ("pid", "pid %s;" % self.pid_name),
        )

    def __init__(self, bin_path=None):
        self.bin = os.path.abspath(bin_path or self.default_bin())

    def default_bin(self):
        raise NotImplementedError("adapter %s needs --impl-bin" % self.name)

    def check(self):
        """None when the implementation can run, else a message shown by every case."""
        if not os.access(self.bin, os.X_OK):
            return "%s: binary %s is missing or not executable (build it, or pass --impl-bin)" % (
                self.name, self.bin)
        return None

    def compose_config(self, tcp, main):
        """Main text, then the default main directives it lacks, then `tcp { ... }`."""
        main = main or ""
        parts = [main if main.endswith("\n") or not main else main + "\n"]
        for directive, line in self.default_main:
            if not re.search(r"^[ \t]*%s(?=[\s;{])" % re.escape(directive), main, re.M):
                parts.append(line + "\n")
        if tcp is not None:
            parts.append("tcp {\n%s\n}\n" % tcp)
        return "".join(parts)

    def complete_conf_text(self, text):
        """The whole configuration text (composed, or a case's conf_text) completed with what
        this implementation needs beyond SPEC's language; an nginx build may add `events {}`.
        Applied by the harness to every configuration it writes. Default: unchanged."""
        return text

    def full_config(self, tcp, main):
        """compose_config then complete_conf_text: the text the harness writes."""
        return self.complete_conf_text(self.compose_config(tcp, main))

    def prepare(self, conf_text, files):
        """Called just before a prefix is written, with the configuration text and the files
        {prefix-relative path: str | bytes}, placeholders filled in. Returns (conf_text,
        files) to write instead: a translating adapter rewrites the configuration and Lua
        files here or adds files (a Lua prelude). Default: unchanged."""
        return conf_text, files

    def has(self, capability):
        """True if this implementation has the capability (a name in ALL_CAPABILITIES)."""
        if capability not in ALL_CAPABILITIES:
            raise ValueError("unknown capability %r (see ALL_CAPABILITIES)" % capability)
        return capability in self.capabilities

    def wording(self, key, default):
        """Expected text of a message SPEC.md quotes as an example (key names it, e.g.
        "conf.err.other.too_many_args"); the adapter's `wordings` override the default."""
        return self.wordings.get(key, default)

    def command(self, args):
        """Full argv for a CLI run with `args` (already placeholder-substituted)."""
        return [self.bin, *args]

    def conf_args(self, prefix):
        # The trailing slash matters: nginx-style prefixes are concatenated, not joined.
        return ["-p", "%s/" % prefix, "-c", self.conf_name]

    def conf_path(self, prefix):
        """The configuration file path as the implementation prints it in messages."""
        return "%s/%s" % (prefix, self.conf_name)

    def env(self):
        return dict(os.environ)

    def popen(self, args, cwd, stdout, stderr):
        return subprocess.Popen(self.command(args), cwd=str(cwd), env=self.env(),
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                preexec_fn=_die_with_parent)

    def start(self, prefix, cwd, stdout, stderr):
        """Start serving PREFIX in the foreground (working directory cwd); returns the Popen."""
        return self.popen(self.conf_args(prefix), cwd, stdout, stderr)

    def stop(self, proc):
        """Ask a running server to exit gracefully; the harness waits and escalates."""
        proc.send_signal(self.stop_signal)
