#!/usr/bin/env bash
# listen: sender-chosen outcomes in the recipient's local part (+bs- tags, override.h) on
# any sink subdomain. A reply code is answered in-band (the table's text when it has the
# code, else the code as given); defer-until-TIME answers 451 4.7.1 until then and accepts
# on a retry after it (the greylist clock, moved with BS_LISTEN_CLOCK_FILE); an action is
# the stream recorded for decide (X-Bouncy-Sink-Route); a malformed tag gets 501 5.1.3.
# Records carry the override; report logs and counts them.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export BS_LISTEN_CLOCK_FILE=$T/clock
echo 0 > "$T/clock"

port=$(free_port)
# every plain mixed-stream recipient is answered in-band: a tag must still win
UPSTREAM=100 write_config "$T/c.ini" "$port" "InBand_Bounce_percent = 100"
start_listen "$T/c.ini"

until=$(( $(date +%s) + 600 ))
iso=$(date -u -d "@$(( $(date +%s) + 1200 ))" +%Y%m%dT%H%M%SZ)
smtp_py "$port" > "$T/out" 2>&1 <<PY
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.test')
s.docmd('MAIL FROM:<bounces@sender.test>')
for tag, dom in [('550-5.1.1', 'accept'), ('452', 'oob'), ('559-5.9.9', 'fbl')]:
    print('reply', tag, s.docmd('RCPT TO:<u+bs-%s@%s.bouncy-sink.test>' % (tag, dom)))
print('bad-tag', s.docmd('RCPT TO:<u+bs-bounce@accept.bouncy-sink.test>'))
print('bad-class', s.docmd('RCPT TO:<u+bs-550-4.1.1@accept.bouncy-sink.test>'))
print('defer-epoch', s.docmd('RCPT TO:<d1+bs-defer-until-$until@accept.bouncy-sink.test>'))
print('defer-iso', s.docmd('RCPT TO:<d2+BS-Defer-Until-$iso@bouncy-sink.test>'))
print('defer-past', s.docmd('RCPT TO:<d3+bs-defer-until-20200101t000000z@accept.bouncy-sink.test>'))
for act in ['oob', 'fbl', 'open-click', 'ooto', 'unsub']:
    print('action', act, s.docmd('RCPT TO:<a-%s+bs-%s@bouncy-sink.test>' % (act, act)))
s.docmd('DATA')
s.send(b'Subject: tags\r\n\r\nhi\r\n.\r\n')
print('end', s.getreply())
s.quit()
PY
# in a session of its own: the in-band reply is drawn from the whole table, whose 421 replies
# close the session (RFC 5321), which would cut the transaction above short
smtp_py "$port" >> "$T/out" 2>&1 <<PY
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.test')
s.docmd('MAIL FROM:<bounces@sender.test>')
print('plain-mixed', s.docmd('RCPT TO:<plain@bouncy-sink.test>'))
PY
out=$(cat "$T/out")
like "$out" "reply 550-5.1.1 \(550, b.5.1.1 " "+bs-550-5.1.1: 550 5.1.1 from the table"
like "$out" "reply 452 \(452, b.4\." "+bs-452: 452 from the table"
like "$out" "reply 559-5.9.9 \(559, b'5.9.9 Requested action not taken \(sender-chosen outcome \+bs-559-5.9.9\)'\)" \
    "+bs-559-5.9.9 (not in the table): the code as given"
like "$out" "bad-tag \(501, b'5.1.3 Bad recipient address syntax: \+bs- tag: unknown directive'\)" \
    "unknown directive: 501 5.1.3"
like "$out" "bad-class \(501, b.5.1.3 Bad recipient address syntax: \+bs- tag: reply: CODE or CODE-X.Y.Z with the code's class.\)" \
    "enhanced code of another class: 501 5.1.3"
like "$out" "defer-epoch \(451, b\"4.7.1 <d1\+bs-defer-until-$until@accept.bouncy-sink.test>: deferred until [0-9T:.-]+Z at the sender's request" \
    "defer-until-EPOCH in the future: 451 4.7.1"
