#!/usr/bin/env bash
# listen: Fsync = syncfs makes a group of spooled files durable with one syncfs(2) of the
# spool's file system instead of a fsync per file: traced per thread (strace -ff -y), no
# file is fsync'ed, every group is "syncfs, the renames, the spool directory's fsync" in
# that order (no .msg name before its data is flushed, no 250 before the name is), with
# fewer groups than jobs; every 250 has its files, no temporary file is left (and once
# more without strace, where the ASan pass's LeakSanitizer can run). Fsync = yes
# on the same load: a fsync per file and no syncfs. A value that is neither: exit 78 from
# listen and from bs-config --check. A failing syncfs: tests/unit/listen/spool_test.c.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
command -v strace > /dev/null || { fail "strace is needed"; done_testing; exit 1; }

# run MODE [plain]: listen with Fsync = MODE under strace -ff (one file per thread in
# $T/MODE/), or without strace with "plain" (LeakSanitizer, in the ASan pass, does not run
# under ptrace: the traced runs turn it off, the plain run keeps it), 24 sessions x 3
# messages; leaves the replies in $T/MODE.out
run() {
    local mode=$1 port st
    port=$(free_port)
    rm -rf "${T:?}/spool" "${T:?}/$mode"
    mkdir -p "$T/$mode"
    write_config "$T/$mode.ini" "$port" "Fsync = $mode" "Threads = 2" "Spool_Threads = 8" \
        "Max_Connections = 200"
    if [ "${2:-}" = plain ]; then
        bg "$BS_BIN/listen" -c "$T/$mode.ini" > "$T/records" 2>> "$T/listen.err"
    else
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
            bg strace -ff -y -qq -e trace=fsync,fdatasync,syncfs,rename -o "$T/$mode/t" \
            "$BS_BIN/listen" -c "$T/$mode.ini" > "$T/records" 2>> "$T/listen.err"
    fi
    st=$BG_PID
    wait_port "$port" 20 || diag "listen did not start: $(cat "$T/listen.err")"
    load_pairs "$port" 24 3 > "$T/$mode.out" 2>&1
    if [ "${2:-}" = plain ]; then kill -TERM "$st"; else kill -TERM "$(pgrep -P "$st" -x listen)"; fi
    wait "$st"
    local rc=$?
    ok "$rc" "Fsync = $mode${2:+ ($2)}: listen exits 0 on SIGTERM"
    [ "$rc" = 0 ] || diag "$(tail -3 "$T/listen.err")"
    is "$(grep -c '^queued' "$T/$mode.out")" 72 "Fsync = $mode: 72 messages from 24 sessions got 250"
    check_pairs "$T/spool" "$T/$mode.out"
}

run syncfs
trace=$(cat "$T"/syncfs/t.*)
is "$(grep -c '^fsync(.*\.tmp>)' <<< "$trace")" 0 "syncfs: no file fsync'ed"
is "$(grep -c '^fdatasync' <<< "$trace")" 0 "syncfs: no fdatasync either"
groups=$(grep -c '^syncfs(' <<< "$trace")
diag "72 jobs in $groups groups"
ok "$(( !(groups > 0 && groups < 72) ))" "syncfs: fewer syncfs calls ($groups) than jobs (72)"
is "$(grep -c "^fsync([0-9]*<$T/spool>)" <<< "$trace")" "$groups" \
    "syncfs: one spool directory fsync per syncfs"
is "$(grep -c '^rename(' <<< "$trace")" 144 "syncfs: 144 files renamed"
# per thread: syncfs, one or more renames, the directory fsync; nothing else in between
bad=0
for f in "$T"/syncfs/t.*; do
    seq=$(sed -n 's/^\(syncfs\|rename\|fsync\)(.*/\1/p' "$f" | tr '\n' ' ')
    [ -z "$seq" ] && continue
    if ! grep -Eq '^(syncfs (rename )+fsync )+$' <<< "$seq"; then
        bad=$((bad + 1))
        diag "thread ${f##*.}: $seq"
    fi
done
is "$bad" 0 "syncfs: every group is syncfs, its renames, then the directory fsync"

run yes
trace=$(cat "$T"/yes/t.*)
is "$(grep -c '^syncfs(' <<< "$trace")" 0 "yes: no syncfs"
is "$(grep -c '^fsync(.*\.tmp>)' <<< "$trace")" 144 "yes: every file fsync'ed (144)"
# the syncfs path once more without strace (under ASan: with LeakSanitizer)
run syncfs plain

# a value that is neither
port=$(free_port)
write_config "$T/bad.ini" "$port" "Fsync = sometimes"
line=$(grep -n '^Fsync' "$T/bad.ini" | cut -d: -f1)
timeout 20 "$BS_BIN/listen" -c "$T/bad.ini" > /dev/null 2> "$T/err"
is "$?" 78 "Fsync = sometimes: listen exits 78"
is "$(cat "$T/err")" "listen: fatal: $T/bad.ini:$line: [Listen] Fsync: 'sometimes' is not yes, no or syncfs" \
    "Fsync = sometimes: the three values and FILE:LINE named"
like "$("$BS_BIN/bs-config" -c "$T/bad.ini" --check 2>&1)" "bad.ini:$line: \\[Listen\\] Fsync: 'sometimes' is not yes, no or syncfs" \
    "bs-config --check says the same"
done_testing
