#!/usr/bin/env bash
# listen: slow receivers. A recipient of the slow subdomain gets its RCPT reply and the
# end-of-DATA reply late (Slow_Delay), while a parallel session on the same event loop
# (Threads = 1) is answered meanwhile (an ordering check, not a speed check); pipelined
# commands stay in order; the message is spooled. Slow_percent = 100: the banner is
# late too. slow records (stage, delay_ms).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
UPSTREAM=0 write_config "$T/a.ini" "$port" "Slow_Delay = fixed:1.5"
start_listen "$T/a.ini"
out=$(smtp_py "$port" 2>&1 <<'PY'
import threading
events = []
lock = threading.Lock()
def note(what):
    with lock:
        events.append(what)
def conn():
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(20)
    f = s.makefile('rb'); f.readline()
    return s, f
def ask(s, f, cmd, n=1):
    s.sendall(cmd)
    return [f.readline().decode().strip() for i in range(n)]
a, fa = conn()
ask(a, fa, b'HELO slow.test\r\n')
b, fb = conn()
ask(b, fb, b'HELO quick.test\r\n')
# slow session: pipelined MAIL, RCPT slow, RCPT accept, DATA
a.sendall(b'MAIL FROM:<s@sender.test>\r\nRCPT TO:<s@slow.bouncy-sink.test>\r\n'
          b'RCPT TO:<q@accept.bouncy-sink.test>\r\nDATA\r\n')
print('mail', fa.readline().decode().strip())
def slow_rcpt():
    r = [fa.readline().decode().strip() for i in range(3)]
    note('slow rcpt')
    print('pipelined', r)
t = threading.Thread(target=slow_rcpt); t.start()
time.sleep(0.2)
r = ask(b, fb, b'MAIL FROM:<q@sender.test>\r\nRCPT TO:<q@accept.bouncy-sink.test>\r\n', 2)
note('quick rcpt')
print('quick', r)
t.join()
a.sendall(b'Subject: slow one\r\n\r\nbody\r\n.\r\n')
def slow_data():
    r = fa.readline().decode().strip()
    note('slow data')
    print('slow data', r)
t = threading.Thread(target=slow_data); t.start()
time.sleep(0.2)
r = ask(b, fb, b'DATA\r\n', 1) + ask(b, fb, b'Subject: quick one\r\n\r\n.\r\n', 1)
note('quick data')
print('quick data', r)
t.join()
print('order', events)
ask(a, fa, b'QUIT\r\n'); ask(b, fb, b'QUIT\r\n')
PY
)
like "$out" "mail 250 2.1.0 Ok" "MAIL answered at once"
like "$out" "quick \['250 2.1.0 Ok', '250 2.1.5 Ok'\]" "parallel session answered"
like "$out" "order \['quick rcpt', 'slow rcpt', 'quick data', 'slow data'\]" \
    "the parallel session's replies come back before the slow RCPT and end-of-DATA replies"
like "$out" "pipelined \['250 2.1.5 Ok', '250 2.1.5 Ok', '354 End data" "pipelined replies stay in order"
like "$out" "slow data 250 2.0.0 Ok: queued as" "slow message accepted after the delay"
is "$(grep -l '^Subject: slow one' "$T"/spool/*.msg | xargs grep -l 's@slow.bouncy-sink.test' | wc -l)" 1 \
    "slow recipient spooled like accept"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
is "$(grep -c '"kind":"slow"' "$T/records")" 2 "two slow records (RCPT, end of DATA)"
like "$(grep '"kind":"slow"' "$T/records" | head -1)" \
    '"stream":"slow","envelope":\{"mail_from":"s@sender.test","rcpt":"s@slow.bouncy-sink.test","client_ip":"127.0.0.1","helo":"slow.test"\},"delay_ms":1500,"stage":"rcpt"' \
    "rcpt record: envelope, delay_ms, stage"
like "$(grep '"kind":"slow"' "$T/records" | tail -1)" '"delay_ms":1500,"stage":"data"' "data record"

# --- Slow_percent = 100: banner, RCPT and end-of-DATA replies of every connection are slow
port=$(free_port)
UPSTREAM=0 write_config "$T/b.ini" "$port" "Slow_percent = 100" "Slow_Delay = uniform:1-1.2"
start_listen "$T/b.ini" "$T/records-b"
out=$(smtp_py "$port" 2>&1 <<'PY'
t0 = time.time()
s = smtplib.SMTP('127.0.0.1', port)
t1 = time.time()
print('banner late', t1 - t0 >= 1.0)
s.sendmail('p@sender.test', ['p@accept.bouncy-sink.test'], 'Subject: p\r\n\r\nx\r\n')
print('sent')
s.quit()
PY
)
like "$out" "banner late True" "Slow_percent: the banner waits for the delay"
like "$out" "sent" "and the message goes through"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"
# (the first banner record is start_listen's port probe, which hung up meanwhile)
stages=$(grep '"kind":"slow"' "$T/records-b" | tail -3 | sed 's/.*"stage":"\([a-z]*\)".*/\1/' | tr '\n' ' ')
is "$stages" "banner rcpt data " "slow records of the session: banner, rcpt, data"
like "$(grep '"stage":"banner"' "$T/records-b")" '"delay_ms":1[0-2][0-9][0-9],' "delay drawn from uniform:1-1.2"

# --- SIGTERM while a slow reply is held: after Shutdown_Timeout the held reply goes out,
# then 421, and listen exits 0 without waiting for the delay
port=$(free_port)
UPSTREAM=0 write_config "$T/d.ini" "$port" "Slow_Delay = fixed:60" "Shutdown_Timeout = 1"
start_listen "$T/d.ini" "$T/records-d"
smtp_py "$port" > "$T/term" 2>&1 <<'PY' &
s = socket.create_connection(('127.0.0.1', port)); s.settimeout(30)
f = s.makefile('rb'); f.readline()
s.sendall(b'HELO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<s@slow.bouncy-sink.test>\r\n')
f.readline(); f.readline()
open(T + '/held', 'w').close()
print('held', [f.readline().decode().strip() for i in range(2)])
PY
py=$!
wait_for test -e "$T/held"
sleep 0.2
kill -TERM "$LISTEN_PID"
wait "$LISTEN_PID"; rc=$?
wait "$py"
is "$rc" 0 "SIGTERM during a slow reply: exit 0"
like "$(cat "$T/term")" "held \['250 2.1.5 Ok', '421 4.3.2 " "the held reply, then 421"

# --- a bad Slow_Delay is a configuration error
write_config "$T/c.ini" "$(free_port)" "Slow_Delay = gauss:2"
err=$("$BS_BIN/listen" -c "$T/c.ini" 2>&1 > /dev/null); rc=$?
is "$rc" 78 "bad Slow_Delay: exit 78"
like "$err" "c\.ini:[0-9]+: \[Listen\] Slow_Delay: 'gauss:2' is not fixed:S, uniform:A-B or exp:MEAN" \
    "bad Slow_Delay: FILE:LINE: [Section] Key: why"
done_testing
