"""OpenResty's stream-lua (v0.0.12) in Debian's nginx 1.22, through a translation.

The suite writes `tcp { server { listen ...; protocol tcp_lua; process_by_lua* ...; } }`;
stream-lua serves `stream { server { listen ...; content_by_lua* ...; } }` and has no
ngx.receive / ngx.print-on-a-socket. This adapter
- rewrites the configuration (and every `*.conf` file of the case) line for line, so that
  `in FILE:LINE` and Lua line numbers stay those of the case: `tcp` -> `stream`,
  `process_by_lua[_file]` -> `content_by_lua[_file]`, `protocol tcp_lua` dropped,
  `read_timeout`/`send_timeout` -> `lua_socket_read_timeout`/`lua_socket_send_timeout`,
  `client_max_body_size N` -> `set $tcplua_cmbs N` (read by the prelude),
  `keepalive_timeout`, `session_pool_size`, `connection_pool_size` dropped (no light
  sessions, nginx manages its own pools), `access_log path` gets the 2015 default format,
  `$request_time` -> `$session_time`; `load_module` lines and `events {}` are added on line 1;
- writes a Lua prelude, conf/__tcplua_prelude.lua, run by `init_by_lua` (prepended on the same
  line to the case's own init_by_lua*, if any), that defines ngx.receive, ngx.print, ngx.say,
  ngx.exit, ngx.start_time and ngx.wait_next_request (which raises: stream-lua has no light
  sessions) on `ngx.req.socket(true)`.

Binary: Debian's /usr/sbin/nginx (--impl-bin to change); the module: $STREAMLUA_MODULE or
/work/peers-build/streamlua/ngx_stream_lua_module.so (ci/peers.sh builds it).
"""
import os
import re

from ..adapter import Adapter

try:
    from ..adapter import ALL_CAPABILITIES
except ImportError:
    ALL_CAPABILITIES = frozenset((
        "cli.dump", "cli.version", "directive.tcp_nodelay", "directive.lua_socket",
        "directive.worker_shutdown_timeout", "ipv6", "wait_next_request", "init_log",
        "cosocket", "shdict", "master_process", "reload"))

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODULE = os.path.normpath(os.path.join(
    HERE, "..", "..", "..", "..", "peers-build", "streamlua", "ngx_stream_lua_module.so"))
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
RESTY_PATH = "/usr/share/lua/5.1/?.lua"
PRELUDE_NAME = "conf/__tcplua_prelude.lua"
PRELUDE_CALL = 'dofile(ngx.config.prefix()..[[%s]]) ' % PRELUDE_NAME
DEFAULT_FORMAT = ("log_format tcplua_default '$remote_addr $time_iso8601 $msec $session_time "
                  "$connection 1 $protocol';")

