#!/usr/bin/env bash
# Issue 17, report's side: an action record is logged once per action id — also across a
# restart of report (the ids are read back from its log), as when schedule emits again what
# report logged just before it was killed — and every id logged or skipped is written to the
# acks FIFO (the ids logged just before a midnight rotation too: they are read back from the
# rotated file). A schedule record gives no log line and shows on /json, /metrics and the page.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
port=$(free_port)
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > c.ini
action() { # ID NAME
    printf '{"v":1,"kind":"action","id":"%s","ts":"2026-12-06T12:00:00.000Z","source":{"type":"spool","name":"/s/claimed/%s.msg"},"headers":{"to":"a@openclick.bouncy-sink.test","from":"b@sender.test"},"html":true,"plan":{"stream":"openclick","actions":["%s"],"user_agent":"UA"},"http":{"%s":[{"url":"http://t.test/q/1","status":200}]},"action":{"id":"%s/%s","name":"%s","delay":3600.5,"due":"2026-12-06T13:00:00.500Z"}}\n' \
        "$1" "$1" "$2" "$2" "$1" "$2" "$2"
}
mkfifo acks
exec 4<> acks # keep the acks FIFO open (schedule's end), read it at the end
{ action m1 open; action m1 click; action m1 open; } | "$BS_BIN/report" -c c.ini --once --acks acks > once.json 2> err
ok $? "report --once with three action records, one a repeat"
is "$(grep -c ',Action ' c.log)" 2 "two Action lines"
like "$(grep ',Action open ' c.log)" ',/s/claimed/m1\.msg,a@openclick\.bouncy-sink\.test,b@sender\.test,Action open m1/open \+3600\.500s due 2026-12-06T13:00:00\.500Z,_Open:200$' \
    "the line: file, To, From, Action NAME ID +DELAY due TIME, the result"
is "$(jq -c '[.actions_done, .actions_repeated, .open, .click]' once.json)" "[2,1,1,1]" \
    "counted: 2 done, 1 repeated, the open and the click"
# A new report on the same log: m1/open and m1/click are known, m2/open is new.
{ action m1 click; action m2 open; } | "$BS_BIN/report" -c c.ini --once --acks acks > once2.json 2> err2
ok $? "report restarted on the same log"
like "$(cat err2)" '2 scheduled actions already in .*c\.log' "it read the logged ids back"
is "$(grep -c ',Action ' c.log)" 3 "only the new action logged"
is "$(jq -c '[.actions_done, .actions_repeated]' once2.json)" "[1,1]" "the repeat counted, not logged"
timeout 2 cat <&4 > acked & sleep 1; kill $! 2>/dev/null; wait $! 2>/dev/null
is "$(tr '\n' ' ' < acked)" "m1/open m1/click m1/open m1/click m2/open " "every id acknowledged, repeats too"
exec 4>&-

# Across midnight: m3/open is logged at 23:59:59, the log rotates for m4/open at 00:00:01;
# a report started after it knows m3/open from the rotated file and does not log it again.
printf '[Sink]\nLogfile = d.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > d.ini
{ action m3 open; action m4 open; } |
    "$BS_BIN/report" -c d.ini --once --start "2026-12-06 23:59:59" --tick 2 > /dev/null 2> err3
ok $? "report logs m3/open before midnight and m4/open after it"
is "$(grep -c ',Action ' d.log.2026-12-06) $(grep -c ',Action ' d.log)" "1 1" "one Action line each side of the rotation"
{ action m3 open; action m5 open; } |
    "$BS_BIN/report" -c d.ini --once --start "2026-12-07 00:00:05" > once3.json 2> err4
ok $? "report restarted after midnight"
like "$(cat err4)" '2 scheduled actions already in .*d\.log' "it read back the ids of the log and of the rotated file"
is "$(cat d.log.2026-12-06 d.log | grep -c ',Action open m3/open ')" 1 "m3/open, logged before midnight, not logged again"
is "$(jq -c '[.actions_done, .actions_repeated]' once3.json)" "[1,1]" "m5/open logged, m3/open counted repeated"

# The schedule record: no line; /json, /metrics and the page.
mkfifo in.fifo
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null
wait_port "$port"; ok $? "live report"
exec 3> in.fifo
lines=$(wc -l < c.log)
printf '%s\n' '{"v":1,"kind":"schedule","id":"schedule","ts":"2026-12-06T12:00:00.000Z","pending":{"open":7,"click":2,"oob":0},"pending_total":9,"claimed":1,"next_due":"2026-12-06T13:00:00.500Z","stored":9,"emitted":0,"done":0,"overflow":0,"emitted_again":0,"store_full":false}' >&3
wait_for curl -fsS "http://127.0.0.1:$port/json" -o json
for _ in $(seq 1 50); do jq -e .schedule json > /dev/null 2>&1 && break; sleep 0.1; curl -fsS "http://127.0.0.1:$port/json" -o json; done
is "$(jq -c .schedule json)" '{"pending":{"open":7,"click":2,"oob":0},"pending_total":9,"claimed":1,"next_due":"2026-12-06T13:00:00.500Z"}' "/json: schedule"
metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
like "$metrics" 'bouncy_sink_schedule_pending\{action="open"\} 7' "/metrics: pending open"
like "$metrics" 'bouncy_sink_schedule_next_due_timestamp_seconds 1796562000\.500' "/metrics: next due time"
/usr/bin/python3 -c "from prometheus_client.parser import text_string_to_metric_families as p; import sys; list(p(sys.stdin.read()))" <<<"$metrics"
ok $? "/metrics parses"
page=$(curl -fsS "http://127.0.0.1:$port/")
like "$page" '<h2>Scheduled actions</h2>' "the page: a Scheduled actions table"
like "$page" '<tr><th>open</th><td>7</td>' "  with the pending opens"
like "$page" '<tr><th>next due</th><td colspan="2">2026-12-06T13:00:00.500Z</td>' "  and the next due time"
exec 3>&-
is "$(wc -l < c.log)" "$lines" "no log line for a schedule record"
done_testing
