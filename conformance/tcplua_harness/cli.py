"""Impl: one-shot command-line runs (-t, -T, -v, ...) of an implementation in fresh prefixes."""
import re
import subprocess
import tempfile

from .instance import SANITIZER_RE
from .prefix import Prefix

RUN_TIMEOUT = 10


class Result(tuple):
    """(rc, out) — unpackable as a pair — plus details. out is stdout followed by stderr."""

    def __new__(cls, rc, stdout, stderr, prefix, program):
        self = tuple.__new__(cls, (rc, stdout + stderr))
        self.stdout, self.stderr = stdout, stderr
        self.program = program
        self.prefix = prefix.path          # pathlib.Path
        self.conf = prefix.conf            # configuration path as messages print it
        self.conf_text = prefix.conf_text  # the file as written, placeholders filled in
        self.ports = prefix.ports
        return self

    rc = property(lambda self: self[0])
    out = property(lambda self: self[1])

    def path(self, rel):
        """Absolute path of a file in the prefix, as messages print it (e.g. an include)."""
        return "%s/%s" % (self.prefix, rel)

    def line_of(self, text, rel=None):
        """1-based line of the first line containing `text` in the configuration (or in the
        prefix file `rel`): lets cases assert `in FILE:LINE` without counting default lines."""
        content = self.conf_text if rel is None else (self.prefix / rel).read_text()
        for number, line in enumerate(content.splitlines(), 1):
            if text in line:
                return number
        raise AssertionError("%r not found in %s" % (text, rel or self.conf))

    def assert_ok(self):
        """-t/-T success: exit 0 and the two nginx-style lines on stderr, in order."""
        __tracebackhide__ = True
        lines = [
            "%s: the configuration file %s syntax is ok" % (self.program, self.conf),
            "%s: configuration file %s test is successful" % (self.program, self.conf),
        ]
        assert self.rc == 0 and self.stderr.splitlines()[-2:] == lines, (
            "expected exit 0 and\n%s\ngot exit %s, stderr:\n%s" % (
                "\n".join(lines), self.rc, self.stderr))
        return self

    def assert_emerg(self, message, line=None, file=None, tested=True):
        """Failure with exactly one `PROGRAM: [emerg] MESSAGE in FILE:LINE` line (line None:
        any line; line a tuple: any of those; message None: any message; file "*": any
        file; default: the main
        configuration file), exit 1, and for -t/-T (tested) the closing
        `configuration file CONF test failed` line."""
        __tracebackhide__ = True
        shown = file or self.conf
        file_re = r"\S+" if file == "*" else re.escape(shown)
        if line is None:
            where = r"\d+"
        elif isinstance(line, (tuple, list)):
            where = "(?:%s)" % "|".join(str(n) for n in line)
        else:
            where = str(line)
        head = "%s: [emerg] " % self.program
        emerg = [l for l in self.stderr.splitlines() if l.startswith(head)]
        text_re = ".+" if message is None else re.escape(message)
        want = re.escape(head) + text_re + " in " + file_re + ":" + where
        assert self.rc == 1 and len(emerg) == 1 and re.fullmatch(want, emerg[0]), (
            "expected exit 1 and one line\n%s%s in %s:%s\ngot exit %s, stderr:\n%s" % (
                head, message, shown, line if line is not None else "LINE", self.rc, self.stderr))
        if tested:
            last = "%s: configuration file %s test failed" % (self.program, self.conf)
            assert self.stderr.splitlines()[-1] == last, (
                "expected the last stderr line\n%s\ngot:\n%s" % (last, self.stderr))
        return self

    def __repr__(self):
        return "Result(rc=%r, out=%r)" % (self.rc, self.out)


class Impl:
    """The `impl` fixture: the adapter plus CLI runs, each in a new prefix under tmp_path."""

    def __init__(self, adapter, tmp_path):
        self.adapter = adapter
        self.name = adapter.name
        self.program = adapter.program
        self._tmp = tmp_path
        self._count = 0

    def prefix(self, conf_text=None, tcp=None, main="", files=None):
        """A prepared prefix (see Prefix) for cases that drive the CLI themselves."""
        self._count += 1
        return Prefix(self._tmp / ("cli%d" % self._count), self.adapter,
                      tcp=tcp, main=main, files=files, conf_text=conf_text)

    def run(self, args, conf_text=None, tcp=None, main="", files=None, cwd=None,
            timeout=RUN_TIMEOUT):
        """Run the binary with `args` in a fresh prefix; placeholders are filled in args and
        cwd. The working directory defaults to an empty one that is not the prefix."""
        __tracebackhide__ = True
        prefix = self.prefix(conf_text=conf_text, tcp=tcp, main=main, files=files)
        return self.run_in(prefix, args, cwd, timeout)

    def run_in(self, prefix, args, cwd=None, timeout=RUN_TIMEOUT):
        """Like run(), in a Prefix made by prefix() (to prepare things before the run)."""
        __tracebackhide__ = True
        args = [prefix.fill(a) for a in args]
        cwd = prefix.fill(str(cwd)) if cwd is not None else prefix.cwd
        proc = self.adapter.popen(args, cwd, subprocess.PIPE, subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError("%s %s did not exit within %ss; output:\n%s" % (
                self.adapter.bin, " ".join(args), timeout, (out + err).decode(errors="replace")))
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
        # Whatever the case expects, a memory error or a crash on some input is a failure.
        m = SANITIZER_RE.search(err)
        assert not m, "sanitizer report from %s:\n%s" % (" ".join(args), err[m.start():][:3000])
        assert proc.returncode >= 0, "%s died of signal %d; stderr:\n%s" % (
            " ".join(args), -proc.returncode, err)
        return Result(proc.returncode, out, err, prefix, self.program)

    def test_config(self, conf_text=None, tcp=None, main="", files=None):
        """`-t`: test the configuration. With conf_text the file is used verbatim."""
        __tracebackhide__ = True
        prefix = self.prefix(conf_text=conf_text, tcp=tcp, main=main, files=files)
        return self.run_in(prefix, self.adapter.conf_args(prefix.path) + ["-t"])

    def dump_config(self, conf_text=None, tcp=None, main="", files=None):
        """`-T`: test the configuration and dump it to stdout."""
        __tracebackhide__ = True
        prefix = self.prefix(conf_text=conf_text, tcp=tcp, main=main, files=files)
        return self.run_in(prefix, self.adapter.conf_args(prefix.path) + ["-T"])


def run_cli(adapter, prefix, args, cwd, timeout=RUN_TIMEOUT):
    """Run the binary with -p PREFIX -c CONF plus args in an existing prefix (a running
    Instance's, say: `-s reload`); returns (rc, stdout, stderr). Unlike Impl.run_in, output
    goes to files, not pipes, since a daemon it starts may keep its inherited descriptors
    open, and no sanitizer check is made."""
    __tracebackhide__ = True
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = adapter.popen(adapter.conf_args(prefix) + list(args), cwd, out, err)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    assert rc is not None, "%s %s did not exit within %ss; stderr:\n%s" % (
        adapter.bin, " ".join(args), timeout, stderr)
    return rc, stdout, stderr
