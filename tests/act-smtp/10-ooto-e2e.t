#!/usr/bin/env bash
# End to end, out-of-office (issue 10): DKIM-signed messages to <local>@ooto.bouncy-sink.test
# from gen-corpus (real List-Unsubscribe/List-Id headers, an RFC 2047 subject) go through
# ingest | decide | act-smtp; each auto-reply received by the test SMTP server is checked
# field by field against the original (check-ooto.py), and report logs and counts them.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
cat >> "$T/c.ini" <<EOF
[Verify]
SPF = off
DKIM_Key_File = $T/spool/dkim-keys.txt
[Sink]
User_Agents_File = $ROOT/data/reference/user-agents.csv
Logfile = $T/c.log
EOF
"$BS_BIN/gen-corpus" -n 3 --seed 5 --streams ooto=1 -o "$T/spool" --key "$T/dkim.key" 2> "$T/gen.err"
ok $? "gen-corpus wrote three messages for the ooto stream"
"$BS_BIN/ingest" -c "$T/c.ini" "$T/spool" 2> "$T/ingest.err" |
    "$BS_BIN/decide" -c "$T/c.ini" --seed 1 2> "$T/decide.err" |
    "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/out.ndjson" 2> "$T/act.err"
ok $? "ingest | decide | act-smtp exits 0"
[ -s "$T/out.ndjson" ] || diag "$(cat "$T/ingest.err" "$T/decide.err" "$T/act.err")"
is "$(jq -c 'select(.kind == "message") | [.plan.stream, .plan.actions]' "$T/out.ndjson" | sort -u)" '["ooto",["ooto"]]' "decide plans ooto for the ooto stream"
is "$(jq -r 'select(.kind == "message") | .smtp.ooto.status' "$T/out.ndjson" | sort | uniq -c | sed 's/^ *//')" "3 sent" "three auto-replies sent"
is "$(ls "$T/srv"/*.eml 2>/dev/null | wc -l)" 3 "the server received three messages"

n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s\n' "$line" > "$T/rec$n.json"
    rcpt=$(jq -r .envelope.rcpt <<<"$line")
    e=$(grep -l "^From: $rcpt" "$T/srv"/*.eml)
    [ -n "$e" ] || { fail "auto-reply from $rcpt received"; continue; }
    while IFS= read -r r; do
        case "$r" in
            PASS\ *) pass "$rcpt: ${r#PASS }" ;;
            *) fail "$rcpt: ${r#FAIL }" ;;
        esac
    done < <(/usr/bin/python3 "$HERE/check-ooto.py" "$e" "${e%.eml}.json" "$T/rec$n.json" \
        "$(jq -r .headers.subject <<<"$line")" "$(jq -r .headers.message_id <<<"$line")" "" 2>&1)
done < <(jq -c 'select(.kind == "message")' "$T/out.ndjson")
is "$n" 3 "three records checked"

"$BS_BIN/report" -c "$T/c.ini" --once < "$T/out.ndjson" > "$T/once.json" 2> "$T/report.err"
ok $? "report --once exits 0"
is "$(jq -r .ooto_sent "$T/once.json")" 3 "report counts ooto_sent"
is "$(grep -c ',OOTO sent,to bounces@sender.test via smtp.sparkpostmail.com$' "$T/c.log")" 3 "report logs OOTO sent,to <sender> via <mx>"
done_testing
