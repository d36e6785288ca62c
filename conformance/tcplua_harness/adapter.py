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
    error_log_name = "logs/error.log"
    # (directive name, line) pairs appended to the main text unless it sets that directive.
    default_main = (
        ("daemon", "daemon off;"),
        ("master_process", "master_process off;"),
        ("error_log", "error_log logs/error.log debug;"),
        ("pid", "pid logs/tcplua.pid;"),
    )
    stop_signal = signal.SIGTERM

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
