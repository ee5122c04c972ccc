#!/usr/bin/env bash
# listen: how spool files come to be. Each is written as ".<id>.tmp", flushed (when
# Fsync = yes) and renamed to "<id>.msg" (the rename is what ingest -f waits for). With
# and without fsync: one complete file per recipient, nothing else in the spool, every
# file picked up by ingest -f. Traced with strace.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/listen/common.sh"
command -v strace >/dev/null || { fail "strace installed"; done_testing; exit 1; }
# strace -o FILE PROG blocks fatal signals (-I4): SIGTERM goes to listen, its child.

send() { # send PORT TAG: one message to two spooled recipients
    smtp_py "$1" <<PY
s = smtplib.SMTP('127.0.0.1', port)
print(s.sendmail('a@sender.test', ['$2-1@accept.bouncy-sink.test', '$2-2@accept.bouncy-sink.test'],
                 b'Subject: $2\r\n\r\nbody of $2\r\n'))
s.quit()
PY
}
check_spool() { # check_spool DIR TAG...: every file complete, nothing but .msg files
    local dir=$1 tag; shift
    is "$(find "$dir" -maxdepth 1 -type f | wc -l)" $(( 2 * $# )) "two files per message"
    is "$(find "$dir" -maxdepth 1 -type f ! -name '*.msg' | wc -l)" 0 "no temporary file left"
    for tag in "$@"; do
        is "$(grep -l "^body of $tag" "$dir"/*.msg | wc -l)" 2 "$tag: both recipients' files hold the body"
    done
}

for fsync in no yes; do
    port=$(free_port)
    rm -rf "$T/spool"
    write_config "$T/c.ini" "$port" "Fsync = $fsync"
    bg strace -f -qq -e trace=openat,rename,renameat,renameat2,fsync -o "$T/trace" "$BS_BIN/listen" -c "$T/c.ini" 2>> "$T/listen.err"
    pid=$BG_PID
    wait_port "$port" 20 || fail "listen under strace did not start"
    out=$(send "$port" a; send "$port" b)
    is "$out" "{}
{}" "fsync=$fsync: both messages accepted"
    check_spool "$T/spool" a b
    pkill -TERM -P "$pid"; wait "$pid"
    is "$(grep -c 'openat(.*/\.[0-9a-f]\{16\}\.tmp", .*O_CREAT|O_EXCL' "$T/trace")" 4 "fsync=$fsync: four temporary files"
    is "$(grep -c 'rename.*/\.\([0-9a-f]\{16\}\)\.tmp", .*/\1\.msg") = 0' "$T/trace")" 4 "fsync=$fsync: each renamed to its .msg name"
    is "$(grep -c 'fsync(' "$T/trace")" "$( [ "$fsync" = yes ] && echo 6 || echo 0)" \
        "fsync=$fsync: $( [ "$fsync" = yes ] && echo 'each file and, per message, the directory flushed' || echo 'nothing flushed')"
done

# ingest -f picks up what listen spools (it waits for the rename into *.msg).
port=$(free_port)
rm -rf "$T/spool"
write_config "$T/c.ini" "$port"
printf '[Verify]\nSPF = off\nDKIM = off\n' >> "$T/c.ini"
start_listen "$T/c.ini"
bg "$BS_BIN/ingest" -c "$T/c.ini" -f --spool "$T/spool" > "$T/ingest.out" 2> "$T/ingest.err"
wait_for test -d "$T/spool/claimed"
send "$port" d > /dev/null
send "$port" e > /dev/null
four() { [ "$(wc -l < "$T/ingest.out")" -ge 4 ]; }
wait_for four; ok $? "ingest -f emitted the four spooled files"
is "$(find "$T/spool" -maxdepth 1 -name '*.msg' | wc -l)" 0 "all claimed"
done_testing
