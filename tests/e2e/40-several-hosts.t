#!/usr/bin/env bash
# Several hosts (issue 19): Debian's HAProxy, run from etc/haproxy.cfg with loopback
# addresses, in front of three live sinks (pipelines/sink.sh, each its own spool, run
# directory and report port, [Listen] Proxy_Networks = the balancer), Debian's Prometheus
# scraping the three reports and HAProxy, from etc/prometheus.yml and
# etc/prometheus-rules.yml with a 1 s interval. Mail comes from documentation addresses on
# the namespace's `lo`, through HAProxy:
#   - every instance's spooled Received field and its SPF verdicts name those addresses
#     (sender.test's SPF passes 192.0.2.0/28 only: had listen taken the balancer's 127.0.0.1,
#     libspf2 would have passed every one);
#   - the summed message counter (PromQL, and the recording rule) equals the 250s;
#   - greylisting through the balancer: a retry after Greylist_Delay from the same client
#     reaches the same instance and passes;
#   - every panel query of etc/grafana-dashboard.json runs against this Prometheus;
#   - one instance killed (SIGKILL, the whole sink) mid-run: new sessions go to the others,
#     and every message that got a 250 is found processed once it is restarted.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/ingest/5x-dns-ns.sh
. "$ROOT/tests/ingest/5x-dns-ns.sh"

for tool in haproxy prometheus promtool; do
    command -v "$tool" > /dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" > /dev/null; ok $? "$tool installed (tools/debian-packages)"
done

printf 'txt-record=sender.test,"v=spf1 ip4:192.0.2.0/28 -all"\n' > "$T/zone.conf"
dns_start "$T/zone.conf"; ok $? "dnsmasq serves sender.test's SPF record in the namespace"
clients=()
for i in $(seq 1 8) $(seq 17 24) 40 41 42; do
    ip addr add "192.0.2.$i/32" dev lo && clients+=("192.0.2.$i")
done
is "${#clients[@]}" 19 "documentation addresses on lo"

# --- three sinks
sink_config() { # sink_config N: $T/sN/sink.ini
    local d=$T/s$1
    mkdir -p "$d/run"
    cat > "$d/sink.ini" <<INI
[Sink]
Logfile = $d/run/consume-mail.log
Done_Msg_File_Dest = $d/run/done
User_Agents_File = $ROOT/data/reference/user-agents.csv
Upstream_Handled = 0
[Listen]
Address = 127.0.0.1:${lport[$1]}
Hostname = sink$1.bouncy-sink.test
Spool = $d/run/spool
InBand_Replies_File = $ROOT/data/reference/inband-replies.dat
Fsync = yes
Threads = 1
Spool_Threads = 1
Greylist_Delay = 2
Proxy_Networks = 127.0.0.1
[Verify]
SPF = on
[Report]
Address = 127.0.0.1:${rport[$1]}
State_File = $d/run/report-state.json
INI
}
sink_start() { # sink_start N: its own process group, so that it can be killed whole
    setsid bash "$ROOT/pipelines/sink.sh" -c "$T/s$1/sink.ini" -d "$T/s$1/run" -b "$BS_BIN" \
        2>> "$T/s$1/sink.err" &
    spid[$1]=$!
    _bg_pids+=("${spid[$1]}")
}
sink_kill() {
    kill -KILL -- "-${spid[$1]}" 2> /dev/null
    wait "${spid[$1]}" 2> /dev/null
    local _
    for _ in $(seq 1 40); do
        (exec 3<> "/dev/tcp/127.0.0.1/${lport[$1]}") 2> /dev/null || return 0
        sleep 0.05
    done
    return 1
}
declare -a lport rport spid
for n in 1 2 3; do
    lport[n]=$(free_port); rport[n]=$(free_port)
    sink_config "$n"
    sink_start "$n"
done
for n in 1 2 3; do
    { wait_port "${lport[$n]}" 20 && wait_port "${rport[$n]}" 20; }
    ok $? "sink $n: listen on ${lport[$n]}, report on ${rport[$n]}" || cat "$T/s$n/sink.err"
