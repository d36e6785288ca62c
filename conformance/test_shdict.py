"""SPEC §6.7 shared dictionaries: ngx.shared.DICT behaves as ngx_lua 0.10.23's.

The reference is recorded, not remembered: conformance/reference/shdict_probe.lua ran under
OpenResty's ngx_lua (Debian 12 packages) and wrote conformance/reference/shdict_ngx_lua.txt,
one line per probe (`NAME => N|results...` or `NAME => ERR: message`). These cases run the
same probe file inside the implementation (init_by_lua for the init.* probes, a session for
the rest, with the same two dictionaries) and compare each probe's line with the recorded one.

Compared exactly, with three exceptions stated by SPEC [shdict.reference]: errors that ngx_lua
raises from inside its own binding (the message names its file or its FFI functions) only
have to be errors; probes whose result depends on timing (names ending in "~") only have to
return as many values; and results that depend on the allocator's page and size-class layout
(free_space figures, how many items a 12k zone holds) are not compared here: the eviction
cases below check what the clause says about them instead. init_worker_by_lua does not exist
in a TCP server, so its probes are skipped, and so is the one that needs the `coroutine` library,
which scripts do not have ([session.coroutine_lib]).

Every case declares needs("shdict") (plus what else it uses: master_process, reload, init_log
for the probes logged from init_by_lua, wait_next_request), all in one marker. The client sends
first (the 2015 module starts a script only on the first client byte): scripts begin with
START_LUA, which consumes the byte Client.start() sends.
"""
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tcplua_harness.cases import (LUA_PID, MASTER, PID_SERVER, parse_record, rewrite, script_tcp,
                                   wait_workers)
from tcplua_harness.client import START_LUA
from tcplua_harness.procs import children, wait_until

spec = pytest.mark.spec
needs = pytest.mark.needs

REFERENCE = Path(__file__).resolve().parent / "reference"
PROBE = (REFERENCE / "shdict_probe.lua").read_text()

# Results that depend on the allocator's layout, not on the API (SPEC shdict.reference).
ALLOCATOR = re.compile(r"^(free_space\.|init\.free_space$|tiny\.|d\.|huge\.set_evicts_valid_items$|"
                       r"flush_all\.free_space_vs_reset$)")
# init_worker_by_lua does not exist in a TCP server; `coroutine` is nil in scripts
# ([session.coroutine_lib]).
NOT_TCP = re.compile(r"^(init_worker\.|from_init_worker\.|value\.coroutine$)")
# An error raised inside ngx_lua's own binding: "ERR: /usr/share/lua/.../shdict.lua:N: ..."
INTERNAL_ERR = re.compile(r"^ERR: /\S+\.lua:\d+: ")


REF = parse_record((REFERENCE / "shdict_ngx_lua.txt").read_text())

# pcall: without capability init_log (ngx.log raises in init_by_lua, as in the 2015 module) the
# init.* probes are not run, but init must still fill the dictionaries for the from_init.* ones;
# a line that could not be logged makes its probe fail as "printed nothing".
INIT_LUA = """
dofile("@PREFIX@/conf/probe.lua").init(function (line)
    pcall(ngx.log, ngx.NOTICE, "SHDICT_PROBE ", line, " SHDICT_EOL")
end)
"""
RUN_LUA = START_LUA + """
dofile("@PREFIX@/conf/probe.lua").run(function (line) ngx.say(line) end)
"""

_results = {}


def probe_results(server):
    """Runs every probe once per test session (they take a few seconds of sleeps) and
    returns {name: line}."""
    if not _results:
        srv = server(tcp=script_tcp(tcp_extra="lua_shared_dict d 1m;\nlua_shared_dict tiny 12k;\n"
                                    "init_by_lua_file conf/init.lua;"),
                     files={"conf/t.lua": RUN_LUA, "conf/init.lua": INIT_LUA,
                            "conf/probe.lua": PROBE})
        # Longer than the default deadline: the probes sleep to observe expiry (about 1 s
        # here); a slower implementation may legitimately need a few seconds more.
        said = srv.connect().start().recv_until_close(15).decode("latin-1")
        logged = "\n".join(m.group(1) for m in re.finditer(r"SHDICT_PROBE (.*) SHDICT_EOL", srv.error_log()))
        _results.update(parse_record(said + "\n" + logged))
        _results["__raw__"] = said
    return _results


def probes(*prefixes):
    names = [n for n in REF if n.startswith(prefixes) and not ALLOCATOR.match(n) and not NOT_TCP.match(n)]
    assert names, "no reference probes for %r" % (prefixes,)
    return names


