#!/usr/bin/env bash
# End to end: the live sink (pipelines/sink.sh) started by the test, messages sent over SMTP
# to every stream; the log file, /json, the local tracking server's hits and the ARF/DSN
# received by a local SMTP server all agree with each other and with what was sent.
# Runs in a private network namespace: the corpus links to example.com hosts, and no
# lookup or packet may leave the machine (resolv.conf names 127.0.0.1, where nothing answers).
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/e2e/common.sh
. "$(dirname "$0")/common.sh"

netns_resolver
ok $? "private network namespace with an empty resolver"

N=${E2E_MESSAGES:-400}
e2e_corpus "$N" accept=10,oob=5,fbl=5,openclick=30,mixed=50
e2e_config "OOB_percent = 0.5
FBL_percent = 0.01
Open_percent = 55
Open_Again_percent = 10
Click_percent = 15
Click_Again_percent = 3
Upstream_Handled = 50" "InBand_Bounce_percent = 20
Seed = 11" "SPF = on" ""
e2e_start
ok $? "sink, report, tracking server and report receiver listening"

python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$SP" -c 4 --json "$T/eml" > "$T/sent.json" 2>"$T/send.err"
ok $? "every message got an SMTP answer"
sent() { python3 -c "import json,sys; print(json.load(open('$T/sent.json'))['$1'])"; }
accepted=$(sent accepted); tempfail=$(sent tempfail); permfail=$(sent permfail)
is "$((accepted + tempfail + permfail))" "$N" "accepted + 4xx + 5xx = messages sent"
diag "accepted $accepted, 4xx $tempfail, 5xx $permfail"

log=$T/run/consume-mail.log
# Message lines name a spool file; in-band and blackhole lines name a listener id.
# (the log with its rotated files: a run across local midnight has lines in two)
msg_lines() { log_cat "$log" | grep -c ',consume-mail,[A-Z]*,[^,]*\.msg,'; }
bh_lines() { log_cat "$log" | grep -c ',Blackhole'; }
settled() { [ "$(($(msg_lines) + $(bh_lines)))" -ge "$accepted" ] && [ -z "$(ls -A "$T/run/spool/claimed" 2>/dev/null)" ]; }
for _ in $(seq 1 600); do settled && break; sleep 0.1; done
settled
ok $? "every accepted message has its log line and its spool file is settled"
spooled=$(msg_lines); blackholed=$(bh_lines)
is "$((spooled + blackholed))" "$accepted" "log: message lines + blackhole lines = accepted by SMTP"
inband=$(log_cat "$log" | grep -c ',InBand ')
is "$inband" "$((tempfail + permfail))" "log: one in-band line per refused recipient"

curl -fsS "http://127.0.0.1:$WP/json" > "$T/json"
ok $? "/json answers"
j() { python3 -c "import json; print(json.load(open('$T/json')).get('$1', 0))"; }
is "$(j total_messages)" "$spooled" "/json total_messages = message lines"
is "$(j blackhole)" "$blackholed" "/json blackhole = blackhole lines"
is "$(($(j inband_4xx) + $(j inband_5xx)))" "$((tempfail + permfail))" "/json in-band counters = refused recipients"
is "$(j fail_dkim)" 0 "every message passed DKIM"

# Streams: each accepted message's line shows what its stream must do.
python3 - "$T/manifest.jsonl" <(log_cat "$log") > "$T/streams.txt" <<'PY'
import json, sys, re
manifest = [json.loads(l) for l in open(sys.argv[1])]
lines = {}
for l in open(sys.argv[2], encoding="utf-8", errors="replace"):
    # date time,ms , logger , level , file , To , From , actions
    parts = l.rstrip("\n").split(",", 7)
    if len(parts) == 8 and parts[4].endswith(".msg"):
        m = re.search(r"[\w.+-]+@[\w.-]+", parts[5])
        if m:
            lines[m.group(0).lower()] = parts[7]
want = {"accept": lambda a: a == "Accept", "oob": lambda a: a.startswith("OOB sent,"),
        "fbl": lambda a: a.startswith("FBL sent,"), "openclick": lambda a: a.startswith("_Open:")}
