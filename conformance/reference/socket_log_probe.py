#!/usr/bin/python3
"""What ngx_lua 0.10.23 logs for cosocket failures (SPEC [socket.log.errors], [socket.log.io]).

Runs the scripts of test_cosocket.py's SOCKET_LOG_CASES (and the reset case of
test_socket_io_errors_logged) under content_by_lua_block, each with lua_socket_log_errors on
and off, against the same upstream fixtures, and writes one line per run to
socket_log_ngx_lua.txt: `LOCATION => what the script said => [error] messages` (the
context after `, client:` left out). Needs Debian's nginx and libnginx-mod-http-lua.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import test_cosocket as T                                   # noqa: E402
from tcplua_harness.upstreams import Reset, free_port       # noqa: E402

IO_LUA = """local s = ngx.socket.tcp()
assert(s:connect("127.0.0.1", PORT))
assert(s:send("x"))
ngx.say(s:receive())
ngx.say(s:receive())
ngx.say(s:send("y"))
ngx.log(ngx.ERR, "END_OF_CASE")"""


def scripts():
    """(name, the fixture kept alive or None, the Lua body) of every case."""
    for name, (fixture, script, _said, _message) in sorted(T.SOCKET_LOG_CASES.items()):
        f = fixture().start() if fixture else None
        port = f.port if f else free_port()
        body = "local s = ngx.socket.tcp()\n%s\nngx.log(ngx.ERR, 'END_OF_CASE')" % script
        yield name, f, body.replace("PORT", str(port))
    f = Reset(after=1).start()
    yield "io_reset", f, IO_LUA.replace("PORT", str(f.port))


def main():
    prefix = tempfile.mkdtemp(prefix="socket_log_probe.")
    os.makedirs(prefix + "/logs")
    port = free_port()
    cases = list(scripts())
    locs = ["location /%s_%s { lua_socket_log_errors %s; content_by_lua_block {\n%s\n} }"
            % (name, sw, sw, body) for name, _f, body in cases for sw in ("on", "off")]
    with open(prefix + "/nginx.conf", "w") as conf:
        conf.write("""load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
daemon off; master_process off; error_log logs/error.log info; pid logs/nginx.pid;
events {}
http { access_log off; server { listen 127.0.0.1:%d;
%s
} }
""" % (port, "\n".join(locs)))
    nginx = subprocess.Popen(["nginx", "-p", prefix, "-c", prefix + "/nginx.conf"])
    log, out = prefix + "/logs/error.log", []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/none" % port)
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        for loc in [l.split()[1] for l in locs]:
            open(log, "w").close()
            said = urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, loc)).read().decode()
            while "END_OF_CASE" not in open(log).read():
                time.sleep(0.02)
            msgs = [re.sub(r"^.*? \[error\] \d+#\d+: \*\d+ ", "", l).split(", client:")[0]
                    for l in open(log) if "[error]" in l and "END_OF_CASE" not in l]
            # ngx_lua's pointers vary from run to run
            msgs = [re.sub(r"0x[0-9a-fA-F]+|[0-9A-F]{16}", "PTR", m) for m in msgs]
            out.append("%s => %s => %s" % (loc[1:], " | ".join(said.splitlines()), msgs))
    finally:
        nginx.terminate()
        nginx.wait()
    # the ports of the upstreams vary from run to run
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", "\n".join(out) + "\n")
    with open(os.path.join(HERE, "socket_log_ngx_lua.txt"), "w") as f:
        f.write(text)
    print("wrote %s (%d runs)" % (os.path.join(HERE, "socket_log_ngx_lua.txt"), len(out)))


if __name__ == "__main__":
    main()