PRELUDE = r"""-- tcplua's session API on stream-lua's raw request socket (written by the streamlua adapter)
local ngx = ngx
local req_socket, get_phase, orig_exit = ngx.req.socket, ngx.get_phase, ngx.exit
local concat, tostring, type, error, select = table.concat, tostring, type, error, select
local null = ngx.null

local function session_only()
    if get_phase() == "init" then
        error("API disabled in the context of init_by_lua*", 3)
    end
end

local function sock()
    local ctx = ngx.ctx
    local s = ctx.__tcplua_sock
    if not s then
        local err
        s, err = req_socket(true)
        if not s then error("ngx.req.socket(true): " .. tostring(err), 3) end
        ctx.__tcplua_sock = s
    end
    return s
end

local UNITS = { k = 1024, K = 1024, m = 1048576, M = 1048576 }
local function max_body()
    local v = ngx.var.tcplua_cmbs or "1k"
    local n, u = v:match("^(%d+)([kKmM]?)$")
    if not n then return 1024 end
    return tonumber(n) * (UNITS[u] or 1)
end

local function isint(n) return type(n) == "number" and n == n and n % 1 == 0 end

function ngx.receive(total, atleast)
    session_only()
    if not isint(total) or total < 1 then
        error("bad argument #1 to 'receive' (total must be an integer >= 1)", 2)
    end
    if atleast == nil then atleast = total end
    if not isint(atleast) or atleast < 1 or atleast > total then
        error("bad argument #2 to 'receive' (atleast must be an integer in [1, total])", 2)
    end
    local max = max_body()
    if total > max then error("total exceeds client_max_body_size " .. max, 2) end
    local s, buf, n = sock(), {}, 0
    while n < atleast do
        local data, err = s:receiveany(total - n)
        if not data then return nil, err, concat(buf) end
        buf[#buf + 1] = data
        n = n + #data
    end
    return concat(buf)
end

local function flatten(fn, out, v, argn, depth)
    local t = type(v)
    if t == "string" then out[#out + 1] = v
    elseif t == "number" or t == "boolean" or t == "nil" then out[#out + 1] = tostring(v)
    elseif v == null then out[#out + 1] = "null"
    elseif t == "table" then
        if depth > 100 then error("table nested too deeply", 4) end
        for i = 1, #v do flatten(fn, out, v[i], argn, depth + 1) end
    else
        error(("bad argument #%d to '%s' (string, number, boolean, nil, ngx.null, or array "
               .. "table expected, got %s)"):format(argn, fn, t), 4)
    end
end

local function output(fn, nl, ...)
    local out = {}
    for i = 1, select("#", ...) do flatten(fn, out, (select(i, ...)), i, 1) end
    if nl then out[#out + 1] = "\n" end
    local data = concat(out)
    local n, err = sock():send(data)
    if not n then return nil, err end
    return n, "ok"
end

function ngx.print(...) session_only() return output("print", false, ...) end
function ngx.say(...) session_only() return output("say", true, ...) end

function ngx.exit(code)
    session_only()
    return orig_exit(code or ngx.OK)
end

function ngx.start_time()
    session_only()
    return ngx.req.start_time()
end

function ngx.wait_next_request()
    session_only()
    error("ngx.wait_next_request: stream-lua has no light sessions", 2)
end
"""


# -- a line-preserving nginx configuration rewriter ----------------------------------------------
class Tok:
    __slots__ = ("text", "value", "start", "end")

    def __init__(self, text, value, start, end):
        self.text, self.value, self.start, self.end = text, value, start, end


def tokens(src):
    """nginx tokens with positions: words/quoted strings, and ';' '{' '}'."""
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c in ";{}":
            yield Tok(c, c, i, i + 1)
            i += 1
        elif c in "\"'":
            j, buf = i + 1, []
            while j < n and src[j] != c:
                if src[j] == "\\" and j + 1 < n:
                    buf.append(src[j:j + 2] if src[j + 1] not in "\"'\\" else src[j + 1])
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            yield Tok(src[i:j + 1], "".join(buf), i, min(j + 1, n))
            i = j + 1
        else:
            j = i
            while j < n and not src[j].isspace() and src[j] not in ";{}":
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                j += 1
            yield Tok(src[i:j], src[i:j], i, j)
            i = j


class Directive:
    def __init__(self, name, args, end, path):
        self.name, self.args, self.end, self.path = name, args, end, path
        self.block = None            # list of Directive when it opens a block
        self.open = None             # position after '{'

    @property
    def start(self):
        return self.name.start


def parse(src, path=()):
    """A list of Directive trees; a syntax error just ends parsing (nginx will report it)."""
    root, words = [], []
    stack = [(root, path)]
    for t in tokens(src):
        body, where = stack[-1]
        if t.text == ";" and t.value == ";" and t.start == t.end - 1 and src[t.start] == ";":
            if words:
                body.append(Directive(words[0], words[1:], t.end, where))
            words = []
        elif t.text == "{" and src[t.start] == "{":
            if not words:
                words = []
                stack.append(([], where + ("?",)))
                continue
            d = Directive(words[0], words[1:], t.end, where)
            d.block, d.open = [], t.end
            body.append(d)
            stack.append((d.block, where + (words[0].value,)))
            words = []
        elif t.text == "}" and src[t.start] == "}":
            words = []
            if len(stack) > 1:
                stack.pop()
        else:
            words.append(t)
    return root


def walk(tree):
    for d in tree:
        yield d
        if d.block:
            yield from walk(d.block)


def quote(value):
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")


