#!/bin/sh
# ci/lua2c.sh FILE.lua NAME: prints a C file defining `const char NAME[]` (the file's bytes, NUL
# terminated) and `const size_t NAME_len`, so Lua modules of the server ship inside the binary.
# Only coreutils (od) and awk: nothing to install.
set -eu
src=$1
name=$2
printf '/* generated from %s by ci/lua2c.sh: do not edit */\n#include <stddef.h>\n' "$src"
printf 'const char %s[] = {\n' "$name"
od -An -v -tx1 "$src" | awk '{ line = ""; for (i = 1; i <= NF; i++) line = line "0x" $i ","; print line }'
printf '0x00};\nconst size_t %s_len = sizeof %s - 1;\n' "$name" "$name"
