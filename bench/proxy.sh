#!/usr/bin/env bash
# bench/proxy.sh: a length-prefixed proxy over a cosocket, tcplua against OpenResty's stream-lua
# running the same script, in one run.
#
# The client (../shared/bench/pingpong.c) sends a 64-byte request; the proxy script reads exactly
# 64 bytes from it (the "length prefix" is the fixed 64-byte frame: receive(64) from the client),
# takes a cosocket to an upstream C echo server (../shared/bench/evecho.c), sends the request,
# reads the 64-byte reply and relays it to the client. Two variants of the script:
#   - pooled:  ngx.socket.tcp(), connect, send, receive(64), setkeepalive() after every request
#              (the per-worker connection pool; lua_socket_pool_size is raised above the largest
#              client count in both servers so that the pool, not its eviction, is measured);
#   - no pool: connect, send, receive(64), close() per request: a new upstream connection per
#              client round trip, so round trips/s = upstream connections/s.
# tcplua runs the script under process_by_lua_file (ngx.receive(64), ngx.print,
# ngx.wait_next_request()); stream-lua v0.0.12 under content_by_lua_file with
# ngx.req.socket(true), c:receive(64) and c:send(reply) in a loop.
#
# Measured, per the method of ../shared/bench/README.md: server CPU per proxied round trip,
# utime+stime of the proxy's single worker only (not the upstream, not the generator), read from
# /proc/PID/stat before and after each slice and divided by the round trips the generator
# completed; slices alternate between the servers in every round; medians over ROUNDS rounds of
# the per-round ratios. The baseline is the C echo server (evecho) answering the client directly,
# pinned to the same CPU as the proxies: one direct round trip.
#
# CPUs: the proxies and the baseline echo on SERVER_CPU (0); the load generator and the upstream
# echo on GEN_CPU (1), because the upstream is part of the environment, like the generator, and
# must not take CPU from the server being measured.
#
# Usage: bench/proxy.sh   (about 2 minutes with the defaults)   or   make bench-proxy
# Environment knobs:
#   TCPLUA_BIN       server binary (default <repo>/build/tcplua; built with make if absent)
#   SHARED_BENCH     pingpong.c and evecho.c (default <repo>/../shared/bench)
#   STREAMLUA_NGINX, STREAMLUA_MODULE, STREAMLUA_STREAM_MODULE, STREAMLUA_LUA_PATH: as bench/run.sh
#                    (stream-lua is skipped when STREAMLUA_NGINX is unset)
#   SLICE=2 ROUNDS=3 LOADS="1 50 500" NOPOOL_LOADS="1 50" POOL_SIZE=1024 SERVER_CPU=0 GEN_CPU=1
#   UPSTREAM_CPU=$GEN_CPU  PORT_SEED=4242 (ports are drawn from a fixed seed, skipping busy ones)
#   PROFILE=N        after the measurements, PROFILE_SECONDS (5) of load per Lua proxy at N client
#                    connections under `perf record -g` (pooled script), then each one's CPU by
#                    object and its top PROFILE_TOP (25) symbols (self time)
#   SYSCALLS=N       after the measurements, system calls per proxied trip at N client connections
#                    (one SLICE per proxy under `perf stat`)
#   KEEP_TMP=1       keep the temp dir (kept anyway on failure)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
TCPLUA_BIN=${TCPLUA_BIN:-$ROOT/build/tcplua}
SLICE=${SLICE:-2}
ROUNDS=${ROUNDS:-3}
LOADS=${LOADS-"1 50 500"}           # set empty to skip that table
NOPOOL_LOADS=${NOPOOL_LOADS-"1 50"}
POOL_SIZE=${POOL_SIZE:-1024}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
UPSTREAM_CPU=${UPSTREAM_CPU:-$GEN_CPU}
PROFILE=${PROFILE:-}
PROFILE_SECONDS=${PROFILE_SECONDS:-5}
MSG=64
HZ=$(getconf CLK_TCK)
RANDOM=${PORT_SEED:-4242}

