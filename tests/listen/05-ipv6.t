#!/usr/bin/env bash
# listen: several addresses, IPv4 and IPv6 (skipped when the machine has no IPv6 loopback).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

if ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2> /dev/null; then
    pass "# SKIP no IPv6 loopback on this machine"
    done_testing
    exit 0
fi
port=$(free_port)
port6=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')
write_config "$T/c.ini" "$port" "Address = 127.0.0.1:$port, [::1]:$port6" "Threads = 2"
start_listen "$T/c.ini"
out=$(smtp_py "$port" 2>&1 <<PY
for host, p in (('127.0.0.1', port), ('::1', $port6)):
    s = smtplib.SMTP(host, p)
    s.ehlo('v6.test')
    r = s.sendmail('a@sender.test', ['x@accept.bouncy-sink.test'], b'Subject: v\r\n\r\nhi\r\n')
    print(host, 'sent', r)
    s.quit()
PY
)
like "$out" "127.0.0.1 sent \{\}" "message over IPv4"
like "$out" "::1 sent \{\}" "message over IPv6"
like "$(cat "$T"/spool/*.msg)" "Received: from v6\.test \(::1\) by sink\.test" "IPv6 client address in Received"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
ok $? "exit 0"
done_testing
