#!/usr/bin/env bash
# listen: with Fsync = yes, concurrent sessions' spool files are made durable in groups (one
# directory fsync per group): every message that got 250 has all its files in the spool, a
# refused one (full spool, 452) has none, no temporary file is left, and the stop line counts
# fewer groups than jobs. A group failing at its fsync/rename: tests/unit/listen/spool_test.c.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# load PORT SESSIONS MSGS: SESSIONS concurrent sessions, MSGS messages each to two spooled
# recipients; prints "queued TAG" or "refused TAG CODE" per message
load() {
    smtp_py "$1" <<PY
import threading
out, lock = [], threading.Lock()
def session(n):
    s = smtplib.SMTP('127.0.0.1', port, timeout=60)
    body = ('x' * 76 + '\r\n') * 100   # ~8 KB
    for i in range($3):
        tag = 's%02dm%02d' % (n, i)
        try:
            s.sendmail('a@sender.test', ['r1@accept.bouncy-sink.test', 'r2@oob.bouncy-sink.test'],
                       ('Subject: %s\r\n\r\n' % tag + body).encode())
            line = 'queued ' + tag
        except smtplib.SMTPDataError as e:
            line = 'refused %s %d' % (tag, e.smtp_code)
        with lock:
            out.append(line)
    s.quit()
ts = [threading.Thread(target=session, args=(n,)) for n in range($2)]
for t in ts: t.start()
for t in ts: t.join()
print('\n'.join(out))
PY
}
# check SPOOL OUT: every queued tag has its two files, no refused one has any
check() {
    local spool=$1 out=$2 missing=0 extra=0 tag c
    for tag in $(sed -n 's/^queued //p' "$out"); do
        c=$(grep -l "^Subject: $tag" "$spool"/*.msg 2>/dev/null | wc -l)
        [ "$c" = 2 ] || { missing=$((missing + 1)); diag "$tag has $c files"; }
    done
    for tag in $(sed -n 's/^refused \([^ ]*\) .*/\1/p' "$out"); do
        c=$(grep -l "^Subject: $tag" "$spool"/*.msg 2>/dev/null | wc -l)
        [ "$c" = 0 ] || { extra=$((extra + 1)); diag "refused $tag has $c files"; }
    done
    is "$missing" 0 "every 250 has its two files in the spool"
    is "$extra" 0 "no file of a refused message"
    is "$(ls "$spool" | grep -c '\.msg$')" "$(( $(grep -c '^queued' "$out") * 2 ))" "no other file"
    is "$(ls -A "$spool" | grep -vc '\.msg$')" 0 "no temporary file left"
}

# 1: the test directory's file system (real fsyncs), 48 sessions x 4 messages
port=$(free_port)
write_config "$T/c.ini" "$port" "Fsync = yes" "Threads = 2" "Spool_Threads = 8" "Max_Connections = 200"
start_listen "$T/c.ini"
load "$port" 48 4 > "$T/out1" 2>&1
is "$(grep -c '^queued' "$T/out1")" 192 "192 messages from 48 concurrent sessions got 250"
check "$T/spool" "$T/out1"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; ok $? "exit 0"
line=$(grep 'spool jobs made durable in' "$T/listen.err")
diag "$line"
jobs=$(echo "$line" | sed -n 's/.*stopped: \([0-9]*\) spool jobs made durable in \([0-9]*\) groups.*/\1/p')
groups=$(echo "$line" | sed -n 's/.*stopped: \([0-9]*\) spool jobs made durable in \([0-9]*\) groups.*/\2/p')
is "$jobs" 192 "the stop line counts 192 jobs made durable"
ok "$(( !(groups > 0 && groups < jobs) ))" "in fewer groups ($groups) than jobs: directory fsyncs shared"

# 2: a 1 MB tmpfs filling up under 32 concurrent sessions: 452 for some, nothing half-written
spool=$T/small
mkdir -p "$spool"
if mount -t tmpfs -o size=1m bs-listen-group "$spool"; then
    pass "1 MB tmpfs mounted"
else
    fail "mount -t tmpfs (needs root)"; done_testing; exit 1
fi
trap 'umount "$spool" 2>/dev/null; _cleanup' EXIT
port=$(free_port)
write_config "$T/d.ini" "$port" "Spool = $spool" "Fsync = yes" "Threads = 2" "Spool_Threads = 8" \
    "Max_Connections = 200"
start_listen "$T/d.ini"
load "$port" 32 4 > "$T/out2" 2>&1
q=$(grep -c '^queued' "$T/out2")
r=$(grep -c '^refused .* 452$' "$T/out2")
diag "$q queued, $r refused"
is "$((q + r))" 128 "every message answered 250 or 452"
ok "$(( !(q > 0 && r > 0) ))" "some accepted, some refused (spool full)"
check "$spool" "$T/out2"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; ok $? "exit 0"
umount "$spool"; ok $? "tmpfs unmounted"
done_testing
