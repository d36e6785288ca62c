#!/bin/bash
# Records ngx_lua's ngx.escape_uri / ngx.unescape_uri into uri_ngx_lua.txt (or $1); see
# content_probe.sh, which does the work.
#   conformance/reference/uri_probe.sh [OUTPUT]
exec "$(dirname "$0")/content_probe.sh" uri "ngx.escape_uri / ngx.unescape_uri" "" "$@"
