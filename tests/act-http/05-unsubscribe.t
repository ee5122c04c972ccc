#!/usr/bin/env bash
# act-http: RFC 8058 one-click unsubscribe — POST body and content type; http URIs,
# missing List-Unsubscribe-Post and missing https URI are recorded errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

start_ts TS 127.0.0.1:0 --log "$T/req.log" || exit 1
conf "$T/insecure.ini" "[Http]" "Allow_Private_Addresses = yes" "Allow_Insecure_Unsubscribe = yes"
conf "$T/strict.ini" "[Http]" "Allow_Private_Addresses = yes"
hdr() { # hdr LIST_UNSUBSCRIBE [POST]: the headers object
    if [ $# -gt 1 ]; then
        jq -cn --arg l "$1" --arg p "$2" '{headers:{list_unsubscribe:$l,list_unsubscribe_post:$p}}'
    else
        jq -cn --arg l "$1" '{headers:{list_unsubscribe:$l}}'
    fi
}

msg u1 '["unsubscribe"]' '[]' '[]' \
    "$(hdr "<mailto:unsub@sender.test?subject=u>, <http://$TS/unsub/u1?x=1>" 'List-Unsubscribe=One-Click')" > "$T/in"
out=$("$AH" -c "$T/insecure.ini" < "$T/in")
is "$(printf '%s' "$out" | jq -c .http.unsubscribe)" "{\"url\":\"http://$TS/unsub/u1?x=1\",\"status\":200}" "POST made and outcome recorded"
line=$(awk -F'\t' '$1=="POST"' "$T/req.log")
is "$(printf '%s' "$line" | cut -f2)" "/unsub/u1?x=1" "POST to the List-Unsubscribe URI (mailto skipped)"
is "$(printf '%s' "$line" | cut -f6)" "application/x-www-form-urlencoded" "Content-Type application/x-www-form-urlencoded"
is "$(printf '%s' "$line" | cut -f7)" "List-Unsubscribe=One-Click" "body List-Unsubscribe=One-Click"
is "$(printf '%s' "$line" | cut -f3)" "BS-Test-Agent/1.0 (mail client)" "the plan's User-Agent"
is "$(hits "$TS" /f/a)" 0 "no tracking probe for unsubscribe"

# Strict (default): an http URI is not allowed by RFC 8058.
out=$("$AH" -c "$T/strict.ini" < "$T/in")
like "$(printf '%s' "$out" | jq -r .http.unsubscribe.error)" 'RFC 8058 requires https' "http URI refused by default"
is "$(printf '%s' "$out" | jq -r '.http.errors[0]')" '!Unsubscribe not sent: only an http URI, RFC 8058 requires https' "! error for the log"
is "$(awk -F'\t' '$1=="POST"' "$T/req.log" | grep -c .)" 1 "no second POST"

# No List-Unsubscribe-Post, or only mailto.
msg u2 '["unsubscribe"]' '[]' '[]' "$(hdr "<https://$TS/unsub/u2>")" > "$T/in2"
msg u3 '["unsubscribe"]' '[]' '[]' "$(hdr "<mailto:u@sender.test>" 'List-Unsubscribe=One-Click')" >> "$T/in2"
msg u4 '["unsubscribe"]' '[]' '[]' >> "$T/in2"
out=$("$AH" -c "$T/strict.ini" < "$T/in2")
like "$(rec "$out" u2 | jq -r .http.unsubscribe.error)" 'List-Unsubscribe-Post' "no List-Unsubscribe-Post: not sent"
like "$(rec "$out" u3 | jq -r .http.unsubscribe.error)" 'no https URI' "mailto only: not sent"
like "$(rec "$out" u4 | jq -r '.http.errors[0]')" '^!Unsubscribe not sent: no List-Unsubscribe' "no header: ! error"
is "$(printf '%s\n' "$out" | jq -r .http.unsubscribe.error_code | sort -u)" not_attempted "error_code not_attempted beside each reason"
is "$(awk -F'\t' '$1=="POST"' "$T/req.log" | grep -c .)" 1 "none of them POSTed"

# https one-click against a plain-http server: TLS fails, recorded as an error.
msg u5 '["unsubscribe"]' '[]' '[]' "$(hdr "<https://$TS/unsub/u5>" 'List-Unsubscribe=One-Click')" > "$T/in5"
out=$("$AH" -c "$T/strict.ini" < "$T/in5")
like "$(printf '%s' "$out" | jq -r .http.unsubscribe.error)" '.' "https to a non-TLS server: error recorded ($(printf '%s' "$out" | jq -r .http.unsubscribe.error))"
like "$(printf '%s' "$out" | jq -r '.http.errors[0]')" '^!Unsubscribe failed: ' "a failed unsubscribe is a ! error for the log"
done_testing
