#!/usr/bin/env bash
# listen: the mixed-stream split over 100,000 recipients — in-band / blackholed / spooled
# within 4 sigma of Upstream_Handled and the bounce rate of the weekly cycle.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# spool on tmpfs when there is one: 50,000 small files
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    spool=$(mktemp -d /dev/shm/bs-listen-split.XXXXXX)
else
    spool=$T/spool
fi
trap 'rm -rf "$spool"; _cleanup' EXIT

# a reply table without 421 (a 421 closes the session and would cut transactions short)
grep -v '^random_bounce:421 ' "$REF/inband-replies.dat" > "$T/replies.dat"
port=$(free_port)
UPSTREAM=50 write_config "$T/c.ini" "$port" "Spool = $spool" "InBand_Replies_File = $T/replies.dat" \
    "Threads = 2"
sed -i 's/^\[Sink\]$/[Sink]\nWeekly_Cycle_Bounce_Rate = 30,30,30,30,30,30,30/' "$T/c.ini"
start_listen "$T/c.ini"

smtp_py "$port" > "$T/split" 2>&1 <<'PY'
import re
N, PER = 100000, 1000
inband = ok = other = 0
s = socket.create_connection(('127.0.0.1', port))
f = s.makefile('rb')
def reply():
    while True:
        l = f.readline()
        if l[3:4] != b'-':
            return l
reply()
s.sendall(b'EHLO split.test\r\n'); reply()
sent = 0
while sent < N:
    cmds = [b'MAIL FROM:<s@sender.test>\r\n']
    cmds += [b'RCPT TO:<u%d@bouncy-sink.test>\r\n' % (sent + i) for i in range(PER)]
    s.sendall(b''.join(cmds))
    reply()
    accepted = 0
    for i in range(PER):
        r = reply()
        code = r[:3]
        if code == b'250':
            ok += 1; accepted += 1
        elif b'record queue full' in r:
            other += 1
        elif code[:1] in (b'4', b'5'):
            inband += 1
        else:
            other += 1
    sent += PER
    if accepted:
        s.sendall(b'DATA\r\n'); reply()
        s.sendall(b'Subject: split\r\n\r\nx\r\n.\r\n')
        r = reply()
        if r[:3] != b'250':
            print('data failed', r)
    else:
        s.sendall(b'RSET\r\n'); reply()
s.sendall(b'QUIT\r\n'); reply()
print(inband, ok, other)
PY
read -r inband accepted other < <(tail -1 "$T/split")
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
spooled=$(find "$spool" -name '*.msg' | wc -l)
black=$(grep -c '"kind":"blackhole"' "$T/records")
inrec=$(grep -c '"kind":"inband"' "$T/records")
diag "in-band $inband, blackholed $black, spooled $spooled, other $other"
is "$other" 0 "every recipient got 250 or an in-band reply"
is "$((black + spooled))" "$accepted" "every 250 is either blackholed or spooled"
is "$inrec" "$inband" "one inband record per in-band reply"
python3 - "$inband" "$black" "$spooled" > "$T/sigma" <<'PY'
import math, sys
n = 100000
for name, got, p in zip(('inband', 'blackhole', 'spool'), map(int, sys.argv[1:]),
                        (0.5 * 0.3, 0.5 * 0.7, 0.5)):
    sd = math.sqrt(n * p * (1 - p))
    z = (got - n * p) / sd
    print(name, 'ok' if abs(z) <= 4 else 'bad', '%.2f' % z)
PY
while read -r name verdict z; do
    is "$verdict" ok "$name share within 4 sigma (z = $z)"
done < "$T/sigma"
n=$(find "$spool" -name '*.msg' | head -1 | xargs grep -c 'Subject: split')
is "$n" 1 "spooled files hold the message"

done_testing