done
trap 'for n in 1 2 3; do sink_kill $n; done; _cleanup' EXIT

# --- HAProxy from etc/haproxy.cfg: addresses and check interval for the test
hport=$(free_port); xport=$(free_port)
sed -e "s|^    log /dev/log local0|    log stderr format raw local0|" \
    -e "s|^    bind :25$|    bind 127.0.0.1:$hport|" -e "s|^    bind :8405$|    bind 127.0.0.1:$xport|" \
    -e "s|^    server sink\([123]\) 192.0.2.1[123]:25$|    server sink\1 127.0.0.1:LPORT\1|" \
    -e "s|inter 2s fall 2 rise 2|inter 300ms fall 1 rise 1|" -e "s|maxconn 20000|maxconn 1000|" \
    "$ROOT/etc/haproxy.cfg" |
    sed -e "s|LPORT1|${lport[1]}|; s|LPORT2|${lport[2]}|; s|LPORT3|${lport[3]}|" > "$T/haproxy.cfg"
for d in "balance source" "hash-type consistent" "send-proxy-v2" "check-send-proxy" "option smtpchk" \
    "127.0.0.1:${lport[3]}" "bind 127.0.0.1:$hport"; do
    grep -q "$d" "$T/haproxy.cfg" || fail "haproxy.cfg for the test keeps '$d'"
done
haproxy -c -q -f "$ROOT/etc/haproxy.cfg"; ok $? "etc/haproxy.cfg: haproxy -c"
bg haproxy -db -f "$T/haproxy.cfg" > "$T/haproxy.log" 2>&1
wait_port "$hport" 10; ok $? "HAProxy listens on $hport" || cat "$T/haproxy.log"

# --- Prometheus from etc/prometheus.yml and its rules
pport=$(free_port)
sed -e "s|scrape_interval: 15s|scrape_interval: 1s|; s|evaluation_interval: 15s|evaluation_interval: 1s|" \
    -e "s|- 192.0.2.1\([123]\):8888|- 127.0.0.1:RPORT\1|; s|- 192.0.2.10:8405|- 127.0.0.1:$xport|" \
    "$ROOT/etc/prometheus.yml" |
    sed -e "s|RPORT1|${rport[1]}|; s|RPORT2|${rport[2]}|; s|RPORT3|${rport[3]}|" > "$T/prometheus.yml"
cp "$ROOT/etc/prometheus-rules.yml" "$T/"
promtool check config "$ROOT/etc/prometheus.yml" > "$T/promtool.out" 2>&1
ok $? "etc/prometheus.yml and its rules: promtool check config" || cat "$T/promtool.out"
bg prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$pport" > "$T/prometheus.log" 2>&1
wait_port "$pport" 20; ok $? "Prometheus listens on $pport" || tail "$T/prometheus.log"
P=http://127.0.0.1:$pport
# promql EXPR: the value of a scalar-like query (first sample), or "none"
promql() {
    curl -s --get --data-urlencode "query=$1" "$P/api/v1/query" |
        jq -r 'if .status != "success" then "error: \(.error)" elif (.data.result | length) == 0
               then "none" else .data.result[0].value[1] end'
}
wait_value() { # wait_value EXPR WANT [SECONDS]
    local _ got
    for _ in $(seq 1 $((${3:-30} * 4))); do
        got=$(promql "$1"); [ "$got" = "$2" ] && break; sleep 0.25
    done
    echo "$got"
}
is "$(wait_value 'count(up{job="bouncy-sink"} == 1)' 3)" 3 "Prometheus scrapes the three reports"
is "$(wait_value 'haproxy_backend_active_servers{proxy="sinks"}' 3)" 3 \
    "HAProxy's health checks (PROXY v2 LOCAL + EHLO) pass on the three sinks"

