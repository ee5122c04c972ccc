#!/usr/bin/env bash
# report's per-message history ([Report] History, SQLite in WAL mode): GET /json/messages
# finds a message by recipient, envelope sender, Message-ID (with or without <>), spool
# id and X-MSFBL, with its timeline (received, accepted, auth, routed, plan, each action,
# reports sent, logged, settled); in-band refusals and blackholed recipients are found
# too; pages by limit/before; bad parameters get 400; /json/outcomes has the series, the
# observed-vs-configured table (Wilson 95 %) and the reply codes; History_Max_Rows
# bounds the table; History = none keeps none (503); the log file is unchanged.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
cd "$T" || exit 1
port=$(free_port)
conf() { # conf FILE HISTORY [EXTRA]
    printf '[Sink]\nLogfile = %s.log\n[Listen]\nSpool = spool\n[Report]\nAddress = 127.0.0.1:%s\nState_File = %s.state\nHistory = %s\n%s\n' \
        "$1" "$port" "$1" "$2" "${3:-}" > "$1.ini"
}
mkdir -p spool/claimed
python3 - <<'PY'
import json
out = open("recs.ndjson", "w")
def w(r): out.write(json.dumps(r, separators=(",", ":")) + "\n")
w({"v": 1, "kind": "params", "id": "params-1", "ts": "2026-11-24T20:05:00Z", "source": "x.ini",
   "reason": "start", "params": {"p_oob": 0.1, "p_fbl": 0.0, "p_open": 0.5, "p_open_again": 0.1,
                                 "p_click": 0.2, "p_click_again": 0.05}})
# 200 mixed-stream messages: 20 oob, 90 opened (of which 40 clicked), 90 quiet accepts.
for i in range(200):
    acts = ["oob"] if i < 20 else ["open", "click"] if i < 60 else ["open"] if i < 110 else []
    sid = "%016x" % (0xa000 + i)
    r = {"v": 1, "kind": "message", "id": sid, "ts": "2026-11-24T20:05:10.000Z",
         "source": {"type": "spool", "name": "spool/claimed/%s.msg" % sid},
         "settle": "spool/claimed/%s.msg" % sid,
         "envelope": {"mail_from": "bounces+%d@Sender.test" % i, "rcpt": "u%d@mixed.sink.test" % i,
                      "client_ip": "192.0.2.7", "helo": "mta.sender.test",
                      "received": "2026-11-24T20:05:09.500Z"},
         "headers": {"to": "User %d <u%d@mixed.sink.test>" % (i, i), "from": "news@sender.test",
                     "message_id": "<m%d@sender.test>" % i, "x_msfbl": "fbl-%d=" % i},
         "html": True, "urls": {"open": ["http://t.test/o"], "click": ["http://t.test/c"]},
         "dkim": {"result": "pass", "domain": "sender.test"}, "spf": {"result": "pass"},
         "plan": {"stream": "mixed", "actions": acts},
         "http": {"open": [{"url": "http://t.test/o", "status": 200}],
                  "click": [{"url": "http://t.test/c", "status": 200}]}}
    if "oob" in acts:
        r["smtp"] = {"oob": {"status": "sent", "from": "u%d@mixed.sink.test" % i,
                             "to": "bounces+%d@sender.test" % i, "mx": "mx.sender.test",
                             "reply": "250 2.0.0 Ok", "attempts": 1}}
    w(r)
    open("spool/claimed/%s.msg" % sid, "w").write("x")
w({"v": 1, "kind": "inband", "id": "ib1", "ts": "2026-11-24T20:05:11Z", "stream": "mixed",
   "envelope": {"mail_from": "b@sender.test", "rcpt": "refused@mixed.sink.test"},
   "reply": {"code": 550, "enhanced": "5.1.1", "text": "5.1.1 No such user"}})
w({"v": 1, "kind": "inband", "id": "ib2", "ts": "2026-11-24T20:05:11Z", "stream": "mixed",
   "envelope": {"mail_from": "b@sender.test", "rcpt": "later@mixed.sink.test"},
   "reply": {"code": 452, "enhanced": "4.2.2", "text": "Mailbox full"}})
w({"v": 1, "kind": "blackhole", "id": "bh1", "ts": "2026-11-24T20:05:12Z",
   "envelope": {"mail_from": "b@sender.test", "rcpt": "void@mixed.sink.test"}})
PY
total=$(wc -l < recs.ndjson)

conf h h.db
mkfifo in.fifo
bg "$BS_BIN/report" -c h.ini --input in.fifo < /dev/null 2> h.err
wait_port "$port"; ok $? "report listens"
cat recs.ndjson > in.fifo
wait_for grep -q ',void@mixed.sink.test,' h.log
get() { curl -s "http://127.0.0.1:$port$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$1"; }
jq_() { jq -r "$@"; }

