#!/usr/bin/env bash
# report's page in headless Chromium, after a demo-like run (an hour of history, then
# live records from every stage's kinds): the per-outcome series drawn by Chart.js
# (served from Debian's libjs-chart.js as /chart.js) with its table, the observed-vs-
# configured table, the reply-code chart, recent messages; a lookup by recipient (the
# search box, filled from the URL's #rcpt=...) shows that message's timeline; every
# control is labelled; without Chart.js the tables still fill. Screenshots (desktop and
# phone) are kept in tests/out/artefacts/.
. "$(dirname "$0")/../lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHARTJS=/usr/share/javascript/chart.js/chart.min.js
[ -x "$CHROMIUM" ] || { fail "chromium installed (bash tools/deps.sh)"; done_testing; exit; }
[ -r "$CHARTJS" ] || { fail "libjs-chart.js installed (bash tools/deps.sh)"; done_testing; exit; }
export TZ=UTC
cd "$T" || exit 1
art=$ROOT/tests/out/artefacts
mkdir -p "$art"
port=$(free_port)
conf() { printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\nHistory = h.db\n%s\n' "$port" "${1:-}" > c.ini; }
conf
# The database of an earlier hour: report creates it, then rows are added as report
# would have (one per minute's traffic), so that the series has a shape.
"$BS_BIN/report" -c c.ini --until-eof < /dev/null 2> r0.err &
wait_port "$port"; kill $! 2>/dev/null; wait $! 2>/dev/null
python3 - <<'PY'
import json, math, random, sqlite3, time
random.seed(7)
def plan():  # decide's model (decide(1)) with the parameters of the params record below
    r = random.random
    if r() < 0.05: return ["oob"]
    if r() < 0.01: return ["fbl"]
    if r() >= 0.3: return []
    a = ["open"] + (["open_again"] if r() < 0.05 / 0.3 else [])
    if r() < 0.2 / 0.3: a += ["click"] + (["click_again"] if r() < 0.02 / 0.2 else [])
    return a
BITS = {"open": 1, "open_again": 2, "click": 4, "click_again": 8, "oob": 32, "fbl": 64}
def outcome(a):
    return next((o for o in ("oob", "fbl", "click", "open") if o in a), "accept")
db = sqlite3.connect("h.db")
now = time.time()
rows = []
for m in range(60, 1, -1):
    t0 = now - m * 60
    n = 20 + int(12 * math.sin(m / 7.0))
    for k in range(n):
        a = plan()
        rows.append((t0 + k, "message", "%016x" % random.getrandbits(64), outcome(a), "mixed",
                     sum(BITS[x] for x in a), None,
                     "old%d@mixed.sink.test" % k, "bounces@sender.test", None, None, "INFO", "", "[]"))
    for k in range(n // 5):
        code = random.choice([550, 550, 552, 451, 421])
        rows.append((t0 + k, "inband", "ib%d-%d" % (m, k), "inband_5xx" if code >= 500 else "inband_4xx",
                     "mixed", 0, code, "ib%d@mixed.sink.test" % k, "b@sender.test", None, None, "INFO", "", "[]"))
db.executemany("INSERT INTO records(t,kind,id,outcome,stream,acts,code,rcpt,mail_from,message_id,"
               "msfbl,level,line,events) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
# Now the live records: a params record and a mixed stream as decide would plan it.
out = open("recs.ndjson", "w")
def w(r): out.write(json.dumps(r, separators=(",", ":")) + "\n")
w({"v": 1, "kind": "params", "id": "params-1", "ts": "2026-11-24T20:05:00Z", "source": "demo.ini",
   "reason": "start", "params": {"p_oob": 0.05, "p_fbl": 0.01, "p_open": 0.3, "p_open_again": 0.05,
                                 "p_click": 0.2, "p_click_again": 0.02}})
for i in range(300):
    acts = plan()
    if i == 42:
        acts = ["open"]
    r = {"v": 1, "kind": "message", "id": "%016x" % (0xd000 + i), "ts": "2026-11-24T20:05:10.000Z",
         "source": {"type": "spool", "name": "spool/%016x.msg" % (0xd000 + i)},
         "envelope": {"mail_from": "bounces@sender.test", "rcpt": "u%d@mixed.sink.test" % i,
                      "client_ip": "192.0.2.7", "helo": "mta.sender.test"},
         "headers": {"to": "u%d@mixed.sink.test" % i, "from": "news@sender.test",
                     "message_id": "<d%d@sender.test>" % i, "subject": "Newsletter %d" % i},
         "html": True, "urls": {"open": ["http://t.test/o"], "click": ["http://t.test/c"]},
         "dkim": {"result": "pass", "domain": "sender.test"}, "spf": {"result": "pass"},
         "plan": {"stream": "mixed", "actions": acts},
         "http": {"open": [{"url": "http://t.test/o", "status": 200}],
                  "click": [{"url": "http://t.test/c", "status": 200}]}}
    if acts in (["oob"], ["fbl"]):
        r["smtp"] = {acts[0]: {"status": "sent", "from": "u%d@mixed.sink.test" % i,
                               "to": "bounces@sender.test", "mx": "mx.sender.test"}}
    w(r)
for i, code in enumerate([550, 550, 452, 421, 554]):
    w({"v": 1, "kind": "inband", "id": "ibl%d" % i, "ts": "2026-11-24T20:05:11Z", "stream": "mixed",
       "envelope": {"mail_from": "b@sender.test", "rcpt": "inband%d@mixed.sink.test" % i},
       "reply": {"code": code, "text": "refused"}})
w({"v": 1, "kind": "blackhole", "id": "bh1", "ts": "2026-11-24T20:05:12Z",
   "envelope": {"mail_from": "b@sender.test", "rcpt": "void@mixed.sink.test"}})
PY
mkfifo in.fifo
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null 2> r1.err
wait_port "$port"; ok $? "report listens"
cat recs.ndjson > in.fifo
wait_for grep -q ',void@mixed.sink.test,' c.log

chrome() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
        --virtual-time-budget=8000 "$@" 2>> chrome.err
}
url="http://127.0.0.1:$port/#rcpt=U42@mixed.sink.test"
chrome --window-size=1100,2600 --dump-dom "$url" > dom.html
ok $? "chromium loaded the page"
python3 - dom.html > checks.txt <<'PY'
import re, sys
from html.parser import HTMLParser
dom = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.els = []; self.stack = []; self.labels = {}; self.cur_label = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); e = {"tag": tag, "a": a, "text": ""}; self.els.append(e)
        if tag not in ("input", "br", "meta", "link", "img"): self.stack.append(e)
        if tag == "label": self.cur_label = a.get("for")
    def handle_endtag(self, tag):
        while self.stack:
            e = self.stack.pop()
            if e["tag"] == tag: break
        if tag == "label": self.cur_label = None
    def handle_data(self, d):
        for e in self.stack: e["text"] += d
p = P(); p.feed(dom)
def say(ok, what): print(("PASS " if ok else "FAIL ") + what)
byid = {e["a"].get("id"): e for e in p.els if e["a"].get("id")}
series = byid.get("outcomes", {"a": {}})["a"].get("data-series", "")
say(all(s in series.split(",") for s in ("accept", "open", "click", "oob", "inband_5xx", "inband_4xx")),
    "per-outcome series present (data-series=%s)" % series)
say(byid.get("chart-outcomes", {"a": {}})["a"].get("data-chart") == "drawn", "series chart drawn by Chart.js")
say(byid.get("chart-codes", {"a": {}})["a"].get("data-chart") == "drawn", "code chart drawn by Chart.js")
rows = re.findall(r'<tr data-outcome="(\w+)"><th scope="row">\w+</th><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td class="(in|out|)">([^<]*)</td>', dom)
say(len(rows) == 7, "observed-vs-configured table has 7 rows (%d)" % len(rows))
say(any(r[0] == "oob" and "%" in r[1] and "\u2013" in r[2] and r[5] in ("as configured", "outside the interval") for r in rows),
    "oob row: observed share, Wilson interval, verdict")
codes = re.findall(r'<tr data-code="(\d+)"><th scope="row">\d+</th><td>(\d+)</td>', dom)
say({c for c, _ in codes} >= {"550", "452", "421", "554"}, "reply codes table: %s" % ",".join(c for c, _ in codes))
tl = byid.get("timeline", {"a": {}})
events = re.findall(r'<li data-event="(\w+)">', dom)
say(tl["a"].get("data-id") == "%016x" % (0xd000 + 42), "lookup by recipient: timeline of that message (%s)" % tl["a"].get("data-id"))
say(events[:5] == ["received", "accepted", "auth", "routed", "plan"] and "logged" in events,
    "timeline events in order: %s" % " ".join(events))
recent = re.findall(r'<tr data-seq="\d+">', dom.split('id="recent-table"')[1]) if 'id="recent-table"' in dom else []
say(len(recent) >= 10, "recent messages listed (%d)" % len(recent))
say('data-history-loaded="1"' in dom, "history sections loaded without error")
# accessibility: every control labelled, canvases described, language set
ids_labelled = {e["a"].get("for") for e in p.els if e["tag"] == "label"}
unl = []
for e in p.els:
    if e["tag"] in ("input", "select", "textarea"):
        if e["a"].get("type") == "hidden": continue
        if e["a"].get("id") not in ids_labelled and not e["a"].get("aria-label"): unl.append(e["tag"] + "#" + str(e["a"].get("id")))
    if e["tag"] == "button" and not (e["text"].strip() or e["a"].get("aria-label")):
        unl.append("button")
say(not unl, "every control has a label (%s)" % (",".join(unl) or "all"))
cv = [e for e in p.els if e["tag"] == "canvas"]
say(cv and all(e["a"].get("role") == "img" and e["a"].get("aria-label") for e in cv), "charts have role=img and a text")
say(re.search(r'<html lang="en"', dom) is not None, "page language set")
say('name="viewport"' in dom, "viewport for phones")
PY
while IFS= read -r line; do
    case "$line" in PASS\ *) pass "${line#PASS }" ;; *) fail "${line#FAIL }" ;; esac