def check(server, name):
    __tracebackhide__ = True
    got = probe_results(server).get(name)
    want = REF[name]
    assert got is not None, "probe %s printed nothing; the session said:\n%s" % (
        name, probe_results(server)["__raw__"][-2000:])
    if INTERNAL_ERR.match(want):
        assert got.startswith("ERR: "), "%s: ngx_lua raises (%s); got %s" % (name, want, got)
    elif name.endswith("~"):
        assert got.split("|")[0] == want.split("|")[0], "%s: %s, want the shape of %s" % (name, got, want)
    else:
        assert got == want, "%s:\n  got  %s\n  want %s (ngx_lua)" % (name, got, want)


@spec("shdict.shared", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", [
    # init.* probes report from init_by_lua through ngx.log.
    pytest.param(n, marks=needs("shdict", "init_log")) if n.startswith("init.") else n
    for n in probes("shared.", "dict.", "capacity.", "init.", "from_init.")])
def test_shared_table_and_contexts(server, name):
    """shdict.shared: ngx.shared.NAME is one table per lua_shared_dict (nil for another name),
    usable from init_by_lua* and from sessions, with the methods of ngx_lua."""
    check(server, name)


@spec("shdict.get", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("get.", "get_stale."))
def test_get(server, name):
    """shdict.get: get and get_stale return the value and non-zero flags as ngx_lua does."""
    check(server, name)


@spec("shdict.value", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("value."))
def test_value_types(server, name):
    """shdict.value: nil, booleans, numbers and strings round-trip; other types are
    `nil, "bad value type"`."""
    check(server, name)


@spec("shdict.store", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("set.", "safe_set.", "add.", "safe_add.", "replace.", "delete."))
def test_store(server, name):
    """shdict.store: set/safe_set/add/safe_add/replace/delete results and errors."""
    check(server, name)


@spec("shdict.key", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("key."))
def test_keys(server, name):
    """shdict.key: nil, empty and over-long keys, keys of other types."""
    check(server, name)


@spec("shdict.exptime", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("exptime.", "expiry."))
def test_exptime_and_expiry(server, name):
    """shdict.exptime: exptime in seconds with millisecond precision; expired items."""
    check(server, name)


@spec("shdict.flags", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("flags."))
def test_flags(server, name):
    """shdict.flags: user flags as a C int."""
    check(server, name)


@spec("shdict.incr", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("incr."))
def test_incr(server, name):
    """shdict.incr: incr with and without init and init_ttl; its errors."""
    check(server, name)


@spec("shdict.ttl", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("ttl.", "expire."))
def test_ttl_and_expire(server, name):
    """shdict.ttl: ttl and expire."""
    check(server, name)


@spec("shdict.flush", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("flush_all.", "flush_expired."))
def test_flush(server, name):
    """shdict.flush: flush_all and flush_expired."""
    check(server, name)


@spec("shdict.get_keys", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("get_keys."))
def test_get_keys(server, name):
    """shdict.get_keys: least recently used first, expired left out, the limit."""
    check(server, name)


@spec("shdict.list", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("list."))
def test_lists(server, name):
    """shdict.list: lpush/rpush/lpop/rpop/llen."""
    check(server, name)


@spec("shdict.self", "shdict.reference")
@needs("shdict")
@pytest.mark.parametrize("name", probes("dot.", "self."))
def test_method_call_errors(server, name):
    """shdict.self: a method called with `.` instead of `:`, or on another table."""
    check(server, name)


@spec("shdict.evict")
@needs("shdict")
@pytest.mark.parametrize("name", probes("huge."))
def test_value_too_big(server, name):
    """shdict.evict: a value that can never fit is `false, "no memory"` (and, as ngx_lua, the
    key's old value is gone)."""
    check(server, name)


# -- across workers, eviction, reload, a dying worker -------------------------------------------

# Each connection keeps its worker busy for 30 ms (so a burst spreads over the workers), adds
# 20000 to "n" one incr at a time, and says its worker's PID and the last sum it saw.
INCR_LUA = START_LUA + """
local t = os.clock()
while os.clock() - t < 0.03 do end
local d = ngx.shared.d
local n
d:add("n", 0)                 -- not incr's init argument: the 2015 module's incr has none
for i = 1, 20000 do n = d:incr("n", 1) end
ngx.say(%s, " ", n)
""" % LUA_PID