PIDS=()
TMP=
log() { printf '%s\n' "$*"; }
die() { printf 'bench-proxy: FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid i alive
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for i in $(seq 1 30); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "$rc" != 0 ] || [ -n "${KEEP_TMP:-}" ]; then
            log "bench-proxy: logs and configs kept in $TMP" >&2
        else
            rm -rf "$TMP"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- preconditions and builds
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (servers on $SERVER_CPU, generator and upstream on $GEN_CPU)"
for c in taskset ss gcc pgrep; do command -v $c >/dev/null || die "$c missing"; done
[ -f "$SHARED_BENCH/pingpong.c" ] && [ -f "$SHARED_BENCH/evecho.c" ] \
    || die "pingpong.c/evecho.c not found in $SHARED_BENCH (set SHARED_BENCH)"
maxc=0
for n in $LOADS $NOPOOL_LOADS ${PROFILE:-}; do [ "$n" -gt "$maxc" ] && maxc=$n; done
[ "$POOL_SIZE" -ge "$maxc" ] || log "bench-proxy: POOL_SIZE $POOL_SIZE below $maxc clients: the pool will evict"
need_fds=$((4 * maxc + 200))   # a proxy holds its clients, their upstreams and a pool
if [ "$(ulimit -n)" -lt "$need_fds" ]; then
    ulimit -n "$need_fds" 2>/dev/null || die "ulimit -n is $(ulimit -n), need $need_fds"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcplua-bench-proxy.XXXXXX")
gcc -O2 -o "$TMP/pingpong" "$SHARED_BENCH/pingpong.c" || die "building pingpong"
gcc -O2 -o "$TMP/evecho" "$SHARED_BENCH/evecho.c" -lev || die "building evecho (libev-dev)"

if [ ! -s "$TCPLUA_BIN" ] || [ ! -x "$TCPLUA_BIN" ]; then
    log "bench-proxy: $TCPLUA_BIN missing, running make all"
    make -C "$ROOT" all >&2 || die "make all failed"
fi
cp "$TCPLUA_BIN" "$TMP/tcplua"   # a snapshot: a concurrent rebuild cannot change it mid-run

STREAMLUA=
if [ -n "${STREAMLUA_NGINX:-}" ]; then
    [ -x "$STREAMLUA_NGINX" ] || die "STREAMLUA_NGINX $STREAMLUA_NGINX is not executable"
    [ -z "${STREAMLUA_MODULE:-}" ] || [ -f "$STREAMLUA_MODULE" ] || die "STREAMLUA_MODULE $STREAMLUA_MODULE not found"
    STREAMLUA=$STREAMLUA_NGINX
    if [ -z "${STREAMLUA_STREAM_MODULE+set}" ]; then   # Debian's nginx has the stream module dynamic
        nvv=$("$STREAMLUA" -V 2>&1 || true)
        STREAMLUA_STREAM_MODULE=
        if [[ $nvv == *--with-stream=dynamic* ]]; then
            mdir=$(printf '%s\n' "$nvv" | tr ' ' '\n' | sed -n 's/^--modules-path=//p' | head -1)
            STREAMLUA_STREAM_MODULE=${mdir:-/usr/lib/nginx/modules}/ngx_stream_module.so
        fi
    fi
    [ -z "$STREAMLUA_STREAM_MODULE" ] || [ -f "$STREAMLUA_STREAM_MODULE" ] \
        || die "stream module $STREAMLUA_STREAM_MODULE not found (set STREAMLUA_STREAM_MODULE)"
else
    log "bench-proxy: STREAMLUA_NGINX not set, skipping OpenResty stream-lua"
fi

# ---------------------------------------------------------------- helpers (as bench/run.sh)
USED_PORTS=" "
free_port() {   # a port from the seeded sequence with no listener, distinct from those picked
    local p i
    for i in $(seq 1 100); do
        p=$((20000 + RANDOM % 12000))   # below the ephemeral range
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if [ -z "$(ss -Hltn "sport = :$p")" ]; then USED_PORTS="$USED_PORTS$p "; echo "$p"; return 0; fi
    done
    return 1
}