# --- mail through the balancer
cat > "$T/send.py" <<'PY'
import os, smtplib, socket, sys, time
# send.py PORT TAGPREFIX RCPT RETRIES SRC... : one message per source address; prints
# "tag src code" per attempt; with RETRIES > 0, a session that fails is tried again.
port, prefix, rcpt, retries, srcs = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
for i, src in enumerate(srcs):
    tag = '%s-%d' % (prefix, i)
    for attempt in range(retries + 1):
        code = 0
        try:
            s = smtplib.SMTP('127.0.0.1', port, source_address=(src, 0), timeout=10)
            s.ehlo('mta.sender.test')
            s.mail('bounces@sender.test')
            code, _ = s.rcpt(rcpt)
            if code == 250:
                code, _ = s.data(('From: <bounces@sender.test>\r\nTo: <%s>\r\nSubject: %s\r\n'
                                  'Message-ID: <%s@sender.test>\r\n\r\nbody %s\r\n') % (rcpt, tag, tag, tag))
            s.quit()
        except (OSError, smtplib.SMTPException) as e:
            code = 'error'
        print(tag, src, code, flush=True)
        if code == 250 or retries == 0:
            break
        time.sleep(0.3)
    time.sleep(float(os.environ.get('DELAY', '0')))
PY
send() { python3 "$T/send.py" "$hport" "$@"; }
srcs=("${clients[@]:0:16}")
send a u@accept.bouncy-sink.test 0 "${srcs[@]}" "${srcs[@]}" > "$T/phase1"
accepted=$(awk '$3 == 250' "$T/phase1" | wc -l)
is "$accepted" 32 "32 messages through HAProxy from 16 addresses: all 250"

# greylisting: the first try is deferred, the retry after Greylist_Delay (2 s) from the same
# client reaches the same sink (source stickiness) and passes
grey=(192.0.2.40 192.0.2.41 192.0.2.42)
send g g@greylist.bouncy-sink.test 0 "${grey[@]}" > "$T/grey1"
is "$(awk '{print $3}' "$T/grey1" | sort -u)" 451 "greylist: first tries deferred (451)"
sleep 2.5
send g g@greylist.bouncy-sink.test 0 "${grey[@]}" > "$T/grey2"
is "$(awk '{print $3}' "$T/grey2" | sort -u)" 250 "greylist: the retries pass through the balancer (250)"
accepted=$((accepted + $(awk '$3 == 250' "$T/grey2" | wc -l)))

is "$(wait_value 'sum(bouncy_sink_total_messages_total)' "$accepted")" "$accepted" \
    "PromQL: the summed message counter equals the $accepted messages accepted"
is "$(wait_value 'job:bouncy_sink_total_messages:sum' "$accepted" 15)" "$accepted" \
    "the recording rule job:bouncy_sink_total_messages:sum agrees"
is "$(wait_value 'job:bouncy_sink_greylist_passed:sum' 3 15)" 3 "greylisted then passed: 3"
is "$(wait_value 'sum(bouncy_sink_spf_fail_total)' 19 15)" 19 \
    "SPF fail for the 16 messages from 192.0.2.17-24 and the 3 from 192.0.2.40-42, all hosts"

