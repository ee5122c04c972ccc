#!/usr/bin/env bash
# listen: connection limit, command and data timeouts, SIGTERM drain, records FIFO whose
# reader goes away (back-pressure with 451 4.3.0, then recovery).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# --- max connections, timeouts
port=$(free_port)
write_config "$T/a.ini" "$port" "Max_Connections = 3" "Command_Timeout = 2" "Data_Timeout = 1" \
    "Threads = 2"
start_listen "$T/a.ini"
out=$(smtp_py "$port" 2>&1 <<'PY'
def greet(s):
    return s.recv(1000).decode().strip()
held = [socket.create_connection(('127.0.0.1', port)) for i in range(3)]
print('held', [greet(s)[:3] for s in held])
extra = socket.create_connection(('127.0.0.1', port))
extra.settimeout(5)
print('extra', greet(extra), 'then', extra.recv(1000))
held[0].close()
time.sleep(0.3)
again = socket.create_connection(('127.0.0.1', port))
again.settimeout(5)
print('again', greet(again)[:3])
PY
)
like "$out" "held \['220', '220', '220'\]" "three connections accepted"
like "$out" "extra 421 4.7.0 sink.test Too many connections then b''" "fourth: 421 4.7.0 and closed"
like "$out" "again 220" "a slot freed is reused"

out=$(smtp_py "$port" 2>&1 <<'PY'
s = socket.create_connection(('127.0.0.1', port)); s.settimeout(10)
f = s.makefile('rb')
f.readline()
t0 = time.time()
print('idle', f.readline().decode().strip(), 'eof' if f.readline() == b'' else 'open')
s = socket.create_connection(('127.0.0.1', port)); s.settimeout(10)
f = s.makefile('rb')
f.readline()
s.sendall(b'HELO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<a@accept.bouncy-sink.test>\r\nDATA\r\nSubject: slow\r\n')
for i in range(4):
    f.readline()
print('data', f.readline().decode().strip(), 'eof' if f.readline() == b'' else 'open')
PY
)
like "$out" "idle 421 4.4.2 sink.test Error: timeout exceeded eof" "command timeout: 421 4.4.2 and close"
like "$out" "data 421 4.4.2 sink.test Error: timeout exceeded eof" "data timeout: 421 4.4.2 and close"
is "$(ls "$T/spool" | wc -l)" 0 "nothing spooled from the timed-out DATA"

# --- SIGTERM: idle sessions get 421 at once, open transactions may finish, then exit 0
port=$(free_port)
write_config "$T/b.ini" "$port" "Shutdown_Timeout = 2"
start_listen "$T/b.ini" "$T/records-b"
smtp_py "$port" > "$T/term" 2>&1 <<PY &
def conn():
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(10)
    f = s.makefile('rb'); f.readline()
    return s, f
def ask(s, f, cmd, n=1):
    s.sendall(cmd)
    return [f.readline().decode().strip() for i in range(n)]
idle, fi = conn(); ask(idle, fi, b'HELO a\r\n')
busy, fb = conn()
print('busy', ask(busy, fb, b'HELO b\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<t@accept.bouncy-sink.test>\r\nDATA\r\n', 4)[-1])
stuck, fs = conn()
ask(stuck, fs, b'HELO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@accept.bouncy-sink.test>\r\nDATA\r\n', 4)
busy.sendall(b'Subject: part one\r\n')
open(T + '/ready', 'w').close()
time.sleep(1.0)   # SIGTERM arrives meanwhile
print('idle', fi.readline().decode().strip())
try:
    socket.create_connection(('127.0.0.1', port), timeout=2); print('new accepted')
except OSError:
    print('new refused')
print('busy', ask(busy, fb, b'\r\nbody\r\n.\r\n', 2))
print('stuck', fs.readline().decode().strip())
PY
py=$!
wait_for test -e "$T/ready"
kill -TERM "$LISTEN_PID"
wait "$py"
wait "$LISTEN_PID"; rc=$?
term=$(cat "$T/term")
like "$term" "idle 421 4.3.2 sink.test Service shutting down" "SIGTERM: idle session gets 421 at once"
like "$term" "new refused" "SIGTERM: no new connections"
like "$term" "busy \['250 2.0.0 Ok: queued as [0-9a-f]{16}', '421 4.3.2 " \
    "SIGTERM: open transaction finishes with 250, then 421"
