#!/usr/bin/env bash
# kill -9 of report while records stream in, three times on the same history database:
# afterwards the database is consistent (PRAGMA integrity_check), and every record whose
# log line was written has its row (report commits a batch's rows before it writes the
# batch's lines, see report(1)); no spool file is gone without its log line.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
cd "$T" || exit 1
port=$(free_port)
printf '[Sink]\nLogfile = k.log\n[Listen]\nSpool = spool\n[Report]\nAddress = 127.0.0.1:%s\nState_File = k.state\nHistory = k.db\n' "$port" > k.ini
mkdir -p spool/claimed
mkfifo in.fifo
for round in 1 2 3; do
    python3 - "$round" <<'PY'
import json, sys
r = int(sys.argv[1])
with open("recs.ndjson", "w") as f:
    for i in range(30000):
        sid = "%d%015x" % (r, i)
        rec = {"v": 1, "kind": "message", "id": sid, "ts": "2026-11-24T20:05:10Z",
               "source": {"type": "spool", "name": "spool/claimed/%s.msg" % sid},
               "envelope": {"mail_from": "b@sender.test", "rcpt": "u%d@mixed.sink.test" % i},
               "headers": {"to": "u%d@mixed.sink.test" % i, "from": "news@sender.test",
                           "message_id": "<%s@sender.test>" % sid},
               "dkim": {"result": "pass"}, "plan": {"stream": "mixed", "actions": []}}
        if i < 3000:  # the first ones are spooled files to settle
            rec["settle"] = "spool/claimed/%s.msg" % sid
            open("spool/claimed/%s.msg" % sid, "w").write("x")
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
    "$BS_BIN/report" -c k.ini --input in.fifo < /dev/null 2> "k$round.err" &
    rpid=$!
    wait_port "$port" || fail "round $round: report listens"
    # Stream the records slowly enough that the kill lands in the middle.
    python3 - <<'PY' &
import time
lines = open("recs.ndjson", "rb").read().splitlines(keepends=True)
try:
    with open("in.fifo", "wb", buffering=0) as out:
        for i in range(0, len(lines), 200):
            out.write(b"".join(lines[i:i + 200]))
            time.sleep(0.02)
except BrokenPipeError:
    pass
PY
    writer=$!
    # kill -9 once 5000 more lines are in the log (at a random moment of a batch)
    python3 - "$rpid" "$round" <<'PY'
import os, signal, sys, time
pid, tag = int(sys.argv[1]), "spool/claimed/" + sys.argv[2]
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        n = open("k.log").read().count(tag)
    except FileNotFoundError:
        n = 0
    if n > 5000:
        break
    time.sleep(0.005)
os.kill(pid, signal.SIGKILL)
PY
    wait "$rpid" 2>/dev/null
    kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
    logged=$(grep -c "spool/claimed/$round" k.log)
    ok "$( [ "$logged" -gt 0 ] && [ "$logged" -lt 30000 ]; echo $? )" "round $round: killed mid-run ($logged of 30000 lines written)"
    is "$(sqlite3 k.db 'PRAGMA integrity_check')" ok "round $round: integrity_check ok after kill -9"
    grep -o "spool/claimed/${round}[0-9a-f]*\.msg" k.log | sed 's/.*\///; s/\.msg$//' | sort -u > logged.txt
    sqlite3 k.db "SELECT id FROM records WHERE id LIKE '$round%'" | sort -u > stored.txt
    is "$(comm -23 logged.txt stored.txt | wc -l)" 0 "round $round: every logged message has its row ($(wc -l < stored.txt) rows)"
    is "$(sqlite3 k.db "SELECT count(*) FROM records WHERE id LIKE '$round%' AND events LIKE '%\"logged\"%'")" \
       "$(wc -l < stored.txt)" "round $round: each row has its timeline"
    # a spool file is gone only once its line was written
    gone=$(python3 - "$round" <<'PY'
import os, sys
r = int(sys.argv[1])
logged = set(open("logged.txt").read().split())
print(sum(1 for i in range(3000) if not os.path.exists("spool/claimed/%d%015x.msg" % (r, i))
          and "%d%015x" % (r, i) not in logged))
PY
)
    is "$gone" 0 "round $round: no spool file settled without its log line"
done
# The database reopens for reading after the kills; the lookups still answer.
"$BS_BIN/report" -c k.ini --input in.fifo < /dev/null 2> k4.err &
rpid=$!
wait_port "$port"; ok $? "report starts again on the killed database"
id=$(head -1 logged.txt)
is "$(curl -s "http://127.0.0.1:$port/json/messages?spool_id=$id" | jq -r '.messages[0].id')" "$id" "lookup of a logged message after the kills"
kill "$rpid"; wait "$rpid" 2>/dev/null
done_testing