def translate(src, fragment=False, module=DEFAULT_MODULE):
    """The stream-lua configuration for the suite's text `src`, line for line. fragment: an
    included file (no load_module/events line, directives taken as inside tcp)."""
    if src.startswith("load_module %s;" % STREAM_MODULE):
        return src                   # already translated
    tree = parse(src, ("tcp",) if fragment else ())
    edits = []                       # (start, end, replacement)

    def replace(d, text):
        edits.append((d.start, d.end, text))

    tcp_blocks = [d for d in tree if d.name.value == "tcp" and d.block is not None]
    inside = [d for d in walk(tree) if d.path[:1] == ("tcp",)]
    if fragment:
        inside = list(walk(tree))
    names = {d.name.value for d in inside}
    need_default_format = False
    for d in inside:
        name = d.name.value
        ctx_names = {x.name.value for x in (d.path and _siblings(tree, d) or [])}
        if name == "protocol" and [a.value for a in d.args] == ["tcp_lua"]:
            replace(d, "")
        elif name in ("process_by_lua", "process_by_lua_file"):
            edits.append((d.name.start, d.name.end, name.replace("process_", "content_")))
        elif name in ("read_timeout", "send_timeout"):
            target = "lua_socket_" + name
            if target in ctx_names:
                replace(d, "")
            else:
                edits.append((d.name.start, d.name.end, target))
        elif name in ("keepalive_timeout", "session_pool_size", "connection_pool_size"):
            replace(d, "")
        elif name == "client_max_body_size" and d.path[-1:] == ("server",) and len(d.args) == 1:
            edits.append((d.start, d.end, "set $tcplua_cmbs %s;" % d.args[0].text))
        elif name == "client_max_body_size":
            replace(d, "")           # tcp level: copied into each server below
        elif name == "access_log" and len(d.args) == 1 and d.args[0].value != "off":
            edits.append((d.args[0].end, d.args[0].end, " tcplua_default"))
            need_default_format = True
        elif name == "log_format":
            for a in d.args[1:]:
                if "$request_time" in a.text or "$connection_requests" in a.text:
                    edits.append((a.start, a.end, a.text.replace("$request_time", "$session_time")
                                  .replace("$connection_requests", "1")))
        elif name == "lua_package_path" and len(d.args) == 1:
            edits.append((d.args[0].start, d.args[0].end,
                          quote(d.args[0].value.rstrip(";") + ";" + RESTY_PATH + ";;")))
        elif name == "init_by_lua" and len(d.args) == 1:
            a = d.args[0]
            if a.text[:1] in "\"'":
                edits.append((a.start + 1, a.start + 1, PRELUDE_CALL))
            else:
                edits.append((a.start, a.end, quote(PRELUDE_CALL + a.value)))
        elif name == "init_by_lua_file" and len(d.args) == 1:
            f = d.args[0].value
            where = "[[%s]]" % f if f.startswith("/") else "ngx.config.prefix()..[[%s]]" % f
            edits.append((d.start, d.end, "init_by_lua %s;" % quote(
                PRELUDE_CALL + "dofile(%s)" % where)))
    # per-server client_max_body_size, from the tcp level unless the server sets its own
    for tcp in tcp_blocks:
        level = [d for d in tcp.block if d.name.value == "client_max_body_size" and d.args]
        value = level[-1].args[0].text if level else None
        for srv in tcp.block:
            if srv.name.value == "server" and srv.block is not None and value and not any(
                    x.name.value == "client_max_body_size" for x in srv.block):
                edits.append((srv.open, srv.open, " set $tcplua_cmbs %s;" % value))
    if not fragment:
        for tcp in tcp_blocks:
            edits.append((tcp.name.start, tcp.name.end, "stream"))
            inject = []
            own = {d.name.value for d in tcp.block}
            if "lua_package_path" not in own:
                inject.append('lua_package_path "%s;;";' % RESTY_PATH)
            if not own & {"init_by_lua", "init_by_lua_file", "init_by_lua_block"}:
                inject.append("init_by_lua_file %s;" % PRELUDE_NAME)
            default_log = not any(d.name.value == "access_log" for d in walk(tcp.block))
            if (need_default_format or default_log) and "tcplua_default" not in src:
                inject.append(DEFAULT_FORMAT)
                need_default_format = False
            if default_log:          # the 2015 module logs there unless told otherwise
                inject.append("access_log logs/access_tcp.log tcplua_default;")
            edits.append((tcp.open, tcp.open, " " + " ".join(inject)))
        first = "load_module %s; load_module %s; " % (STREAM_MODULE, module)
        if not any(d.name.value == "events" for d in tree):
            first += "events {} "
        edits.append((0, 0, first))  # on line 1: every line keeps its number
    edits.sort(key=lambda e: (e[0], e[1]))
    out, pos = [], 0
    for start, end, text in edits:
        if start < pos:
            continue                 # overlapping edit (malformed input): keep the first
        out.append(src[pos:start])
        out.append(text)
        pos = end
    out.append(src[pos:])
    return "".join(out)


