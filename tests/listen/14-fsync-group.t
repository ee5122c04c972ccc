#!/usr/bin/env bash
# listen: with Fsync = yes, concurrent sessions' spool files are made durable in groups (one
# directory fsync per group): every message that got 250 has all its files in the spool, a
# refused one (full spool, 452) has none, no temporary file is left, and the stop line counts
# fewer groups than jobs. A group failing at its fsync/rename: tests/unit/listen/spool_test.c.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# 1: the test directory's file system (real fsyncs), 48 sessions x 4 messages
port=$(free_port)
write_config "$T/c.ini" "$port" "Fsync = yes" "Threads = 2" "Spool_Threads = 8" "Max_Connections = 200"
start_listen "$T/c.ini"
load_pairs "$port" 48 4 > "$T/out1" 2>&1
is "$(grep -c '^queued' "$T/out1")" 192 "192 messages from 48 concurrent sessions got 250"
check_pairs "$T/spool" "$T/out1"
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
load_pairs "$port" 32 4 > "$T/out2" 2>&1
q=$(grep -c '^queued' "$T/out2")
r=$(grep -c '^refused .* 452$' "$T/out2")
diag "$q queued, $r refused"
is "$((q + r))" 128 "every message answered 250 or 452"
ok "$(( !(q > 0 && r > 0) ))" "some accepted, some refused (spool full)"
check_pairs "$spool" "$T/out2"
kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; ok $? "exit 0"
umount "$spool"; ok $? "tmpfs unmounted"
done_testing
