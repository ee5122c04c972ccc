#!/usr/bin/env bash
# Issue 14, defect 2: one message must not stop the sink. The live sink (pipelines/sink.sh,
# every stage) in a private network namespace gets, over SMTP, normal messages, then a
# 24.5 MB message of 3.5 million empty MIME parts (over Max_MIME_Parts: an error record,
# no crash), more normal messages, then a 10.5 MB message of 1.5 million parts that is
# under the limit as configured here (Max_MIME_Parts = 2000000) but does not fit in the
# memory ingest is given here (800 MB, tests/ingest/memcap.sh): GMime's allocation fails
# and ingest aborts, twice; the poison-message rule then moves it to the quarantine directory with a
# `!Quarantined:` log line and a counter. Then more normal messages. Every normal message
# must be logged, listen must still answer 250 and sink.sh must still run.
# Needs root (or user namespaces) for unshare -n -m: without it the test fails.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sink-lib.sh
. "$(dirname "$0")/../sink-lib.sh"

ip link set lo up; ok $? "loopback up in the private network namespace"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf; ok $? "private resolv.conf (no name server)"

lport=$(free_port) rport=$(free_port)
R=$T/run
mkdir -p "$R" "$T/msg"
cat > "$T/sink.ini" <<INI
[Sink]
Logfile = $R/consume-mail.log
User_Agents_File = $REF/user-agents.csv

[Listen]
Address = 127.0.0.1:$lport
Hostname = bouncy-sink.test
Spool = $R/spool
Sink_Domains = bouncy-sink.test
InBand_Replies_File = $REF/inband-replies.dat
Fsync = no
Records = $R/listen.fifo

[Ingest]
Max_MIME_Parts = 2000000

[Verify]
SPF = off

[Report]
Address = 127.0.0.1:$rport
State_File = $R/report-state.json
INI

python3 - "$T/msg" <<'EOF'
import sys
d = sys.argv[1]
def parts(name, n, subject):
    with open(f"{d}/{name}", "w", newline="") as f:
        f.write(f"From: poison@sender.test\r\nTo: {subject}@accept.bouncy-sink.test\r\n"
                f"Subject: {subject}\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=b\r\n\r\n")
        f.write("--b\r\n\r\n" * n + "--b--\r\n")
for i in range(1, 10):
    with open(f"{d}/normal-{i}.eml", "w") as f:
        f.write(f"From: a@sender.test\nTo: normal-{i}@accept.bouncy-sink.test\n"
                f"Subject: normal {i}\n\nhello {i}\n")
parts("limit.eml", 3500000, "limit")
parts("crash.eml", 1500000, "crash")
EOF
ok $? "9 normal messages, one of 3.5 M parts, one of 1.5 M parts"

