#!/usr/bin/env bash
# listen: SMTP smuggling (CVE-2023-51764 class) with a raw socket client. Only
# <CRLF>.<CRLF> ends DATA: "<LF>.<CRLF>" and "<LF>.<LF>" (and the <CR> forms) followed by a
# second transaction with a forged sender leave exactly one message spooled, with the
# envelope of the real transaction. Bare line ends: Bare_Newline = normalize (default)
# stores a bare <LF> as <CRLF> and takes it for a command line end; reject answers 550
# 5.5.2 and closes. Input pipelined after a refused DATA is refused (554 5.5.0), not run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
write_config "$T/c.ini" "$port"
start_listen "$T/c.ini"

# smuggle PORT FORM: one DATA whose body holds FORM, then a forged second transaction.
smuggle() {
    smtp_py "$1" <<PY
form = $2
s = socket.create_connection(('127.0.0.1', port))
f = s.makefile('rb')
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        if not l:
            return 'closed'
        lines.append(l.strip())
        if l[3:4] != '-':
            return ' | '.join(lines)
reply()
s.sendall(b'EHLO client.test\r\n'); reply()
s.sendall(b'MAIL FROM:<real@sender.test>\r\n'); print('mail', reply())
s.sendall(b'RCPT TO:<victim@accept.bouncy-sink.test>\r\n'); print('rcpt', reply())
s.sendall(b'DATA\r\n'); print('data', reply())
s.sendall(b'From: real@sender.test\r\nSubject: first\r\n\r\nhello' + form +
          b'MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<target@accept.bouncy-sink.test>\r\nDATA\r\n'
          b'From: ceo@bank.test\r\nSubject: smuggled\r\n\r\npay now\r\n.\r\n')
s.settimeout(5)
print('end', reply())
s.sendall(b'QUIT\r\n')
try:
    print('after', reply())
except Exception as e:
    print('after', 'error', e)
PY
}

