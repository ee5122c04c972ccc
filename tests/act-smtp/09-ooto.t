#!/usr/bin/env bash
# act-smtp: the "ooto" action sends an RFC 3834 out-of-office auto-reply to the envelope
# sender with MAIL FROM:<> (received by the test SMTP server and checked field by field with
# Python's email package), and refuses, with a !OOTO not sent reason and no connection,
# an auto-submitted original, the null sender, system senders and allow-list misses.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
mkrec a1 ooto rcpt=jane@ooto.bouncy-sink.test subject="Your November newsletter" \
    msgid="<1@sender.test>" > "$T/rec1.json"
mkrec a2 ooto rcpt=kim@ooto.bouncy-sink.test subject="Café offers — 20 % off, plus a much longer subject line that needs folding" \
    msgid="<2.abc@sender.test>" hdrs="References: <r1@sender.test> <r2@sender.test>|Auto-Submitted: no" > "$T/rec2.json"
cat "$T/rec1.json" "$T/rec2.json" | "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/out.ndjson"
ok $? "act-smtp exits 0"
is "$(jget "$T/out.ndjson" 1 smtp.ooto.status)" sent "OOTO status sent"
is "$(jget "$T/out.ndjson" 1 smtp.ooto.to)" bounces@sender.test "OOTO to the envelope sender"
is "$(jget "$T/out.ndjson" 1 smtp.ooto.from)" jane@ooto.bouncy-sink.test "OOTO from the original recipient"
is "$(jget "$T/out.ndjson" 1 smtp.ooto.mx)" smtp.sparkpostmail.com "OOTO mx recorded"
like "$(jget "$T/out.ndjson" 1 smtp.ooto.reply)" "^250 " "OOTO reply recorded"
is "$(jget "$T/out.ndjson" 2 smtp.ooto.status)" sent "OOTO (Auto-Submitted: no, non-ASCII subject) sent"

