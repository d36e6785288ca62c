#!/usr/bin/env bash
# bench/run.sh: tcplua, HAProxy's Lua TCP service and (optionally) OpenResty's stream-lua against a
# C libev echo server, in one run.
#
# Measures, per the method in ../shared/bench/README.md:
#   - server CPU per round trip (utime+stime of the single worker, /proc/PID/stat fields 14+15,
#     read before and after each slice, divided by the round trips the generator completed),
#     as a multiple of the C echo server's (evecho) in the same round; median over the rounds;
#   - server CPU per connection (connrate: connect, one round trip, close, 50 at a time), the same
#     way; here tcplua runs twice, with its access log off and with the default access log on,
#     because a log line per connection is a real part of the per-connection cost;
#   - worker memory per idle keepalive connection (VmRSS before/after opening IDLE_CONNS
#     connections that each did one request and now sit idle).
# Servers are pinned to SERVER_CPU, the generator to GEN_CPU. Slices alternate evecho, tcplua,
# (tcplua with access log,) HAProxy, stream-lua in every round. Nothing is installed or written
# outside a temp dir, except that HAProxy is installed with apt-get when missing and running as
# root (otherwise it is skipped). stream-lua runs only when STREAMLUA_NGINX names an nginx binary
# (build one with ../shared/peers/build-streamlua.sh); it echoes the way tcplua's script does,
# ngx.req.socket(true):receiveany(64) and send, and gets a "stream-lua" column in the tables.
#
# Usage: bench/run.sh            (from anywhere; about 3 minutes with the defaults)
# Environment knobs:
#   TCPLUA_BIN    server binary            (default: <repo>/build/tcplua; built with make if absent)
#   TCPLUA_BASE_BIN  a second tcplua binary (e.g. main before a change) measured in the same run,
#                 slice by slice beside the first; a table of both ratios and the change follows
#   SHARED_BENCH  pingpong.c, connrate.c and evecho.c  (default: <repo>/../shared/bench)
#   STREAMLUA_NGINX  an nginx binary to run OpenResty's stream-lua with (e.g. /usr/sbin/nginx);
#                 unset: stream-lua is skipped
#   STREAMLUA_MODULE the stream-lua dynamic module to load_module (build-streamlua.sh prints it);
#                 unset when stream-lua is compiled into STREAMLUA_NGINX
#   STREAMLUA_STREAM_MODULE  ngx_stream_module.so to load first (default: <--modules-path of
#                 nginx -V>/ngx_stream_module.so when that nginx has --with-stream=dynamic)
#   STREAMLUA_LUA_PATH  lua_package_path, for lua-resty-core (default: Debian's
#                 "/usr/share/lua/5.1/?.lua;;")
#   SLICE=3 ROUNDS=3 IDLE_CONNS=5000 SERVER_CPU=0 GEN_CPU=1 NO_HAPROXY=1 NO_PERF=1 KEEP_TMP=1
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$ROOT/bench
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
TCPLUA_BIN=${TCPLUA_BIN:-$ROOT/build/tcplua}
SLICE=${SLICE:-3}
ROUNDS=${ROUNDS:-3}
IDLE_CONNS=${IDLE_CONNS:-5000}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
MSG=64
HZ=$(getconf CLK_TCK)

# Workloads and the reference figures of ../shared/bench/README.md (OpenResty stream-lua,
# the 2015 module, HAProxy 2.6 Lua), as multiples of the C echo server's CPU per round trip
# (for connrate: per connection, i.e. connect + one round trip + close).
WL_NAME=("1 connection" "50 connections" "50 connections, 16 pipelined" "500 connections"
         "new conn + 1 trip + close, 50 at a time")
