#!/usr/bin/env bash
# The live sink across local midnight: report rotates its log to <Logfile>.YYYY-MM-DD while
# message lines and their scheduled actions flow. Every message has one line and every
# scheduled action one Action line, in the rotated file or the new one, each line in the file
# of its own day. (schedule/01 once failed in CI, 13,318 of 16,000 message lines "then no new
# line for 60 s": the run crossed midnight and its readers took the new file only. The sink
# had lost nothing; the readers now take both, tests/lib.sh's log_cat.)
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/schedule/timed-sink.sh
. "$(dirname "$0")/timed-sink.sh"
netns_resolver

N=${SCHEDULE_MESSAGES:-200}
half=$((N / 2))
# Model time: an hour a wall second; delays of a few seconds, capped under 16 s, so that
# actions of messages logged before midnight are performed after it.
timed_sink_config "$N" "openclick=50,oob=25,fbl=25" "Time_Scale = 3600
Open = lognormal 3h 0.8 12h
Open_Again = exponential 2h 8h
Click = lognormal 1h 1 6h
Click_Again = exponential 1h 4h
OOB = exponential 4h 16h
FBL = lognormal 6h 0.5 16h"
mkdir -p "$T/eml1" "$T/eml2"
n=0
for f in "$T"/eml/*; do
    n=$((n + 1))
    mv "$f" "$T/eml$([ "$n" -le "$half" ] && echo 1 || echo 2)/"
done

# A time zone whose midnight is AHEAD seconds from now (POSIX TZ: local = UTC - offset):
# every stage started below sees it.
AHEAD=${MIDNIGHT_AHEAD:-12}
now=$(date +%s)
midnight=$((now + AHEAD))
off=$((now % 86400 - (86400 - AHEAD)))
sign=+
[ "$off" -lt 0 ] && { sign=-; off=$((-off)); }
TZ=$(printf 'MID%s%02d:%02d:%02d' "$sign" $((off / 3600)) $((off % 3600 / 60)) $((off % 60)))
export TZ
day1=$(date -d "@$((midnight - 1))" +%F)
day2=$(date -d "@$midnight" +%F)
diag "TZ=$TZ: local midnight ($day1 to $day2) in ${AHEAD}s"
timed_sink_start
ok $? "timed sink listening"

msg_lines() { log_cat "$LOG" | grep ',consume-mail,[A-Z]*,[^,]*\.msg,' | grep -vc ',Action '; }
send() { python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$SP" -c 4 --json "$1" > "$1.json" 2>>"$T/send.err"; }
accepted() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['accepted'])" "$1.json"; }

# The first half before midnight, the second after it.
send "$T/eml1"
is "$(accepted "$T/eml1")" "$half" "first half accepted"
wait_progress "$half" msg_lines || sink_state
before=0
[ "$(date +%s)" -lt "$midnight" ] && before=1
diag "first half logged $([ "$before" = 1 ] && echo "before midnight" || echo "after midnight (a slow machine)")"
while [ "$(date +%s)" -le "$midnight" ]; do sleep 0.2; done
send "$T/eml2"
is "$(accepted "$T/eml2")" "$((N - half))" "second half accepted, after midnight"
wait_progress "$N" msg_lines || sink_state
is "$(msg_lines)" "$N" "a line per message, across the rotation"
action_count() { action_ids | wc -l; }
wait_progress "$(scheduled_ids | wc -l)" action_count || sink_state
sleep 1

# The files: the day that ended, rotated; the new day in the log file.
[ -f "$LOG.$day1" ]; ok $? "the log was rotated at midnight to $(basename "$LOG").$day1"
is "$(cut -c1-10 "$LOG.$day1" | sort -u | tr '\n' ' ')" "$day1 " "the rotated file holds lines of its day only"
is "$(cut -c1-10 "$LOG" | sort -u | tr '\n' ' ')" "$day2 " "the log file holds lines of the new day only"
in_file() { grep ',consume-mail,[A-Z]*,[^,]*\.msg,' "$1" | grep -vc ',Action '; }
diag "message lines: $(in_file "$LOG.$day1") before midnight, $(in_file "$LOG") after;" \
     "Action lines: $(grep -c ',Action ' "$LOG.$day1") before, $(grep -c ',Action ' "$LOG") after"
if [ "$before" = 1 ]; then
    is "$(in_file "$LOG.$day1") $(in_file "$LOG")" "$half $((N - half))" \
        "the first half's lines in the rotated file, the second half's in the new one"
fi

# Every scheduled action logged once, wherever its message line is.
scheduled_ids | sort > "$T/scheduled"
action_ids | sort > "$T/done"
diag "$(wc -l < "$T/scheduled") actions scheduled, $(wc -l < "$T/done") performed"
[ "$(wc -l < "$T/scheduled")" -gt "$N" ]; ok $? "more actions scheduled than messages"
is "$(uniq -d "$T/done" | wc -l)" 0 "no action logged twice"
is "$(comm -3 "$T/scheduled" "$T/done" | head -5 | tr '\n' ' ')" "" "every scheduled action logged, none other"
# (how many crossed midnight: scheduled on a line before it, performed after it)
crossed=$(comm -12 <(LOG=$LOG.$day1 scheduled_ids | sort) \
                   <(awk -F, '{ split($8, a, " ") } a[1] == "Action" { print a[3] }' "$LOG" | sort) | wc -l)
diag "$crossed actions scheduled before midnight and performed after it"
is "$(ls -A "$T/run/spool/claimed" | wc -l)" 0 "every spool file settled"

curl -fsS "http://127.0.0.1:$WP/json" > "$T/json"
python3 - "$T/json" "$N" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j.get("schedule")
assert j["total_messages"] == int(sys.argv[2]), j["total_messages"]
assert s is not None and s["pending_total"] == 0 and s["claimed"] == 0, s
PY
ok $? "/json: every message counted, nothing pending or claimed"

kill -TERM "$sink"; wait "$sink"
ok $? "sink stops cleanly"
done_testing