seen = {k: [0, 0] for k in want}
for m in manifest:
    s, r = m["stream"], m["rcpt"].lower()
    if s in want and r in lines:
        seen[s][0] += 1
        seen[s][1] += bool(want[s](lines[r]))
for s, (n, good) in sorted(seen.items()):
    print(s, n, good)
PY
while read -r stream n good; do
    ok "$([ "$n" -gt 0 ] && [ "$n" = "$good" ] && echo 0 || echo 1)" "stream $stream: all $n lines show the right action ($good)"
done < "$T/streams.txt"

# Tracking hits: every 200 code in the log is one request the tracking server saw. (A fetch
# that times out after the server logged it breaks the equality: Open_Click_Timeout is 30 s,
# as a fully loaded machine running the ASan build took more than 5 s for some.)
opens=$(python3 - <(log_cat "$log") <<'PY'
import re, sys
o = c = 0
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    for name, codes in re.findall(r"_(Open|OpenAgain|Click|ClickAgain):([0-9, ]+?)(?=_|$|!)", l.rstrip("\n")):
        n = len([x for x in codes.split(",") if x.strip()])
        if name.startswith("Open"): o += n
        else: c += n
print(o, c)
PY
)
read -r log_opens log_clicks <<< "$opens"
hits_q=$(awk -F'\t' '$1=="GET" && $2 ~ /^\/q\//' "$T/track.log" | wc -l)
hits_f=$(awk -F'\t' '$1=="GET" && $2 ~ /^\/f\//' "$T/track.log" | wc -l)
is "$hits_q" "$log_opens" "tracking server pixel hits = open fetches in the log"
is "$hits_f" "$log_clicks" "tracking server link hits = click fetches in the log"
ok "$([ "$(j open)" -gt 0 ] && [ "$(j click)" -gt 0 ] && echo 0 || echo 1)" "opens and clicks happened ($(j open), $(j click))"

# ARF and DSN: received by the local SMTP server, as many as the counters and the log say.
sleep 0.5
received=$(find "$T/received" -type f | wc -l)
is "$received" "$(($(j oob_sent) + $(j fbl_sent)))" "reports received = oob_sent + fbl_sent"
is "$(log_cat "$log" | grep -cE ',(OOB|FBL) sent,')" "$received" "reports received = OOB/FBL sent lines"
arf=$(grep -l 'report-type=feedback-report' "$T"/received/* | head -n 1)
dsn=$(grep -l 'report-type=delivery-status' "$T"/received/* | head -n 1)
ok "$([ -n "$arf" ] && [ -n "$dsn" ] && echo 0 || echo 1)" "both an ARF and a DSN arrived"
/usr/bin/python3 - "$arf" "$dsn" > "$T/reports.txt" <<'PY'
import email, sys
from email import policy
def load(p):
    raw = open(p, "rb").read()
    i = raw.find(b"\n\n") if raw.startswith(b"X-") else -1
    return email.message_from_bytes(raw, policy=policy.compat32)
arf, dsn = load(sys.argv[1]), load(sys.argv[2])
fr = [p for p in arf.walk() if p.get_content_type() == "message/feedback-report"]
ds = [p for p in dsn.walk() if p.get_content_type() == "message/delivery-status"]
print("arf-ok" if fr and "Feedback-Type: abuse" in fr[0].as_string() and "X-MSFBL" in arf.as_string() else "arf-bad")
print("dsn-ok" if ds and "Action: failed" in ds[0].as_string() and "Final-Recipient" in ds[0].as_string() else "dsn-bad")
PY
like "$(cat "$T/reports.txt")" "arf-ok" "the ARF has a feedback report and the original X-MSFBL"
like "$(cat "$T/reports.txt")" "dsn-ok" "the DSN has a failed delivery-status"

kill -TERM "$sink"
for _ in $(seq 1 300); do kill -0 "$sink" 2>/dev/null || break; sleep 0.1; done
wait "$sink"; rc=$?
is "$rc" 0 "SIGTERM: the sink drains and exits 0"
left=$(pgrep -f "$T/sink.ini" | wc -l)
is "$left" 0 "no stage left running"
log_cat "$log" | grep -q 'Process finishing'
ok $? "report wrote its closing line"
done_testing
