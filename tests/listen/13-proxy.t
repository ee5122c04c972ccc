#!/usr/bin/env bash
# listen: the PROXY protocol (issue 19). From a trusted balancer ([Listen] Proxy_Networks)
# no greeting before the header; v1 and v2 (with TLVs, IPv6) name the client that the
# records, the Received field and throttling then use; v2 LOCAL (a health check) keeps the
# balancer's address; a malformed header, a silent balancer (Proxy_Timeout) and one that
# closes get a warning and no session, as in Postfix; a header trickling in is cut at
# Proxy_Timeout after the connect. From an untrusted address the normal
# greeting, and a PROXY line is a protocol error that changes no address. A bad range in
# Proxy_Networks: exit 78, saying why.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
UPSTREAM=0 write_config "$T/a.ini" "$port" "Proxy_Networks = 127.0.0.2, 10.9.0.0/16" \
    "Proxy_Timeout = 2" "Throttle_Max_Connections_Per_IP = 1"
start_listen "$T/a.ini"

cat > "$T/proxy.py" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
SIG = b'\r\n\r\n\x00\r\nQUIT\n'

def conn(src):
    s = socket.create_connection(('127.0.0.1', port), source_address=(src, 0))
    s.settimeout(6)
    return s, s.makefile('rb')

def v2(cmd, fam, addrs, tlvs=b''):
    body = addrs + tlvs
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack('!H', len(body)) + body

def mail(s, f, rcpt):
    for cmd in (b'EHLO client.test', b'MAIL FROM:<a@sender.test>', b'RCPT TO:<%s>' % rcpt,
                b'DATA'):
        s.sendall(cmd + b'\r\n')
        line = f.readline()
        while line[3:4] == b'-':
            line = f.readline()
    s.sendall(b'Subject: t\r\n\r\nbody\r\n.\r\n')
    r = f.readline().decode().strip()
    s.sendall(b'QUIT\r\n'); f.readline(); s.close()
    return r[:3]

def silent_greeting(s):
    s.settimeout(0.5)
    try:
        return s.recv(100) or b'eof'
    except socket.timeout:
        return b'none'
    finally:
        s.settimeout(6)

# v1 from the balancer: nothing before the header, then the proxied client's session
s, f = conn('127.0.0.2')
print('v1 early', silent_greeting(s).decode())
s.sendall(b'PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\n')
print('v1 greeting', f.readline()[:3].decode())
print('v1 mail', mail(s, f, b'v1@bouncy-sink.test'))

# v2 over IPv6 with TLVs (ALPN, AUTHORITY, NOOP), sent in two pieces
addrs = socket.inet_pton(socket.AF_INET6, '2001:db8::5') + \
    socket.inet_pton(socket.AF_INET6, '2001:db8::1') + struct.pack('!HH', 5555, 25)
tlvs = b'\x01\x00\x02h2' + b'\x02\x00\x08mx.test.' + b'\x04\x00\x03\x00\x00\x00'
hdr = v2(1, 0x21, addrs, tlvs)
s, f = conn('127.0.0.2')
s.sendall(hdr[:9]); time.sleep(0.2); s.sendall(hdr[9:])
print('v2 greeting', f.readline()[:3].decode())
print('v2 mail', mail(s, f, b'v2@bouncy-sink.test'))

# throttling counts the proxied address: one connection per client IP
a, fa = conn('127.0.0.2'); a.sendall(b'PROXY TCP4 192.0.2.8 127.0.0.1 1 25\r\n')
b, fb = conn('127.0.0.2'); b.sendall(b'PROXY TCP4 192.0.2.8 127.0.0.1 2 25\r\n')
c, fc = conn('127.0.0.2'); c.sendall(b'PROXY TCP4 192.0.2.9 127.0.0.1 3 25\r\n')
print('throttle', fa.readline()[:3].decode(), fb.readline()[:9].decode(), fc.readline()[:3].decode())
for x in (a, b, c): x.close()

# v2 LOCAL: the balancer's health check is served as the balancer itself
s, f = conn('127.0.0.2')
s.sendall(v2(0, 0x00, b''))
print('local greeting', f.readline()[:3].decode())
print('local mail', mail(s, f, b'local@bouncy-sink.test'))

# a malformed header, a silent balancer, one that closes at once
s, f = conn('127.0.0.2'); s.sendall(b'EHLO not.a.proxy\r\n')
print('malformed', f.readline().decode().strip(), 'eof' if f.readline() == b'' else 'open')
s, f = conn('127.0.0.2'); s.sendall(b'PROXY TCP4 192.0.2.1 127.0.0.1 1\r\n')
print('short v1', f.readline()[:9].decode())
# the clock starts before the connect, so a reply before Proxy_Timeout (2 s) is seen as such
t0 = time.monotonic(); s, f = conn('127.0.0.2'); s.sendall(b'PROXY TCP4 192.0.2.1 ')
line = f.readline().decode().strip()
print('silent', line[:9], 'after %.2f s' % (time.monotonic() - t0))
s, f = conn('127.0.0.2'); s.close()
# a header trickling in, a byte every 1.9 s: never 2 s without a byte, so a timer that each
# byte restarts never fires (the header would complete); Proxy_Timeout counts from the
# connect, so the 421 comes at 2 s, between the second byte (1.9 s) and the third (3.8 s),
# where a deadline checked only when a byte arrives would cut
t0 = time.monotonic(); s, f = conn('127.0.0.2'); s.settimeout(1.9)
line, sent = b'', 0
for ch in b'PROXY TCP4 192.0.2.1 127.0.0.1 1 25\r\n'[:5]:
    try:
        s.sendall(bytes([ch])); sent += 1
        line = s.recv(100)
        if line:
            break
    except socket.timeout:
        pass
    except OSError:
        break
