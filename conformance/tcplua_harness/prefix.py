"""Prefix: a fresh directory holding one configuration, with placeholders filled in.

Placeholders: @PORT0@ .. @PORT9@ become free loopback ports chosen by the harness, @PREFIX@
the absolute prefix path (no trailing slash). They are replaced in the tcp/main/raw
configuration text, in text (str) files and in CLI arguments; bytes files stay verbatim.
"""
import os
import random
import re
import socket
import stat
from pathlib import Path

from .confdump import parse

PORT_RE = re.compile(r"@PORT(\d)@")
_handed_out = set()
# Seeded per process so suites run by several people at once rarely pick the same ports.
_rng = random.Random(os.getpid() ^ int.from_bytes(os.urandom(4), "little"))


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    # No SO_REUSEADDR: a port with TIME_WAIT leftovers counts as busy, as it may for the server.
    for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue            # no IPv6 on this host: nothing to collide with there
        try:
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_ports(n=10):
    """n distinct free ports below the ephemeral range, so that no client socket's
    automatically chosen local port can take one between choice and bind."""
    high = _ephemeral_low()
    ports = []
    while len(ports) < n:
        port = _rng.randrange(10000, high)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            ports.append(port)
    return ports


def _listen_args(tree):
    for d in tree:
        if d.name == "listen":
            yield from d.args
        if d.block:
            yield from _listen_args(d.block)


def open_to_workers(path):
    """When the suite runs as root, a server's workers run as another user (nobody, SPEC
    [proc.user]) and must still reach the prefix: read its scripts and modules, reopen its
    logs, connect to unix sockets of fixtures beside it. pytest makes its temporary
    directories 0700, so this adds search permission (g+x, o+x, never read or write) to
    `path` and every ancestor lacking it. Does nothing for another user: there the workers
    keep the suite's user."""
    if os.geteuid() != 0:
        return
    for d in [Path(path), *Path(path).parents]:
        mode = os.stat(d).st_mode
        if stat.S_ISDIR(mode) and mode & 0o011 != 0o011:
            os.chmod(d, stat.S_IMODE(mode) | 0o011)


def fill(text, ports, prefix):
    text = text.replace("@PREFIX@", str(prefix))
    return PORT_RE.sub(lambda m: str(ports[int(m.group(1))]), text)


class Prefix:
    """Creates PATH/{conf,logs}, writes the configuration and `files` (files last, so they
    may replace the composed configuration). The configuration is the composed text (or
    conf_text) passed through adapter.complete_conf_text; configuration and files, with
    placeholders filled, pass through adapter.prepare just before they are written."""

    def __init__(self, path, adapter, tcp=None, main="", files=None, conf_text=None):
        self.path = Path(path).resolve()
        self.adapter = adapter
        # 0755 directories and 0644 files whatever the umask: workers running as another
        # user (the suite run as root) read and traverse what the harness writes.
        (self.path / "logs").mkdir(mode=0o755, parents=True)
        (self.path / "conf").mkdir(mode=0o755)
        # Processes run in an empty directory beside the prefix, never in it: a path resolved
        # against the working directory instead of the prefix then fails visibly.
        self.cwd = self.path.parent / "cwd"
        self.cwd.mkdir(mode=0o755, exist_ok=True)
        for d in (self.path, self.path / "logs", self.path / "conf", self.cwd):
            os.chmod(d, 0o755)
        open_to_workers(self.path.parent)
        self.ports = free_ports()
        raw = conf_text if conf_text is not None else adapter.compose_config(tcp, main)
        raw = adapter.complete_conf_text(raw)
        listen_texts = [raw]
        filled = {}
        for rel, content in (files or {}).items():
            if isinstance(content, str):
                if rel.endswith(".conf"):
                    listen_texts.append(content)   # an included file may hold listen lines
                content = self.fill(content)
            filled[rel] = content
        # conf_text is what the case composed (placeholders filled), for line_of() and
        # echo checks; the adapter may write something else (a translation).
        self.conf_text = self.fill(raw)
        written, filled = adapter.prepare(self.conf_text, filled)
        self.written_conf_text = written
        self.write(adapter.conf_name, written)
        for rel, content in filled.items():
            self.write(rel, content)
        # The ports of `listen` directives are the ones the harness waits for; a port elsewhere
        # (an upstream for a cosocket, say) belongs to some other server.
        self.used_ports = sorted({int(i) for t in listen_texts for arg in _listen_args(parse(t))
                                  for i in PORT_RE.findall(arg)})

    def fill(self, text):
        return fill(text, self.ports, self.path)

    def write(self, rel, content):
        target = self.path / rel
        for d in reversed(target.parents):
            if not d.is_dir():
                d.mkdir(mode=0o755)
                os.chmod(d, 0o755)
        if isinstance(content, str):
            target.write_text(content)
        else:
            target.write_bytes(bytes(content))
        os.chmod(target, 0o644)

    @property
    def conf(self):
        return self.adapter.conf_path(self.path)
