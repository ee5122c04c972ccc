#!/usr/bin/env bash
# bench/schedule.sh — the schedule stage (issue 17), against references measured in the
# same run:
#   1. actions stored per second: BENCH_SCHEDULE_PENDING (1,000,000) message records with
#      one delayed action each (due in a year), stored in batches (one durable commit per
#      batch), against `cat` over the same records (the pipe's own cost);
#   2. actions emitted per second with 1 M pending: 100,000 more records due at once,
#      emitted (claimed and settled, --acks none) while the million wait;
#   3. schedule's peak RSS (VmHWM) with 1 M pending, and the store's size;
#   4. the whole pipeline, ingest | decide | [schedule] | act-http | act-smtp | report
#      (pipelines/replay.sh --dry-run on a signed corpus), timing on (Time_Scale high, every
#      action held and emitted) vs off, best of 3 each.
# Prints `bench: schedule: ...` lines.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
N=${BENCH_SCHEDULE_PENDING:-1000000}
M=${BENCH_SCHEDULE_DUE:-100000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-schedule.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
printf '[Timing]\nTime_Scale = 1\nMax_Pending = 100000000\n' > t.ini

gen() { # FIRST COUNT DELAY
    python3 - "$@" <<'PY'
import sys
first, n, delay = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
w = sys.stdout.write
for i in range(first, first + n):
    w('{"v":1,"kind":"message","id":"%016x","ts":"2026-12-06T12:00:00.000Z","envelope":{"rcpt":"u%d@openclick.bouncy-sink.test"},'
      '"urls":{"open":["http://track.test/q/%d"]},"plan":{"stream":"openclick","actions":["open"],"user_agent":"UA","delays":{"open":%s}}}\n'
      % (i, i, i, delay))
PY
}
gen 0 "$N" 31536000 > pending.ndjson
gen "$N" "$M" 0.001 > due.ndjson
size=$(( $(stat -c %s pending.ndjson) / N ))

now() { date +%s.%N; }
t0=$(now); cat < pending.ndjson > /dev/null; t1=$(now)
cat_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

# 1. store a million
t0=$(now)
"$BS_BIN/schedule" -c t.ini --store s.sqlite --acks none < pending.ndjson > stored.out 2> err1
t1=$(now)
store_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
[ "$(grep -c '"kind":"message"' stored.out)" -eq "$N" ] || { echo "bench: schedule: store: wrong output" >&2; exit 1; }
db_mb=$(du -sm s.sqlite | cut -f1)

# 2. and 3. emit 100k due actions with the million pending (timed until the last is out);
# peak RSS of that process
mkfifo in.fifo
"$BS_BIN/schedule" -c t.ini --store s.sqlite --acks none < in.fifo > emitted.out 2> err2 &
pid=$!
exec 3> in.fifo
t0=$(now)
cat due.ndjson >&3
hwm=0
while :; do
    h=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${h:-0}" -gt "$hwm" ] && hwm=$h
    [ "$(grep -c '"kind":"action"' emitted.out)" -ge "$M" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "bench: schedule: emit: schedule died" >&2; exit 1; }
    sleep 0.05
done
t1=$(now)
exec 3>&-
wait "$pid"
emit_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
pending=$(sqlite3 s.sqlite 'SELECT count(*) FROM actions WHERE state = 0')

awk -v n="$N" -v m="$M" -v size="$size" -v st="$store_s" -v c="$cat_s" -v e="$emit_s" -v hwm="$hwm" \
    -v db="$db_mb" -v p="$pending" 'BEGIN {
    printf "bench: schedule: actions stored/s (%d records of %d bytes, one delayed action each): %.0f (cat over them: %.0f records/s, ratio %.3f)\n", n, size, n / st, n / c, c / st
    printf "bench: schedule: actions emitted/s with %d pending: %.0f (%d due actions stored and emitted)\n", p, m / e, m
    printf "bench: schedule: peak RSS with %d pending: %.1f MB; store %d MB on disk\n", p, hwm / 1024, db
}'

# 4. the whole pipeline, timing off vs on
K=${BENCH_SCHEDULE_MESSAGES:-2000}
"$BS_BIN/gen-corpus" -n "$K" -f spool -o corpus --seed 3 --domain sender.test --key dkim.key \
    --key-file keys.txt --tracking-base http://track.sender.test \
    --streams openclick=50,oob=25,fbl=25 2>/dev/null
cat > off.ini <<INI
[Sink]
Logfile = $tmp/replay.log
Tracking_Domains_Allowlist = track.sender.test
User_Agents_File = $ROOT/data/reference/user-agents.csv
[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test
[Verify]
DKIM_Key_File = $tmp/keys.txt
SPF = off
[Smtp]
MX_Override = sender.test=mx.sender.test
[Decide]
Seed = 9
INI
{ cat off.ini; printf '[Timing]\nTime_Scale = 1e7\nOpen = fixed 1s\nClick = fixed 1s\nOOB = fixed 1s\nFBL = fixed 1s\nOpen_Again = fixed 1s\nClick_Again = fixed 1s\n'; } > on.ini
run() { rm -f replay.log; t0=$(now); bash "$ROOT/pipelines/replay.sh" -c "$1" --dry-run corpus > /dev/null 2>&1; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'; }
best_off="" best_on=""
for _ in 1 2 3; do
    o=$(run off.ini); n=$(run on.ini)
    best_off=$(awk -v a="$o" -v b="$best_off" 'BEGIN { print (b == "" || a < b) ? a : b }')
    best_on=$(awk -v a="$n" -v b="$best_on" 'BEGIN { print (b == "" || a < b) ? a : b }')
done
grep -q ',Action ' replay.log || { echo "bench: schedule: timing on: no Action line" >&2; exit 1; }
awk -v k="$K" -v off="$best_off" -v on="$best_on" 'BEGIN {
    printf "bench: schedule: whole pipeline (replay.sh --dry-run, %d signed messages): %.0f messages/s with timing off, %.0f with timing on (every action held, then emitted): ratio on/off %.2f\n", k, k / off, k / on, off / on
}'
