-- Probes of cosockets (ngx.socket.tcp) in OpenResty's ngx_lua (Debian 12 packages), run by
-- cosocket_probe.sh under content_by_lua_block, and by conformance/test_cosocket_reference.py
-- inside the implementation under test. The module has two entry points:
--
--   run(emit, env)              every probe, with a `resolver` pointing at the DNS fixture
--   run_no_resolver(emit, env)  the few probes that need a context without any `resolver`
--
-- emit(line) prints one line; env gives the upstream fixtures (conformance/tcplua_harness/
-- upstreams.py, started from cosocket_fixtures.json): env.NAME is a port, env.uecho the path
-- of the unix-socket echo, env.refused a port nothing listens on.
--
-- Each probe prints one line:
--
--   NAME => N|v1|v2|...      N = select('#', ...) of the call's results, then each result
--   NAME => ERR: message     the call raised (caught with pcall)
--
-- Results are shown as: strings in double quotes (bytes outside 0x20-0x7e, '"' and '\' as
-- escapes: \0 \n \" \\ \xHH), strings longer than 200 bytes as "<first 20>..."(len=N);
-- numbers with tostring; nil/booleans with tostring; tables as {#N: elements}; other values
-- as their type. Addresses (0x...) are replaced by 0xADDR, fixture ports by <PORT>, the
-- unix socket's directory by <DIR>.
-- A name ending in "~" marks a result that depends on timing: compare its shape, not its
-- digits. A probe that makes several calls prints one pack per call, separated by " ; ".
--
-- Each probe is a Lua chunk compiled with the chunk name "=probe"; a chunk without "return"
-- is the single expression whose results are packed. Sockets a probe opens with tcp() are
-- closed after it. Probes that keep connections in a pool name their own pool (or use the
-- fixture echo2), so no probe sees another's pooled connections.

local M = {}

local sfmt, srep, concat = string.format, string.rep, table.concat

local function esc(s)
    return (s:gsub('[%z\1-\31"\\\127-\255]', function(c)
        if c == '"' then return '\\"' end
        if c == '\\' then return '\\\\' end
        if c == '\n' then return '\\n' end
        if c == '\0' then return '\\0' end
        return sfmt('\\x%02x', c:byte())
    end))
end

local fmt

local function fmtnum(v)
    local s = tostring(v)
    if v == v and tonumber(s) ~= v then
        s = s .. sfmt("(=%.17g)", v)
    end
    return s
end

fmt = function(v, depth)
    local t = type(v)
    if t == "string" then
        v = v:gsub("0x%x+", "0xADDR")
        if #v > 200 then
            return sfmt('"%s..."(len=%d)', esc(v:sub(1, 20)), #v)
        end
        return '"' .. esc(v) .. '"'
    elseif t == "number" then
        return fmtnum(v)
    elseif t == "nil" or t == "boolean" then
        return tostring(v)
    elseif t == "table" and (depth or 0) < 1 then
        local n = #v
        local parts = {}
        for i = 1, math.min(n, 30) do
            parts[#parts + 1] = fmt(v[i], 1)
        end
        if n > 30 then parts[#parts + 1] = "..." end
        local extra = 0
        for k in pairs(v) do
            if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
                extra = extra + 1
            end
        end
        local s = "{#" .. n .. ": " .. concat(parts, ", ") .. "}"
        if extra > 0 then s = s .. "+" .. extra .. "hash" end
        return s
    else
        return t
    end
end

local function pk(...)
    return { n = select('#', ...), ... }
end

local function fmtpack(r)
    local parts = { tostring(r.n) }
    for i = 1, r.n do
        parts[#parts + 1] = fmt(r[i])
    end
    return concat(parts, "|")
end

local function sorted_keys(t)
    local ks = {}
    for k in pairs(t) do ks[#ks + 1] = tostring(k) end
    table.sort(ks)
    return ks
end

-- the environment the probe chunks see
local function make_env(emit, env)
    local E = setmetatable({}, { __index = _G })
    local opened = {}
    E.env = env
    E.pk = pk
    E.rep = srep
    E.concat = concat
    E.sorted_keys = sorted_keys
    E.H = "127.0.0.1"
    for k, v in pairs(env) do E[k] = v end
    E.track = function(s)
        if s then opened[#opened + 1] = s end
        return s
    end
    E.tcp = function()
        local s = ngx.socket.tcp()
        opened[#opened + 1] = s
        return s
    end
    -- a connected socket (raises when the connect fails: the probe then shows ERR)
    E.conn = function(port, opts)
        local s = E.tcp()
        local ok, err
        if type(port) == "string" then
            ok, err = s:connect(port, nil, opts)
        else
            ok, err = s:connect(E.H, port, opts)
        end
        if not ok then error("setup connect failed: " .. tostring(err), 0) end
        return s
    end
    -- one counter of the fixtures (upstreams.Stats): "dns NAME", "accepted FIXTURE", ...
    E.stat = function(key)
        local s = ngx.socket.tcp()
        s:settimeout(2000)
        assert(s:connect(E.H, env.stats))
        assert(s:send(key .. "\n"))
        local line = assert(s:receive())
        s:close()
        return tonumber(line) or line
    end
    -- polls cond() every 10 ms for at most `secs` seconds; returns its last value
    E.wait_for = function(cond, secs)
        local deadline = ngx.now() + (secs or 3)
        local v = cond()
        while not v and ngx.now() < deadline do
            ngx.sleep(0.01)
            ngx.update_time()
            v = cond()
        end
        return v
    end
    E._close_all = function()
        for i = 1, #opened do
            pcall(opened[i].close, opened[i])
            opened[i] = nil
        end
    end
    return E
end

local function make_P(emit, E, env)
    local ports = {}
    for k, v in pairs(env) do
        if type(v) == "number" and v > 1000 then ports[#ports + 1] = tostring(v) end
    end
    -- longest first, so that a port that is a prefix of another is not replaced inside it
    table.sort(ports, function(a, b) return #a > #b end)
    local dir = env.uecho and env.uecho:match("^(.*)/[^/]*$")
    local function scrub(line)
        for _, p in ipairs(ports) do
            line = line:gsub("%f[%d]" .. p .. "%f[%D]", "<PORT>")
        end
        if dir then
            line = line:gsub(dir:gsub("%p", "%%%0"), "<DIR>")
        end
        return line
    end
    return function(name, code)
        if not code:find("return", 1, true) then
            code = "return pk(" .. code .. ")"
        end
        local f, perr = loadstring(code, "=probe")
        if not f then
            emit(name .. " => PROBE SYNTAX ERROR: " .. perr)
            return
        end
        setfenv(f, E)
        local res = pk(pcall(f))
        E._close_all()
        local ok, r = res[1], res[2]
        if not ok then
            emit(scrub(name .. " => ERR: " .. (type(r) == "string" and
                 (r:gsub("0x%x+", "0xADDR"):gsub("\n", "\\n")) or fmt(r))))
            return
        end
        local packs = {}
        for i = 2, res.n do
            if type(res[i]) ~= "table" or res[i].n == nil then
                emit(name .. " => PROBE BUG: chunk must return pk(...)")
                return
            end
            packs[#packs + 1] = fmtpack(res[i])
        end
        if #packs == 0 then
            emit(name .. " => PROBE BUG: chunk returned nothing")
            return
        end
        emit(scrub(name .. " => " .. concat(packs, " ; ")))
    end
end

function M.run_no_resolver(emit, env)
    local E = make_env(emit, env)
    local P = make_P(emit, E, env)
    emit("# no resolver directive in this context")
    P("noresolver.name", [[tcp():connect("name.test", echo)]])
    P("noresolver.localhost", [[tcp():connect("localhost", echo)]])
    P("noresolver.ip", [[tcp():connect(H, echo)]])
    P("noresolver.unix", [[tcp():connect("unix:" .. uecho)]])
    P("noresolver.empty_host", [[tcp():connect("", echo)]])
    emit("# end")
end

function M.run(emit, env)
    local E = make_env(emit, env)
    local P = make_P(emit, E, env)
    local function section(title) emit("# " .. title) end

    section("the socket object")
    P("tcp.type", [[type(ngx.socket.tcp), type(ngx.socket.tcp()), type(ngx.socket.connect)]])
    P("tcp.distinct", [[ngx.socket.tcp() ~= ngx.socket.tcp()]])
    P("tcp.methods", [[local s = tcp() local out = {}
        for _, m in ipairs{"connect", "send", "receive", "receiveany", "receiveuntil", "close",
                           "settimeout", "settimeouts", "setoption", "getoption",
                           "setkeepalive", "getreusedtimes"} do
            out[#out + 1] = m .. "=" .. type(s[m])
        end
        return pk(out)]])
    P("tcp.methods.ssl", [[local s = tcp() return pk(type(s.sslhandshake), type(s.setclientcert))]])
    P("tcp.shortcut", [[local s, err = ngx.socket.connect(H, echo) track(s)
        return pk(type(s), err), pk(s:send("x")), pk(s:receive(1)), pk(s:close())]])
    P("tcp.shortcut_refused", [[ngx.socket.connect(H, refused)]])
    P("tcp.shortcut_unix", [[local s, err = ngx.socket.connect("unix:" .. uecho) track(s)
        return pk(type(s), err), pk(s:close())]])

    section("connect")
    P("connect.ok", [[tcp():connect(H, echo)]])
    P("connect.roundtrip", [[local s = tcp() return pk(s:connect(H, echo)), pk(s:send("ping")), pk(s:receive(4))]])
    P("connect.refused", [[tcp():connect(H, refused)]])
    P("connect.refused_then_ok", [[local s = tcp() return pk(s:connect(H, refused)), pk(s:connect(H, echo)), pk(s:send("a")), pk(s:receive(1))]])
    P("connect.timeout", [[local s = tcp() s:settimeout(100) return pk(s:connect(H, blackhole))]])
    P("connect.timeout_then_ok", [[local s = tcp() s:settimeout(100) return pk(s:connect(H, blackhole)), pk(s:connect(H, echo))]])
    P("connect.port0", [[tcp():connect(H, 0)]])
    P("connect.port65535_refused", [[tcp():connect(H, 65535)]])
    P("connect.port65536", [[tcp():connect(H, 65536)]])
    P("connect.port_negative", [[tcp():connect(H, -1)]])
    P("connect.port_numeric_string", [[tcp():connect(H, tostring(echo))]])
    P("connect.port_string", [[tcp():connect(H, "http")]])
    P("connect.port_float", [[tcp():connect(H, echo + 0.5)]])
    P("connect.port_nil", [[tcp():connect(H, nil)]])
    P("connect.port_table", [[tcp():connect(H, {})]])
    P("connect.port_missing", [[tcp():connect(H)]])
    P("connect.no_args", [[tcp():connect()]])
    P("connect.host_nil", [[tcp():connect(nil, echo)]])
    P("connect.host_number", [[tcp():connect(127, echo)]])
    P("connect.host_table", [[tcp():connect({}, echo)]])
    P("connect.too_many_args", [[tcp():connect(H, echo, {}, 1)]])
    P("connect.dot_call", [[tcp().connect(H, echo)]])
    P("connect.on_plain_table", [[tcp().connect({}, H, echo)]])
    P("connect.ipv4_bad_octet", [[tcp():connect("127.0.0.256", echo)]])
    P("connect.bracketed_ipv4", [[tcp():connect("[127.0.0.1]", echo)]])
    P("connect.host_with_port", [[tcp():connect("127.0.0.1:" .. echo)]])
    P("connect.twice", [[local s = tcp() local a = stat("accepted echo")
        local r1, r2 = pk(s:connect(H, echo)), pk(s:connect(H, echo))
        return r1, r2, pk(s:send("b")), pk(s:receive(1)), pk(stat("accepted echo") - a)]])
    P("connect.twice_old_closed", [[local s = tcp() s:connect(H, echo) local c = stat("conns echo")
        s:connect(H, echo2)
        return pk(wait_for(function() return stat("conns echo") <= c - 1 end))]])
    P("connect.after_close", [[local s = tcp() s:connect(H, echo) return pk(s:close()), pk(s:connect(H, echo)), pk(s:send("c")), pk(s:receive(1))]])
    P("connect.unix", [[local s = tcp() return pk(s:connect("unix:" .. uecho)), pk(s:send("unix")), pk(s:receive(4))]])
    P("connect.unix_with_port", [[tcp():connect("unix:" .. uecho, 80)]])
    P("connect.unix_missing", [[tcp():connect("unix:" .. uecho .. ".missing")]])
    P("connect.unix_empty", [[tcp():connect("unix:")]])
    P("connect.unix_not_a_socket", [[tcp():connect("unix:/dev/null")]])
    P("connect.opts_not_table", [[tcp():connect(H, echo, 123)]])
    P("connect.opts_empty", [[tcp():connect(H, echo, {})]])
    P("connect.opts_pool_number", [[tcp():connect(H, echo, {pool = 123})]])
    P("connect.opts_pool_table", [[tcp():connect(H, echo, {pool = {}})]])
    P("connect.opts_pool_size_0", [[tcp():connect(H, echo, {pool_size = 0})]])
    P("connect.opts_pool_size_neg", [[tcp():connect(H, echo, {pool_size = -1})]])
    P("connect.opts_pool_size_string", [[tcp():connect(H, echo, {pool_size = "2"})]])
    P("connect.opts_backlog_neg", [[tcp():connect(H, echo, {backlog = -1})]])
    P("connect.opts_backlog_without_size", [[tcp():connect(H, echo, {backlog = 1})]])
    P("connect.opts_unknown_key", [[tcp():connect(H, echo, {foo = 1})]])
    P("connect.opts_string_pool", [[tcp():connect(H, echo, "mypool")]])
    P("connect.unix_opts_string_pool", [[tcp():connect("unix:" .. uecho, "mypool")]])
    P("connect.unix_opts_table", [[tcp():connect("unix:" .. uecho, {pool = "u"})]])

    section("send")
    P("send.string", [[local s = conn(echo) return pk(s:send("hello")), pk(s:receive(5))]])
    P("send.empty", [[local s = conn(echo) return pk(s:send(""))]])
    P("send.integer", [[local s = conn(echo) return pk(s:send(42)), pk(s:receive(2))]])
    P("send.float", [[local s = conn(echo) return pk(s:send(1.5)), pk(s:receive(3))]])
    P("send.big_number", [[local s = conn(echo) local n = s:send(2^53) return pk(n), pk(s:receive(n))]])
    P("send.table", [[local s = conn(echo) return pk(s:send({"a", "b", 3})), pk(s:receive(3))]])
    P("send.nested_table", [[local s = conn(echo) return pk(s:send({"a", {"b", {"c", 4}}, "d"})), pk(s:receive(5))]])
    P("send.empty_table", [[local s = conn(echo) return pk(s:send({}))]])
    P("send.true", [[local s = conn(echo) return pk(s:send(true)), pk(s:receive(4))]])
    P("send.false", [[local s = conn(echo) return pk(s:send(false)), pk(s:receive(5))]])
    P("send.nil", [[local s = conn(echo) return pk(s:send(nil)), pk(s:receive(3))]])
    P("send.missing", [[local s = conn(echo) return pk(s:send())]])
    P("send.function", [[local s = conn(echo) return pk(s:send(print))]])
    P("send.table_with_boolean", [[local s = conn(echo) return pk(s:send({"a", true}))]])
    P("send.table_with_nil_hole", [[local s = conn(echo) return pk(s:send({"a", nil, "b"}))]])
    P("send.table_with_hash", [[local s = conn(echo) return pk(s:send({"a", x = 1}))]])
    P("send.table_with_function", [[local s = conn(echo) return pk(s:send({"a", print}))]])
    P("send.extra_arg", [[local s = conn(echo) return pk(s:send("a", "b"))]])
    P("send.binary", [[local s = conn(echo) return pk(s:send("\0\1\255")), pk(s:receive(3))]])
    P("send.unconnected", [[tcp():send("x")]])
    P("send.closed", [[local s = conn(echo) s:close() return pk(s:send("x"))]])
    P("send.after_refused", [[local s = tcp() s:connect(H, refused) return pk(s:send("x"))]])
    P("send.1MB_to_reader", [[local s = conn(silent) s:settimeout(10000) return pk(s:send(rep("x", 1000000)))]])
    P("send.dot_call", [[local s = conn(echo) return pk(s.send("x"))]])

    section("receive")
    P("receive.n", [[local s = conn(echo) s:send("hello world") return pk(s:receive(5)), pk(s:receive(6))]])
    P("receive.zero", [[local s = conn(echo) return pk(s:receive(0))]])
    P("receive.zero_string", [[local s = conn(echo) return pk(s:receive("0"))]])
    P("receive.numeric_string", [[local s = conn(echo) s:send("abcd") return pk(s:receive("2"))]])
    P("receive.float", [[local s = conn(echo) s:send("abcd") return pk(s:receive(1.5)), pk(s:receive(2.9))]])
    P("receive.negative", [[local s = conn(echo) return pk(s:receive(-1))]])
    P("receive.bad_star", [[local s = conn(echo) return pk(s:receive("*x"))]])
    P("receive.bad_word", [[local s = conn(echo) return pk(s:receive("line"))]])
    P("receive.star_L", [[local s = conn(echo) s:send("ab\ncd\n") return pk(s:receive("*L"))]])
    P("receive.boolean", [[local s = conn(echo) return pk(s:receive(true))]])
    P("receive.table", [[local s = conn(echo) return pk(s:receive({}))]])
    P("receive.nil_is_line", [[local s = conn(echo) s:send("ab\n") return pk(s:receive(nil))]])
    P("receive.extra_arg", [[local s = conn(echo) s:send("abcd") return pk(s:receive(2, 1))]])
    P("receive.line_lf", [[local s = conn(echo) s:send("one\ntwo\n") return pk(s:receive()), pk(s:receive("*l"))]])
    P("receive.line_crlf", [[local s = conn(echo) s:send("one\r\ntwo\r\n") return pk(s:receive()), pk(s:receive("*l"))]])
    P("receive.line_cr_inside", [[local s = conn(echo) s:send("a\rb\r\r\n\r\n") return pk(s:receive()), pk(s:receive())]])
    P("receive.line_empty", [[local s = conn(echo) s:send("\n\r\nx\n") return pk(s:receive()), pk(s:receive()), pk(s:receive())]])
    P("receive.line_10000_bytes", [[local s = conn(echo) s:send(rep("y", 10000) .. "\n") local l, e = s:receive() return pk(#l, e)]])
    P("receive.line_then_n", [[local s = conn(echo) s:send("ab\ncdef") return pk(s:receive()), pk(s:receive(4))]])
    P("receive.10000_bytes", [[local s = conn(echo) s:send(rep("z", 10000)) local d, e = s:receive(10000) return pk(#d, e)]])
    P("receive.all_until_close", [[local s = conn(closer) return pk(s:receive("*a")), pk(s:receive("*a")), pk(s:receive(1))]])
    P("receive.all_empty", [[local s = conn(closer0) return pk(s:receive("*a"))]])
    P("receive.all_then_line", [[local s = conn(closer) s:receive("*a") return pk(s:receive())]])
    P("receive.all_timeout", [[local s = conn(echo) s:settimeout(100) s:send("part") return pk(s:receive("*a"))]])
    P("receive.n_closed_partial", [[local s = conn(closer) return pk(s:receive(100)), pk(s:receive(1))]])
    P("receive.line_closed_partial", [[local s = conn(closer) return pk(s:receive()), pk(s:receive())]])
    P("receive.n_exact_then_closed", [[local s = conn(closer) return pk(s:receive(12)), pk(s:receive(1))]])
    P("receive.n_timeout_partial", [[local s = conn(echo) s:settimeout(100) s:send("abc") return pk(s:receive(10))]])
    P("receive.line_timeout_partial", [[local s = conn(echo) s:settimeout(100) s:send("abc") return pk(s:receive())]])
    P("receive.timeout_silent", [[local s = conn(silent) s:settimeout(100) return pk(s:receive(1)), pk(s:receive()), pk(s:receive("*a"))]])
    P("receive.usable_after_timeout", [[local s = conn(echo) s:settimeout(100) s:send("abc")
        return pk(s:receive(10)), pk(s:send("defg")), pk(s:receive(4))]])
    P("receive.timeout_partial_not_kept", [[local s = conn(echo) s:settimeout(100) s:send("abc")
        local r1 = pk(s:receive(5)) s:send("de") return r1, pk(s:receive(2))]])
    P("receive.slow_n", [[local s = conn(slowlines) return pk(s:receive(10))]])
    P("receive.slow_lines", [[local s = conn(slowlines) local out = {}
        for i = 1, 6 do out[#out + 1] = pk(s:receive()) end return unpack(out)]])
    P("receive.reset", [[local s = conn(reset) s:send("12345") return pk(s:receive(1)), pk(s:receive(1)), pk(s:send("x"))]])
    P("receive.unconnected", [[tcp():receive()]])
    P("receive.closed", [[local s = conn(echo) s:close() return pk(s:receive()), pk(s:receive(1)), pk(s:receive("*a"))]])
    P("receive.after_refused", [[local s = tcp() s:connect(H, refused) return pk(s:receive())]])
    P("receive.dot_call", [[local s = conn(echo) return pk(s.receive(1))]])
    P("receiveany.ok", [[local s = conn(echo) s:send("xyz") return pk(s:receiveany(100))]])
    P("receiveany.limit", [[local s = conn(echo) s:send("abcdef") return pk(s:receiveany(2)), pk(s:receive(4))]])
    P("receiveany.zero", [[local s = conn(echo) return pk(s:receiveany(0))]])
    P("receiveany.negative", [[local s = conn(echo) return pk(s:receiveany(-1))]])
    P("receiveany.missing", [[local s = conn(echo) return pk(s:receiveany())]])
    P("receiveany.string", [[local s = conn(echo) s:settimeout(100) return pk(s:receiveany("10"))]])
    P("receiveany.closed_peer", [[local s = conn(closer) return pk(s:receiveany(100)), pk(s:receiveany(100))]])
    P("receiveany.timeout", [[local s = conn(silent) s:settimeout(100) return pk(s:receiveany(10))]])

    section("receiveuntil")
    P("receiveuntil.type", [[local s = conn(echo) return pk(type(s:receiveuntil("--")))]])
    P("receiveuntil.basic", [[local s = conn(echo) s:settimeout(100) s:send("abc--XYZ--def")
        local r = s:receiveuntil("--") return pk(r()), pk(r()), pk(r())]])
    P("receiveuntil.slow_pieces", [[local s = conn(slow) local r = s:receiveuntil("--") local out = {}
        for i = 1, 7 do out[#out + 1] = pk(r()) end return unpack(out)]])
    P("receiveuntil.slow_inclusive", [[local s = conn(slow) local r = s:receiveuntil("--", {inclusive = true}) local out = {}
        for i = 1, 7 do out[#out + 1] = pk(r()) end return unpack(out)]])
    P("receiveuntil.inclusive", [[local s = conn(echo) s:send("abc--def--") local r = s:receiveuntil("--", {inclusive = true}) return pk(r()), pk(r())]])
    P("receiveuntil.inclusive_false", [[local s = conn(echo) s:send("abc--") local r = s:receiveuntil("--", {inclusive = false}) return pk(r())]])
    P("receiveuntil.inclusive_string", [[local s = conn(echo) return pk(s:receiveuntil("--", {inclusive = "yes"}))]])
    P("receiveuntil.opts_not_table", [[local s = conn(echo) return pk(s:receiveuntil("--", 5))]])
    P("receiveuntil.size", [[local s = conn(echo) s:settimeout(100) s:send("abcdefg--hi--")
        local r = s:receiveuntil("--") local out = {}
        for i = 1, 7 do out[#out + 1] = pk(r(3)) end return unpack(out)]])
    P("receiveuntil.size_inclusive", [[local s = conn(echo) s:send("abcde--x--")
        local r = s:receiveuntil("--", {inclusive = true}) local out = {}
        for i = 1, 5 do out[#out + 1] = pk(r(2)) end return unpack(out)]])
    P("receiveuntil.size_zero", [[local s = conn(echo) s:send("ab--") local r = s:receiveuntil("--") return pk(r(0))]])
    P("receiveuntil.size_negative", [[local s = conn(echo) s:send("ab--") local r = s:receiveuntil("--") return pk(r(-1))]])
    P("receiveuntil.size_string", [[local s = conn(echo) s:send("ab--") local r = s:receiveuntil("--") return pk(r("1"))]])
    P("receiveuntil.size_bad", [[local s = conn(echo) s:send("ab--") local r = s:receiveuntil("--") return pk(r("x"))]])
    P("receiveuntil.not_found_closed", [[local s = conn(closer) local r = s:receiveuntil("XX") return pk(r()), pk(r())]])
    P("receiveuntil.not_found_timeout", [[local s = conn(echo) s:settimeout(100) s:send("abc-") local r = s:receiveuntil("--") return pk(r())]])
    P("receiveuntil.pattern_at_start", [[local s = conn(echo) s:send("--ab--") local r = s:receiveuntil("--") return pk(r()), pk(r())]])
    P("receiveuntil.single_char", [[local s = conn(echo) s:send("a\nb\n") local r = s:receiveuntil("\n") return pk(r()), pk(r())]])
    P("receiveuntil.overlap_aab", [[local s = conn(echo) s:send("aaab|") local r = s:receiveuntil("aab") return pk(r())]])
    P("receiveuntil.overlap_abab", [[local s = conn(echo) s:send("abababx|") local r = s:receiveuntil("ababx") return pk(r())]])
    P("receiveuntil.false_start", [[local s = conn(echo) s:send("a-b--c--") local r = s:receiveuntil("--") return pk(r()), pk(r())]])
    P("receiveuntil.long_pattern", [[local s = conn(echo) local p = rep("=", 100) s:send("x" .. p .. "y" .. p) local r = s:receiveuntil(p) return pk(r()), pk(r())]])
    P("receiveuntil.empty_pattern", [[local s = conn(echo) return pk(s:receiveuntil(""))]])
    P("receiveuntil.nil_pattern", [[local s = conn(echo) return pk(s:receiveuntil(nil))]])
    P("receiveuntil.number_pattern", [[local s = conn(echo) s:send("a5b5") local r = s:receiveuntil(5) return pk(type(r)), pk(r and r())]])
    P("receiveuntil.table_pattern", [[local s = conn(echo) return pk(s:receiveuntil({}))]])
    P("receiveuntil.then_receive", [[local s = conn(echo) s:send("ab--cd\n") local r = s:receiveuntil("--") return pk(r()), pk(s:receive())]])
    P("receiveuntil.two_readers", [[local s = conn(echo) s:send("a--b==c--") local r1 = s:receiveuntil("--") local r2 = s:receiveuntil("==")
        return pk(r1()), pk(r2()), pk(r1())]])
    P("receiveuntil.unconnected", [[local s = tcp() local r = s:receiveuntil("--") return pk(type(r)), pk(r and r())]])
    P("receiveuntil.after_close", [[local s = conn(echo) local r = s:receiveuntil("--") s:close() return pk(r())]])

    section("timeouts")
    P("settimeout.returns", [[local s = tcp() return pk(s:settimeout(100))]])
    P("settimeout.connected", [[local s = conn(echo) return pk(s:settimeout(100))]])
    P("settimeout.zero", [[local s = tcp() return pk(s:settimeout(0))]])
    P("settimeout.negative", [[local s = tcp() return pk(s:settimeout(-1))]])
    P("settimeout.nil", [[local s = tcp() return pk(s:settimeout(nil))]])
    P("settimeout.missing", [[local s = tcp() return pk(s:settimeout())]])
    P("settimeout.string", [[local s = tcp() return pk(s:settimeout("100"))]])
    P("settimeout.bad_string", [[local s = tcp() return pk(s:settimeout("x"))]])
    P("settimeout.float", [[local s = conn(silent) s:settimeout(50.9) return pk(s:receive(1))]])
    P("settimeout.huge", [[local s = tcp() return pk(s:settimeout(2^31))]])
    P("settimeout.three_args", [[local s = tcp() return pk(s:settimeout(100, 200, 300))]])
    P("settimeout.two_args", [[local s = tcp() return pk(s:settimeout(100, 200))]])
    P("settimeout.closed", [[local s = conn(echo) s:close() return pk(s:settimeout(100))]])
    P("settimeout.read", [[local s = conn(silent) s:settimeout(100) return pk(s:receive(1))]])
    P("settimeouts.returns", [[local s = tcp() return pk(s:settimeouts(100, 200, 300))]])
    P("settimeouts.two_args", [[local s = tcp() return pk(s:settimeouts(100, 200))]])
    P("settimeouts.negative", [[local s = tcp() return pk(s:settimeouts(-1, 100, 100))]])
    P("settimeouts.nil", [[local s = tcp() return pk(s:settimeouts(nil, nil, nil))]])
    P("settimeouts.read", [[local s = conn(silent) s:settimeouts(5000, 5000, 100) return pk(s:receive(1))]])
    P("settimeouts.connect", [[local s = tcp() s:settimeouts(100, 5000, 5000) return pk(s:connect(H, blackhole))]])
    P("settimeouts.send", [[local s = conn(stuck) s:settimeouts(5000, 100, 5000) return pk(s:send(rep("x", 64 * 1024 * 1024)))]])
    P("settimeouts.send_then_send", [[local s = conn(stuck) s:settimeouts(5000, 100, 5000) s:send(rep("x", 64 * 1024 * 1024)) return pk(s:send("x"))]])
    P("settimeout.after_settimeouts", [[local s = conn(silent) s:settimeouts(5000, 5000, 5000) s:settimeout(100) return pk(s:receive(1))]])
    P("settimeout.read_timeout_keeps_socket", [[local s = conn(silent) s:settimeout(100) local r1 = pk(s:receive(1))
        return r1, pk(s:receive(1)), pk(s:send("x"))]])

    section("setoption / getoption")
    P("setoption.keepalive", [[local s = conn(echo) return pk(s:setoption("keepalive", 1)), pk(s:getoption("keepalive"))]])
    P("setoption.keepalive_true", [[local s = conn(echo) return pk(s:setoption("keepalive", true))]])
    P("setoption.keepalive_0", [[local s = conn(echo) return pk(s:setoption("keepalive", 0)), pk(s:getoption("keepalive"))]])
    P("setoption.reuseaddr", [[local s = conn(echo) return pk(s:setoption("reuseaddr", 1)), pk(s:getoption("reuseaddr"))]])
    P("setoption.tcp_nodelay", [[local s = conn(echo) return pk(s:setoption("tcp-nodelay", 1)), pk(s:getoption("tcp-nodelay"))]])
    P("setoption.tcp_nodelay_0", [[local s = conn(echo) return pk(s:setoption("tcp-nodelay", 0)), pk(s:getoption("tcp-nodelay"))]])
    P("setoption.sndbuf", [[local s = conn(echo) return pk(s:setoption("sndbuf", 65536)), pk(s:getoption("sndbuf") >= 65536)]])
    P("setoption.rcvbuf", [[local s = conn(echo) return pk(s:setoption("rcvbuf", 65536)), pk(s:getoption("rcvbuf") >= 65536)]])
    P("setoption.sndbuf_string", [[local s = conn(echo) return pk(s:setoption("sndbuf", "8192"))]])
    P("setoption.sndbuf_bad_string", [[local s = conn(echo) return pk(s:setoption("sndbuf", "x"))]])
    P("setoption.unknown", [[local s = conn(echo) return pk(s:setoption("foo", 1))]])
    P("setoption.so_keepalive_name", [[local s = conn(echo) return pk(s:setoption("so_keepalive", 1))]])
    P("setoption.missing_option", [[local s = conn(echo) return pk(s:setoption())]])
    P("setoption.missing_value", [[local s = conn(echo) return pk(s:setoption("keepalive"))]])
    P("setoption.unconnected", [[local s = tcp() return pk(s:setoption("keepalive", 1))]])
    P("setoption.closed", [[local s = conn(echo) s:close() return pk(s:setoption("keepalive", 1))]])
    P("setoption.unix_nodelay", [[local s = conn("unix:" .. uecho) return pk(s:setoption("tcp-nodelay", 1))]])
    P("getoption.unknown", [[local s = conn(echo) return pk(s:getoption("foo"))]])
    P("getoption.missing", [[local s = conn(echo) return pk(s:getoption())]])
    P("getoption.unconnected", [[local s = tcp() return pk(s:getoption("keepalive"))]])
    P("getoption.defaults", [[local s = conn(echo) return pk(s:getoption("keepalive"), s:getoption("reuseaddr"), s:getoption("tcp-nodelay"))]])

    section("getreusedtimes / close")
    P("getreusedtimes.unconnected", [[tcp():getreusedtimes()]])
    P("getreusedtimes.fresh", [[local s = conn(echo) return pk(s:getreusedtimes())]])
    P("getreusedtimes.closed", [[local s = conn(echo) s:close() return pk(s:getreusedtimes())]])
    P("getreusedtimes.after_refused", [[local s = tcp() s:connect(H, refused) return pk(s:getreusedtimes())]])
    P("close.once", [[local s = conn(echo) return pk(s:close())]])
    P("close.twice", [[local s = conn(echo) return pk(s:close()), pk(s:close())]])
    P("close.unconnected", [[tcp():close()]])
    P("close.after_refused", [[local s = tcp() s:connect(H, refused) return pk(s:close())]])
    P("close.unread_data", [[local s = conn(echo) s:send("abcdef") s:receive(1) return pk(s:close())]])
    P("close.peer_sees_fin", [[local s = conn(echo) local c = stat("conns echo") s:close()
        return pk(wait_for(function() return stat("conns echo") <= c - 1 end))]])
    P("close.extra_arg", [[local s = conn(echo) return pk(s:close(1))]])
    P("close.methods_after", [[local s = conn(echo) s:close() local r = s:receiveuntil("x")
        return pk(s:send("x")), pk(s:receive(1)), pk(r()), pk(s:receiveany(1)), pk(s:setkeepalive()), pk(s:getreusedtimes()), pk(s:settimeouts(1, 1, 1))]])

    section("setkeepalive / pools")
    P("keepalive.returns", [[local s = conn(echo, {pool = "ka_ret"}) return pk(s:setkeepalive())]])
    P("keepalive.reuse", [[local a = stat("accepted echo")
        local s1 = conn(echo, {pool = "ka_reuse"}) local r0 = pk(s1:getreusedtimes()) local k1 = pk(s1:setkeepalive())
        local s2 = tcp() local c2 = pk(s2:connect(H, echo, {pool = "ka_reuse"}))
        local r1 = pk(s2:getreusedtimes()) local io = pk(s2:send("q"), s2:receive(1))
        local k2 = pk(s2:setkeepalive())
        local s3 = conn(echo, {pool = "ka_reuse"})
        return r0, k1, c2, r1, io, k2, pk(s3:getreusedtimes()), pk(stat("accepted echo") - a)]])
    P("keepalive.method_results_after", [[local s = conn(echo, {pool = "ka_after"}) s:setkeepalive()
        return pk(s:send("x")), pk(s:receive(1)), pk(s:close()), pk(s:getreusedtimes()), pk(s:setkeepalive())]])
    P("keepalive.same_object_reconnects", [[local s = conn(echo, {pool = "ka_same"}) s:setkeepalive()
        return pk(s:connect(H, echo, {pool = "ka_same"})), pk(s:getreusedtimes())]])
    P("keepalive.default_pool_name", [[local s = conn(echo2) s:setkeepalive() local s2 = conn(echo2)
        local r = pk(s2:getreusedtimes()) s2:setkeepalive()
        local s3 = conn(echo2, {pool = H .. ":" .. echo2}) return r, pk(s3:getreusedtimes())]])
    P("keepalive.pools_distinct", [[local s = conn(echo, {pool = "ka_a"}) s:setkeepalive()
        local s2 = conn(echo, {pool = "ka_b"}) return pk(s2:getreusedtimes())]])
    P("keepalive.pool_name_not_address", [[local s = conn(echo, {pool = "ka_shared"}) s:setkeepalive()
        local s2 = conn(echo2, {pool = "ka_shared"}) return pk(s2:getreusedtimes()), pk(s2:send("w")), pk(s2:receive(1))]])
    P("keepalive.unix", [[local s = conn("unix:" .. uecho) s:setkeepalive() local s2 = conn("unix:" .. uecho)
        return pk(s2:getreusedtimes()), pk(s2:send("u")), pk(s2:receive(1))]])
    P("keepalive.unread_data", [[local s = conn(echo, {pool = "ka_unread"}) s:send("abcdef") s:receive(3)
        return pk(s:setkeepalive()), pk(s:send("x")), pk(s:receive(4))]])
    P("keepalive.after_timeout", [[local s = conn(silent, {pool = "ka_to"}) s:settimeout(50) s:receive(1) return pk(s:setkeepalive())]])
    P("keepalive.after_peer_closed", [[local s = conn(closer, {pool = "ka_pc"}) s:receive("*a") return pk(s:setkeepalive())]])
    P("keepalive.closed", [[local s = conn(echo) s:close() return pk(s:setkeepalive())]])
    P("keepalive.unconnected", [[tcp():setkeepalive()]])
    P("keepalive.twice", [[local s = conn(echo, {pool = "ka_twice"}) return pk(s:setkeepalive()), pk(s:setkeepalive())]])
    P("keepalive.args_ok", [[local s = conn(echo, {pool = "ka_args"}) return pk(s:setkeepalive(1000, 5))]])
    P("keepalive.timeout_0", [[local s = conn(echo, {pool = "ka_t0"}) return pk(s:setkeepalive(0))]])
    P("keepalive.timeout_negative", [[local s = conn(echo, {pool = "ka_tn"}) return pk(s:setkeepalive(-1))]])
    P("keepalive.timeout_string", [[local s = conn(echo, {pool = "ka_ts"}) return pk(s:setkeepalive("x"))]])
    P("keepalive.timeout_nil_size", [[local s = conn(echo, {pool = "ka_tns"}) return pk(s:setkeepalive(nil, 5))]])
    P("keepalive.size_0", [[local s = conn(echo, {pool = "ka_s0"}) return pk(s:setkeepalive(1000, 0))]])
    P("keepalive.size_negative", [[local s = conn(echo, {pool = "ka_sn"}) return pk(s:setkeepalive(1000, -1))]])
    P("keepalive.too_many_args", [[local s = conn(echo, {pool = "ka_many"}) return pk(s:setkeepalive(1000, 5, 1))]])
    P("keepalive.idle_timeout_closes", [[local s = conn(echo2, {pool = "ka_idle"}) local c = stat("conns echo2")
        local k = pk(s:setkeepalive(50))
        local gone = pk(wait_for(function() return stat("conns echo2") <= c - 1 end))
        local s2 = conn(echo2, {pool = "ka_idle"}) return k, gone, pk(s2:getreusedtimes())]])
    P("keepalive.pool_size_1", [[local a = stat("accepted echo2")
        local s1, s2 = conn(echo2, {pool = "ka_ps"}), conn(echo2, {pool = "ka_ps"})
        local k = pk(s1:setkeepalive(0, 1), s2:setkeepalive(0, 1))
        local t1, t2 = conn(echo2, {pool = "ka_ps"}), conn(echo2, {pool = "ka_ps"})
        return k, pk(t1:getreusedtimes(), t2:getreusedtimes()), pk(stat("accepted echo2") - a)]])
    P("keepalive.pool_size_option", [[local s1 = conn(echo2, {pool = "ka_pso", pool_size = 1})
        local s2 = conn(echo2, {pool = "ka_pso", pool_size = 1})
        return pk(s1:setkeepalive()), pk(s2:setkeepalive()), pk(conn(echo2, {pool = "ka_pso"}):getreusedtimes())]])
    P("keepalive.reused_counts_up", [[local out = {}
        for i = 1, 4 do local s = conn(echo, {pool = "ka_up"}) out[#out + 1] = s:getreusedtimes() s:setkeepalive() end
        return pk(out)]])
    P("keepalive.lp_framing", [[local s = conn(lp, {pool = "ka_lp"})
        local frame = string.char(0, 0, 0, 9) .. "hello"
        local r1 = pk(s:send(frame), s:receive(9)) s:setkeepalive()
        local s2 = conn(lp, {pool = "ka_lp"}) return r1, pk(s2:getreusedtimes(), s2:send(frame), s2:receive(9))]])

    section("resolver (resolver points at the DNS fixture)")
    P("resolver.ok", [[local s = tcp() return pk(s:connect("name.test", echo)), pk(s:send("n")), pk(s:receive(1))]])
    P("resolver.queries", [[tcp():connect("name.test", echo) return pk(stat("dns name.test A") > 0, stat("dns name.test AAAA") > 0)]])
    P("resolver.cached", [[tcp():connect("name.test", echo) local n = stat("dns name.test")
        tcp():connect("name.test", echo) tcp():connect("name.test", echo) return pk(stat("dns name.test") - n)]])
    P("resolver.uppercase", [[tcp():connect("NAME.TEST", echo)]])
    P("resolver.trailing_dot", [[tcp():connect("name.test.", echo)]])
    P("resolver.pool_name_is_host", [[local s1 = tcp() s1:connect("name.test", echo2) s1:setkeepalive()
        local s2 = conn(echo2) local r_ip = s2:getreusedtimes()
        local s3 = tcp() s3:connect("name.test", echo2) return pk(r_ip, s3:getreusedtimes())]])
    P("resolver.nxdomain", [[tcp():connect("nx.test", echo)]])
    P("resolver.nxdomain_cached", [[tcp():connect("nx2.test", echo) local n = stat("dns nx2.test")
        return pk(tcp():connect("nx2.test", echo)), pk(stat("dns nx2.test") - n)]])
    P("resolver.servfail", [[tcp():connect("servfail.test", echo)]])
    P("resolver.timeout", [[tcp():connect("drop.test", echo)]])
    P("resolver.timeout_socket_usable", [[local s = tcp() s:connect("drop.test", echo) return pk(s:connect(H, echo))]])
    P("resolver.localhost", [[tcp():connect("localhost", echo)]])
    P("resolver.empty_host", [[tcp():connect("", echo)]])
    P("resolver.no_address", [[tcp():connect("empty.test", echo)]])
    P("resolver.shortcut", [[local s, err = ngx.socket.connect("name.test", echo) track(s) return pk(type(s), err)]])
    emit("# end")
end

return M