WL_TOOL=(pingpong pingpong pingpong pingpong connrate)
WL_CONNS=(1 50 50 500 50)
WL_PIPE=(1 1 16 1 1)
REF_OR=("1.05x" "1.09x" "14.4x" "1.26x" "1.01x")
REF_2015=("1.20x" "1.27x" "8.4x (no NODELAY)" "1.17x" "1.28x")
REF_HAP=("1.50x" "1.38x" "2.31x" "1.47x" "1.26x")
REF_MEM_OR="6.6 KB" REF_MEM_2015="2.4 KB" REF_MEM_HAP="9.7 KB" REF_MEM_C="0.08 KB"

PIDS=()
TMP=
log() { printf '%s\n' "$*"; }
die() { printf 'bench: FAILED: %s\n' "$*" >&2; exit 1; }

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
            log "bench: logs and configs kept in $TMP" >&2
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
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on $SERVER_CPU, generator on $GEN_CPU)"
command -v taskset >/dev/null || die "taskset missing (util-linux)"
command -v ss >/dev/null || die "ss missing (iproute2)"
command -v gcc >/dev/null || die "gcc missing"
[ -f "$SHARED_BENCH/pingpong.c" ] && [ -f "$SHARED_BENCH/connrate.c" ] && [ -f "$SHARED_BENCH/evecho.c" ] \
    || die "pingpong.c/connrate.c/evecho.c not found in $SHARED_BENCH (set SHARED_BENCH)"
need_fds=$((IDLE_CONNS + 200))
if [ "$(ulimit -n)" -lt "$need_fds" ]; then
    ulimit -n "$need_fds" 2>/dev/null || die "ulimit -n is $(ulimit -n), need $need_fds for IDLE_CONNS=$IDLE_CONNS"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcplua-bench.XXXXXX")
gcc -O2 -o "$TMP/pingpong" "$SHARED_BENCH/pingpong.c" || die "building pingpong"
gcc -O2 -o "$TMP/connrate" "$SHARED_BENCH/connrate.c" || die "building connrate"
gcc -O2 -o "$TMP/evecho" "$SHARED_BENCH/evecho.c" -lev || die "building evecho (libev-dev)"
gcc -O2 -Wall -Wextra -o "$TMP/idle" "$BENCH_DIR/idle.c" || die "building bench/idle.c"

if [ ! -s "$TCPLUA_BIN" ] || [ ! -x "$TCPLUA_BIN" ]; then
    log "bench: $TCPLUA_BIN missing, running make all"
    make -C "$ROOT" all >&2 || die "make all failed"
    [ -s "$TCPLUA_BIN" ] && [ -x "$TCPLUA_BIN" ] || die "$TCPLUA_BIN still missing after make"
fi
cp "$TCPLUA_BIN" "$TMP/tcplua"   # a snapshot: a concurrent rebuild cannot change it mid-run

HAPROXY=
if [ -n "${NO_HAPROXY:-}" ]; then
    log "bench: NO_HAPROXY set, skipping HAProxy"
else
    if ! command -v haproxy >/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            log "bench: installing haproxy (apt-get)"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y haproxy >"$TMP/apt.log" 2>&1 \
                || { apt-get update >>"$TMP/apt.log" 2>&1 && apt-get install -y haproxy >>"$TMP/apt.log" 2>&1; } \
                || log "bench: apt-get install haproxy failed (see $TMP/apt.log); skipping HAProxy"
        else
            log "bench: haproxy not installed and not root; skipping HAProxy (apt-get install haproxy)"
        fi
    fi
    if command -v haproxy >/dev/null; then
        hvv=$(haproxy -vv 2>/dev/null || true)
        if [[ $hvv == *USE_LUA=1* ]]; then
            HAPROXY=$(command -v haproxy)
        else
            log "bench: this haproxy is built without Lua; skipping HAProxy"
        fi
    fi
fi

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
    log "bench: STREAMLUA_NGINX not set, skipping OpenResty stream-lua"
fi

