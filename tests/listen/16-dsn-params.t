#!/usr/bin/env bash
# listen: the RFC 3461 DSN extension and RFC 6531 SMTPUTF8. EHLO advertises DSN and
# SMTPUTF8; MAIL takes RET, ENVID, SMTPUTF8, RCPT takes NOTIFY and ORCPT (xtext decoded,
# bounded, each once); the values reach the spool file above listen's Received field, and
# ingest's record (dsn, smtputf8), per recipient. A UTF-8 local part needs SMTPUTF8
# (553 5.6.7 otherwise). The client is Python's smtplib (sendmail's mail_options and
# rcpt_options; Debian 12's swaks predates its --dsn-* options).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
UPSTREAM=100 write_config "$T/c.ini" "$port" "InBand_Bounce_percent = 0"
start_listen "$T/c.ini"

smtp_py "$port" > "$T/out0" 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
code, ext = s.ehlo('client.test')
print('ehlo', ext)
s.set_debuglevel(1)
print('sent', s.sendmail('sender@sender.test', ['one@accept.bouncy-sink.test'],
                         b'Subject: dsn\r\n\r\nhi\r\n',
                         mail_options=['RET=HDRS', 'ENVID=QQ+2B1+20+3Dx'],
                         rcpt_options=['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;orig@sender.test']))
s.quit()
PY
out=$(cat "$T/out0")
like "$out" 'ehlo .*\\nDSN\\n' "EHLO advertises DSN"
like "$out" 'ehlo .*\\nSMTPUTF8\\n' "EHLO advertises SMTPUTF8"
like "$out" "send: 'mail FROM:<sender@sender.test> size=[0-9]+ RET=HDRS ENVID=QQ\+2B1\+20\+3Dx" "smtplib sent RET and ENVID"
like "$out" "send: 'rcpt TO:<one@accept.bouncy-sink.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@sender.test" \
    "smtplib sent NOTIFY and ORCPT"
like "$out" "sent \{\}" "message accepted for its recipient"

smtp_py "$port" > "$T/out" 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
s.command_encoding = 'utf-8'
s.ehlo('client.test')
print('mail-utf8', s.docmd('MAIL FROM:<expéditeur@sender.test> SMTPUTF8 ENVID=e2'))
print('rcpt-utf8', s.docmd('RCPT TO:<δοκιμή@accept.bouncy-sink.test> NOTIFY=NEVER'))
print('rcpt-plain', s.docmd('RCPT TO:<two@accept.bouncy-sink.test>'))
print('rcpt-never-mixed', s.docmd('RCPT TO:<x@accept.bouncy-sink.test> NOTIFY=NEVER,SUCCESS'))
print('rcpt-twice', s.docmd('RCPT TO:<x@accept.bouncy-sink.test> NOTIFY=DELAY NOTIFY=DELAY'))
print('rcpt-orcpt-bad', s.docmd('RCPT TO:<x@accept.bouncy-sink.test> ORCPT=rfc822;a+0Db'))
print('rcpt-unknown', s.docmd('RCPT TO:<x@accept.bouncy-sink.test> FOO=1'))
print('rcpt-ret', s.docmd('RCPT TO:<x@accept.bouncy-sink.test> RET=FULL'))
s.docmd('DATA')
s.send('Subject: héllo\r\nFrom: <expéditeur@sender.test>\r\n\r\nhi\r\n.\r\n'.encode())
print('end', s.getreply())
print('mail-noutf8', s.docmd('MAIL FROM:<plain@sender.test>'))
print('rcpt-noutf8', s.docmd('RCPT TO:<δοκιμή@accept.bouncy-sink.test>'))
s.docmd('RSET')
print('mail-utf8-nosmtputf8', s.docmd('MAIL FROM:<expéditeur@sender.test>'))
print('mail-envid-long', s.docmd('MAIL FROM:<a@sender.test> ENVID=' + 'x' * 101))
print('mail-ret-bad', s.docmd('MAIL FROM:<a@sender.test> RET=ALL'))
print('mail-notify', s.docmd('MAIL FROM:<a@sender.test> NOTIFY=NEVER'))
s.docmd('QUIT')
s = smtplib.SMTP('127.0.0.1', port)
s.command_encoding = 'latin-1'
s.ehlo('client.test')
print('mail-bad-utf8', s.docmd(b'MAIL FROM:<a\xff@sender.test> SMTPUTF8'.decode('latin-1')))
s.docmd('QUIT')
PY
out=$(cat "$T/out")
like "$out" "mail-utf8 \(250, " "MAIL FROM a UTF-8 local part with SMTPUTF8: 250"
like "$out" "rcpt-utf8 \(250, " "RCPT TO a UTF-8 local part in an SMTPUTF8 transaction: 250"
like "$out" "rcpt-plain \(250, " "RCPT without parameters: 250"
like "$out" "rcpt-never-mixed \(501, b'5.5.4 Syntax: NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY'\)" \
    "NOTIFY=NEVER with another word: 501 5.5.4"
