#!/usr/bin/env bash
# End to end (issue 14, defect 4): only what a passing DKIM signature signs steers the
# sink's requests. DKIM-signed messages (dkimpy), changed after signing, go through
# ingest | decide | act-http | report with a local track-server that logs every request:
#   - a link and a pixel appended after the signed body length (l=) are never fetched,
#     the signed ones are;
#   - a List-Unsubscribe the signature's h= does not cover is never POSTed to, and an
#     unsigned one added above a signed one neither: the signed URI is;
#   - a From prepended to a signed fbl message stops it: the log line says
#     !DKIM fail: duplicate From header field.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-http/common.sh"
SIGN="$ROOT/tests/ingest/dkim-sign.py"
cd "$T" || exit 1

/usr/bin/python3 -c 'import dkim' 2> /dev/null; ok $? "dkimpy (python3-dkim) is installed"
start_ts TS 127.0.0.1:0 --log "$T/req.log" || exit 1
"$BS_BIN/gen-corpus" -n 1 --seed 30 -o "$T/keys" > /dev/null; ok $? "gen-corpus: a key and its key file"
# Every open is followed by a click (Click_percent = Open_percent), none again.
conf c.ini "[Verify]" "SPF = off" "DKIM_Key_File = $T/keys/dkim-keys.txt" \
    "[Http]" "Allow_Private_Addresses = yes" "Allow_Insecure_Unsubscribe = yes" \
    "[Sink]" "Logfile = $T/c.log" "User_Agents_File = $ROOT/data/reference/user-agents.csv" \
    "Tracking_Domains_Allowlist = $TS" "Open_percent = 50" "Click_percent = 50" \
    "Open_Again_percent = 0" "Click_Again_percent = 0"

# message STREAM UNSUB_URI: a single-part HTML message (CRLF) to x@STREAM.bouncy-sink.test
message() {
    printf 'From: "Sender" <news@sender.test>\r\nTo: x@%s.bouncy-sink.test\r\n' "$1"
    printf 'Subject: Hello\r\nDate: Sun, 06 Dec 2026 15:40:47 +0000\r\n'
    printf 'Message-ID: <%s@sender.test>\r\nMIME-Version: 1.0\r\n' "$1"
    printf 'Content-Type: text/html; charset=utf-8\r\n'
    printf 'List-Unsubscribe: <%s>\r\n' "$2"
    printf 'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n'
    printf '<html><body><a href="http://%s/f/a/good-%s">read</a>\r\n' "$TS" "$1"
    printf '<img src="http://%s/q/good-%s"></body></html>\r\n' "$TS" "$1"
}
ALL=from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:list-unsubscribe-post
NOUNSUB=from:to:subject:date:message-id:mime-version:content-type
mkdir in
message openclick "http://$TS/unsub/none" | /usr/bin/python3 "$SIGN" keys/dkim.key "$ALL" l > in/1.msg
printf '<a href="http://%s/f/a/evil-click">x</a><img src="http://%s/q/evil-open">\r\n' "$TS" "$TS" >> in/1.msg
message unsub "http://$TS/unsub/evil-unsigned" | /usr/bin/python3 "$SIGN" keys/dkim.key "$NOUNSUB" > in/2.msg
{ printf 'List-Unsubscribe: <http://%s/unsub/evil-added>\r\n' "$TS"
  message unsub "http://$TS/unsub/good" | /usr/bin/python3 "$SIGN" keys/dkim.key "$ALL"; } > in/3.msg
{ printf 'From: attacker@evil.test\r\n'
  message fbl "http://$TS/unsub/none" | /usr/bin/python3 "$SIGN" keys/dkim.key "$ALL"; } > in/4.msg
[ "$(grep -c '^DKIM-Signature:' in/*.msg | grep -c ':1$')" = 4 ]; ok $? "four signed, then changed, messages"

"$BS_BIN/ingest" -c c.ini in 2> ingest.err | "$BS_BIN/decide" -c c.ini --seed 1 2> decide.err |
    "$BS_BIN/act-http" -c c.ini > out.ndjson 2> act.err
ok $? "ingest | decide | act-http exits 0"
[ -s out.ndjson ] || diag "$(cat ingest.err decide.err act.err)"
# by_input JQ: JQ of each message record, in input order (act-http may reorder them)
by_input() {
    jq -c "select(.kind == \"message\") | [.source.name, $1]" out.ndjson | sort | jq -c '.[1]' | tr '\n' ' '
}
is "$(by_input .dkim.result)" '"pass" "pass" "pass" "fail" ' \
    "DKIM: the first three pass, the one with two From fails"
is "$(by_input .plan.actions)" '["open","click"] [] ["unsubscribe"] [] ' \
    "plans: open and click; none; unsubscribe; none"

gets=$(awk -F'\t' '$1 == "GET" {print $2}' req.log | grep -v '^/f/a$' | sort | tr '\n' ' ')
is "$gets" "/f/a/good-openclick /q/good-openclick " "only the signed pixel and link were fetched"
posts=$(awk -F'\t' '$1 == "POST" {print $2}' req.log | tr '\n' ' ')
is "$posts" "/unsub/good " "the only unsubscribe POST went to the signed List-Unsubscribe"
unlike "$(cat req.log)" "evil" "no request for anything added after signing"

"$BS_BIN/report" -c c.ini --once < out.ndjson > once.json 2> report.err
ok $? "report --once exits 0"
like "$(grep ',x@fbl.bouncy-sink.test,' c.log)" ',!DKIM fail: duplicate From header field' \
    "log line: !DKIM fail: duplicate From header field"
is "$(jq -r .fail_dkim once.json)" 1 "report counts one DKIM failure"
done_testing
