#!/usr/bin/env bash
# report: counters survive a restart — after kill -9 (state saved every second) and after
# SIGTERM (saved on exit); an unusable state file is put aside.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
port=$(free_port)
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > c.ini
msg() { printf '{"v":1,"kind":"message","id":"m%s","ts":"2026-11-24T20:05:10Z","headers":{"to":"a@accept.s","from":"f@s"},"dkim":{"result":"pass"},"plan":{"actions":[]}}\n' "$1"; }
field() { # field FILE KEY — a key of a /json-shaped document or of the state's counters
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d=d.get("counters",d); print(d.get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null
}
state_total_is() { [ "$(field st.json total_messages)" = "$1" ]; }
mkfifo in.fifo

bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null
pid=$BG_PID
wait_port "$port"; ok $? "report listens"
curl -s "http://127.0.0.1:$port/json" > j0.json
started=$(field j0.json startedRunning)
exec 3> in.fifo
for i in 1 2 3 4 5; do msg $i >&3; done
wait_for state_total_is 5; ok $? "state file reaches 5 messages within a few seconds"
kill -9 "$pid"; wait "$pid" 2>/dev/null
exec 3>&-

bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null
pid=$BG_PID
wait_port "$port"
curl -s "http://127.0.0.1:$port/json" > j1.json
is "$(field j1.json total_messages)" 5 "counters restored after kill -9"
is "$(field j1.json accept)" 5 "accept restored"
is "$(field j1.json dkim_pass)" 5 "dynamic counter restored"
is "$(field j1.json startedRunning)" "$started" "startedRunning kept from the first run"
exec 3> in.fifo
for i in 6 7 8; do msg $i >&3; done
exec 3>&-
wait_for grep -q ',m8,' c.log; ok $? "records after the restart logged (FIFO writer reconnected)"
kill -TERM "$pid"; wait "$pid"; is $? 0 "SIGTERM: clean exit 0"
is "$(field st.json total_messages)" 8 "state saved on exit"
python3 - st.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert sum(c for _, c in s["ts_messages"]) == 8, s["ts_messages"]
PY
ok $? "messages-per-minute series saved"
like "$(tail -n 1 c.log)" "Process finishing on a signal: run time\(s\)=[0-9.]+,done 3," "stop noted in the log"
ls st.json.tmp.* > /dev/null 2>&1; ok $(( ! $? )) "no temporary state file left behind"

# A state file that is not one: counted from zero, the bad file kept aside.
echo '{"broken' > st.json
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null 2> err.txt
pid=$BG_PID
wait_port "$port"
curl -s "http://127.0.0.1:$port/json" > j2.json
is "$(field j2.json total_messages)" 0 "unusable state: fresh counters"
ok "$( [ -f st.json.bad ]; echo $? )" "unusable state kept as st.json.bad"
kill -TERM "$pid"; wait "$pid"
like "$(cat err.txt)" "report: warning: state file unusable" "warning on stderr"
done_testing
