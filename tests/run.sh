#!/usr/bin/env bash
# tests/run.sh [PATH...] — run the test suite and print `N passed, N failed` last.
#
# Tests are TAP producers: compiled unit tests (build/<variant>/tests/<area>/<name>) and
# scripts tests/<area>/*.t. Every `ok` line is a pass and every `not ok` a failure; a
# test program that exits non-zero, or prints no `ok` line at all, counts as one more
# failure. PATH arguments restrict the run to tests whose path contains one of them
# (e.g. `tests/run.sh decide`). Logs go to tests/out/run.*/ (tests/out/latest).
#
# Environment: BS_BIN (tools, default bin/), BS_UNIT (unit test binaries, default
# build/release/tests), BS_TEST_TIMEOUT (seconds per test program, default 600),
# BS_JOBS (test programs run at once, default 2), BS_UNIT_WRAP (a command prefix for the
# compiled unit tests, e.g. "valgrind -q --error-exitcode=99").
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
export BS_BIN=${BS_BIN:-$ROOT/bin}
export BS_UNIT=${BS_UNIT:-$ROOT/build/release/tests}
timeout_s=${BS_TEST_TIMEOUT:-600}
jobs=${BS_JOBS:-2}
# Each run logs into its own directory (runs may overlap); tests/out/latest points at it.
mkdir -p "$ROOT/tests/out"
out=$(mktemp -d "$ROOT/tests/out/run.XXXXXX")
ln -sfn "$(basename "$out")" "$ROOT/tests/out/latest"

mapfile -t all < <( { [ -d "$BS_UNIT" ] && find "$BS_UNIT" -type f -perm -u+x; \
                      find "$ROOT/tests" -mindepth 2 -maxdepth 2 -name '*.t' -type f; } | sort)
selected=()
for t in "${all[@]}"; do
    if [ $# -eq 0 ]; then selected+=("$t"); continue; fi
    for want in "$@"; do
        want=${want#tests/}
        case "$t" in *"$want"*) selected+=("$t"); break ;; esac
    done
done
listed=("${selected[@]}") # the report's order
# Longest first, so that with 2 jobs the long tests overlap each other and the short ones
# fill in around them, instead of a long one ending the run alone: tests/durations lists
# the slow tests' wall times ("SECONDS PATH", from a plain run; each test's time is in its
# log and on its PASS line), an unlisted test counts as 1 s, ties keep the path order.
if [ ${#selected[@]} -gt 1 ] && [ -f "$ROOT/tests/durations" ]; then
    mapfile -t selected < <(printf '%s\n' "${selected[@]}" | awk -v root="$ROOT/" '
        NR == FNR { if ($1 ~ /^[0-9.]+$/) w[$2] = $1; next }
        { name = substr($0, 1, length(root)) == root ? substr($0, length(root) + 1) : $0
          sub("^build/[^/]+/tests/", "build/tests/", name)
          printf "%012.3f %08d %s\n", (name in w ? w[name] : 1), FNR, $0 }
    ' "$ROOT/tests/durations" - | sort -k1,1r -k2,2n | cut -d' ' -f3-)
fi
if [ ${#selected[@]} -eq 0 ]; then
    echo "run.sh: no tests found" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

run_one() {
    local t=$1 log rc
    log="$out/$(echo "${t#"$ROOT"/}" | tr '/' '_').log"
    local wrap=()
    case "$t" in "$BS_UNIT"/*) [ -n "${BS_UNIT_WRAP:-}" ] && read -r -a wrap <<< "$BS_UNIT_WRAP" ;; esac
    local t0=$EPOCHREALTIME
    ( cd "$ROOT" && timeout -k 10 "$timeout_s" "${wrap[@]}" "$t" ) >"$log" 2>&1 < /dev/null
    rc=$?
    local t1=$EPOCHREALTIME
    LC_ALL=C awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "time %.1f s\n", b - a }' >> "$log"
    echo "exit $rc" >> "$log"
}
export -f run_one
export out timeout_s BS_UNIT
start=$EPOCHREALTIME
printf '%s\n' "${selected[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

passed=0 failed=0
for t in "${listed[@]}"; do
    name=${t#"$ROOT"/}
    log="$out/$(echo "$name" | tr '/' '_').log"
    p=$(grep -cE '^ok( |$)' "$log")
    f=$(grep -cE '^not ok( |$)' "$log")
    rc=$(tail -n 1 "$log" | sed 's/^exit //')
    secs=$(tail -n 2 "$log" | sed -n 's/^time \([0-9.]*\) s$/\1/p')
    extra=""
    if [ "$rc" != 0 ]; then
        extra=" (exited $rc$([ "$rc" = 124 ] && echo ", timed out after ${timeout_s}s"))"
        f=$((f + 1))
    elif [ "$p" = 0 ] && [ "$f" = 0 ]; then
        extra=" (no test ran)"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" = 0 ]; then
        printf 'PASS %-50s %4d ok %7s s\n' "$name" "$p" "$secs"
    else
        printf 'FAIL %-50s %4d ok, %d not ok%s %s s\n' "$name" "$p" "$f" "$extra" "$secs"
        grep -E '^not ok|^#' "$log" | head -n 40 | sed 's/^/    /'
        tail -n 15 "$log" | sed 's/^/    | /'
    fi
done
LC_ALL=C awk -v a="${start/,/.}" -v b="${EPOCHREALTIME/,/.}" -v j="$jobs" \
    'BEGIN { printf "wall time %.0f s (%d jobs at once)\n", b - a, j }'
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
