#!/usr/bin/env bash
# listen: address syntax (RFC 5321 4.1.2) and SIZE. Quoted-string local parts ("a b"@x)
# are accepted and carried downstream intact: the spool file (name, Return-Path,
# Received), ingest's envelope, listen's records and report's log line. A domain with an
# empty label (user@x..sink) gets 501 with the reason; an overflowing SIZE= is too big
# (552 5.3.4), not bad syntax.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
UPSTREAM=100 write_config "$T/c.ini" "$port" "InBand_Bounce_percent = 0"
start_listen "$T/c.ini"

smtp_py "$port" > "$T/out" 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.test')
print('mail-quoted', s.docmd('MAIL FROM:<"j. doe"@sender.test>'))
print('rcpt-quoted', s.docmd('RCPT TO:<"a b"@accept.bouncy-sink.test>'))
print('rcpt-pair', s.docmd(r'RCPT TO:<"q\"x@y"@oob.bouncy-sink.test>'))
print('rcpt-blackhole', s.docmd('RCPT TO:<"c d"@bouncy-sink.test>'))
print('rcpt-comma', s.docmd('RCPT TO:<"a,b"@accept.bouncy-sink.test>'))
print('rcpt-empty-label', s.docmd('RCPT TO:<user@x..accept.bouncy-sink.test>'))
print('rcpt-leading-dot', s.docmd('RCPT TO:<user@.accept.bouncy-sink.test>'))
print('rcpt-double-trailing', s.docmd('RCPT TO:<user@accept.bouncy-sink.test..>'))
print('rcpt-sink-empty-label', s.docmd('RCPT TO:<user@accept..bouncy-sink.test>'))
s.docmd('DATA')
s.send(b'Subject: quoted\r\n\r\nhi\r\n.\r\n')
print('end', s.getreply())
print('mail-empty-label', s.docmd('MAIL FROM:<a@sender..test>'))
print('size-overflow', s.docmd('MAIL FROM:<a@sender.test> SIZE=99999999999999999999999'))
print('size-bad', s.docmd('MAIL FROM:<a@sender.test> SIZE=12x'))
print('size-ok', s.docmd('MAIL FROM:<a@sender.test> SIZE=1000'))
s.docmd('QUIT')
PY
out=$(cat "$T/out")
like "$out" "mail-quoted \(250, " "MAIL FROM:<\"j. doe\"@sender.test>: 250"
like "$out" "rcpt-quoted \(250, " "RCPT TO:<\"a b\"@accept...>: 250"
like "$out" "rcpt-pair \(250, " "quoted-pair in a quoted local part: 250"
like "$out" "rcpt-blackhole \(250, " "quoted local part on the mixed stream: 250"
like "$out" "rcpt-comma \(501, b'5.1.3 Bad recipient address syntax: quoted local part with , < > \( or \) not supported'\)" \
    "a quoted local part the log cannot carry: 501 5.1.3 with the reason"
for k in rcpt-empty-label rcpt-leading-dot rcpt-double-trailing rcpt-sink-empty-label; do
    like "$out" "$k \(501, b'5.1.3 Bad recipient address syntax: empty label in domain'\)" \
        "$k: 501 5.1.3 empty label in domain"
done
like "$out" "end \(250, b'2.0.0 Ok: queued as " "message queued"
like "$out" "mail-empty-label \(501, b'5.1.7 Bad sender address syntax: empty label in domain'\)" \
    "sender with an empty domain label: 501 5.1.7"
like "$out" "size-overflow \(552, b'5.3.4 " "SIZE=99999999999999999999999: 552 5.3.4"
like "$out" "size-bad \(501, b'5.5.4 Syntax: SIZE=number'\)" "SIZE=12x: 501 5.5.4"
like "$out" "size-ok \(250, " "SIZE=1000: 250"

# the spool files: named by id only, envelope as given
mapfile -t files < <(ls "$T/spool" | sort)
is "${#files[@]}" 2 "two spool files (two spooled recipients)"
like "$(printf '%s\n' "${files[@]}")" '^[0-9a-f]{16}\.msg
[0-9a-f]{16}\.msg$' "spool file names are ids, not addresses"
all=$(cat "$T"/spool/*.msg)
like "$all" 'Return-Path: <"j\. doe"@sender\.test>' "Return-Path keeps the quoted sender"
like "$all" ' for <"a b"@accept\.bouncy-sink\.test>; ' "Received names the quoted recipient"
like "$all" ' for <"q\\"x@y"@oob\.bouncy-sink\.test>; ' "Received keeps the quoted-pair"

# ingest reads the envelope back intact
printf '[Verify]\nSPF = off\nDKIM = off\n' > "$T/ingest.ini"
"$BS_BIN/ingest" -c "$T/ingest.ini" "$T"/spool/*.msg > "$T/ingested" 2> "$T/ingest.err"
ok $? "ingest reads the spool files"
is "$(jq -r '.envelope.rcpt' "$T/ingested" | sort | tr '\n' '|')" \
    '"a b"@accept.bouncy-sink.test|"q\"x@y"@oob.bouncy-sink.test|' "ingest: rcpt of each file intact"
is "$(jq -r '.envelope.mail_from' "$T/ingested" | sort -u)" '"j. doe"@sender.test' "ingest: mail_from intact"

# the blackhole record and report's log line
wait_for grep -q '"kind":"blackhole"' "$T/records"
is "$(jq -r 'select(.kind=="blackhole") | .envelope.rcpt' "$T/records")" '"c d"@bouncy-sink.test' \
    "blackhole record carries the quoted recipient"
printf '[Sink]\nLogfile = %s/sink.log\n[Report]\nState_File = %s/state.json\n' "$T" "$T" > "$T/report.ini"
"$BS_BIN/report" -c "$T/report.ini" --once < "$T/records" > /dev/null 2> "$T/report.err"
ok $? "report takes the records"
like "$(grep Blackhole "$T/sink.log")" ',[0-9a-f]{16},"c d"@bouncy-sink\.test,"j\. doe"@sender\.test,Blackhole$' \
    "log line: the quoted recipient and sender in their own fields"
done_testing
