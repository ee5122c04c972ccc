#!/usr/bin/env bash
# report: log lines against golden lines (fixed records, --start with a frozen --tick clock),
# the --once /json document, and the command line / configuration errors.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
D=$ROOT/tests/report/data
cd "$T" || exit 1
printf '[Sink]\nLogfile = %s/c.log\nLogfile_backup_count = 3\n' "$T" > c.ini

out=$("$BS_BIN/report" -c c.ini --once --start 2026-11-24T20:05:10Z --tick 1.25 \
      < "$D/records.ndjson" 2> err.txt)
ok $? "--once exits 0"
sed -e "s|CFG|c.ini|g" -e "s|LOG|$T/c.log|" "$D/golden.log" > want.log
if diff -u want.log c.log > diff.txt; then pass "log lines match the golden file"
else fail "log lines match the golden file"; sed 's/^/# /' diff.txt; fi
like "$(cat err.txt)" "report: error: malformed record \(stdin:13\)" "malformed line reported on stderr"
is "$(wc -l < c.log)" "$(( $(wc -l < "$D/records.ndjson") + 3 ))" "one line per record plus start and finish lines"

# The --once document: the /json shape, counted from these records only.
echo "$out" > once.json
python3 - once.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {"total_messages": 9, "ooto_sent": 1, "greylist_deferred": 1, "greylist_passed": 1,
        "throttle_messages_per_minute": 1, "slow_replies": 1, "accept": 1, "open": 2, "open_again": 1, "click": 2, "click_again": 1,
        "oob_sent": 1, "fbl_sent": 1, "fail_dkim": 1, "oob_return_path_not_sparkpost": 1,
        "open_url_not_sparkpost": 1, "click_url_not_sparkpost": 2, "inband_5xx": 1,
        "inband_4xx": 1, "blackhole": 1, "invalid_records": 1, "http_errors": 2,
        "records_surprise": 1, "spf_pass": 8, "spf_neutral": 1, "dkim_pass": 8, "dkim_fail": 1}
bad = {k: (d.get(k), v) for k, v in want.items() if d.get(k) != v}
assert not bad, bad
assert d["startedRunning"] == "2026-11-24T20:05:10+00:00", d["startedRunning"]
assert all(isinstance(v, int) for k, v in d.items() if k != "startedRunning")
assert list(d)[0] == "startedRunning"
PY
ok $? "--once prints the /json document with the expected counters"

# --start without --tick: the clock starts there and runs.
rm -f c.log
printf '%s\n' '{"v":1,"kind":"message","id":"x1","ts":"2026-11-24T20:05:11Z","headers":{"to":"t@accept.s","from":"f@s"},"plan":{"actions":[]}}' \
  | "$BS_BIN/report" -c c.ini --once --start 2030-01-02T03:04:05Z > /dev/null
like "$(grep ',x1,' c.log)" '^2030-01-02 03:04:0[5-9],[0-9]{3},consume-mail,INFO,x1,t@accept.s,f@s,Accept$' \
  "--start moves the clock; line format"
# --now, the old spelling, is a deprecated alias of --start.
rm -f c.log
printf '%s\n' '{"v":1,"kind":"message","id":"x2","ts":"2026-11-24T20:05:11Z","headers":{"to":"t@accept.s","from":"f@s"},"plan":{"actions":[]}}' \
  | "$BS_BIN/report" -c c.ini --once --now 2030-01-02T03:04:05Z > /dev/null
like "$(grep ',x2,' c.log)" '^2030-01-02 03:04:0[5-9],' "--now (deprecated) is --start"

# Command line and configuration errors.
"$BS_BIN/report" --bogus < /dev/null > /dev/null 2>&1; is $? 64 "unknown option: exit 64"
"$BS_BIN/report" --once --tick 1 < /dev/null > /dev/null 2>&1; is $? 64 "--tick without --start: exit 64"
"$BS_BIN/report" --once --start yesterday < /dev/null > /dev/null 2>&1; is $? 64 "bad --start: exit 64"
"$BS_BIN/report" -h > help.txt; ok $? "-h exits 0"
like "$(cat help.txt)" "usage: report" "-h prints usage"
printf '[Report]\nAddress = nowhere\n' > bad.ini
err=$("$BS_BIN/report" -c bad.ini --once < /dev/null 2>&1 >/dev/null); is $? 78 "bad [Report] Address: exit 78"
like "$err" "bad.ini:2: \[Report\] Address" "error names file, line, section and key"
printf '[Sink]\nLogfile_backup_count = many\n' > bad2.ini
"$BS_BIN/report" -c bad2.ini --once < /dev/null > /dev/null 2>&1; is $? 78 "bad Logfile_backup_count: exit 78"
# A copy beside the test's files: its Logfile = ./consume-mail.log is relative to the
# file's directory (bouncy-sink.ini(5) "Paths"), which must not be data/reference.
cp "$ROOT/data/reference/consume-mail.ini" prod.ini
"$BS_BIN/report" -c prod.ini --once < /dev/null > prod.json 2> prod.err
ok $? "the production consume-mail.ini loads unchanged"
[ -f consume-mail.log ]; ok $? "… and writes its ./consume-mail.log beside the file"
rm -f consume-mail.log
"$BS_BIN/report" --once --input /nonexistent/fifo < /dev/null > /dev/null 2>&1; is $? 66 "missing --input: exit 66"

# One writer per log file: a second report on the same Logfile is refused.
mkfifo hold.fifo
bg "$BS_BIN/report" -c c.ini --once --input hold.fifo < /dev/null > /dev/null
wait_for test -f "$T/c.log.lock"
sleep 0.3
err=$("$BS_BIN/report" -c c.ini --once < /dev/null 2>&1 > /dev/null); is $? 75 "second writer of the same log: exit 75"
like "$err" "only one report may write a log file" "and says why"
exec 4> hold.fifo; exec 4>&-
done_testing
