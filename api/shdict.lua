-- shdict.lua: the methods of ngx.shared.DICT, with ngx_lua 0.10.23's arguments, results and
-- error strings (SPEC §6.7; conformance/reference/ has ngx_lua's observed behaviour). Written
-- over LuaJIT's FFI, calling the store's C functions that the server exports
-- (tcplua_ffi_shdict_*, api/api_shdict.c), so that the JIT compiles a loop of get/set/incr
-- end to end, as lua-resty-core does for ngx_lua. api_shdict.c runs this chunk once per VM
-- and calls the function it returns with a table name -> store (lightuserdata).
local ffi = require "ffi"
local C = ffi.C
local ffi_str = ffi.string
local ffi_new = ffi.new
local type, tostring, tonumber, error, select = type, tostring, tonumber, error, select
local setmetatable, rawget = setmetatable, rawget

ffi.cdef [[
int tcplua_ffi_shdict_get(void *d, const char *key, size_t klen, int get_stale, int *type,
                          char **str, size_t *slen, double *num, int *flags, int *is_stale);
int tcplua_ffi_shdict_store(void *d, int op, const char *key, size_t klen, int type,
                            const char *str, size_t slen, double num, double exptime_ms,
                            int flags, int *forcible);
int tcplua_ffi_shdict_incr(void *d, const char *key, size_t klen, double *value,
                           int has_init, double init, double init_ttl_ms, int *forcible);
int tcplua_ffi_shdict_ttl(void *d, const char *key, size_t klen, double *ttl_ms);
int tcplua_ffi_shdict_expire(void *d, const char *key, size_t klen, double exptime_ms);
double tcplua_ffi_shdict_capacity(void *d);
double tcplua_ffi_shdict_free_space(void *d);
void tcplua_ffi_shdict_flush_all(void *d);
int tcplua_ffi_shdict_flush_expired(void *d, int max);
int tcplua_ffi_shdict_push(void *d, const char *key, size_t klen, int left, int type,
                           const char *str, size_t slen, double num, double *len);
int tcplua_ffi_shdict_pop(void *d, const char *key, size_t klen, int left, int *type,
                          char **str, size_t *slen, double *num);
int tcplua_ffi_shdict_llen(void *d, const char *key, size_t klen, double *len);
int tcplua_ffi_shdict_keys(void *d, int max);
int tcplua_ffi_shdict_key(void *d, int i, const char **key, size_t *klen);
void free(void *p);
]]

-- Store operations and result codes (core/shdict.h).
local SET, SAFE_SET, ADD, SAFE_ADD, REPLACE = 0, 1, 2, 3, 4
local T_NIL, T_BOOLEAN, T_NUMBER, T_STRING, T_LIST = 0, 1, 3, 4, 5
local errors = {
    [-1] = "exists", [-2] = "not found", [-3] = "no memory", [-4] = "not a number",
    [-5] = "value not a list",
}
local NOT_FOUND = -2

-- Out-parameters, allocated once per VM (no session can interleave: calls do not yield).
local BUF_SIZE = 4096
local buf = ffi_new("char[?]", BUF_SIZE)
local str_p = ffi_new("char *[1]")
local len_p = ffi_new("size_t[1]")
local type_p = ffi_new("int[1]")
local num_p = ffi_new("double[1]")
local flags_p = ffi_new("int[1]")
local stale_p = ffi_new("int[1]")
local forcible_p = ffi_new("int[1]")
local key_p = ffi_new("const char *[1]")

-- dictionary table -> its store as a `void *` cdata: the JIT compiles an FFI call with a
-- cdata pointer but not with the lightuserdata that d[1] holds (as in ngx_lua).
local store_of = setmetatable({}, { __mode = "k" })

local function check_zone(zone)
    local d = store_of[zone]
    if d then return d end
    if type(zone) ~= "table" or type(rawget(zone, 1)) ~= "userdata" then error('bad "zone" argument', 3) end
    d = ffi.cast("void *", rawget(zone, 1))
    store_of[zone] = d
    return d
end

-- nil when the key is usable, else the error string callers return as nil, err.
local function key_error(key)
    if key == nil then return "nil key" end
    local n = #key
    if n == 0 then return "empty key" end
    if n > 65535 then return "key too long" end
    return nil
end

-- Reads the value the last get/pop left in the out-parameters.
local function fetch(typ)
    if typ == T_STRING then
        local s = str_p[0]
        local v = ffi_str(s, len_p[0])
        if s ~= buf then C.free(s) end
        return v
    elseif typ == T_NUMBER then
        return tonumber(num_p[0])
    end
    return num_p[0] ~= 0
end

local function get(zone, key, stale)
    local d = check_zone(zone)
    if key ~= nil and type(key) ~= "string" then key = tostring(key) end
    local err = key_error(key)
    if err then return nil, err end
    str_p[0] = buf
    len_p[0] = BUF_SIZE
    local rc = C.tcplua_ffi_shdict_get(d, key, #key, stale, type_p, str_p, len_p, num_p, flags_p, stale_p)
    if rc == NOT_FOUND then return nil end
    if rc ~= 0 then return nil, errors[rc] end
    local typ = type_p[0]
    if typ == T_LIST then return nil, "value is a list" end
    local v = fetch(typ)
    local flags = flags_p[0]
    if stale == 1 then return v, flags ~= 0 and flags or nil, stale_p[0] == 1 end
    if flags ~= 0 then return v, flags end
    return v
end

-- A value as the store takes it: type, string and its length, number; nil for other types.
-- Booleans only when allowed (the lists hold numbers and strings).
local function encode(value, booleans)
    local t = type(value)
    if t == "string" then return T_STRING, value, #value, 0 end
    if t == "number" then return T_NUMBER, nil, 0, value end
    if t == "boolean" and booleans then return T_BOOLEAN, nil, 0, value and 1 or 0 end
    return nil
end

local function store(zone, op, key, value, exptime, flags)
    local d = check_zone(zone)
    if not exptime then
        exptime = 0
    elseif exptime < 0 then
        error('bad "exptime" argument', 2) -- store is tail-called: level 2 is the script
    end
    if not flags then flags = 0 end
    if key ~= nil and type(key) ~= "string" then key = tostring(key) end
    local err = key_error(key)
    if err then return nil, err end
    local vt, str, slen, num = encode(value, true)
    if value == nil then
        if op ~= SET and op ~= SAFE_SET then
            return false, "attempt to add or replace nil values", false
        end
        vt, slen, num = T_NIL, 0, 0
    elseif not vt then
        return nil, "bad value type"
    end
    local rc = C.tcplua_ffi_shdict_store(d, op, key, #key, vt, str, slen, num, exptime * 1000, flags, forcible_p)
    if rc == 0 then return true, nil, forcible_p[0] == 1 end
    return false, errors[rc], forcible_p[0] == 1
end

local function number_arg(v, what)
    local t = type(v)
    if t == "number" then return v end
    local n = tonumber(v)
    if not n then error("bad " .. what .. " arg: number expected, got " .. t, 3) end
    return n
end

local function incr(zone, key, value, init, init_ttl)
    local d = check_zone(zone)
    if key ~= nil and type(key) ~= "string" then key = tostring(key) end
    local err = key_error(key)
    if err then return nil, err end
    if type(value) ~= "number" then value = tonumber(value) end
    num_p[0] = value
    if init then init = number_arg(init, "init") end
    if init_ttl ~= nil then
        init_ttl = number_arg(init_ttl, "init_ttl")
        if init_ttl < 0 then error('bad "init_ttl" argument', 2) end
        if not init then error('must provide "init" when providing "init_ttl"', 2) end
    else
        init_ttl = 0
    end
    local rc = C.tcplua_ffi_shdict_incr(d, key, #key, num_p, init and 1 or 0, init or 0, init_ttl * 1000,
                                        forcible_p)
    if rc ~= 0 then return nil, errors[rc] end
    if not init then return tonumber(num_p[0]) end
    return tonumber(num_p[0]), nil, forcible_p[0] == 1
end

local function ttl(zone, key)
    local d = check_zone(zone)
    if key ~= nil and type(key) ~= "string" then key = tostring(key) end
    local err = key_error(key)
    if err then return nil, err end
    local rc = C.tcplua_ffi_shdict_ttl(d, key, #key, num_p)
    if rc ~= 0 then return nil, errors[rc] end
    return tonumber(num_p[0]) / 1000
end

local function expire(zone, key, exptime)
    local d = check_zone(zone)
    if not exptime then error('bad "exptime" argument', 2) end
    if key ~= nil and type(key) ~= "string" then key = tostring(key) end
    local err = key_error(key)
    if err then return nil, err end
    local rc = C.tcplua_ffi_shdict_expire(d, key, #key, exptime * 1000)
    if rc ~= 0 then return nil, errors[rc] end
    return true
end

-- The methods ngx_lua writes in C check their argument count and types the C API's way.
local function nargs(name, want, n)
    if n ~= want then error("expecting " .. want .. " arguments, but only seen " .. n, 3) end
end

-- luaL_argerror's message: a method call (d:name()) does not count self as an argument.
-- Raised at the level of the script, four frames up (arg_error, the check, the method body).
local function arg_error(name, n, msg)
    for level = 2, 5 do
        local info = debug.getinfo(level, "n")
        if info and info.name == name then
            if info.namewhat ~= "method" then n = n + 1 end
            break
        end
    end
    error("bad argument #" .. n .. " to '" .. name .. "' (" .. msg .. ")", 4)
end

local function list_key(name, key)
    local t = type(key)
    if t == "number" then return tostring(key) end
    if t ~= "string" and key ~= nil then arg_error(name, 1, "string expected, got " .. t) end
    return key
end

local function push(name, left, ...)
    nargs(name, 3, select("#", ...))
    local zone, key, value = ...
    local d = check_zone(zone)
    key = list_key(name, key)
    local err = key_error(key)
    if err then return nil, err end
    local vt, str, slen, num = encode(value, false)
    if not vt then return nil, "bad value type" end
    local rc = C.tcplua_ffi_shdict_push(d, key, #key, left, vt, str, slen, num, num_p)
    if rc ~= 0 then return nil, errors[rc] end
    return tonumber(num_p[0])
end

local function pop(name, left, ...)
    nargs(name, 2, select("#", ...))
    local zone, key = ...
    local d = check_zone(zone)
    key = list_key(name, key)
    local err = key_error(key)
    if err then return nil, err end
    str_p[0] = buf
    len_p[0] = BUF_SIZE
    local rc = C.tcplua_ffi_shdict_pop(d, key, #key, left, type_p, str_p, len_p, num_p)
    if rc == NOT_FOUND then return nil end
    if rc ~= 0 then return nil, errors[rc] end
    return fetch(type_p[0])
end

-- get_keys and flush_expired: (dict[, max]); a table self is checked the C API's way.
local function count_arg(name, ...)
    local n = select("#", ...)
    if n < 1 or n > 2 then error("expecting 1 or 2 argument(s), but saw " .. n, 3) end
    local zone, max = ...
    if type(zone) ~= "table" then
        error("bad argument #1 to '" .. name .. "' (table expected, got " .. type(zone) .. ")", 3)
    end
    if type(rawget(zone, 1)) ~= "userdata" then error("bad user data for the ngx_shm_zone_t pointer", 3) end
    local d = check_zone(zone)
    if n == 2 then
        local m = tonumber(max)
        if type(max) ~= "number" and (type(max) ~= "string" or not m) then
            arg_error(name, 1, "number expected, got " .. type(max))
        end
        max = m
    end
    return d, max
end

local methods = {
    get = function(zone, key) return get(zone, key, 0) end,
    get_stale = function(zone, key) return get(zone, key, 1) end,
    set = function(z, k, v, e, f) return store(z, SET, k, v, e, f) end,
    safe_set = function(z, k, v, e, f) return store(z, SAFE_SET, k, v, e, f) end,
    add = function(z, k, v, e, f) return store(z, ADD, k, v, e, f) end,
    safe_add = function(z, k, v, e, f) return store(z, SAFE_ADD, k, v, e, f) end,
    replace = function(z, k, v, e, f) return store(z, REPLACE, k, v, e, f) end,
    delete = function(z, k) return store(z, SET, k, nil) end,
    incr = incr,
    ttl = ttl,
    expire = expire,
    capacity = function(zone) return tonumber(C.tcplua_ffi_shdict_capacity(check_zone(zone))) end,
    free_space = function(zone) return tonumber(C.tcplua_ffi_shdict_free_space(check_zone(zone))) end,
    flush_all = function(zone) C.tcplua_ffi_shdict_flush_all(check_zone(zone)) end,
    lpush = function(...) return push("lpush", 1, ...) end,
    rpush = function(...) return push("rpush", 0, ...) end,
    lpop = function(...) return pop("lpop", 1, ...) end,
    rpop = function(...) return pop("rpop", 0, ...) end,
}

function methods.llen(...)
    nargs("llen", 2, select("#", ...))
    local zone, key = ...
    local d = check_zone(zone)
    key = list_key("llen", key)
    local err = key_error(key)
    if err then return nil, err end
    local rc = C.tcplua_ffi_shdict_llen(d, key, #key, num_p)
    if rc ~= 0 then return nil, errors[rc] end
    return tonumber(num_p[0])
end

function methods.flush_expired(...)
    local d, max = count_arg("flush_expired", ...)
    return C.tcplua_ffi_shdict_flush_expired(d, max or 0)
end

function methods.get_keys(...)
    local d, max = count_arg("get_keys", ...)
    local n = C.tcplua_ffi_shdict_keys(d, max or 1024)
    if n < 0 then error("no memory", 2) end
    local keys = {}
    for i = 0, n - 1 do
        C.tcplua_ffi_shdict_key(d, i, key_p, len_p)
        keys[i + 1] = ffi_str(key_p[0], len_p[0])
    end
    return keys
end

-- As lua-resty-core: one metatable for every dictionary, which is its own __index.
methods.__index = methods

return function(stores)
    local shared = {}
    for name, d in pairs(stores) do shared[name] = setmetatable({ d }, methods) end
    return shared
end
