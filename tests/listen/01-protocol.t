#!/usr/bin/env bash
# listen: ESMTP with real clients (swaks, smtplib): extensions, PIPELINING, STARTTLS,
# BDAT, the reply codes, relay refusal, spool file format, in-band replies and records.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
UPSTREAM=100 write_config "$T/c.ini" "$port" "TLS_Certificate = $T/cert.pem" "TLS_Key = $T/key.pem" \
    "Seed = 7" "Max_Recipients = 100" "Max_Message_Size = 20000" "InBand_Bounce_percent = 100"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj "/CN=sink.test" > /dev/null 2>&1
ok $? "self-signed certificate made"
start_listen "$T/c.ini"

# --- swaks: plain, pipelining, TLS
out=$(swaks -s 127.0.0.1 -p "$port" -h mta.sender.test -f bounce@sender.test \
    -t user@accept.bouncy-sink.test --body 'hello plain' 2>&1)
like "$out" '<-  250 2.0.0 Ok: queued as [0-9a-f]{16}' "swaks plain: queued"
like "$out" '250-PIPELINING' "EHLO offers PIPELINING"
like "$out" '250-SIZE 20000' "EHLO offers SIZE with the limit"
like "$out" '250-8BITMIME' "EHLO offers 8BITMIME"
like "$out" '250-ENHANCEDSTATUSCODES' "EHLO offers ENHANCEDSTATUSCODES"
like "$out" '250-STARTTLS' "EHLO offers STARTTLS (configured)"
like "$out" '250 CHUNKING' "EHLO offers CHUNKING"
unlike "$out" 'AUTH' "no AUTH offered"

out=$(swaks -s 127.0.0.1 -p "$port" --pipeline -f a@sender.test \
    -t p1@oob.bouncy-sink.test,p2@fbl.bouncy-sink.test --body 'pipelined' 2>&1)
like "$out" 'queued as' "swaks --pipeline: queued"
like "$out" ' -> MAIL FROM:<a@sender.test>
 -> RCPT TO:<p1@oob.bouncy-sink.test>
 -> RCPT TO:<p2@fbl.bouncy-sink.test>
 -> DATA' "commands were sent as one pipelined group"

out=$(swaks -s 127.0.0.1 -p "$port" --tls -f a@sender.test -t t@openclick.bouncy-sink.test \
    --body 'over tls' 2>&1)
like "$out" '220 2.0.0 Ready to start TLS' "STARTTLS accepted"
like "$out" 'TLS started with cipher' "TLS handshake done"
like "$out" '~> EHLO' "EHLO sent again inside TLS"
like "$out" '<~  250 2.0.0 Ok: queued as' "message queued over TLS"
unlike "$(printf '%s' "$out" | sed -n '/TLS started/,$p')" '250-STARTTLS' \
    "STARTTLS no longer offered after TLS started"

# --- smtplib: reply codes
smtp_py "$port" > "$T/codes" 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
print('mail-before-helo', s.docmd('MAIL FROM:<a@b.test>'))
s.ehlo('client.test')
print('rcpt-before-mail', s.docmd('RCPT TO:<a@accept.bouncy-sink.test>'))
print('unknown', s.docmd('FROB'))
print('syntax', s.docmd('MAIL', 'TO:<a@b.test>'))
print('longline', s.docmd('NOOP', 'x' * 1000))
print('vrfy', s.docmd('VRFY', 'u'))
print('noop', s.docmd('NOOP'))
print('help', s.docmd('HELP'))
print('size-declared', s.docmd('MAIL FROM:<a@b.test> SIZE=999999'))
print('mail', s.docmd('MAIL FROM:<a@sender.test>'))
print('nested', s.docmd('MAIL FROM:<a@sender.test>'))
print('data-no-rcpt', s.docmd('DATA'))
print('relay', s.docmd('RCPT TO:<victim@gmail.com>'))
print('relay-lookalike', s.docmd('RCPT TO:<victim@evilbouncy-sink.test>'))
print('inband-550', s.docmd('RCPT TO:<550-5.1.1@inband.bouncy-sink.test>'))
print('inband-452', s.docmd('RCPT TO:<452@inband.bouncy-sink.test>'))
print('inband-any', s.docmd('RCPT TO:<someone@inband.bouncy-sink.test>'))
print('mixed100', s.docmd('RCPT TO:<someone@bouncy-sink.test>'))
for i in range(100):
    s.docmd('RCPT TO:<r%d@accept.bouncy-sink.test>' % i)
