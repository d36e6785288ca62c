#!/bin/bash
# ci/mutants.sh: mutation testing, "proof that the suite can fail" (issue 11 item 6).
#
# Each ci/mutants/NNN-name.patch is a small realistic fault of core/ or api/ with a header:
#   # fault: what is wrong                         (for the table)
#   # tests: PYTEST-ARGS [; PYTEST-ARGS ...]       (conformance/ subsets that should kill it)
#   # unit: core/tests/test_x [api/tests/test_y]   (optional: Check binaries covering the code)
#   # equivalent: why                              (optional: a survivor that cannot be killed)
# For every patch: copy a base tree (git archive HEAD, built once with OPT=-O1) with its build,
# apply the patch (one that does not apply is "stale", not a survivor), rebuild build/tcplua
# there, run the unit binaries, then each pytest subset with TCPLUA_BIN at that build and a
# deadline (MUTANT_DEADLINE seconds per subset, MUTANT_UNIT_DEADLINE per unit binary).
# Killed = a unit test or a conformance case failed (or hit the deadline); the first killer is
# named. One mutant at a time (make -j2). The tests are HEAD's: commit a new case first.
#
#   ci/mutants.sh                  every patch;   MUTANTS="001 017" ci/mutants.sh: a subset
#   MUTANTS_BASELINE=1             first runs every selected subset against the unmutated build
#                                  (a subset that fails there would make kills meaningless)
#   MUTANTS_KEEP=1                 keeps the work directory (logs per mutant)
#   MUTANTS_UNIT=0                 skips the unit binaries: the conformance suite alone
# Exit status: 0 when the score (killed / non-equivalent applied mutants) reaches
# MUTANTS_MIN_SCORE (default 95), else 1.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-/usr/bin/python3}
deadline=${MUTANT_DEADLINE:-180}
unit_deadline=${MUTANT_UNIT_DEADLINE:-30}
min_score=${MUTANTS_MIN_SCORE:-95}
work=$(mktemp -d "${TMPDIR:-/tmp}/tcplua-mutants.XXXXXX")
base=$work/base
start=$(date +%s)
cleanup() { [ -n "${MUTANTS_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

patches=()
if [ -n "${MUTANTS:-}" ]; then
    for id in $MUTANTS; do
        f=$(ls "$root"/ci/mutants/"$id"-*.patch 2>/dev/null | head -1)
        [ -n "$f" ] || { echo "no patch $id" >&2; exit 2; }
        patches+=("$f")
    done
else
    patches=("$root"/ci/mutants/[0-9]*.patch)
fi

header() { sed -n "s/^# $1: //p" "$2" | head -1; }

mkdir -p "$base"
(cd "$root" && git archive HEAD) | tar x -C "$base"
units=$(for p in "${patches[@]}"; do header unit "$p"; done | tr ' ' '\n' | sort -u | sed '/^$/d;s|^|build/|')
echo "== base build (HEAD $(cd "$root" && git rev-parse --short HEAD), OPT=-O1) in $work"
if ! make -C "$base" -j2 OPT=-O1 build/tcplua $units >"$work/base-build.log" 2>&1; then
    tail -30 "$work/base-build.log"
    echo "base build failed" >&2
    exit 2
fi

# run_group DIR ARGS: one pytest subset; prints "pass", "killed NODEID", "deadline" or "error RC".
run_group() {
    local dir=$1 group=$2 log=$3 rc
    eval "set -- $group"
    (cd "$dir/conformance" && TCPLUA_BIN="$dir/build/tcplua" timeout -k 10 "$deadline" \
        "$py" -m pytest -q -x -p no:cacheprovider --spec-report="$dir/report.json" "$@") >"$log" 2>&1
    rc=$?
    case $rc in
    0) echo pass ;;
    1) echo "killed $(grep -m1 -E '^(FAILED|ERROR) ' "$log" | sed -E 's/^(FAILED|ERROR) //; s/ - .*//')" ;;
    124 | 137) echo deadline ;;
    *) echo "error $rc" ;;
    esac
}

