"""Instance: one running server in its own prefix, started and stopped by the harness.

Readiness is judged from the kernel's table of listening sockets (/proc/net/tcp*), filtered
to sockets the server process holds, rather than by connecting: a probe connection would run
the case's Lua chunk once more and show up in its logs and counters.
"""
import os
import re
import socket
import subprocess
import time

from .client import connect_raw
from .procs import listening_inodes, socket_inodes

SANITIZER_RE = re.compile(
    r"AddressSanitizer|LeakSanitizer"
    # UBSan's form is "file.c:LINE:COL: runtime error: ..."; a bare "runtime error:" is also
    # how Lua script errors are commonly logged, which cases provoke on purpose.
    r"|\S+:\d+:\d+: runtime error:")
# Both may be raised for slow runs (make valgrind): TCPLUA_STOP_TIMEOUT, TCPLUA_READY_TIMEOUT.
STOP_TIMEOUT = float(os.environ.get("TCPLUA_STOP_TIMEOUT", "10"))
READY_TIMEOUT = float(os.environ.get("TCPLUA_READY_TIMEOUT", "10"))


def _tail(text, lines=30):
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Instance:
    def __init__(self, adapter, prefix):
        self.adapter = adapter
        self.prefix = prefix.path
        self.ports = prefix.ports
        self.port = self.ports[0]
        self.used_ports = prefix.used_ports
        self.cwd = prefix.cwd      # the (normally empty) working directory of the process
        self._clients = []
        self._exit_expected = False
        self._signals_sent = {adapter.stop_signal}
        self._failure = None   # set when stop() had to escalate to SIGKILL
        with open(self.prefix / "stdout.txt", "wb") as out, \
                open(self.prefix / "stderr.txt", "wb") as err:
            self.proc = adapter.start(self.prefix, prefix.cwd, out, err)
        self.pid = self.proc.pid

    # -- observing ------------------------------------------------------------------------
    def read(self, rel):
        """Text of a file in the prefix, '' if it does not exist (yet)."""
        try:
            return (self.prefix / rel).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def error_log(self):
        return self.read(self.adapter.error_log_name)

    def stderr(self):
        return self.read("stderr.txt")

    def stdout(self):
        return self.read("stdout.txt")

    def diagnostics(self):
        return "stderr:\n%s\nerror log tail:\n%s" % (_tail(self.stderr()), _tail(self.error_log()))

    def wait_log(self, regex, timeout=5):
        """Poll the error log until `regex` (re.M) matches; returns the match."""
        __tracebackhide__ = True
        return self.wait_file(self.adapter.error_log_name, regex, timeout)

    def wait_path(self, rel, timeout=5):
        """Poll until the prefix file `rel` exists."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        while not (self.prefix / rel).exists():
            if time.monotonic() > deadline:
                raise AssertionError("%s does not exist after %gs" % (self.prefix / rel, timeout))
            time.sleep(0.02)

    def wait_file(self, rel, regex, timeout=5):
        """Poll the prefix file `rel` (an access log, say) until `regex` (re.M) matches."""
        __tracebackhide__ = True
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.read(rel))
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError("nothing matching %r in %s within %gs; its tail:\n%s" % (
                    regex, rel, timeout, _tail(self.read(rel))))
            time.sleep(0.02)

    def wait_ready(self, indices=None, timeout=READY_TIMEOUT):
        """Wait until the server listens on the given port indices (default: all it uses)."""
        __tracebackhide__ = True
        ports = [self.ports[i] for i in (self.used_ports if indices is None else indices)]
        use_proc = os.path.exists("/proc/net/tcp")
        deadline = time.monotonic() + timeout
        while ports:
            if self.proc.poll() is not None:
                self._exit_expected = True   # reported here; teardown need not repeat it
                raise AssertionError("server exited with %s before listening on %s\n%s" % (
                    self.proc.returncode, ports, self.diagnostics()))
            if use_proc:
                mine = socket_inodes(self.pid)
                ports = [p for p in ports if not (listening_inodes(p) & mine)]
            else:
                ports = [p for p in ports if not _connects(p)]
            if not ports:
                break
            if time.monotonic() > deadline:
                raise AssertionError("server not listening on %s after %ss\n%s" % (
                    ports, timeout, self.diagnostics()))
            time.sleep(0.02)

    # -- talking ----------------------------------------------------------------------------
    def connect(self, port_index=0, timeout=5, host="127.0.0.1"):
        """A Client connected to ports[port_index] on host ("::1" for IPv6)."""
        client = connect_raw(self.ports[port_index], host, timeout,
                             "client#%d" % (len(self._clients) + 1))
        self._clients.append(client)
        return client

    # -- process control ----------------------------------------------------------------------
    def signal(self, sig):
        self._exit_expected = True   # a signalled server may legitimately exit
        self._signals_sent.add(sig)
        os.kill(self.pid, sig)

    def wait_exit(self, timeout=10):
        """Wait for the server to exit by itself; returns its exit code (-N for signal N)."""
        __tracebackhide__ = True
        self._exit_expected = True
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("server still running after %gs\n%s" % (timeout, self.diagnostics()))

    def stop(self):
        """Graceful stop (the adapter's stop signal), SIGKILL after 10 s; returns exit code."""
        __tracebackhide__ = True
        self._exit_expected = True
        if self.proc.poll() is None:
            self.adapter.stop(self.proc)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._failure = "server ignored the stop request for %ds and was killed\n%s" % (
                    STOP_TIMEOUT, self.diagnostics())
                raise AssertionError(self._failure)
        return self.proc.returncode

    def finish(self):
        """Teardown: close clients, stop, and return the problems that fail the case."""
        for client in self._clients:
            client.close()
        problems = []
        rc = self.proc.poll()
        if rc is not None and not self._exit_expected and rc >= 0:
            problems.append("server exited unexpectedly with %s" % rc)
        if rc is None and self._failure is None:
            try:
                rc = self.stop()
            except AssertionError as exc:
                problems.append(str(exc))
        # A crash (SEGV, ABRT) is a failure even when the case saw all the bytes it wanted.
        if rc is not None and rc < 0 and -rc not in self._signals_sent and self._failure is None:
            problems.append("server died of signal %d" % -rc)
        for name, text in (("stderr", self.stderr()), ("error log", self.error_log())):
            m = SANITIZER_RE.search(text)
            if m:
                start = text.rfind("\n", 0, m.start()) + 1
                problems.append("sanitizer report in %s:\n%s" % (name, text[start:start + 3000]))
        if problems:
            problems.insert(0, "server in %s (pid %d):" % (self.prefix, self.pid))
        return problems
