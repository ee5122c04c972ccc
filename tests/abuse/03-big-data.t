#!/usr/bin/env bash
# abuse: a 1 GB message. Declared with SIZE=: 552 5.3.4 at MAIL. Not declared: the body is
# streamed (Spill_Size in memory, no more), and past Max_Message_Size the message gets
# 552 5.3.4 at its end with nothing spooled and no temporary file left; listen's RSS
# (sampled while the gigabyte flows) and its spool use stay bounded; the session and other clients go on.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
port=$(free_port)
write_config "$T/c.ini" "$port" "Max_Message_Size = 10000000" "Spill_Size = 1048576"
start_listen "$T/c.ini"
( peak=0; while kill -0 "$LISTEN_PID" 2>/dev/null; do
      r=$(awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status" 2>/dev/null)
      [ -n "$r" ] && [ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" > "$T/peak"; }
      sleep 0.1
  done ) &
sampler=$!
r0=$(awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status")

out=$(smtp_py "$port" <<'PY'
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('x')
print('declared', s.docmd('MAIL FROM:<a@b.test> SIZE=1073741824'))
s.rset()
s.docmd('MAIL FROM:<a@b.test>')
s.docmd('RCPT TO:<big@accept.bouncy-sink.test>')
print('data', s.docmd('DATA')[0])
line = b'x' * 998 + b'\r\n'
block = b'Subject: big\r\n\r\n' + line * 1024          # ~1 MB
sent = 0
t0 = time.time()
while sent < 1024 ** 3:
    s.sock.sendall(block)
    sent += len(block)
    block = line * 1024
    if sent % (64 * 1024 ** 2) < len(block):
        os.system('du -sb %s/spool | cut -f1 >> %s/spool-sizes' % (T, T))
s.sock.sendall(b'.\r\n')
print('end', s.getreply())
print('sent', sent // 1024 ** 2, 'MB in', int(time.time() - t0), 's')
print('noop', s.noop()[0])
s.quit()
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
print('other', s.sendmail('a@sender.test', ['o@accept.bouncy-sink.test'], b'Subject: o\r\n\r\nx\r\n'))
s.quit()
PY
)
diag "$(printf '%s' "$out" | grep sent)"
like "$out" "declared \(552, b'5.3.4 " "SIZE=1 GB declared: 552 5.3.4 at MAIL"
like "$out" "data 354" "undeclared: DATA accepted"
like "$out" "end \(552, b'5.3.4 " "1 GB body: 552 5.3.4 at the end of DATA"
like "$out" "noop 250" "the session goes on"
like "$out" "other \{\}" "another client is served"
is "$(ls "$T/spool" | grep -vc '\.msg$')" 0 "no temporary or spill file left"
is "$(ls "$T/spool"/*.msg | wc -l)" 1 "only the small message spooled"
maxdisk=$(sort -n "$T/spool-sizes" | tail -n 1)
[ "$maxdisk" -lt 20000000 ]; ok $? "disk use bounded too while it flows (max ${maxdisk} bytes in the spool)"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
wait "$sampler" 2>/dev/null
peak=$(cat "$T/peak")
[ "$peak" -lt $((r0 + 100000)) ]; ok $? "RSS bounded while 1 GB streamed (start ${r0} kB, peak ${peak} kB)"
done_testing
