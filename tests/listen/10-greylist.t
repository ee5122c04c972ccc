#!/usr/bin/env bash
# listen: greylisting. The greylist subdomain: first attempt of a (client IP, sender,
# recipient) triple 451 4.7.1, too-early retry still 451 (first-seen kept), retry after
# Greylist_Delay accepted and spooled, later ones accepted, other triples (other sender,
# other client IP) independent, expiry after Greylist_Window; the Greylist_percent share
# of the mixed stream against a Python reimplementation of the triple hash; records.
# The clock is moved with the BS_LISTEN_CLOCK_FILE test hook.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

export BS_LISTEN_CLOCK_FILE=$T/clock
echo 0 > "$T/clock"
port=$(free_port)
UPSTREAM=0 write_config "$T/a.ini" "$port" "Greylist_Delay = 300" "Greylist_Window = 3600"
start_listen "$T/a.ini"

# try SRC SENDER RCPT [DATA]: prints the RCPT reply (and the end-of-data reply)
cat > "$T/try.py" <<'PY'
import smtplib, sys
port, src, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP('127.0.0.1', port, source_address=(src, 0))
s.ehlo('client.test')
s.docmd('MAIL FROM:<%s>' % sender)
code, text = s.docmd('RCPT TO:<%s>' % rcpt)
out = '%d %s' % (code, text.decode())
if code == 250:
    s.putcmd('DATA'); s.getreply()
    s.send(b'Subject: grey\r\n\r\nbody\r\n.\r\n')
    out += ' | %d' % s.getreply()[0]
s.quit()
print(out)
PY
try() { python3 "$T/try.py" "$port" "$@" 2>&1; }
clock() { echo "$1" > "$T/clock"; }

r=$(try 127.0.0.1 a@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 <g1@greylist\.bouncy-sink\.test>: Recipient address rejected: Greylisted, see https://postgrey\.schweikert\.ch/help/greylist\.bouncy-sink\.test\.html$' \
    "first attempt: 451 4.7.1 greylisted"
r=$(try 127.0.0.1 a@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 ' "immediate retry: 451"
clock 200
r=$(try 127.0.0.1 a@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 ' "retry after 200 s (< Greylist_Delay): 451"
clock 310
r=$(try 127.0.0.1 a@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^250 2\.1\.5 .* \| 250$' "retry after 310 s: accepted (too-early retry kept the first-seen time)"
is "$(grep -l '^Subject: grey' "$T"/spool/*.msg 2>/dev/null | wc -l)" 1 "passed message spooled"
r=$(try 127.0.0.1 a@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^250 ' "later attempt of a passed triple: accepted"
r=$(try 127.0.0.1 other@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 ' "another sender: its own triple, 451"
r=$(try 127.0.0.2 a@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 ' "another client IP: its own triple, 451"
r=$(try 127.0.0.1 a@sender.test g2@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 ' "another recipient: its own triple, 451"
# expiry: other@ was first seen at 310; after the window its entry is gone
clock $((310 + 3600 + 10))
r=$(try 127.0.0.1 other@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^451 4\.7\.1 ' "retry after Greylist_Window: expired, 451 again"
clock $((310 + 3600 + 10 + 301))
r=$(try 127.0.0.1 other@sender.test g1@greylist.bouncy-sink.test)
like "$r" '^250 ' "and accepted after the delay from the new first sighting"

kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
nd=$(grep '"kind":"greylist"' "$T/records" | grep -c '"outcome":"deferred"')
np=$(grep '"kind":"greylist"' "$T/records" | grep -c '"outcome":"passed"')
is "$nd" 7 "one greylist record per 451 (outcome deferred)"
is "$np" 2 "one greylist record per first pass (outcome passed)"
rec=$(grep '"kind":"greylist"' "$T/records" | head -1)
like "$rec" '"stream":"greylist"' "record: stream"
like "$rec" '"envelope":\{"mail_from":"a@sender.test","rcpt":"g1@greylist.bouncy-sink.test","client_ip":"127.0.0.1","helo":"client.test"\}' "record: envelope"
like "$rec" '"reply":\{"code":451,"enhanced":"4.7.1","text":"<g1@greylist' "record: reply"

# --- the Greylist_percent share of the mixed stream: exact against the triple hash;
# a passed mixed recipient continues through the mixed stream (here: blackholed)
echo 0 > "$T/clock"
port=$(free_port)
UPSTREAM=100 write_config "$T/b.ini" "$port" "Greylist_percent = 10" "InBand_Bounce_percent = 0"
start_listen "$T/b.ini" "$T/records-b"
out=$(smtp_py "$port" 2>&1 <<'PY'
def fnv(ip, sender, rcpt):
    h = 0xcbf29ce484222325
    for b in ip.encode() + b'\0' + sender.encode() + b'\0' + rcpt.lower().encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h
s = socket.create_connection(('127.0.0.1', port)); s.settimeout(30)
f = s.makefile('rb'); f.readline()
s.sendall(b'EHLO share.test\r\n')
while f.readline()[3:4] == b'-':
    pass
n, grey, expect, mismatch, first = 20000, 0, 0, 0, None
for batch in range(n // 1000):
    sender = 'b%d@sender.test' % batch
    cmds = [b'MAIL FROM:<%s>\r\n' % sender.encode()]
    rcpts = ['R%d.x@Bouncy-Sink.test' % (batch * 1000 + i) for i in range(1000)]
    cmds += [b'RCPT TO:<%s>\r\n' % r.encode() for r in rcpts]
    cmds.append(b'RSET\r\n')
    s.sendall(b''.join(cmds))
    f.readline()
    for r in rcpts:
        line = f.readline()
        g = line.startswith(b'451 4.7.1 ')
        e = fnv('127.0.0.1', sender, r) % 10000 < 1000
        grey += g; expect += e; mismatch += g != e
        if g and first is None:
            first = (sender, r)
    f.readline()
s.sendall(b'QUIT\r\n')
print('grey', grey, 'expect', expect, 'mismatch', mismatch)
sd = (n * 0.1 * 0.9) ** 0.5
print('within4sigma', abs(grey - n * 0.1) <= 4 * sd)
open(T + '/first', 'w').write('%s %s' % first)
PY
)
like "$out" "grey [0-9]+ expect [0-9]+ mismatch 0$" "Greylist_percent: exactly the triples the hash selects"
like "$out" "within4sigma True" "Greylist_percent = 10: share within 4 sigma over 20,000 triples"
read -r fs fr < "$T/first"
clock 301
r=$(try 127.0.0.1 "$fs" "$fr")
like "$r" '^250 .* \| 250$' "mixed greylisted triple: accepted after the delay"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
like "$(grep '"kind":"blackhole"' "$T/records-b")" "\"rcpt\":\"$fr\"" "then handled as mixed (blackholed at Upstream_Handled = 100)"
like "$(grep '"outcome":"passed"' "$T/records-b")" '"stream":"mixed"' "passed record on the mixed stream"
done_testing
