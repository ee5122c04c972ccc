#!/usr/bin/env bash
# act-http (issue 21): one pooled easy handle carries many transfers, and each is set up
# only where it differs from the last (no curl_easy_reset); the User-Agent comes first in
# a header list kept per user agent and header set. With Max_In_Flight = 1 every request
# below goes through the same handle, one at a time, to capserver.py, which writes each
# request as it came: the exact request bytes (header order included) of a probe, pixels
# and a click with the plan's or the default user agent, and a POST unsubscribe followed by
# GETs (no body, no method left over from the POST).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
HERE=$ROOT/tests/act-http

PORT=$(free_port)
bg python3 "$HERE/capserver.py" --port "$PORT" --out "$T/req"
wait_for test -e "$T/req.ready" || fail "capserver started"
B=http://127.0.0.1:$PORT L=http://localhost:$PORT
conf "$T/c.ini" "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1" "[Http]" \
    "Allow_Private_Addresses = yes" "Allow_Insecure_Unsubscribe = yes" "Max_In_Flight = 1"
m() { # m ID ACTIONS OPEN CLICK USER_AGENT(or -) [EXTRA]
    jq -cn --arg id "$1" --argjson a "$2" --argjson o "$3" --argjson c "$4" --arg ua "$5" \
        --argjson x "${6:-{\}}" '{v:1,kind:"message",id:$id,ts:"t",urls:{open:$o,click:$c},
        plan:({actions:$a} + (if $ua == "-" then {} else {user_agent:$ua} end))} * $x'
}
unsub='{"headers":{"list_unsubscribe":"<'"$B"'/u/1>","list_unsubscribe_post":"List-Unsubscribe=One-Click"}}'
# One transfer at a time, all on one handle: the probe of localhost first, then the
# records' fetches as they come (a GET after the POST among them).
{
    m a '["open"]' "[\"$B/o/a\"]" '[]' 'UA-A/1'
    m b '["open","click"]' "[\"$B/o/b\"]" "[\"$L/c/b\"]" -
    m c '["unsubscribe"]' '[]' '[]' 'UA-C/1' "$unsub"
    m d '["open"]' "[\"$B/o/d\"]" '[]' 'UA-A/1'
} > "$T/in"
out=$("$BS_BIN/act-http" -c "$T/c.ini" < "$T/in")
is "$(printf '%s\n' "$out" | jq -rs '[.. | .status? // empty] | join(" ")')" "200 200 200 200 200" \
    "every fetch answered 200"
DUA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
IMG='Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'
PAGE='Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
LANG_='Accept-Language: en-US,en;q=0.9'
want() {
    printf '%s\n' \
        "GET /o/a HTTP/1.1" "Host: 127.0.0.1:$PORT" "User-Agent: UA-A/1" "$IMG" "$LANG_" "" "----" \
        "GET /o/b HTTP/1.1" "Host: 127.0.0.1:$PORT" "User-Agent: $DUA" "$IMG" "$LANG_" "" "----" \
        "GET /f/a HTTP/1.1" "Host: localhost:$PORT" "User-Agent: $DUA" "Accept: */*" "" "----" \
        "GET /c/b HTTP/1.1" "Host: localhost:$PORT" "User-Agent: $DUA" "$PAGE" "$LANG_" "" "----" \
        "POST /u/1 HTTP/1.1" "Host: 127.0.0.1:$PORT" "User-Agent: UA-C/1" "Accept: */*" "$LANG_" \
        "Content-Type: application/x-www-form-urlencoded" "Content-Length: 26" \
        "List-Unsubscribe=One-Click" "----" \
        "GET /o/d HTTP/1.1" "Host: 127.0.0.1:$PORT" "User-Agent: UA-A/1" "$IMG" "$LANG_" "" "----"
}
# blocks REQUESTS: one line per request, sorted (the records run side by side)
blocks() { awk '/^----$/ { print r; r = ""; next } { r = r $0 "|" }' | sort; }
is "$(blocks < "$T/req")" "$(want | blocks)" "the requests, byte for byte, through one reused handle"
is "$(head -n 1 "$T/req")" "GET /f/a HTTP/1.1" "the probe first"
is "$(grep -c '^Host:' "$T/req")" 6 "six requests (one probe)"
done_testing