print('trickle', line[:9].decode(), 'after %.2f s, %d bytes sent' % (time.monotonic() - t0, sent))
s.close()

# untrusted: the greeting at once; a PROXY line is an error and changes nothing
s, f = conn('127.0.0.1')
print('untrusted greeting', f.readline()[:3].decode())
s.sendall(b'PROXY TCP4 192.0.2.66 127.0.0.1 4321 25\r\n')
print('untrusted proxy', f.readline()[:1].decode())
print('untrusted mail', mail(s, f, b'untrusted@bouncy-sink.test'))
s, f = conn('127.0.0.1')
f.readline()
s.sendall(v2(1, 0x11, socket.inet_aton('192.0.2.67') + socket.inet_aton('127.0.0.1') + b'\0\1\0\31'))
print('untrusted v2', f.readline()[:1].decode())
s.close()
PY
out=$(python3 "$T/proxy.py" "$port" 2>&1)
diag "$out"
like "$out" "v1 early none" "v1: no greeting before the header"
like "$out" "v1 greeting 220" "v1: the greeting after the header"
like "$out" "v1 mail 250" "v1: a message accepted"
like "$out" "v2 greeting 220" "v2 with TLVs, in two pieces: greeting"
like "$out" "v2 mail 250" "v2: a message accepted"
like "$out" "throttle 220 421 4.7.0 220" \
    "throttling counts the proxied address (192.0.2.8 twice refused, 192.0.2.9 served)"
like "$out" "local greeting 220" "v2 LOCAL: greeting"
like "$out" "local mail 250" "v2 LOCAL: a message accepted"
like "$out" "malformed 421 4.3.0 .* eof" "a malformed header: 421 4.3.0 and closed"
like "$out" "short v1 421 4.3.0" "a v1 line with a field missing: 421 4.3.0"
# after Proxy_Timeout (2 s), never before; 1.8 s of slack for a loaded machine
like "$out" "silent 421 4.3.0 after (2\.|3\.[0-7])" "a header not complete in Proxy_Timeout: 421 and closed"
like "$out" "trickle 421 4.3.0 after (2\.|3\.[0-7])[0-9]* s, [23] bytes sent" \
    "a header trickling in: 421 at Proxy_Timeout after the connect (not at a later byte)"
like "$out" "untrusted greeting 220" "untrusted: greeted at once"
like "$out" "untrusted proxy 5" "untrusted: a PROXY line is a protocol error (5xx)"
like "$out" "untrusted mail 250" "untrusted: the session goes on"
like "$out" "untrusted v2 5" "untrusted: a v2 header is a protocol error (5xx)"

kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
ok $? "listen stops cleanly"

# ip_of RCPT: the client address in the Received field listen spooled for RCPT
ip_of() {
    grep -h "^Received: .* for <$1>" "$T"/spool/*.msg | sed -n 's/^Received: from [^ ]* (\([^)]*\)).*/\1/p'
}
is "$(ip_of v1@bouncy-sink.test)" "192.0.2.7" "v1: the spooled Received field names the proxied client"
is "$(ip_of v2@bouncy-sink.test)" "2001:db8::5" "v2: the Received field names the proxied IPv6 client"
is "$(ip_of local@bouncy-sink.test)" "127.0.0.2" "LOCAL: the balancer's own address"
is "$(ip_of untrusted@bouncy-sink.test)" "127.0.0.1" "untrusted: the connection's address"
unlike "$(cat "$T/records" "$T"/spool/*.msg)" "192\.0\.2\.6[67]" \
    "no record or spooled message names an untrusted PROXY address"
is "$(jq -r 'select(.kind == "throttle") | .client_ip' "$T/records")" "192.0.2.8" \
    "the throttle record names the proxied client"
err=$(cat "$T/listen.err")
like "$err" "PROXY header from 127\.0\.0\.2: not a PROXY header" "warning: malformed header"
like "$err" "PROXY header from 127\.0\.0\.2: timeout" "warning: timeout"
like "$err" "PROXY header from 127\.0\.0\.2: connection closed" "warning: closed without a header"
like "$err" "PROXY headers read" "the stop summary counts PROXY headers"
# a trusted network with a bad prefix: a configuration error that says why (src/lib/cidr.c)
write_config "$T/bad.ini" "$port" "Proxy_Networks = 192.0.2.0/24, 10.0.0.0/33"
line=$(grep -n '^Proxy_Networks' "$T/bad.ini" | cut -d: -f1)
timeout 20 "$BS_BIN/listen" -c "$T/bad.ini" > /dev/null 2> "$T/bad.err"
is "$?" 78 "Proxy_Networks with a bad prefix: exit 78"
is "$(cat "$T/bad.err")" "listen: fatal: $T/bad.ini:$line: [Listen] Proxy_Networks: '10.0.0.0/33' is not an address or CIDR range: prefix length over 32 for an IPv4 network" \
    "Proxy_Networks: FILE:LINE, the range and why"
done_testing
