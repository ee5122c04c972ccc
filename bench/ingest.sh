#!/usr/bin/env bash
# bench/ingest.sh — messages per second through ingest (GMime, libxml2, DKIM verify,
# JSON) on a 10,000-message DKIM-signed corpus from gen-corpus, against the machine's
# RSA-2048 verify rate (the physical floor of DKIM: one verify per message).
# Goal: >= 20,000 messages/s on 2 cores. Best of 3 runs with -j = number of CPUs, plus
# one run with -j 1, whose CPU time gives messages per CPU-second (independent of other
# load on the machine); SPF off (it needs DNS). Last, instructions per message under
# callgrind (repeatable on a busy machine; BENCH_INGEST_CALLGRIND_MESSAGES=0 skips it),
# also for the same messages as listen spools them (its Authentication-Results field on
# top, whose DKIM verdicts ingest takes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# ingest as pipelines/sink.sh runs it: glibc's per-thread cache of freed blocks holds 128
# of a size, not 7 (the instructions per message without it are printed too).
tunables=glibc.malloc.tcache_count=128
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-$tunables}
BS_BIN=${BS_BIN:-$ROOT/bin}
N=${BENCH_INGEST_MESSAGES:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-ingest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cpus=$(nproc)

"$BS_BIN/gen-corpus" -n "$N" --seed 1 --date 2026-11-20T10:00:00Z -o "$tmp/corpus" \
    --key "$tmp/dkim.key" 2>/dev/null
printf '[Verify]\nSPF = off\nDKIM_Key_File = %s/corpus/dkim-keys.txt\n' "$tmp" > "$tmp/sink.ini"
size=$(( $(du -sb "$tmp/corpus" | cut -f1) / N ))
cat "$tmp/corpus"/*.msg > /dev/null # warm the page cache

# run J: prints the wall-clock seconds of one run over the corpus and leaves the CPU
# seconds (user + system) in $tmp/cpu.
run() {
    local TIMEFORMAT='%R %U %S' t
    t=$( { time "$BS_BIN/ingest" -c "$tmp/sink.ini" -j "$1" "$tmp/corpus" \
        > "$tmp/out.ndjson" 2>/dev/null; } 2>&1 )
    read -r -a t <<< "$t"
    echo "${t[1]} + ${t[2]}" | bc -l > "$tmp/cpu"
    echo "${t[0]}"
}
best=""
for _ in 1 2 3; do
    s=$(run "$cpus")
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
done
lines=$(wc -l < "$tmp/out.ndjson")
pass=$(grep -c '"dkim":{"result":"pass"' "$tmp/out.ndjson" || true)
[ "$lines" -eq "$N" ] || { echo "bench: ingest: expected $N records, got $lines" >&2; exit 1; }
[ "$pass" -eq "$N" ] || echo "bench: ingest: warning: only $pass of $N records have dkim pass" >&2
one=$(run 1)
cpu=$(cat "$tmp/cpu")

# RSA-2048 verifies per second on one core (openssl speed; last column of the rsa line).
rsa=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
rate=$(echo "$N / $best" | bc -l)
rate1=$(echo "$N / $one" | bc -l)
floor=$(echo "$rsa * $cpus" | bc -l)
printf 'bench: ingest: messages/s, %d DKIM-signed messages of %d bytes, -j %d (best of 3): %.0f (goal: 20000, ratio %.2f)\n' \
    "$N" "$size" "$cpus" "$rate" "$(echo "$rate / 20000" | bc -l)"
printf 'bench: ingest: messages/s with -j %d: %.0f (openssl rsa2048 verify/s on %d cores: %.0f, ratio %.3f)\n' \
    "$cpus" "$rate" "$cpus" "$floor" "$(echo "$rate / $floor" | bc -l)"
printf 'bench: ingest: messages/s with -j 1: %.0f (openssl rsa2048 verify/s on 1 core: %.0f, ratio %.3f)\n' \
    "$rate1" "$rsa" "$(echo "$rate1 / $rsa" | bc -l)"
printf 'bench: ingest: messages per CPU-second (user+sys, -j 1): %.0f (openssl rsa2048 verify/s on 1 core: %.0f, ratio %.3f)\n' \
    "$(echo "$N / $cpu" | bc -l)" "$rsa" "$(echo "$N / $cpu / $rsa" | bc -l)"

# Instructions per message under callgrind: repeatable whatever the load of the shared
# machine, unlike the figures above. A run over the first $CG messages minus a run over
# none (start-up); -j 1. Skipped without valgrind.
CG=${BENCH_INGEST_CALLGRIND_MESSAGES:-200}
if [ "$CG" -gt 0 ] && command -v valgrind > /dev/null; then
    mkdir "$tmp/cg" "$tmp/none"
    # (not `| head`: under pipefail, sort's SIGPIPE would end the script here)
    mapfile -t msgs < <(find "$tmp/corpus" -name '*.msg' | sort)
    cp -t "$tmp/cg" "${msgs[@]:0:$CG}"
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BS_BIN/ingest" \
            -c "$tmp/sink.ini" -j 1 "$1" 2>&1 > /dev/null | awk '/Collected :/ {print $NF}'
    }
    all=$(ir "$tmp/cg") start=$(ir "$tmp/none")
    if [ -n "$all" ] && [ -n "$start" ]; then
        per=$(echo "($all - $start) / $CG" | bc -l)
        printf 'bench: ingest: instructions per message (callgrind, -j 1, %d messages): %.0f (before the 2026-11-24 tuning: 1970000, ratio %.2f)\n' \
            "$CG" "$per" "$(echo "$per / 1970000" | bc -l)"
        plain=$(GLIBC_TUNABLES='' ir "$tmp/cg") plain_start=$(GLIBC_TUNABLES='' ir "$tmp/none")
        if [ -n "$plain" ] && [ -n "$plain_start" ]; then
            per_plain=$(echo "($plain - $plain_start) / $CG" | bc -l)
            printf 'bench: ingest: instructions per message with glibc'"'"'s default malloc cache (7 blocks a size, not GLIBC_TUNABLES=%s): %.0f (ratio %.2f)\n' \
                "$GLIBC_TUNABLES" "$per_plain" "$(echo "$per / $per_plain" | bc -l)"
        fi
    fi
    # The same messages as listen spools them after verifying them: its
    # Authentication-Results field (every signature pass) on top, whose verdicts ingest
    # takes instead of verifying again (ingest(1), dkim).
    mkdir "$tmp/ar"
    for f in "$tmp"/cg/*.msg; do
        { printf 'Authentication-Results: bench.test;\r\n\tdkim=pass header.d=sender.test header.s=s1\r\n'
          cat "$f"; } > "$tmp/ar/${f##*/}"
    done
    printf '[Listen]\nHostname = bench.test\n' >> "$tmp/sink.ini"
    ar=$(ir "$tmp/ar")
    pass=$("$BS_BIN/ingest" -c "$tmp/sink.ini" -j 1 "$tmp/ar" 2>/dev/null | grep -c '"dkim":{"result":"pass"' || true)
    if [ -n "$ar" ] && [ -n "$start" ] && [ -n "${per:-}" ]; then
        per_ar=$(echo "($ar - $start) / $CG" | bc -l)
        printf 'bench: ingest: instructions per message verified by listen (its A-R field, %d of %d pass): %.0f (ratio %.2f to verifying)\n' \
            "$pass" "$CG" "$per_ar" "$(echo "$per_ar / $per" | bc -l)"
    fi
fi
printf 'bench: ingest: load average after the runs: %s (other processes share the CPUs)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
