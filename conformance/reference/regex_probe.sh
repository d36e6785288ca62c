#!/bin/bash
# Records ngx_lua's ngx.re.match / find / gmatch / sub / gsub into regex_ngx_lua.txt (or $1);
# see content_probe.sh, which does the work. libpcre3: the PCRE the module links.
#   conformance/reference/regex_probe.sh [OUTPUT]
exec "$(dirname "$0")/content_probe.sh" regex "ngx.re.match / find / gmatch / sub / gsub" libpcre3 "$@"
