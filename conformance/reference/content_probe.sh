#!/bin/bash
# Records how OpenResty's ngx_lua (Debian 12: nginx, libnginx-mod-http-lua, lua-resty-core)
# behaves for the functions a probe file exercises: starts nginx in the foreground on
# 127.0.0.1 (a free port) in a scratch prefix under /tmp, fetches /t, whose
# content_by_lua_block runs NAME_probe.lua, and writes the result to NAME_ngx_lua.txt beside
# this script (or to OUTPUT). uri_probe.sh and regex_probe.sh call it.
#
#   apt-get install nginx libnginx-mod-http-lua lua-resty-core curl python3
#   conformance/reference/content_probe.sh NAME "WHAT IT PROBES" "EXTRA PACKAGES" [OUTPUT]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=$1 what=$2 extra_pkgs=$3
out=${4:-$here/${name}_ngx_lua.txt}
probe=$here/${name}_probe.lua
modules=/usr/lib/nginx/modules

for f in /usr/sbin/nginx "$modules/ndk_http_module.so" "$modules/ngx_http_lua_module.so" \
         /usr/share/lua/5.1/resty/core.lua; do
    [ -e "$f" ] || { echo "missing $f: apt-get install nginx libnginx-mod-http-lua lua-resty-core" >&2; exit 1; }
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prefix=$(mktemp -d /tmp/${name}_probe.XXXXXX)
mkdir -p "$prefix/conf" "$prefix/logs"

# Debian loads the modules through /etc/nginx/modules-enabled (NDK first, then lua);
# the lua module's compiled-in lua_package_path starts with /usr/share/lua/5.1/?.lua,
# where lua-resty-core lives, and the module loads resty.core by itself (which replaces
# ngx.escape_uri, ngx.re.* and others with resty/core/*.lua's FFI functions; the regex ones
# run over the module's ngx_http_lua_ffi_*_regex, which Debian links with PCRE 8.x).
cat > "$prefix/conf/nginx.conf" <<CONF
load_module $modules/ndk_http_module.so;
load_module $modules/ngx_http_lua_module.so;

daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log notice;
pid logs/nginx.pid;

events { worker_connections 64; }

http {
    access_log off;

    server {
        listen 127.0.0.1:$port;
        location = /ready { return 204; }
        location /t {
            content_by_lua_block {
                dofile("$probe").run(function (line) ngx.say(line) end)
            }
        }
    }
}
CONF

/usr/sbin/nginx -p "$prefix" -c conf/nginx.conf -e logs/error.log &
pid=$!
trap 'kill -QUIT $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT

for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break
    kill -0 $pid 2>/dev/null || { cat "$prefix/logs/error.log" >&2; exit 1; }
    sleep 0.1
done

body=$prefix/body.txt
curl -sS --max-time 60 "http://127.0.0.1:$port/t" > "$body"
if [ "$(tail -n 1 "$body")" != "# end" ]; then
    echo "probe output incomplete; error log:" >&2
    tail -n 30 "$prefix/logs/error.log" >&2
    exit 1
fi

kill -QUIT $pid; wait $pid || true; trap - EXIT

if grep -a ' => PROBE SYNTAX ERROR' "$body" >&2; then
    echo "a probe does not compile" >&2
    exit 1
fi
dups=$(grep -a ' => ' "$body" | sed 's/ => .*//' | sort | uniq -d)
if [ -n "$dups" ]; then
    echo "probe names used twice: $dups" >&2
    exit 1
fi

ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
{
    echo "# $what behaviour of OpenResty's ngx_lua, recorded by ${name}_probe.sh"
    versions="nginx $(ver nginx), libnginx-mod-http-lua $(ver libnginx-mod-http-lua), lua-resty-core $(ver lua-resty-core), libluajit2-5.1-2 $(ver libluajit2-5.1-2)"
    for p in $extra_pkgs; do versions="$versions, $p $(ver "$p")"; done
    echo "# $versions"
    echo "# line format: NAME => N|result1|result2...  (N = select('#', ...)), or NAME => ERR: message; see ${name}_probe.lua"
    echo "#"
    cat "$body"
} > "$out"

if grep -aq '\[error\]\|\[alert\]\|\[crit\]' "$prefix/logs/error.log"; then
    echo "note: the error log has errors:" >&2
    grep -a '\[error\]\|\[alert\]\|\[crit\]' "$prefix/logs/error.log" >&2
fi
rm -rf "$prefix"
echo "wrote $out ($(grep -c '^[^#].* => ' "$out") probes)"
