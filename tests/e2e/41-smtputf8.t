#!/usr/bin/env bash
# SMTPUTF8 end to end: a DKIM-signed message with a UTF-8 header field is sent with smtplib
# (MAIL ... SMTPUTF8) to a UTF-8 local part on the fbl stream; listen spools it, ingest
# records the UTF-8 envelope and headers (smtputf8), decide plans the complaint, act-smtp
# sends the ARF (Original-Rcpt-To keeps the UTF-8 address, the embedded header block is
# 8-bit UTF-8); a second UTF-8 recipient with +bs-550-5.1.1 is refused in-band, and report
# writes its log line in UTF-8 and counts both in /json.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
. "$ROOT/tests/act-smtp/common.sh"

"$BS_BIN/gen-corpus" -n 1 --seed 7 -f eml -o "$T/eml" --no-trace \
    --header 'X-Greeting: Grüße aus Köln' > /dev/null
ok $? "a signed message"
eml=$(ls "$T"/eml/*.eml | head -1)
port=$(free_port)
UPSTREAM=100 write_config "$T/l.ini" "$port" "InBand_Bounce_percent = 0"
start_listen "$T/l.ini"
smtp_py "$port" > "$T/out" 2>&1 <<PY
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('mta1.sender.test')
print('smtputf8' in s.esmtp_features)
msg = open('$eml', 'rb').read()
print('sent', s.sendmail('bounces@sender.test', ['δοκιμή@fbl.bouncy-sink.test',
                         'δοκιμή+bs-550-5.1.1@accept.bouncy-sink.test'], msg,
                         mail_options=['SMTPUTF8']))
s.quit()
PY
like "$(cat "$T/out")" "^True" "listen offers SMTPUTF8"
like "$(cat "$T/out")" "sent \{'δοκιμή\+bs-550-5.1.1@accept.bouncy-sink.test': \(550, " \
    "the UTF-8 recipient accepted, the other refused in-band as its tag asks"
kill "$LISTEN_PID"; wait "$LISTEN_PID" 2> /dev/null
spooled=$(cat "$T"/spool/*.msg)
like "$spooled" "for <δοκιμή@fbl.bouncy-sink.test>" "spool: the UTF-8 address in listen's Received field"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
{
    echo "[Verify]"
    echo "SPF = off"
    echo "DKIM_Key_File = $T/eml/dkim-keys.txt"
    echo "[Sink]"
    echo "User_Agents_File = $ROOT/data/reference/user-agents.csv"
    echo "Logfile = $T/sink.log"
} >> "$T/c.ini"
"$BS_BIN/ingest" -c "$T/c.ini" "$T"/spool/*.msg > "$T/rec.ndjson" 2> "$T/ingest.err"
ok $? "ingest"
is "$(jq -r '"\(.envelope.rcpt) \(.smtputf8) \(.dkim.result)"' "$T/rec.ndjson")" \
    "δοκιμή@fbl.bouncy-sink.test true pass" "record: UTF-8 envelope, smtputf8, DKIM pass"
like "$(jq -r .header_block "$T/rec.ndjson")" "X-Greeting: Grüße aus Köln" "record: the UTF-8 header field intact"
"$BS_BIN/decide" -c "$T/c.ini" --seed 1 < "$T/rec.ndjson" |
    "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/out.ndjson" 2> "$T/act.err"
is "$(jq -r 'select(.kind == "message") | "\(.plan.stream) \(.smtp.fbl.status) \(.smtp.fbl.to)"' "$T/out.ndjson")" \
    "fbl sent fbl@sparkpostmail.com" "the complaint sent to the allow-listed FBL address"
python3 - "$T/srv" > "$T/arf" 2>&1 <<'PY'
import email, email.policy, glob, sys
eml = sorted(glob.glob(sys.argv[1] + "/*.eml"))[0]
m = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
parts = list(m.iter_parts())
fr = parts[1].get_payload()[0]
print("rcpt", fr["Original-Rcpt-To"])
print("greeting", parts[2].get_content().split("X-Greeting: ")[1].splitlines()[0])
PY
ok $? "the ARF parses with Python's email package"
like "$(cat "$T/arf")" "rcpt <δοκιμή@fbl.bouncy-sink.test>" "ARF: Original-Rcpt-To keeps the UTF-8 address"
like "$(cat "$T/arf")" "greeting Grüße aus Köln" "ARF: the embedded UTF-8 header field"
cat "$T/records" "$T/out.ndjson" | "$BS_BIN/report" -c "$T/c.ini" --once > "$T/once.json" 2> /dev/null
like "$(cat "$T/sink.log")" ",FBL sent,to fbl@sparkpostmail.com via smtp.sparkpostmail.com" "log line: the complaint"
like "$(cat "$T/sink.log")" ",δοκιμή\+bs-550-5.1.1@accept.bouncy-sink.test,bounces@sender.test,InBand 550 5.1.1 .*,Override \+bs-550-5.1.1" \
    "log line: the UTF-8 recipient of listen's in-band record, as UTF-8"
is "$(jq '"\(.fbl_sent) \(.inband_5xx) \(.override_reply)"' -r "$T/once.json")" "1 1 1" \
    "/json: fbl_sent, inband_5xx, override_reply"
done_testing