n=0
for form in 'b"\n.\r\n"' 'b"\n.\n"' 'b"\r.\r\n"' 'b"\r\n.\n"'; do
    n=$((n + 1))
    rm -rf "$T/spool"/*.msg
    out=$(smuggle "$port" "$form" 2>&1)
    like "$out" 'data 354 ' "form $n $form: DATA 354"
    like "$out" 'end 250 2.0.0 Ok: queued as [0-9a-f]{16}' "form $n: the message ends at the real <CRLF>.<CRLF>"
    is "$(grep -c 'queued as' <<< "$out")" 1 "form $n: one 'queued as', no reply for a second transaction"
    like "$out" 'after 221 ' "form $n: QUIT answered next (nothing else was read as commands)"
    mapfile -t files < <(ls "$T/spool"/*.msg 2>/dev/null)
    is "${#files[@]}" 1 "form $n: exactly one spool file"
    f=${files[0]:-/dev/null}
    is "$(sed -n 1p "$f")" $'Return-Path: <real@sender.test>\r' "form $n: Return-Path is the real sender"
    like "$(sed -n 3p "$f")" ' for <victim@accept\.bouncy-sink\.test>; .*\(envelope-from <real@sender\.test>\)' \
        "form $n: Received names the real recipient and sender"
    ! grep -q 'Return-Path: <ceo@bank.test>\|for <target@' "${files[@]}" /dev/null
    ok $? "form $n: the smuggled MAIL FROM / RCPT TO are no envelope of any spool file"
    grep -q $'^MAIL FROM:<ceo@bank.test>\r$' "$f"
    ok $? "form $n: the smuggled commands are content of the one message"
done

# normalize: the body's bare <LF> is stored as <CRLF>; a command line may end in a bare <LF>
rm -rf "$T/spool"/*.msg
out=$(smtp_py "$port" 2>&1 <<'PY'
s = socket.create_connection(('127.0.0.1', port))
s.settimeout(10)
f = s.makefile('rb')
f.readline()
s.sendall(b'HELO client.test\nMAIL FROM:<a@sender.test>\nRCPT TO:<n@accept.bouncy-sink.test>\nDATA\n')
for i in range(4):
    print('cmd', f.readline().decode().strip())
s.sendall(b'Subject: lf\n\nline one\nline two\r\n.\r\n')
print('end', f.readline().decode().strip())
PY
)
is "$(grep -c '^cmd \(250\|354\) ' <<< "$out")" 4 "normalize: commands ending in a bare <LF> are taken"
like "$out" 'end 250 2.0.0 Ok: queued' "normalize: message with bare <LF> lines queued"
f=$(ls "$T/spool"/*.msg 2>/dev/null | head -1)
printf 'Subject: lf\r\n\r\nline one\r\nline two\r\n' > "$T/want.body"
cmp <(tail -c +"$(( $(head -3 "$f" | wc -c) + 1 ))" "$f") "$T/want.body" > /dev/null
ok $? "normalize: bare <LF> stored as <CRLF>"

# input pipelined after a refused DATA is not run as commands
rm -rf "$T/spool"/*.msg
out=$(smtp_py "$port" 2>&1 <<'PY'
s = socket.create_connection(('127.0.0.1', port))
s.settimeout(10)
f = s.makefile('rb')
f.readline()
s.sendall(b'HELO client.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<x@elsewhere.test>\r\n')
for i in range(3):
    f.readline()
s.sendall(b'DATA\r\nMAIL FROM:<ceo@bank.test>\r\nRCPT TO:<t@accept.bouncy-sink.test>\r\nDATA\r\nhi\r\n.\r\n')
while True:
    try:
        l = f.readline().decode()
    except OSError:
        print('timeout')
        break
    if not l:
        print('closed')
        break
    print('reply', l.strip())
PY
)
like "$out" 'reply 554 5.5.1 Error: no valid recipients' "refused DATA: 554 5.5.1"
like "$out" 'reply 554 5.5.0 sink.test Error: SMTP protocol synchronization' "input after it: 554 5.5.0"
unlike "$out" 'reply (250|354)' "none of the pipelined commands was run"
like "$out" 'closed' "connection closed"
is "$(ls "$T/spool" | grep -c '\.msg$')" 0 "nothing spooled"

# Bare_Newline = reject: 550 5.5.2 and close, in commands and in DATA, nothing spooled
port2=$(free_port)
mkdir -p "$T/r"
write_config "$T/r.ini" "$port2" "Spool = $T/r/spool" "Bare_Newline = reject"
start_listen "$T/r.ini" "$T/r/records"
try() { # try LABEL COMMANDS DATA: prints every reply until the server closes
    smtp_py "$port2" <<PY
s = socket.create_connection(('127.0.0.1', port))
s.settimeout(10)
f = s.makefile('rb')
s.sendall($2)
data = $3
out = []
while True:
    try:
        l = f.readline().decode()
    except OSError:
        out.append('timeout')
        break
    if not l:
        break
    out.append(l.strip())
    if l.startswith('354') and data:
        s.sendall(data)
print(' | '.join(out))
PY
}
cmds='b"EHLO c.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<r@accept.bouncy-sink.test>\r\nDATA\r\n"'
out=$(try cmd-lf 'b"EHLO c.test\r\nNOOP\nNOOP\r\n"' None 2>&1)
like "$out" '550 5\.5\.2 sink\.test Error: bare <LF> received$' "reject: command ending in bare <LF>: 550 5.5.2, closed"
unlike "$out" '250 2\.0\.0 Ok' "reject: that command was not run"
out=$(try data-lf "$cmds" 'b"a\nb\r\n.\r\n"' 2>&1)
like "$out" '354 .*\| 550 5\.5\.2 sink\.test Error: bare <LF> received$' "reject: bare <LF> in DATA: 550 5.5.2, closed"
out=$(try data-smuggle "$cmds" 'b"a\r\n.\nMAIL FROM:<ceo@bank.test>\r\n.\r\n"' 2>&1)
like "$out" '354 .*\| 550 5\.5\.2 sink\.test Error: bare <LF> received$' "reject: <CRLF>.<LF> in DATA: 550 5.5.2, closed"
out=$(try data-cr "$cmds" 'b"a\rb\r\n.\r\n"' 2>&1)
like "$out" '354 .*\| 550 5\.5\.2 sink\.test Error: bare <CR> received$' "reject: bare <CR> in DATA: 550 5.5.2, closed"
is "$(ls "$T/r/spool" | grep -c '\.msg$')" 0 "reject: nothing spooled"
out=$(try clean "$cmds" 'b"Subject: ok\r\n\r\nfine\r\n.\r\nQUIT\r\n"' 2>&1)
like "$out" '250 2\.0\.0 Ok: queued as .*\| 221 ' "reject: a clean message is queued"

# a bad value is a configuration error naming FILE:LINE
write_config "$T/bad.ini" "$(free_port)" "Bare_Newline = sometimes"
"$BS_BIN/listen" -c "$T/bad.ini" > /dev/null 2> "$T/bad.err"
is "$?" 78 "Bare_Newline = sometimes: exit 78"
like "$(cat "$T/bad.err")" "bad\.ini:[0-9]+: \[Listen\] Bare_Newline: 'sometimes' is not normalize or reject" \
    "the error names FILE:LINE and the values"
done_testing
