# bench/history-rows.sh — sourced by bench/report-history.sh and bench/sink-fsync.sh.
#
#   history_fill REPORT CONF DB ROWS ID RCPT FROM MID MSFBL
#       DB (removed first) made by REPORT -c CONF (whose History is DB), then ROWS rows
#       from SQLite's generate loop, each a logged message with a 7-event timeline, with
#       the SQL expressions given (of the row number i) for the searched keys, the newest
#       now and each 0.5 s older than the next; then report, opened once more, indexes
#       their keys. The key index's tokens are report's own (FTS5, history_keys), so the
#       loop cannot write them: with an index records_id the rows look like a database of
#       the older layout, which report converts at open. A report without the key index
#       (an older bin/) builds its own indexes at open instead. Needs sqlite3.
# shellcheck shell=bash

history_fill() {
    local report=$1 conf=$2 db=$3 rows=$4
    local ev='[{"event":"received","time":"2026-11-24T20:05:09.000Z","client_ip":"192.0.2.7","helo":"mta.sender.test"},{"event":"accepted","time":"2026-11-24T20:05:10.000Z"},{"event":"auth","dkim":"pass","spf":"pass"},{"event":"routed","stream":"mixed"},{"event":"plan","actions":["open"]},{"event":"open","status":200},{"event":"logged","level":"INFO"}]'
    rm -f "$db" "$db-wal" "$db-shm"
    "$report" -c "$conf" --until-eof < /dev/null 2> /dev/null
    sqlite3 "$db" > /dev/null <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $rows)
INSERT INTO records(t,kind,id,outcome,stream,acts,code,rcpt,mail_from,message_id,msfbl,level,line,events)
SELECT strftime('%s','now') - ($rows - i) * 0.5, 'message', $5, 'open', 'mixed', 1, NULL, $6, $7, $8, $9, 'INFO',
       'spool/' || printf('%016x', i) || '.msg,u' || i || '@mixed.sink.test,news@sender.test,_Open:200',
       '$ev'
FROM c;
COMMIT;
CREATE INDEX IF NOT EXISTS records_id ON records(id);
PRAGMA wal_checkpoint(TRUNCATE);
SQL
    "$report" -c "$conf" --until-eof < /dev/null 2> /dev/null
}
