"""Shared pieces of the abuse suite (ci/abuse/README.md): start build/tcplua (or $TCPLUA_BIN)
in a fresh prefix through the conformance harness, find its worker, read its memory from
/proc, and collect the figures each test reports.

Nothing here is a pytest plugin of the conformance suite: the harness is imported as a
library (sys.path). The fixtures are named `tcplua` and `figures` to stay clear of any fixture another file
defines.
"""
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ABUSE_DIR = Path(__file__).resolve().parent
ROOT = ABUSE_DIR.parent.parent
sys.path.insert(0, str(ROOT / "conformance"))

from tcplua_harness.adapters.reference import ReferenceAdapter  # noqa: E402
from tcplua_harness.instance import Instance  # noqa: E402
from tcplua_harness.prefix import Prefix  # noqa: E402
from tcplua_harness.procs import (become_subreaper, children, own_children,  # noqa: E402
                                  reap_children, wait_until)

BIN = os.path.abspath(os.environ.get("TCPLUA_BIN") or ROOT / "build" / "tcplua")
REPORT = Path(BIN).parent / "abuse-report.md"

# Every test runs the production process model: a master and its workers (one unless a test
# asks for more; the first is the process measured), info-level error log (debug would log per
# connection).
MAIN = """
daemon off;
master_process on;
worker_processes %d;
error_log logs/error.log info;
"""


def raise_nofile(want):
    """Raise this process's RLIMIT_NOFILE (soft, and hard when allowed: root in CI) to at
    least `want`, so the server started from it inherits the limit. Returns the soft limit
    reached, which may be lower when the hard limit cannot be raised."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass        # no CAP_SYS_RESOURCE (a container): keep the hard limit
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _die_with_parent():
    # As the harness's adapter does: if pytest is killed hard, the server must not outlive it.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class AbuseAdapter(ReferenceAdapter):
    """The reference adapter with $TCPLUA_BIN, and an optional RLIMIT_NOFILE for the server
    alone (set in the child before exec, so the test process keeps its own)."""

    def __init__(self, nofile=None):
        super().__init__(BIN)
        self.nofile = nofile

    def popen(self, args, cwd, stdout, stderr):
        def preexec():
            _die_with_parent()
            if self.nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

        return subprocess.Popen(self.command(args), cwd=str(cwd), env=self.env(),
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                preexec_fn=preexec)


def status_kb(pid, field="VmRSS"):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), None when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def slope_per(samples, unit):
    """Least-squares slope of [(count, kb), ...] in kB per `unit` of count."""
    n = len(samples)
    mx = sum(c for c, _ in samples) / n
    my = sum(k for _, k in samples) / n
    sxx = sum((c - mx) ** 2 for c, _ in samples)
    sxy = sum((c - mx) * (k - my) for c, k in samples)
    return sxy / sxx * unit


class Server:
    """One running server: the harness Instance plus its worker and its memory."""

    def __init__(self, instance, workers=1):
        self.inst = instance
        self.port = instance.port
        self.master = instance.pid
        wait_until(lambda: len(children(self.master)) >= workers, 10,
                   "fewer than %d worker processes under master %d" % (workers, self.master))
        self.worker = children(self.master)[0]

    def rss(self):
        return status_kb(self.worker)

    def workers(self):
        return children(self.master)

    def error_log(self):
        return self.inst.error_log()

    def wait_log(self, regex, timeout=5):
        return self.inst.wait_log(regex, timeout)

    def assert_healthy(self):
        """Master and the same worker alive; nothing at alert level or worse logged."""
        __tracebackhide__ = True
        assert self.inst.proc.poll() is None, "master exited\n" + self.inst.diagnostics()
        assert self.workers() == [self.worker], (
            "worker %d replaced: %s\n%s" % (self.worker, self.workers(), self.inst.diagnostics()))
        bad = [line for line in self.error_log().splitlines()
               if "[alert]" in line or "[emerg]" in line]
        assert not bad, "\n".join(bad[:20])


@pytest.fixture
def tcplua(tmp_path):
    """Factory: tcplua(script, server_extra="", main_extra="", events="", tcp_extra="",
    nofile=None, workers=1) starts a master and `workers` workers serving `script` (conf/t.lua) on 127.0.0.1:@PORT0@ and returns a
    Server. Stopped (TERM) at teardown; a crash or sanitizer report fails the test."""
    started = []
    become_subreaper()
    before = set(own_children())

    def start(script, server_extra="", main_extra="", events="", tcp_extra="", nofile=None, workers=1):
        adapter = AbuseAdapter(nofile)
        tcp = """
    %s
    server {
        listen 127.0.0.1:@PORT0@;
        protocol tcp_lua;
        process_by_lua_file conf/t.lua;
        %s
    }""" % (tcp_extra, server_extra)
        main = MAIN % workers + main_extra + ("\nevents { %s }\n" % events if events else "")
        prefix = Prefix(tmp_path / ("srv%d" % len(started)), adapter, tcp=tcp, main=main,
                        files={"conf/t.lua": script})
        inst = Instance(adapter, prefix)
        started.append(inst)
        inst.wait_ready()
        return Server(inst, workers)

    yield start
    problems = []
    for inst in started:
        problems.extend(inst.finish())
    reap_children(before)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# -- figures ----------------------------------------------------------------------------------------
_FIGURES = {}


@pytest.fixture
def figures(request):
    """figures(name, value, unit="") records one measured figure of the current test; all
    are printed at the end of the run and written to build/abuse-report.md (and .json)."""
    rows = _FIGURES.setdefault(request.node.name, [])

    def record(name, value, unit=""):
        rows.append((name, value, unit))
        print("%s: %s %s" % (name, value, unit))

    return record


def _fmt(value):
    if isinstance(value, float):
        return "%.2f" % value
    if isinstance(value, int):
        return "{:,}".format(value)
    return str(value)


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    lines = ["# Abuse figures (%s, %s)" % (BIN, time.strftime("%Y-%m-%d %H:%M")), ""]
    for test, rows in _FIGURES.items():
        lines.append("## " + test)
        lines.extend("- %s: %s %s" % (name, _fmt(v), unit) for name, v, unit in rows)
        lines.append("")
    text = "\n".join(lines)
    terminalreporter.write_sep("=", "abuse figures")
    terminalreporter.write_line(text)
    try:
        REPORT.write_text(text)
        REPORT.with_suffix(".json").write_text(json.dumps(_FIGURES, indent=1))
        terminalreporter.write_line("written to %s" % REPORT)
    except OSError as exc:
        terminalreporter.write_line("cannot write %s: %s" % (REPORT, exc))
