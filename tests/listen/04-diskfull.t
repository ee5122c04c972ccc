#!/usr/bin/env bash
# listen: a full spool (1 MB tmpfs) answers 452 4.3.1 and loses nothing: every 250 has
# all its files, a refused message leaves none, no temporary file is left behind.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

spool=$T/small
mkdir -p "$spool"
if mount -t tmpfs -o size=1m bs-listen-test "$spool"; then
    pass "1 MB tmpfs mounted"
else
    fail "mount -t tmpfs (needs root)"
    done_testing
    exit 1
fi
trap 'umount "$spool" 2>/dev/null; _cleanup' EXIT

port=$(free_port)
write_config "$T/c.ini" "$port" "Spool = $spool" "Fsync = yes" "Threads = 2" "Spill_Size = 20000"
start_listen "$T/c.ini"

# a body over Spill_Size is kept in a spill file while it arrives; both copies intact
smtp_py "$port" > "$T/big" 2>&1 <<'PY'
body = b''.join(b'%06d ' % i + b'y' * 70 + b'\r\n' for i in range(2600))   # ~200 KB
open(T + '/big.body', 'wb').write(b'Subject: big\r\n\r\n' + body)
s = smtplib.SMTP('127.0.0.1', port)
print(s.sendmail('a@sender.test', ['b1@accept.bouncy-sink.test', 'b2@oob.bouncy-sink.test'],
                 b'Subject: big\r\n\r\n' + body))
s.quit()
PY
is "$(cat "$T/big")" "{}" "200 KB message to two spooled recipients accepted"
same=0
for f in "$spool"/*.msg; do
    cmp <(tail -c +"$(( $(head -3 "$f" | wc -c) + 1 ))" "$f") "$T/big.body" > /dev/null && same=$((same + 1))
done
is "$same" 2 "both spool files hold the whole body"
is "$(ls -A "$spool" | grep -vc '\.msg$')" 0 "spill file removed"
rm -f "$spool"/*.msg

smtp_py "$port" > "$T/out" 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('full.test')
body = ('x' * 76 + '\r\n') * 400   # ~31 KB
queued, refused = [], 0
for i in range(100):
    s.docmd('MAIL FROM:<a@sender.test>')
    for r in range(3):
        s.docmd('RCPT TO:<r%d@accept.bouncy-sink.test>' % r)
    s.docmd('DATA')
    s.send(('Subject: m%03d\r\n\r\n' % i + body + '.\r\n').encode())
    code, text = s.getreply()
    if code == 250:
        queued.append(i)
    elif code == 452:
        refused += 1
        last = text.decode()
    else:
        print('unexpected', code, text)
    if refused >= 3:
        break
print('refused', refused, last)
print('noop', s.docmd('NOOP')[0])
print('queued', ' '.join('m%03d' % i for i in queued))
s.quit()
PY
out=$(cat "$T/out")
like "$out" "refused 3 4.3.1 Insufficient system storage" "full spool: 452 4.3.1"
like "$out" "noop 250" "the session goes on after a 452"
unlike "$out" "unexpected" "no other reply"
queued=$(sed -n 's/^queued //p' "$T/out")
n=$(echo "$queued" | wc -w)
diag "$n messages queued before the spool filled up"
missing=0
for m in $queued; do
    c=$(grep -l "^Subject: $m" "$spool"/*.msg 2>/dev/null | wc -l)
    [ "$c" = 3 ] || { missing=$((missing + 1)); diag "$m has $c files"; }
done
is "$missing" 0 "every 250 has its three files"
is "$(ls "$spool" | grep -c '\.msg$')" "$((n * 3))" "no file from a refused message"
is "$(ls -A "$spool" | grep -vc '\.msg$')" 0 "no temporary file left"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
ok $? "exit 0"
umount "$spool"; ok $? "tmpfs unmounted"

done_testing