d=$(get '/json/messages?rcpt=U30@Mixed.Sink.Test')
is "$(jq_ '.messages|length' <<< "$d")" 1 "rcpt (any case): one record"
is "$(jq_ '.messages[0].id' <<< "$d")" "000000000000a01e" "... the right message"
is "$(jq_ '[.messages[0].events[].event]|join(" ")' <<< "$d")" \
   "received accepted auth routed plan open click logged settled" "... its timeline, in order"
is "$(jq_ '.messages[0].events[]|select(.event=="received").client_ip' <<< "$d")" 192.0.2.7 "... received from the client"
is "$(jq_ '.messages[0].events[]|select(.event=="auth").dkim' <<< "$d")" pass "... DKIM verdict"
is "$(jq_ '.messages[0].events[]|select(.event=="click").status' <<< "$d")" 200 "... click result"
is "$(jq_ '.messages[0].events[]|select(.event=="settled").file' <<< "$d")" deleted "... spool file settled"
is "$(jq_ '.messages[0].line' <<< "$d")" "$(grep -o 'spool/claimed/000000000000a01e.msg,.*' h.log)" "... its log line"
is "$(jq_ '.messages[0].id' <<< "$(get '/json/messages?from=bounces%2B3@sender.test')")" 000000000000a003 "envelope sender"
is "$(jq_ '.messages[0].id' <<< "$(get '/json/messages?message_id=%3Cm5@sender.test%3E')")" 000000000000a005 "Message-ID with <>"
is "$(jq_ '.messages[0].id' <<< "$(get '/json/messages?message_id=m5@sender.test')")" 000000000000a005 "Message-ID without <>"
is "$(jq_ '.messages[0].rcpt' <<< "$(get '/json/messages?spool_id=000000000000a009')")" u9@mixed.sink.test "spool id"
is "$(jq_ '.messages[0].id' <<< "$(get '/json/messages?msfbl=fbl-11%3D')")" 000000000000a00b "X-MSFBL"
d=$(get '/json/messages?rcpt=u2@mixed.sink.test')
is "$(jq_ '.messages[0].events[]|select(.event=="oob")|.status+" "+.to+" "+.mx' <<< "$d")" \
   "sent bounces+2@sender.test mx.sender.test" "report sent (OOB) in the timeline"
d=$(get '/json/messages?rcpt=refused@mixed.sink.test')
is "$(jq_ '.messages[0].kind+" "+.messages[0].outcome' <<< "$d")" "inband inband_5xx" "in-band refusal found"
is "$(jq_ '.messages[0].events[]|select(.event=="refused").reply' <<< "$d")" "550 5.1.1 No such user" "... with its reply"
is "$(jq_ '.messages[0].outcome' <<< "$(get '/json/messages?rcpt=void@mixed.sink.test')")" blackhole "blackholed recipient found"
is "$(jq_ '.messages|length' <<< "$(get '/json/messages?rcpt=nobody@mixed.sink.test')")" 0 "unknown recipient: nothing"

# Paging, newest first: from=b@sender.test matches the three listen records.
p1=$(get '/json/messages?from=b@sender.test&limit=2')
is "$(jq_ '[.messages[].id]|join(" ")' <<< "$p1")" "bh1 ib2" "page 1 (limit 2), newest first"
nb=$(jq_ '.next_before' <<< "$p1")
p2=$(get "/json/messages?from=b@sender.test&limit=2&before=$nb")
is "$(jq_ '[.messages[].id]|join(" ")' <<< "$p2")" "ib1" "page 2 from next_before"
is "$(jq_ '.next_before' <<< "$p2")" null "last page: next_before null"
is "$(jq_ '.messages|length' <<< "$(get '/json/messages?limit=200')")" 200 "limit=200 allowed"

for bad in 'bogus=1' 'limit=0' 'limit=201' 'limit=x' 'before=-3' 'rcpt=' "rcpt=$(printf 'a%.0s' $(seq 600))"; do
    is "$(code "/json/messages?$bad")" 400 "bad parameter ${bad:0:20}: 400"
done
is "$(code '/json/outcomes?range=2y')" 400 "bad range: 400"
like "$(get '/json/messages?limit=0')" '"error": "limit' "400 names the problem"

o=$(get '/json/outcomes?range=1h')
is "$(jq_ '.series.oob|add' <<< "$o")" 20 "series: 20 OOB in the last hour"
is "$(jq_ '.series.inband_5xx|add' <<< "$o")" 1 "series: in-band 5xx"
is "$(jq_ '.series.blackhole|add' <<< "$o")" 1 "series: blackhole"
is "$(jq_ '.times|length' <<< "$o")" 60 "1h: 60 one-minute buckets"
is "$(jq_ '.model.n' <<< "$o")" 200 "model: 200 mixed messages"
is "$(jq_ '.model.rows[]|select(.outcome=="oob")|"\(.count) \(.observed) \(.configured) \(.within)"' <<< "$o")" \
   "20 0.1 0.1 true" "model: oob observed 0.1, configured 0.1, within"
