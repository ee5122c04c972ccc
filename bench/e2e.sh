#!/usr/bin/env bash
# bench/e2e.sh — end-to-end benchmark of the live sink: SMTP in → log line out.
#
# pipelines/sink.sh runs every stage with the default model; bin/track-server is the
# tracking endpoint and Postfix's smtp-sink receives the ARF/DSN reports, all on
# loopback. As root the whole benchmark runs in a private network namespace (unshare -n
# -m) with a resolver that names 127.0.0.1 where nothing listens, so no query leaves.
# Two phases, DKIM-signed gen-corpus messages with unique recipients sent by
# tools/smtp-send.py:
#   throughput  BS_E2E_N (default 20000) messages as fast as possible over
#               BS_E2E_CONN (default 64) connections; messages/s from the first send
#               to the last log line of the phase (and the SMTP acceptance rate alone);
#   latency     BS_E2E_LAT_SECONDS (default 10) at BS_E2E_LAT_RATE (default 1000)
#               messages/s; per recipient: log line time − time of the 250 reply;
#               p50, p99, max.
# A third phase sends BS_E2E_SOURCE_N (default 10000) copies of one signed message with Postfix's smtp-source
# (C; unique envelope recipients), which the Python sender cannot slow down; the CPU
# seconds each stage used in it are printed (the bottleneck is the stage near 100%). Prints `bench: e2e: ...` lines.
# Environment: BS_BIN (default bin/), BS_E2E_FSYNC (spool fsync, default yes), BS_E2E_DIR
# (where the spool, log and corpus go; default $TMPDIR or /tmp — on ext4 listen's file
# creation costs kernel time in the inode allocator; /dev/shm shows the sink without it),
# BS_E2E_TAG (shown after "e2e" in every line: bench/e2e-tmpfs.sh sets it).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
# shellcheck source=tools/live-sink.sh
. "$ROOT/tools/live-sink.sh"
live_netns "$0" "$@"
export TZ=UTC  # the log's times are local: compare them with epoch times in UTC
N=${BS_E2E_N:-20000}
CONN=${BS_E2E_CONN:-64}
SOURCE_N=${BS_E2E_SOURCE_N:-10000}
LAT_RATE=${BS_E2E_LAT_RATE:-1000}
LAT_N=$(( LAT_RATE * ${BS_E2E_LAT_SECONDS:-10} ))
PY=/usr/bin/python3
SEND=$ROOT/tools/smtp-send.py
E2E="e2e${BS_E2E_TAG:+ ($BS_E2E_TAG)}"
say() { echo "bench: $E2E: $*"; }
live_init e2e "${BS_E2E_DIR:-${TMPDIR:-/tmp}}"
live_peers

# Corpus: N + LAT_N messages, unique recipients, split into the two phases.
total=$(( N + LAT_N ))
"$BS_BIN/gen-corpus" -n $(( total + total / 50 + 10 )) --seed 42 -f eml -o "$T/eml" \
    --key "$T/dkim.key" --key-file "$T/dkim-keys.txt" --manifest "$T/manifest" \
    --tracking-base "http://127.0.0.1:$tport" > /dev/null 2>&1 || { say "gen-corpus failed" >&2; exit 1; }
rm -f "$T/eml/dkim-keys.txt" "$T/eml/dkim.key"
mkdir -p "$T/tput" "$T/lat"
"$PY" - "$T/manifest" "$T/eml" "$T" "$N" "$LAT_N" <<'PY'
import json, os, sys
man, src, top, n, lat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
seen, k = set(), 0
for line in open(man):
    d = json.loads(line)
    name = os.path.basename(d["file"])
    if d["rcpt"].lower() in seen or k >= n + lat:
        os.unlink(os.path.join(src, name)); continue
    seen.add(d["rcpt"].lower())
    os.rename(os.path.join(src, name), os.path.join(top, "tput" if k < n else "lat", name))
    k += 1
PY

live_config "${BS_E2E_FSYNC:-yes}" "$T/dkim-keys.txt"
live_start

# times PHASE_DIR SENDLOG: per recipient of the phase, "send_time log_time" from the log.
analyse() {
    "$PY" - "$1" "$R/consume-mail.log" <<'PY'
import sys, re, calendar, time
sent = {}
for line in open(sys.argv[1]):
    t, code, rcpt = line.rstrip("\n").split("\t")
    if code == "250":
        sent[rcpt.lower()] = float(t)
addr = re.compile(r"[^\s,<>\"]+@[^\s,<>\"]+")
logged = {}
for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
    parts = line.split(",", 6)
    if len(parts) < 7:
        continue
    for a in set(x.lower() for x in addr.findall(parts[5])):
        if a in sent and a not in logged:
            ts = calendar.timegm(time.strptime(parts[0], "%Y-%m-%d %H:%M:%S")) + int(parts[1]) / 1000
            logged[a] = ts
lat = sorted(logged[a] - sent[a] for a in logged)
first = min(sent.values()) if sent else 0
last_log = max(logged.values()) if logged else 0
def pct(p):
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")
print(len(sent), len(logged), f"{first:.3f}", f"{last_log:.3f}", f"{pct(50):.3f}", f"{pct(99):.3f}",
      f"{lat[-1] if lat else float('nan'):.3f}")
PY
}

