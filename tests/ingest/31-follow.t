#!/usr/bin/env bash
# ingest -f: keeps watching the spool; new files renamed in are picked up and emitted at once;
# backlogs larger than a claiming batch, at start and after an inotify queue overflow.
. "$(dirname "$0")/../lib.sh"
S=$T/spool
printf '[Verify]\nSPF = off\n[Listen]\nSpool = %s\n' "$S" > "$T/sink.ini"
I=$BS_BIN/ingest
mkdir -p "$S/claimed"
mk() { printf 'From: a@sender.test\nTo: %s@accept.bouncy-sink.test\nSubject: %s\n\nbody\n' "$1" "$1" > "$2"; }
mk left "$S/claimed/000000000000000a.msg"
mk before "$S/000000000000000b.msg"
count() { [ "$(wc -l < "$T/out")" -ge "$1" ]; }

bg "$I" -c "$T/sink.ini" -f --spool "$S" > "$T/out" 2> "$T/err"
pid=$BG_PID
wait_for count 2; ok $? "leftover and existing file emitted at start"
is "$(jq -r .headers.subject "$T/out" | tr '\n' ' ')" "left before " "leftover first"

# The listener's way: write a temporary name, then rename to .msg.
mk renamed "$S/tmp.1"
sleep 0.2
is "$(wc -l < "$T/out")" 2 "a temporary name is not picked up"
mv "$S/tmp.1" "$S/000000000000000c.msg"
wait_for count 3; ok $? "a file renamed into the spool is picked up (and flushed)"
is "$(tail -1 "$T/out" | jq -c '[.id, .settle]')" "[\"000000000000000c\",\"$S/claimed/000000000000000c.msg\"]" "claimed with settle"
# A file written in place.
mk copied "$T/x"; cp "$T/x" "$S/000000000000000d.msg"
wait_for count 4; ok $? "a file written in place is picked up"
test ! -e "$S/000000000000000c.msg" && test -f "$S/claimed/000000000000000c.msg"; ok $? "moved into claimed/"
# Many at once.
for i in 1 2 3 4 5 6 7 8 9; do mk "m$i" "$S/tmp.m$i"; mv "$S/tmp.m$i" "$S/10000000000000$i$i.msg"; done
wait_for count 13; ok $? "nine files in a burst"
is "$(jq -r .id "$T/out" | sort -u | wc -l)" 13 "no duplicates"

kill -TERM "$pid"; wait "$pid"; rc=$?
is "$rc" 0 "SIGTERM: clean exit 0"
is "$(cat "$T/err")" "" "nothing on stderr"

# -f without --spool follows [Listen] Spool.
mk cfg "$S/000000000000000e.msg"
: > "$T/out"
bg "$I" -c "$T/sink.ini" -f > "$T/out" 2> "$T/err"
has_e() { grep -q '"id":"000000000000000e"' "$T/out"; }
wait_for has_e; ok $? "-f alone follows [Listen] Spool"
kill -TERM "$BG_PID"; wait "$BG_PID"; is "$?" 0 "exit 0"
# -f on a spool that does not exist yet: created, then followed.
: > "$T/out"
bg "$I" -c "$T/sink.ini" -f --spool "$T/later" > "$T/out" 2> "$T/err"
wait_for test -d "$T/later/claimed"; ok $? "-f creates a missing spool"
mk later "$T/later/tmp.x"; mv "$T/later/tmp.x" "$T/later/00000000000000ff.msg"
wait_for count 1; ok $? "and follows it"
kill -TERM "$BG_PID"; wait "$BG_PID"; is "$?" 0 "exit 0"

# Backlogs larger than one claiming batch (4,096 names): at start, and while following when
# the inotify queue overflows (ingest stopped while 24,000 files arrive: the queue keeps
# 16,384 events, then ingest rescans the spool for the other 7,616). Every file is emitted
# exactly once.
mkmany() { # mkmany DIR FIRST COUNT: files written in place, as fast as Python can
    /usr/bin/python3 - "$@" <<'PY'
import sys
d, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + n):
    with open(f"{d}/{i:016x}.msg", "w") as f:
        f.write(f"From: a@sender.test\nTo: b{i}@accept.bouncy-sink.test\nSubject: {i}\n\nbody\n")
PY
}
waitlines() { local _; for _ in $(seq 1 1200); do [ "$(wc -l < "$2")" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
B=$T/backlog
mkdir -p "$B"
mkmany "$B" 1 10000
printf '[Verify]\nSPF = off\n[Listen]\nSpool = %s\n' "$B" > "$T/b.ini"
"$I" -c "$T/b.ini" --spool "$B" > "$T/b.out" 2> "$T/b.err"
ok $? "a backlog of 10,000 files: exit 0"
is "$(jq -r .id "$T/b.out" | sort -u | wc -l) $(wc -l < "$T/b.out")" "10000 10000" "all 10,000 emitted, once each"
is "$(find "$B" -maxdepth 1 -name '*.msg' | wc -l)" 0 "none left unclaimed"
rm -rf "$B/claimed"
bg "$I" -c "$T/b.ini" -f --spool "$B" > "$T/f.out" 2> "$T/f.err"
wait_for test -d "$B/claimed"
kill -STOP "$BG_PID"
mkmany "$B" 100000 24000
kill -CONT "$BG_PID"
waitlines 24000 "$T/f.out"; ok $? "following: 24,000 files (more than the inotify queue holds) all emitted"
sleep 0.5
is "$(jq -r .id "$T/f.out" | sort -u | wc -l) $(wc -l < "$T/f.out")" "24000 24000" "once each"
is "$(find "$B" -maxdepth 1 -name '*.msg' | wc -l)" 0 "none left unclaimed"
kill -TERM "$BG_PID"; wait "$BG_PID"; is "$?" 0 "exit 0"
is "$(cat "$T/f.err")" "" "nothing on stderr"
done_testing
