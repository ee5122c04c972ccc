#!/usr/bin/env bash
# act-http (issue 14 defect 7): connections per tracking host are limited by [Sink]
# Max_Threads of consume-mail.ini, or by [Http] Max_Connections_Per_Host when set. Against
# a small threaded endpoint (smallserver.py: 2 workers, a connection keeps its worker) that
# records the most connections open at once, 120 fetches (0.1 s each) with Max_Threads = 2
# never have more than 2 connections open and all succeed, although most of them wait
# longer than Open_Click_Timeout = 2 for their turn: a fetch's time-out runs only while it
# runs. (Left to libcurl's own per-host queue, CURLMOPT_MAX_HOST_CONNECTIONS, the waiting
# counts: about half of them fail "Failed to resolve host ... with timeout after 0 ms".)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http
HERE=$ROOT/tests/act-http

# small DIR WORKERS: starts the endpoint; sets PORT.
small() {
    mkdir -p "$1"
    PORT=$(free_port)
    bg python3 "$HERE/smallserver.py" --port "$PORT" --dir "$1" --workers "$2" --delay 0.1
    wait_for test -e "$1/ready" || fail "smallserver started"
}
sget() { jq -r ".$2" "$1/stats"; }
# records PORT COUNT [HOST [ID-PREFIX]]: COUNT messages, each with 2 open URLs on the
# endpoint.
records() {
    jq -cn --arg b "http://${3:-127.0.0.1}:$1" --argjson n "${2:-100}" --arg p "${4:-m}" '
      range(1; $n + 1) as $i |
      {v:1,kind:"message",id:("\($p)\($i)"),ts:"t",urls:{open:["\($b)/o/\($i)/a","\($b)/o/\($i)/b"]},
       plan:{actions:["open"],user_agent:"UA"}}'
}

# ---- Max_Threads = 2 (the consume-mail.ini key), nothing in [Http] ----------------------
small "$T/s2" 2
conf "$T/c2.ini" "[Sink]" "Max_Threads = 2" "Tracking_Domains_Allowlist = 127.0.0.1" \
    "Open_Click_Timeout = 2" "[Http]" "Allow_Private_Addresses = yes"
records "$PORT" 60 | "$AH" -c "$T/c2.ini" > "$T/out2"
is "$?" 0 "exit 0"
is "$(grep -c . "$T/out2")" 60 "60 records out"
is "$(jq -c '.http.open[].status' "$T/out2" | sort | uniq -c | sed 's/^ *//')" "120 200" \
    "all 120 fetches answered 200 (none timed out while queued)"
is "$(jq -c '.http.open[] | select(.error)' "$T/out2" | head -n 3)" "" "no fetch has an error"
is "$(sget "$T/s2" requests)" 120 "the endpoint served 120 requests"
peak=$(sget "$T/s2" peak)
ok "$([ "$peak" -ge 1 ] && [ "$peak" -le 2 ] && echo 0 || echo 1)" \
    "at most Max_Threads = 2 connections open at once (peak $peak, $(sget "$T/s2" connections) in all)"

# ---- [Http] Max_Connections_Per_Host overrides Max_Threads --------------------------------
small "$T/s4" 4
conf "$T/c4.ini" "[Sink]" "Max_Threads = 2" "Tracking_Domains_Allowlist = 127.0.0.1" \
    "Open_Click_Timeout = 2" "[Http]" "Allow_Private_Addresses = yes" "Max_Connections_Per_Host = 4"
records "$PORT" 60 | "$AH" -c "$T/c4.ini" > "$T/out4"
is "$?" 0 "Max_Connections_Per_Host = 4: exit 0"
is "$(jq -c '.http.open[].status' "$T/out4" | sort | uniq -c | sed 's/^ *//')" "120 200" \
    "Max_Connections_Per_Host = 4: all 120 fetches answered 200"
peak=$(sget "$T/s4" peak)
ok "$([ "$peak" -ge 3 ] && [ "$peak" -le 4 ] && echo 0 || echo 1)" \
    "Max_Connections_Per_Host = 4 wins over Max_Threads = 2 (peak $peak)"

# ---- the limit is per host: another host is not held up by a full one --------------------
small "$T/sa" 1
PA=$PORT
small "$T/sb" 1
PB=$PORT
conf "$T/c1.ini" "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1, localhost" \
    "Open_Click_Timeout = 5" "[Http]" "Allow_Private_Addresses = yes" "Max_Connections_Per_Host = 1"
{ records "$PA" 10; records "$PB" 10 localhost n; } |
    "$AH" -c "$T/c1.ini" > "$T/out1"
is "$(jq -c '.http.open[].status' "$T/out1" | sort | uniq -c | sed 's/^ *//')" "40 200" \
    "two hosts, one connection each: all 40 fetches answered 200"
is "$(sget "$T/sa" peak) $(sget "$T/sb" peak)" "1 1" "each host saw one connection at a time"
is "$(sget "$T/sa" requests) $(sget "$T/sb" requests)" "20 20" "each host served its 20"

# ---- bad values -----------------------------------------------------------------------------
conf "$T/b1.ini" "[Sink]" "Max_Threads = lots"
"$AH" -c "$T/b1.ini" < /dev/null > /dev/null 2> "$T/b1.err"
is "$?" 78 "Max_Threads = lots: exit 78"
like "$(cat "$T/b1.err")" "b1.ini:2: \[Sink\] Max_Threads: 'lots' is not a whole number" "... naming FILE:LINE"
conf "$T/b2.ini" "[Http]" "Max_Connections_Per_Host = -1"
"$AH" -c "$T/b2.ini" < /dev/null > /dev/null 2> "$T/b2.err"
is "$?" 78 "Max_Connections_Per_Host = -1: exit 78"
like "$(cat "$T/b2.err")" "b2.ini:2: \[Http\] Max_Connections_Per_Host: .*out of range" "... naming FILE:LINE"
done_testing
