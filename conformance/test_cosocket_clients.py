"""SPEC [socket.clients]: real cosocket clients written for ngx_lua run unchanged in a
session: Debian's lua-resty-redis (package lua-nginx-redis, module "nginx.redis") against a
redis-server, and lua-resty-memcached (lua-nginx-memcached, "nginx.memcached") against a
memcached, each started by the test on a loopback port. The scripts are the libraries'
documented usage; connection reuse is proved by getreusedtimes() and by the servers' own
connection counters. The client sends first (the 2015 module starts a script only on the
first client byte): the scripts begin with START_LUA, which consumes the byte
Client.start() sends.
"""
import os
import shutil
import socket
import subprocess
import time

import pytest

from tcplua_harness.cases import serve
from tcplua_harness.client import START_LUA
from tcplua_harness.upstreams import free_port

spec = pytest.mark.spec

LIB = "/usr/share/lua/5.1/nginx"


def start_daemon(argv, port):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("%s did not start on port %d" % (argv[0], port))
            time.sleep(0.05)


def need(binary, module):
    if not shutil.which(binary) or not os.path.exists(os.path.join(LIB, module)):
        pytest.skip("needs %s and %s/%s (make deps installs them)" % (binary, LIB, module))


def read_until(sock, done):
    data = b""
    while not done(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def counter(text, key):
    for line in text.decode("latin-1").splitlines():
        parts = line.replace(":", " ").split()
        if key in parts[:2]:
            return int(parts[-1])
    raise AssertionError("no %s in %r" % (key, text[:300]))


def redis_stat(port, key):
    """A counter of redis' INFO: a bulk reply "$LEN\r\n" + LEN bytes + "\r\n"."""
    def done(d):
        return b"\r\n" in d and len(d) >= d.index(b"\r\n") + 2 + int(d[1:d.index(b"\r\n")]) + 2
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"INFO stats\r\n")
        return counter(read_until(s, done), key)


def memcached_stat(port, key):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"stats\r\n")
        return counter(read_until(s, lambda d: d.endswith(b"END\r\n")), key)


@pytest.fixture
def redis():
    need("redis-server", "redis.lua")
    port = free_port()
    proc = start_daemon(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no"], port)
    yield port
    proc.kill()
    proc.wait()


@pytest.fixture
def memcached():
    need("memcached", "memcached.lua")
    port = free_port()
    proc = start_daemon(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-u", "root"]
                        if os.geteuid() == 0 else
                        ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0"], port)
    yield port
    proc.kill()
    proc.wait()


REDIS_LUA = START_LUA + r"""
local redis = require "nginx.redis"
local red = redis:new()
red:set_timeout(1000)
local ok, err = red:connect("127.0.0.1", %d)
if not ok then ngx.say("failed to connect: ", err) return end
ngx.say("reused ", red:get_reused_times())
ngx.say("set ", red:set("dog", "an animal"))
ngx.say("get ", red:get("dog"))
ngx.say("missing ", tostring(red:get("nokey") == ngx.null))
red:init_pipeline()
red:set("cat", "Marry")
red:set("horse", "Bob")
red:get("cat")
red:get("horse")
local results, err = red:commit_pipeline()
ngx.say("pipeline ", table.concat(results, ","))
ngx.say("incr ", red:incr("n"))
local ok, err = red:set_keepalive(10000, 100)
ngx.say("keepalive ", ok, " ", tostring(err))
"""


@spec("socket.clients")
@pytest.mark.needs("cosocket")
def test_lua_resty_redis(server, redis):
    """socket.clients: lua-resty-redis: set/get, a nil reply as ngx.null, pipelining, and
    set_keepalive, after which the next session's connection is reused (reused 1, 2) and the
    redis server counts one connection for three sessions."""
    srv = serve(server, REDIS_LUA % redis)
    for i in range(3):
        said = srv.connect().start().recv_until_close().decode().splitlines()
        assert said == ["reused %d" % i, "set OK", "get an animal", "missing true",
                        "pipeline OK,OK,Marry,Bob", "incr %d" % (i + 1), "keepalive 1 nil"], said
    # the start-up probe, the sessions' one pooled connection, this INFO
    assert redis_stat(redis, "total_connections_received") == 3


MEMC_LUA = START_LUA + r"""
local memcached = require "nginx.memcached"
local memc, err = memcached:new()
memc:set_timeout(1000)
local ok, err = memc:connect("127.0.0.1", %d)
if not ok then ngx.say("failed to connect: ", err) return end
ngx.say("reused ", memc:get_reused_times())
assert(memc:flush_all())
ngx.say("set ", memc:set("dog key/with space", 32))
ngx.say("get ", (memc:get("dog key/with space")))
ngx.say("add ", memc:add("dog key/with space", 1))
ngx.say("incr ", memc:incr("counter", 1))
ngx.say("set ", memc:set("counter", 10))
ngx.say("incr ", memc:incr("counter", 5))
ngx.say("keepalive ", memc:set_keepalive(10000, 100))
"""


@spec("socket.clients")
@pytest.mark.needs("cosocket")
def test_lua_resty_memcached(server, memcached):
    """socket.clients: lua-resty-memcached (which escapes keys with ngx.escape_uri): set, get,
    add of an existing key, incr, and set_keepalive with reuse across sessions; memcached
    counts one connection for three sessions."""
    srv = serve(server, MEMC_LUA % memcached)
    for i in range(3):
        said = srv.connect().start().recv_until_close().decode().splitlines()
        assert said == ["reused %d" % i, "set 1", "get 32", "add nilNOT_STORED",
                        "incr nilNOT_FOUND", "set 1", "incr 15", "keepalive 1"], said
    # the start-up probe, the sessions' one pooled connection, this stats (memcached also
    # counts its listening socket)
    assert memcached_stat(memcached, "total_connections") == 4
