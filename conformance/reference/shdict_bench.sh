#!/bin/bash
# Times ngx.shared.DICT in OpenResty's ngx_lua (Debian 12 packages): starts nginx in the
# foreground (master + 2 workers) on 127.0.0.1 in a scratch prefix under /tmp, and through
# shdict_bench.lua measures
#   - 10^6 get / set / incr on keys from a fixed set of 1000 pre-populated keys (one request),
#   - the zone overhead: 10^5 entries of 16-byte keys and 32-byte values in a 64m zone,
#   - two concurrent requests, one in each worker, each doing 10^6 incr on one key, and the
#     final count.
# Each run starts a fresh nginx. Writes shdict_bench_ngx_lua.txt beside this script (or $2).
#
#   conformance/reference/shdict_bench.sh [RUNS (default 3)] [OUTPUT]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-3}
out=${2:-$here/shdict_bench_ngx_lua.txt}
bench=$here/shdict_bench.lua
modules=/usr/lib/nginx/modules
n=1000000

for f in /usr/sbin/nginx "$modules/ndk_http_module.so" "$modules/ngx_http_lua_module.so" \
         /usr/share/lua/5.1/resty/core.lua; do
    [ -e "$f" ] || { echo "missing $f: apt-get install nginx libnginx-mod-http-lua lua-resty-core" >&2; exit 1; }
done

one_run() {
    local port prefix pid url
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    prefix=$(mktemp -d /tmp/shdict_bench.XXXXXX)
    mkdir -p "$prefix/conf" "$prefix/logs"
    cat > "$prefix/conf/nginx.conf" <<EOF
load_module $modules/ndk_http_module.so;
load_module $modules/ngx_http_lua_module.so;

daemon off;
master_process on;
worker_processes 2;
error_log logs/error.log notice;
pid logs/nginx.pid;

events { worker_connections 64; }

http {
    access_log off;
    lua_shared_dict bench 16m;
    lua_shared_dict z64 64m;

    server {
        listen 127.0.0.1:$port reuseport;
        location = /ready    { return 204; }
        location = /ops      { content_by_lua_block { dofile("$bench").ops() } }
        location = /overhead { content_by_lua_block { dofile("$bench").overhead() } }
        location = /reset2   { content_by_lua_block { dofile("$bench").reset2() } }
        location = /incr2    { content_by_lua_block { dofile("$bench").incr2() } }
        location = /get2     { content_by_lua_block { dofile("$bench").get2() } }
    }
}
EOF
    /usr/sbin/nginx -p "$prefix" -c conf/nginx.conf -e logs/error.log &
    pid=$!
    url=http://127.0.0.1:$port
    for _ in $(seq 100); do
        curl -s -o /dev/null "$url/ready" && break
        sleep 0.1
    done

    echo "## single request, $n operations each"
    curl -sS --max-time 300 "$url/ops?n=$n"
    echo "## zone overhead (lua_shared_dict z64 64m)"
    curl -sS --max-time 300 "$url/overhead"
    echo "## two workers, two concurrent requests, $n incr each on one key"
    local try a b
    for try in $(seq 20); do
        curl -sS "$url/reset2" > /dev/null
        curl -sS --max-time 300 "$url/incr2?n=$n" > "$prefix/a" &
        a=$!
        curl -sS --max-time 300 "$url/incr2?n=$n" > "$prefix/b" &
        b=$!
        wait $a $b
        if [ "$(sed 's/ .*//' "$prefix/a")" != "$(sed 's/ .*//' "$prefix/b")" ]; then
            break
        fi
        echo "(try $try: both requests ran in the same worker, again)"
    done
    if [ "$(sed 's/ .*//' "$prefix/a")" = "$(sed 's/ .*//' "$prefix/b")" ]; then
        echo "(both requests still ran in the same worker after $try tries: no contention measured)"
    fi
    cat "$prefix/a" "$prefix/b"
    echo "final count: $(curl -sS "$url/get2") (expected $((2 * n)))"

    kill -QUIT $pid
    wait $pid || true
    if grep -aq '\[error\]\|\[alert\]\|\[crit\]' "$prefix/logs/error.log"; then
        echo "error log:"
        grep -a '\[error\]\|\[alert\]\|\[crit\]' "$prefix/logs/error.log"
    fi
    rm -rf "$prefix"
}

ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
{
    echo "# ngx.shared.DICT timings of OpenResty's ngx_lua, recorded by shdict_bench.sh"
    echo "# nginx $(ver nginx), libnginx-mod-http-lua $(ver libnginx-mod-http-lua), lua-resty-core $(ver lua-resty-core), libluajit2-5.1-2 $(ver libluajit2-5.1-2)"
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for r in $(seq "$runs"); do
        echo
        echo "# run $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
        one_run
    done
    echo
    echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out"
cat "$out"
