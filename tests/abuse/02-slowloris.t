#!/usr/bin/env bash
# abuse: slowloris — 300 clients each sending one byte of a command line every second,
# never finishing it. With Command_Timeout = 3 they are answered 421 4.4.2 and dropped
# (the limit is on the whole command line, not on silence); a well-behaved client is served
# throughout; listen's memory stays bounded.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
port=$(free_port)
write_config "$T/c.ini" "$port" "Command_Timeout = 3" "Max_Connections = 1000"
start_listen "$T/c.ini"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status"; }
r0=$(rss)

smtp_py "$port" > "$T/loris" 2>&1 <<'PY' &
import select
socks = []
for i in range(300):
    c = socket.create_connection(('127.0.0.1', port))
    c.setblocking(False)
    socks.append(c)
open(T + '/connected', 'w').close()
got = {c: b'' for c in socks}
line = b'EHLO slowloris.example.' + b'x' * 100
t0 = time.time()
i = 0
while time.time() - t0 < 12 and socks:
    for c in list(socks):
        try:
            c.send(line[i % len(line):i % len(line) + 1])
        except OSError:
            socks.remove(c)
    i += 1
    end = time.time() + 1
    while time.time() < end and socks:
        r, _, _ = select.select(socks, [], [], max(0, end - time.time()))
        for c in r:
            try:
                b = c.recv(4096)
            except OSError:
                b = b''
            got[c] += b
            if not b:
                socks.remove(c)
dropped = sum(1 for c, b in got.items() if b'421 4.4.2' in b)
print('dropped', dropped, 'still open', len(socks), 'after', i, 'bytes each')
PY
loris=$!
wait_for test -e "$T/connected"
sleep 1
out=$(smtp_py "$port" <<'PY'
for k in range(3):
    s = smtplib.SMTP('127.0.0.1', port, timeout=10)
    print('good', s.sendmail('a@sender.test', ['g%d@accept.bouncy-sink.test' % k], b'Subject: g\r\n\r\nhi\r\n'))
    s.quit()
    time.sleep(1)
PY
)
is "$(printf '%s\n' "$out" | grep -c '^good {}')" 3 "a good client is served during the attack"
r1=$(rss)
wait "$loris"
like "$(cat "$T/loris")" "dropped 300 still open 0" "every slowloris client got 421 4.4.2 and was closed"
kill -0 "$LISTEN_PID"; ok $? "listen still running"
[ "$r1" -lt $((r0 + 50000)) ]; ok $? "RSS bounded (${r0} kB at start, ${r1} kB under attack)"
out=$(smtp_py "$port" <<'PY'
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
print('after', s.noop()[0]); s.quit()
PY
)
like "$out" "after 250" "served after the attack"
done_testing