ticks() {       # utime+stime (clock ticks) of a process: /proc/PID/stat fields 14 and 15
    local line rest
    read -r line < "/proc/$1/stat" || return 1
    rest=${line##*) }
    set -- $rest
    echo $(( ${12} + ${13} ))
}

settle() {      # wait (bounded) until a server stops using CPU
    local a b i
    a=$(ticks "$1")
    for i in $(seq 1 25); do
        sleep 0.2
        b=$(ticks "$1")
        [ "$a" = "$b" ] && return 0
        a=$b
    done
}

wait_listen() { # PID PORT LOG
    local i
    for i in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || { cat "$3" >&2 || true; die "server exited at startup (log: $3)"; }
        if ss -Hltn "sport = :$2" | grep -q .; then return 0; fi
        sleep 0.1
    done
    cat "$3" >&2 || true
    die "server $1 not listening on port $2 after 10 s"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

pingpong() {    # PORT CONNS SECONDS -> pingpong's output line; fails on errors or no trips
    local out
    out=$(timeout $(( ${3%.*} + 30 )) taskset -c "$GEN_CPU" "$TMP/pingpong" 127.0.0.1 "$1" "$2" "$MSG" "$3" 1) \
        || die "pingpong against port $1 failed: $out"
    set -- $out
    [ "$2" -gt 0 ] 2>/dev/null && [ "$8" = 0 ] || die "pingpong against port $1: no round trips or errors: $out"
    echo "$out"
}

upstream_conns() {  # PID -> established connections from PID to the upstream (pooled or in use)
    [ "$(id -u)" = 0 ] || { echo "? (ss -p needs root)"; return 0; }
    ss -Htnp state established "( dport = :$UPORT )" 2>/dev/null | grep -c "pid=$1," || true
}

# ---------------------------------------------------------------- the proxy scripts
# One body for both servers; only the client side differs (ngx.receive / ngx.print +
# ngx.wait_next_request in tcplua, the raw request socket in stream-lua). Every failure is logged
# at error level and ends the session, so the client sees it (pingpong counts an error and the
# run fails) and the error log is checked at the end.
proxy_lua() {   # SERVER(tcplua|streamlua) MODE(pool|nopool)
    local done_up
    if [ "$2" = pool ]; then
        done_up='ok, err = u:setkeepalive()
    if not ok then ngx.log(ngx.ERR, "setkeepalive: ", err) return end'
    else
        done_up='ok, err = u:close()
    if not ok then ngx.log(ngx.ERR, "close: ", err) return end'
    fi
    if [ "$1" = streamlua ]; then
        echo 'local c = assert(ngx.req.socket(true))'
    fi
    cat <<EOF
local tcp, UPORT = ngx.socket.tcp, $UPORT
while true do
EOF
    if [ "$1" = streamlua ]; then
        echo '    local d = c:receive(64)'
    else
        echo '    local d = ngx.receive(64)'
    fi
    cat <<EOF
    if not d then return end
    local u = tcp()
    local ok, err = u:connect("127.0.0.1", UPORT)
    if not ok then ngx.log(ngx.ERR, "connect: ", err) return end
    ok, err = u:send(d)
    if not ok then ngx.log(ngx.ERR, "send: ", err) return end
    local r
    r, err = u:receive(64)
    if not r then ngx.log(ngx.ERR, "receive: ", err) return end
    $done_up
EOF
    if [ "$1" = streamlua ]; then
        echo '    if not c:send(r) then return end'
    else
        printf '    ngx.print(r)\n    ngx.wait_next_request()\n'
    fi
    echo 'end'
}

# ---------------------------------------------------------------- servers
declare -A PID PORT
UPORT=$(free_port) || die "no free port"
taskset -c "$UPSTREAM_CPU" "$TMP/evecho" "$UPORT" >"$TMP/upstream.log" 2>&1 &
PID[upstream]=$!; PIDS+=("$!")
wait_listen "${PID[upstream]}" "$UPORT" "$TMP/upstream.log"

PORT[evecho]=$(free_port) || die "no free port"
taskset -c "$SERVER_CPU" "$TMP/evecho" "${PORT[evecho]}" >"$TMP/evecho.log" 2>&1 &
PID[evecho]=$!; PIDS+=("$!")
wait_listen "${PID[evecho]}" "${PORT[evecho]}" "$TMP/evecho.log"

start_tcplua() {  # NAME MODE: a single-process tcplua in its own prefix under $TMP
    local name=$1 pfx=$TMP/$1-prefix
    PORT[$name]=$(free_port) || die "no free port"
    mkdir -p "$pfx/conf" "$pfx/logs"
    proxy_lua tcplua "$2" >"$pfx/conf/proxy.lua"
    cat >"$pfx/conf/bench.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/tcplua.pid;
events { worker_connections 20000; }
tcp {
  lua_socket_pool_size $POOL_SIZE;
  server { listen 127.0.0.1:${PORT[$name]}; protocol tcp_lua; access_log off;
    process_by_lua_file conf/proxy.lua; }
}
EOF
    taskset -c "$SERVER_CPU" "$TMP/tcplua" -p "$pfx/" -c conf/bench.conf >"$TMP/$name.log" 2>&1 &
    PID[$name]=$!; PIDS+=("$!")
    wait_listen "${PID[$name]}" "${PORT[$name]}" "$TMP/$name.log"
    [ -z "$(pgrep -P "${PID[$name]}" || true)" ] || die "$name forked despite master_process off"
}

start_streamlua() {  # NAME MODE: a single-process nginx (the process is the worker)
    local name=$1 pfx=$TMP/$1-prefix
    PORT[$name]=$(free_port) || die "no free port"
    mkdir -p "$pfx/conf" "$pfx/logs"
    proxy_lua streamlua "$2" >"$pfx/conf/proxy.lua"
    {
        [ -z "$STREAMLUA_STREAM_MODULE" ] || echo "load_module $STREAMLUA_STREAM_MODULE;"
        [ -z "${STREAMLUA_MODULE:-}" ] || echo "load_module $STREAMLUA_MODULE;"
        cat <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 20000; }
stream {
  lua_package_path "${STREAMLUA_LUA_PATH:-/usr/share/lua/5.1/?.lua;;}";
  lua_socket_read_timeout 10m;
  lua_socket_pool_size $POOL_SIZE;
  server { listen 127.0.0.1:${PORT[$name]}; access_log off;
    content_by_lua_file $pfx/conf/proxy.lua;
  }
}
EOF
    } >"$pfx/conf/bench.conf"
    taskset -c "$SERVER_CPU" "$STREAMLUA" -p "$pfx/" -c conf/bench.conf -e stderr >"$TMP/$name.log" 2>&1 &
    PID[$name]=$!; PIDS+=("$!")
    wait_listen "${PID[$name]}" "${PORT[$name]}" "$TMP/$name.log"
    [ -z "$(pgrep -P "${PID[$name]}" || true)" ] || die "nginx forked despite master_process off"
}

POOLED=(evecho tcplua)
NOPOOL=(tcplua-np)
start_tcplua tcplua pool
start_tcplua tcplua-np nopool
if [ -n "$STREAMLUA" ]; then
    start_streamlua streamlua pool
    start_streamlua streamlua-np nopool
    POOLED+=(streamlua)
    NOPOOL+=(streamlua-np)
fi

log "bench-proxy: $(date -u '+%F %T') UTC, $(nproc) CPUs, proxies and baseline echo on CPU $SERVER_CPU, generator on CPU $GEN_CPU, upstream echo on CPU $UPSTREAM_CPU"
log "bench-proxy: tcplua $TCPLUA_BIN (built $(date -u -r "$TCPLUA_BIN" '+%F %T'), repo HEAD $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
[ -z "$STREAMLUA" ] || log "bench-proxy: stream-lua $("$STREAMLUA" -v 2>&1 | sed 's/^nginx version: //') ($STREAMLUA)${STREAMLUA_MODULE:+ + $STREAMLUA_MODULE}"
log "bench-proxy: ${MSG}-byte frames, $ROUNDS rounds of ${SLICE}s slices per load, lua_socket_pool_size $POOL_SIZE, ports $UPORT (upstream) $(for s in "${!PORT[@]}"; do printf '%s=%s ' "$s" "${PORT[$s]}"; done)"

# ---------------------------------------------------------------- measurements
declare -A CPT RATE   # "kind,conns,server,round" -> us CPU per round trip; round trips/s
measure() {   # KIND CONNS SERVER...: warm-up, then ROUNDS rounds of alternating slices
    local kind=$1 n=$2 r s t0 t1 out rate
    shift 2
    for s in "$@"; do pingpong "${PORT[$s]}" "$n" 0.5 >/dev/null; settle "${PID[$s]}"; done
    for r in $(seq 1 "$ROUNDS"); do
        for s in "$@"; do
            t0=$(ticks "${PID[$s]}")
            out=$(pingpong "${PORT[$s]}" "$n" "$SLICE")
            t1=$(ticks "${PID[$s]}")
            [ $((t1 - t0)) -gt 0 ] || die "$s used no measurable CPU in a slice"
            rate=$(set -- $out; echo "$2")
            RATE[$kind,$n,$s,$r]=$rate
            CPT[$kind,$n,$s,$r]=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v rate="$rate" -v sec="$SLICE" \
                'BEGIN { printf "%.4f", d * 1e6 / hz / (rate * sec) }')
            printf '   round %d %-13s %8s trips/s %5d ticks %8.3f us CPU/trip\n' "$r" "$s" "$rate" \
                $((t1 - t0)) "${CPT[$kind,$n,$s,$r]}"
        done
    done
    for s in "$@"; do
        [ "$s" = evecho ] || log "   $s: $(upstream_conns "${PID[$s]}") upstream connections open after the slices"
    done
}

