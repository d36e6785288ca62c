"""The 2015 module: nginx 1.4.1 with src/tcp/ (ngx_tcp_module, ngx_tcp_lua_module,
ngx_tcp_log_module), public repository laozi2/nginx-stream-lua-module at f586c4d.

Build it with ci/peers.sh (or ../shared/peers/build-original.sh); the binary is
<out>/objs/nginx. Select it with `--impl original --impl-bin=/path/to/objs/nginx`, or set
ORIGINAL_NGINX.

What differs from tcplua, and only here:
- the program is nginx ("nginx: [emerg] ..."), its configuration conf/nginx.conf, its pid
  file logs/nginx.pid;
- nginx needs an `events {}` block: complete_conf_text adds one unless the text has it;
- capabilities it lacks: -T (nginx 1.4.1 has no -T; it came in 1.9.2), tcp_nodelay (no such
  directive; it never sets TCP_NODELAY), the lua_socket_* timeouts and buffer size (it has
  only lua_socket_connect_timeout, lua_socket_pool_size, lua_socket_send_lowat),
  worker_shutdown_timeout (nginx 1.11.11), IPv6 listen addresses (IPv4 only, its README),
  ngx.log from init_by_lua ("no session found"), ngx.re (none at f586c4d; the module gained
  ngx_tcp_lua_regex.c in 2016, commit 3fae3a1).
"""
import os
import re

from ..adapter import Adapter

try:                                    # the contract's list (helper hyg1); absent before it lands
    from ..adapter import ALL_CAPABILITIES
except ImportError:
    ALL_CAPABILITIES = frozenset((
        "cli.dump", "cli.version", "directive.tcp_nodelay", "directive.lua_socket",
        "directive.worker_shutdown_timeout", "ipv6", "wait_next_request", "init_log",
        "cosocket", "shdict", "master_process", "reload", "regex"))

_EVENTS_RE = re.compile(r"^[ \t]*events[\s{]", re.M)
_DEFAULT_BUILD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..",
                              "peers-build", "original", "objs", "nginx")


def add_events(text):
    """nginx refuses a configuration without an events block ("no events section"). Added on
    line 1, before the text's first line, so that every line keeps its number (`in FILE:LINE`)."""
    return text if _EVENTS_RE.search(text) else "events {} " + text


class OriginalAdapter(Adapter):
    name = "original"
    program = "nginx"
    conf_name = "conf/nginx.conf"
    pid_name = "logs/nginx.pid"
    error_log_name = "logs/error.log"
    capabilities = frozenset(ALL_CAPABILITIES) - {
        "cli.dump",                          # nginx 1.4.1: no -T
        "cli.version",                       # -V prints nginx's build text, no LuaJIT/libev line
        "directive.tcp_nodelay",             # no such directive in src/tcp
        "directive.lua_socket",              # no lua_socket_{read,send,keepalive}_timeout, _buffer_size
        "directive.worker_shutdown_timeout", # nginx >= 1.11.11
        "ipv6",                              # listen parses IPv4 only
        "init_log",                          # ngx.log in init_by_lua: "no session found"
        "regex",                             # the 2015 module has no ngx.re (f586c4d; it came in 2016, 3fae3a1)
    }
    # Messages SPEC marks as examples, where nginx 1.4.1 words them otherwise (key -> text or
    # regex); filled as the suite names its keys.
    wordings = {}

    def __init__(self, bin_path=None):
        super().__init__(bin_path)

    def default_bin(self):
        return os.environ.get("ORIGINAL_NGINX") or os.path.normpath(_DEFAULT_BUILD)

    # -- contract hooks ---------------------------------------------------------------------
    def complete_conf_text(self, text):
        return add_events(text)

    def prepare(self, conf_text, files):
        return conf_text, files

    def wording(self, key, default):
        return self.wordings.get(key, default)

    # -- behaviour today (before the harness calls complete_conf_text itself) ----------------
    def compose_config(self, tcp, main):
        return add_events(super().compose_config(tcp, main))


ADAPTER = OriginalAdapter
