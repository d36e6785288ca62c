#!/bin/sh
# ci/format.sh check|apply: clang-format (style: .clang-format) over every C source and header
# under core/ api/ fuzz/ bench/, tests included; fuzz corpora are data and are skipped.
#   apply  rewrites the files in place                      (make format)
#   check  changes nothing; lists the files that would change
#          and exits 1 if there are any                     (make format-check)
# CLANG_FORMAT picks the binary; the style is written for clang-format 14 (Debian bookworm).
set -eu
cd "$(dirname "$0")/.."
cf=${CLANG_FORMAT:-clang-format}

command -v "$cf" >/dev/null 2>&1 || { echo "$cf not found: run make deps (Debian package clang-format)" >&2; exit 2; }
ver=$("$cf" --version | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p')
[ "$ver" = 14 ] || echo "warning: $cf is version ${ver:-unknown}; .clang-format is written for 14" >&2

files=$(find core api fuzz bench \( -path fuzz/corpus -o -path fuzz/regression \) -prune \
             -o -type f \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort)

case "${1:-}" in
apply)
    # shellcheck disable=SC2086  # the paths hold no spaces
    "$cf" -i $files
    ;;
check)
    bad=0
    for f in $files; do
        if ! out=$("$cf" --dry-run --Werror "$f" 2>&1); then
            echo "$f"
            bad=$((bad + 1))
            # not a formatting difference (a crash, an unreadable file): show why
            case "$out" in *clang-format-violations*) ;; *) printf '%s\n' "$out" >&2 ;; esac
        fi
    done
    if [ "$bad" -gt 0 ]; then
        echo "format-check: $bad file(s) differ from .clang-format; run: make format" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: $0 check|apply" >&2
    exit 2
    ;;
esac
