#!/usr/bin/env bash
# bench/decide.sh — records per second through decide (pure CPU: parse, draw, write).
# Generates 100,000 message records of about 1.7 KB (mixed stream, production model) and
# runs decide over them 5 times per setting, reporting the best run:
#   - output to /dev/null (decide's own work) and through a pipe into cat (a pipeline);
#   - the same records with a number in exponent form ("size":5.12e3), which sends every
#     line down the jansson parse + dump path: the reference the fast scanner is measured
#     against.
# Goal: >= 500,000 records/s.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
N=${BENCH_DECIDE_RECORDS:-100000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-decide.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cp "$ROOT/data/reference/user-agents.csv" .
python3 "$ROOT/tests/decide/gen-records.py" "$N" 'user{i}@bouncy-sink.test' --pad 700 \
    --unsub >fast.ndjson
sed 's/"size":5120/"size":5.12e3/' fast.ndjson >slow.ndjson
grep -q '5.12e3' slow.ndjson
size=$(( $(stat -c %s fast.ndjson) / N ))

decide() { "$BS_BIN/decide" -c "$ROOT/data/reference/consume-mail.ini" --seed 1; }

# best INPUT OUTPUT: best wall-clock seconds of 5 runs (OUTPUT "pipe": into cat)
best() {
    local b="" t0 t1
    for _ in 1 2 3 4 5; do
        t0=$(date +%s.%N)
        if [ "$2" = pipe ]; then decide <"$1" 2>/dev/null | cat >/dev/null
        else decide <"$1" >"$2" 2>/dev/null; fi
        t1=$(date +%s.%N)
        b=$(awk -v a="$t0" -v c="$t1" -v b="$b" 'BEGIN { s = c - a; if (b == "" || s < b) b = s; printf "%.6f", b }')
    done
    echo "$b"
}

for f in fast slow; do
    decide <$f.ndjson >out.ndjson 2>/dev/null
    lines=$(wc -l <out.ndjson)
    [ "$lines" -eq $((N + 1)) ] || { echo "bench: decide: $f: expected $((N + 1)) lines, got $lines" >&2; exit 1; }
done
fast_null=$(best fast.ndjson /dev/null)
fast_pipe=$(best fast.ndjson pipe)
slow_null=$(best slow.ndjson /dev/null)
awk -v n="$N" -v size="$size" -v fn="$fast_null" -v fp="$fast_pipe" -v sn="$slow_null" 'BEGIN {
    printf "bench: decide: records/s (%d records of %d bytes, output to /dev/null): %.0f (goal: 500000, ratio %.2f)\n", n, size, n / fn, n / fn / 500000
    printf "bench: decide: records/s (same, through a pipe into cat): %.0f (goal: 500000, ratio %.2f)\n", n / fp, n / fp / 500000
    printf "bench: decide: records/s (fast scanner, /dev/null): %.0f (jansson parse+dump path: %.0f, ratio %.2f)\n", n / fn, n / sn, sn / fn
}'