def _siblings(tree, d):
    """Directives of the block holding d (by path; good enough for the suite's configs)."""
    for x in walk(tree):
        if x.block and d in x.block:
            return x.block
    return tree


class StreamLuaAdapter(Adapter):
    name = "streamlua"
    program = "nginx"
    conf_name = "conf/nginx.conf"
    pid_name = "logs/nginx.pid"
    capabilities = frozenset(ALL_CAPABILITIES) - {
        "cli.dump",            # -T exists but dumps the translated configuration, not the case's
        "cli.version",         # -V prints nginx's build text, no LuaJIT/libev line
        "wait_next_request",   # no light sessions in stream-lua
    }
    wordings = {}

    def __init__(self, bin_path=None):
        super().__init__(bin_path)
        self.module = os.environ.get("STREAMLUA_MODULE") or DEFAULT_MODULE

    def default_bin(self):
        return os.environ.get("STREAMLUA_NGINX") or "/usr/sbin/nginx"

    def check(self):
        problem = super().check()
        if problem is None and not os.path.exists(self.module):
            problem = "streamlua: module %s is missing (run ci/peers.sh or set STREAMLUA_MODULE)" % (
                self.module)
        return problem

    # -- contract hooks ---------------------------------------------------------------------
    def complete_conf_text(self, text):
        return text                  # translate() adds events {} with the load_module lines

    def prepare(self, conf_text, files):
        files = dict(files or {})
        for rel, content in list(files.items()):
            if rel.endswith(".conf") and isinstance(content, str):
                files[rel] = translate(content, fragment=True, module=self.module)
        files[PRELUDE_NAME] = PRELUDE
        if conf_text is None:        # a reload case rewriting only files
            return None, files
        return translate(conf_text, module=self.module), files

    def wording(self, key, default):
        return self.wordings.get(key, default)

    # -- behaviour today: translate the written prefix before any run ------------------------
    def _translate_prefix(self, prefix):
        conf = os.path.join(str(prefix), self.conf_name)
        try:
            with open(conf) as f:
                text = f.read()
        except (FileNotFoundError, UnicodeDecodeError):
            return
        if text.startswith("load_module %s;" % STREAM_MODULE):
            return                   # already translated (prepare, or an earlier run)
        with open(conf, "w") as f:
            f.write(translate(text, module=self.module))
        confdir = os.path.join(str(prefix), "conf")
        for root, _, names in os.walk(str(prefix)):
            for n in names:
                p = os.path.join(root, n)
                if n.endswith(".conf") and p != conf:
                    try:
                        with open(p) as f:
                            t = f.read()
                        with open(p, "w") as f:
                            f.write(translate(t, fragment=True, module=self.module))
                    except (OSError, UnicodeDecodeError):
                        pass
        os.makedirs(confdir, exist_ok=True)
        with open(os.path.join(str(prefix), PRELUDE_NAME), "w") as f:
            f.write(PRELUDE)

    def conf_args(self, prefix):
        self._translate_prefix(prefix)
        # Debian builds nginx with --error-log-path=stderr: start-up messages would then come
        # as "2026/01/01 ... [emerg] PID#TID: ..." on stderr instead of "nginx: [emerg] ...".
        # -e gives the start-up log the path of a stock build (logs/error.log in the prefix).
        return super().conf_args(prefix) + ["-e", "logs/error.log"]

    def start(self, prefix, cwd, stdout, stderr):
        return self.popen(self.conf_args(prefix), cwd, stdout, stderr)


ADAPTER = StreamLuaAdapter