for n in $LOADS; do
    log ""
    log "== pooled proxy, $n client connections"
    measure pool "$n" "${POOLED[@]}"
done
for n in $NOPOOL_LOADS; do
    log ""
    log "== no pool (connect, send, receive, close per request), $n client connections"
    measure nopool "$n" "${NOPOOL[@]}"
done

# ---------------------------------------------------------------- tables
ratio_med() {  # KIND CONNS A B -> median over rounds of A/B CPU per trip
    local r v=()
    for r in $(seq 1 "$ROUNDS"); do
        v+=("$(awk -v a="${CPT[$1,$2,$3,$r]}" -v b="${CPT[$1,$2,$4,$r]}" 'BEGIN { printf "%.4f", a / b }')")
    done
    median "${v[@]}"
}
abs_med() {    # KIND CONNS SERVER [RATE] -> median CPU per trip (or round trips/s)
    local r v=()
    for r in $(seq 1 "$ROUNDS"); do
        if [ -n "${4:-}" ]; then v+=("${RATE[$1,$2,$3,$r]}"); else v+=("${CPT[$1,$2,$3,$r]}"); fi
    done
    median "${v[@]}"
}
x() { printf '%.2fx' "$1"; }
us() { printf '%.2f us' "$1"; }

if [ -n "$LOADS" ]; then
    log ""
    log "Server CPU per proxied round trip (utime+stime of the proxy worker; median of $ROUNDS rounds),"
    log "and as a multiple of the C echo server answering the client directly (evecho, same CPU, same run)."
    log ""
    fmt='| %-19s | %10s | %10s | %10s | %15s | %18s | %18s |\n'
    printf "$fmt" "client connections" "evecho" "tcplua" "stream-lua" "tcplua / evecho" "stream-lua / evecho" "tcplua / stream-lua"
    printf "$fmt" "---" "---" "---" "---" "---" "---" "---"
    for n in $LOADS; do
        if [ -n "$STREAMLUA" ]; then
            o=$(us "$(abs_med pool "$n" streamlua)"); oe=$(x "$(ratio_med pool "$n" streamlua evecho)")
            to=$(x "$(ratio_med pool "$n" tcplua streamlua)")
        else
            o=skipped oe=skipped to=skipped
        fi
        printf "$fmt" "$n" "$(us "$(abs_med pool "$n" evecho)")" "$(us "$(abs_med pool "$n" tcplua)")" "$o" \
            "$(x "$(ratio_med pool "$n" tcplua evecho)")" "$oe" "$to"
    done