like "$term" "stuck 421 4.3.2 " "SIGTERM: a transaction past the deadline gets 421"
is "$rc" 0 "SIGTERM: exit 0"
is "$(grep -l 'part one' "$T"/spool/*.msg 2>/dev/null | wc -l)" 1 "the finished message is spooled"
is "$(grep -l 'u@accept' "$T"/spool/*.msg 2>/dev/null | wc -l)" 0 "the unfinished one is not"
rm -f "$T"/spool/*.msg

# --- records FIFO: reader goes away, back-pressure, recovery
port=$(free_port)
mkfifo "$T/fifo"
write_config "$T/c.ini" "$port" "Records_Queue = 3" "Records = $T/fifo"
cat "$T/fifo" > "$T/got1" &
reader=$!
start_listen "$T/c.ini" "$T/stdout-c"
smtp_py "$port" > "$T/fifo.out" 2>&1 <<PY &
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('x'); s.docmd('MAIL FROM:<a@b.test>')
print('first', s.docmd('RCPT TO:<550@inband.bouncy-sink.test>')[0])
open(T + '/step1', 'w').close()
while not os.path.exists(T + '/step2'):
    time.sleep(0.05)
codes = []
for i in range(8):
    codes.append(s.docmd('RCPT TO:<550@inband.bouncy-sink.test>')[0])
    time.sleep(0.05)
print('reader gone', codes)
print('accept still', s.docmd('RCPT TO:<x@accept.bouncy-sink.test>')[0])
open(T + '/step3', 'w').close()
while not os.path.exists(T + '/step4'):
    time.sleep(0.05)
time.sleep(0.5)
print('recovered', s.docmd('RCPT TO:<550@inband.bouncy-sink.test>')[0])
s.quit()
PY
py=$!
wait_for test -e "$T/step1"
wait_for test -s "$T/got1"
kill "$reader"; wait "$reader" 2>/dev/null
touch "$T/step2"
wait_for test -e "$T/step3"
cat "$T/fifo" > "$T/got2" &
reader=$!
touch "$T/step4"
wait "$py"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
wait "$reader" 2>/dev/null
fifo=$(cat "$T/fifo.out")
like "$fifo" "first 550" "record written while the reader is there"
like "$fifo" "reader gone \[550, .*451" "reader gone: SMTP goes on, queue fills, then 451 4.3.0"
like "$fifo" "accept still 250" "spooled streams are not held back"
like "$fifo" "recovered 550" "new reader: records flow again"
is "$(wc -l < "$T/got1")" 1 "first reader got the first record"
n2=$(grep -c '"kind":"inband"' "$T/got2")
[ "$n2" -ge 3 ]; ok $? "queued records delivered to the new reader ($n2)"
like "$(cat "$T/listen.err")" "records reader of .* went away" "warned about the lost reader"

# --- --records PATH overrides stdout and [Listen] Records
port=$(free_port)
write_config "$T/d.ini" "$port" "Records = $T/not-this"
bg "$BS_BIN/listen" -c "$T/d.ini" --records "$T/opt.ndjson" > "$T/stdout-d" 2>> "$T/listen.err"
pid=$BG_PID
wait_port "$port"
smtp_py "$port" > /dev/null 2>&1 <<'PY'
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('opt.test'); s.docmd('MAIL FROM:<a@b.test>')
s.docmd('RCPT TO:<554@inband.bouncy-sink.test>')
s.quit()
PY
kill -TERM "$pid"; wait "$pid"
like "$(cat "$T/opt.ndjson")" '"kind":"inband".*"code":554' "--records PATH receives the records"
is "$(wc -c < "$T/stdout-d")" 0 "nothing on stdout"
[ ! -e "$T/not-this" ]; ok $? "[Listen] Records overridden"

done_testing
