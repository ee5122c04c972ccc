#!/usr/bin/env bash
# act-http: TLS is verified (a self-signed certificate fails; trusted through CA_File it
# works), and one-click unsubscribe over https POSTs as RFC 8058 says.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
ok $? "test certificate made"
bg python3 "$(dirname "$0")/tlsserver.py" "$T/cert.pem" "$T/key.pem" "$T/post.log" > "$T/addr"
wait_for test -s "$T/addr" || { fail "TLS server started"; done_testing; exit; }
TLS=$(head -n 1 "$T/addr")

{
    msg t1 '["open","unsubscribe"]' "[\"https://$TLS/q/1\"]" '[]' \
        "{\"headers\":{\"list_unsubscribe\":\"<mailto:u@s.test>, <https://$TLS/unsub/t1>\",\"list_unsubscribe_post\":\"List-Unsubscribe=One-Click\"}}"
} > "$T/in"
conf "$T/untrusted.ini" "[Http]" "Allow_Private_Addresses = yes"
out=$("$AH" -c "$T/untrusted.ini" < "$T/in")
is "$(printf '%s' "$out" | jq -c .http.open)" '[]' "untrusted certificate: the probe fails, the URL is not tracked"
like "$(printf '%s' "$out" | jq -r '.http.unsubscribe.error')" '[Cc]ertificate|SSL' "untrusted certificate: unsubscribe fails ($(printf '%s' "$out" | jq -r '.http.unsubscribe.error'))"
test ! -s "$T/post.log"
ok $? "nothing was POSTed over an unverified connection"

conf "$T/trusted.ini" "[Http]" "Allow_Private_Addresses = yes" "CA_File = $T/cert.pem"
out=$("$AH" -c "$T/trusted.ini" < "$T/in")
is "$(printf '%s' "$out" | jq -c '.http.open')" "[{\"url\":\"https://$TLS/q/1\",\"status\":200}]" "trusted through CA_File: probe (Server: msys-http) and fetch over https"
is "$(printf '%s' "$out" | jq -c '.http.unsubscribe')" "{\"url\":\"https://$TLS/unsub/t1\",\"status\":200}" "one-click unsubscribe over https"
is "$(cat "$T/post.log")" "POST /unsub/t1 application/x-www-form-urlencoded List-Unsubscribe=One-Click" "RFC 8058 POST: body and content type"
done_testing