# ---------------------------------------------------------------- helpers
USED_PORTS=" "
free_port() {   # a random port with no listener, distinct from the ones already picked
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
    rest=${line##*) }          # fields 3.. (the command name may hold spaces)
    set -- $rest
    echo $(( ${12} + ${13} ))
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

settle() {      # wait (bounded) until a server stops using CPU, e.g. after mass closes
    local a b i
    a=$(ticks "$1")
    for i in $(seq 1 25); do
        sleep 0.2
        b=$(ticks "$1")
        [ "$a" = "$b" ] && return 0
        a=$b
    done
}

wait_listen() { # PID PORT LOG: wait (bounded) until PID listens on PORT
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

# ---------------------------------------------------------------- servers
SERVERS=(evecho tcplua)
[ -n "${TCPLUA_BASE_BIN:-}" ] && SERVERS+=(base)
[ -n "$HAPROXY" ] && SERVERS+=(haproxy)
[ -n "$STREAMLUA" ] && SERVERS+=(streamlua)
declare -A PID PORT

PORT[evecho]=$(free_port) || die "no free port"
taskset -c "$SERVER_CPU" "$TMP/evecho" "${PORT[evecho]}" >"$TMP/evecho.log" 2>&1 &
PID[evecho]=$!; PIDS+=("$!")
wait_listen "${PID[evecho]}" "${PORT[evecho]}" "$TMP/evecho.log"

start_tcplua() { # NAME ACCESS_LOG_DIRECTIVE [BIN]: a single-process tcplua in its own prefix under $TMP
    local name=$1 pfx=$TMP/$1-prefix bin=${3:-$TMP/tcplua}
    PORT[$name]=$(free_port) || die "no free port"
    mkdir -p "$pfx/conf" "$pfx/logs"
    cat >"$pfx/conf/bench.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/tcplua.pid;
events { worker_connections 20000; }
tcp { server { listen 127.0.0.1:${PORT[$name]}; protocol tcp_lua; $2
  process_by_lua 'while true do local d = ngx.receive(64, 1) if not d then return end ngx.print(d) ngx.wait_next_request() end'; } }
EOF
    taskset -c "$SERVER_CPU" "$bin" -p "$pfx/" -c conf/bench.conf >"$TMP/$name.log" 2>&1 &
    PID[$name]=$!; PIDS+=("$!")
    wait_listen "${PID[$name]}" "${PORT[$name]}" "$TMP/$name.log"
    [ -z "$(pgrep -P "${PID[$name]}" || true)" ] || die "$name forked despite master_process off; cannot find the single worker"
}
start_tcplua tcplua "access_log off;"
# The same server with no access_log directive, i.e. the default: logs/access_tcp.log, default
# format, one line per connection. Used by the connection-rate workload only.
start_tcplua tcplua-log ""
if [ -n "${TCPLUA_BASE_BIN:-}" ]; then
    [ -x "$TCPLUA_BASE_BIN" ] || die "TCPLUA_BASE_BIN $TCPLUA_BASE_BIN is not executable"
    start_tcplua base "access_log off;" "$TCPLUA_BASE_BIN"
    start_tcplua base-log "" "$TCPLUA_BASE_BIN"
fi

if [ -n "$HAPROXY" ]; then
    PORT[haproxy]=$(free_port) || die "no free port"
    BENCH_DIR=$BENCH_DIR BENCH_HAPROXY_PORT=${PORT[haproxy]} BENCH_MSG=$MSG \
        taskset -c "$SERVER_CPU" "$HAPROXY" -db -f "$BENCH_DIR/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
    PID[haproxy]=$!; PIDS+=("$!")
    wait_listen "${PID[haproxy]}" "${PORT[haproxy]}" "$TMP/haproxy.log"
    [ -z "$(pgrep -P "${PID[haproxy]}" || true)" ] || die "haproxy forked; cannot find the single worker"
fi

if [ -n "$STREAMLUA" ]; then
    # A single-process nginx (the process is the worker) in its own prefix under $TMP. The echo
    # does the work of tcplua's script: receiveany(64) returns as soon as any bytes arrived, up
    # to 64, like ngx.receive(64, 1). The read timeout only keeps a slow run from closing idle
    # connections; the timer is armed per receive whatever its value, as tcplua's read_timeout is.
    pfx=$TMP/streamlua-prefix
    PORT[streamlua]=$(free_port) || die "no free port"
    mkdir -p "$pfx/conf" "$pfx/logs"
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
  server { listen 127.0.0.1:${PORT[streamlua]}; access_log off;
    content_by_lua_block {
      local sock = assert(ngx.req.socket(true))
      while true do
        local d = sock:receiveany(64)
        if not d then return end
        if not sock:send(d) then return end
      end
    }
  }
}
EOF
    } >"$pfx/conf/bench.conf"
    taskset -c "$SERVER_CPU" "$STREAMLUA" -p "$pfx/" -c conf/bench.conf -e stderr >"$TMP/streamlua.log" 2>&1 &
    PID[streamlua]=$!; PIDS+=("$!")
    wait_listen "${PID[streamlua]}" "${PORT[streamlua]}" "$TMP/streamlua.log"
    [ -z "$(pgrep -P "${PID[streamlua]}" || true)" ] || die "nginx forked despite master_process off; cannot find the single worker"
fi

log "bench: $(date -u '+%F %T') UTC, $(nproc) CPUs, servers on CPU $SERVER_CPU, generator on CPU $GEN_CPU"
log "bench: tcplua $TCPLUA_BIN (built $(date -u -r "$TCPLUA_BIN" '+%F %T'), repo HEAD $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))${HAPROXY:+, $("$HAPROXY" -v 2>/dev/null | awk 'NR == 1 { print $1, $2, $3 }')}"
[ -z "$STREAMLUA" ] || log "bench: stream-lua $("$STREAMLUA" -v 2>&1 | sed 's/^nginx version: //') ($STREAMLUA)${STREAMLUA_MODULE:+ + $STREAMLUA_MODULE}"
log "bench: ${MSG}-byte messages, $ROUNDS rounds of ${SLICE}s slices per workload, $IDLE_CONNS idle connections"

connrate() {    # PORT CONNS SECONDS -> connrate's output line (a trip = a whole connection)
    local out
    out=$(timeout $(( ${3%.*} + 30 )) taskset -c "$GEN_CPU" "$TMP/connrate" 127.0.0.1 "$1" "$2" "$MSG" "$3") \
        || die "connrate against port $1 failed: $out"
    set -- $out
    # A failed connection still cost the server something, so any error would skew CPU/connection.
    [ "$2" -gt 0 ] 2>/dev/null && [ "$8" = 0 ] || die "connrate: no connections or errors: $out"
    echo "$out"
}

pingpong() {    # PORT CONNS SECONDS PIPE -> pingpong's output line; fails on errors or no trips
    local out
    out=$(timeout $(( ${3%.*} + 30 )) taskset -c "$GEN_CPU" "$TMP/pingpong" 127.0.0.1 "$1" "$2" "$MSG" "$3" "$4") \
        || die "pingpong against port $1 failed: $out"
    set -- $out
    [ "$2" -gt 0 ] 2>/dev/null && [ "$8" = 0 ] || die "pingpong: no round trips or errors: $out"
    echo "$out"
}

# ---------------------------------------------------------------- memory per idle connection
# Fresh servers first: the heap has not yet grown and been freed by the load slices.
declare -A MEM
log ""
log "== memory per idle keepalive connection ($IDLE_CONNS connections, one ${MSG}-byte request each)"
for s in "${SERVERS[@]}"; do
    pingpong "${PORT[$s]}" 1 0.3 1 >/dev/null     # warm-up: first session, Lua state, JIT
    settle "${PID[$s]}"
    before=$(rss_kb "${PID[$s]}")
    : >"$TMP/idle.out"
    timeout 300 taskset -c "$GEN_CPU" "$TMP/idle" 127.0.0.1 "${PORT[$s]}" "$IDLE_CONNS" "$MSG" >"$TMP/idle.out" 2>"$TMP/idle.err" &
    ipid=$!; PIDS+=("$ipid")
    ready=0
    for i in $(seq 1 1200); do
        if grep -q '^ready' "$TMP/idle.out"; then ready=1; break; fi
        kill -0 "$ipid" 2>/dev/null || break
        sleep 0.1
    done
    [ $ready = 1 ] || die "$s: idle connections not established: $(cat "$TMP/idle.err")"
    settle "${PID[$s]}"
    after=$(rss_kb "${PID[$s]}")
    kill -TERM "$ipid" 2>/dev/null || true
    wait "$ipid" 2>/dev/null || true
    MEM[$s]=$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (a - b) / n }')
    log "   $s: VmRSS $before kB -> $after kB: ${MEM[$s]} KB per idle connection"
    settle "${PID[$s]}"
