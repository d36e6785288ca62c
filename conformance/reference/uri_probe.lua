-- Probes of ngx.escape_uri / ngx.unescape_uri in OpenResty's ngx_lua (Debian 12 packages:
-- lua-resty-core's FFI versions in resty/core/uri.lua), run by uri_probe.sh; tcplua's
-- conformance case (conformance/test_string.py) runs the same file and compares.
-- Each probe prints one line:
--
--   NAME => N|v1|v2|...      N = select('#', ...) of the call's results, then each result
--   NAME => ERR: message     the call raised (caught with pcall)
--
-- Results are shown as: strings in double quotes (bytes outside 0x20-0x7e, '"' and '\' as
-- escapes: \0 \n \" \\ \xHH; no truncation); numbers, nil and booleans with tostring; other
-- values as their type. Addresses (0x...) are replaced by 0xADDR.
--
-- Each probe is a Lua chunk compiled with the chunk name "=probe"; a chunk without "return"
-- is the single expression whose results are packed. The chunk is called by pcall, so an
-- error raised two levels above escape_uri (error(msg, 3), what resty.core does) carries no
-- position when the chunk calls it directly, and "probe:1:" when the call sits in a function
-- that the chunk calls (the "nested" probes).

local M = {}

local sfmt, concat = string.format, table.concat

local function esc(s)
    return (s:gsub('[%z\1-\31"\\\127-\255]', function(c)
        if c == '"' then return '\\"' end
        if c == '\\' then return '\\\\' end
        if c == '\n' then return '\\n' end
        if c == '\0' then return '\\0' end
        return sfmt('\\x%02x', c:byte())
    end))
end

local function fmt(v)
    local t = type(v)
    if t == "string" then
        return '"' .. esc((v:gsub("0x%x+", "0xADDR"))) .. '"'
    elseif t == "number" or t == "nil" or t == "boolean" then
        return tostring(v)
    end
    return t
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

-- all 256 bytes in order
local function all_bytes()
    local t = {}
    for b = 0, 255 do t[#t + 1] = string.char(b) end
    return concat(t)
end

-- "%XX" for every byte, hex digits upper ("%02X") or lower ("%02x")
local function all_quoted(f)
    local t = {}
    for b = 0, 255 do t[#t + 1] = sfmt(f, b) end
    return concat(t)
end

-- the bytes that escape_uri(char, ...) leaves as they are, as ranges of hex ("2d-2e 30-39")
local function kept(...)
    local out, lo = {}, nil
    for b = 0, 256 do
        local keep = b < 256 and ngx.escape_uri(string.char(b), ...) == string.char(b)
        if keep and not lo then lo = b end
        if not keep and lo then
            out[#out + 1] = lo == b - 1 and sfmt("%02x", lo) or sfmt("%02x-%02x", lo, b - 1)
            lo = nil
        end
    end
    return concat(out, " ")
end

local function make_P(emit)
    local E = setmetatable({ pk = pk, all_bytes = all_bytes, all_quoted = all_quoted,
                             kept = kept }, { __index = _G })
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
        if not res[1] then
            local r = res[2]
            emit(name .. " => ERR: " .. (type(r) == "string" and
                 (r:gsub("0x%x+", "0xADDR"):gsub("\n", "\\n")) or fmt(r)))
            return
        end
        local packs = {}
        for i = 2, res.n do
            packs[#packs + 1] = fmtpack(res[i])
        end
        emit(name .. " => " .. concat(packs, " ; "))
    end
end

function M.run(emit)
    local P = make_P(emit)
    local function H(title) emit("# " .. title) end

    H("presence")
    P("type", [[type(ngx.escape_uri), type(ngx.unescape_uri)]])

    H("escape_uri: which bytes stay as they are (hex ranges), then all 256 bytes escaped")
    P("escape.kept", [[kept()]])
    P("escape.all_bytes", [[ngx.escape_uri(all_bytes())]])
    P("escape.all_bytes_len", [[#ngx.escape_uri(all_bytes())]])
    P("escape.empty", [[ngx.escape_uri("")]])
    P("escape.plain", [[ngx.escape_uri("abcXYZ019-._~")]])
    P("escape.spaces", [[ngx.escape_uri("a b  c ")]])
    P("escape.reserved", [[ngx.escape_uri("!*'();:@&=+$,/?#[]")]])
    P("escape.percent", [[ngx.escape_uri("100%")]])
    P("escape.already_escaped", [[ngx.escape_uri("a%20b")]])
    P("escape.unicode", [[ngx.escape_uri("caf\195\169 \230\151\165\230\156\172 \240\159\152\128")]])
    P("escape.nul_and_controls", [[ngx.escape_uri("a\0b\r\n\t\127")]])
    P("escape.long", [[#ngx.escape_uri(string.rep("\255", 100000)), ngx.escape_uri(string.rep("\255", 100000)):sub(1, 9)]])
    P("escape.returns_one_value", [[select('#', ngx.escape_uri("a b"))]])
    P("escape.extra_args_ignored", [[ngx.escape_uri("a b", nil, "x", {})]])
    P("escape.memcached_key", [[ngx.escape_uri("user:42 name/é")]])

    H("escape_uri: arguments of other types")
    P("escape.arg.none", [[ngx.escape_uri()]])
    P("escape.arg.nil", [[ngx.escape_uri(nil)]])
    P("escape.arg.false", [[ngx.escape_uri(false)]])
    P("escape.arg.true", [[ngx.escape_uri(true)]])
    P("escape.arg.int", [[ngx.escape_uri(12)]])
    P("escape.arg.negative", [[ngx.escape_uri(-3)]])
    P("escape.arg.float", [[ngx.escape_uri(0.5)]])
    P("escape.arg.big", [[ngx.escape_uri(1e100)]])
    P("escape.arg.huge", [[ngx.escape_uri(math.huge), ngx.escape_uri(-math.huge)]])
    P("escape.arg.table", [[ngx.escape_uri({})]])
    P("escape.arg.function", [[ngx.escape_uri(print)]])
    P("escape.arg.table_tostring", [[return pk(ngx.escape_uri(setmetatable({}, {__tostring = function() return "a b" end})))]])
    P("escape.arg.tostring_not_global", [[local t = tostring tostring = function() return "x" end local r = pk(ngx.escape_uri({})) tostring = t return r]])

    H("escape_uri: the type argument (0 uri, 1 args, 2 uri component, 3 html, 4 refresh, 5 memcached, 6 mail auth)")
    for t = 0, 6 do
        P("escape.type" .. t .. ".kept", "kept(" .. t .. ")")
        P("escape.type" .. t .. ".all_bytes", "ngx.escape_uri(all_bytes(), " .. t .. ")")
    end
    P("escape.type.nil_is_2", [[ngx.escape_uri("a b/?", nil) == ngx.escape_uri("a b/?", 2)]])
    P("escape.type.float_in_range", [[ngx.escape_uri("a b/?", 0.5), ngx.escape_uri("a b/?", 2.9), ngx.escape_uri("a b/?", 5.99)]])
    P("escape.type.negative_zero", [[ngx.escape_uri("a b/?", -0)]])
    P("escape.type.7", [[ngx.escape_uri("a", 7)]])
    P("escape.type.-1", [[ngx.escape_uri("a", -1)]])
    P("escape.type.-0.5", [[ngx.escape_uri("a", -0.5)]])
    P("escape.type.6.5", [[ngx.escape_uri("a", 6.5)]])
    P("escape.type.100", [[ngx.escape_uri("a", 100)]])
    P("escape.type.2^40", [[ngx.escape_uri("a", 2^40)]])
    P("escape.type.huge", [[ngx.escape_uri("a", math.huge)]])
    P("escape.type.-huge", [[ngx.escape_uri("a", -math.huge)]])
    P("escape.type.string", [[ngx.escape_uri("a", "2")]])
    P("escape.type.string_word", [[ngx.escape_uri("a", "uri")]])
    P("escape.type.false", [[ngx.escape_uri("a", false)]])
    P("escape.type.true", [[ngx.escape_uri("a", true)]])
    P("escape.type.table", [[ngx.escape_uri("a", {})]])
    P("escape.type.checked_after_coercion", [[ngx.escape_uri({}, "x")]])
    P("escape.type.string.nested", [[(function() local r = ngx.escape_uri("a", "2") return r end)()]])
    P("escape.type.7.nested", [[(function() local r = ngx.escape_uri("a", 7) return r end)()]])
    P("escape.type.string.pcall", [[pcall(ngx.escape_uri, "a", "2")]])

    H("unescape_uri")
    P("unescape.all_upper", [[ngx.unescape_uri(all_quoted("%%%02X")) == all_bytes()]])
    P("unescape.all_lower", [[ngx.unescape_uri(all_quoted("%%%02x")) == all_bytes()]])
    P("unescape.all_raw_bytes", [[ngx.unescape_uri(all_bytes())]])
    P("unescape.roundtrip", [[ngx.unescape_uri(ngx.escape_uri(all_bytes())) == all_bytes()]])
    P("unescape.roundtrip_types", [[ngx.unescape_uri(ngx.escape_uri(all_bytes(), 0)) == all_bytes(), ngx.unescape_uri(ngx.escape_uri(all_bytes(), 1)) == all_bytes()]])
    P("unescape.empty", [[ngx.unescape_uri("")]])
    P("unescape.simple", [[ngx.unescape_uri("a%20b%2Fc%2fd")]])
    P("unescape.mixed_case", [[ngx.unescape_uri("%aB%Ab%c3%A9")]])
    P("unescape.plus", [[ngx.unescape_uri("a+b++c")]])
    P("unescape.plus_escaped", [[ngx.unescape_uri("a%2Bb")]])
    P("unescape.percent_alone", [[ngx.unescape_uri("%")]])
    P("unescape.percent_end", [[ngx.unescape_uri("ab%")]])
    P("unescape.truncated", [[ngx.unescape_uri("%4")]])
    P("unescape.truncated_end", [[ngx.unescape_uri("ab%4")]])
    P("unescape.double_percent", [[ngx.unescape_uri("%%")]])
    P("unescape.double_percent_hex", [[ngx.unescape_uri("%%41")]])
    P("unescape.percent_percent_25", [[ngx.unescape_uri("%%2541")]])
    P("unescape.escaped_percent", [[ngx.unescape_uri("%2541")]])
    P("unescape.invalid_first", [[ngx.unescape_uri("%zz%G1%g1")]])
    P("unescape.invalid_second", [[ngx.unescape_uri("%4z%4G%4 x")]])
    P("unescape.invalid_then_valid", [[ngx.unescape_uri("%x%41")]])
    P("unescape.invalid_plus", [[ngx.unescape_uri("%+41%4+")]])
    P("unescape.percent_u", [[ngx.unescape_uri("%u0041")]])
    P("unescape.nul", [[ngx.unescape_uri("a%00b")]])
    P("unescape.question_mark", [[ngx.unescape_uri("a?b=%20c%3Fd")]])
    P("unescape.high_bytes", [[ngx.unescape_uri("%ff%FE%80\200")]])
    P("unescape.invalid_hex_high", [[ngx.unescape_uri("%\200\200%4\255")]])
    P("unescape.returns_one_value", [[select('#', ngx.unescape_uri("a"))]])
    P("unescape.extra_args_ignored", [[ngx.unescape_uri("a%20b", 1, "x")]])
    P("unescape.long", [[#ngx.unescape_uri(string.rep("%41", 100000))]])

    H("unescape_uri: arguments of other types")
    P("unescape.arg.none", [[ngx.unescape_uri()]])
    P("unescape.arg.nil", [[ngx.unescape_uri(nil)]])
    P("unescape.arg.false", [[ngx.unescape_uri(false)]])
    P("unescape.arg.true", [[ngx.unescape_uri(true)]])
    P("unescape.arg.int", [[ngx.unescape_uri(12)]])
    P("unescape.arg.float", [[ngx.unescape_uri(0.5)]])
    P("unescape.arg.big", [[ngx.unescape_uri(1e100)]])
    P("unescape.arg.table", [[ngx.unescape_uri({})]])
    P("unescape.arg.function", [[ngx.unescape_uri(print)]])
    P("unescape.arg.table_tostring", [[return pk(ngx.unescape_uri(setmetatable({}, {__tostring = function() return "a+b%41" end})))]])
    emit("# end")
end

return M
