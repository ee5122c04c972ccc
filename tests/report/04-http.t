#!/usr/bin/env bash
# report: every endpoint with curl (status, content type, JSON shape), HEAD, 404, 405,
# /metrics through a Prometheus text-format parser, the address errors.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
port=$(free_port)
U=http://127.0.0.1:$port
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > c.ini
mkfifo in.fifo
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null
wait_port "$port"; ok $? "report listens on the configured address"
exec 3> in.fifo
cat "$ROOT/tests/report/data/records.ndjson" >&3 2>/dev/null
wait_for grep -q 'Slow rcpt 2000ms' c.log; ok $? "records processed"

get() { curl -s -o body -D hdr -w '%{http_code} %{content_type}' "$@"; }
is "$(get "$U/json")" "200 application/json" "/json: 200 application/json"
python3 - body <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict) and isinstance(d["startedRunning"], str)
assert all(isinstance(v, int) for k, v in d.items() if k != "startedRunning")
for k in ("total_messages fail_dkim fail_spf accept open open_again click click_again "
          "open_url_not_sparkpost click_url_not_sparkpost oob_sent oob_missing_return_path "
          "oob_missing_to oob_return_path_not_sparkpost oob_smtp_error fbl_sent "
          "fbl_missing_return_path fbl_missing_to fbl_return_path_not_sparkpost "
          "fbl_smtp_error").split():
    assert k in d, k
assert d["total_messages"] == 9 and d["open"] == 2, d
# issue 10 counters: present from the start, counted from the records
for k in ("ooto_sent ooto_missing_return_path ooto_missing_to ooto_return_path_not_sparkpost "
          "ooto_no_mx ooto_smtp_error ooto_auto_submitted ooto_system_sender greylist_deferred "
          "greylist_passed throttle_connections throttle_messages_per_connection "
          "throttle_messages_per_minute slow_replies unsubscribe unsubscribe_error "
          "oob_invalid_return_path fbl_invalid_return_path ooto_invalid_return_path "
          "settle_refused").split():
    assert k in d, k
assert (d["ooto_sent"], d["greylist_deferred"], d["greylist_passed"],
        d["throttle_messages_per_minute"], d["throttle_connections"], d["slow_replies"]) == \
    (1, 1, 1, 1, 0, 1), d
PY
ok $? "/json: SPEC A9 shape and values"

is "$(get "$U/json/ts-messages")" "200 application/json" "/json/ts-messages: 200 application/json"
python3 - body <<'PY'
import json, re, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and a, a
for e in a:
    assert set(e) == {"time", "messages"}, e
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+00:00", e["time"]), e
    assert isinstance(e["messages"], int)
assert [e["time"] for e in a] == sorted(e["time"] for e in a)
assert sum(e["messages"] for e in a) == 9
PY
ok $? "/json/ts-messages: sorted [{time, messages}] per minute"

is "$(get "$U/json/params")" "200 application/json" "/json/params: 200"
like "$(cat body)" '"p_open": 1.1' "/json/params: the latest params record"

is "$(get "$U/metrics")" "200 text/plain; version=0.0.4; charset=utf-8" "/metrics: Prometheus content type"
/usr/bin/python3 - body <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
f = fams["bouncy_sink_total_messages"]
assert f.type == "counter" and f.documentation == "Messages processed", (f.type, f.documentation)
assert f.samples[0].value == 9, f.samples
for name, label, value in (("ooto_sent", "Out-of-office replies sent", 1),
                           ("greylist_deferred", "Greylisted (deferred)", 1),
                           ("greylist_passed", "Greylisted then accepted", 1),
                           ("throttle_messages_per_minute", "Throttled: too many messages per minute", 1),
                           ("throttle_connections", "Throttled: too many concurrent connections", 0),
                           ("slow_replies", "Slow replies", 1),
                           ("unsubscribe", "One-click unsubscribes", 0)):
    f = fams["bouncy_sink_" + name]
    assert f.type == "counter" and f.documentation == label, (name, f.documentation)
    assert f.samples[0].value == value, (name, f.samples)