done < checks.txt
is "$(grep -c "" checks.txt)" 14 "all DOM checks ran"

chrome --window-size=1100,2600 --screenshot="$T/desktop.png" "$url" > /dev/null
ok $? "desktop screenshot"
chrome --window-size=500,2400 --screenshot="$T/phone.png" "$url" > /dev/null
ok $? "phone screenshot"
for f in desktop phone; do
    size=$(stat -c %s "$T/$f.png" 2>/dev/null || echo 0)
    ok "$( [ "$size" -gt 20000 ]; echo $? )" "$f screenshot is a real picture ($size bytes)"
    cp "$T/$f.png" "$art/report-page-$f.png" 2>/dev/null
done
# docs/report-page.png (README) is made with REPORT_PAGE_SCREENSHOT=docs/report-page.png
if [ -n "${REPORT_PAGE_SCREENSHOT:-}" ]; then
    chrome --window-size=1000,1560 --screenshot="$REPORT_PAGE_SCREENSHOT" "$url" > /dev/null
fi
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null

# Without Chart.js: tables only, and the page says so.
conf "Chart_JS = $T/missing.js"
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null 2> r2.err
wait_port "$port"; ok $? "report without Chart.js listens"
like "$(cat r2.err)" "cannot read \[Report\] Chart_JS" "a warning names the missing file"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/chart.js")" 404 "/chart.js 404"
chrome --window-size=1100,2600 --dump-dom "$url" > dom2.html
d2=$(cat dom2.html)
like "$d2" 'data-history-loaded="1"' "tables filled without Chart.js"
like "$d2" '<tr data-outcome="oob"><th scope="row">oob</th>' "observed-vs-configured table without Chart.js"
like "$d2" '<tr data-code="550">' "codes table without Chart.js"
like "$d2" '<li data-event="received">' "lookup timeline without Chart.js"
unlike "$d2" 'data-chart="drawn"' "no chart drawn"
like "$d2" 'Charts need /chart.js' "the page says why there are no charts"
done_testing