is "$(jq_ '.model.rows[]|select(.outcome=="click")|"\(.count) \(.within)"' <<< "$o")" \
   "40 true" "model: click 40/200 vs 0.9*0.2"
is "$(jq_ '.model.rows[]|select(.outcome=="open_again")|"\(.count) \(.within)"' <<< "$o")" \
   "0 false" "model: open_again 0/200 vs 0.09: outside"
lowhigh=$(jq_ '.model.rows[]|select(.outcome=="oob")|"\(.low*10000|round) \(.high*10000|round)"' <<< "$o")
is "$lowhigh" "657 1494" "Wilson 95 % interval of 20/200: 0.0657-0.1494"
is "$(jq_ '[.codes[]|"\(.code):\(.count)"]|join(" ")' <<< "$o")" "452:1 550:1" "reply codes"

# The database itself: WAL mode, consistent, one row per logged record (params aside).
exec 3>&- 2>/dev/null
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
is "$(sqlite3 h.db 'PRAGMA journal_mode')" wal "journal_mode=WAL"
is "$(sqlite3 h.db 'PRAGMA integrity_check')" ok "integrity_check ok"
is "$(sqlite3 h.db 'SELECT count(*) FROM records')" "$((total - 1))" "one row per record but params"

# Without history: same log, 503 on the history endpoints.
conf n none
bg "$BS_BIN/report" -c n.ini --input in.fifo < /dev/null 2> n.err
wait_port "$port"; ok $? "report without history listens"
cat recs.ndjson > in.fifo
wait_for grep -q ',void@mixed.sink.test,' n.log
is "$(code '/json/messages?rcpt=u1@mixed.sink.test')" 503 "History = none: /json/messages 503"
is "$(code '/json/outcomes')" 503 "History = none: /json/outcomes 503"
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
strip() { sed 's/^[^,]*,[^,]*,[^,]*,//' "$1" | grep -v '^INFO,\*\*'; }
is "$(strip n.log)" "$(strip h.log)" \
   "the log lines are the same with and without history"
ok "$( [ ! -e none ] && [ ! -e report-history.sqlite ]; echo $? )" "no database created with History = none"

# History_Max_Rows: the oldest rows go (checked at the next commit, at most once a second).
conf r r.db 'History_Max_Rows = 1000'
python3 - <<'PY'
import json
with open("many.ndjson", "w") as f:
    for i in range(1500):
        f.write(json.dumps({"v": 1, "kind": "blackhole", "id": "x%d" % i, "ts": "2026-11-24T20:05:12Z",
                            "envelope": {"mail_from": "b@s.test", "rcpt": "r%d@s.test" % i}}) + "\n")
PY
bg "$BS_BIN/report" -c r.ini --input in.fifo < /dev/null 2> r.err
wait_port "$port"; ok $? "report (History_Max_Rows = 1000) listens"
cat many.ndjson > in.fifo
wait_for grep -q ',r1499@s.test,' r.log
sleep 1.2
{ echo '{"v":1,"kind":"blackhole","id":"last","ts":"2026-11-24T20:05:12Z","envelope":{"rcpt":"last@s.test"}}'; } > in.fifo
wait_for grep -q ',last@s.test,' r.log
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
rows=$(sqlite3 r.db 'SELECT count(*) FROM records')
ok "$( [ "$rows" -le 1001 ] && [ "$rows" -ge 1000 ]; echo $? )" "History_Max_Rows = 1000: $rows rows kept of 1501"
is "$(sqlite3 r.db "SELECT count(*) FROM records WHERE id = 'x0'")" 0 "the oldest went"
# A database that cannot be created: a warning, and report runs on without history.
conf u /nonexistent-dir/h.db
bg "$BS_BIN/report" -c u.ini --input in.fifo < /dev/null 2> u.err
wait_port "$port"; ok $? "report with an unusable History listens"
like "$(cat u.err)" 'warning: cannot open history database \(/nonexistent-dir/h.db\).*no history kept' "... with a warning"
is "$(code '/json/messages')" 503 "... and no history (503)"
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
printf '[Report]\nHistory_Max_Rows = 10\n' > bad.ini
"$BS_BIN/report" -c bad.ini --once < /dev/null > /dev/null 2> bad.err
is $? 78 "History_Max_Rows below 1000: configuration error (78)"
like "$(cat bad.err)" 'bad.ini:2' "... naming FILE:LINE"
done_testing