done

# ---------------------------------------------------------------- CPU per round trip / connection
wl_servers() {  # w -> the servers of workload w (tcplua with its access log on only for connrate)
    local s
    for s in "${SERVERS[@]}"; do
        echo "$s"
        [ "$s" = tcplua ] && [ "${WL_TOOL[$1]}" = connrate ] && echo tcplua-log
        [ "$s" = base ] && [ "${WL_TOOL[$1]}" = connrate ] && echo base-log
    done
    return 0
}
declare -A CPT   # "w,server,round" -> server CPU microseconds per round trip (connrate: per connection)
for w in "${!WL_NAME[@]}"; do
    log ""
    if [ "${WL_TOOL[$w]}" = connrate ]; then
        log "== ${WL_NAME[$w]} (connrate, ${WL_CONNS[$w]} slots; a trip is a whole connection)"
        # Warm-up: the first sessions of the log-on server, the JIT traces of the accept/close path.
        for s in $(wl_servers "$w"); do connrate "${PORT[$s]}" "${WL_CONNS[$w]}" 0.3 >/dev/null; done
    else
        log "== ${WL_NAME[$w]} (${WL_CONNS[$w]} conns x ${WL_PIPE[$w]} pipelined)"
    fi
    for r in $(seq 1 "$ROUNDS"); do
        for s in $(wl_servers "$w"); do
            t0=$(ticks "${PID[$s]}")
            if [ "${WL_TOOL[$w]}" = connrate ]; then
                out=$(connrate "${PORT[$s]}" "${WL_CONNS[$w]}" "$SLICE")
            else
                out=$(pingpong "${PORT[$s]}" "${WL_CONNS[$w]}" "$SLICE" "${WL_PIPE[$w]}")
            fi
            t1=$(ticks "${PID[$s]}")
            rate=$(set -- $out; echo "$2")
            CPT[$w,$s,$r]=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v rate="$rate" -v sec="$SLICE" \
                'BEGIN { printf "%.4f", d * 1e6 / hz / (rate * sec) }')
            [ $((t1 - t0)) -gt 0 ] || die "$s used no measurable CPU in a slice (clock tick resolution)"
            printf '   round %d %-10s %8s trips/s %5d ticks %8.3f us CPU/trip\n' "$r" "$s" "$rate" $((t1 - t0)) "${CPT[$w,$s,$r]}"
        done
    done