@spec("shdict.workers")
@needs("shdict", "master_process")
def test_workers_share_one_dictionary(server):
    """shdict.workers: a value stored by one worker MUST be seen by every other worker, and
    concurrent incr of one key from several workers MUST lose no increment: bursts of
    connections served by both workers each add 20000; the largest sum any of them saw is
    the exact total."""
    srv = server(tcp="lua_shared_dict d 1m;\n" + script_tcp(), main=MASTER, files={"conf/t.lua": INCR_LUA})
    wait_workers(srv, 2)
    pids, sums, total = set(), [], 0
    for _ in range(20):
        clients = [srv.connect().start() for _ in range(4)]
        for c in clients:
            pid, n = c.recv_until_close().decode().split()
            pids.add(pid)
            sums.append(int(n))
        total += 4 * 20000
        if len(pids) == 2:
            break
    assert len(pids) == 2, "every connection was served by one worker: %r" % pids
    assert max(sums) == total, "lost increments: largest sum %d, expected %d" % (max(sums), total)


EVICT_LUA = START_LUA + r"""
local d = ngx.shared.tiny
local big = string.rep("v", 40)
local first_forcible
for i = 1, 10000 do
    local ok, err, forcible = d:set("k" .. i, big)
    if not ok then ngx.say("set failed ", i, " ", err) return end
    if forcible then first_forcible = i break end
end
ngx.say("forcible at ", first_forcible)
ngx.say("k1 gone ", d:get("k1") == nil)
ngx.say("last kept ", d:get("k" .. first_forcible) == big)
-- reading makes an item the most recently used: it survives the next eviction
local keys = d:get_keys(0)
local oldest, second = keys[1], keys[2]
d:get(oldest)
local ok, err, forcible = d:set("new", big)
ngx.say("set new ", ok, " ", tostring(err), " ", forcible)
ngx.say("read item kept ", d:get(oldest) ~= nil, " next one evicted ", d:get(second) == nil)
-- safe_set never evicts
ok, err, forcible = d:safe_set("safe", big)
ngx.say("safe_set ", ok, " ", err, " ", forcible)
ngx.say("lpush ", select("#", d:lpush("list", big)) > 0 and tostring((d:lpush("list2", big))) or "?")
local ok2, err2 = d:set("huge", string.rep("x", 1000000))
ngx.say("huge ", ok2, " ", err2)
local k = d:get_keys(1)[1]
d:delete(k)
ngx.say("still usable ", d:get(d:get_keys(1)[1]) == big, " ", d:set(k, big), " ", d:get(k) == big)
"""


@spec("shdict.evict")
@needs("shdict")
def test_eviction(server):
    """shdict.evict: a full zone makes room for set by evicting the least recently used item
    (forcible = true); a read makes an item the most recently used; safe_set never evicts
    (false, "no memory", false); a value too large ever to fit is false, "no memory" and the
    zone stays usable (its items read back; a deleted item's place takes a new one)."""
    srv = server(tcp=script_tcp(tcp_extra="lua_shared_dict tiny 12k;"), files={"conf/t.lua": EVICT_LUA})
    lines = srv.connect().start().recv_until_close().decode().splitlines()
    assert lines[0].startswith("forcible at ") and int(lines[0].split()[-1]) > 1, lines
    assert lines[1:3] == ["k1 gone true", "last kept true"], lines
    assert lines[3] == "set new true nil true", lines
    assert lines[4] == "read item kept true next one evicted true", lines
    assert lines[5] == "safe_set false no memory false", lines
    assert lines[7] == "huge false no memory", lines
    assert lines[8] == "still usable true true true", lines


RELOAD_LUA = START_LUA + """
local d = ngx.shared.d
local v = d:get("kept")
if not v then d:set("kept", "%s") v = "(none)" end
-- The zone's size through capacity() where the dictionary has it (the 2015 module's has not;
-- capacity itself is judged by the probes); the contents are this case's subject.
ngx.say(v, " ", d.capacity and d:capacity() or "-")
"""


def reload_reply(srv, value, size):
    __tracebackhide__ = True
    got = srv.connect().start().recv_until_close()
    assert got in (b"%s %d\n" % (value, size), b"%s -\n" % value), got


