#!/usr/bin/env bash
# bench/act-smtp.sh — reports per second that act-smtp delivers to a local Postfix smtp-sink
# (FBL records through [Smtp] Relay, MX_Override: no DNS). Goal: >= 1,000/s.
# Environment: BS_BIN (default bin/), N (records, default 5000).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
N=${N:-5000}
T=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench.XXXXXX")
sink_pid=
cleanup() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
/usr/sbin/smtp-sink "${user[@]}" -c "127.0.0.1:$port" 256 > "$T/sink.out" 2>&1 &
sink_pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

cat > "$T/c.ini" <<EOF2
[Smtp]
Relay = 127.0.0.1:$port
MX_Override = sender.test=smtp.sparkpostmail.com
Timeout = 10
Retry_Max_Seconds = 5
[Listen]
Hostname = sink.example
InBand_Replies_File = $ROOT/data/reference/inband-replies.dat
[RP_MX_domain_allowlist]
smtp.sparkpostmail.com = fbl@sparkpostmail.com
EOF2
python3 "$ROOT/tests/act-smtp/mkrec.py" b1 fbl > "$T/one.json"
python3 - "$T/one.json" "$N" "$T" <<'PY'
import json, sys
rec = json.loads(open(sys.argv[1]).read())
with open(sys.argv[3] + "/fbl.ndjson", "w") as fbl, open(sys.argv[3] + "/mixed.ndjson", "w") as mixed:
    for i in range(int(sys.argv[2])):
        rec["id"] = "%016x" % i
        rec["plan"]["actions"] = ["fbl"]
        fbl.write(json.dumps(rec) + "\n")
        rec["plan"]["actions"] = ["fbl"] if i % 2 else ["oob"]
        mixed.write(json.dumps(rec) + "\n")
PY

run() { # run LABEL INPUT EXTRA-INI
    local ini=$T/run.ini
    { cat "$T/c.ini"; } > "$ini"
    [ -n "$3" ] && sed -i "s/^Timeout = 10$/Timeout = 10\n$3/" "$ini"
    local t0 t1
    t0=$(date +%s.%N)
    "$BS_BIN/act-smtp" -c "$ini" < "$T/$2.ndjson" > "$T/out.ndjson"
    t1=$(date +%s.%N)
    local sent
    sent=$(grep -c '"status": *"sent"' "$T/out.ndjson" || true)
    python3 -c "
import sys
n, sent, dt = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) - float(sys.argv[4])
print('bench: act-smtp: %s: %.0f reports/s (%d of %d sent in %.2f s) (goal: 1000/s, ratio %.2f)'
      % (sys.argv[5], sent / dt, sent, n, dt, sent / dt / 1000))" "$N" "$sent" "$t1" "$t0" "$1"
}
run "ARF (FBL) to smtp-sink via Relay, Max_In_Flight 16" fbl ""
run "ARF+DSN half and half, Max_In_Flight 16" mixed ""
run "ARF+DSN half and half, Max_In_Flight 4" mixed "Max_In_Flight = 4"

