#!/usr/bin/env bash
# act-http: records without HTTP work pass through unchanged; --dry-run makes no request;
# command-line and configuration errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

start_ts TS 127.0.0.1:0 || exit 1
conf "$T/c.ini" "[Http]" "Allow_Private_Addresses = yes"

# Pass-through: other kinds, messages without plan or without HTTP actions, bad lines.
{
    echo '{"v":1,"kind":"params","id":"params-1","ts":"t","params":{"x":1}}'
    echo '{"v":1,"kind":"inband","id":"i1","ts":"t","reply":{"code":550}}'
    msg m-none '[]' "[\"http://$TS/q/1\"]" '[]'
    msg m-oob '["oob"]' "[\"http://$TS/q/1\"]" '[]'
    echo '{"v":1,"kind":"message","id":"m-noplan","ts":"t","urls":{"open":["http://x/"]}}'
    echo 'this is not json'
} > "$T/in"
out=$("$AH" -c "$T/c.ini" < "$T/in" 2> "$T/err")
is "$?" 0 "exit 0"
is "$(printf '%s\n' "$out" | head -n 5)" "$(head -n 5 "$T/in")" "records without HTTP work are copied byte for byte, in order"
is "$(printf '%s\n' "$out" | sed -n 6p | jq -r .kind)" invalid "a malformed line becomes an invalid record"
like "$(cat "$T/err")" 'act-http: error: malformed record \(stdin:6\)' "the malformed line is reported with its position"
is "$(printf '%s\n' "$out" | grep -c .)" 6 "no record dropped"
is "$(stats "$TS" | jq .requests)" 0 "nothing was fetched for them"

# --dry-run: every URL the plan would fetch recorded, no request made.
msg d1 '["open","open_again","click","unsubscribe"]' \
    "[\"http://$TS/q/1\",\"cid:logo\"]" "[\"https://nowhere.invalid/f/a/1\"]" \
    '{"headers":{"list_unsubscribe":"<mailto:u@x.test>, <https://unsub.invalid/u/1>","list_unsubscribe_post":"List-Unsubscribe=One-Click"}}' > "$T/d"
out=$("$AH" -c "$T/c.ini" --dry-run < "$T/d")
is "$?" 0 "dry run exits 0"
is "$(printf '%s' "$out" | jq -c .http.open)" "[{\"url\":\"http://$TS/q/1\",\"dry_run\":true}]" "dry run: open URL recorded"
is "$(printf '%s' "$out" | jq -c .http.open_again)" "[{\"url\":\"http://$TS/q/1\",\"dry_run\":true}]" "dry run: open_again URL recorded"
is "$(printf '%s' "$out" | jq -c .http.click)" '[{"url":"https://nowhere.invalid/f/a/1","dry_run":true}]' "dry run: click URL recorded (no DNS, no probe)"
is "$(printf '%s' "$out" | jq -c .http.unsubscribe)" '{"url":"https://unsub.invalid/u/1","dry_run":true}' "dry run: unsubscribe URI recorded"
is "$(printf '%s' "$out" | jq -c .http.not_tracking)" '{"open":2,"click":0}' "dry run: non-http URL counted as not tracking (per action)"
is "$(stats "$TS" | jq .requests)" 0 "dry run made no request"

# Usage and configuration errors.
"$AH" --bogus < /dev/null > /dev/null 2> "$T/err"
is "$?" 64 "unknown option: exit 64"
like "$(cat "$T/err")" 'usage:' "usage printed"
"$AH" extra < /dev/null > /dev/null 2>&1
is "$?" 64 "stray argument: exit 64"
conf "$T/bad.ini" "[Http]" "Max_In_Flight = lots"
"$AH" -c "$T/bad.ini" < /dev/null > /dev/null 2> "$T/err"
is "$?" 78 "bad config: exit 78"
like "$(cat "$T/err")" 'bad.ini:2: \[Http\] Max_In_Flight' "bad config names file, line, section and key"
conf "$T/bad2.ini" "[Http]" "Private_Address_Exceptions = 10.0.0.0/99"
"$AH" -c "$T/bad2.ini" < /dev/null > /dev/null 2> "$T/err"
is "$?" 78 "bad CIDR: exit 78"
is "$(cat "$T/err")" "act-http: fatal: $T/bad2.ini:2: [Http] Private_Address_Exceptions: '10.0.0.0/99' is not an address or CIDR range: prefix length over 32 for an IPv4 network" \
    "bad CIDR: FILE:LINE, the range and why"
"$AH" -c "$ROOT/data/reference/consume-mail.ini" --dry-run < /dev/null > /dev/null
is "$?" 0 "production consume-mail.ini loads"
"$AH" -h > "$T/h"
is "$?" 0 "-h exits 0"
done_testing
