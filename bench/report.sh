#!/usr/bin/env bash
# bench/report.sh — report under load: wrk on loopback against /json for ~10 s while
# records stream in through a FIFO; then checks that no record was lost (log lines ==
# records sent), and measures plain record throughput with --once. Builds nothing.
# Environment: BS_BIN (default bin/), BENCH_SECONDS (default 10), BENCH_RATE (records/s
# streamed during the load, default 5000).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
secs=${BENCH_SECONDS:-10}
rate=${BENCH_RATE:-5000}
command -v wrk > /dev/null || { echo "bench: report: wrk not installed (bash tools/deps.sh)" >&2; exit 69; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-report.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > c.ini
total=$((rate * secs))
python3 - "$total" > recs.ndjson <<'PY'
import json, sys
n = int(sys.argv[1])
acts = [[], ["open", "click"], ["oob"]]
for i in range(n):
    a = acts[i % 3]
    r = {"v": 1, "kind": "message", "id": "b%08d" % i, "ts": "2026-11-24T20:05:10.000Z",
         "source": {"type": "spool", "name": "spool/b%08d.msg" % i},
         "headers": {"to": "u%d@openclick.sink.test" % i, "from": "news@sender.test"},
         "dkim": {"result": "pass"}, "spf": {"result": "pass"}, "html": True,
         "urls": {"open": ["http://t.test/o"], "click": ["http://t.test/c"]},
         "plan": {"stream": "mixed", "actions": a},
         "http": {"open": [{"url": "http://t.test/o", "status": 200}],
                  "click": [{"url": "http://t.test/c", "status": 200}]},
         "smtp": {"oob": {"status": "sent", "from": "a@oob.s", "to": "b@s", "mx": "mx.s"}}}
    print(json.dumps(r, separators=(",", ":")))
PY
mkfifo in.fifo
"$BS_BIN/report" -c c.ini --input in.fifo < /dev/null 2> report.err &
rpid=$!; pids+=("$rpid")
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

rps() { awk '/^Requests\/sec:/ {printf "%.0f", $2}'; }
idle=$(wrk -t2 -c16 -d3s "http://127.0.0.1:$port/json" | rps)

# Stream the records at about $rate/s while wrk runs.
python3 - recs.ndjson in.fifo "$rate" <<'PY' &
import sys, time
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
rate = int(sys.argv[3]); step = max(1, rate // 20)
with open(sys.argv[2], "wb", buffering=0) as out:
    t = time.monotonic()
    for i in range(0, len(lines), step):
        out.write(b"".join(lines[i:i + step]))
        t += step / rate
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
PY
gen=$!; pids+=("$gen")
wrk -t2 -c32 -d"${secs}s" "http://127.0.0.1:$port/json" > wrk.txt
loaded=$(rps < wrk.txt)
errors=$(awk '/Non-2xx|Socket errors/' wrk.txt)
wait "$gen"
want=$((total + 2)) # two start lines
for _ in $(seq 1 600); do [ "$(wc -l < c.log)" -ge "$want" ] && break; sleep 0.1; done
got=$(($(wc -l < c.log) - 2))
counted=$(curl -s "http://127.0.0.1:$port/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_messages"])')
kill -TERM "$rpid"; wait "$rpid" || true

echo "bench: report: GET /json requests/s while $rate records/s stream in: $loaded (idle: $idle, ratio $(awk -v a="$loaded" -v b="$idle" 'BEGIN{printf "%.2f", b ? a/b : 0}'))"
[ -n "$errors" ] && echo "bench: report: wrk reported: $errors"
echo "bench: report: records sent $total, log lines $got, counted $counted: $([ "$got" = "$total" ] && [ "$counted" = "$total" ] && echo 'none lost' || echo 'RECORDS LOST')"

# Plain throughput: the same records through --once, no server.
rm -f c.log
start=$(date +%s.%N)
"$BS_BIN/report" -c c.ini --once < recs.ndjson > /dev/null
end=$(date +%s.%N)
rs=$(awk -v n="$total" -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", n/(b-a)}')
echo "bench: report: records/s with --once: $rs (original consume-mail: hundreds/s (SPEC A10), ratio $(awk -v r="$rs" 'BEGIN{printf "%.0f", r/300}') vs 300/s)"
[ "$got" = "$total" ] && [ "$counted" = "$total" ]
