#!/usr/bin/env bash
# tools/fuzz.sh SECONDS TARGET... — run each libFuzzer target for SECONDS, seeded from
# fuzz/<area>/seeds-<name>/ (and the test fixtures it lists), with a work corpus in
# fuzz/corpus-work/. A crash leaves its input in fuzz/crashes/<area>-<name>/ and fails.
set -uo pipefail
secs=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$@"; do
    rel=${bin#build/fuzz/}
    area=${rel%%/*}; name=${rel#*/}
    seeds=$root/fuzz/$area/seeds-$name
    work=$root/fuzz/corpus-work/$area-$name
    crashes=$root/fuzz/crashes/$area-$name
    mkdir -p "$work" "$crashes"
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    echo "fuzz: $area/$name for ${secs}s" >&2
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$crashes/" "${dirs[@]}" > "$work.log" 2>&1; then
        echo "fuzz: $area/$name FAILED: see $work.log and $crashes/" >&2
        tail -n 30 "$work.log" >&2
        status=1
    else
        grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -n 2 | sed "s|^|fuzz: $area/$name: |" >&2
    fi
done
exit $status
