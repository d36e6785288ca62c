#!/bin/bash
# Records how OpenResty's ngx_lua (Debian 12: nginx, libnginx-mod-http-lua,
# lua-resty-core) behaves for cosockets (ngx.socket.tcp): starts the upstream fixtures of
# cosocket_fixtures.json (conformance/tcplua_harness/upstreams.py: echo servers, a DNS
# responder, ...), starts nginx in the foreground on 127.0.0.1 (a free port) in a scratch
# prefix under /tmp with `resolver` pointing at the DNS fixture, fetches /t (whose
# content_by_lua_block runs cosocket_probe.lua's run) and /noresolver (a location without
# any resolver: run_no_resolver), and writes cosocket_ngx_lua.txt beside this script (or $1).
#
#   apt-get install nginx libnginx-mod-http-lua lua-resty-core curl python3
#   conformance/reference/cosocket_probe.sh [OUTPUT]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/cosocket_ngx_lua.txt}
probe=$here/cosocket_probe.lua
upstreams=$here/../tcplua_harness/upstreams.py
modules=/usr/lib/nginx/modules
python=/usr/bin/python3

for f in /usr/sbin/nginx "$modules/ndk_http_module.so" "$modules/ngx_http_lua_module.so" \
         /usr/share/lua/5.1/resty/core.lua; do
    [ -e "$f" ] || { echo "missing $f: apt-get install nginx libnginx-mod-http-lua lua-resty-core" >&2; exit 1; }
done

port=$($python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prefix=$(mktemp -d /tmp/cosocket_probe.XXXXXX)
mkdir -p "$prefix/conf" "$prefix/logs"

# The fixtures run until this script ends (--until-eof: they stop when the fifo closes).
mkfifo "$prefix/fixtures.in"
$python "$upstreams" --spec "@$here/cosocket_fixtures.json" --dir "$prefix" --until-eof \
    < "$prefix/fixtures.in" > "$prefix/fixtures.out" 2> "$prefix/fixtures.err" &
fixtures_pid=$!
exec 9> "$prefix/fixtures.in"
pid=
cleanup() {
    [ -n "$pid" ] && { kill -QUIT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    exec 9>&- || true
    kill "$fixtures_pid" 2>/dev/null || true
    wait "$fixtures_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
    grep -q '^ready$' "$prefix/fixtures.out" && break
    kill -0 $fixtures_pid 2>/dev/null || { cat "$prefix/fixtures.err" >&2; exit 1; }
    sleep 0.1
done
grep -q '^ready$' "$prefix/fixtures.out" || { echo "fixtures did not start" >&2; cat "$prefix/fixtures.err" >&2; exit 1; }
dns_port=$(awk '$1 == "dns" { print $2 }' "$prefix/fixtures.out")
printf 'return %s\n' "$(sed -n 's/^lua //p' "$prefix/fixtures.out")" > "$prefix/conf/env.lua"

# Debian loads the modules through /etc/nginx/modules-enabled (NDK first, then lua);
# the lua module's compiled-in lua_package_path starts with /usr/share/lua/5.1/?.lua,
# where lua-resty-core lives, and the module loads resty.core by itself.
# The resolver is set per location, so /noresolver has none at all.
cat > "$prefix/conf/nginx.conf" <<EOF
load_module $modules/ndk_http_module.so;
load_module $modules/ngx_http_lua_module.so;

daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log notice;
pid logs/nginx.pid;

events { worker_connections 256; }

http {
    access_log off;
    lua_socket_log_errors off;

    server {
        listen 127.0.0.1:$port;
        location = /ready { return 204; }
        location /t {
            resolver 127.0.0.1:$dns_port;
            resolver_timeout 300ms;
            content_by_lua_block {
                dofile("$probe").run(function (line) ngx.say(line) end, dofile("$prefix/conf/env.lua"))
            }
        }
        location /noresolver {
            content_by_lua_block {
                dofile("$probe").run_no_resolver(function (line) ngx.say(line) end, dofile("$prefix/conf/env.lua"))
            }
        }
    }
}
EOF

/usr/sbin/nginx -p "$prefix" -c conf/nginx.conf -e logs/error.log &
pid=$!

for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break
    kill -0 $pid 2>/dev/null || { cat "$prefix/logs/error.log" >&2; exit 1; }
    sleep 0.1
done

for loc in t noresolver; do
    curl -sS --max-time 300 "http://127.0.0.1:$port/$loc" > "$prefix/$loc.txt"
    if [ "$(tail -n 1 "$prefix/$loc.txt")" != "# end" ]; then
        echo "probe output of /$loc incomplete; error log:" >&2
        tail -n 30 "$prefix/logs/error.log" >&2
        exit 1
    fi
done

kill -QUIT $pid; wait $pid || true; pid=

ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
{
    echo "# cosocket (ngx.socket.tcp) behaviour of OpenResty's ngx_lua, recorded by cosocket_probe.sh"
    echo "# nginx $(ver nginx), libnginx-mod-http-lua $(ver libnginx-mod-http-lua), lua-resty-core $(ver lua-resty-core), libluajit2-5.1-2 $(ver libluajit2-5.1-2)"
    echo "# line format: NAME => N|result1|result2...  (N = select('#', ...)), or NAME => ERR: message; see cosocket_probe.lua"
    echo "# fixtures: cosocket_fixtures.json; resolver 127.0.0.1:DNS (no valid=, so the answers' ttl 300 counts); resolver_timeout 300ms;"
    echo "# lua_socket_log_errors off; other lua_socket_* at their defaults (timeouts 60s, buffer 4k, pool size 30)"
    echo "#"
    echo "# content_by_lua_block, location with the resolver"
    cat "$prefix/t.txt"
    echo "#"
    echo "# content_by_lua_block, location without any resolver"
    cat "$prefix/noresolver.txt"
} > "$out"

if grep -aq '\[error\]\|\[alert\]\|\[crit\]' "$prefix/logs/error.log"; then
    echo "note: the error log has errors:" >&2
    grep -a '\[error\]\|\[alert\]\|\[crit\]' "$prefix/logs/error.log" >&2
fi
cleanup; trap - EXIT
rm -rf "$prefix"
echo "wrote $out ($(grep -c ' => ' "$out") probes)"
