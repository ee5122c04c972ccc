#!/usr/bin/env bash
# abuse: 10,000 RCPTs in one transaction (452 4.5.3 past Max_Recipients, pipelined and not),
# command floods (100,000 pipelined NOOPs from a client that does not read its replies,
# unknown commands until Max_Errors, 1 MB lines), all while listen's RSS stays bounded and a
# well-behaved client is served.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
port=$(free_port)
write_config "$T/c.ini" "$port" "Max_Recipients = 1000" "Max_Errors = 10"
start_listen "$T/c.ini"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status"; }
r0=$(rss)

out=$(smtp_py "$port" <<'PY'
# 10,000 RCPTs one by one
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('x'); s.docmd('MAIL FROM:<a@b.test>')
codes = {}
for i in range(10000):
    c, m = s.docmd('RCPT TO:<r%d@accept.bouncy-sink.test>' % i)
    codes[(c, m[:5])] = codes.get((c, m[:5]), 0) + 1
print('rcpts', sorted(codes.items()))
print('data', s.data(b'Subject: many\r\n\r\nx\r\n')[0])
s.quit()
# 10,000 RCPTs pipelined in one write
c = socket.create_connection(('127.0.0.1', port), timeout=30)
f = c.makefile('rb')
f.readline()
c.sendall(b'EHLO x\r\n')
while f.readline()[3:4] == b'-':
    pass
c.sendall(b'MAIL FROM:<a@b.test>\r\n' + b''.join(b'RCPT TO:<p%d@oob.bouncy-sink.test>\r\n' % i for i in range(10000)) + b'RSET\r\n')
replies = [f.readline()[:9] for i in range(10002)]
print('pipelined', replies.count(b'250 2.1.5'), replies.count(b'452 4.5.3'), replies[-1])
c.close()
PY
)
like "$out" "rcpts \[\(\(250, b'2.1.5'\), 1000\), \(\(452, b'4.5.3'\), 9000\)\]" "10,000 RCPTs: 1000 accepted, 9000 x 452 4.5.3"
like "$out" "data 250" "and the message with 1000 recipients is accepted"
like "$out" "pipelined 1000 9000 b'250 2.0.0'" "pipelined: the same, every reply in order"
is "$(ls "$T/spool"/*.msg | wc -l)" 1000 "1000 spool files"

out=$(smtp_py "$port" <<'PY'
# 100,000 pipelined NOOPs, replies not read until the end
c = socket.create_connection(('127.0.0.1', port), timeout=60)
c.sendall(b'EHLO x\r\n' + b'NOOP\r\n' * 100000 + b'QUIT\r\n')
data = b''
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    data += b
print('noops', data.count(b'250 2.0.0'), data.splitlines()[-1][:3])
# unknown commands until Max_Errors
c = socket.create_connection(('127.0.0.1', port), timeout=30)
c.sendall(b'EHLO x\r\n' + b'BOGUS\r\n' * 1000)
data = b''
while True:
    try:
        b = c.recv(65536)
    except OSError:
        break
    if not b:
        break
    data += b
print('bogus', data.count(b'500 5.5.1'), data.splitlines()[-1][:9])
# a 1 MB line
c = socket.create_connection(('127.0.0.1', port), timeout=30)
c.recv(200)
c.sendall(b'EHLO ' + b'y' * 1024 * 1024 + b'\r\nNOOP\r\n')
data = b''
while b'\r\n' not in data or data.count(b'\r\n') < 2:
    b = c.recv(65536)
    if not b:
        break
    data += b
print('longline', data.splitlines()[:2])
c.close()
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
print('good', s.sendmail('a@sender.test', ['g@accept.bouncy-sink.test'], b'Subject: g\r\n\r\nx\r\n'))
s.quit()
PY
)
like "$out" "noops 100000 b'221'" "100,000 pipelined NOOPs all answered, then QUIT"
like "$out" "bogus (9|10) b'421 4.7.0'" "unknown commands: 500 5.5.1 until Max_Errors, then 421 4.7.0"
like "$out" "longline \[b'500 5.5.2[^']*', b'250 " "a 1 MB line: 500 5.5.2, the session goes on"
like "$out" "good \{\}" "a good client is served"
r1=$(rss)
[ "$r1" -lt $((r0 + 60000)) ]; ok $? "RSS bounded (${r0} kB at start, ${r1} kB after the floods)"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; is $? 0 "SIGTERM: exit 0"
done_testing
