#!/usr/bin/env bash
# Issue 17: kill -9 of schedule and of report while actions are stored, emitted and logged:
# nothing lost, nothing logged twice (every scheduled action has exactly one Action line).
# Then the sink is stopped with actions pending and started again: the pending actions are
# performed once each, none before its due time.
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/schedule/timed-sink.sh
. "$(dirname "$0")/timed-sink.sh"
netns_resolver

N=${SCHEDULE_MESSAGES:-1500}
timed_sink_config "$N" "openclick=60,oob=20,fbl=20" "Time_Scale = 3600
Open = lognormal 2h 0.7 8h
Open_Again = exponential 1h 3h
Click = lognormal 10m 1 2h
Click_Again = exponential 10m 1h
OOB = exponential 1h 4h
FBL = lognormal 2h 0.5 6h
Claim_Timeout = 600"
timed_sink_start
ok $? "timed sink listening"

python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$SP" -c 4 --json "$T/eml" > "$T/sent.json" 2>"$T/send.err" &
sender=$!
# kill -9 the schedule stage once it has stored and emitted some actions, then report.
for stage in schedule report; do
    for _ in $(seq 1 200); do [ "$(action_ids | wc -l)" -ge 50 ] && break; sleep 0.1; done
    before=$(action_ids | wc -l)
    pid=$(stage_pid "$stage")
    [ -n "$pid" ] && kill -KILL "$pid"
    ok $? "kill -9 $stage (pid $pid) after $before actions logged"
    for _ in $(seq 1 200); do
        new=$(stage_pid "$stage"); [ -n "$new" ] && [ "$new" != "$pid" ] && break; sleep 0.1
    done
    [ -n "$new" ] && [ "$new" != "$pid" ]; ok $? "sink.sh restarted the chain ($stage pid $new)"
    sleep 2
done
wait "$sender"
ok $? "every message sent"
accepted=$(python3 -c "import json; print(json.load(open('$T/sent.json'))['accepted'])")
msg_lines() { log_cat "$LOG" | grep ',consume-mail,[A-Z]*,[^,]*\.msg,' | grep -v ',Action ' | awk -F, '{print $5}' | sort -u | wc -l; }
for _ in $(seq 1 900); do [ "$(msg_lines)" -ge "$accepted" ] && break; sleep 0.1; done
[ "$(msg_lines)" -ge "$accepted" ] || sink_state
is "$(msg_lines)" "$accepted" "a line for every accepted message"
all_done() { [ "$(action_ids | sort -u | wc -l)" -ge "$(scheduled_ids | sort -u | wc -l)" ]; }
for _ in $(seq 1 600); do all_done && break; sleep 0.2; done
all_done || sink_state
sleep 2
scheduled_ids | sort -u > "$T/scheduled"
action_ids | sort > "$T/done"
diag "$(wc -l < "$T/scheduled") actions scheduled, $(wc -l < "$T/done") Action lines"
[ "$(wc -l < "$T/scheduled")" -gt "$accepted" ]; ok $? "actions scheduled"
is "$(uniq -d "$T/done" | head -5 | tr '\n' ' ')" "" "no action logged twice across the kills"
is "$(comm -3 "$T/scheduled" "$T/done" | head -5 | tr '\n' ' ')" "" "every scheduled action logged (none lost)"
is "$(ls -A "$T/run/spool/claimed" | wc -l)" 0 "every spool file settled"
grep -E 'emitted again|already in' "$T/sink.err" | head -3 | while read -r l; do diag "$l"; done

# Restart: a second batch, the sink stopped while its actions are pending, started again.
"$BS_BIN/gen-corpus" -n 300 -f eml -o "$T/eml2" --seed 8 --domain sender.test --selector s1 \
    --key "$T/dkim.key" --key-file "$T/dkim-keys2.txt" \
    --tracking-base "http://127.0.0.1:$TP" --streams "openclick=60,oob=20,fbl=20" 2>>"$T/gen.err"
cat "$T/dkim-keys2.txt" >> "$T/dkim-keys.txt" 2>/dev/null
python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$SP" -c 4 "$T/eml2" > /dev/null 2>>"$T/send.err"
want=$((accepted + 300))
for _ in $(seq 1 600); do [ "$(msg_lines)" -ge "$want" ] && break; sleep 0.1; done
kill -TERM "$sink"; wait "$sink"
ok $? "sink stopped with actions pending"
pending=$(sqlite3 "$T/run/schedule.sqlite" 'SELECT count(*) FROM actions WHERE state < 2')
[ "$pending" -gt 0 ]; ok $? "$pending actions pending in the store"
sleep 2
restart=$(date +%s.%N)
e2e_sink_start
ok $? "sink started again"
all_done2() { [ "$(action_ids | sort -u | wc -l)" -ge "$(scheduled_ids | sort -u | wc -l)" ]; }
for _ in $(seq 1 600); do all_done2 && break; sleep 0.2; done
all_done2 || sink_state
sleep 2
scheduled_ids | sort -u > "$T/scheduled2"
action_ids | sort > "$T/done2"
is "$(uniq -d "$T/done2" | head -5 | tr '\n' ' ')" "" "after the restart: no action logged twice"
is "$(comm -3 "$T/scheduled2" "$T/done2" | head -5 | tr '\n' ' ')" "" "after the restart: every pending action performed"
is "$(sqlite3 "$T/run/schedule.sqlite" 'SELECT count(*) FROM actions WHERE state < 2')" 0 "store: nothing pending"
# Those due after the restart were performed at or after their due time (log times are
# local, due times UTC).
python3 - <(log_cat "$LOG") "$restart" <<'PY'
import sys, datetime, time
restart = float(sys.argv[2])
def ts(s, f):
    return datetime.datetime.strptime(s, f).replace(tzinfo=datetime.timezone.utc).timestamp()
def local(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f")
    return time.mktime(d.timetuple()) + d.microsecond / 1e6
early = n = 0
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    p = l.rstrip("\n").split(",", 7)
    if len(p) < 8 or not p[7].startswith("Action "):
        continue
    due = ts(p[7].split(",")[0].split(" ")[5], "%Y-%m-%dT%H:%M:%S.%fZ")
    at = local(l[:23])
    if due > restart:
        n += 1
        early += at < due - 0.002
print("# %d actions due after the restart, %d performed early" % (n, early))
sys.exit(1 if early or n == 0 else 0)
PY
ok $? "the actions due after the restart were performed at their due times, not before"
kill -TERM "$sink"; wait "$sink"
done_testing
