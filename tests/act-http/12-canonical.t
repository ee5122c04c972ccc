#!/usr/bin/env bash
# act-http: a record line in jansson's compact form (records(5): canonical) with HTTP work
# comes out as the same bytes with "http" appended as its last member; any other valid
# line comes out in that form; both are what a parse and re-serialisation gives.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http
conf "$T/c.ini" "[Http]" "Allow_Private_Addresses = yes"

u='http://127.0.0.1:9/q/1'
# canonical: escapes as jansson writes them, raw UTF-8, a real with 17 digits, nested
# members after the plan
canon='{"v":1,"kind":"message","id":"c1","ts":"t","headers":{"subject":"caf\u00e9 \"q\" \\ \t\u001F","to":"x@y.test"},"score":0.20000000000000001,"urls":{"open":["'$u'"],"click":[]},"plan":{"stream":"openclick","actions":["open"],"user_agent":"UA"},"z":[{"a":[true,null,-3]}]}'
canon=${canon//\\u00e9/é}
printf '%s\n' "$canon" > "$T/in"
out=$("$AH" -c "$T/c.ini" --dry-run < "$T/in")
is "$?" 0 "exit 0"
is "${out%%,\"http\":*}" "${canon%\}}" "a canonical line keeps its bytes up to its closing brace"
is "$(printf '%s' "$out" | jq -c '.http.open')" "[{\"url\":\"$u\",\"dry_run\":true}]" "its http object is appended"
is "$(printf '%s' "$out" | jq -r 'keys_unsorted | last')" http "as the last member"
is "$(printf '%s' "$out" | jq -c 'del(.http)')" "$(jq -c . "$T/in")" "nothing else changes"

# not canonical: white space, \u00e9 and \/ escapes, 0.2, 1E2: rewritten as jansson writes it
printf '%s\n' '{ "v": 1, "kind": "message", "id": "n1", "ts": "t", "s": "caf\u00e9 \/", "r": 0.2, "e": 1E2,' \
    ' "urls": {"open": ["'$u'"], "click": []}, "plan": {"stream": "openclick", "actions": ["open"], "user_agent": "UA"}}' |
    tr -d '\n' > "$T/in2"
echo >> "$T/in2"
out=$("$AH" -c "$T/c.ini" --dry-run < "$T/in2")
is "${out%%,\"http\":*}" '{"v":1,"kind":"message","id":"n1","ts":"t","s":"café /","r":0.20000000000000001,"e":100.0,"urls":{"open":["'$u'"],"click":[]},"plan":{"stream":"openclick","actions":["open"],"user_agent":"UA"}' \
    "any other valid line comes out in the canonical form"

# a canonical line that already has "http": parsed, its http object replaced in place
printf '%s\n' '{"v":1,"kind":"message","id":"h1","ts":"t","http":{"old":1},"urls":{"open":["'$u'"]},"plan":{"actions":["open"]}}' > "$T/in3"
out=$("$AH" -c "$T/c.ini" --dry-run < "$T/in3")
is "$(printf '%s' "$out" | jq -r 'keys_unsorted | join(",")')" "v,kind,id,ts,http,urls,plan" "an existing http member keeps its place"
is "$(printf '%s' "$out" | jq -c '.http.old')" null "and is replaced"

# a record without work passes byte for byte, canonical or not... and a non-canonical one
# is rewritten (act-smtp does the same)
printf '%s\n' '{"v":1, "kind":"params","id":"p1"}' '{"v":1,"kind":"params","id":"p2","x":"\u00e9"}' \
    '{"v":1,"kind":"params","id":"p3","x":"é"}' > "$T/in4"
is "$("$AH" -c "$T/c.ini" < "$T/in4")" "$(printf '%s\n' '{"v":1,"kind":"params","id":"p1"}' '{"v":1,"kind":"params","id":"p2","x":"é"}' '{"v":1,"kind":"params","id":"p3","x":"é"}')" \
    "act-http: canonical lines copied, others written canonical"
printf '[Listen]\nHostname = sink.example\nInBand_Replies_File = %s\n' "$REF/inband-replies.dat" > "$T/s.ini"
is "$("$BS_BIN/act-smtp" -c "$T/s.ini" < "$T/in4")" "$(printf '%s\n' '{"v":1,"kind":"params","id":"p1"}' '{"v":1,"kind":"params","id":"p2","x":"é"}' '{"v":1,"kind":"params","id":"p3","x":"é"}')" \
    "act-smtp: the same"
done_testing