@spec("shdict.reload")
@needs("shdict", "master_process", "reload")
def test_reload_keeps_unchanged_zones(server):
    """shdict.reload: a reload that keeps a lua_shared_dict with the same name and size MUST
    keep its contents; a changed size MUST start empty."""
    tcp = "lua_shared_dict d %s;\n" + script_tcp()
    srv = server(tcp=tcp % "1m", main=MASTER, files={"conf/t.lua": RELOAD_LUA % "one"})
    reload_reply(srv, b"(none)", 1048576)
    reload_reply(srv, b"one", 1048576)
    old = wait_workers(srv, 2)
    rewrite(srv, tcp=tcp % "1m", main=MASTER, files={"conf/t.lua": RELOAD_LUA % "two"})
    srv.signal(signal.SIGHUP)
    wait_until(lambda: set(children(srv.pid)).isdisjoint(old) and len(children(srv.pid)) == 2, 10,
               lambda: "workers not replaced after HUP")
    reload_reply(srv, b"one", 1048576)
    old = wait_workers(srv, 2)
    rewrite(srv, tcp=tcp % "2m", main=MASTER, files={"conf/t.lua": RELOAD_LUA % "three"})
    srv.signal(signal.SIGHUP)
    wait_until(lambda: set(children(srv.pid)).isdisjoint(old) and len(children(srv.pid)) == 2, 10,
               lambda: "workers not replaced after HUP")
    reload_reply(srv, b"(none)", 2097152)


HAMMER_LUA = START_LUA + """
local d = ngx.shared.d
ngx.say(%s)
while true do
    for i = 1, 1000 do d:set("k" .. (i %% 50), string.rep("x", i %% 300)) d:incr("n", 1, 0) end
    ngx.sleep(0)
end
""" % LUA_PID


@spec("shdict.lock")
@needs("shdict", "master_process")
def test_worker_killed_while_writing(server):
    """shdict.lock: a worker that dies while it holds a dictionary's lock MUST NOT stop the
    other workers. One worker writes in a tight loop and is killed (SIGKILL) again and again,
    most likely at some point inside the store; the other workers (and the respawned ones)
    must still read and write the dictionary."""
    srv = server(tcp="lua_shared_dict d 1m;\n" + script_tcp() + PID_SERVER.replace("pid.lua", "ok.lua"),
                 main=MASTER, files={"conf/t.lua": HAMMER_LUA,
                                     "conf/ok.lua": START_LUA + 'ngx.shared.d:set("x", 1) ngx.say(ngx.shared.d:get("x"))'})
    for _ in range(10):
        wait_workers(srv, 2)
        c = srv.connect().start()
        pid = int(c.recv_line())
        time.sleep(0.02)        # let it write for a while: a kill at a random point of its loop
        os.kill(pid, signal.SIGKILL)
        c.recv_until_close()
    wait_workers(srv, 2)
    for _ in range(8):
        assert srv.connect(9).start().recv_until_close() == b"1\n"


# The seed's own example (the 2015 module's README, test.lua): test_shm() on every request.
SEED_TEST_SHM = """
local test_shm = function()
     local key = "x"
     local value = "hello world"
     local dogs = ngx.shared.db_lock
     local shm_value = dogs:get(key)

     if not shm_value then
         local succ, err, forcible = dogs:set(key,value,10000)
         ngx.log(ngx.INFO,tostring(succ)..","..tostring(err)..","..tostring(forcible))
     end

     local shm_value = dogs:get(key)
     ngx.log(ngx.INFO,tostring(shm_value))
end

while true do
     local data,r2,r3 = ngx.receive(10,6)
     ngx.say("receive ret "..tostring(data).." "..tostring(r2).." "..tostring(r3))
     if not data then
          ngx.say("exit")
          ngx.exit()
     end
   test_shm()
    ngx.wait_next_request()
end
"""


@spec("shdict.shared", "shdict.store", "shdict.get")
@needs("shdict", "wait_next_request")
def test_seed_test_shm_example(server):
    """shdict.shared, shdict.store, shdict.get: the seed's test_shm() (lua_shared_dict
    db_lock 100m): the first request sets "x" (logging true,nil,false) and both requests read
    "hello world" back."""
    srv = server(tcp=script_tcp(tcp_extra="lua_shared_dict db_lock 100m;"), files={"conf/t.lua": SEED_TEST_SHM})
    c = srv.connect()
    c.send(b"0123456789")
    assert c.recv_line() == b"receive ret 0123456789 nil nil\n"
    c.send(b"abcdef")
    assert c.recv_line() == b"receive ret abcdef nil nil\n"
    srv.wait_log(r"\[info\].*\[lua\] .*hello world.*\n(.|\n)*\[info\].*\[lua\] .*hello world")
    log = srv.error_log()
    # (?:NAME\(\): )?: ngx_lua of 2013 (the 2015 module) names the calling function there.
    assert len(re.findall(r"\[info\].*\[lua\] \S+ (?:\w+\(\): )?true,nil,false", log)) == 1, log[-2000:]
    assert len(re.findall(r"\[info\].*\[lua\] \S+ (?:\w+\(\): )?hello world", log)) == 2, log[-2000:]
