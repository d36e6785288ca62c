#!/usr/bin/env bash
# ci/peers.sh: build the two peer implementations the conformance suite is proved against,
# reusing a build that is already there, and print one line per peer: NAME BINARY.
#   original   nginx 1.4.1 + the 2015 tcp lua module   -> $OUT/original/objs/nginx
#   streamlua  stream-lua v0.0.12 for Debian's nginx    -> $OUT/streamlua/ngx_stream_lua_module.so
#              (run by /usr/sbin/nginx; the adapter loads it)
# usage: ci/peers.sh [OUT]          (OUT default: /work/peers-build; about 1 minute per build)
# Sources: ORIG_GIT / STREAM_LUA_GIT name git dirs of laozi2/nginx-stream-lua-module and
# openresty/stream-lua-nginx-module (a `git clone --mirror` or the fetch tool's copy); when
# unset, /work/.mirror/<owner>+<name>/repo is tried. The build scripts are
# ../shared/peers/build-{original,streamlua}.sh (SHARED_PEERS to change).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-/work/peers-build}
SHARED_PEERS=${SHARED_PEERS:-$ROOT/../shared/peers}
mkdir -p "$OUT"

git_dir() {   # VAR owner+name: the git dir to build from, or die
    local v=${!1:-/work/.mirror/$2/repo}
    git --git-dir="$v" rev-parse -q --verify HEAD >/dev/null 2>&1 ||
        { echo "peers: set $1 to a git dir of ${2/+//} (tried $v)" >&2; exit 1; }
    echo "$v"
}

orig=$OUT/original/objs/nginx
if [ ! -x "$orig" ]; then
    ORIG_GIT=$(git_dir ORIG_GIT laozi2+nginx-stream-lua-module) \
        bash "$SHARED_PEERS/build-original.sh" "$OUT/original" >/dev/null
fi
echo "original $orig"

sl=$OUT/streamlua/ngx_stream_lua_module.so
if [ ! -f "$sl" ]; then
    STREAM_LUA_GIT=$(git_dir STREAM_LUA_GIT openresty+stream-lua-nginx-module) \
        bash "$SHARED_PEERS/build-streamlua.sh" "$OUT/streamlua" >/dev/null
fi
[ -x /usr/sbin/nginx ] || { echo "peers: /usr/sbin/nginx missing (apt-get install nginx)" >&2; exit 1; }
echo "streamlua /usr/sbin/nginx (module $sl)"