t0=$(date +%s.%N)
TIMEFORMAT='%U %S'
{ time "$PY" "$SEND" -s "127.0.0.1:$lport" -c "$CONN" -n 1000 --log "$T/tput.log" "$T/tput" \
    2> "$T/tput.err"; } 2> "$T/tput.time"
t1=$(date +%s.%N)
live_drained || say "warning: the throughput phase did not drain in 300 s" >&2
read -r sent logged first last p50 p99 max < <(analyse "$T/tput.log")
wall=$("$PY" -c "print(f'{$last - $first:.2f}')")
say "throughput: $(awk -v n="$logged" -v w="$wall" 'BEGIN { printf "%.0f", n / w }') messages/s sustained" \
    "(SMTP 250 to log line: $logged of $sent accepted logged in ${wall}s; goal: 5000, ratio" \
    "$(awk -v n="$logged" -v w="$wall" 'BEGIN { printf "%.2f", n / w / 5000 }'))"
say "throughput: SMTP acceptance alone $(awk -v n="$sent" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') messages/s" \
    "(smtp-send.py, $CONN connections: $(sed 's/^smtp-send: //' "$T/tput.err"))"
read -r u s < "$T/tput.time"
say "throughput: smtp-send.py (the sender) used $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }') CPU-s"

# Throughput with Postfix's smtp-source (C, not limited by the Python sender): one
# DKIM-signed message of the mixed stream, SOURCE_N times over CONN sessions, unique
# envelope recipients (-N); counted: log lines written from the first send to the drain.
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
one=$(grep -l '^To:.*@bouncy-sink\.test' "$T"/lat/*.eml | head -n 1)
if [ -x "$SMTP_SOURCE" ] && [ -n "$one" ]; then
    live_cpu > "$T/cpu0"
    before=$(grep -cv ',\*\* ' "$R/consume-mail.log")
    t0=$(date +%s.%N)
    "$SMTP_SOURCE" -s "$CONN" -m "$SOURCE_N" -d -N -f bounces@sender.test -t bench@bouncy-sink.test \
        -F "$one" "127.0.0.1:$lport" > "$T/source.out" 2>&1
    t1=$(date +%s.%N)
    live_drained || say "warning: the smtp-source phase did not drain in 300 s" >&2
    live_cpu > "$T/cpu1"
    read -r n last < <("$PY" - "$R/consume-mail.log" "$before" <<'PY'
import sys, calendar, time
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace") if ",** " not in l]
new = lines[int(sys.argv[2]):]
last = new[-1].split(",", 2) if new else None
t = calendar.timegm(time.strptime(last[0], "%Y-%m-%d %H:%M:%S")) + int(last[1]) / 1000 if last else 0
print(len(new), f"{t:.3f}")
PY
)
    say "throughput (smtp-source): $(awk -v n="$n" -v a="$t0" -v b="$last" 'BEGIN { printf "%.0f", n / (b - a) }')" \
        "messages/s sustained ($n log lines of $SOURCE_N sent, $CONN sessions; SMTP acceptance alone" \
        "$(awk -v n="$SOURCE_N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')/s; goal: 5000, ratio" \
        "$(awk -v n="$n" -v a="$t0" -v b="$last" 'BEGIN { printf "%.2f", n / (b - a) / 5000 }'))"
    # CPU of each stage in this phase, the one that saturates the chain: the bottleneck
    # is the stage nearest to 100% (or the machine, when their sum nears the cores).
    wall=$(awk -v a="$t0" -v b="$last" 'BEGIN { printf "%.2f", b - a }')
    awk -v w="$wall" -v e="$E2E" 'NR == FNR { a[$1] += $2; next } { b[$1] += $2 }
        END { for (k in b) if (k != "sleep") printf "%d\tbench: %s: cpu: %s: %.1f s of %.1f s (%.0f%%)\n", b[k] - a[k], e, k, (b[k] - a[k]) / 100, w, (b[k] - a[k]) / w }' \
        "$T/cpu0" "$T/cpu1" | sort -rn | cut -f2-
fi

"$PY" "$SEND" -s "127.0.0.1:$lport" -c 64 -n 1000 --rate "$LAT_RATE" --log "$T/lat.log" "$T/lat" 2> "$T/lat.err"
live_drained || say "warning: the latency phase did not drain in 300 s" >&2
read -r sent logged first last p50 p99 max < <(analyse "$T/lat.log")
say "latency at $LAT_RATE messages/s: p50 ${p50}s, p99 ${p99}s, max ${max}s" \
    "($logged of $sent logged; goal: p99 < 1 s, ratio $(awk -v p="$p99" 'BEGIN { printf "%.2f", p }'))"
say "latency: sender $(sed 's/^smtp-send: //' "$T/lat.err")"
kill -TERM "$sink"; wait "$sink"
