#!/usr/bin/env bash
# faults: listen's records reader (a FIFO) is open but stops reading. The pipe fills, then
# Records_Queue fills; from then on in-band and mixed-stream recipients get 451 4.3.0
# (back-pressure), spooled streams are still accepted, listen's memory stays bounded, and
# when the reader resumes every queued record arrives. (A reader that goes away and comes
# back: listen/02-limits.t.)
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

port=$(free_port)
mkfifo "$T/fifo"
# A reply table without 421 (which would close the session).
printf 'random_bounce:550 5.1.1 <RCPT_USER>@<RCPT_DOMAIN>: user unknown\nrandom_bounce:552 5.2.2 mailbox full\n' > "$T/replies.dat"
UPSTREAM=100 write_config "$T/c.ini" "$port" "Records_Queue = 200" "Records = $T/fifo" \
    "InBand_Bounce_percent = 100" "InBand_Replies_File = $T/replies.dat"
# The reader: a process holding the FIFO open for reading that reads nothing until told.
python3 - "$T" > /dev/null <<'PY' &
import os, sys, time
T = sys.argv[1]
fd = os.open(T + "/fifo", os.O_RDONLY)
while not os.path.exists(T + "/resume"):
    time.sleep(0.05)
with open(T + "/got", "wb") as out:
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        out.write(b)
PY
reader=$!
start_listen "$T/c.ini" "$T/stdout"

rss() { awk '/^VmRSS/ {print $2}' "/proc/$LISTEN_PID/status"; }
# 5 rounds of 900 recipients (in-band and mixed), each round on its own connection.
smtp_py "$port" > "$T/out" 2>&1 <<'PY'
codes = {}
for rnd in range(5):
    s = smtplib.SMTP('127.0.0.1', port)
    s.ehlo('x'); s.docmd('MAIL FROM:<a@b.test>')
    for i in range(900):
        rc = s.docmd('RCPT TO:<u%d@%s.bouncy-sink.test>' % (i, 'inband' if i % 2 else 'mixed'))[0]
        codes[rc] = codes.get(rc, 0) + 1
    print('round', rnd, 'accept', s.docmd('RCPT TO:<x@accept.bouncy-sink.test>')[0])
    s.docmd('RSET')
    s.quit()
    open(T + '/round%d' % rnd, 'w').write('')
print('codes', sorted(codes.items()))
PY
out=$(cat "$T/out")
like "$out" "codes .*\(451, [0-9]+\)" "reader stalled: 451 once the queue is full"
like "$out" "round 4 accept 250" "spooled streams still accepted"
n451=$(printf '%s' "$out" | sed -n 's/.*(451, \([0-9]*\)).*/\1/p')
[ "${n451:-0}" -gt 3000 ]; ok $? "most recipients held back ($n451 of 4500 got 451)"
r1=$(rss)
kill -0 "$LISTEN_PID"; ok $? "listen alive"
# Another 4500 recipients: memory does not grow with them.
smtp_py "$port" > /dev/null 2>&1 <<'PY'
for rnd in range(5):
    s = smtplib.SMTP('127.0.0.1', port)
    s.ehlo('x'); s.docmd('MAIL FROM:<a@b.test>')
    for i in range(900):
        s.docmd('RCPT TO:<u%d@inband.bouncy-sink.test>' % i)
    s.quit()
PY
r2=$(rss)
[ "$r2" -lt $((r1 + 20000)) ]; ok $? "RSS flat while the reader is stalled (${r1} kB -> ${r2} kB)"
touch "$T/resume"
sleep 1
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; is $? 0 "SIGTERM: exit 0"
wait "$reader"
got=$(grep -c . "$T/got")
n_ok=$(( 4500 - n451 ))
# every recipient that was not held back has its record, plus the inband replies.
[ "$got" -ge "$n_ok" ]; ok $? "the resumed reader got every queued record ($got >= $n_ok)"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    json.loads(l)
' "$T/got"; ok $? "and each is a whole JSON record"
done_testing