assert fams["bouncy_sink_open"].samples[0].value == 2
assert fams["bouncy_sink_inband_5xx"].samples[0].value == 1
assert fams["bouncy_sink_started_running_timestamp_seconds"].type == "gauge"
assert all(n.startswith(("bouncy_sink_", "process_")) for n in fams)
f = fams["bouncy_sink_build_info"]
assert f.type == "gauge" and f.samples[0].value == 1 and f.samples[0].labels["version"], f.samples
f = fams["process_start_time_seconds"]
import time
assert f.type == "gauge" and 0 < time.time() - f.samples[0].value < 600, f.samples
PY
ok $? "/metrics parsed by prometheus_client, HELP/TYPE/values right"
# Prometheus's own linter (issue 19): counters end in _total, every family has HELP and TYPE
lint=$(promtool check metrics < body 2>&1)
ok $? "/metrics passes promtool check metrics"
is "$lint" "" "promtool has nothing to say about /metrics"

is "$(get "$U/")" "200 text/html; charset=utf-8" "/: 200 text/html; charset=utf-8"
like "$(grep -i '^content-type' hdr)" "charset=utf-8" "page declares utf-8"
like "$(cat body)" "Messages processed" "page has the counters table"
for label in "Out-of-office replies sent" "Greylisted \(deferred\)" "Greylisted then accepted" \
    "Throttled: too many messages per minute" "Slow replies" "One-click unsubscribes"; do
    like "$(cat body)" "<td class=\"descr\">$label</td>" "page shows \"$label\""
done
like "$(cat body)" '<table id="listener">' "page has the greylisting/throttling/slow table"
like "$(cat body)" 'data-counter="greylist_deferred">1<' "page: greylist_deferred value"
unlike "$(cat body)" '(src|href)="https?:' "page loads nothing from the internet"
like "$(grep -i '^content-security-policy' hdr)" "default-src 'none'" "page sent with a strict CSP"

is "$(curl -s -o /dev/null -w '%{http_code}' "$U/nope")" 404 "unknown path: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$U/json/")" 404 "trailing slash: 404"
is "$(curl -s -o /dev/null -D hdr -w '%{http_code}' -X POST -d x=1 "$U/json")" 405 "POST: 405"
like "$(grep -i '^allow:' hdr)" "GET, HEAD" "405 carries Allow"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/")" 405 "DELETE: 405"
is "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$U/json")" "200 0" "HEAD: 200 without body"

# Escaping: a params record carrying markup is shown as text.
printf '%s\n' '{"v":1,"kind":"params","id":"p9","ts":"2026-11-24T20:05:00Z","source":"<script>alert(1)</script>","reason":"reload","params":{"k<b>":"\"v&"}}' >&3
wait_for grep -q 'reload' c.log
page=$(curl -s "$U/")
like "$page" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "markup from records is escaped"
unlike "$page" '<script>alert' "no injected script"
like "$page" 'k&lt;b&gt;</td><td class="num">&quot;v&amp;' "params keys and values escaped"
exec 3>&-

# Address errors: a taken port, an address not on this host.
port2=$(free_port)
printf '[Report]\nAddress = 127.0.0.1:%s\nState_File = st2.json\n[Sink]\nLogfile = c2.log\n' "$port" > taken.ini
err=$("$BS_BIN/report" -c taken.ini < /dev/null 2>&1); is $? 69 "address in use: exit 69"
like "$err" "report: (error|fatal): cannot listen on \[Report\] Address \(127.0.0.1 port $port\)" "clear error"
printf '[Report]\nAddress = 192.0.2.1:%s\nState_File = st2.json\n[Sink]\nLogfile = c2.log\n' "$port2" > far.ini
"$BS_BIN/report" -c far.ini < /dev/null > /dev/null 2>&1; is $? 69 "address not on this host: exit 69"

# IPv6 loopback, when the host has it.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
    port6=$(free_port)
    printf '[Report]\nAddress = [::1]:%s\nState_File = st6.json\n[Sink]\nLogfile = c6.log\n' "$port6" > v6.ini
    mkfifo v6.fifo
    bg "$BS_BIN/report" -c v6.ini --input v6.fifo < /dev/null
    wait_for curl -s -g -o /dev/null "http://[::1]:$port6/json"
    is "$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:$port6/json")" 200 "IPv6 [::1] address served"
else
    pass "IPv6 loopback not available here (skipped)"
fi
done_testing