# every instance: its Received fields name the documentation addresses; its SPF verdicts
# (its own /metrics) match them
for n in 1 2 3; do
    files=$(find "$T/s$n/run/done" -type f -name '*.msg' 2> /dev/null | wc -l)
    ips=$(cat "$T/s$n"/run/done/*.msg 2> /dev/null | sed -n 's/^Received: from [^ ]* (\([^)]*\)) by sink.*/\1/p' | sort -u | tr '\n' ' ')
    [ "$files" -gt 0 ]; ok $? "sink $n processed $files messages"
    unlike "$ips" "127\.0\.0\.1" "sink $n: no Received field names the balancer"
    pass=$(cat "$T/s$n"/run/done/*.msg 2> /dev/null | grep -cE '^Received: from [^ ]* \(192\.0\.2\.[1-8]\) by')
    failn=$(cat "$T/s$n"/run/done/*.msg 2> /dev/null | grep -cE '^Received: from [^ ]* \(192\.0\.2\.(1[7-9]|2[0-4]|4[0-2])\) by')
    is "$((pass + failn))" "$files" "sink $n: every Received field names a documentation address (${ips% })"
    is "$(promql "bouncy_sink_spf_pass_total{instance=\"127.0.0.1:${rport[$n]}\"}")" "$pass" \
        "sink $n: SPF pass for its $pass messages from 192.0.2.1-8"
    is "$(promql "sum(bouncy_sink_spf_fail_total{instance=\"127.0.0.1:${rport[$n]}\"}) or vector(0)")" \
        "$failn" "sink $n: SPF fail for its $failn messages from the others"
done

# the dashboard: valid JSON, and every panel query runs against this Prometheus
jq -e '.panels | length > 5' "$ROOT/etc/grafana-dashboard.json" > /dev/null
ok $? "etc/grafana-dashboard.json is JSON with panels"
jq -r '.panels[].targets[].expr' "$ROOT/etc/grafana-dashboard.json" > "$T/exprs"
bad=0 empty=0
while IFS= read -r e; do
    r=$(curl -s --get --data-urlencode "query=$e" "$P/api/v1/query")
    [ "$(jq -r .status <<< "$r")" = success ] || { bad=$((bad + 1)); diag "query failed: $e: $r"; }
    [ "$(jq -r '.data.result | length' <<< "$r")" -gt 0 ] || { empty=$((empty + 1)); diag "no data: $e"; }
done < "$T/exprs"
is "$bad" 0 "every dashboard query ($(wc -l < "$T/exprs")) runs"
is "$empty" 0 "every dashboard query has data"

# --- kill one sink mid-run: HAProxy routes new sessions to the others, no 250 is lost
DELAY=0.05 send k u@accept.bouncy-sink.test 5 "${srcs[@]}" "${srcs[@]}" "${srcs[@]}" > "$T/phase2" &
sender=$!
for _ in $(seq 1 200); do [ "$(wc -l < "$T/phase2")" -ge 16 ] && break; sleep 0.05; done
sink_kill 2
ok $? "sink 2 killed (SIGKILL, the whole pipeline) after $(wc -l < "$T/phase2") of 48 messages"
wait "$sender"
got250=$(awk '$3 == 250 {print $1}' "$T/phase2" | sort -u)
is "$(wc -l <<< "$got250")" 48 "all 48 messages got a 250 (sessions of the dead sink retried on the others)"
diag "$(awk '$3 != 250' "$T/phase2" | wc -l) failed attempts during the kill"
is "$(wait_value 'haproxy_backend_active_servers{proxy="sinks"}' 2 15)" 2 "HAProxy took sink 2 out"
sink_start 2
wait_port "${lport[2]}" 20; ok $? "sink 2 restarted on its spool"
# every tag that got a 250 is processed on some host (sink 2's spool included)
lost=
for _ in $(seq 1 120); do
    cat "$T"/s[123]/run/done/*.msg 2> /dev/null | sed -n 's/^Subject: \(k-[0-9]*\)\r\{0,1\}$/\1/p' | sort -u > "$T/done-k"
    lost=$(comm -23 <(echo "$got250") "$T/done-k")
    [ -z "$lost" ] && break
    sleep 0.25
done
is "$lost" "" "no message that got a 250 is lost"
k2=$(cat "$T"/s2/run/done/*.msg 2> /dev/null | grep -c '^Subject: k-')
[ "$k2" -gt 0 ]; ok $? "sink 2 had taken $k2 of them before it was killed"
# the balancer's health checks send PROXY v2 LOCAL: no warning; the only connections from
# it without a header are the test's own wait_port probes (one per start), warned about
for n in 1 2 3; do
    starts=1; [ $n = 2 ] && starts=2
    warnings=$(grep -c "PROXY header from" "$T/s$n/sink.err")
    [ "$warnings" -le $starts ] && ! grep "PROXY header from" "$T/s$n/sink.err" | grep -vq "connection closed"
    ok $? "sink $n: no PROXY warning from the health checks ($warnings: the test's own port probes)"
done
done_testing
