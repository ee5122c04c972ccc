#!/usr/bin/env bash
# faults: listen with a spool it cannot write (a read-only tmpfs: root ignores mode bits, so
# chmod is not enough) answers 452 4.3.1 to DATA, leaves nothing behind, keeps serving;
# when the spool becomes writable again mail is accepted. (A full spool: listen/04-diskfull.t.)
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"

spool=$T/spool-ro
mkdir -p "$spool"
if mount -t tmpfs -o ro,size=1m bs-fault-ro "$spool"; then
    pass "read-only tmpfs mounted"
else
    fail "mount -t tmpfs -o ro (needs root)"; done_testing; exit 1
fi
trap 'umount "$spool" 2>/dev/null; _cleanup' EXIT
touch "$spool/x" 2>/dev/null; ok $(( ! $? )) "the spool is really not writable (even for root)"

port=$(free_port)
UPSTREAM=0 write_config "$T/c.ini" "$port" "Spool = $spool" "Threads = 2"
start_listen "$T/c.ini"
kill -0 "$LISTEN_PID" 2>/dev/null; ok $? "listen starts with a read-only spool"

send() { # send TAG: one message to two spooled streams; prints TAG and the outcome
    smtp_py "$port" <<PY
tag = '$1'
s = smtplib.SMTP('127.0.0.1', port)
try:
    print(tag, s.sendmail('a@sender.test', ['r1@accept.bouncy-sink.test', 'r2@oob.bouncy-sink.test'],
                          b'Subject: ro\r\n\r\nbody\r\n'))
except smtplib.SMTPDataError as e:
    print(tag, e.smtp_code, e.smtp_error.decode())
print(tag, 'noop', s.noop()[0])
s.quit()
PY
}
out=$(send ro1; send ro2)
like "$out" "ro1 452 4.3.1 " "DATA answered 452 4.3.1"
like "$out" "ro2 452 4.3.1 " "again 452 (no crash, no stuck state)"
like "$out" "ro1 noop 250" "the session goes on after the 452"
is "$(ls -A "$spool" | wc -l)" 0 "nothing (not even a temporary file) in the spool"
kill -0 "$LISTEN_PID" 2>/dev/null; ok $? "listen still running"

mount -o remount,rw "$spool"; ok $? "spool made writable"
out=$(send rw)
like "$out" "rw \{\}" "then the message is accepted"
is "$(ls "$spool"/*.msg 2>/dev/null | wc -l)" 2 "two spool files (one per recipient)"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; is $? 0 "SIGTERM: exit 0"
done_testing
