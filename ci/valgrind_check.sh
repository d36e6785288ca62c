#!/bin/sh
# Judges a conformance run under Valgrind (make valgrind): every server process wrote
# DIR/vg.PID.log with -q, so a clean process left an empty file. Fails on any non-empty report
# (a memory error or a definite leak), and when no report exists (Valgrind did not run).
dir=$1
n=$(ls "$dir"/vg.*.log 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "valgrind: no reports in $dir"; exit 1; }
bad=$(find "$dir" -name 'vg.*.log' -size +0)
if [ -n "$bad" ]; then
    for f in $bad; do echo "== $f"; head -80 "$f"; done
    echo "valgrind: $(echo "$bad" | wc -l) of $n server processes reported errors or definite leaks"
    exit 1
fi
echo "valgrind: $n server processes, 0 errors, 0 definite leaks"
