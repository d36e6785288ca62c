-- HAProxy Lua TCP echo service for bench/run.sh: one receive and one send per 64-byte message.
-- applet:receive(n) returns exactly n bytes (nil or "" at end of connection).
local size = tonumber(os.getenv("BENCH_MSG") or "64")
core.register_service("echo", "tcp", function(applet)
    while true do
        local d = applet:receive(size)
        if d == nil or d == "" then return end
        applet:send(d)
    end
end)
