#!/usr/bin/env bash
# report with a history, records trickling in (one a millisecond, as from a live sink at
# a thousand messages a second): records are gathered into batches by time (a batch is
# committed once its first record is 10 ms old), so the log file gets far fewer write(2)
# calls than records; every line is still written before its spool file is deleted, and
# nothing is left held once the input stops. Traced with strace.
. "$(dirname "$0")/../lib.sh"
command -v strace > /dev/null || { fail "strace installed"; done_testing; exit 1; }
export TZ=UTC
cd "$T" || exit 1
port=$(free_port)
n=200
printf '[Sink]\nLogfile = h.log\n[Listen]\nSpool = spool\n[Report]\nAddress = 127.0.0.1:%s\nState_File = h.state\nHistory = h.db\n' \
    "$port" > h.ini
mkdir -p spool/claimed
for ((i = 0; i < n; i++)); do
    printf x > "spool/claimed/$(printf '%016x' $((0xb000 + i))).msg"
done
mkfifo in.fifo
# strace -o FILE PROG blocks fatal signals (-I4): SIGTERM goes to report, its child.
bg strace -f -qq -y -s 65536 -e trace=write,unlink,unlinkat -o trace "$BS_BIN/report" -c h.ini --input in.fifo < /dev/null 2> h.err
pid=$BG_PID
wait_port "$port" 20; ok $? "report under strace listens"
python3 - "$n" <<'PY'
import json, sys, time
n = int(sys.argv[1])
with open("in.fifo", "w") as f:
    for i in range(n):
        sid = "%016x" % (0xb000 + i)
        f.write(json.dumps({"v": 1, "kind": "message", "id": sid, "ts": "2026-11-24T20:05:10.000Z",
                            "source": {"type": "spool", "name": "spool/claimed/%s.msg" % sid},
                            "settle": "spool/claimed/%s.msg" % sid,
                            "envelope": {"mail_from": "b@sender.test", "rcpt": "u%d@mixed.sink.test" % i},
                            "plan": {"stream": "mixed", "actions": []}}) + "\n")
        f.flush()
        time.sleep(0.001)
    time.sleep(0.5)  # the input stays open: what report holds must go out while it waits
PY
is "$(grep -c 'spool/claimed/[0-9a-f]*\.msg' h.log)" "$n" "every record's line written while the input is open"
is "$(find spool/claimed -name '*.msg' | wc -l)" 0 "every spool file settled"
pkill -TERM -P "$pid"
wait "$pid"
writes=$(grep -c '^[0-9]* *write([0-9]*</[^>]*/h\.log>' trace)
unlinks=$(grep -c 'unlinkat(.*\.msg", 0) = 0' trace)
is "$unlinks" "$n" "$n files deleted (traced)"
diag "log writes for $n records trickled one a millisecond: $writes"
[ "$writes" -gt 0 ] && [ "$writes" -le $((n / 2)) ]
ok $? "records gathered: at most one log write per two records ($writes)"
# Order: each file is deleted only after a write that carries its line.
python3 - trace > order.out <<'PY'
import re, sys
text, bad = "", 0  # what the log writes carried so far (a line may span two writes)
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r'write\(\d+</[^>]*/h\.log>, "(.*)", \d+(\) = \d+| <unfinished \.\.\.>)$', line)
    if m:
        text += m.group(1)
    m = re.search(r'unlinkat\(.*"([0-9a-f]{16})\.msg", 0\) = 0', line)
    if m and "spool/claimed/%s.msg" % m.group(1) not in text:
        bad += 1
print(bad)
PY
is "$(cat order.out)" 0 "no spool file deleted before its line was written"
done_testing
