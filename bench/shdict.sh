#!/usr/bin/env bash
# bench/shdict.sh: ngx.shared.DICT in tcplua against OpenResty's ngx_lua, in one run.
#
# Both run the same Lua (conformance/reference/shdict_bench.lua): 10^6 get, set and incr in a
# tight loop on keys from a fixed set of 1000, the zone overhead per entry (10^5 entries of
# 16-byte keys and 32-byte values in a 64m zone), and two workers doing 10^6 incr each on one
# key (throughput and the exact final count). ngx_lua runs it under content_by_lua
# (conformance/reference/shdict_bench.sh, Debian's nginx + libnginx-mod-http-lua +
# lua-resty-core, installed with apt-get when missing and running as root); tcplua runs it in
# a session. Runs alternate, RUNS times each; the table shows medians and the ratio.
#
# Usage: bench/shdict.sh   (about a minute)   Knobs: TCPLUA_BIN, RUNS=3, N=1000000
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TCPLUA_BIN=${TCPLUA_BIN:-$ROOT/build/tcplua}
RUNS=${RUNS:-3}
N=${N:-1000000}
REF=$ROOT/conformance/reference
TMP=$(mktemp -d /tmp/tcplua-shdict-bench.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
die() { printf 'shdict bench: FAILED: %s\n' "$*" >&2; exit 1; }

[ -x "$TCPLUA_BIN" ] || make -C "$ROOT" all >/dev/null
NGX_LUA=1
if ! dpkg -s libnginx-mod-http-lua lua-resty-core curl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx libnginx-mod-http-lua lua-resty-core curl \
            >/dev/null || NGX_LUA=
    else
        NGX_LUA=
    fi
fi
[ -n "$NGX_LUA" ] || echo "shdict bench: ngx_lua not installed (not root?): tcplua figures only" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fetch() { python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=300)
out = b""
while True:
    b = s.recv(65536)
    if not b: break
    out += b
sys.stdout.write(out.decode())' "$1"; }

# One tcplua run: master + 2 workers; ports: ops+overhead, incr2, get2, reset2.
tcplua_run() {
    local pfx=$TMP/tcplua p1 p2 p3 p4 a b
    rm -rf "$pfx"
    mkdir -p "$pfx/conf" "$pfx/logs"
    p1=$(free_port); p2=$(free_port); p3=$(free_port); p4=$(free_port)
    cat >"$pfx/conf/ops.lua" <<EOF
ngx.var = { arg_n = "$N" }
local M = dofile("$REF/shdict_bench.lua")
M.ops()
ngx.say("## zone overhead (lua_shared_dict z64 64m)")
M.overhead()
EOF
    # incr2 as shdict_bench.lua's, with the worker's PID from /proc (no ngx.worker here).
    cat >"$pfx/conf/incr2.lua" <<EOF
local d = ngx.shared.bench
local n = $N
d:incr("arrived", 1, 0)
local deadline = ngx.now() + 5
while d:get("arrived") < 2 and ngx.now() < deadline do ngx.sleep(0.001) ngx.update_time() end
ngx.update_time()
local t0, c0 = ngx.now(), os.clock()
for _ = 1, n do d:incr("counter", 1) end
ngx.update_time()
local dt = ngx.now() - t0
ngx.say(string.format("worker_pid=%s n=%d elapsed=%.3f s cpu=%.3f s %.0f ops/s",
    io.open("/proc/self/stat"):read("*l"):match("^%d+"), n, dt, os.clock() - c0, n / dt))
EOF
    cat >"$pfx/conf/bench.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
error_log logs/error.log warn;
pid logs/tcplua.pid;
tcp {
    access_log off;
    lua_shared_dict bench 16m;
    lua_shared_dict z64 64m;
    server { listen 127.0.0.1:$p1; protocol tcp_lua; process_by_lua_file conf/ops.lua; }
    server { listen 127.0.0.1:$p2; protocol tcp_lua; process_by_lua_file conf/incr2.lua; }
    server { listen 127.0.0.1:$p3; protocol tcp_lua; process_by_lua 'ngx.say(ngx.shared.bench:get("counter"))'; }
    server { listen 127.0.0.1:$p4; protocol tcp_lua;
             process_by_lua 'ngx.shared.bench:set("counter", 0) ngx.shared.bench:set("arrived", 0) ngx.say("ok")'; }
}
EOF
    "$TCPLUA_BIN" -p "$pfx/" -c conf/bench.conf &
    PID=$!
    for _ in $(seq 100); do fetch "$p4" >/dev/null 2>&1 && break; sleep 0.1; done
    echo "## single request, $N operations each"
    fetch "$p1"
    echo "## two workers, two concurrent requests, $N incr each on one key"
    for _ in $(seq 20); do
        fetch "$p4" >/dev/null
        fetch "$p2" >"$TMP/a" & a=$!
        fetch "$p2" >"$TMP/b" & b=$!
        wait $a $b
        [ "$(sed 's/ .*//' "$TMP/a")" != "$(sed 's/ .*//' "$TMP/b")" ] && break
    done
    cat "$TMP/a" "$TMP/b"
    echo "final count: $(fetch "$p3") (expected $((2 * N)))"
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
    if grep -q '\[error\]\|\[alert\]\|\[crit\]' "$pfx/logs/error.log"; then
        grep '\[error\]\|\[alert\]\|\[crit\]' "$pfx/logs/error.log" | head -5
    fi
}

for r in $(seq "$RUNS"); do
    echo "# run $r"
    tcplua_run >"$TMP/tcplua.$r"
    cat "$TMP/tcplua.$r" | sed 's/^/   tcplua   /'
    if [ -n "$NGX_LUA" ]; then
        bash "$REF/shdict_bench.sh" 1 "$TMP/ngx.$r" >/dev/null
        grep -v '^#' "$TMP/ngx.$r" | grep . | sed 's/^/   ngx_lua  /'
    fi
done

# ops/s of one operation in a result file: the last field of its line.
rate() { awk -v op="$2" 'index($0, op) == 1 && / ops\/s$/ { print $(NF-1) }' "$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
per_entry() { sed -n 's/^(capacity - free_space) \/ 10^5 = \([0-9.]*\) bytes.*/\1/p' "$1"; }
mops() { awk -v v="$1" 'BEGIN { printf "%.1f M", v / 1e6 }'; }

echo
echo "Median of $RUNS runs, $N operations per loop (ops/s; higher is better):"
echo
fmt='| %-24s | %12s | %12s | %7s |\n'
printf "$fmt" "operation" "tcplua" "ngx_lua" "ratio"
printf "$fmt" "---" "---" "---" "---"
for op in "get (number)" "get (32-byte string)" "set (number)" "set (32-byte string)" "incr" "incr (one key, init)"; do
    t=$(for r in $(seq "$RUNS"); do rate "$TMP/tcplua.$r" "$op"; done | median)
    if [ -n "$NGX_LUA" ]; then
        n=$(for r in $(seq "$RUNS"); do rate "$TMP/ngx.$r" "$op"; done | median)
        printf "$fmt" "$op" "$(mops "$t")" "$(mops "$n")" "$(awk -v t="$t" -v n="$n" 'BEGIN { printf "%.2fx", t / n }')"
    else
        printf "$fmt" "$op" "$(mops "$t")" "skipped" ""
    fi
done
t=$(for r in $(seq "$RUNS"); do per_entry "$TMP/tcplua.$r"; done | median)
n=$([ -n "$NGX_LUA" ] && for r in $(seq "$RUNS"); do per_entry "$TMP/ngx.$r"; done | median || echo "")
printf "$fmt" "zone bytes per entry" "$t" "${n:-skipped}" ""
for r in $(seq "$RUNS"); do
    grep -q "final count: $((2 * N)) " "$TMP/tcplua.$r" || die "tcplua run $r: two workers lost increments: $(grep 'final count' "$TMP/tcplua.$r")"
done
echo
echo "Two workers incrementing one key: every tcplua run ended with the exact count $((2 * N))."