# ingest with its memory capped at 800 MB (tests/ingest/memcap.sh): plenty for a message,
# not for GMime's tree of 1.5 million parts (about 2 GB). The other stages as they are.
mkdir "$T/bin"
for p in "$BS_BIN"/*; do ln -s "$p" "$T/bin/"; done
rm "$T/bin/ingest"
printf '#!/bin/sh\nexec bash %s/tests/ingest/memcap.sh 800000 %s/ingest "$@"\n' "$ROOT" "$BS_BIN" \
    > "$T/bin/ingest"
chmod +x "$T/bin/ingest"
BS_BIN=$T/bin sink_start
wait_port "$lport"; ok $? "the sink listens on SMTP"
wait_port "$rport"; ok $? "the sink serves its web report"

send_all() { # send_all NAME FILE...: one connection, in order; prints how many got 250
    local name=$1; shift
    /usr/bin/python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$lport" -c 1 --json "$@" \
        > "$T/$name.json" 2> "$T/$name.err"
    jq -r .accepted "$T/$name.json"
}
log=$R/consume-mail.log
# (the log with its rotated files: a run across local midnight has lines in two)
logged() { log_cat "$log" | grep -c ",consume-mail,[A-Z]*,[^,]*\.msg,$1@accept.bouncy-sink.test,"; }
wait_logged() { local _; for _ in $(seq 1 600); do [ "$(logged "$1")" -ge 1 ] && return 0; sleep 0.1; done; return 1; }

M=$T/msg
is "$(send_all a "$M/normal-1.eml" "$M/normal-2.eml" "$M/normal-3.eml" "$M/limit.eml" \
      "$M/normal-4.eml" "$M/normal-5.eml" "$M/normal-6.eml")" 7 \
    "normal 1-3, the 3.5 M-part message, normal 4-6: all accepted with 250"
wait_logged normal-6; ok $? "normal 6 logged"
like "$(log_cat "$log" | grep ',limit@accept.bouncy-sink.test,')" \
    ',consume-mail,[A-Z]*,[^,]*\.msg,limit@accept\.bouncy-sink\.test,poison@sender\.test,!MIME parts over the limit of 2000000 \(\[Ingest\] Max_MIME_Parts\)$' \
    "the 3.5 M-part message: an error line naming the limit, no action"
is "$(grep -c 'exited' "$T/sink.err")" 0 "no stage exited on it"

is "$(send_all b "$M/crash.eml" "$M/normal-7.eml" "$M/normal-8.eml")" 3 \
    "the 1.5 M-part message and normal 7-8: accepted with 250"
quarantined() { log_cat "$log" | grep -q '!Quarantined:'; }
for _ in $(seq 1 1200); do quarantined && break; sleep 0.1; done
like "$(log_cat "$log" | grep '!Quarantined:')" \
    ',consume-mail,ERROR,[^,]*/spool/[0-9a-f]{16}\.msg,,,!Quarantined: ingest crashed or timed out 2 times reading it \(moved to [^ ]*/spool/quarantine/[0-9a-f]{16}\.msg\)$' \
    "the 1.5 M-part message: !Quarantined: line after 2 crashes"
q=$(find "$R/spool/quarantine" -name '*.msg' 2>/dev/null)
[ "$(echo "$q" | grep -c .)" = 1 ] && grep -q '^Subject: crash' "$q"; ok $? "it is in spool/quarantine"
is "$(grep -c 'a chain stage (pid [0-9]*) exited: draining and restarting the chain' "$T/sink.err")" 2 \
    "sink.sh restarted the chain twice"
like "$(cat "$T/sink.err")" 'ingest: warning: spool file .*/spool/claimed/[0-9a-f]{16}\.msg was being read when ingest stopped \(2 of 2 before quarantine\)' \
    "ingest counted the crashes"

# After it: listen still answers, the rest is logged.
is "$(send_all c "$M/normal-9.eml")" 1 "listen still answers 250"
for i in 7 8 9; do wait_logged "normal-$i"; done
n=0; for i in $(seq 1 9); do [ "$(logged "normal-$i")" = 1 ] && n=$((n + 1)); done
is "$n" 9 "all 9 normal messages logged, once each"
kill -0 "$sink" 2>/dev/null; ok $? "sink.sh still running"
unlike "$(cat "$T/sink.err")" 'giving up' "the supervisor never gave up"
for s in listen ingest decide act-http act-smtp report; do
    stage_up "$s"; ok $? "stage $s running"
done
json=$(curl -s "http://127.0.0.1:$rport/json")
is "$(echo "$json" | jq .quarantined)" 1 "/json: quarantined 1"
like "$(curl -s "http://127.0.0.1:$rport/metrics")" 'bouncy_sink_quarantined_total 1' "/metrics: bouncy_sink_quarantined_total 1"
[ -z "$(find "$R/spool" -maxdepth 2 -path '*/quarantine' -prune -o -name '*.msg' -print)" ]
ok $? "nothing left in the spool but the quarantined file"

kill -TERM "$sink"
rc=timeout
for _ in $(seq 1 600); do
    if ! kill -0 "$sink" 2>/dev/null; then wait "$sink"; rc=$?; break; fi
    sleep 0.05
done
is "$rc" 0 "SIGTERM: the sink exits 0"
done_testing
