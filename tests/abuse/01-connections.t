#!/usr/bin/env bash
# abuse: 2,000 simultaneous connections against Max_Connections = 1000: 1000 get 220, the
# rest 421 4.7.0 and are closed; listen keeps its memory and descriptors bounded; once the
# flood lets go a well-behaved client is served, and one is served during the flood as
# soon as a slot frees.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
ulimit -n 8192 2>/dev/null || ulimit -n 4096
port=$(free_port)
write_config "$T/c.ini" "$port" "Max_Connections = 1000" "Threads = 2"
start_listen "$T/c.ini"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status"; }
fds() { ls "/proc/$LISTEN_PID/fd" | wc -l; }
r0=$(rss); f0=$(fds)

LPID=$LISTEN_PID smtp_py "$port" > "$T/flood" 2>&1 <<'PY'
import select
socks, errs = [], 0
for i in range(2000):
    try:
        socks.append(socket.create_connection(('127.0.0.1', port), timeout=10))
    except OSError:
        errs += 1
got = {}
for c in socks:
    c.settimeout(10)
    try:
        got[c] = c.recv(200)
    except OSError:
        got[c] = b''
n220 = sum(1 for b in got.values() if b.startswith(b'220'))
n421 = sum(1 for b in got.values() if b.startswith(b'421 4.7.0'))
print('connect errors', errs, 'greeted', n220, 'refused', n421)
open(T + '/rss', 'w').write(open('/proc/%s/status' % os.environ['LPID']).read())
os.system('ls /proc/%s/fd | wc -l > %s/fds' % (os.environ['LPID'], T))
# a slot frees: a good client gets in while 999 flood connections are still held
held = [c for c, b in got.items() if b.startswith(b'220')]
held.pop().close()
time.sleep(0.5)
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
print('during', s.sendmail('a@sender.test', ['d@accept.bouncy-sink.test'], b'Subject: d\r\n\r\nx\r\n'))
s.quit()
for c in socks:
    c.close()
PY
out=$(cat "$T/flood")
like "$out" "connect errors 0 greeted 1000 refused 1000" "2000 connections: 1000 greeted, 1000 refused with 421 4.7.0"
like "$out" "during \{\}" "a good client served while 999 are held"
r1=$(awk '/^VmRSS/ {print $2}' "$T/rss" 2>/dev/null); f1=$(cat "$T/fds" 2>/dev/null)
diag "listen RSS ${r0} kB idle, ${r1} kB with 1000 connections; fds ${f0} -> ${f1}"
[ "${f1:-99999}" -lt 1100 ]; ok $? "descriptors bounded by Max_Connections ($f1)"
[ "${r1:-999999}" -lt 200000 ]; ok $? "RSS with 1000 connections bounded (${r1} kB)"
sleep 1
out=$(smtp_py "$port" <<'PY'
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
print('after', s.sendmail('a@sender.test', ['e@accept.bouncy-sink.test'], b'Subject: e\r\n\r\nx\r\n'))
s.quit()
PY
)
like "$out" "after \{\}" "served after the flood"
wait_for test "$(fds)" -le $((f0 + 2)); ok $? "descriptors back to idle ($(fds), idle $f0)"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; is $? 0 "SIGTERM: exit 0"
done_testing
