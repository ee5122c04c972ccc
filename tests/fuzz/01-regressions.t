#!/usr/bin/env bash
# fuzz: every libFuzzer target fuzz/<area>/<name>.c, built by `make fuzz-build` (part of
# `make test`), runs once (-runs=0, no mutation) over its committed seeds
# fuzz/<area>/seeds-<name>/ and every committed crash input in
# fuzz/<area>/regressions-<name>/ (tools/fuzz.sh files new crashes there) without a crash,
# a leak or a UBSan report.
. "$(dirname "$0")/../lib.sh"

mapfile -t srcs < <(cd "$ROOT" && ls fuzz/*/*.c | sort)
[ ${#srcs[@]} -ge 10 ]; ok $? "fuzz targets found (${#srcs[@]})"

for src in "${srcs[@]}"; do
    rel=${src#fuzz/}; rel=${rel%.c}
    area=${rel%%/*}; name=${rel#*/}
    bin=$ROOT/build/fuzz/$rel
    if [ ! -x "$bin" ] || [ "$bin" -ot "$ROOT/$src" ]; then
        fail "$rel: build/fuzz/$rel missing or stale (make fuzz-build)"
        continue
    fi
    dirs=()
    for d in "$ROOT/fuzz/$area/seeds-$name" "$ROOT/fuzz/$area/regressions-$name"; do
        [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && dirs+=("$d")
    done
    [ -d "$ROOT/fuzz/$area/seeds-$name" ]; ok $? "$rel: has seeds"
    [ ${#dirs[@]} -gt 0 ] || continue
    inputs=$(find "${dirs[@]}" -type f | wc -l)
    log=$T/$area-$name.log
    # -runs=0 with corpus directories: each file is executed once, nothing is mutated.
    ASAN_OPTIONS=detect_leaks=1 "$bin" -runs=0 -timeout=30 -rss_limit_mb=2048 "${dirs[@]}" \
        > "$log" 2>&1
    rc=$?
    ok $rc "$rel: $inputs seed/regression inputs run clean"
    if [ $rc != 0 ]; then
        grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -n 10 | sed 's/^/# /'
        tail -n 10 "$log" | sed 's/^/# | /'
    fi
done
done_testing
