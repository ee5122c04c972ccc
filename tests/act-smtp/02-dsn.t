#!/usr/bin/env bash
# act-smtp: an OOB record becomes an RFC 3464 / RFC 6522 DSN sent with MAIL FROM:<> to the
# envelope sender, Status and Diagnostic-Code from a 5xx reply of the in-band table.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
mkrec o1 oob rcpt=someone@oob.bouncy-sink.test > "$T/rec1.json"
mkrec o2 oob rcpt=x@oob.bouncy-sink.test hb=lf > "$T/rec2.json"
cat "$T/rec1.json" "$T/rec2.json" | "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/out.ndjson"
ok $? "act-smtp exits 0"
is "$(jget "$T/out.ndjson" 1 smtp.oob.status)" sent "OOB status sent"
is "$(jget "$T/out.ndjson" 1 smtp.oob.to)" bounces@sender.test "OOB to the Return-Path"
is "$(jget "$T/out.ndjson" 1 smtp.oob.from)" someone@oob.bouncy-sink.test "OOB from: the bounced recipient"
is "$(jget "$T/out.ndjson" 1 smtp.oob.mx)" smtp.sparkpostmail.com "OOB mx recorded"
is "$(jget "$T/out.ndjson" 2 smtp.oob.status)" sent "OOB of a bare-LF header block sent"

e1=$(grep -l "someone@oob" "$T/srv"/*.eml)
e2=$(grep -l "x@oob" "$T/srv"/*.eml)
check_report dsn "$e1" "$T/rec1.json" "${e1%.eml}.json"
check_report dsn "$e2" "$T/rec2.json" "${e2%.eml}.json"

# Many DSNs: every one has a Status agreeing with its Diagnostic-Code (random table lines).
rm -f "$T/srv"/*
for i in $(seq 1 40); do mkrec "r$i" oob rcpt="u$i@oob.bouncy-sink.test"; done |
    "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/many.ndjson"
is "$(grep -c '"status": *"sent"' "$T/many.ndjson")" 40 "40 DSNs sent"
bad=0 kinds=""
for e in "$T/srv"/*.eml; do
    r=$(python3 "$HERE/check.py" dsn "$e" "$T/rec1.json" 2>&1 | grep -E '^FAIL (Status|Diagnostic|no placeholder)')
    [ -n "$r" ] && { bad=$((bad + 1)); diag "$e: $r"; }
    kinds="$kinds $(grep -a '^Status:' "$e")"
done
is "$bad" 0 "every DSN's Status agrees with its Diagnostic-Code, placeholders filled"
like "$(echo "$kinds" | tr ' ' '\n' | sort -u | wc -l)" "^([3-9]|[1-9][0-9])$" "replies are drawn at random (several Status values)"
done_testing