print('too-many-rcpt', s.docmd('RCPT TO:<last@accept.bouncy-sink.test>'))
print('rset', s.docmd('RSET'))
s.docmd('MAIL FROM:<a@sender.test>')
s.docmd('RCPT TO:<big@accept.bouncy-sink.test>')
s.docmd('DATA')
s.send(b'Subject: big\r\n\r\n' + b'0123456789' * 3000 + b'\r\n.\r\n')
print('too-big', s.getreply())
print('after-big', s.docmd('NOOP'))
print('quit', s.docmd('QUIT'))
PY
codes=$(cat "$T/codes")
like "$codes" "mail-before-helo \(503, b'5.5.1 " "MAIL before EHLO: 503 5.5.1"
like "$codes" "rcpt-before-mail \(503, b'5.5.1 " "RCPT before MAIL: 503 5.5.1"
like "$codes" "unknown \(500, b'5.5.1 " "unknown command: 500 5.5.1"
like "$codes" "syntax \(501, b'5.5.4 " "syntax error: 501 5.5.4"
like "$codes" "longline \(500, b'5.5.2 " "line over 1000 octets: 500 5.5.2"
like "$codes" "vrfy \(252, " "VRFY: 252"
like "$codes" "noop \(250, b'2.0.0 Ok'\)" "NOOP: 250"
like "$codes" "help \(214, " "HELP: 214"
like "$codes" "size-declared \(552, b'5.3.4 " "declared SIZE over the limit: 552 5.3.4"
like "$codes" "nested \(503, b'5.5.1 " "nested MAIL: 503 5.5.1"
like "$codes" "data-no-rcpt \(554, b'5.5.1 " "DATA without recipients: 554 5.5.1"
like "$codes" "relay \(550, b'5.7.1 <victim@gmail.com>: Relaying denied'\)" "relay refused: 550 5.7.1"
like "$codes" "relay-lookalike \(550, b'5.7.1 " "look-alike domain refused"
like "$codes" "inband-550 \(550, b'5.1.1 " "550-5.1.1@inband: a 550 5.1.1 table reply"
like "$codes" "inband-452 \(452, b'4\.[0-9.]+ " "452@inband: a 452 table reply"
like "$codes" "inband-any \((4|5)[0-9][0-9], " "any@inband: an in-band reply"
like "$codes" "mixed100 \((4|5)[0-9][0-9], " "mixed stream with 100% in-band share: in-band reply"
like "$codes" "too-many-rcpt \(452, b'4.5.3 " "recipient 101 of 100: 452 4.5.3"
like "$codes" "too-big \(552, b'5.3.4 " "message over Max_Message_Size: 552 5.3.4"
like "$codes" "after-big \(250, " "session goes on after 552"
like "$codes" "quit \(221, " "QUIT: 221"

# the table reply for 452 is one of the file's 452 lines, placeholders filled
rep=$(sed -n "s/^inband-452 (452, b'\(.*\)')$/\1/p" "$T/codes")
pattern=$(grep '^random_bounce:452 ' "$REF/inband-replies.dat" | sed 's/^random_bounce:452 //' |
    sed 's/[][\.*^$/?+(){}|]/\\&/g; s/<[A-Z_]*>/.*/g' | paste -sd'|')
like "$rep" "^($pattern)\$" "452 reply comes from the table"
unlike "$codes" '<(RCPT_USER|RCPT_DOMAIN|SENDER_IPADDRESS|ORIG|HEXDUMP|OTHER_IPADDRESS|OTHER_USER|RCPT_SERVER)>' \
    "no placeholder left unfilled"

# --- too many errors
out=$(smtp_py "$port" 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
r = None
for i in range(12):
    r = s.docmd('BOGUS%d' % i)
    if r[0] == 421:
        break
print('last', i, r)
try:
    print('after', s.docmd('NOOP'))
except smtplib.SMTPServerDisconnected:
    print('disconnected')
PY
)
like "$out" "last 10 \(421, b'4.7.0 sink.test Error: too many errors'\)" "10th error answered, then 421 4.7.0"
like "$out" "disconnected" "421 closes the connection"

