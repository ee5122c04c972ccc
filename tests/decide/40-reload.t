#!/usr/bin/env bash
# decide reloads: a changed configuration file is picked up (checked once a second) with a
# params record reason "reload"; a bad edit keeps the last good model and says why (params
# "error" and stderr); SIGHUP reloads at once; input from a FIFO that stays open.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
UA=$ROOT/data/reference/user-agents.csv

conf() { # OOB_percent FBL_percent [extra line]
    printf '[Sink]\nUser_Agents_File = %s\nOOB_percent = %s\nFBL_percent = %s\n%s\n' \
        "$UA" "$1" "$2" "${3:-}" >"$T/r.ini.new"
    mv "$T/r.ini.new" "$T/r.ini"
}
rec() { printf '{"v":1,"kind":"message","id":"%s","ts":"2026-11-24T20:05:10.387Z","envelope":{"rcpt":"u@bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}}\n' "$1" >&3; }
plan_of() { grep "\"id\":\"$1\"" "$T/out" | grep -o '"actions":\[[^]]*\]'; }
has() { grep -q "$1" "$T/out"; }

conf 50 0 # share 0.5: OOB = 1, every mixed message is an OOB
mkfifo "$T/in"
exec 3<>"$T/in" # open both ends first: opening a FIFO for reading alone would block
# Not through bg: an asynchronous command's stdin is /dev/null unless redirected on it.
"$BS_BIN/decide" -c "$T/r.ini" --seed 3 <"$T/in" >"$T/out" 2>"$T/err" 3>&- &
pid=$!
_bg_pids+=("$pid")
rec r1
wait_for has '"id":"r1"'
is "$(plan_of r1)" '"actions":["oob"]' "first model: OOB = 1"
like "$(head -n 1 "$T/out")" '"kind":"params","id":"params-1",.*"reason":"start"' "params at start"

sleep 1.1 # a different mtime, whatever the file system's resolution
conf 0 50 # FBL = 1
wait_for has '"id":"params-2"'
like "$(grep '"id":"params-2"' "$T/out")" '"reason":"reload","params":\{"OOB_percent":0.0,"FBL_percent":50.0' \
    "changed file: params record, reason reload, new values"
unlike "$(grep '"id":"params-2"' "$T/out")" '"error"' "good reload: no error"
like "$(cat "$T/err")" 'decide: reload: params' "good reload logged on stderr"
rec r2
wait_for has '"id":"r2"'
is "$(plan_of r2)" '"actions":["fbl"]' "new model in force: FBL = 1"

sleep 1.1
conf 50 0 'Open_Again_percent = 90'
wait_for has '"id":"params-3"'
p3=$(grep '"id":"params-3"' "$T/out")
like "$p3" '"reason":"reload","error":"!'"$T"'/r.ini:5: \[Sink\] Open_Again_percent: 90 > Open_percent 55' \
    "bad edit: params record with error naming file, line and key"
like "$p3" '"params":\{"OOB_percent":0.0,"FBL_percent":50.0' "bad edit: params show the model kept"
like "$(cat "$T/err")" 'decide: error: configuration reload failed, keeping the last good model: .*r.ini:5: \[Sink\] Open_Again_percent' \
    "bad edit: stderr line"
rec r3
wait_for has '"id":"r3"'
is "$(plan_of r3)" '"actions":["fbl"]' "bad edit: last good model still in force"
kill -0 "$pid" 2>/dev/null
ok $? "bad edit: still running"

sleep 1.1
conf 50 0 # good again: OOB = 1
wait_for has '"id":"params-4"'
unlike "$(grep '"id":"params-4"' "$T/out")" '"error"' "fixed file: reloaded"
rec r4
wait_for has '"id":"r4"'
is "$(plan_of r4)" '"actions":["oob"]' "fixed file: its model in force"

kill -HUP "$pid"
wait_for has '"id":"params-5"'
like "$(grep '"id":"params-5"' "$T/out")" '"reason":"reload"' "SIGHUP: reload at once, file unchanged"
rec r5
wait_for has '"id":"r5"'
is "$(plan_of r5)" '"actions":["oob"]' "after SIGHUP: processing goes on"

rm -f "$T/r.ini"
sleep 1.5
rec r6
wait_for has '"id":"r6"'
like "$(grep '"id":"params-6"' "$T/out")" '"error":"!.*r.ini: cannot open' "removed file: error, model kept"
is "$(plan_of r6)" '"actions":["oob"]' "removed file: last good model in force"

exec 3>&-
wait "$pid"
is "$?" 0 "end of input: exit 0"
is "$(grep -c '"kind":"message"' "$T/out")" 6 "every message written once"
done_testing
