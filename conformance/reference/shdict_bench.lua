-- Micro-benchmarks of ngx.shared.DICT in OpenResty's ngx_lua, run by shdict_bench.sh.
local M = {}

local function now()
    ngx.update_time()
    return ngx.now()
end

local function rate(name, n, t0, c0)
    local dt = now() - t0
    local cpu = os.clock() - c0
    ngx.say(string.format("%-22s %8d ops  %7.3f s  %7.3f s cpu  %12.0f ops/s",
                          name, n, dt, cpu, n / dt))
end

-- /ops?n=N: N get, set and incr calls on keys drawn round-robin from a fixed set of
-- 1000 pre-populated keys (values are numbers, so set reuses the node in place)
function M.ops()
    local d = ngx.shared.bench
    local n = tonumber(ngx.var.arg_n) or 1000000
    local nkeys = 1000
    local keys, skeys = {}, {}
    d:flush_all()
    d:flush_expired()
    for i = 1, nkeys do
        keys[i] = "key" .. i
        skeys[i] = "str" .. i
        d:set(keys[i], i)
        d:set(skeys[i], string.format("%032d", i))
    end
    local str32 = string.rep("y", 32)

    local t0, c0 = now(), os.clock()
    local x = 0
    for i = 1, n do
        local k = keys[i % nkeys + 1]
        if k == nil then x = x + 1 end
    end
    rate("loop (baseline)", n, t0, c0)

    t0, c0 = now(), os.clock()
    for i = 1, n do
        local v = d:get(keys[i % nkeys + 1])
        if v == nil then x = x + 1 end
    end
    rate("get (number)", n, t0, c0)

    t0, c0 = now(), os.clock()
    for i = 1, n do
        local v = d:get(skeys[i % nkeys + 1])
        if v == nil then x = x + 1 end
    end
    rate("get (32-byte string)", n, t0, c0)

    t0, c0 = now(), os.clock()
    for i = 1, n do
        d:set(keys[i % nkeys + 1], i)
    end
    rate("set (number)", n, t0, c0)

    t0, c0 = now(), os.clock()
    for i = 1, n do
        d:set(skeys[i % nkeys + 1], str32)
    end
    rate("set (32-byte string)", n, t0, c0)

    t0, c0 = now(), os.clock()
    for i = 1, n do
        d:incr(keys[i % nkeys + 1], 1)
    end
    rate("incr", n, t0, c0)

    t0, c0 = now(), os.clock()
    for i = 1, n do
        d:incr("one", 1, 0)
    end
    rate("incr (one key, init)", n, t0, c0)

    if x ~= 0 then ngx.say("misses: ", x) end
end

-- /overhead: 10^5 entries of 16-byte keys and 32-byte values in a 64m zone
function M.overhead()
    local z = ngx.shared.z64
    local n = 100000
    z:flush_all()
    z:flush_expired()
    local cap, free0 = z:capacity(), z:free_space()
    local fails, forced = 0, 0
    for i = 1, n do
        local ok, err, forcible = z:set(string.format("%016d", i), string.format("%032d", i))
        if not ok then fails = fails + 1 end
        if forcible then forced = forced + 1 end
    end
    local free1 = z:free_space()
    ngx.say(string.format("capacity %d, free_space empty %d, after %d entries %d (failed %d, forcible %d)",
                          cap, free0, n, free1, fails, forced))
    ngx.say(string.format("(capacity - free_space) / 10^5 = %.1f bytes/entry; " ..
                          "(free_space empty - free_space full) / 10^5 = %.1f bytes/entry",
                          (cap - free1) / n, (free0 - free1) / n))
    z:flush_all()
    z:flush_expired()
end

-- /reset2: zero the shared counter and the barrier
function M.reset2()
    local d = ngx.shared.bench
    d:set("counter", 0)
    d:set("arrived", 0)
    ngx.say("ok")
end

-- /incr2?n=N: wait until two requests have arrived (up to 5 s), then N incr on one key
function M.incr2()
    local d = ngx.shared.bench
    local n = tonumber(ngx.var.arg_n) or 1000000
    d:incr("arrived", 1, 0)
    local deadline = now() + 5
    while d:get("arrived") < 2 and now() < deadline do
        ngx.sleep(0.001)
    end
    local t0, c0 = now(), os.clock()
    for _ = 1, n do
        d:incr("counter", 1)
    end
    local dt = now() - t0
    ngx.say(string.format("worker_pid=%d n=%d elapsed=%.3f s cpu=%.3f s %.0f ops/s",
                          ngx.worker.pid(), n, dt, os.clock() - c0, n / dt))
end

function M.get2()
    ngx.say(ngx.shared.bench:get("counter"))
end

return M
