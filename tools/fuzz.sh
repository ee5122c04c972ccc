#!/usr/bin/env bash
# tools/fuzz.sh SECONDS TARGET... — run each libFuzzer target for SECONDS, seeded from
# fuzz/<area>/seeds-<name>/, the regression inputs in fuzz/<area>/regressions-<name>/ and
# the test fixtures listed (one glob per line, relative to the top) in
# fuzz/<area>/fixtures-<name>, with a work corpus in fuzz/corpus-work/. A crash leaves its
# input in fuzz/crashes/<area>-<name>/, is copied to fuzz/<area>/regressions-<name>/ (commit
# it with the fix: tests/fuzz/01-regressions.t replays it in every `make test`) and fails.
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
    [ -d "$root/fuzz/$area/regressions-$name" ] && dirs+=("$root/fuzz/$area/regressions-$name")
    if [ -f "$root/fuzz/$area/fixtures-$name" ]; then
        fix=$root/fuzz/corpus-work/fixtures-$area-$name
        rm -rf "$fix"; mkdir -p "$fix"
        while read -r glob; do
            case "$glob" in ''|'#'*) continue ;; esac
            for f in $root/$glob; do [ -f "$f" ] && cp "$f" "$fix/$(echo "${f#"$root"/}" | tr / _)"; done
        done < "$root/fuzz/$area/fixtures-$name"
        dirs+=("$fix")
    fi
    echo "fuzz: $area/$name for ${secs}s" >&2
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$crashes/" "${dirs[@]}" > "$work.log" 2>&1; then
        echo "fuzz: $area/$name FAILED: see $work.log and $crashes/" >&2
        tail -n 30 "$work.log" >&2
        mkdir -p "$root/fuzz/$area/regressions-$name"
        for c in "$crashes"/crash-* "$crashes"/leak-* "$crashes"/timeout-* "$crashes"/oom-*; do
            [ -f "$c" ] && cp "$c" "$root/fuzz/$area/regressions-$name/" \
                && echo "fuzz: $area/$name: regression input fuzz/$area/regressions-$name/$(basename "$c")" >&2
        done
        status=1
    else
        grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -n 2 | sed "s|^|fuzz: $area/$name: |" >&2
    fi
done
exit $status
