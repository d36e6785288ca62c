-- Probes of ngx.shared.DICT in OpenResty's ngx_lua (Debian 12 packages), run by
-- shdict_probe.sh. Each probe prints one line:
--
--   NAME => N|v1|v2|...      N = select('#', ...) of the call's results, then each result
--   NAME => ERR: message     the call raised (caught with pcall)
--
-- Results are shown as: strings in double quotes (bytes outside 0x20-0x7e, '"' and '\' as
-- escapes: \0 \n \" \\ \xHH), strings longer than 200 bytes as "<first 20>..."(len=N);
-- numbers with tostring (when tostring loses precision, the exact %.17g follows in (=...));
-- nil/booleans with tostring; tables as {#N: elements} (array part, at most 30 shown;
-- "+Nhash" counts other keys);
-- other values as their type. Addresses (0x...) are replaced by 0xADDR.
-- A name ending in "~" marks a result that depends on timing (how long a sleep really took):
-- compare its shape, not its digits.
--
-- A probe that makes several calls prints one such pack per call, separated by " ; ".
--
-- Each probe is a Lua chunk compiled with the chunk name "=probe": an error raised at the
-- caller's level therefore reads "probe:1: ...". A chunk without "return" is the single
-- expression whose results are packed.

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
local function make_env(emit)
    local E = setmetatable({}, { __index = _G })
    E.d = ngx.shared.d
    E.tiny = ngx.shared.tiny
    E.pk = pk
    E.rep = srep
    E.sorted_keys = sorted_keys
    E.concat = concat
    -- empty a dict for real: flush_all marks everything expired, flush_expired frees it
    E.reset = function(dict)
        dict = dict or E.d
        dict:flush_all()
        dict:flush_expired()
    end
    -- number of live keys
    E.nkeys = function(dict) return #(dict or E.d):get_keys(0) end
    E.now_ms = function() return math.floor(ngx.now() * 1000 + 0.5) end
    return E
end

local function make_P(emit, E)
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
        local ok, r = res[1], res[2]
        if not ok then
            emit(name .. " => ERR: " .. (type(r) == "string" and
                 (r:gsub("0x%x+", "0xADDR"):gsub("\n", "\\n")) or fmt(r)))
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
        emit(name .. " => " .. concat(packs, " ; "))
    end
end

-- probes run in init_by_lua (no ngx.sleep there); their lines go to the error log
function M.init(emit)
    local E = make_env(emit)
    local P = make_P(emit, E)
    P("init.shared_type", [[type(ngx.shared), type(ngx.shared.d), ngx.shared.nonexistent]])
    P("init.capacity", [[d:capacity()]])
    P("init.free_space", [[d:free_space()]])
    P("init.set", [[d:set("init_key", "from init", 0, 5)]])
    P("init.get", [[d:get("init_key")]])
    P("init.add_exists", [[d:add("init_key", 1)]])
    P("init.set_ttl", [[d:set("init_ttl", 1, 1000)]])
    P("init.ttl", [[d:ttl("init_ttl")]])
    P("init.incr_init", [[d:incr("init_n", 1, 10)]])
    P("init.incr", [[d:incr("init_n", 1)]])
    P("init.lpush", [[d:lpush("init_list", "a")]])
    P("init.rpush", [[d:rpush("init_list", 2)]])
    P("init.llen", [[d:llen("init_list")]])
    P("init.get_keys", [[d:get_keys()]])
    P("init.safe_set", [[d:safe_set("init_tmp", true)]])
    P("init.delete", [[d:delete("init_tmp")]])
    P("init.flush_expired", [[d:flush_expired()]])
    P("init.expire", [[d:expire("init_ttl", 0)]])
end

function M.init_worker(emit)
    local E = make_env(emit)
    local P = make_P(emit, E)
    P("init_worker.get", [[d:get("init_key")]])
    P("init_worker.incr", [[d:incr("init_worker_n", 1, 0)]])
end

function M.run(emit)
    local E = make_env(emit)
    local P = make_P(emit, E)
    local function H(title) emit("# " .. title) end
    local sleep = ngx.sleep

    H("what init_by_lua / init_worker_by_lua left (see the init.* lines of the error log)")
    P("from_init.get", [[d:get("init_key")]])
    P("from_init.ttl_after_expire0", [[d:ttl("init_ttl")]])
    P("from_init.incr_value", [[d:get("init_n")]])
    P("from_init.list", [[return pk(d:llen("init_list")), pk(d:lpop("init_list")), pk(d:rpop("init_list"))]])
    P("from_init_worker.get", [[d:get("init_worker_n")]])

    H("the ngx.shared table and dict objects")
    P("shared.type", [[type(ngx.shared)]])
    P("shared.names", [[sorted_keys(ngx.shared)]])
    P("shared.nonexistent", [[ngx.shared.nonexistent]])
    P("shared.nonexistent_type", [[type(ngx.shared.nonexistent)]])
    P("shared.index_by_string", [[ngx.shared["d"] == ngx.shared.d]])
    P("shared.same_object", [[ngx.shared.d == ngx.shared.d]])
    P("dict.type", [[type(d), type(d[1]), tostring(d)]])
    P("dict.rawget_get", [[rawget(d, "get")]])
    P("dict.methods", [[sorted_keys(getmetatable(d).__index)]])
    P("dict.mt_shared_between_dicts", [[getmetatable(d) == getmetatable(tiny)]])
    P("dict.unknown_method", [[d.no_such_method]])
    P("dict.method_types", [[type(d.get), type(d.lpush), type(d.get_keys)]])

    H("capacity / free_space")
    P("capacity.d", [[d:capacity()]])
    P("capacity.tiny", [[tiny:capacity()]])
    P("capacity.extra_arg_ignored", [[d:capacity(123)]])
    P("free_space.d_empty", [[reset() return pk(d:free_space())]])
    P("free_space.tiny_empty", [[reset(tiny) return pk(tiny:free_space())]])
    P("free_space.d_after_one_small_set", [[reset() d:set("a", 1) return pk(d:free_space())]])
    P("free_space.d_after_1000_small_sets", [[reset() for i = 1, 1000 do d:set("k" .. i, i) end return pk(d:free_space())]])
    P("free_space.d_after_one_8000_byte_value", [[reset() d:set("big", rep("x", 8000)) return pk(d:free_space())]])
    P("free_space.d_after_reset", [[reset() return pk(d:free_space())]])

    H("set / get basics")
    P("set.new", [[reset() return pk(d:set("s", "hello"))]])
    P("get.string", [[d:get("s")]])
    P("get.string_type", [[type(d:get("s"))]])
    P("set.overwrite", [[d:set("s", "world!")]])
    P("get.after_overwrite", [[d:get("s")]])
    P("get.missing", [[d:get("nope")]])
    P("get_stale.missing", [[d:get_stale("nope")]])
    P("get_stale.live", [[d:get_stale("s")]])
    P("set.with_flags", [[d:set("sf", "v", 0, 7)]])
    P("get.with_flags", [[d:get("sf")]])
    P("get_stale.live_with_flags", [[d:get_stale("sf")]])
    P("set.flags0_after_flags", [[d:set("sf", "v", 0, 0) return pk(d:get("sf"))]])
    P("set.extra_args_ignored", [[d:set("sx", "v", 0, 0, "extra", 1)]])
    P("get.extra_args_ignored", [[d:get("sx", "extra")]])
    P("get.no_key_arg", [[d:get()]])

    H("value types")
    P("value.true", [[d:set("vt", true) return pk(d:get("vt"))]])
    P("value.false", [[d:set("vf", false) return pk(d:get("vf"))]])
    P("value.false_flags", [[d:set("vf2", false, 0, 3) return pk(d:get("vf2"))]])
    P("value.false_type", [[type(d:get("vf"))]])
    P("value.int", [[d:set("vi", 42) return pk(d:get("vi"))]])
    P("value.int_type", [[type(d:get("vi"))]])
    P("value.float", [[d:set("vfl", 3.14) return pk(d:get("vfl"))]])
    P("value.negative", [[d:set("vn", -7.5) return pk(d:get("vn"))]])
    P("value.zero", [[d:set("vz", 0) return pk(d:get("vz"))]])
    P("value.negative_zero", [[d:set("vnz", -0.0) local v = d:get("vnz") return pk(v, 1 / v)]])
    P("value.inf", [[d:set("vinf", math.huge) return pk(d:get("vinf"))]])
    P("value.minus_inf", [[d:set("vminf", -math.huge) return pk(d:get("vminf"))]])
    P("value.nan", [[local ok = d:set("vnan", 0 / 0) local v = d:get("vnan") return pk(ok, v ~= v, type(v))]])
    P("value.2^53+1", [[d:set("vbig", 2^53 + 1) return pk(d:get("vbig"))]])
    P("value.1e300", [[d:set("vhuge", 1e300) return pk(d:get("vhuge"))]])
    P("value.numeric_string_stays_string", [[d:set("vns", "42") local v = d:get("vns") return pk(v, type(v))]])
    P("value.empty_string", [[d:set("ves", "") return pk(d:get("ves"))]])
    P("value.binary_with_nul", [[d:set("vbin", "a\0b\255\n") local v = d:get("vbin") return pk(v, #v)]])
    P("value.100000_bytes", [[local s = rep("ab", 50000) d:set("vlong", s) local v = d:get("vlong") return pk(#v, v == s)]])
    P("value.table", [[d:set("vtab", {})]])
    P("value.function", [[d:set("vfun", print)]])
    P("value.ngx_null_lightuserdata", [[d:set("vnull", ngx.null)]])
    P("value.coroutine", [[d:set("vco", coroutine.create(function () end))]])
    P("value.cdata", [[d:set("vcd", require("ffi").new("int[1]"))]])
    P("value.table_add", [[d:add("vtab2", {})]])
    P("value.table_replace_existing", [[d:replace("vi", {})]])
    P("value.table_safe_set", [[d:safe_set("vtab3", {})]])
    P("value.table_existing_unchanged", [[d:set("vi", {}) return pk(d:get("vi"))]])
    P("value.type_change_string_to_number", [[d:set("vchg", "abc") d:set("vchg", 5) return pk(d:get("vchg"))]])
    P("value.type_change_number_to_bool", [[d:set("vchg", true) return pk(d:get("vchg"))]])

    H("nil value (delete)")
    P("set.nil_existing", [[d:set("dn", 1) return pk(d:set("dn", nil))]])
    P("set.nil_existing_then_get", [[d:get("dn")]])
    P("set.nil_missing", [[d:set("dn_missing", nil)]])
    P("set.nil_with_flags_and_exptime", [[d:set("dn2", 1) return pk(d:set("dn2", nil, 10, 5)), pk(d:get("dn2"))]])
    P("safe_set.nil_existing", [[d:set("dn3", 1) return pk(d:safe_set("dn3", nil))]])
    P("safe_set.nil_existing_then_get", [[d:get("dn3")]])
    P("add.nil_missing", [[d:add("dn4", nil)]])
    P("add.nil_existing", [[d:set("dn5", 1) return pk(d:add("dn5", nil))]])
    P("safe_add.nil_missing", [[d:safe_add("dn6", nil)]])
    P("replace.nil_existing", [[d:set("dn7", 1) return pk(d:replace("dn7", nil))]])
    P("replace.nil_existing_then_get", [[d:get("dn7")]])
    P("replace.nil_missing", [[d:replace("dn8", nil)]])
    P("delete.existing", [[d:set("del", 1) return pk(d:delete("del"))]])
    P("delete.existing_then_get", [[d:get("del")]])
    P("delete.missing", [[d:delete("del_missing")]])
    P("delete.extra_args_ignored", [[d:set("del2", 1) return pk(d:delete("del2", "x", 5)), pk(d:get("del2"))]])
    P("delete.list", [[d:lpush("dellist", 1) return pk(d:delete("dellist")), pk(d:llen("dellist"))]])

    H("add / safe_add / replace / safe_set")
    P("add.new", [[reset() return pk(d:add("a", 1))]])
    P("add.existing", [[d:add("a", 2)]])
    P("add.existing_value_unchanged", [[d:get("a")]])
    P("safe_add.new", [[d:safe_add("sa", 1)]])
    P("safe_add.existing", [[d:safe_add("sa", 2)]])
    P("replace.missing", [[d:replace("r_missing", 1)]])
    P("replace.existing", [[d:set("r", 1, 0, 4) return pk(d:replace("r", "two"))]])
    P("replace.existing_flags_reset", [[d:get("r")]])
    P("replace.existing_with_flags", [[d:replace("r", "three", 0, 9) return pk(d:get("r"))]])
    P("safe_set.new", [[d:safe_set("ss", 1)]])
    P("safe_set.existing", [[d:safe_set("ss", 2) return pk(d:get("ss"))]])
    P("replace.clears_exptime", [[d:set("rx", 1, 100) d:replace("rx", 2) return pk(d:ttl("rx"))]])
    P("set.clears_exptime", [[d:set("sx2", 1, 100) d:set("sx2", 1) return pk(d:ttl("sx2"))]])
    P("set.same_size_keeps_nothing_old", [[d:set("ssz", "aaaa", 100, 3) d:set("ssz", "bbbb") return pk(d:get("ssz")), pk(d:ttl("ssz"))]])

    H("keys")
    P("key.nil.set", [[d:set(nil, 1)]])
    P("key.nil.safe_set", [[d:safe_set(nil, 1)]])
    P("key.nil.add", [[d:add(nil, 1)]])
    P("key.nil.safe_add", [[d:safe_add(nil, 1)]])
    P("key.nil.replace", [[d:replace(nil, 1)]])
    P("key.nil.delete", [[d:delete(nil)]])
    P("key.nil.get", [[d:get(nil)]])
    P("key.nil.get_stale", [[d:get_stale(nil)]])
    P("key.nil.incr", [[d:incr(nil, 1)]])
    P("key.nil.incr_init", [[d:incr(nil, 1, 0)]])
    P("key.nil.ttl", [[d:ttl(nil)]])
    P("key.nil.expire", [[d:expire(nil, 1)]])
    P("key.nil.lpush", [[d:lpush(nil, 1)]])
    P("key.nil.rpush", [[d:rpush(nil, 1)]])
    P("key.nil.lpop", [[d:lpop(nil)]])
    P("key.nil.rpop", [[d:rpop(nil)]])
    P("key.nil.llen", [[d:llen(nil)]])
    P("key.nil.set_bad_exptime", [[d:set(nil, 1, -1)]])
    P("key.empty.set", [[d:set("", 1)]])
    P("key.empty.safe_set", [[d:safe_set("", 1)]])
    P("key.empty.add", [[d:add("", 1)]])
    P("key.empty.replace", [[d:replace("", 1)]])
    P("key.empty.delete", [[d:delete("")]])
    P("key.empty.get", [[d:get("")]])
    P("key.empty.get_stale", [[d:get_stale("")]])
    P("key.empty.incr", [[d:incr("", 1)]])
    P("key.empty.ttl", [[d:ttl("")]])
    P("key.empty.expire", [[d:expire("", 1)]])
    P("key.empty.lpush", [[d:lpush("", 1)]])
    P("key.empty.lpop", [[d:lpop("")]])
    P("key.empty.llen", [[d:llen("")]])
    P("key.number.set", [[d:set(1, "one")]])
    P("key.number.get_as_string", [[d:get("1")]])
    P("key.number.get_as_number", [[d:get(1)]])
    P("key.number.float_key", [[d:set(1.5, "x") return pk(d:get("1.5"))]])
    P("key.number.float_integral", [[d:set(2.0, "two") return pk(d:get("2"))]])
    P("key.number.big", [[d:set(1e20, "e20") return pk(d:get("1e+20"))]])
    P("key.number.negative_zero", [[d:set(-0.0, "nz") return pk(d:get("-0")), pk(d:get("0"))]])
    P("key.number.incr", [[d:incr(7, 1, 0) return pk(d:get("7"))]])
    P("key.number.lpush", [[d:lpush(8, "x") return pk(d:llen("8"))]])
    P("key.number.ttl", [[d:ttl(1)]])
    P("key.boolean.set", [[d:set(true, "T")]])
    P("key.boolean.get_as_string", [[d:get("true")]])
    P("key.boolean.get", [[d:get(true)]])
    P("key.boolean.false_set", [[d:set(false, "F") return pk(d:get("false"))]])
    P("key.boolean.incr", [[d:delete(true) return pk(d:incr(true, 1, 0)), pk(d:get("true"))]])
    P("key.boolean.ttl", [[d:ttl(true)]])
    P("key.boolean.lpush", [[d:lpush(true, 1)]])
    P("key.boolean.lpop", [[d:lpop(true)]])
    P("key.boolean.llen", [[d:llen(true)]])
    P("key.table.set", [[d:set({}, 1)]])
    P("key.table.stored_as_tostring", [[reset() d:set({}, 1) return pk(d:get_keys())]])
    P("key.table.lpush", [[d:lpush({}, 1)]])
    P("key.with_nul", [[d:set("a\0b", 1) return pk(d:get("a\0b")), pk(d:get("a"))]])
    P("key.binary", [[d:set("\255\254", 2) return pk(d:get("\255\254"))]])
    P("key.case_sensitive", [[d:set("K", 1) return pk(d:get("k")), pk(d:get("K"))]])
    P("key.65535.set", [[reset() return pk(d:set(rep("k", 65535), "v"))]])
    P("key.65535.get", [[d:get(rep("k", 65535))]])
    P("key.65535.get_keys_len", [[#d:get_keys()[1] ]])
    P("key.65535.incr", [[d:incr(rep("n", 65535), 1, 0)]])
    P("key.65535.lpush", [[d:lpush(rep("l", 65535), 1)]])
    P("key.65535.ttl", [[d:ttl(rep("k", 65535))]])
    P("key.65535.tiny_set", [[tiny:set(rep("k", 65535), "v")]])
    P("key.65535.tiny_safe_set", [[tiny:safe_set(rep("k", 65535), "v")]])
    P("key.65536.set", [[d:set(rep("k", 65536), "v")]])
    P("key.65536.safe_set", [[d:safe_set(rep("k", 65536), "v")]])
    P("key.65536.add", [[d:add(rep("k", 65536), "v")]])
    P("key.65536.replace", [[d:replace(rep("k", 65536), "v")]])
    P("key.65536.delete", [[d:delete(rep("k", 65536))]])
    P("key.65536.get", [[d:get(rep("k", 65536))]])
    P("key.65536.get_stale", [[d:get_stale(rep("k", 65536))]])
    P("key.65536.incr", [[d:incr(rep("k", 65536), 1)]])
    P("key.65536.incr_init", [[d:incr(rep("k", 65536), 1, 0)]])
    P("key.65536.ttl", [[d:ttl(rep("k", 65536))]])
    P("key.65536.expire", [[d:expire(rep("k", 65536), 1)]])
    P("key.65536.lpush", [[d:lpush(rep("k", 65536), 1)]])
    P("key.65536.rpop", [[d:rpop(rep("k", 65536))]])
    P("key.65536.llen", [[d:llen(rep("k", 65536))]])
    P("key.nil_checked_before_value", [[d:set(nil, {})]])
    P("key.empty_checked_before_value", [[d:set("", {})]])
    P("key.nil_checked_before_exptime", [[d:set(nil, 1, "x")]])
    P("key.too_long_checked_before_value", [[d:set(rep("k", 65536), {})]])

    H("exptime")
    P("exptime.0", [[reset() return pk(d:set("e0", 1, 0)), pk(d:ttl("e0"))]])
    P("exptime.nil", [[d:set("enil", 1, nil) return pk(d:ttl("enil"))]])
    P("exptime.false", [[d:set("efalse", 1, false)]])
    P("exptime.false_ttl", [[d:ttl("efalse")]])
    P("exptime.10", [[d:set("e10", 1, 10) return pk(d:ttl("e10"))]])
    P("exptime.0.001", [[d:set("e1ms", 1, 0.001) return pk(d:ttl("e1ms"))]])
    P("exptime.0.0015", [[d:set("e15", 1, 0.0015) return pk(d:ttl("e15"))]])
    P("exptime.0.0009_truncates_to_never", [[d:set("e09", 1, 0.0009) return pk(d:ttl("e09"))]])
    P("exptime.0.0001", [[d:set("e01", 1, 0.0001) return pk(d:ttl("e01"))]])
    P("exptime.1e9", [[d:set("e1e9", 1, 1e9) return pk(d:ttl("e1e9"))]])
    P("exptime.1e16", [[d:set("e1e16", 1, 1e16) return pk(d:ttl("e1e16")), pk(d:get("e1e16"))]])
    P("exptime.inf", [[d:set("einf", 1, math.huge) return pk(d:ttl("einf")), pk(d:get("einf"))]])
    P("exptime.nan", [[d:set("enan", 1, 0 / 0) return pk(d:ttl("enan")), pk(d:get("enan"))]])
    P("exptime.negative", [[d:set("eneg", 1, -1)]])
    P("exptime.negative_small", [[d:set("eneg", 1, -0.0001)]])
    P("exptime.negative_zero", [[d:set("enz", 1, -0.0) return pk(d:ttl("enz"))]])
    P("exptime.negative.safe_set", [[d:safe_set("eneg", 1, -1)]])
    P("exptime.negative.add", [[d:add("eneg", 1, -1)]])
    P("exptime.negative.safe_add", [[d:safe_add("eneg", 1, -1)]])
    P("exptime.negative.replace", [[d:replace("eneg", 1, -1)]])
    P("exptime.numeric_string", [[d:set("estr", 1, "10")]])
    P("exptime.string", [[d:set("estr", 1, "abc")]])
    P("exptime.true", [[d:set("etrue", 1, true)]])
    P("exptime.table", [[d:set("etab", 1, {})]])
    P("exptime.nil_value_negative", [[d:set("enilv", nil, -1)]])

    H("flags")
    P("flags.0", [[d:set("f0", "v", 0, 0) return pk(d:get("f0"))]])
    P("flags.1", [[d:set("f1", "v", 0, 1) return pk(d:get("f1"))]])
    P("flags.nil", [[d:set("fnil", "v", 0, nil) return pk(d:get("fnil"))]])
    P("flags.false", [[d:set("ffalse", "v", 0, false) return pk(d:get("ffalse"))]])
    P("flags.2^31-1", [[d:set("fmax", "v", 0, 2^31 - 1) return pk(d:get("fmax"))]])
    P("flags.2^31", [[d:set("f2p31", "v", 0, 2^31) return pk(d:get("f2p31"))]])
    P("flags.2^32-1", [[d:set("f2p32m1", "v", 0, 2^32 - 1) return pk(d:get("f2p32m1"))]])
    P("flags.2^32", [[d:set("f2p32", "v", 0, 2^32) return pk(d:get("f2p32"))]])
    P("flags.2^32+5", [[d:set("f2p32p5", "v", 0, 2^32 + 5) return pk(d:get("f2p32p5"))]])
    P("flags.2^40", [[d:set("f2p40", "v", 0, 2^40) return pk(d:get("f2p40"))]])
    P("flags.-1", [[d:set("fm1", "v", 0, -1) return pk(d:get("fm1"))]])
    P("flags.-2^31", [[d:set("fmin", "v", 0, -2^31) return pk(d:get("fmin"))]])
    P("flags.1.9", [[d:set("f19", "v", 0, 1.9) return pk(d:get("f19"))]])
    P("flags.-1.9", [[d:set("fm19", "v", 0, -1.9) return pk(d:get("fm19"))]])
    P("flags.0.5", [[d:set("f05", "v", 0, 0.5) return pk(d:get("f05"))]])
    P("flags.inf", [[d:set("finf", "v", 0, math.huge) return pk(d:get("finf"))]])
    P("flags.nan", [[d:set("fnan", "v", 0, 0 / 0) return pk(d:get("fnan"))]])
    P("flags.numeric_string", [[d:set("fstr", "v", 0, "5")]])
    P("flags.string", [[d:set("fstr", "v", 0, "abc")]])
    P("flags.true", [[return pk(d:set("ftrue", "v", 0, true)), pk(d:get("ftrue"))]])
    P("flags.table", [[d:set("ftab", "v", 0, {})]])
    P("flags.on_number_value", [[d:set("fnum", 12, 0, 3) return pk(d:get("fnum"))]])
    P("flags.on_boolean_value", [[d:set("fbool", true, 0, 3) return pk(d:get("fbool"))]])
    P("flags.on_get_stale", [[d:set("fst", 1, 0, 3) return pk(d:get_stale("fst"))]])

    H("expiry (ngx.sleep)")
    -- A: one expiring key alone in the dict: it is the LRU tail, so any operation that first
    --    reaps expired tail entries (get, set, incr, lpush, ...) frees it.
    P("expiry.A.setup", [[reset() return pk(d:set("e", "v", 0.05, 3))]])
    sleep(0.1)
    P("expiry.A.get_stale_first", [[d:get_stale("e")]])
    P("expiry.A.get_keys", [[d:get_keys(0)]])
    P("expiry.A.ttl_negative", [[local t = d:ttl("e") return pk(type(t), t < 0)]])
    P("expiry.A.ttl~", [[d:ttl("e")]])
    P("expiry.A.get", [[d:get("e")]])
    P("expiry.A.get_stale_after_get", [[d:get_stale("e")]])
    P("expiry.A.ttl_after_get", [[d:ttl("e")]])
    -- B: a never-expiring key is the LRU tail, so the expired entry is not reaped
    P("expiry.B.setup", [[reset() d:set("old", 1) d:set("e", "v", 0.05, 3) d:set("e2", "v2", 0.05)
        d:set("e3", 3, 0.05) d:set("e4", 4, 0.05) d:set("e5", 5, 0.05, 8) d:set("e6", "v6", 0.05)
        d:set("e7", true, 0.05) return pk(true)]])
    sleep(0.1)
    P("expiry.B.get", [[d:get("e")]])
    P("expiry.B.get_stale", [[d:get_stale("e")]])
    P("expiry.B.get_stale_no_flags", [[d:get_stale("e2")]])
    P("expiry.B.get_keys", [[d:get_keys(0)]])
    P("expiry.B.add_on_expired", [[d:add("e2", "new")]])
    P("expiry.B.add_on_expired_then_get", [[d:get("e2")]])
    P("expiry.B.safe_add_on_expired", [[d:safe_add("e6", "new6")]])
    P("expiry.B.replace_on_expired", [[d:replace("e3", 33)]])
    P("expiry.B.replace_on_expired_then_get_stale", [[d:get_stale("e3")]])
    P("expiry.B.incr_on_expired_no_init", [[d:incr("e3", 1)]])
    P("expiry.B.incr_on_expired_with_init", [[d:incr("e4", 1, 100)]])
    P("expiry.B.incr_on_expired_with_init_then_get", [[d:get("e4"), d:ttl("e4")]])
    P("expiry.B.incr_on_expired_with_init_resets_flags", [[d:incr("e5", 1, 0) return pk(d:get("e5"))]])
    P("expiry.B.set_on_expired", [[d:set("e7", "fresh") return pk(d:get("e7"))]])
    P("expiry.B.expire_on_expired", [[d:expire("e", 10)]])
    P("expiry.B.expire_on_expired_then_get", [[d:get("e"), d:ttl("e")]])
    P("expiry.B.llen_on_expired_scalar", [[d:set("es", 1, 0.001) return pk(true)]])
    sleep(0.01)
    P("expiry.B.llen_on_expired_scalar2", [[d:llen("es")]])
    P("expiry.B.lpop_on_expired_scalar", [[d:lpop("es")]])
    P("expiry.B.lpush_on_expired_scalar", [[d:lpush("es", "x")]])
    P("expiry.B.lpush_on_expired_scalar_then_ttl", [[d:ttl("es"), d:llen("es")]])
    P("expiry.B.flush_expired", [[d:flush_expired()]])
    -- C: exactly at the expiry millisecond (ttl computes expires - now == 0)
    P("expiry.C.at_expiry_ms", [[
        -- start each try at the beginning of a fresh millisecond (spin until the clock ticks),
        -- so the two sets fit in it even on a slow machine or under Valgrind
        for try = 1, 200 do
            reset()
            ngx.update_time()
            local t0 = now_ms()
            repeat ngx.update_time() until now_ms() ~= t0
            t0 = now_ms()
            d:set("old", 1)
            d:set("edge", "v", 0.001)
            local t1
            repeat ngx.update_time() t1 = now_ms() until t1 ~= t0
            if t1 == t0 + 1 then
                return pk(d:get("edge")), pk(d:ttl("edge")), pk(#d:get_keys(0)), pk(d:flush_expired()), pk(d:get_stale("edge"))
            end
        end
        return pk("could not hit the millisecond")]])
    -- D: set with exptime, then immediately check that the expiry is real
    P("expiry.D.exptime_0.001_expires", [[reset() d:set("old", 1) d:set("x", 1, 0.001) return pk(true)]])
    sleep(0.01)
    P("expiry.D.after_10ms", [[d:get("x")]])

    H("ttl / expire")
    P("ttl.missing", [[reset() return pk(d:ttl("nope"))]])
    P("ttl.no_expiry", [[d:set("t", 1) return pk(d:ttl("t"))]])
    P("ttl.exptime_2.5", [[d:set("t2", 1, 2.5) return pk(d:ttl("t2"))]])
    P("ttl.type", [[type(d:ttl("t2"))]])
    -- an exptime far above the sleep, so that a slow machine (Valgrind) still sees the key:
    -- the range says the ttl went down by the sleep at least, and not by seconds more
    P("ttl.after_sleep.setup", [[d:set("t3", 1, 5) return pk(true)]])
    sleep(0.2)
    P("ttl.after_sleep~", [[d:ttl("t3")]])
    P("ttl.after_sleep_range", [[local t = d:ttl("t3") return pk(t > 3 and t <= 4.8)]])
    P("ttl.list_key", [[d:lpush("tl", 1) return pk(d:ttl("tl"))]])
    P("ttl.does_not_touch_lru", [[reset() d:set("a", 1) d:set("b", 1) d:ttl("a") return pk(d:get_keys())]])
    P("expire.missing", [[reset() return pk(d:expire("nope", 1))]])
    P("expire.set", [[d:set("x", 1) return pk(d:expire("x", 5)), pk(d:ttl("x"))]])
    P("expire.0_removes_expiry", [[d:expire("x", 0) return pk(d:ttl("x"))]])
    P("expire.negative", [[d:expire("x", 5) return pk(d:expire("x", -1)), pk(d:ttl("x")), pk(d:get("x"))]])
    P("expire.0.0001", [[d:expire("x", 5) return pk(d:expire("x", 0.0001)), pk(d:ttl("x"))]])
    P("expire.fraction", [[d:expire("x", 1.2345) return pk(d:ttl("x"))]])
    P("expire.nil_exptime", [[d:expire("x")]])
    P("expire.false_exptime", [[d:expire("x", false)]])
    P("expire.nil_exptime_missing_key", [[d:expire("nope")]])
    P("expire.numeric_string", [[return pk(d:expire("x", "7")), pk(d:ttl("x"))]])
    P("expire.string", [[d:expire("x", "abc")]])
    P("expire.table", [[d:expire("x", {})]])
    P("expire.keeps_value_and_flags", [[d:set("y", "val", 0, 6) d:expire("y", 9) return pk(d:get("y"))]])
    P("expire.list", [[d:rpush("el", 1) return pk(d:expire("el", 100)), pk(d:ttl("el"))]])
    P("expire.list_push_keeps_exptime", [[d:rpush("el", 2) return pk(d:ttl("el")), pk(d:llen("el"))]])
    P("expire.does_not_touch_lru", [[reset() d:set("a", 1) d:set("b", 1) d:expire("a", 100) return pk(d:get_keys())]])

    H("incr")
    P("incr.missing", [[reset() return pk(d:incr("c", 1))]])
    P("incr.missing_init", [[d:incr("c", 1, 0)]])
    P("incr.existing", [[d:incr("c", 1)]])
    P("incr.existing_with_init", [[d:incr("c", 1, 100)]])
    P("incr.existing_with_init_and_ttl", [[d:incr("c", 1, 100, 10) return pk(d:ttl("c"))]])
    P("incr.negative", [[d:incr("c", -5)]])
    P("incr.float", [[d:incr("c", 0.5)]])
    P("incr.float_sum", [[d:set("cf", 0.1) return pk(d:incr("cf", 0.2))]])
    P("incr.zero", [[d:incr("c", 0)]])
    P("incr.inf", [[d:set("ci", 1) return pk(d:incr("ci", math.huge))]])
    P("incr.nan", [[d:set("cn", 1) local v = d:incr("cn", 0 / 0) return pk(v ~= v)]])
    P("incr.2^53", [[d:set("c53", 2^53) return pk(d:incr("c53", 1))]])
    P("incr.numeric_string_step", [[d:set("cs", 1) return pk(d:incr("cs", "5"))]])
    P("incr.hex_string_step", [[d:incr("cs", "0x10")]])
    P("incr.string_step", [[d:incr("cs", "abc")]])
    P("incr.nil_step", [[d:incr("cs")]])
    P("incr.nil_step_missing_key", [[d:incr("nokey")]])
    P("incr.boolean_step", [[d:incr("cs", true)]])
    P("incr.table_step", [[d:incr("cs", {})]])
    P("incr.on_string", [[d:set("str", "10") return pk(d:incr("str", 1))]])
    P("incr.on_string_with_init", [[d:incr("str", 1, 0)]])
    P("incr.on_boolean", [[d:set("bool", true) return pk(d:incr("bool", 1))]])
    P("incr.on_list", [[d:lpush("lst", 1) return pk(d:incr("lst", 1))]])
    P("incr.on_list_with_init", [[d:incr("lst", 1, 0)]])
    P("incr.keeps_flags", [[d:set("cfl", 1, 0, 9) d:incr("cfl", 1) return pk(d:get("cfl"))]])
    P("incr.keeps_exptime", [[d:set("cex", 1, 100) d:incr("cex", 1) return pk(d:ttl("cex"))]])
    P("incr.init_numeric_string", [[d:incr("ci2", 1, "10")]])
    P("incr.init_string", [[d:incr("ci3", 1, "abc")]])
    P("incr.init_table", [[d:incr("ci3", 1, {})]])
    P("incr.init_true", [[d:incr("ci3", 1, true)]])
    P("incr.init_false", [[d:incr("ci3", 1, false)]])
    P("incr.init_float", [[d:incr("ci4", 0.5, 0.25)]])
    P("incr.init_negative", [[d:incr("ci5", 1, -10)]])
    P("incr.init_ttl", [[d:incr("it", 1, 0, 10) return pk(d:ttl("it"))]])
    P("incr.init_ttl_returns", [[d:incr("it1", 1, 0, 10)]])
    P("incr.init_ttl_existing_key_unchanged", [[d:incr("it", 1, 0, 100) return pk(d:get("it")), pk(d:ttl("it"))]])
    P("incr.init_ttl_0", [[d:incr("it0", 1, 0, 0) return pk(d:ttl("it0"))]])
    P("incr.init_ttl_0.0005", [[d:incr("it05", 1, 0, 0.0005) return pk(d:ttl("it05"))]])
    P("incr.init_ttl_without_init", [[d:incr("it2", 1, nil, 10)]])
    P("incr.init_ttl_with_init_false", [[d:incr("it2", 1, false, 10)]])
    P("incr.init_ttl_negative", [[d:incr("it2", 1, 0, -1)]])
    P("incr.init_ttl_numeric_string", [[d:incr("it3", 1, 0, "5") return pk(d:ttl("it3"))]])
    P("incr.init_ttl_string", [[d:incr("it4", 1, 0, "abc")]])
    P("incr.init_ttl_boolean", [[d:incr("it4", 1, 0, true)]])
    P("incr.init_ttl_checked_before_key", [[d:incr(nil, 1, 0, -1)]])
    P("incr.init_checked_before_missing", [[d:incr("missing_x", 1, "abc")]])
    P("incr.step_checked_before_init", [[d:incr("missing_y", "abc", "abc")]])
    P("incr.init_ttl_expiry_setup", [[d:incr("ie", 1, 0, 0.05)]])
    sleep(0.1)
    P("incr.init_ttl_expiry.get", [[d:get("ie")]])
    P("incr.init_ttl_expiry.incr_no_init", [[d:incr("ie", 1)]])
    P("incr.init_ttl_expiry.incr_init_no_ttl", [[d:incr("ie", 1, 100) return pk(d:get("ie")), pk(d:ttl("ie"))]])
    P("incr.new_key_has_no_flags", [[d:incr("nf", 1, 0) return pk(d:get("nf"))]])

    H("lists")
    P("list.lpush_new", [[reset() return pk(d:lpush("l", "a"))]])
    P("list.rpush", [[d:rpush("l", "b")]])
    P("list.lpush_number", [[d:lpush("l", 3)]])
    P("list.rpush_empty_string", [[d:rpush("l", "")]])
    P("list.rpush_numeric_string", [[d:rpush("l", "7")]])
    P("list.llen", [[d:llen("l")]])
    P("list.get", [[d:get("l")]])
    P("list.get_stale", [[d:get_stale("l")]])
    P("list.ttl", [[d:ttl("l")]])
    P("list.add", [[d:add("l", 1)]])
    P("list.get_keys", [[d:get_keys()]])
    P("list.lpop_number", [[local v = d:lpop("l") return pk(v, type(v))]])
    P("list.rpop_numeric_string", [[local v = d:rpop("l") return pk(v, type(v))]])
    P("list.rpop_empty_string", [[d:rpop("l")]])
    P("list.lpop", [[d:lpop("l")]])
    P("list.rpop_last", [[d:rpop("l")]])
    P("list.lpop_emptied", [[d:lpop("l")]])
    P("list.llen_emptied", [[d:llen("l")]])
    P("list.get_emptied", [[d:get("l")]])
    P("list.lpop_missing", [[d:lpop("nolist")]])
    P("list.rpop_missing", [[d:rpop("nolist")]])
    P("list.llen_missing", [[d:llen("nolist")]])
    P("list.push_returns_length", [[reset() return pk(d:rpush("q", 1)), pk(d:rpush("q", 2)), pk(d:lpush("q", 0)), pk(d:llen("q"))]])
    P("list.order", [[return pk(d:lpop("q")), pk(d:lpop("q")), pk(d:lpop("q"))]])
    P("list.push_boolean", [[d:lpush("l2", true)]])
    P("list.push_nil", [[d:lpush("l2", nil)]])
    P("list.push_table", [[d:rpush("l2", {})]])
    P("list.push_function", [[d:rpush("l2", print)]])
    P("list.push_bad_value_creates_nothing", [[d:llen("l2"), d:get_keys()]])
    P("list.push_binary", [[d:rpush("l3", "a\0b") return pk(d:lpop("l3"))]])
    P("list.push_100000_bytes", [[local s = rep("x", 100000) d:rpush("l4", s) return pk(d:lpop("l4") == s)]])
    P("list.push_inf_nan", [[d:rpush("l5", math.huge) d:rpush("l5", 0 / 0) local a, b = d:lpop("l5"), d:lpop("l5") return pk(a, b ~= b)]])
    P("list.lpush_non_list", [[d:set("s", "x") return pk(d:lpush("s", 1))]])
    P("list.rpush_non_list", [[d:rpush("s", 1)]])
    P("list.lpop_non_list", [[d:lpop("s")]])
    P("list.rpop_non_list", [[d:rpop("s")]])
    P("list.llen_non_list", [[d:llen("s")]])
    P("list.non_list_unchanged", [[d:get("s")]])
    P("list.push_bad_value_on_non_list", [[d:lpush("s", true)]])
    P("list.set_overwrites_list", [[d:lpush("l6", "a") return pk(d:set("l6", "str")), pk(d:get("l6"))]])
    P("list.replace_list", [[d:lpush("l7", "a") return pk(d:replace("l7", 5)), pk(d:get("l7"))]])
    P("list.set_nil_deletes_list", [[d:lpush("l8", "a") return pk(d:set("l8", nil)), pk(d:llen("l8"))]])
    P("list.expire_setup", [[d:rpush("l9", "a") d:rpush("l9", "b") return pk(d:expire("l9", 0.05)), pk(d:ttl("l9"))]])
    sleep(0.1)
    P("list.expired_llen", [[d:llen("l9")]])
    P("list.expired_lpop", [[d:lpop("l9")]])
    P("list.expired_push_starts_new_list", [[d:rpush("l9", "c") return pk(d:llen("l9")), pk(d:ttl("l9")), pk(d:lpop("l9"))]])
    P("list.args.lpush_2", [[d:lpush("l")]])
    P("list.args.lpush_4", [[d:lpush("l", 1, 2)]])
    P("list.args.rpush_2", [[d:rpush("l")]])
    P("list.args.lpop_1", [[d:lpop()]])
    P("list.args.lpop_3", [[d:lpop("l", 1)]])
    P("list.args.rpop_3", [[d:rpop("l", 1)]])
    P("list.args.llen_1", [[d:llen()]])
    P("list.args.llen_3", [[d:llen("l", 1)]])
    P("list.key_number_lpop", [[d:rpush(10, "x") return pk(d:lpop(10))]])

    H("get_keys")
    P("get_keys.empty", [[reset() return pk(d:get_keys())]])
    P("get_keys.order_lru_tail_first", [[d:set("a", 1) d:set("b", 1) d:set("c", 1) return pk(d:get_keys())]])
    P("get_keys.after_get_a", [[d:get("a") return pk(d:get_keys())]])
    P("get_keys.after_get_stale_b", [[d:get_stale("b") return pk(d:get_keys())]])
    P("get_keys.after_set_c", [[d:set("c", 2) return pk(d:get_keys())]])
    P("get_keys.after_add_exists_a", [[d:add("a", 2) return pk(d:get_keys())]])
    P("get_keys.after_replace_b", [[d:replace("b", 2) return pk(d:get_keys())]])
    P("get_keys.after_incr_c", [[d:incr("c", 1) return pk(d:get_keys())]])
    P("get_keys.after_get_missing", [[d:get("zzz") return pk(d:get_keys())]])
    P("get_keys.lru_after_list_ops", [[reset() d:rpush("l", 1) d:set("a", 1) d:set("b", 1)
        local k0 = d:get_keys() d:rpush("l", 2) local k1 = d:get_keys()
        d:llen("a") local k2 = d:get_keys() d:lpop("b") local k3 = d:get_keys()
        return pk(k0), pk(k1), pk(k2), pk(k3)]])
    P("get_keys.lru_after_delete_and_reinsert", [[d:delete("l") d:set("l", 1) return pk(d:get_keys())]])
    P("get_keys.lru_after_failed_replace", [[d:replace("zz", 1) return pk(d:get_keys())]])
    P("get_keys.setup_abc", [[reset() d:set("a", 1) d:set("b", 1) d:set("c", 1) return pk(d:get_keys())]])
    P("get_keys.2", [[d:get_keys(2)]])
    P("get_keys.1", [[d:get_keys(1)]])
    P("get_keys.0", [[d:get_keys(0)]])
    P("get_keys.-1", [[d:get_keys(-1)]])
    P("get_keys.1.7", [[d:get_keys(1.7)]])
    P("get_keys.numeric_string", [[d:get_keys("2")]])
    P("get_keys.string", [[d:get_keys("x")]])
    P("get_keys.nil", [[d:get_keys(nil)]])
    P("get_keys.true", [[d:get_keys(true)]])
    P("get_keys.two_args", [[d:get_keys(1, 2)]])
    P("get_keys.more_than_present", [[d:get_keys(100)]])
    P("get_keys.excludes_expired.setup", [[reset() d:set("live", 1) d:set("exp", 1, 0.001) return pk(true)]])
    sleep(0.01)
    P("get_keys.excludes_expired", [[d:get_keys()]])
    P("get_keys.excludes_expired_limit_counts_live_only", [[d:get_keys(1)]])
    P("get_keys.default_limit", [[reset() for i = 1, 1100 do d:set("k" .. i, i) end
        return pk(#d:get_keys(), #d:get_keys(0), #d:get_keys(5), #d:get_keys(2000), d:get_keys()[1], d:get_keys()[1024], d:get_keys(0)[1100])]])

    H("flush_all / flush_expired")
    P("flush_all.returns", [[reset() for i = 1, 5 do d:set("k" .. i, i, 0, i) end
        local before = d:free_space() return pk(d:flush_all())]])
    P("flush_all.get_stale_each", [[return pk(d:get_stale("k1")), pk(d:get_stale("k2")), pk(d:get_stale("k3")), pk(d:get_stale("k4")), pk(d:get_stale("k5"))]])
    P("flush_all.get_stale_k5", [[d:get_stale("k5")]])
    P("flush_all.get_keys", [[d:get_keys(0)]])
    P("flush_all.get", [[d:get("k5")]])
    P("flush_all.get_stale_after_get", [[return pk(d:get_stale("k4")), pk(d:get_stale("k5"))]])
    P("flush_all.ttl", [[d:ttl("k5")]])
    P("flush_all.ttl_of_freed", [[d:ttl("k1")]])
    P("flush_all.free_space_vs_reset", [[reset() local empty = d:free_space()
        for i = 1, 2000 do d:set("k" .. i, rep("x", 100)) end
        local full = d:free_space() d:flush_all() local flushed = d:free_space()
        local n = d:flush_expired() return pk(empty, full, flushed, n, d:free_space())]])
    P("flush_all.then_add", [[reset() d:set("a", 1) d:set("b", 1) d:set("c", 1) d:set("x", 1) d:flush_all() return pk(d:add("x", 2)), pk(d:get("x"))]])
    P("flush_all.then_replace", [[reset() d:set("a", 1) d:set("b", 1) d:set("c", 1) d:set("x", 1) d:flush_all() return pk(d:replace("x", 2))]])
    P("flush_all.then_incr", [[reset() d:set("a", 1) d:set("b", 1) d:set("c", 1) d:set("x", 1) d:flush_all() return pk(d:incr("x", 1)), pk(d:incr("x", 1, 10))]])
    P("flush_all.then_llen", [[reset() d:set("a", 1) d:set("b", 1) d:set("c", 1) d:rpush("x", 1) d:flush_all() return pk(d:llen("x"))]])
    P("flush_all.only_this_dict", [[reset() reset(tiny) d:set("a", 1) tiny:set("a", 2) d:flush_all() return pk(d:get("a"), tiny:get("a"))]])
    P("flush_all.extra_args", [[d:flush_all(1, 2)]])
    P("flush_expired.empty_dict", [[reset() return pk(d:flush_expired())]])
    P("flush_expired.none_expired", [[d:set("a", 1) d:set("b", 1, 100) return pk(d:flush_expired())]])
    P("flush_expired.setup", [[reset() d:set("live", 1) for i = 1, 5 do d:set("x" .. i, i, 0.001) end d:rpush("xl", 1) d:expire("xl", 0.001) return pk(true)]])
    sleep(0.01)
    P("flush_expired.max_2", [[d:flush_expired(2)]])
    P("flush_expired.max_2_which_left", [[return pk(d:get_stale("x1")), pk(d:get_stale("x2")), pk(d:get_stale("x3"))]])
    P("flush_expired.all", [[d:flush_expired()]])
    P("flush_expired.again", [[d:flush_expired()]])
    P("flush_expired.left", [[d:get_keys(0)]])
    P("flush_expired.max_0.setup", [[reset() for i = 1, 5 do d:set("x" .. i, i, 0.001) end return pk(true)]])
    sleep(0.01)
    P("flush_expired.max_0", [[d:flush_expired(0)]])
    P("flush_expired.max_-1.setup", [[reset() for i = 1, 5 do d:set("x" .. i, i, 0.001) end return pk(true)]])
    sleep(0.01)
    P("flush_expired.max_-1", [[d:flush_expired(-1)]])
    P("flush_expired.numeric_string", [[d:flush_expired("3")]])
    P("flush_expired.string", [[d:flush_expired("x")]])
    P("flush_expired.nil", [[d:flush_expired(nil)]])
    P("flush_expired.two_args", [[d:flush_expired(1, 2)]])
    P("flush_expired.return_type", [[type(d:flush_expired())]])

    H("eviction and no memory (tiny = 12k)")
    -- An empty 12k zone has no free page: only entries that fit in the slab slot pages it
    -- already has (the 128-byte slot: node header 68 bytes + key + value <= 128) can be stored.
    P("tiny.free_space_empty", [[reset(tiny) return pk(tiny:free_space())]])
    P("tiny.largest_value_safe_set", [[reset(tiny)
        local lo, hi = 0, 20000
        while lo < hi do
            local mid = math.floor((lo + hi + 1) / 2)
            reset(tiny)
            if tiny:safe_set("k", rep("x", mid)) then lo = mid else hi = mid - 1 end
        end
        reset(tiny)
        return pk(lo)]])
    P("tiny.set_value_too_big_for_any_page", [[reset(tiny) return pk(tiny:set("k", rep("x", 100)))]])
    P("tiny.fill_set_until_forcible", [[reset(tiny)
        local val = rep("v", 40)
        for i = 1, 10000 do
            local before = nkeys(tiny)
            local r = pk(tiny:set("key" .. i, val))
            if r[3] or not r[1] then
                local gone = {}
                for j = 1, i - 1 do if tiny:get_stale("key" .. j) == nil then gone[#gone + 1] = j end end
                return r, pk("at set number", i, "keys before", before, "after", nkeys(tiny)), pk("evicted", concat(gone, ","))
            end
        end
        return pk("no eviction")]])
    P("tiny.next_set_forcible_again", [[tiny:set("another", rep("v", 40))]])
    P("tiny.lru_get_protects", [[reset(tiny)
        local val = rep("v", 40)
        for i = 1, 10000 do
            tiny:get("key1")
            local ok, err, forcible = tiny:set("key" .. i, val)
            if forcible or not ok then
                return pk(i), pk(tiny:get("key1")), pk(tiny:get_stale("key2")), pk(tiny:get_stale("key3"))
            end
        end
        return pk("no eviction")]])
    P("tiny.lru_beats_expiry", [[reset(tiny)
        local val = rep("v", 40)
        for i = 1, 10000 do
            local ok, err, forcible = tiny:set("key" .. i, val, i == 1 and 1000 or 0)
            if forcible or not ok then return pk(i), pk(tiny:get("key1")), pk(tiny:get("key2")) end
        end
        return pk("no eviction")]])
    P("tiny.expired_not_forcible.setup", [[reset(tiny)
        local i = 0
        repeat i = i + 1 until not tiny:safe_set("key" .. i, rep("v", 40), 0.001)
        return pk(i - 1)]])
    sleep(0.01)
    P("tiny.expired_not_forcible", [[tiny:set("new", rep("v", 40))]])
    P("tiny.safe_set_until_no_memory", [[reset(tiny)
        local val = rep("v", 40)
        for i = 1, 10000 do
            local r = pk(tiny:safe_set("key" .. i, val))
            if not r[1] then return r, pk(i, nkeys(tiny)), pk(tiny:get("key1")) end
        end
        return pk("never full")]])
    P("tiny.full.safe_add", [[tiny:safe_add("new1", rep("v", 40))]])
    P("tiny.full.incr_init", [[tiny:incr("newc", 1, 0)]])
    P("tiny.full.add", [[tiny:add("new3", rep("v", 40))]])
    P("tiny.full.safe_set_existing_same_size", [[tiny:safe_set("key10", rep("w", 40))]])
    P("tiny.full.safe_set_existing_smaller", [[tiny:safe_set("key11", rep("w", 20))]])
    P("tiny.full.safe_set_existing_bigger", [[tiny:safe_set("key12", rep("w", 100))]])
    P("tiny.full.safe_set_existing_bigger_old_value_gone", [[tiny:get("key12")]])
    P("tiny.full.safe_set_nil_frees", [[tiny:safe_set("key13", nil) return pk(tiny:safe_set("new2", rep("v", 40)))]])
    P("tiny.full.incr_no_init_missing", [[tiny:incr("newc2", 1)]])
    P("tiny.full.replace_too_big_evicts_everything", [[local n = nkeys(tiny) return pk(tiny:replace("key31", rep("v", 100))), pk(n, nkeys(tiny))]])
    P("tiny.full.lpush_new_key", [[reset(tiny) local i = 0
        repeat i = i + 1 until not tiny:safe_set("f" .. i, rep("x", 40))
        return pk(i), pk(tiny:lpush("newlist", "v"))]])
    P("tiny.full.lpush_huge_new_key", [[tiny:lpush("newlist2", rep("v", 20000))]])
    P("tiny.full.lpush_huge_key_left_behind", [[tiny:llen("newlist2")]])
    P("tiny.lpush_huge_value_new_key", [[reset(tiny) return pk(tiny:lpush("x", rep("v", 20000))), pk(tiny:llen("x")), pk(tiny:get_keys())]])
    P("tiny.lpush_until_no_memory", [[reset(tiny)
        for i = 1, 10000 do
            local r = pk(tiny:rpush("l", rep("x", 100)))
            if not r[1] then return r, pk(i), pk(tiny:llen("l")) end
        end
        return pk("never full")]])
    P("tiny.lpush_no_memory_on_existing_list", [[tiny:rpush("l", rep("x", 5000))]])
    P("tiny.lpush_huge_on_existing_list", [[tiny:rpush("l", rep("x", 20000))]])
    P("tiny.lpush_does_not_evict", [[reset(tiny)
        local i = 0
        repeat i = i + 1 until not tiny:safe_set("f" .. i, rep("x", 40))
        return pk(tiny:lpush("newl", rep("x", 40))), pk(nkeys(tiny), i - 1)]])
    P("d.fill_set_until_forcible", [[reset()
        local val = rep("x", 1000)
        for i = 1, 100000 do
            local before = nkeys()
            local r = pk(d:set("k" .. i, val))
            if r[3] or not r[1] then
                local gone = {}
                for j = 1, i - 1 do if d:get_stale("k" .. j) == nil then gone[#gone + 1] = j end end
                return r, pk("at set number", i, "keys before", before, "after", nkeys()), pk("evicted", concat(gone, ","))
            end
        end
        return pk("no eviction")]])
    P("d.largest_value_safe_set", [[
        local lo, hi = 0, 2000000
        while lo < hi do
            local mid = math.floor((lo + hi + 1) / 2)
            reset()
            if d:safe_set("k", rep("x", mid)) then lo = mid else hi = mid - 1 end
        end
        reset()
        return pk(lo)]])
    P("huge.set_empty_dict", [[reset() return pk(d:set("huge", rep("x", 2 * 1024 * 1024)))]])
    P("huge.safe_set", [[d:safe_set("huge", rep("x", 2 * 1024 * 1024))]])
    P("huge.add", [[d:add("huge", rep("x", 2 * 1024 * 1024))]])
    P("huge.set_evicts_valid_items", [[reset() for i = 1, 100 do d:set("k" .. i, i) end
        return pk(d:set("huge", rep("x", 2 * 1024 * 1024))), pk(nkeys()), pk(d:get("k1")), pk(d:get("k91"))]])
    P("huge.safe_set_existing_loses_old_value", [[reset() d:set("k", "small")
        return pk(d:safe_set("k", rep("x", 2 * 1024 * 1024))), pk(d:get("k"))]])
    P("huge.set_existing_loses_old_value", [[reset() d:set("k", "small")
        return pk(d:set("k", rep("x", 2 * 1024 * 1024))), pk(d:get("k"))]])
    P("huge.replace_existing_loses_old_value", [[reset() d:set("k", "small")
        return pk(d:replace("k", rep("x", 2 * 1024 * 1024))), pk(d:get("k"))]])
    P("huge.incr_fits", [[reset() return pk(d:incr("n", 1, 0))]])

    H("calling with '.' instead of ':' and other bad self arguments")
    P("dot.get", [[d.get("k")]])
    P("dot.get_no_args", [[d.get()]])
    P("dot.get_stale", [[d.get_stale("k")]])
    P("dot.set", [[d.set("k", "v")]])
    P("dot.safe_set", [[d.safe_set("k", "v")]])
    P("dot.add", [[d.add("k", "v")]])
    P("dot.safe_add", [[d.safe_add("k", "v")]])
    P("dot.replace", [[d.replace("k", "v")]])
    P("dot.delete", [[d.delete("k")]])
    P("dot.incr", [[d.incr("k", 1)]])
    P("dot.ttl", [[d.ttl("k")]])
    P("dot.expire", [[d.expire("k", 1)]])
    P("dot.flush_all", [[d.flush_all()]])
    P("dot.flush_expired", [[d.flush_expired()]])
    P("dot.flush_expired_1arg", [[d.flush_expired("k")]])
    P("dot.get_keys", [[d.get_keys()]])
    P("dot.get_keys_1arg", [[d.get_keys(10)]])
    P("dot.capacity", [[d.capacity()]])
    P("dot.free_space", [[d.free_space()]])
    P("dot.lpush", [[d.lpush("k", "v")]])
    P("dot.lpush_3args", [[d.lpush("a", "k", "v")]])
    P("dot.rpush", [[d.rpush("k", "v")]])
    P("dot.lpop", [[d.lpop("k")]])
    P("dot.rpop", [[d.rpop("k")]])
    P("dot.llen", [[d.llen("k")]])
    P("dot.llen_2args", [[d.llen("a", "k")]])
    P("dot.explicit_self_works", [[reset() return pk(d.set(d, "k", "v")), pk(d.get(d, "k"))]])
    P("dot.explicit_self_bad_key_c_function", [[d.lpush(d, true, 1)]])
    P("dot.explicit_self_bad_arg_c_function", [[d.get_keys(d, "x")]])
    P("dot.other_dict_as_self", [[reset(tiny) d.set(tiny, "k2", "t") return pk(tiny:get("k2")), pk(d:get("k2"))]])
    P("self.empty_table.get", [[d.get({}, "k")]])
    P("self.empty_table.set", [[d.set({}, "k", 1)]])
    P("self.table_with_string.get", [[d.get({"x"}, "k")]])
    P("self.empty_table.lpush", [[d.lpush({}, "k", 1)]])
    P("self.empty_table.get_keys", [[d.get_keys({})]])
    P("self.empty_table.flush_expired", [[d.flush_expired({})]])
    P("self.nil.capacity", [[d.capacity(nil)]])
    P("self.number.ttl", [[d.ttl(1, "k")]])
    emit("# end")
end

return M
