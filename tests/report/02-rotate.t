#!/usr/bin/env bash
# report: daily rotation at local midnight to <Logfile>.YYYY-MM-DD and retention of
# Logfile_backup_count files, with the injected clock (--start plus a frozen --tick).
. "$(dirname "$0")/../lib.sh"
export TZ=America/New_York
cd "$T" || exit 1
mkdir logs
printf '[Sink]\nLogfile = logs/c.log\nLogfile_backup_count = 3\n' > c.ini
# 20 records, 12 hours apart, from 2026-11-20 12:00 local: ten days and one midnight more.
for i in $(seq 0 19); do
    printf '{"v":1,"kind":"message","id":"m%02d","ts":"2026-11-20T17:00:00Z","headers":{"to":"a@accept.s","from":"f@s"},"plan":{"actions":[]}}\n' "$i"
done > recs.ndjson
"$BS_BIN/report" -c c.ini --once --start "2026-11-20 12:00:00" --tick 43200 < recs.ndjson > /dev/null
ok $? "report ran over ten simulated days"
is "$(cd logs && ls | grep -v lock | tr '\n' ' ')" "c.log c.log.2026-11-27 c.log.2026-11-28 c.log.2026-11-29 " \
   "three newest days kept, named by the day that ended"
is "$(head -n 1 logs/c.log)" "2026-11-30 00:00:00,000,consume-mail,INFO,m19,a@accept.s,f@s,Accept" \
   "current file holds only the new day (local midnight)"
is "$(cut -c1-10 logs/c.log.2026-11-28 | sort -u)" "2026-11-28" "a rotated file holds its day only"
is "$(grep -c Accept logs/c.log.2026-11-28)" 2 "both lines of that day are there"
is "$(awk -F, '{print $5}' logs/c.log.2026-11-29 | tr '\n' ' ')" "m17 m18 " "no line lost or duplicated"

# Logfile_backup_count = 0 keeps every rotated file (as the old handler's backupCount=0).
rm -rf logs && mkdir logs
printf '[Sink]\nLogfile = logs/c.log\nLogfile_backup_count = 0\n' > c0.ini
"$BS_BIN/report" -c c0.ini --once --start "2026-11-20 12:00:00" --tick 43200 < recs.ndjson > /dev/null
is "$(ls logs | grep -c '^c.log.2026-11-')" 10 "backup count 0 keeps all ten days"
is "$(cat logs/c.log* | grep -c ',Accept$')" 20 "all twenty lines present across the files"

# A restart on a later day first rotates the existing file, by its modification time.
rm -rf logs && mkdir logs
echo "2026-11-20 10:00:00,000,consume-mail,INFO,old line" > logs/c.log
touch -d "2026-11-20 10:00:00" logs/c.log
"$BS_BIN/report" -c c.ini --once --start "2026-11-22 09:00:00" --tick 1 < /dev/null > /dev/null
is "$(cat logs/c.log.2026-11-20)" "2026-11-20 10:00:00,000,consume-mail,INFO,old line" \
   "old file rotated on restart"
like "$(head -n 1 logs/c.log)" "^2026-11-22 09:00:00,000,consume-mail,INFO,\*\* Process starting" \
   "new file starts with the start line"

# Live mode with the real-time clock shifted by --now: midnight passes while running.
rm -rf logs && mkdir logs
port=$(free_port)
printf '[Sink]\nLogfile = logs/c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > live.ini
mkfifo in.fifo
bg "$BS_BIN/report" -c live.ini --start "2026-11-20 23:59:59" --input in.fifo < /dev/null
exec 3> in.fifo
wait_port "$port"
sleep 1.5
head -n 1 recs.ndjson >&3
wait_for grep -q m00 logs/c.log
ok $? "record after midnight logged"
is "$(ls logs | grep -v lock | tr '\n' ' ')" "c.log c.log.2026-11-20 " "rotated at midnight in live mode"
like "$(cat logs/c.log)" "^2026-11-21 00:00:0" "new day's line in the new file"
exec 3>&-
done_testing
