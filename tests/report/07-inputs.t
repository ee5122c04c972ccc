#!/usr/bin/env bash
# report: several inputs at once (stdin + FIFOs + files), --once reading all to the end,
# and a live FIFO whose writer goes away and comes back.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
msg() { printf '{"v":1,"kind":"message","id":"%s","ts":"2026-11-24T20:05:10Z","headers":{"to":"a@accept.s","from":"f@s"},"plan":{"actions":[]}}\n' "$1"; }
printf '[Sink]\nLogfile = c.log\n' > c.ini
mkfifo a.fifo b.fifo
for i in 1 2 3; do msg s$i; done > stdin.ndjson
for i in 1 2; do msg f$i; done > file.ndjson

# --once: stdin, two FIFOs whose writers come late and slowly, and a regular file.
( sleep 0.5; for i in 1 2 3 4; do msg a$i; sleep 0.1; done ) > a.fifo &
( sleep 0.8; printf '{"v":1,"kind":"blackhole","id":"b1","ts":"2026-11-24T20:05:10Z"}\n' ) > b.fifo &
out=$("$BS_BIN/report" -c c.ini --once --input a.fifo --input b.fifo --input file.ndjson < stdin.ndjson)
ok $? "--once with stdin, two FIFOs and a file: exit 0"
wait
is "$(grep -c ',Accept$' c.log)" 9 "every message line written (3 stdin + 4 FIFO + 2 file)"
is "$(grep -c ',Blackhole$' c.log)" 1 "the second FIFO's record written"
for id in s1 s2 s3 a1 a2 a3 a4 f1 f2; do
    grep -q ",$id,a@accept.s," c.log || fail "line for $id"
done
pass "each record's own line present"
like "$out" '"total_messages": 9' "--once document counts all inputs"
like "$out" '"blackhole": 1' "--once document counts the other FIFO"

# Live: the FIFO's writer exits (with half a line) and another one connects.
rm -f c.log
port=$(free_port)
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > live.ini
bg "$BS_BIN/report" -c live.ini --input a.fifo < /dev/null 2> err.txt
pid=$BG_PID
wait_port "$port"
{ msg w1; msg w2; printf '{"v":1,"kind":"mess'; } > a.fifo
wait_for grep -q 'Invalid record' c.log
ok $? "half a line at the writer's end becomes an invalid record"
{ msg w3; msg w4; } > a.fifo
wait_for grep -q ',w4,' c.log
ok $? "a new writer reconnects after the first went away"
is "$(grep -c ',Accept$' c.log)" 4 "all four messages logged"
kill -0 "$pid"; ok $? "report still running (FIFO input keeps it alive)"
json=$(curl -s "http://127.0.0.1:$port/json")
like "$json" '"total_messages": 4' "counted"
like "$json" '"invalid_records": 1' "invalid record counted"

# Live with stdin only: the end of stdin ends report, state saved.
printf '[Sink]\nLogfile = s.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st2.json\n' "$(free_port)" > s.ini
"$BS_BIN/report" -c s.ini < stdin.ndjson; ok $? "live mode ends at the end of stdin"
like "$(cat st2.json)" '"total_messages":3' "state saved at the end"
done_testing