like "$out" "defer-iso \(451, b\"4.7.1 " "defer-until-ISO (any case) on the mixed stream: 451 4.7.1"
like "$out" "defer-past \(250, " "defer-until a past time: accepted"
for act in oob fbl open-click ooto unsub; do
    like "$out" "action $act \(250, " "+bs-$act on the mixed stream: accepted (not in-band)"
done
like "$out" "plain-mixed \((4|5)[0-9][0-9], " "a plain mixed-stream recipient: in-band as configured"
like "$out" "end \(250, " "message queued"

# the retry: 15 minutes later the epoch deferral passes, the ISO one (20 min) does not yet
echo 900 > "$T/clock"
smtp_py "$port" > "$T/out2" 2>&1 <<PY
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.test')
s.docmd('MAIL FROM:<bounces@sender.test>')
print('retry-epoch', s.docmd('RCPT TO:<d1+bs-defer-until-$until@accept.bouncy-sink.test>'))
print('retry-iso', s.docmd('RCPT TO:<d2+BS-Defer-Until-$iso@bouncy-sink.test>'))
s.docmd('DATA')
s.send(b'Subject: retry\r\n\r\nhi\r\n.\r\n')
print('end', s.getreply())
s.quit()
PY
out2=$(cat "$T/out2")
like "$out2" "retry-epoch \(250, " "retry after the time: accepted"
like "$out2" "retry-iso \(451, " "retry before its time: still 451"
like "$out2" "end \(250, " "retried message queued"

# spool: the action tags' streams, the deferred recipient once accepted
for f in "$T"/spool/*.msg; do
    r=$(sed -n 's/^X-Bouncy-Sink-Route: //p' "$f" | head -1 | tr -d '\r')
    who=$(sed -n 's/^Received: .* for <\([^>]*\)>.*/\1/p' "$f" | head -1)
    echo "$who $r"
done | sort > "$T/routes"
routes=$(cat "$T/routes")
like "$routes" "a-oob\+bs-oob@bouncy-sink.test oob" "+bs-oob spooled as the oob stream"
like "$routes" "a-fbl\+bs-fbl@bouncy-sink.test fbl" "+bs-fbl: fbl"
like "$routes" "a-open-click\+bs-open-click@bouncy-sink.test openclick" "+bs-open-click: openclick"
like "$routes" "a-ooto\+bs-ooto@bouncy-sink.test ooto" "+bs-ooto: ooto"
like "$routes" "a-unsub\+bs-unsub@bouncy-sink.test unsub" "+bs-unsub: unsub"
like "$routes" "d1\+bs-defer-until-$until@accept.bouncy-sink.test accept" \
    "the deferred recipient, accepted on retry, keeps its subdomain's stream"
is "$(grep -c 'd1+bs' "$T/routes")" 1 "the deferred recipient was spooled once"

# records and report
kill "$LISTEN_PID"; wait "$LISTEN_PID" 2> /dev/null
recs=$(jq -c 'select(.override) | [.envelope.rcpt, .reply.code, .override.kind, .override.directive, .override.outcome]' "$T/records")
like "$recs" '\["u\+bs-550-5.1.1@accept.bouncy-sink.test",550,"reply","550-5.1.1",null\]' "record: the reply override"
like "$recs" '\["d2\+BS-Defer-Until-[0-9TZ]+@bouncy-sink.test",451,"defer","defer-until-[0-9tz]+","deferred"\]' \
    "record: the deferral"
printf '[Sink]\nLogfile = %s/r.log\n' "$T" > "$T/r.ini"
"$BS_BIN/report" -c "$T/r.ini" --once < "$T/records" > "$T/once.json" 2> "$T/report.err"
ok $? "report reads listen's records"
like "$(cat "$T/r.log")" "u\+bs-559-5.9.9@fbl.bouncy-sink.test,bounces@sender.test,InBand 559 5.9.9 Requested action not taken \(sender-chosen outcome \+bs-559-5.9.9\),Override \+bs-559-5.9.9" \
    "log line of a reply override"
is "$(jq .override_reply "$T/once.json")" 3 "/json: override_reply"
is "$(jq .override_defer "$T/once.json")" 3 "/json: override_defer (two, then one on retry)"
done_testing
