#!/usr/bin/env bash
# bench/report-history.sh — report's per-message history ([Report] History, SQLite).
# 1. Throughput: the same records through a live report (--until-eof, records on
#    standard input) with the history on and off, interleaved, 3 runs each in the same
#    run; ratios of the medians (goal >= 0.8) of wall time, of the record loop's CPU time
#    (the history's writer thread runs beside it) and of the whole process's CPU time.
# 2. Lookup: a database of HIST_ROWS records (default 1.5 M, about 7 events each: >= 10 M
#    events) filled with SQLite itself, then GET /json/messages by recipient, by
#    Message-ID, and a deep keyset page of a sender with every row: latency of 200
#    requests each (median, p95, max; goal < 50 ms).
# 3. Throughput into a full database: real spool ids, recipients, senders and Message-IDs
#    are random, so once the history holds many rows (History_Max_Rows, default 1,000,000)
#    a B-tree index per key had every row dirty a leaf page of each (5 before the key
#    index), which a fresh database (1.) does not show. BIG_ROWS (default 300000) rows with random keys, then
#    BIG_RECORDS (default 20000) records with random keys, history on, 2 runs: CPU
#    microseconds per record of the whole process, against the same records with the
#    history off.
# Environment: BS_BIN (default bin/), BENCH_RECORDS (default 200000), HIST_ROWS, BIG_ROWS,
# BIG_RECORDS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
# report runs as pipelines/sink.sh runs it, with glibc's larger per-thread malloc cache
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.tcache_count=128}
n=${BENCH_RECORDS:-200000}
rows=${HIST_ROWS:-1500000}
big_rows=${BIG_ROWS:-300000}
big_n=${BIG_RECORDS:-20000}
command -v sqlite3 > /dev/null || { echo "bench: report-history: sqlite3 not installed (bash tools/deps.sh)" >&2; exit 69; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-history.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$n" > recs.ndjson <<'PY'
import json, sys
acts = [[], ["open", "click"], ["oob"], ["open"], [], []]
for i in range(int(sys.argv[1])):
    a = acts[i % len(acts)]
    sid = "%016x" % (0xb0000000 + i)
    r = {"v": 1, "kind": "message", "id": sid, "ts": "2026-11-24T20:05:10.000Z",
         "source": {"type": "spool", "name": "spool/%s.msg" % sid},
         "envelope": {"mail_from": "bounces+%d@sender.test" % (i % 977), "rcpt": "u%d@mixed.sink.test" % i,
                      "client_ip": "192.0.2.7", "helo": "mta.sender.test", "received": "2026-11-24T20:05:09.000Z"},
         "headers": {"to": "u%d@mixed.sink.test" % i, "from": "news@sender.test",
                     "message_id": "<%s@sender.test>" % sid, "x_msfbl": "KZA7%d=" % i, "subject": "News"},
         "dkim": {"result": "pass", "domain": "sender.test"}, "spf": {"result": "pass"}, "html": True,
         "urls": {"open": ["http://t.test/o"], "click": ["http://t.test/c"]},
         "plan": {"stream": "mixed", "actions": a},
         "http": {"open": [{"url": "http://t.test/o", "status": 200}],
                  "click": [{"url": "http://t.test/c", "status": 200}]},
         "smtp": {"oob": {"status": "sent", "from": "a@oob.s", "to": "b@s", "mx": "mx.s"}}}
    print(json.dumps(r, separators=(",", ":")))
PY
conf() { printf '[Sink]\nLogfile = %s.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = %s.state\nHistory = %s\n' "$1" "$port" "$1" "$2" > "$1.ini"; }
conf off none
# run on|off [RECORDS]: "wall main total" seconds for the records (default recs.ndjson,
# the n records): wall time, CPU time of the
# record loop (the main thread, from /proc, sampled every 10 ms) and of the whole process
# (rusage). The CPU times do not depend on what else the machine runs.
run() {
    rm -f "$1.log"
    python3 - "$BS_BIN/report" "$1.ini" "${2:-recs.ndjson}" <<'PY'
import os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen([sys.argv[1], "-c", sys.argv[2], "--until-eof"], stdin=open(sys.argv[3]),
                     stderr=subprocess.DEVNULL)
tick = os.sysconf("SC_CLK_TCK"); main = 0.0
while True:
    try:
        f = open("/proc/%d/task/%d/stat" % (p.pid, p.pid)).read().rsplit(")", 1)[1].split()
        if f[0] != "Z":
            main = (int(f[11]) + int(f[12])) / tick
    except (FileNotFoundError, ProcessLookupError, IndexError):
        pass
    try:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    except ChildProcessError:
        break
    if pid:
        break
    time.sleep(0.01)
print("%.3f %.3f %.3f" % (time.monotonic() - t0, main, ru.ru_utime + ru.ru_stime))
PY
}
conf on h.db
declare -a w_on w_off m_on m_off c_on c_off
for _ in 1 2 3; do
    read -r w m c <<< "$(run off)"; w_off+=("$w"); m_off+=("$m"); c_off+=("$c")
    rm -f h.db h.db-wal h.db-shm # a fresh database
    read -r w m c <<< "$(run on)"; w_on+=("$w"); m_on+=("$m"); c_on+=("$c")
done
med() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
rate() { awk -v n="$n" -v t="$1" 'BEGIN{printf "%.0f", n/t}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b/a}'; }
echo "bench: report-history: $n records, history off: $(rate "$(med "${w_off[@]}")")/s wall, record loop $(med "${m_off[@]}") s CPU, process $(med "${c_off[@]}") s CPU (walls ${w_off[*]})"
echo "bench: report-history: $n records, history on:  $(rate "$(med "${w_on[@]}")")/s wall, record loop $(med "${m_on[@]}") s CPU, process $(med "${c_on[@]}") s CPU (walls ${w_on[*]}), $(sqlite3 h.db 'SELECT count(*) FROM records') rows"
echo "bench: report-history: ratio on/off: wall $(ratio "$(med "${w_on[@]}")" "$(med "${w_off[@]}")"), record-loop CPU $(ratio "$(med "${m_on[@]}")" "$(med "${m_off[@]}")") (goal >= 0.8; the writer thread runs beside it), whole-process CPU $(ratio "$(med "${c_on[@]}")" "$(med "${c_off[@]}")")"

# 2. A big database: the schema from report itself, rows from SQLite's generate loop.
# fill ROWS ID RCPT FROM MID MSFBL: h.db of ROWS rows with the SQL expressions given for
# the searched keys, their keys indexed (bench/history-rows.sh).
# shellcheck source=bench/history-rows.sh
. "$ROOT/bench/history-rows.sh"
fill() { history_fill "$BS_BIN/report" on.ini h.db "$@"; }
a=$(date +%s)
fill "$rows" "printf('%016x', i)" "'u' || i || '@mixed.sink.test'" "'bounces+' || (i % 977) || '@sender.test'" \
    "printf('%016x', i) || '@sender.test'" "'KZA7' || i || '='"
b=$(date +%s)
events=$(sqlite3 h.db "SELECT sum(json_array_length(events)) FROM (SELECT events FROM records LIMIT 1000)")
echo "bench: report-history: database of $rows rows ($((rows * events / 1000)) events, $(du -h h.db | cut -f1)) filled in $((b - a)) s"
mkfifo idle.fifo
"$BS_BIN/report" -c on.ini --input idle.fifo < /dev/null 2> on.err &
pids+=($!)
exec 3<> idle.fifo
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
lat() { # lat NAME URL-GENERATOR-EXPR: 200 requests, curl's time_total
    python3 - "$port" "$rows" "$2" <<'PY' > lat.txt
import random, subprocess, sys
port, rows, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
random.seed(1)
urls = []
for _ in range(200):
    i = random.randint(1, rows)
    if kind == "rcpt": urls.append("/json/messages?rcpt=u%d@mixed.sink.test" % i)
    elif kind == "mid": urls.append("/json/messages?message_id=%%3C%016x@sender.test%%3E" % i)
    else: urls.append("/json/messages?from=bounces%%2B%d@sender.test&limit=50&before=%d" % (i % 977, i))
args = []
for u in urls:
    args += ["-o", "/dev/null", "-w", "%{http_code} %{time_total}\n", "http://127.0.0.1:%s%s" % (port, u)]
print(subprocess.run(["curl", "-s"] + args, capture_output=True, text=True).stdout, end="")
PY
    awk -v name="$1" '$1 != 200 {bad++} {print $2 * 1000}' lat.txt | sort -g | awk -v name="$1" '
        {v[NR] = $1} END {printf "bench: report-history: lookup %s: median %.1f ms, p95 %.1f ms, max %.1f ms (%d requests; goal < 50 ms)\n", name, v[int(NR/2)+1], v[int(NR*0.95)], v[NR], NR}'
    [ "$(awk '$1 != 200' lat.txt | wc -l)" = 0 ] || echo "bench: report-history: lookup $1: NOT ALL 200"
}
lat "by recipient" rcpt
lat "by Message-ID" mid
lat "by sender, page of 50 deep in ~1500 matches (keyset)" from

# 3. Throughput into a full database with random keys (see the top).
kill "${pids[@]}" 2> /dev/null; wait 2> /dev/null; pids=()
a=$(date +%s)
fill "$big_rows" "lower(hex(randomblob(8)))" "lower(hex(randomblob(6))) || '@mixed.sink.test'" \
    "'bounces+' || lower(hex(randomblob(4))) || '@sender.test'" "lower(hex(randomblob(8))) || '@sender.test'" \
    "'KZA7' || hex(randomblob(6)) || '='"
b=$(date +%s)
mv h.db big.db
python3 - "$big_n" recs.ndjson > big.ndjson <<'PY'
import json, random, sys
random.seed(3)
recs = open(sys.argv[2]).read().splitlines()
for i in range(int(sys.argv[1])):  # the n records over again when there are fewer
    r = json.loads(recs[i % len(recs)])
    sid = "%016x" % random.getrandbits(64)
    rcpt = "%012x@mixed.sink.test" % random.getrandbits(48)
    r["id"] = sid
    r["source"]["name"] = "spool/%s.msg" % sid
    r["envelope"]["rcpt"] = r["headers"]["to"] = rcpt
    r["envelope"]["mail_from"] = "bounces+%08x@sender.test" % random.getrandbits(32)
    r["headers"]["message_id"] = "<%s@sender.test>" % sid
    r["headers"]["x_msfbl"] = "KZA7%012X=" % random.getrandbits(48)
    print(json.dumps(r, separators=(",", ":")))
PY
big() { # big on|off: the whole process's CPU seconds for the big_n records
    rm -f h.db-wal h.db-shm
    [ "$1" = off ] || cp big.db h.db
    run "$1" big.ndjson | awk '{ print $3 }'
}
c1=$(big off) c2=$(big on) c3=$(big off) c4=$(big on)
per() { awk -v c="$1" -v n="$big_n" 'BEGIN { printf "%.0f", c * 1e6 / n }'; }
echo "bench: report-history: into a database of $big_rows rows with random keys (filled in $((b - a)) s), $big_n records with random keys: history on $(per "$c2") / $(per "$c4") µs CPU per record, off $(per "$c1") / $(per "$c3") (two runs each; the history's cost: $(awk -v a="$c2" -v b="$c4" -v c="$c1" -v d="$c3" -v n="$big_n" 'BEGIN { printf "%.0f", ((a + b) - (c + d)) / 2 * 1e6 / n }') µs per record)"