done

# ---------------------------------------------------------------- syscalls per batch
# Not used for the CPU figures: one extra pipelined slice per server under `perf stat` counting
# syscall tracepoints, to check the design goal of one read and one write(v) per batch.
SC_W=2   # the "50 connections, 16 pipelined" workload
declare -A SC
SC_EV=
if [ -z "${NO_PERF:-}" ] && command -v perf >/dev/null; then
    for ev in read recvfrom readv recvmsg write sendto writev sendmsg epoll_wait epoll_pwait; do
        if perf stat -x, -e "syscalls:sys_enter_$ev" -p "${PID[evecho]}" -- sleep 0.05 >/dev/null 2>&1; then
            SC_EV="${SC_EV:+$SC_EV,}syscalls:sys_enter_$ev"
        fi
    done
fi
log ""
if [ -z "$SC_EV" ]; then
    log "== syscalls per batch: skipped (perf with syscall tracepoints unavailable; Debian package linux-perf)"
else
    log "== syscalls per batch (${WL_NAME[$SC_W]}, one ${SLICE}s slice each under perf stat)"
    for s in "${SERVERS[@]}"; do
        timeout $(( ${SLICE%.*} + 30 )) perf stat -x, -e "$SC_EV,raw_syscalls:sys_enter" -p "${PID[$s]}" \
            -o "$TMP/perf.$s" -- sleep "$(awk -v s="$SLICE" 'BEGIN { print s + 0.6 }')" >/dev/null 2>&1 &
        ppid=$!; PIDS+=("$ppid")
        sleep 0.2
        out=$(pingpong "${PORT[$s]}" "${WL_CONNS[$SC_W]}" "$SLICE" "${WL_PIPE[$SC_W]}")
        wait "$ppid" || die "perf stat failed on $s: $(cat "$TMP/perf.$s")"
        rate=$(set -- $out; echo "$2")
        SC[$s]=$(awk -F, -v b="$(awk -v r="$rate" -v s="$SLICE" -v p="${WL_PIPE[$SC_W]}" 'BEGIN { print r * s / p }')" '
            $3 ~ /sys_enter_(read|recvfrom|readv|recvmsg)$/    { rd += $1 }
            $3 ~ /sys_enter_(write|sendto|writev|sendmsg)$/    { wr += $1 }
            $3 ~ /sys_enter_(epoll_wait|epoll_pwait)$/         { ep += $1 }
            $3 ~ /raw_syscalls:sys_enter$/                     { all += $1 }
            END { printf "%.2f reads, %.2f writes, %.2f epoll_waits, %.2f syscalls in all", rd / b, wr / b, ep / b, all / b }' "$TMP/perf.$s")
        log "   $s: per batch of ${WL_PIPE[$SC_W]}: ${SC[$s]}"
    done
fi

# ---------------------------------------------------------------- table
ratio_median() {  # w server -> median over rounds of (server / evecho) CPU per round trip
    local r v=()
    for r in $(seq 1 "$ROUNDS"); do
        v+=("$(awk -v a="${CPT[$1,$2,$r]}" -v b="${CPT[$1,evecho,$r]}" 'BEGIN { printf "%.4f", a / b }')")
    done
    median "${v[@]}"
}
sc_total() { printf '%s\n' "${SC[$1]}" | sed 's/.*, \([0-9.]*\) syscalls in all$/\1/'; }
abs_median() {
    local r v=()
    for r in $(seq 1 "$ROUNDS"); do v+=("${CPT[$1,$2,$r]}"); done
    median "${v[@]}"
}

log ""
log "Server CPU per round trip (last rows: per connection) as a multiple of the C libev echo server"
log "(median of $ROUNDS paired rounds), and worker memory per idle keepalive connection."
log "Reference columns: ../shared/bench/README.md."
log ""
fmt='| %-40s | %10s | %8s | %8s | %10s | %13s | %17s | %11s |\n'
printf "$fmt" "workload" "evecho" "tcplua" "HAProxy" "stream-lua" "ref OpenResty" "ref 2015 module" "ref HAProxy"
printf "$fmt" "---" "---" "---" "---" "---" "---" "---" "---"
for w in "${!WL_NAME[@]}"; do
    e=$(abs_median "$w" evecho)
    t=$(ratio_median "$w" tcplua)
    if [ -n "$HAPROXY" ]; then h=$(printf '%.2fx' "$(ratio_median "$w" haproxy)"); else h="skipped"; fi
    if [ -n "$STREAMLUA" ]; then o=$(printf '%.2fx' "$(ratio_median "$w" streamlua)"); else o="skipped"; fi
    printf "$fmt" "${WL_NAME[$w]}" "$(printf '%.2f us' "$e")" "$(printf '%.2fx' "$t")" "$h" "$o" \
        "${REF_OR[$w]}" "${REF_2015[$w]}" "${REF_HAP[$w]}"
    if [ "${WL_TOOL[$w]}" = connrate ]; then
        printf "$fmt" "  same, tcplua default access log" "" "$(printf '%.2fx' "$(ratio_median "$w" tcplua-log)")" \
            "" "" "" "" ""
    fi
done
printf "$fmt" "KB per idle keepalive connection" "${MEM[evecho]} KB" "${MEM[tcplua]} KB" \
    "$([ -n "$HAPROXY" ] && echo "${MEM[haproxy]} KB" || echo skipped)" \
    "$([ -n "$STREAMLUA" ] && echo "${MEM[streamlua]} KB" || echo skipped)" "$REF_MEM_OR" "$REF_MEM_2015" "$REF_MEM_HAP"
if [ -n "$SC_EV" ]; then
    printf "$fmt" "syscalls per batch (16 pipelined)" "$(sc_total evecho)" "$(sc_total tcplua)" \
        "$([ -n "$HAPROXY" ] && sc_total haproxy || echo skipped)" \
        "$([ -n "$STREAMLUA" ] && sc_total streamlua || echo skipped)" "" "" ""
fi
log "(evecho column: its absolute CPU per round trip or connection; reference C echo memory: $REF_MEM_C)"

if [ -n "${TCPLUA_BASE_BIN:-}" ]; then
    log ""
    log "Same run, tcplua ($TCPLUA_BIN) against the base ($TCPLUA_BASE_BIN), each as a multiple of evecho:"
    log ""
    bfmt='| %-40s | %8s | %8s | %8s |\n'
    printf "$bfmt" "workload" "base" "tcplua" "change"
    printf "$bfmt" "---" "---" "---" "---"
    brow() { # label new-server base-server workload
        local t b
        t=$(ratio_median "$4" "$2"); b=$(ratio_median "$4" "$3")
        printf "$bfmt" "$1" "$(printf '%.2fx' "$b")" "$(printf '%.2fx' "$t")" \
            "$(awk -v t="$t" -v b="$b" 'BEGIN { printf "%+.1f%%", (t / b - 1) * 100 }')"
    }
    for w in "${!WL_NAME[@]}"; do
        brow "${WL_NAME[$w]}" tcplua base "$w"
        [ "${WL_TOOL[$w]}" = connrate ] && brow "  same, default access log" tcplua-log base-log "$w"
    done
    printf "$bfmt" "KB per idle keepalive connection" "${MEM[base]}" "${MEM[tcplua]}" \
        "$(awk -v t="${MEM[tcplua]}" -v b="${MEM[base]}" 'BEGIN { printf "%+.1f%%", (t / b - 1) * 100 }')"
fi

# Anything the servers logged at error level or worse is worth a look.
for s in tcplua tcplua-log ${STREAMLUA:+streamlua}; do
    if grep -qE '\[(error|crit|alert|emerg)\]' "$TMP/$s-prefix/logs/error.log" 2>/dev/null; then
        log ""
        log "bench: $s logged errors (first 5):"
        grep -E '\[(error|crit|alert|emerg)\]' "$TMP/$s-prefix/logs/error.log" | head -5
    fi
done
# The log-on row means something only if that server did write its lines.
[ -s "$TMP/tcplua-log-prefix/logs/access_tcp.log" ] || die "tcplua-log wrote no access log lines"
for s in "${SERVERS[@]}" tcplua-log ${TCPLUA_BASE_BIN:+base-log}; do
    kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during the run"
done