if [ -n "${MUTANTS_BASELINE:-}" ]; then
    echo "== baseline: every selected subset against the unmutated build"
    bad=0
    for group in $(for p in "${patches[@]}"; do header tests "$p" | tr ';' '\n' | sed 's/^ *//;s/ *$//;s/ /\x1f/g'; done | sort -u); do
        group=${group//$'\x1f'/ }
        r=$(run_group "$base" "$group" "$work/baseline.log")
        printf '  %-70s %s\n' "$group" "$r"
        [ "$r" = pass ] || { bad=1; tail -5 "$work/baseline.log"; }
    done
    [ $bad = 0 ] || { echo "baseline failures: fix the subsets first" >&2; exit 2; }
fi

killed=0 survived=0 stale=0 broken=0 equiv=0
results=()
for p in "${patches[@]}"; do
    name=$(basename "$p" .patch)
    t0=$(date +%s)
    d=$work/m
    rm -rf "$d"
    cp -a "$base" "$d"
    log=$work/$name
    mkdir -p "$log"
    status="" by=""
    if ! (cd "$d" && patch -p1 -s -f -F0 --dry-run <"$p" >"$log/patch.log" 2>&1); then
        status=stale
    else
        (cd "$d" && patch -p1 -s -f -F0 <"$p" >>"$log/patch.log" 2>&1)
        if ! make -C "$d" -j2 OPT=-O1 build/tcplua >"$log/build.log" 2>&1; then
            status=build-error
        fi
    fi
    if [ -z "$status" ]; then
        for u in $([ "${MUTANTS_UNIT:-1}" = 0 ] || header unit "$p"); do
            if ! make -C "$d" -j2 OPT=-O1 "build/$u" >>"$log/build.log" 2>&1; then
                status=build-error
                break
            fi
            (cd "$d" && CK_DEFAULT_TIMEOUT=10 timeout -k 5 "$unit_deadline" "build/$u") >"$log/unit.log" 2>&1
            case $? in
            0) ;;
            124 | 137) status=killed by="unit ${u##*/} (deadline)" ;;
            *) status=killed by="unit ${u##*/}: $(grep -m1 -oE '[^ ]+:[0-9]+:[EF]:[^:]+:[^:]+' "$log/unit.log")" ;;
            esac
            [ -z "$status" ] || break
        done
    fi
    if [ -z "$status" ]; then
        IFS=';' read -ra groups <<<"$(header tests "$p")"
        n=0
        for group in "${groups[@]}"; do
            n=$((n + 1))
            r=$(run_group "$d" "$group" "$log/pytest$n.log")
            case $r in
            pass) ;;
            killed*) status=killed by="${r#killed }" ;;
            deadline) status=killed by="deadline: $group" ;;
            *) status="error" by="$r: $group" ;;
            esac
            [ -z "$status" ] || break
        done
        if [ -z "$status" ]; then
            status=survived
            eq=$(header equivalent "$p")
            [ -z "$eq" ] || status=equivalent by="$eq"
        fi
    fi
    case $status in
    killed) killed=$((killed + 1)) ;;
    survived | error) survived=$((survived + 1)) ;;
    equivalent) equiv=$((equiv + 1)) ;;
    stale) stale=$((stale + 1)) ;;
    *) broken=$((broken + 1)) ;;
    esac
    line=$(printf '%-38s %-11s %4ss  %s' "$name" "$status" $(($(date +%s) - t0)) "$by")
    echo "$line"
    results+=("$line")
done
rm -rf "$work/m"

total=$((killed + survived))
echo
echo "== mutants: ${#patches[@]} ($killed killed, $survived survived, $equiv equivalent, $stale stale, $broken not building) in $(($(date +%s) - start)) s"
for l in "${results[@]}"; do
    case $l in *" survived "* | *" error "* | *" stale "* | *" build-error "*) echo "  $l" ;; esac
done
if [ $total -eq 0 ]; then
    echo "score: n/a"
    exit 1
fi
score=$((killed * 100 / total))
echo "score: $killed/$total killed = $(awk "BEGIN{printf \"%.1f\", $killed*100/$total}")% (equivalent and stale mutants not counted; minimum $min_score%)"
[ $score -ge "$min_score" ]
