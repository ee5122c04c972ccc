#!/usr/bin/env bash
# act-smtp: the sender's RFC 3461 parameters (record field dsn, from listen) are honoured.
# A failure DSN carries Original-Envelope-Id (ENVID) and Original-Recipient (ORCPT);
# NOTIFY=NEVER, or a NOTIFY without FAILURE, suppresses it (status not_requested, logged);
# NOTIFY=SUCCESS gets a "delivered" DSN (Action: delivered, Status 2.0.0) for a message
# the gate passed and the plan does not bounce, none when the gate refused it; RET=FULL
# returns the whole message (message/rfc822), RET=HDRS or a body over the bound the header
# block (text/rfc822-headers). Every DSN is parsed with Python's email package.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
{
    mkrec f1 oob rcpt=f1@oob.bouncy-sink.test envid='QQ+1 =x' orcpt='rfc822;orig@sender.test' \
        notify=FAILURE,DELAY ret=HDRS
    mkrec f2 oob rcpt=f2@oob.bouncy-sink.test notify=NEVER
    mkrec f3 oob rcpt=f3@oob.bouncy-sink.test notify=SUCCESS
    mkrec f4 oob rcpt=f4@oob.bouncy-sink.test ret=FULL body='Hello|full body line'
    mkrec s1 "" rcpt=s1@accept.bouncy-sink.test notify=SUCCESS,FAILURE envid=E-s1 \
        orcpt='rfc822;s1@orig.test'
    mkrec s2 "" rcpt=s2@accept.bouncy-sink.test notify=SUCCESS skip='!DKIM fail: no signature'
    mkrec s3 "" rcpt=s3@accept.bouncy-sink.test notify=FAILURE
    mkrec s4 open rcpt=s4@openclick.bouncy-sink.test notify=SUCCESS ret=FULL body='b'
    mkrec p1 oob rcpt=p1@oob.bouncy-sink.test
} > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "act-smtp exits 0"
st() { jq -r --arg id "$1" "select(.id == \$id) | $2" "$T/out.ndjson"; }
is "$(st f1 .smtp.oob.status)" sent "NOTIFY=FAILURE,DELAY: failure DSN sent"
is "$(st f2 .smtp.oob.status)" not_requested "NOTIFY=NEVER: no DSN (not_requested)"
is "$(st f2 .smtp.oob.error)" "!OOB not sent, the sender asked for no DSN (NOTIFY=NEVER)" \
    "NOTIFY=NEVER: the log text"
is "$(st f3 .smtp.oob.status)" not_requested "NOTIFY=SUCCESS on a bounce: no failure DSN"
is "$(st f3 .smtp.delivered)" null "NOTIFY=SUCCESS on a bounce: no delivered DSN either"
is "$(st f4 .smtp.oob.status)" sent "RET=FULL: DSN sent"
is "$(st s1 .smtp.delivered.status)" sent "NOTIFY=SUCCESS on an accepted message: delivered DSN sent"
is "$(st s1 .smtp.delivered.to)" bounces@sender.test "delivered DSN to the Return-Path"
is "$(st s2 .smtp)" null "NOTIFY=SUCCESS but the gate refused (plan.skip): nothing sent"
is "$(st s3 .smtp)" null "NOTIFY=FAILURE on an accepted message: nothing sent"
is "$(st s4 .smtp.delivered.status)" sent "NOTIFY=SUCCESS on an opened message: delivered DSN"
is "$(st p1 .smtp.oob.status)" sent "no NOTIFY: the failure DSN as before"
is "$(ls "$T/srv"/*.eml | wc -l)" 5 "five messages reached the server"

