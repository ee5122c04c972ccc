#!/usr/bin/env bash
# report: listen's persona records (issue 16) — one log line each
# (`Persona <persona> <rule> <stage> <code> <enhanced> <text> (client <ip>)`), the counters
# persona_replies and persona_<persona>_<rule> in /json and /metrics, and rows in the
# page's "personas" table.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
port=$(free_port)
U=http://127.0.0.1:$port
printf '[Sink]\nLogfile = c.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > c.ini
mkfifo in.fifo
bg "$BS_BIN/report" -c c.ini --input in.fifo < /dev/null
wait_port "$port"; ok $? "report listens"
exec 3> in.fifo
rec() { # id persona rule stage code enhanced text ip
    printf '{"v":1,"kind":"persona","id":"%s","ts":"2026-11-24T20:05:10.001Z","stream":"mixed",' "$1"
    printf '"envelope":{"mail_from":"news@sender.test","rcpt":"x@%s.sink.test","client_ip":"%s","helo":"mta"},' "$2" "$8"
    printf '"persona":"%s","rule":"%s","stage":"%s","reply":{"code":%s,"enhanced":"%s","text":"%s"}}\n' "$2" "$3" "$4" "$5" "$6" "$7"
}
{
    rec 1a00000000000001 gmail no-ptr rcpt 550 5.7.25 "The IP address sending this message does not have a PTR record setup" 192.0.2.20
    rec 1a00000000000002 gmail no-ptr rcpt 550 5.7.25 "The IP address sending this message does not have a PTR record setup" 192.0.2.21
    rec 1a00000000000003 yahoo rate-ip rcpt 421 4.7.0 "[TSS04] Messages from 192.0.2.22 temporarily deferred" 192.0.2.22
} >&3
wait_for grep -q 'Persona yahoo rate-ip' c.log; ok $? "persona records logged"
like "$(cat c.log)" '1a00000000000001,x@gmail.sink.test,news@sender.test,.*Persona gmail no-ptr rcpt 550 5.7.25 The IP address sending this message does not have a PTR record setup \(client 192.0.2.20\)' \
    "log line: id, To, From, persona, rule, stage, reply, client"
like "$(cat c.log)" 'Persona yahoo rate-ip rcpt 421 4.7.0 \[TSS04\] Messages from 192.0.2.22 temporarily deferred \(client 192.0.2.22\)' \
    "log line of a 4xx persona reply"

curl -s "$U/json" > json
python3 - json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["persona_replies"], d["persona_gmail_no_ptr"], d["persona_yahoo_rate_ip"]) == (3, 2, 1), d
PY
ok $? "/json: persona_replies and one counter per persona and rule"
curl -s "$U/metrics" > metrics
/usr/bin/python3 - metrics <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {s.name: s.value for f in text_string_to_metric_families(open(sys.argv[1]).read()) for s in f.samples}
assert v["bouncy_sink_persona_replies_total"] == 3, v
assert v["bouncy_sink_persona_gmail_no_ptr_total"] == 2, v
assert v["bouncy_sink_persona_yahoo_rate_ip_total"] == 1, v
PY
ok $? "/metrics: the persona counters parse as Prometheus counters"
curl -s "$U/" > page
like "$(cat page)" '<table id="personas"><tbody>' "page: the personas table"
python3 - page <<'PY'
import re, sys
p = open(sys.argv[1]).read()
table = p.split('<table id="personas">')[1].split('</table>')[0]
assert 'data-counter="persona_replies">3<' in table, table
assert 'data-counter="persona_gmail_no_ptr">2<' in table, table
assert 'data-counter="persona_yahoo_rate_ip">1<' in table, table
other = p.split('<table id="other">')[1].split('</table>')[0]
assert 'persona_' not in other, other
PY
ok $? "page: persona rows in the personas table, not among the other counters"
exec 3>&-
done_testing
