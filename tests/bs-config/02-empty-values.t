#!/usr/bin/env bash
# Issue 14 defect 7: `Key =` (an empty value) means "not set" for every key, in every
# program: the default applies, as if the line were absent. Before, `[Smtp] Relay =` was a
# fatal error in act-smtp, `[Listen] Sink_Domains =` meant the default in listen but a
# fatal "empty list" in decide, and `[Sink] Logfile =` stopped report.
# Runs in a private network namespace, so that the programs can use their default
# addresses (127.0.0.1:2525, :8888, :8025) without meeting anything else.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
ip link set lo up; ok $? "loopback up in the private network namespace"
# Relative defaults (data/reference/..., ./spool, ./consume-mail.log) resolve in $T/run.
mkdir -p "$T/run"
ln -s "$ROOT/data" "$T/run/data"
cd "$T/run" || exit 1
NOW=2026-11-24T12:00:00Z

# params [-c FILE]: decide's model, as its first (params) record shows it.
params() { "$BS_BIN/decide" "$@" --now "$NOW" < /dev/null 2>/dev/null | head -n 1 | jq -cS .params; }

# --- [Listen] Sink_Domains = --------------------------------------------------------------
printf '[Listen]\nSink_Domains =\n' > "$T/sd.ini"
"$BS_BIN/decide" -c "$T/sd.ini" < /dev/null > /dev/null 2> "$T/sd.err"
ok $? "decide: Sink_Domains = is accepted"
is "$(params -c "$T/sd.ini")" "$(params)" "decide: Sink_Domains = gives the model of no file at all"
python3 "$ROOT/tests/decide/gen-records.py" 1 'x@oob.bouncy-sink.test' > "$T/oob.in"
is "$("$BS_BIN/decide" -c "$T/sd.ini" --seed 1 < "$T/oob.in" 2>/dev/null | tail -n 1 | jq -r .plan.stream)" oob \
    "decide: Sink_Domains = routes x@oob.bouncy-sink.test (the default sink domain) to oob"
printf '[Listen]\nSink_Domains =\nSpool = %s\n' "$T/spool" > "$T/sdl.ini"
bg "$BS_BIN/listen" -c "$T/sdl.ini" > /dev/null 2> "$T/listen.err"
lpid=$BG_PID
wait_port 2525; ok $? "listen: Sink_Domains = starts on the default address"
rcpt() {
    python3 - "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 2525, timeout=10)
s.ehlo("client.test")
s.mail("a@sender.test")
print(s.rcpt(sys.argv[1])[0])
s.quit()
PY
}
is "$(rcpt x@accept.bouncy-sink.test)" 250 "listen: Sink_Domains = accepts the default sink domain"
is "$(rcpt x@example.com)" 550 "listen: ... and no other"
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null

# --- [Smtp] Relay = ------------------------------------------------------------------------
printf '[Smtp]\nRelay =\n' > "$T/relay.ini"
err=$("$BS_BIN/act-smtp" -c "$T/relay.ini" < /dev/null 2>&1 > /dev/null)
ok $? "act-smtp: Relay = is accepted (no relay)"
is "$err" "" "act-smtp: Relay =: nothing on stderr"
is "$("$BS_BIN/bs-config" -c "$T/relay.ini" Smtp Relay 127.0.0.1:2526)" 127.0.0.1:2526 \
    "bs-config: Relay = gives the default the script names"
"$BS_BIN/bs-config" -c "$T/relay.ini" Smtp Relay > /dev/null; is "$?" 1 "bs-config: Relay = without default: not set (exit 1)"

# --- [Sink] Logfile =, and friends ---------------------------------------------------------
printf '[Sink]\nLogfile =\nLogfile_backup_count =\nDone_Msg_File_Dest =\n[Report]\nState_File =\nAddress =\n' > "$T/log.ini"
"$BS_BIN/report" -c "$T/log.ini" --once < /dev/null > /dev/null 2> "$T/report.err"
ok $? "report: Logfile = and the other empty keys are accepted"
[ -s ./consume-mail.log ]; ok $? "report: Logfile = writes the default ./consume-mail.log"

# --- the same in every other program -------------------------------------------------------
cat > "$T/some.ini" <<'INI'
[Sink]
OOB_percent =
Weekly_Cycle_Open_Rate =
Tracking_Domains_Allowlist =
User_Agents_File =
[Listen]
Hostname =
InBand_Replies_File =
Sink_Domains =
[Verify]
SPF =
DKIM_Key_File =
[Decide]
SPF_Required =
Seed =
[Http]
Max_In_Flight =
Allowed_Networks =
[Smtp]
From =
Relay =
Resolver =
Port =
INI
for t in ingest decide act-http act-smtp; do
    err=$("$BS_BIN/$t" -c "$T/some.ini" < /dev/null 2>&1 > /dev/null)
    ok $? "$t: empty values accepted"
    unlike "$err" 'fatal|error' "$t: no error"
done
is "$(params -c "$T/some.ini")" "$(params)" "decide: SPF_Required =, OOB_percent =, ... give the defaults"
"$BS_BIN/gen-corpus" -c "$T/some.ini" -n 5 --seed 2 -f eml -o "$T/corpus" > /dev/null 2>&1
ok $? "gen-corpus: empty values accepted"
grep -h '^To:' "$T/corpus/"*.eml > "$T/to"
is "$(wc -l < "$T/to")" 5 "gen-corpus: 5 messages"
is "$(grep -cvE '@([a-z0-9-]+\.)*bouncy-sink\.test([^a-z.-]|$)' "$T/to")" 0 "gen-corpus: Sink_Domains = gives the default sink domain"
printf '[Track_Server]\nAddress =\nServer =\nDelay_Ms =\n' > "$T/ts.ini"
bg "$BS_BIN/track-server" -c "$T/ts.ini" > /dev/null 2>&1
wait_port 8025; ok $? "track-server: Address = listens on the default 127.0.0.1:8025"

# --- every key of the table empty (bs-config --list: every key any program reads) --------
"$BS_BIN/bs-config" --list | awk -F'\t' '$1 != s { s = $1; print "[" s "]" } { print $2 " =" }' > "$T/all.ini"
[ "$(grep -c ' =$' "$T/all.ini")" -ge 100 ]; ok $? "a file with every key empty ($(grep -c ' =$' "$T/all.ini") keys)"
"$BS_BIN/bs-config" -c "$T/all.ini" --check; ok $? "bs-config --check: clean"
for t in ingest decide act-http act-smtp; do
    err=$("$BS_BIN/$t" -c "$T/all.ini" < /dev/null 2>&1 > /dev/null)
    ok $? "$t: every key empty is accepted"
    unlike "$err" 'fatal|error' "$t: every key empty: no error"
done
is "$(params -c "$T/all.ini")" "$(params)" "decide: every key empty gives the model of no file at all"
rm -f ./consume-mail.log
"$BS_BIN/report" -c "$T/all.ini" --once < /dev/null > /dev/null; ok $? "report: every key empty is accepted"
[ -s ./consume-mail.log ]; ok $? "report: every key empty: the default log file"
bg "$BS_BIN/listen" -c "$T/all.ini" > /dev/null 2> "$T/listen-all.err"
lpid=$BG_PID
wait_port 2525; ok $? "listen: every key empty: listens on the default address"
is "$(rcpt x@accept.bouncy-sink.test)" 250 "listen: every key empty: accepts the default sink domain"
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null
done_testing