fi

if [ -n "$NOPOOL_LOADS" ]; then
    log ""
    log "No pool: connect, send, receive(64), close per client request. Upstream connections per second"
    log "(= proxied round trips/s; the generator and upstream share one CPU, so rates are bounded by"
    log "that CPU) and server CPU per connection; median of $ROUNDS rounds."
    log ""
    fmt2='| %-19s | %14s | %14s | %12s | %12s | %19s |\n'
    printf "$fmt2" "client connections" "tcplua conn/s" "stream-lua conn/s" "tcplua CPU" "stream-lua CPU" "tcplua / stream-lua"
    printf "$fmt2" "---" "---" "---" "---" "---" "---"
    for n in $NOPOOL_LOADS; do
        if [ -n "$STREAMLUA" ]; then
            orate=$(printf '%.0f' "$(abs_med nopool "$n" streamlua-np rate)")
            o=$(us "$(abs_med nopool "$n" streamlua-np)"); to=$(x "$(ratio_med nopool "$n" tcplua-np streamlua-np)")
        else
            orate=skipped o=skipped to=skipped
        fi
        printf "$fmt2" "$n" "$(printf '%.0f' "$(abs_med nopool "$n" tcplua-np rate)")" "$orate" \
            "$(us "$(abs_med nopool "$n" tcplua-np)")" "$o" "$to"
    done