# --- BDAT (CHUNKING) and the spool file format, exact
rm -f "$T"/spool/*.msg
smtp_py "$port" > "$T/bdat" 2>&1 <<'PY'
s = socket.create_connection(('127.0.0.1', port))
f = s.makefile('rb')
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if l[3:4] != '-':
            return ' | '.join(lines)
reply()
s.sendall(b'EHLO mta.sender.test\r\nMAIL FROM:<b@sender.test> BODY=8BITMIME\r\nRCPT TO:<chunk@accept.bouncy-sink.test>\r\n')
reply(); print('mail', reply()); print('rcpt', reply())
s.sendall(b'BDAT 17\r\nSubject: bdat\r\n\r\n')
print('chunk1', reply())
body = b'line1\r\n.dot stays\r\n\x00nul \xff\xfe\r\n'
s.sendall(b'BDAT %d LAST\r\n' % len(body) + body)
print('last', reply())
s.sendall(b'QUIT\r\n'); print('quit', reply())
PY
like "$(cat "$T/bdat")" 'chunk1 250 2.0.0 Ok: 17 octets received' "BDAT chunk acknowledged"
like "$(cat "$T/bdat")" 'last 250 2.0.0 Ok: queued as' "BDAT LAST queued"
f=$(ls "$T"/spool/*.msg 2>/dev/null | head -1)
id=$(basename "$f" .msg)
like "$id" '^[0-9a-f]{16}$' "spool file named <16 hex>.msg"
printf 'Subject: bdat\r\n\r\nline1\r\n.dot stays\r\n\000nul \377\376\r\n' > "$T/want.body"
cmp <(tail -c +"$(( $(head -3 "$f" | wc -c) + 1 ))" "$f") "$T/want.body" > /dev/null
ok $? "BDAT body stored byte for byte (no unstuffing, NUL and 8-bit kept)"
l1=$(sed -n 1p "$f"); lr=$(sed -n 2p "$f"); l2=$(sed -n 3p "$f")
is "$l1" $'Return-Path: <b@sender.test>\r' "Return-Path line exact"
is "$lr" $'X-Bouncy-Sink-Route: accept\r' "routing decision above Received (bouncy-sink(7))"
like "$l2" "^Received: from mta\.sender\.test \(127\.0\.0\.1\) by sink\.test id $id for <chunk@accept\.bouncy-sink\.test>; (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4} \(envelope-from <b@sender\.test>\)"$'\r$' \
    "Received line exact"

# --- DATA: dot-unstuffing, a bare LF stored as CRLF (Bare_Newline = normalize), CRLF kept
rm -f "$T"/spool/*.msg
smtp_py "$port" > "$T/data" 2>&1 <<'PY'
s = socket.create_connection(('127.0.0.1', port))
f = s.makefile('rb')
def reply():
    while True:
        l = f.readline().decode()
        if l[3:4] != '-':
            return l.strip()
reply()
s.sendall(b'HELO h.test\r\nMAIL FROM:<>\r\nRCPT TO:<d@openclick.bouncy-sink.test>\r\nDATA\r\n')
reply(); reply(); reply(); print('data', reply())
s.sendall(b'Subject: d\r\n\r\n..stuffed\r\n..\r\nnot end\r\nbare lf\nend\r\n.\r\n')
print('end', reply())
s.sendall(b'QUIT\r\n'); reply()
PY
like "$(cat "$T/data")" 'data 354' "DATA: 354"
f=$(ls "$T"/spool/*.msg 2>/dev/null | head -1)
printf 'Subject: d\r\n\r\n.stuffed\r\n.\r\nnot end\r\nbare lf\r\nend\r\n' > "$T/want.body"
cmp <(tail -c +"$(( $(head -3 "$f" | wc -c) + 1 ))" "$f") "$T/want.body" > /dev/null
ok $? "DATA dot-unstuffed, bare LF stored as CRLF, terminator not stored"
is "$(sed -n 1p "$f")" $'Return-Path: <>\r' "null sender kept as <>"
is "$(ls -A "$T/spool" | grep -vc '\.msg$')" 0 "no temporary file left in the spool"

# --- records: one per in-band reply, fields per bouncy-sink-records(5)
sleep 0.3
python3 - "$T/records" > "$T/recs" 2>&1 <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r['v'], r['kind'], r['stream'], r['envelope']['rcpt'], r['envelope']['client_ip'],
          r['envelope']['helo'], r['envelope']['mail_from'], r['reply']['code'],
          r['reply']['enhanced'], len(r['id']), 'ts' in r)
PY
recs=$(cat "$T/recs")
like "$recs" '^1 inband inband 550-5\.1\.1@inband\.bouncy-sink\.test 127\.0\.0\.1 client\.test a@sender\.test 550 5\.1\.1 16 True$' \
    "inband record for 550-5.1.1@inband with envelope and reply"
like "$recs" '1 inband mixed someone@bouncy-sink\.test ' "mixed-stream in-band record has stream mixed"
is "$(wc -l < "$T/records")" 4 "one record per in-band recipient (4)"

# --- garbage: random bytes (NUL, 8-bit, bare CR/LF, long lines) do not hurt the server
out=$(smtp_py "$port" 2>&1 <<'PY'
import random
rnd = random.Random(5)
for k in range(5):
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(1)
    s.recv(100)
    junk = bytes(rnd.choice(b'\x00\xff\r\n.:<>@ abcMAILRCPTDATAEHLO\xc3\x28') for i in range(50000))
    try:
        s.sendall(b'EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<a@accept.bouncy-sink.test>\r\nDATA\r\n' * (k % 2) + junk)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
s = smtplib.SMTP('127.0.0.1', port)
print('alive', s.noop()[0])
PY
)
like "$out" "alive 250" "server still answers after garbage input"

# --- configuration and command line
write_config "$T/dup.ini" "$port" "Threads = 2"
err=$("$BS_BIN/listen" -c "$T/dup.ini" 2>&1 > /dev/null); rc=$?
is "$rc" 69 "port already in use: exit 69 (SO_REUSEPORT does not share it)"
like "$err" "cannot listen \(127\.0\.0\.1:$port\): Address already in use" "bind error names the address"
"$BS_BIN/listen" -x > /dev/null 2>&1; is $? 64 "bad option: exit 64"
"$BS_BIN/listen" -h > /dev/null 2>&1; is $? 0 "-h: exit 0"
printf 'random_bounce:550 5.1.1 fine\nrandom_bounce:250 2.0.0 not a bounce\n' > "$T/bad.dat"
write_config "$T/bad.ini" "$(free_port)" "InBand_Replies_File = $T/bad.dat"
err=$("$BS_BIN/listen" -c "$T/bad.ini" 2>&1 > /dev/null); rc=$?
is "$rc" 78 "bad reply table: exit 78"
like "$err" "bad\.dat:2: reply code is not 4xx or 5xx" "bad reply line named with file:line"
printf '[Sink]\nWeekly_Cycle_Bounce_Rate = 1,2,3\n' > "$T/bad2.ini"
err=$("$BS_BIN/listen" -c "$T/bad2.ini" 2>&1 > /dev/null); rc=$?
is "$rc" 78 "weekly cycle not a multiple of 7: exit 78"
like "$err" 'bad2\.ini:2: \[Sink\] Weekly_Cycle_Bounce_Rate: 3 entries' "cycle error names file:line and key"
( cd "$ROOT" && timeout 5 "$BS_BIN/listen" -c data/reference/consume-mail.ini 2>&1 > /dev/null | head -c 0 ) &
sleep 0.5; kill %1 2>/dev/null; wait 2>/dev/null
pport=$(free_port)
printf '[Listen]\nAddress = 127.0.0.1:%s\nSpool = %s\n' "$pport" "$T/sp2" > "$T/prod.ini"
cat "$ROOT/data/reference/consume-mail.ini" >> "$T/prod.ini"
# the production ini (with an added [Listen]) loads; the default table path is cwd-relative.
# SIGTERM only once it listens (a loaded machine may take over a second to start).
( cd "$ROOT" && exec "$BS_BIN/listen" -c "$T/prod.ini" > /dev/null 2> "$T/prod.err" ) &
ppid=$!
wait_port "$pport" 20
kill -TERM "$ppid"; wait "$ppid"; rc=$?
is "$rc" 0 "production consume-mail.ini (+[Listen]) loads; SIGTERM exits 0"

done_testing
