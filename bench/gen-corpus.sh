#!/usr/bin/env bash
# bench/gen-corpus.sh — messages per second written by gen-corpus (spool format,
# DKIM-signed, one RSA-2048 signature per message). Reference: `openssl speed`
# RSA-2048 signatures per second on one core, the ceiling of a signing generator.
# Goal: 10,000 messages in a few seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
N=${BENCH_GEN_CORPUS_MESSAGES:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-gen-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$BS_BIN/gen-corpus" -n 1 --seed 1 -o "$tmp/key" > /dev/null # key made once, not timed
t0=$(date +%s.%N)
"$BS_BIN/gen-corpus" -n "$N" --seed 1 -o "$tmp/c" --key "$tmp/key/dkim.key"
t1=$(date +%s.%N)
got=$(find "$tmp/c" -name '*.msg' | wc -l)
[ "$got" -eq "$N" ] || { echo "bench: gen-corpus: expected $N files, got $got" >&2; exit 1; }
rate=$(echo "$N / ($t1 - $t0)" | bc -l)
sign=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $6 }')
printf 'bench: gen-corpus: signed messages/s (%d, spool): %.0f (openssl rsa2048 sign/s: %.0f, ratio %.2f)\n' \
    "$N" "$rate" "$sign" "$(echo "$rate / $sign" | bc -l)"
printf 'bench: gen-corpus: seconds for %d messages: %.2f\n' "$N" "$(echo "$t1 - $t0" | bc -l)"
