#!/usr/bin/env bash
# act-http: opens and clicks against a local track-server — User-Agent and mail-client
# headers, action order, redirects (4 followed, the fifth refused), 404/500, body bound.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

start_ts TS 127.0.0.1:0 --status /gone=404 --status /broken=500 || exit 1
start_ts TS2 127.0.0.1:0 --log "$T/req2.log" --landing "/landed" || exit 1
closed=$(free_port)
conf "$T/c.ini" "[Http]" "Allow_Private_Addresses = yes" "Max_Body_Bytes = 10000" \
    "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1:$closed"

msg m1 '["open","open_again","click","click_again"]' \
    "[\"http://$TS2/q/p1\",\"http://$TS2/q/p2\"]" \
    "[\"http://$TS2/f/c1\",\"http://$TS2/redirect/4\",\"http://$TS2/redirect/5\"]" > "$T/in"
msg m2 '["open","click"]' \
    "[\"http://$TS/gone/p\",\"http://$TS/broken/p\"]" \
    "[\"http://$TS/big/5000\",\"http://$TS/big/20000\"]" >> "$T/in"
msg m3 '["open"]' "[\"http://127.0.0.1:$closed/q/p\"]" '[]' >> "$T/in"
out=$("$AH" -c "$T/c.ini" < "$T/in")
is "$?" 0 "exit 0"
r1=$(rec "$out" m1)
r2=$(rec "$out" m2)
r3=$(rec "$out" m3)

is "$(printf '%s' "$r1" | jq -c '[.http.open[].status]')" '[200,200]' "open: every pixel fetched, 200"
is "$(printf '%s' "$r1" | jq -c '[.http.open_again[].url]')" "[\"http://$TS2/q/p1\",\"http://$TS2/q/p2\"]" "open_again: fetched again, in order"
is "$(printf '%s' "$r1" | jq -c '.http.click[0]')" "{\"url\":\"http://$TS2/f/c1\",\"status\":200}" "click followed the 302 to the landing page"
is "$(printf '%s' "$r1" | jq -c '.http.click[1].status')" 200 "4 redirects are followed"
like "$(printf '%s' "$r1" | jq -r '.http.click[2].error')" 'too many redirects' "the fifth redirect is refused"
is "$(printf '%s' "$r1" | jq -c '[.http.click_again[] | .status // .error]')" '[200,200,"too many redirects (more than 4)"]' "click_again: again"
is "$(printf '%s' "$r1" | jq -c '[.http.click_again[] | .error_code]')" '[null,null,"too_many_redirects"]' "error_code too_many_redirects beside the text, none on success"
is "$(printf '%s' "$r1" | jq -c '.http.errors')" '[]' "no application errors"
is "$(hits "$TS2" /redirect/1)" 4 "both chains went as far as /redirect/1"
is "$(hits "$TS2" /redirect/0)" 2 "only /redirect/4 reached the end: the fifth hop was not requested"
is "$(hits "$TS2" /landed)" 2 "landing page fetched after each click on /f/c1"
is "$(hits "$TS2" /q/p1)" 2 "pixel fetched twice (open, open_again)"

# Mail-client request headers and the plan's User-Agent.
ua=$(awk -F'\t' '$2=="/q/p1"{print $3; exit}' "$T/req2.log")
is "$ua" "BS-Test-Agent/1.0 (mail client)" "plan.user_agent sent"
like "$(awk -F'\t' '$2=="/q/p1"{print $4; exit}' "$T/req2.log")" '^image/' "an image Accept header for pixels"
like "$(awk -F'\t' '$2=="/f/c1"{print $4; exit}' "$T/req2.log")" '^text/html' "a page Accept header for clicks"
like "$(awk -F'\t' '$2=="/q/p1"{print $5; exit}' "$T/req2.log")" '^en-US' "Accept-Language sent"
# SPEC A4.4 order: opens, then open again, then clicks, then click again. The fetches of
# one action run at once, so their order within the action is the server's: compare
# actions (pairs of requests), not single requests.
order=$(awk -F'\t' '$2 ~ "^/(q|f)/"{print $2}' "$T/req2.log" | grep -v '^/f/a$' |
    paste -d' ' - - | while read -r a b; do printf '%s\n%s\n' "$a" "$b" | sort | tr '\n' ' '; done)
is "$order" "/q/p1 /q/p2 /q/p1 /q/p2 /f/c1 /f/c1 " "actions run in order: open, open_again, click, click_again"

is "$(printf '%s' "$r2" | jq -c '[.http.open[].status]')" '[404,500]' "404 and 500 recorded as statuses"
is "$(printf '%s' "$r2" | jq -c '.http.click[0].status')" 200 "a body under Max_Body_Bytes is read"
like "$(printf '%s' "$r2" | jq -r '.http.click[1].error')" 'body larger than 10000 bytes' "a body over Max_Body_Bytes aborts the fetch"
is "$(printf '%s' "$r2" | jq -r '.http.click[1].error_code')" too_large "error_code too_large"
is "$(printf '%s' "$r3" | jq -c '.http.open[0] | [.error_code, has("error")]')" '["connection_refused",true]' \
    "a closed port: error_code connection_refused, from the socket error, with curl's text"
done_testing
