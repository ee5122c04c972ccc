#!/usr/bin/env bash
# pipelines/replay.sh: captured files and an mbox on stdin through the real stages, --dry-run
# (no HTTP, no SMTP, no MX lookup: tests/act-smtp/12-dry-run-offline.t), the /json summary,
# the captured files left untouched, and a replay beside a running sink (its own log).
. "$(dirname "$0")/../lib.sh"
N=60
"$BS_BIN/gen-corpus" -n "$N" -f spool -o "$T/corpus" --seed 3 --domain sender.test \
    --key "$T/dkim.key" --key-file "$T/keys.txt" --tracking-base http://track.sender.test 2>/dev/null
ok $? "spool-format corpus generated"
"$BS_BIN/gen-corpus" -n "$N" -f mbox -o "$T/corpus.mbox" --seed 3 --domain sender.test \
    --key "$T/dkim.key" --key-file "$T/keys2.txt" --tracking-base http://track.sender.test 2>/dev/null
ok $? "the same corpus as an mbox"
cat > "$T/replay.ini" <<INI
[Sink]
Logfile = $T/replay.log
Tracking_Domains_Allowlist = track.sender.test
User_Agents_File = $ROOT/data/reference/user-agents.csv
[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test
[Verify]
DKIM_Key_File = $T/keys.txt
SPF = off
[Smtp]
MX_Override = sender.test=mx.sender.test
[Decide]
Seed = 9
INI
before=$(cd "$T/corpus" && ls -l | md5sum)
# Dry run: a real request would fail here (nothing listens) and show as an error.
out=$(bash "$ROOT/pipelines/replay.sh" -c "$T/replay.ini" --dry-run "$T/corpus" 2>"$T/err")
ok $? "replay.sh exits 0"
j() { printf '%s' "$out" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
is "$(j total_messages)" "$N" "the /json summary counts every message"
is "$(j fail_dkim)" 0 "every message verified"
ok "$([ "$(j open)" -gt 0 ] && echo 0 || echo 1)" "opens planned and counted ($(j open))"
is "$(grep -c '\.msg,' "$T/replay.log")" "$N" "one log line per replayed file"
unlike "$(grep -E '\.msg,' "$T/replay.log")" '!Fetch|!FBL endpoint|!OOB not sent|!Tracking' \
    "no fetch or delivery was attempted"
is "$(cd "$T/corpus" && ls -l | md5sum)" "$before" "captured files untouched"
unlike "$(cat "$T/err")" 'report: [0-9]+/' "no progress line when stderr is not a terminal"
out2=$(bash "$ROOT/pipelines/replay.sh" -c "$T/replay.ini" --dry-run < "$T/corpus.mbox" 2>/dev/null)
ok $? "mbox on stdin replays"
is "$(printf '%s' "$out2" | python3 -c "import json,sys; print(json.load(sys.stdin)['total_messages'])")" \
    "$N" "mbox stream: every message counted"
bash "$ROOT/pipelines/replay.sh" 2>/dev/null
is "$?" 64 "usage error exits 64"

# Issue 22: replaying with the configuration of a running sink. Its report holds the log
# open: the replay is refused with what to do, or writes its own log with --log.
mkfifo "$T/live.fifo"
web=$(free_port)
printf '[Report]\nAddress = 127.0.0.1:%s\nState_File = %s/live-state.json\n' "$web" "$T" >> "$T/replay.ini"
exec 5<> "$T/live.fifo" # held open (read-write: no blocking), so the live report's input stays open
# (not through bg: a function's redirection does not reach the job it starts, whose input
# would be /dev/null)
"$BS_BIN/report" -c "$T/replay.ini" < "$T/live.fifo" 2> "$T/live.err" &
live=$!
_bg_pids+=("$live")
log_open() { ls -l "/proc/$live/fd" 2> /dev/null | grep -q "$T/replay\.log\$"; }
wait_port "$web" && wait_for log_open; ok $? "a live report runs with the same configuration, its log open" || diag "$(cat "$T/live.err"; ls -l /proc/$live/fd)"
lines=$(wc -l < "$T/replay.log")
bash "$ROOT/pipelines/replay.sh" -c "$T/replay.ini" --dry-run "$T/corpus" > /dev/null 2> "$T/refused.err"
is "$?" 75 "replay with the live sink's log: refused (exit 75)"
like "$(cat "$T/refused.err")" "replay\.sh: error: $T/replay\.log is open in another process .*--log FILE" \
    "… saying what to do"
bash "$ROOT/pipelines/replay.sh" -c "$T/replay.ini" --dry-run --log "$T/own.log" "$T/corpus" > /dev/null 2>&1
ok $? "replay with --log runs beside the live sink"
is "$(grep -c '\.msg,' "$T/own.log")" "$N" "… its lines in its own log"
is "$(wc -l < "$T/replay.log")" "$lines" "… none in the live sink's"
exec 5>&-
done_testing
