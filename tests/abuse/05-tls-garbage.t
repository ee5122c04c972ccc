#!/usr/bin/env bash
# abuse: TLS handshake garbage — clients that say STARTTLS and then send random bytes, a
# truncated ClientHello, or nothing at all, and clients that send a TLS ClientHello to the
# plain-text port. Each such session is closed (or times out) without harming the server:
# a well-behaved client is served by plain SMTP and over STARTTLS afterwards, memory and
# descriptors stay bounded.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
port=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj /CN=sink.test > /dev/null 2>&1; ok $? "test certificate made"
write_config "$T/c.ini" "$port" "TLS_Certificate = $T/cert.pem" "TLS_Key = $T/key.pem" \
    "Command_Timeout = 3"
start_listen "$T/c.ini"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status"; }
fds() { ls "/proc/$LISTEN_PID/fd" | wc -l; }
r0=$(rss); f0=$(fds)

out=$(smtp_py "$port" <<'PY'
import random, select, ssl
rnd = random.Random(9)
def starttls():
    c = socket.create_connection(('127.0.0.1', port), timeout=15)
    f = c.makefile('rb')
    f.readline()
    c.sendall(b'EHLO x\r\n')
    while f.readline()[3:4] == b'-':
        pass
    c.sendall(b'STARTTLS\r\n')
    return c, f.readline()
kinds = {}
conns = []
for i in range(300):          # all at once: the stalled handshakes wait for Command_Timeout
    kind = i % 3
    c, r = starttls()
    kinds[r[:3]] = kinds.get(r[:3], 0) + 1
    try:
        if kind == 0:      # random bytes
            c.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 4000))))
        elif kind == 1:    # the start of a real ClientHello, then random bytes
            c.sendall(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + bytes(rnd.getrandbits(8) for _ in range(200)))
        else:              # a record header claiming 16 kB that never comes
            c.sendall(b'\x16\x03\x01\x40\x00')
    except OSError:
        pass
    conns.append(c)
closed = 0
t0 = time.time()
while conns and time.time() - t0 < 20:
    r, _, _ = select.select(conns, [], [], 1)
    for c in r:
        try:
            b = c.recv(4096)
        except OSError:
            b = b''
        if not b:
            closed += 1
            conns.remove(c)
            c.close()
print('starttls', sorted(kinds.items()), 'closed', closed)
# a ClientHello on the plain port (client thinks it is SMTPS)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=15))
    print('smtps handshake succeeded?!')
except (ssl.SSLError, OSError) as e:
    print('smtps refused', type(e).__name__)
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
print('plain', s.sendmail('a@sender.test', ['p@accept.bouncy-sink.test'], b'Subject: p\r\n\r\nx\r\n'))
s.quit()
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
s.starttls(context=ctx)
print('tls', s.sendmail('a@sender.test', ['t@accept.bouncy-sink.test'], b'Subject: t\r\n\r\nx\r\n'))
s.quit()
PY
)
like "$out" "starttls \[\(b'220', 300\)\] closed 300" "300 garbage handshakes after STARTTLS: each closed by the server"
like "$out" "smtps refused" "a TLS ClientHello on the plain port is refused"
like "$out" "plain \{\}" "plain client served afterwards"
like "$out" "tls \{\}" "STARTTLS client served afterwards"
kill -0 "$LISTEN_PID"; ok $? "listen still running"
r1=$(rss)
[ "$r1" -lt $((r0 + 50000)) ]; ok $? "RSS bounded (${r0} kB at start, ${r1} kB after)"
wait_for test "$(fds)" -le $((f0 + 2)); ok $? "no descriptor leaked ($(fds), idle $f0)"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; is $? 0 "SIGTERM: exit 0"
done_testing
