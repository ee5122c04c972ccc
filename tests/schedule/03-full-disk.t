#!/usr/bin/env bash
# Issue 17: a full disk under the store. schedule's store sits on a 4 MB tmpfs (a private
# mount namespace); once it is full, records are refused cleanly (said once on stderr, not
# passed on, nothing emitted for them) and held; when space comes back they are stored,
# passed on, and every action is emitted once when due. Also: the cap on pending actions.
if [ -z "${BS_IN_MNTNS:-}" ]; then
    exec unshare -m env BS_IN_MNTNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/store"
mount -t tmpfs -o size=4m tmpfs "$T/store"
ok $? "a 4 MB tmpfs for the store"
cat > "$T/t.ini" <<EOF
[Timing]
Time_Scale = 3600
EOF
# Message records with a plan of two delayed actions (1 h and 1 h 10 min: 1 s wall).
records() { # FIRST COUNT
    python3 - "$1" "$2" <<'PY'
import json, sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print(json.dumps({"v": 1, "kind": "message", "id": "m%05d" % i, "ts": "2026-12-06T12:00:00.000Z",
                      "pad": "x" * 2000,
                      "plan": {"stream": "openclick", "actions": ["open", "click"], "user_agent": "UA",
                               "delays": {"open": 3600, "click": 4200}}}))
PY
}
mkfifo "$T/in"
"$BS_BIN/schedule" -c "$T/t.ini" --store "$T/store/s.sqlite" --acks none --drain \
    < "$T/in" > "$T/out" 2> "$T/err" &
sched=$!
exec 3> "$T/in"
records 1 20 >&3
wait_for grep -q '"id":"m00020"' "$T/out"
ok $? "records stored and passed on while there is space"
dd if=/dev/zero of="$T/store/filler" bs=64k 2>/dev/null
df -k "$T/store" | tail -n 1 | while read -r l; do diag "$l"; done
records 21 200 >&3 & # blocks while the store is full: schedule stops reading
writer=$!
wait_for grep -q 'refused' "$T/err"
ok $? "the store refuses: $(grep -m1 refused "$T/err")"
like "$(cat "$T/err")" 'schedule: error: store refused a write \(.*s\.sqlite\): database or disk is full \((storing|claiming)' \
    "the diagnostic names the store and the reason"
sleep 2
is "$(grep -c '"kind":"message"' "$T/out")" 20 "the refused records are not passed on"
is "$(grep -c refused "$T/err")" 1 "said once, not every second"
kill -0 "$sched"; ok $? "schedule keeps running"
rm -f "$T/store/filler"
wait_for grep -q '"id":"m00220"' "$T/out"
ok $? "space back: the held records are stored and passed on"
like "$(cat "$T/err")" 'store writable again' "and that is said"
wait "$writer"
exec 3>&-
wait "$sched"; is "$?" 0 "schedule drains and exits 0"
is "$(grep -c '"kind":"message"' "$T/out")" 220 "every message record passed on once"
is "$(jq -r 'select(.kind=="action") | .action.id' "$T/out" | sort | uniq | wc -l)" 440 \
    "every action emitted"
is "$(jq -r 'select(.kind=="action") | .action.id' "$T/out" | sort | uniq -d | wc -l)" 0 \
    "none twice"
is "$(jq -c 'select(.kind=="message") | .plan.actions' "$T/out" | sort -u)" "[]" \
    "message records go on without the held actions"
umount "$T/store"

# The cap: beyond Max_Pending a message's actions are done at once (and said so).
printf '[Timing]\nTime_Scale = 1\nMax_Pending = 10\n' > "$T/cap.ini"
records 1 8 | "$BS_BIN/schedule" -c "$T/cap.ini" --store "$T/cap.sqlite" --acks none \
    > "$T/cap.out" 2> "$T/cap.err"
is "$?" 0 "schedule with Max_Pending 10"
is "$(jq -c 'select(.kind=="message") | [.plan.actions, .plan.schedule_full]' "$T/cap.out" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" \
    '3 [["open","click"],true] 5 [[],null] ' "5 messages held (10 actions), the other 3 done at once"
like "$(cat "$T/cap.err")" 'Max_Pending \(10\)' "the overflow is said on stderr"
is "$(sqlite3 "$T/cap.sqlite" 'SELECT count(*) FROM actions WHERE state = 0')" 10 "the held actions stay in the store"

# Retention: done rows (and then their messages) are deleted after Done_Retention.
printf '[Timing]\nTime_Scale = 3600\nDone_Retention = 1\n' > "$T/ret.ini"
mkfifo "$T/in2"
"$BS_BIN/schedule" -c "$T/ret.ini" --store "$T/ret.sqlite" --acks none < "$T/in2" > "$T/ret.out" 2>/dev/null &
sched=$!
exec 3> "$T/in2"
records 1 5 >&3
for _ in $(seq 1 100); do [ "$(grep -c '"kind":"action"' "$T/ret.out")" -ge 10 ] && break; sleep 0.1; done
is "$(grep -c '"kind":"action"' "$T/ret.out")" 10 "retention: the 10 actions emitted (and done: no acks)"
gone() { [ "$(sqlite3 "$T/ret.sqlite" 'SELECT (SELECT count(*) FROM actions) + (SELECT count(*) FROM messages)')" = 0 ]; }
for _ in $(seq 1 60); do gone && break; sleep 0.1; done
gone; ok $? "done rows and their messages deleted after Done_Retention (1 s)"
exec 3>&-
wait "$sched"
done_testing
