#!/usr/bin/env bash
# listen: per-IP throttling. Concurrent connections per IP (421 4.7.0 at connect, other
# IPs independent, recovers after a disconnect), messages per connection (451 4.7.1,
# recovers on a new connection), messages per minute (451 4.7.1, other IPs independent,
# recovers after the minute: injected clock), the throttle subdomain's tight limits;
# provider-style texts from the in-band table; throttle records.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

export BS_LISTEN_CLOCK_FILE=$T/clock
echo 0 > "$T/clock"
clock() { echo "$1" > "$T/clock"; }

# msgs PORT SRC N RCPT...: N messages on one connection from SRC; prints the RCPT reply
# codes (a message whose first recipient is refused is not sent), then the last refusal.
cat > "$T/msgs.py" <<'PY'
import smtplib, sys
port, src, n, rcpts = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
s = smtplib.SMTP('127.0.0.1', port, source_address=(src, 0))
s.ehlo('client.test')
codes, last = [], ''
for i in range(n):
    s.docmd('MAIL FROM:<m%d@sender.test>' % i)
    ok = False
    for r in rcpts:
        code, text = s.docmd('RCPT TO:<%s>' % r)
        codes.append(code)
        if code == 250:
            ok = True
        else:
            last = '%d %s' % (code, text.decode())
    if ok:
        s.putcmd('DATA'); s.getreply()
        s.send(b'Subject: t\r\n\r\nbody\r\n.\r\n'); s.getreply()
    else:
        s.rset()
s.quit()
print(' '.join(map(str, codes)), '|', last)
PY
msgs() { python3 "$T/msgs.py" "$@" 2>&1; }

# --- connections and messages per connection
port=$(free_port)
UPSTREAM=0 write_config "$T/a.ini" "$port" "Threads = 2" "Throttle_Max_Connections_Per_IP = 2" \
    "Throttle_Max_Messages_Per_Connection = 3"
start_listen "$T/a.ini"
out=$(smtp_py "$port" 2>&1 <<'PY'
def conn(src):
    s = socket.create_connection(('127.0.0.1', port), source_address=(src, 0)); s.settimeout(5)
    return s, s.makefile('rb')
a, fa = conn('127.0.0.1'); b, fb = conn('127.0.0.1')
print('two', fa.readline()[:3].decode(), fb.readline()[:3].decode())
c, fc = conn('127.0.0.1')
print('third', fc.readline().decode().strip(), 'eof' if fc.readline() == b'' else 'open')
d, fd = conn('127.0.0.2')
print('other ip', fd.readline()[:3].decode())
a.sendall(b'QUIT\r\n'); fa.readline(); a.close()
time.sleep(0.3)
e, fe = conn('127.0.0.1')
print('after disconnect', fe.readline()[:3].decode())
PY
)
like "$out" "two 220 220" "two connections from 127.0.0.1 accepted"
like "$out" "third 421 4.7.0 Too many connections to this host\. eof" "third: 421 4.7.0 (in-band table text), closed"
like "$out" "other ip 220" "127.0.0.2 is counted on its own"
like "$out" "after disconnect 220" "limit recovers after a disconnect"
r=$(msgs "$port" 127.0.0.1 4 x@accept.bouncy-sink.test)
like "$r" "^250 250 250 451 \| 451 4\.7\.1 Abusive connections\. Please try again later\.$" \
    "Max_Messages_Per_Connection = 3: the fourth message gets 451 4.7.1"
r=$(msgs "$port" 127.0.0.1 1 x@accept.bouncy-sink.test)
like "$r" "^250 \|" "a new connection may send again"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
like "$(grep 'stopped:' "$T/listen.err" | head -1)" ', 2 throttled,' "exit summary counts the throttle refusals"
is "$(grep -c '"limit":"connections"' "$T/records")" 1 "one throttle record for the refused connection"
rec=$(grep '"limit":"connections"' "$T/records")
like "$rec" '"kind":"throttle".*"client_ip":"127.0.0.1"' "connection record: kind and client_ip"
like "$rec" '"reply":\{"code":421,"enhanced":"4.7.0"' "connection record: reply"
rec=$(grep '"limit":"messages_per_connection"' "$T/records")
like "$rec" '"envelope":\{"mail_from":"m3@sender.test","rcpt":"x@accept.bouncy-sink.test","client_ip":"127.0.0.1"' \
    "per-connection record: envelope"
like "$rec" '"reply":\{"code":451,"enhanced":"4.7.1"' "per-connection record: reply"

# --- messages per minute (per IP) and the throttle subdomain
port=$(free_port)
UPSTREAM=0 write_config "$T/b.ini" "$port" "Throttle_Max_Messages_Per_Minute = 4"
start_listen "$T/b.ini" "$T/records-b"
r=$(msgs "$port" 127.0.0.1 3 x@accept.bouncy-sink.test)
like "$r" "^250 250 250 \|" "three messages in the minute"
r=$(msgs "$port" 127.0.0.1 2 x@accept.bouncy-sink.test)
like "$r" "^250 451 \| 451 4\.7\.1 <x@accept\.bouncy-sink\.test>: Recipient address rejected: Policy Rejection- API Policy Server - Quota Exceeded, Try again later\.$" \
    "Max_Messages_Per_Minute = 4: the fifth (on another connection) gets 451 4.7.1"
r=$(msgs "$port" 127.0.0.2 1 x@accept.bouncy-sink.test)
like "$r" "^250 \|" "127.0.0.2 has its own budget"
clock 30
r=$(msgs "$port" 127.0.0.1 1 x@accept.bouncy-sink.test)
like "$r" "^451 \|" "still refused within the minute"
clock 61
r=$(msgs "$port" 127.0.0.1 1 x@accept.bouncy-sink.test)
like "$r" "^250 \|" "recovers after the minute"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
is "$(grep -c '"limit":"messages_per_minute"' "$T/records-b")" 2 "a throttle record per per-minute refusal"

echo 0 > "$T/clock"
port=$(free_port)
UPSTREAM=0 write_config "$T/c.ini" "$port"
start_listen "$T/c.ini" "$T/records-c"
r=$(msgs "$port" 127.0.0.1 3 t@throttle.bouncy-sink.test)
like "$r" "^250 250 451 \| 451 4\.7\.1 " "throttle subdomain: 2 messages per connection"
r=$(msgs "$port" 127.0.0.1 2 x@accept.bouncy-sink.test)
like "$r" "^250 250 \|" "other subdomains are not limited"
r=$(msgs "$port" 127.0.0.1 2 t@throttle.bouncy-sink.test)
like "$r" "^250 250 \|" "new connection: 2 more (4 in the minute)"
r=$(msgs "$port" 127.0.0.1 2 t@throttle.bouncy-sink.test)
like "$r" "^250 451 \| 451 4\.7\.1 <t@throttle.*Quota Exceeded" "throttle subdomain: 5 messages per minute"
clock 61
r=$(msgs "$port" 127.0.0.1 1 t@throttle.bouncy-sink.test)
like "$r" "^250 \|" "throttle subdomain: recovers after the minute"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
is "$(grep -l 't@throttle' "$T"/spool/*.msg | wc -l)" 6 "accepted throttle-subdomain messages are spooled"
is "$(grep -c '"kind":"throttle"' "$T/records-c")" 2 "throttle records for the subdomain refusals"
like "$(grep '"kind":"throttle"' "$T/records-c" | head -1)" '"stream":"throttle".*"limit":"messages_per_connection"' \
    "subdomain record: stream and limit"
done_testing
