#!/usr/bin/env bash
# act-http: time-outs and broken servers are recorded per URL; a slow endpoint does not
# hold back records of other messages.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

start_odd() { # start_odd VAR MODE
    local out
    out=$(mktemp "$T/odd.XXXXXX")
    bg python3 "$(dirname "$0")/oddserver.py" "$2" > "$out"
    wait_for test -s "$out" || return 1
    printf -v "$1" '%s' "$(head -n 1 "$out")"
}
start_ts SLOW 127.0.0.1:0 --delay-ms 4000 || exit 1
start_ts FAST 127.0.0.1:0 || exit 1
start_odd SILENT silent || exit 1
start_odd RESET reset || exit 1
start_odd GARBAGE garbage || exit 1
dead=$(free_port) # nothing listens there
conf "$T/c.ini" "[Sink]" "Open_Click_Timeout = 1" \
    "Tracking_Domains_Allowlist = 127.0.0.1" "[Http]" "Allow_Private_Addresses = yes"

{
    msg slow '["open"]' "[\"http://$SLOW/q/1\"]" '[]'
    msg silent '["click"]' "[]" "[\"http://$SILENT/f/1\"]"
    msg odd '["open"]' "[\"http://$RESET/q/1\",\"http://$GARBAGE/q/1\",\"http://127.0.0.1:$dead/q/1\"]" '[]'
    echo '{"v":1,"kind":"params","id":"pass","ts":"t"}'
    msg fast '["open"]' "[\"http://$FAST/q/1\"]" '[]'
} > "$T/in"
out=$("$AH" -c "$T/c.ini" < "$T/in")
is "$?" 0 "exit 0"
is "$(printf '%s\n' "$out" | grep -c .)" 5 "every record out"
like "$(rec "$out" slow | jq -r '.http.open[0].error')" '[Tt]imed out|timeout' "a server slower than Open_Click_Timeout: time-out recorded"
like "$(rec "$out" silent | jq -r '.http.click[0].error')" '[Tt]imed out|timeout' "a server that never answers: time-out recorded"
odd=$(rec "$out" odd)
like "$(printf '%s' "$odd" | jq -r '.http.open[0].error')" '.' "connection reset: error recorded ($(printf '%s' "$odd" | jq -r '.http.open[0].error'))"
like "$(printf '%s' "$odd" | jq -r '.http.open[1].error')" '.' "garbage answer: error recorded ($(printf '%s' "$odd" | jq -r '.http.open[1].error'))"
like "$(printf '%s' "$odd" | jq -r '.http.open[2].error')" '[Cc]onnect' "connection refused: error recorded"
is "$(printf '%s' "$odd" | jq -c '.http.errors')" '[]' "transport errors are per-URL outcomes, not ! errors"
ids=$(printf '%s\n' "$out" | jq -r .id | tr '\n' ' ')
like "$ids" '^pass .*fast .*slow' "records without work and fast records are not held behind slow ones ($ids)"
is "$(rec "$out" fast | jq -c '.http.open[0].status')" 200 "the fast record was served"
done_testing
