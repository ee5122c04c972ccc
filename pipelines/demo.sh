#!/usr/bin/env bash
# pipelines/demo.sh — see the sink work within a minute (what `make demo` runs).
#
#   demo.sh [-n COUNT]
#
# Starts a local tracking endpoint (track-server on 127.0.0.1:8080) and a local SMTP
# server that receives the ARF complaints and DSN bounces (Postfix smtp-sink on
# 127.0.0.1:2526, one file per report in run/demo/received/), starts the sink (make run's
# configuration) unless one already answers on its SMTP address, generates COUNT
# (default 3000) DKIM-signed ESP-style messages and sends them over SMTP. Then it prints
# the counters as they move; open the web report meanwhile. Ctrl-C stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bindir=$root/bin
count=3000
while getopts n:h opt; do
    case $opt in
        n) count=$OPTARG ;;
        *) echo "usage: demo.sh [-n COUNT]" >&2; exit 64 ;;
    esac
done
bash pipelines/run.sh --prepare
conf=${BS_CONFIG:-run/bouncy-sink.ini}
smtp=$("$bindir/bs-config" -c "$conf" --default Listen Address)
web=$("$bindir/bs-config" -c "$conf" --default Report Address)
relay=$("$bindir/bs-config" -c "$conf" Smtp Relay 127.0.0.1:2526)
track=127.0.0.1:8080

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
wait_open() {
    local _
    for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done
    echo "demo.sh: nothing answers on $1" >&2
    return 1
}

mkdir -p run/demo/received
if ! port_open "$track"; then
    "$bindir/track-server" -l "$track" --log run/demo/track.log > /dev/null &
    pids+=($!)
fi
if ! port_open "$relay"; then
    # smtp-sink: -d dumps each message to a file; -u root because we may be root.
    smtp-sink -u root -d run/demo/received/%Y%m%d%H%M. "$relay" 100 &
    pids+=($!)
fi
if ! port_open "$smtp"; then
    echo "demo.sh: starting the sink (log: run/demo/sink.log)" >&2
    bash pipelines/run.sh > run/demo/sink.log 2>&1 &
    pids+=($!)
fi
wait_open "$track"; wait_open "$relay"; wait_open "$smtp"; wait_open "$web"

echo "demo.sh: generating $count DKIM-signed messages" >&2
rm -rf run/demo/eml
"$bindir/gen-corpus" -n "$count" -f eml -o run/demo/eml --domain sender.test --selector demo \
    --key run/demo/dkim.key --key-file run/demo/dkim-keys.txt \
    --tracking-base "http://$track" --unsubscribe-base "http://$track" \
    --sink-domain "$("$bindir/bs-config" -c "$conf" --default Listen Sink_Domains | cut -d, -f1)"

cat >&2 <<MSG
demo.sh: sending them to $smtp — watch http://$web/ (counters below every 2 s)
MSG
python3 tools/smtp-send.py -s "$smtp" -c 8 run/demo/eml &
sender=$!
summary() {
    curl -fsS "http://$web/json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
keys = ["total_messages", "accept", "open", "open_again", "click", "click_again",
        "oob_sent", "fbl_sent", "inband_4xx", "inband_5xx", "blackhole", "fail_dkim"]
print("  " + "  ".join(f"{k}={d.get(k, 0)}" for k in keys))'
}
last="" same=0
while :; do
    sleep 2
    now=$(summary || true)
    echo "$now"
    if ! kill -0 "$sender" 2>/dev/null; then
        if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
        [ "$same" -lt 2 ] || break
    fi
    last=$now
done
wait "$sender" || true
echo "demo.sh: done. Tracking hits: $(curl -fsS "http://$track/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("requests"))')," \
     "ARF/DSN received: $(find run/demo/received -type f | wc -l) (in run/demo/received/)." >&2
echo "demo.sh: the log is $("$bindir/bs-config" -c "$conf" Sink Logfile); the report stays at http://$web/ until Ctrl-C." >&2
wait