fi

# ---------------------------------------------------------------- optional profile
if [ -n "$PROFILE" ]; then
    command -v perf >/dev/null || die "PROFILE set but perf is missing"
    for s in tcplua ${STREAMLUA:+streamlua}; do
        log ""
        log "== perf record -g, pooled proxy, $PROFILE client connections, ${PROFILE_SECONDS}s, $s (self time)"
        settle "${PID[$s]}"
        # perf records until SIGINT; it is given a second to attach (synthesizing the worker's
        # maps can take longer than a short slice on a loaded machine).
        perf record -q -g -o "$TMP/perf.$s.data" -p "${PID[$s]}" >"$TMP/perf.$s.log" 2>&1 &
        ppid=$!; PIDS+=("$ppid")
        sleep 1
        pingpong "${PORT[$s]}" "$PROFILE" "$PROFILE_SECONDS" >/dev/null
        kill -INT "$ppid" 2>/dev/null || true
        wait "$ppid" || true
        [ -s "$TMP/perf.$s.data" ] || die "perf record failed on $s: $(cat "$TMP/perf.$s.log")"
        log "   by object:"
        perf report -i "$TMP/perf.$s.data" --no-children --sort dso --stdio -g none 2>&1 \
            | awk '!/^#/ && NF >= 2 { printf "   %8s  %s\n", $1, $2 }' | head -8 || true
        log "   by symbol:"
        perf report -i "$TMP/perf.$s.data" --no-children --sort dso,symbol --stdio -g none 2>&1 \
            | awk '!/^#/ && NF >= 4 { printf "   %8s  %-28s %s\n", $1, $2, $4 }' | head -"${PROFILE_TOP:-25}" || true
    done
fi

# ---------------------------------------------------------------- optional syscall count
# Counted rather than timed: one slice per proxy (pooled script) at SYSCALLS client connections
# under `perf stat` on every syscalls:sys_enter_* tracepoint; the calls made per proxied trip.
if [ -n "${SYSCALLS:-}" ]; then
    command -v perf >/dev/null || die "SYSCALLS set but perf is missing"
    log ""
    log "== system calls per proxied round trip, pooled proxy, $SYSCALLS client connections (perf stat)"
    for s in tcplua ${STREAMLUA:+streamlua}; do
        settle "${PID[$s]}"
        perf stat -x, -e 'syscalls:sys_enter_*' -p "${PID[$s]}" -o "$TMP/sc.$s" >"$TMP/sc.$s.log" 2>&1 &
        ppid=$!; PIDS+=("$ppid")
        sleep 1
        out=$(pingpong "${PORT[$s]}" "$SYSCALLS" "$SLICE")
        kill -INT "$ppid" 2>/dev/null || true
        wait "$ppid" || true
        trips=$(set -- $out; awk -v r="$2" -v s="$SLICE" 'BEGIN { print r * s }')
        log "   $s: $(awk -F, -v t="$trips" '$1 ~ /^[0-9]+$/ && $1 > 0 && $3 ~ /sys_enter_/ {
                n = $3; sub(/.*sys_enter_/, "", n); all += $1; c[n] = $1 }
            END { for (n in c) if (c[n] / t >= 0.01) printf "%s %.2f, ", n, c[n] / t; printf "all %.2f", all / t }' "$TMP/sc.$s")"
    done
fi

# ---------------------------------------------------------------- sanity
for s in tcplua tcplua-np ${STREAMLUA:+streamlua streamlua-np}; do
    if grep -qE '\[(error|crit|alert|emerg)\]' "$TMP/$s-prefix/logs/error.log" 2>/dev/null; then
        log ""
        log "bench-proxy: $s logged errors (first 5):"
        grep -E '\[(error|crit|alert|emerg)\]' "$TMP/$s-prefix/logs/error.log" | head -5
        die "$s logged errors"
    fi
done
for s in upstream evecho tcplua tcplua-np ${STREAMLUA:+streamlua streamlua-np}; do
    kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during the run"
done