python3 - "$T/srv" > "$T/check" 2>&1 <<'PY'
import email, email.policy, glob, json, sys
for eml in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    env = json.load(open(eml[:-4] + ".json"))
    m = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
    parts = list(m.iter_parts())
    status = parts[1].get_payload()  # message/delivery-status: [per-message, per-recipient]
    permsg, perrcpt = status[0], status[1]
    final = perrcpt["Final-Recipient"].split(";", 1)[1].strip()
    key = final.split("@")[0]
    out = {"mail_from": env["mail_from"], "subject": str(m["Subject"]),
           "type": m.get_content_type(), "report_type": m.get_param("report-type"),
           "envid": permsg.get("Original-Envelope-Id"), "orcpt": perrcpt.get("Original-Recipient"),
           "action": perrcpt["Action"], "status": perrcpt["Status"],
           "returned": parts[2].get_content_type()}
    if parts[2].get_content_type() == "message/rfc822":
        inner = parts[2].get_payload()[0]
        out["inner_subject"] = str(inner["Subject"])
        out["inner_body"] = inner.get_payload()
    print(key, json.dumps(out, sort_keys=True))
PY
ok $? "every DSN parses with Python's email package"
c=$(cat "$T/check")
f1=$(grep '^f1 ' <<< "$c")
like "$f1" '"envid": "QQ\+1 =x"' "failure DSN: Original-Envelope-Id is the ENVID"
like "$f1" '"orcpt": "rfc822; orig@sender.test"' "failure DSN: Original-Recipient is the ORCPT"
like "$f1" '"action": "failed"' "failure DSN: Action failed"
like "$f1" '"returned": "text/rfc822-headers"' "RET=HDRS: the headers returned"
like "$f1" '"mail_from": "<>"' "failure DSN sent with MAIL FROM:<>"
f4=$(grep '^f4 ' <<< "$c")
like "$f4" '"returned": "message/rfc822"' "RET=FULL: the message returned"
like "$f4" '"inner_body": "Hello\\nfull body line\\n"' "RET=FULL: the body returned"
like "$f4" '"inner_subject": "Newsletter"' "RET=FULL: with its headers"
like "$f4" '"envid": null' "no ENVID given: no Original-Envelope-Id"
s1=$(grep '^s1 ' <<< "$c")
like "$s1" '"action": "delivered"' "delivered DSN: Action delivered"
like "$s1" '"status": "2.0.0"' "delivered DSN: Status 2.0.0"
like "$s1" '"envid": "E-s1"' "delivered DSN: Original-Envelope-Id"
like "$s1" '"orcpt": "rfc822; s1@orig.test"' "delivered DSN: Original-Recipient"
like "$s1" '"report_type": "delivery-status"' "delivered DSN: multipart/report delivery-status"
like "$s1" '"subject": "Successful Mail Delivery Report"' "delivered DSN: its Subject"
like "$s1" '"mail_from": "<>"' "delivered DSN sent with MAIL FROM:<>"
s4=$(grep '^s4 ' <<< "$c")
like "$s4" '"returned": "message/rfc822"' "delivered DSN with RET=FULL returns the message"
p1=$(grep '^p1 ' <<< "$c")
like "$p1" '"orcpt": null' "no ORCPT given: no Original-Recipient"


# report: the log lines and counters (oob_not_requested, delivered_sent)
printf '[Sink]\nLogfile = %s/c.log\n' "$T" > "$T/r.ini"
"$BS_BIN/report" -c "$T/r.ini" --once < "$T/out.ndjson" > "$T/once.json" 2> "$T/report.err"
ok $? "report reads act-smtp's records"
log=$(cat "$T/c.log")
like "$log" ",f2,.*!OOB not sent, the sender asked for no DSN \(NOTIFY=NEVER\)" "log: NOTIFY=NEVER"
like "$log" ",s1,.*Accept,DELIVERED DSN sent,to bounces@sender.test via smtp.sparkpostmail.com" \
    "log: the delivered DSN"
is "$(jq .oob_not_requested "$T/once.json")" 2 "/json: oob_not_requested"
is "$(jq .delivered_sent "$T/once.json")" 2 "/json: delivered_sent"
is "$(jq .oob_sent "$T/once.json")" 3 "/json: oob_sent"
done_testing
