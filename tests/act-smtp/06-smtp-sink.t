#!/usr/bin/env bash
# act-smtp against Postfix's smtp-sink: reports dumped by an independent SMTP server,
# envelope and content checked; smtp-sink's hard and soft rejections recorded.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { fail "smtp-sink installed (postfix)"; done_testing; exit; }
user=(); [ "$(id -u)" = 0 ] && user=(-u root)

port=$(free_port)
mkdir -p "$T/dump"
bg "$SINK" "${user[@]}" -d "$T/dump/m." "127.0.0.1:$port" 100
wait_port "$port" || fail "smtp-sink listening"
write_conf "$T/c.ini" "$port"
for i in $(seq 1 10); do mkrec "f$i" fbl rcpt="f$i@fbl.bouncy-sink.test"; mkrec "o$i" oob rcpt="o$i@oob.bouncy-sink.test"; done > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out.ndjson"
ok $? "exit 0"
is "$(grep -c '"status": *"sent"' "$T/out.ndjson")" 20 "20 reports sent"
wait_for test "$(ls "$T/dump" | wc -l)" = 20
is "$(ls "$T/dump" | wc -l)" 20 "smtp-sink dumped 20 messages"
is "$(grep -l '^X-Mail-Args: <>$' "$T/dump"/* | wc -l)" 10 "10 sent with MAIL FROM:<> (the DSNs)"
is "$(grep -l '^X-Mail-Args: <postmaster@sink.example>' "$T/dump"/* | wc -l)" 10 "10 sent from postmaster@<Hostname> (the ARFs)"
is "$(grep -h '^X-Mail-Args: <>$' -A1 "$T/dump"/* | grep -c '^X-Rcpt-Args: <bounces@sender.test>$')" 10 "DSNs go to the envelope sender"
is "$(grep -l 'Content-Type: multipart/report; report-type=delivery-status' "$T/dump"/* | xargs grep -l '^X-Mail-Args: <>$' | wc -l)" 10 "the null-sender mails are the DSNs"

# smtp-sink writes lines with LF: turn one dump of each kind back into CRLF and check it.
undump() { python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
head, sep, rest = data.partition(b"(smtp-sink) with ")
rest = rest.split(b"\n", 2)[2]          # past the Received header
sys.stdout.buffer.write(rest.replace(b"\n", b"\r\n"))' "$1"; }
arf=$(grep -l 'Original-Rcpt-To: <f3@fbl' "$T/dump"/*)
dsn=$(grep -l 'Final-Recipient: rfc822; o7@oob' "$T/dump"/*)
undump "$arf" > "$T/arf.eml"; undump "$dsn" > "$T/dsn.eml"
sed -n 5p "$T/in.ndjson" > "$T/f3.json"; sed -n 14p "$T/in.ndjson" > "$T/o7.json"
check_report arf "$T/arf.eml" "$T/f3.json"
check_report dsn "$T/dsn.eml" "$T/o7.json"

# hard rejection of RCPT (5xx): final
port2=$(free_port)
bg "$SINK" "${user[@]}" -f RCPT -B "554 5.7.1 Service unavailable; Client host blocked" "127.0.0.1:$port2" 10
wait_port "$port2" || fail "smtp-sink (-f RCPT) listening"
write_conf "$T/h.ini" "$port2"
mkrec h1 fbl | "$BS_BIN/act-smtp" -c "$T/h.ini" > "$T/h.ndjson" 2>/dev/null
is "$(jget "$T/h.ndjson" 1 smtp.fbl.status)" smtp_error "smtp-sink hard reject: smtp_error"
is "$(jget "$T/h.ndjson" 1 smtp.fbl.error)" "!FBL endpoint returned error: 554 5.7.1 Service unavailable; Client host blocked" "smtp-sink hard reject: reply in the error"
is "$(jget "$T/h.ndjson" 1 smtp.fbl.attempts)" 1 "smtp-sink hard reject: one attempt"

# soft rejection of MAIL (4xx) for ever: retried, then given up
port3=$(free_port)
bg "$SINK" "${user[@]}" -r MAIL "127.0.0.1:$port3" 10
wait_port "$port3" || fail "smtp-sink (-r MAIL) listening"
write_conf "$T/s.ini" "$port3" "Retry_Max_Seconds = 2.5"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/s.ini"
mkrec s1 oob | "$BS_BIN/act-smtp" -c "$T/s.ini" > "$T/s.ndjson" 2>/dev/null
is "$(jget "$T/s.ndjson" 1 smtp.oob.status)" smtp_error "smtp-sink soft reject: smtp_error at the end"
like "$(jget "$T/s.ndjson" 1 smtp.oob.attempts)" "^[23]$" "smtp-sink soft reject: retried"
like "$(jget "$T/s.ndjson" 1 smtp.oob.error)" "^!OOB endpoint returned error: 450 4\.3\.0 " "smtp-sink soft reject: its 4xx reply recorded"
done_testing