like "$out" "rcpt-twice \(501, b'5.5.4 Syntax: NOTIFY given twice'\)" "NOTIFY twice: 501"
like "$out" "rcpt-orcpt-bad \(501, b'5.5.4 Syntax: ORCPT address is not xtext of printable characters'\)" \
    "ORCPT decoding to a CR: 501"
like "$out" "rcpt-unknown \(555, b'5.5.4 Unsupported option: FOO=1'\)" "unknown RCPT parameter: 555"
like "$out" "rcpt-ret \(555, b'5.5.4 Unsupported option: RET=FULL'\)" "RET is a MAIL parameter: 555 on RCPT"
like "$out" "end \(250, b'2.0.0 Ok: queued as " "UTF-8 message queued"
like "$out" "rcpt-noutf8 \(553, b'5.6.7 Non-ASCII address without SMTPUTF8'\)" \
    "UTF-8 recipient without SMTPUTF8: 553 5.6.7"
like "$out" "mail-utf8-nosmtputf8 \(553, b'5.6.7 Non-ASCII address without SMTPUTF8'\)" \
    "UTF-8 sender without SMTPUTF8: 553 5.6.7"
like "$out" "mail-envid-long \(501, b'5.5.4 Syntax: ENVID=xtext of 1 to 100 characters'\)" \
    "ENVID over 100 characters: 501"
like "$out" "mail-ret-bad \(501, b'5.5.4 Syntax: RET=FULL or RET=HDRS'\)" "RET=ALL: 501"
like "$out" "mail-notify \(555, " "NOTIFY is an RCPT parameter: 555 on MAIL"
like "$out" "mail-bad-utf8 \(501, b'5.1.7 Bad sender address syntax: bad UTF-8 in local part'\)" \
    "a local part that is not UTF-8: 501 5.1.7"

# the spool files: the parameters above listen's Received field, per recipient
all=$(cat "$T"/spool/*.msg)
like "$all" "X-Bouncy-Sink-DSN: RET=HDRS ENVID=QQ\+2B1\+20\+3Dx NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@sender.test
Received: from client.test" "swaks' parameters in the spool file, above Received"
like "$all" "X-Bouncy-Sink-DSN: ENVID=e2 NOTIFY=NEVER SMTPUTF8
Received: from client.test \(127.0.0.1\) by sink.test id [0-9a-f]+ for <δοκιμή@accept.bouncy-sink.test>" \
    "UTF-8 recipient: its own NOTIFY, the transaction's ENVID and SMTPUTF8"
like "$all" "X-Bouncy-Sink-DSN: ENVID=e2 SMTPUTF8
Received: from client.test \(127.0.0.1\) by sink.test id [0-9a-f]+ for <two@accept" \
    "second recipient: no NOTIFY of the first"

"$BS_BIN/ingest" -c "$T/c.ini" "$T"/spool/*.msg > "$T/recs" 2> "$T/ingest.err"
ok $? "ingest reads the spool files"
recs=$(jq -c '[.envelope.rcpt, .envelope.mail_from, .dsn, .smtputf8]' "$T/recs" | sort)
like "$recs" '\["one@accept.bouncy-sink.test","sender@sender.test",\{"notify":\["SUCCESS","FAILURE"\],"ret":"HDRS","envid":"QQ\+1 =x","orcpt":"rfc822;orig@sender.test"\},null\]' \
    "record: dsn with the decoded ENVID and ORCPT"
like "$recs" '\["δοκιμή@accept.bouncy-sink.test","expéditeur@sender.test",\{"notify":\["NEVER"\],"envid":"e2"\},true\]' \
    "record: UTF-8 envelope, NOTIFY=NEVER, smtputf8"
like "$recs" '\["two@accept.bouncy-sink.test","expéditeur@sender.test",\{"envid":"e2"\},true\]' \
    "record: second recipient"
subject=$(jq -r 'select(.envelope.rcpt == "two@accept.bouncy-sink.test") | .headers.subject' "$T/recs")
is "$subject" "héllo" "record: the UTF-8 Subject"
done_testing
