#!/usr/bin/env bash
# faults: report with a state file it cannot write (directory on a read-only tmpfs) warns,
# keeps running and keeps counting; the log goes on. (An unusable state file's contents:
# report/03-state.t.) Writable again: saved again.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
mkdir ro
if mount -t tmpfs -o ro,size=1m bs-fault-state ro; then
    pass "read-only tmpfs mounted"
else
    fail "mount -t tmpfs -o ro (needs root)"; done_testing; exit 1
fi
trap 'umount "$T/ro" 2>/dev/null; _cleanup' EXIT
port=$(free_port)
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = ro/st.json\n' "$port" > c.ini
msg() { printf '{"v":1,"kind":"message","id":"m%s","ts":"2026-11-24T20:05:10Z","headers":{"to":"a@accept.s","from":"f@s"},"plan":{"actions":[]}}\n' "$1"; }
total() { curl -s "http://127.0.0.1:$port/json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("counters",d).get("total_messages",""))' 2>/dev/null; }
total_is() { [ "$(total)" = "$1" ]; }
mkfifo in.fifo

bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null 2> err.txt
pid=$BG_PID
wait_port "$port"; ok $? "report starts and listens"
exec 3> in.fifo
for i in 1 2 3; do msg $i >&3; done
wait_for total_is 3; ok $? "counts the records (3)"
sleep 2.5   # the state is saved (and fails) at least every second
kill -0 "$pid" 2>/dev/null; ok $? "still running after failed state saves"
like "$(cat err.txt)" "report: warning: .*(state|st\.json)" "a warning names the state file"
nwarn=$(grep -c 'warning: .*state' err.txt) # (the history beside it warns once too)
is "$nwarn" 1 "warned once, not every second"
for i in 4 5; do msg $i >&3; done
wait_for total_is 5; ok $? "keeps counting (5)"
wait_for grep -q ',m5,' c.log; ok $? "keeps logging"
is "$(ls -A ro | wc -l)" 0 "nothing written into the read-only directory"
mount -o remount,rw ro; ok $? "directory made writable"
wait_for test -s ro/st.json; ok $? "the state is saved again"
like "$(cat err.txt)" "state saved again" "and that is said"
exec 3>&-
kill -TERM "$pid"; wait "$pid"; rc=$?
[ "$rc" = 0 ] || [ "$rc" = 74 ] || [ "$rc" = 73 ]; ok $? "SIGTERM: orderly exit ($rc), no crash"
diag "stderr: $(head -c 600 err.txt)"
done_testing
