#!/usr/bin/env bash
# ingest --spool: the poison-message rule. A spool file that ingest was reading when it died
# (a crash: here its memory is capped at 800 MB by tests/ingest/memcap.sh and the MIME
# limits raised, so GMime's allocation fails on a message of 1.5 million parts; or the
# Max_Message_Time watchdog) is counted; a counted file is read alone; after Quarantine_After crashes it is
# moved to the quarantine directory, a "quarantine" record says so, report logs
# `!Quarantined:` and counts it, and the other files are read.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
python3 - <<'EOF'
with open("poison.msg", "w", newline="") as f:
    f.write("From: a@sender.test\r\nSubject: poison\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + "--b\r\n\r\n" * 1500000 + "--b--\r\n")
EOF
good() { printf 'From: a@sender.test\nTo: x@accept.bouncy-sink.test\nSubject: %s\n\nhello\n' "$1"; }
spool() { # fresh spool: the poison between two good messages
    rm -rf spool && mkdir spool
    good one > spool/00000000000000a1.msg
    cp poison.msg spool/00000000000000a2.msg
    good three > spool/00000000000000a3.msg
}
# Limits raised (no error record: GMime is handed the whole structure), DKIM/SPF off.
printf '[Verify]\nSPF = off\n[Sink]\nLogfile = c.log\n[Ingest]\nMax_MIME_Parts = 100000000\n' > high.ini
capped() { # capped CONFIG N: ingest --spool with CAP_KB (800 MB) of memory; out$N.json, err$N
    bash "$ROOT/tests/ingest/memcap.sh" "${CAP_KB:-800000}" "$BS_BIN/ingest" -c "$1" -j 2 --spool spool \
        > "out$2.json" 2> "err$2"
}

spool
capped high.ini 1
rc=$?
[ "$rc" != 0 ]; ok $? "first run: ingest dies on the poison message (exit $rc)"
is "$(ls spool/claimed | wc -l)" 3 "its claimed files stay claimed"
is "$(cat spool/.ingest/busy-* | grep -c 00000000000000a2.msg)" 1 "a busy file names the message being read"

capped high.ini 2
rc=$?
[ "$rc" != 0 ]; ok $? "second run: dies again (exit $rc)"
like "$(cat err2)" "ingest: warning: spool file spool/claimed/00000000000000a2.msg was being read when ingest stopped \(1 of 2 before quarantine\)" \
    "the crash is counted"
is "$(cat spool/.ingest/00000000000000a2.msg.crashes)" 1 "count kept in spool/.ingest"
busy=$(for f in spool/.ingest/busy-*; do head -n 1 "$f"; done | grep -c .)
is "$busy" 1 "read alone: one busy file names a message, the other none"

capped high.ini 3
is "$?" 0 "third run: exit 0"
like "$(cat err3)" "ingest: error: quarantined \(spool/00000000000000a2.msg\): ingest crashed or timed out 2 times reading it; moved to spool/quarantine/00000000000000a2.msg" \
    "stderr names the file and the quarantine"
test -f spool/quarantine/00000000000000a2.msg && cmp -s poison.msg spool/quarantine/00000000000000a2.msg
ok $? "the file is in spool/quarantine, unchanged"
is "$(jq -r 'select(.kind != "message") | .kind + " " + .id + " " + (.attempts|tostring) + " " + .path' out3.json)" \
    "quarantine 00000000000000a2 2 spool/quarantine/00000000000000a2.msg" "a quarantine record"
is "$(jq -r 'select(.kind == "message") | .headers.subject' out3.json | tr '\n' ' ')" "one three " \
    "the messages before and after it are read"
is "$(ls -A spool/.ingest | grep -c '\.crashes$')" 0 "no crash count left behind"


# report logs the record and counts it.
printf '[Sink]\nLogfile = c.log\n' > report.ini
"$BS_BIN/report" -c report.ini --once < out3.json > summary.json 2> rerr
ok $? "report reads the records"
like "$(grep Quarantined c.log)" ',consume-mail,ERROR,spool/00000000000000a2.msg,,,!Quarantined: ingest crashed or timed out 2 times reading it \(moved to spool/quarantine/00000000000000a2.msg\)$' \
    "report logs !Quarantined:"
is "$(jq -r '.quarantined' summary.json)" 1 "and counts it (quarantined)"
is "$(ls spool/claimed)" "" "the good messages are settled by report"

# One ingest per spool: a second one reads the spool without the crash accounting.
good four > spool/00000000000000a4.msg
exec 9> spool/.ingest/lock
flock -x 9
"$BS_BIN/ingest" -c high.ini --spool spool > out-locked.json 2> err-locked
is "$?" 0 "with the spool locked by another ingest: exit 0"
like "$(cat err-locked)" "ingest: warning: another ingest reads this spool \(spool/.ingest/lock is locked\): crashes are not counted" \
    "a warning says so"
is "$(jq -r .headers.subject out-locked.json)" four "and the message is read"
exec 9>&-

# Quarantine_After and Quarantine_Dir.
spool
printf '[Verify]\nSPF = off\n[Ingest]\nMax_MIME_Parts = 100000000\nQuarantine_After = 1\nQuarantine_Dir = %s/q\n' "$T" > one.ini
capped one.ini 4
capped one.ini 5
is "$?" 0 "Quarantine_After = 1: the run after the first crash quarantines"
test -f q/00000000000000a2.msg; ok $? "into Quarantine_Dir"

# The watchdog: a message read for longer than Max_Message_Time ends ingest, and counts.
# GMime takes about 11 s and 2 GB for the poison message: with 4 GB the watchdog, not the
# memory cap, must end it (with 800 MB, a fast machine ran out of memory within the second).
CAP_KB=4000000
spool
printf '[Verify]\nSPF = off\n[Ingest]\nMax_MIME_Parts = 100000000\nMax_Message_Time = 1\n' > slow.ini
capped slow.ini 6
rc=$?
if grep -q Max_Message_Time err6; then
    is "$rc" 70 "Max_Message_Time = 1: ingest exits 70 when one message takes longer"
    like "$(cat err6)" "ingest: error: message takes longer than 1 s to read \(spool/00000000000000a2.msg\): exiting \(\[Ingest\] Max_Message_Time\)" \
        "and names it"
else
    fail "Max_Message_Time = 1: the watchdog did not fire (exit $rc: $(tail -1 err6))"
fi
capped slow.ini 7
capped slow.ini 8
is "$?" 0 "after two time-outs: exit 0"
test -f spool/quarantine/00000000000000a2.msg; ok $? "the slow message is quarantined"

# Settings are checked.
printf '[Ingest]\nQuarantine_After = 0\n' > bad.ini
"$BS_BIN/ingest" -c bad.ini < /dev/null > /dev/null 2> err
is "$?" 78 "Quarantine_After = 0: configuration error"
like "$(cat err)" "bad.ini:2: \[Ingest\] Quarantine_After" "names FILE:LINE"
printf '[Ingest]\nMax_Message_Time = -1\n' > bad.ini
"$BS_BIN/ingest" -c bad.ini < /dev/null > /dev/null 2> err
is "$?" 78 "Max_Message_Time = -1: configuration error"
done_testing
