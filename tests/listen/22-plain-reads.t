#!/usr/bin/env bash
# listen: how a plain connection is read (issue 21). Traced with strace, a read is one
# system call: no FIONREAD ioctl on the client's socket before it (libevent 2.1's
# bufferevent asks one before every read). Pipelined transactions, spooled with fsync (the
# session waits for a spool thread between them), a body larger than one read, BDAT, a
# balancer's PROXY header and a client that vanishes mid-command all get their replies.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
command -v strace > /dev/null || { fail "strace installed"; done_testing; exit 1; }
# strace -o FILE PROG blocks fatal signals (-I4): SIGTERM goes to listen, its child.

port=$(free_port)
write_config "$T/c.ini" "$port" "Fsync = yes" "Proxy_Networks = 127.0.0.2"
bg strace -f -qq -y -e trace=ioctl,read,readv,recv,recvfrom,recvmsg -o "$T/trace" \
    "$BS_BIN/listen" -c "$T/c.ini" 2>> "$T/listen.err"
pid=$BG_PID
wait_port "$port" 20 || fail "listen under strace did not start"

out=$(smtp_py "$port" <<'PY'
def replies(f, n):
    codes = []
    for _ in range(n):
        line = f.readline()
        while line[3:4] == b'-':
            line = f.readline()
        codes.append(line[:3].decode())
    return ' '.join(codes)

def session(src, proxy=b''):
    s = socket.create_connection(('127.0.0.1', port), source_address=(src, 0))
    s.settimeout(10)
    f = s.makefile('rb')
    s.sendall(proxy)
    print('greeting', replies(f, 1))
    s.sendall(b'EHLO client.test\r\n')
    print('ehlo', replies(f, 1))
    return s, f

s, f = session('127.0.0.1')
got = []
for i in range(10):  # MAIL, RCPT, DATA pipelined; the body after the 354
    s.sendall(b'MAIL FROM:<a@sender.test>\r\nRCPT TO:<p%d@accept.bouncy-sink.test>\r\nDATA\r\n' % i)
    got.append(replies(f, 3))
    s.sendall(b'Subject: %d\r\n\r\nbody %d\r\n.\r\n' % (i, i))
    got.append(replies(f, 1))
print('pipelined', ' '.join(got))
big = b'Subject: big\r\n\r\n' + b'x' * 76 + b'\r\n'
big = big + (b'y' * 76 + b'\r\n') * 600  # 47 KB: several reads
s.sendall(b'MAIL FROM:<a@sender.test>\r\nRCPT TO:<big@accept.bouncy-sink.test>\r\nDATA\r\n')
print('big', replies(f, 3), end=' ')
s.sendall(big + b'.\r\n')
print(replies(f, 1))
body = b'Subject: bdat\r\n\r\nin two chunks\r\n'
s.sendall(b'MAIL FROM:<a@sender.test>\r\nRCPT TO:<bdat@accept.bouncy-sink.test>\r\n'
          b'BDAT 10\r\n' + body[:10] + b'BDAT %d LAST\r\n' % (len(body) - 10) + body[10:])
print('bdat', replies(f, 4))
s.sendall(b'QUIT\r\n')
print('quit', replies(f, 1), 'eof' if f.readline() == b'' else 'open')
s.close()

s, f = session('127.0.0.2', b'PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\n')
s.sendall(b'MAIL FROM:<a@sender.test>\r\nRCPT TO:<proxied@accept.bouncy-sink.test>\r\nDATA\r\n')
print('proxied', replies(f, 3), end=' ')
s.sendall(b'Subject: p\r\n\r\nproxied\r\n.\r\nQUIT\r\n')
print(replies(f, 2))
s.close()

s, f = session('127.0.0.1')  # gone in the middle of a command
s.sendall(b'MAIL FROM:<a@sen')
s.close()
s, f = session('127.0.0.1')
s.sendall(b'NOOP\r\nQUIT\r\n')
print('after', replies(f, 2))
PY
)
diag "$out"
like "$out" "pipelined (250 250 354 250 ?){10}$" "ten pipelined transactions, each with its replies"
like "$out" "big 250 250 354 250" "a 47 KB body over several reads: accepted"
like "$out" "bdat 250 250 250 250" "BDAT in two chunks: accepted"
like "$out" "quit 221 eof" "QUIT: 221 and closed"
is "$(grep -c '^greeting 220$' <<< "$out")" 4 "four greetings, one after a balancer's PROXY header"
like "$out" "proxied 250 250 354 250 221" "the proxied client's message accepted"
like "$out" "after 250 221" "a client gone mid-command leaves listen serving the next"
is "$(find "$T/spool" -maxdepth 1 -name '*.msg' | wc -l)" 13 "thirteen messages spooled"
big=$(grep -l '^Subject: big' "$T/spool"/*.msg)
is "$(grep -cE '^y{76}'$'\r''?$' "$big")" 600 "the big body spooled whole"
pkill -TERM -P "$pid"
wait "$pid"
socket_reads=$(grep -cE '^[0-9]+ +(read|readv|recv|recvfrom|recvmsg)\([0-9]+<socket:' "$T/trace")
[ "$socket_reads" -gt 20 ]; ok $? "the trace shows listen's reads of the sockets ($socket_reads)"
fionread=$(grep -E '^[0-9]+ +ioctl\([0-9]+<socket:.*FIONREAD' "$T/trace")
is "$(printf '%s' "$fionread" | grep -c .)" 0 "no FIONREAD ioctl on a socket"
done_testing