e1=$(grep -l "jane@ooto" "$T/srv"/*.eml)
e2=$(grep -l "kim@ooto" "$T/srv"/*.eml)
run_check() {
    local line
    while IFS= read -r line; do
        case "$line" in
            PASS\ *) pass "$1: ${line#PASS }" ;;
            *) fail "$1: ${line#FAIL }" ;;
        esac
    done < <(/usr/bin/python3 "$HERE/check-ooto.py" "${@:2}" 2>&1)
}
run_check "ASCII" "$e1" "${e1%.eml}.json" "$T/rec1.json" "Your November newsletter" "<1@sender.test>" ""
run_check "UTF-8" "$e2" "${e2%.eml}.json" "$T/rec2.json" \
    "Café offers — 20 % off, plus a much longer subject line that needs folding" \
    "<2.abc@sender.test>" "<r1@sender.test> <r2@sender.test>"

# Refusals: nothing is sent, the reason is recorded.
rm -f "$T/srv"/*
{
    mkrec r1 ooto rcpt=x@ooto.bouncy-sink.test hdrs="Auto-Submitted: auto-generated"
    mkrec r2 ooto rcpt=x@ooto.bouncy-sink.test hdrs="auto-submitted:  Auto-Replied (vacation)"
    mkrec r3 ooto rcpt=x@ooto.bouncy-sink.test mail_from=
    mkrec r4 ooto rcpt=x@ooto.bouncy-sink.test mail_from='<>'
    mkrec r5 ooto rcpt=x@ooto.bouncy-sink.test mail_from=MAILER-DAEMON@sender.test
    mkrec r6 ooto rcpt=x@ooto.bouncy-sink.test mail_from=owner-news@sender.test
    mkrec r7 ooto rcpt=x@ooto.bouncy-sink.test mail_from=news-request@sender.test
    mkrec r8 ooto rcpt=x@ooto.bouncy-sink.test mail_from=b@other.test
    mkrec r9 ooto rcpt=x@ooto.bouncy-sink.test mail_from=b@nomx.test
    mkrec r10 ooto rcpt=x@ooto.bouncy-sink.test hdrs="List-Id: <news.sender.test>|List-Unsubscribe: <https://u.sender.test/x>"
} > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out2.ndjson"
ok $? "act-smtp exits 0 (refusals)"
is "$(wc -l < "$T/out2.ndjson")" 10 "every record comes out"
is "$(jget "$T/out2.ndjson" 1 smtp.ooto.status)" auto_submitted "auto-generated original: status"
is "$(jget "$T/out2.ndjson" 1 smtp.ooto.error)" "!OOTO not sent, original is auto-submitted (Auto-Submitted: auto-generated)" "auto-generated original: error text"
is "$(jget "$T/out2.ndjson" 2 smtp.ooto.status)" auto_submitted "auto-replied original (any case, comment): refused"
is "$(jget "$T/out2.ndjson" 3 smtp.ooto.status)" missing_return_path "empty envelope sender: status"
like "$(jget "$T/out2.ndjson" 3 smtp.ooto.error)" "^!OOTO not sent, envelope sender is empty" "empty envelope sender: error text"
is "$(jget "$T/out2.ndjson" 4 smtp.ooto.status)" missing_return_path "null sender <>: refused"
is "$(jget "$T/out2.ndjson" 5 smtp.ooto.status)" system_sender "MAILER-DAEMON: refused"
like "$(jget "$T/out2.ndjson" 5 smtp.ooto.error)" "^!OOTO not sent, envelope sender MAILER-DAEMON@sender.test is a mail system" "MAILER-DAEMON: error text"
is "$(jget "$T/out2.ndjson" 6 smtp.ooto.status)" system_sender "owner-*: refused"
is "$(jget "$T/out2.ndjson" 7 smtp.ooto.status)" system_sender "*-request: refused"
is "$(jget "$T/out2.ndjson" 8 smtp.ooto.status)" return_path_not_sparkpost "allow-list miss: status"
is "$(jget "$T/out2.ndjson" 8 smtp.ooto.error)" "!OOTO not sent, Return-Path not recognized as SparkPost" "allow-list miss: error text"
is "$(jget "$T/out2.ndjson" 9 smtp.ooto.status)" no_mx "no MX: status"
is "$(jget "$T/out2.ndjson" 9 smtp.ooto.error)" "!OOTO not sent, Return-Path b@nomx.test does not have a valid MX" "no MX: error text"
is "$(jget "$T/out2.ndjson" 10 smtp.ooto.status)" sent "list mail (List-Id, List-Unsubscribe) is answered: the sink plays ESP recipients"
is "$(ls "$T/srv"/*.eml 2>/dev/null | wc -l)" 1 "only the list mail was sent"

# Subject and Message-ID only from the record (ingest leaves out those the DKIM signature
# does not cover), never from the header block, which still has them (issue 14).
rm -f "$T/srv"/*
mkrec u1 ooto rcpt=lee@ooto.bouncy-sink.test | jq -c 'del(.headers.subject, .headers.message_id)' \
    > "$T/unsigned.json"
like "$(jq -r .header_block "$T/unsigned.json")" "Subject: Newsletter" "the header block has a Subject"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/unsigned.json" > "$T/unsigned.out"
is "$(jget "$T/unsigned.out" 1 smtp.ooto.status)" sent "no subject or message_id in the record: sent"
e3=$(grep -l "lee@ooto" "$T/srv"/*.eml)
hdr=$(sed '/^\r\{0,1\}$/q' "$e3")
unlike "$hdr" "Newsletter|<1@sender.test>" "neither the Subject nor the Message-ID of the header block is used"
like "$hdr" "^Subject: Out of Office:" "the reply's own Subject is there"

# Dry run: built, not sent.
rm -f "$T/srv"/*
"$BS_BIN/act-smtp" -c "$T/c.ini" --dry-run < "$T/rec1.json" > "$T/dry.ndjson"
is "$(jget "$T/dry.ndjson" 1 smtp.ooto.status)" dry_run "--dry-run: status dry_run"
is "$(ls "$T/srv"/*.eml 2>/dev/null | wc -l)" 0 "--dry-run: nothing sent"

# An SMTP error from the MX is recorded like OOB's.
start_smtpd "$T/srv2" --data-reply "554 5.7.1 Rejected: auto-replies not wanted"
write_conf "$T/c2.ini" "$SMTP_PORT"
"$BS_BIN/act-smtp" -c "$T/c2.ini" < "$T/rec1.json" > "$T/err.ndjson" 2>/dev/null
is "$(jget "$T/err.ndjson" 1 smtp.ooto.status)" smtp_error "5xx at DATA: status smtp_error"
like "$(jget "$T/err.ndjson" 1 smtp.ooto.error)" "^!OOTO endpoint returned error: .*554" "5xx at DATA: error text"
done_testing
