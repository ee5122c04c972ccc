#!/usr/bin/env bash
# report: the page in headless Chromium — after its JavaScript ran, the DOM holds the
# messages-per-minute chart (SVG, one point per minute of the series), the counters
# table with the SPEC A9 labels and live values, the model parameters; and a screenshot.
. "$(dirname "$0")/../lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    fail "chromium not installed (bash tools/deps.sh)"; done_testing; exit
fi
cd "$T" || exit 1
port=$(free_port)
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > c.ini
# A state with two hours of traffic ending now (90 minutes with messages, a gap).
python3 - <<'PY'
import json, math, time
now = int(time.time()) // 60 * 60
series = [[now - 60 * i, 40 + int(30 * math.sin(i / 9))] for i in range(120) if not 50 <= i < 80]
counters = {"total_messages": sum(c for _, c in series), "accept": 2100, "open": 1500,
            "open_again": 160, "click": 420, "click_again": 80, "oob_sent": 17, "fbl_sent": 3,
            "fail_dkim": 12, "spf_pass": 3900}
json.dump({"version": 1, "startedRunning": "", "started": now - 7200, "counters": counters,
           "ts_messages": sorted(series)}, open("st.json", "w"))
PY
mkfifo in.fifo
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null
wait_port "$port"; ok $? "report listens"
exec 3> in.fifo
cat "$ROOT/tests/report/data/records.ndjson" >&3 2>/dev/null
wait_for grep -q 'Record surprise' c.log
minutes=$(curl -s "http://127.0.0.1:$port/json/ts-messages" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
total=$(curl -s "http://127.0.0.1:$port/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_messages"])')

chrome() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
        --virtual-time-budget=8000 --window-size=1000,1700 "$@" 2> chrome.err
}
chrome --dump-dom "http://127.0.0.1:$port/" > dom.html
ok $? "chromium loaded the page"
dom=$(cat dom.html)
like "$dom" '<body[^>]*data-loaded="1"' "the page's script fetched /json, /json/ts-messages, /json/params"
like "$dom" '<svg id="chart-svg"' "chart drawn as inline SVG"
like "$dom" "<polyline [^>]*data-points=\"$minutes\"" "chart has one point per minute of the series ($minutes)"
like "$dom" '<table id="counters">' "counters table present"
for label in "Messages processed" "Accepted, not opened" "Opened" "Opened a second time" \
             "Clicked" "Clicked a second time" "OOB replies successfully sent" \
             "FBL replies successfully sent"; do
    like "$dom" "<td class=\"descr\">$label</td>" "label: $label"
done
like "$dom" "data-counter=\"total_messages\">$total<" "live total_messages ($total) in the table"
like "$(grep -A3 '<table id="errors">' dom.html)" 'DKIM error' "error counters table present"
like "$dom" 'data-counter="records_surprise">1<' "counter created on the fly is shown"
like "$dom" '<td class="descr">p_open</td><td class="num">1.1</td>' "model parameters in force shown"
like "$dom" '<span id="updated">[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC</span>' "refresh time shown: no fetch failed"

chrome --screenshot="$T/page.png" "http://127.0.0.1:$port/" > /dev/null
ok $? "screenshot taken"
size=$(stat -c %s "$T/page.png" 2>/dev/null || echo 0)
ok "$( [ "$size" -gt 20000 ]; echo $? )" "screenshot is a real picture ($size bytes)"
[ -n "${REPORT_SCREENSHOT:-}" ] && cp "$T/page.png" "$REPORT_SCREENSHOT"
exec 3>&-
done_testing
