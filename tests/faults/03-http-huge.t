#!/usr/bin/env bash
# faults: act-http against endpoints that send 10 GB (Content-Length 10 GB, and an endless
# chunked body): Max_Body_Bytes stops the transfer early, the error is recorded per URL,
# nothing like 10 GB crosses the wire, act-http's memory stays small. (Endpoints that accept
# and never answer, and that reset: act-http/04-timeout.t.)
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-http/common.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that RSS measures what the program holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

start_peer() { # start_peer VAR MODE: sets VAR to host:port, DIR is $T/MODE
    mkdir -p "$T/$2"
    bg python3 "$ROOT/tests/faults/badpeer.py" "$2" "$T/$2" > "$T/$2.port"
    wait_for test -s "$T/$2.port" || return 1
    printf -v "$1" '127.0.0.1:%s' "$(head -n 1 "$T/$2.port")"
}
start_peer HUGE http-huge || exit 1
start_peer ENDLESS http-endless || exit 1
conf "$T/c.ini" "[Sink]" "Open_Click_Timeout = 25" "Tracking_Domains_Allowlist = 127.0.0.1" \
    "[Http]" "Allow_Private_Addresses = yes" "Max_Body_Bytes = 1048576"
{
    msg huge '["click"]' '[]' "[\"http://$HUGE/c/1\"]"
    msg endless '["click"]' '[]' "[\"http://$ENDLESS/c/1\"]"
} > "$T/in"
start=$(date +%s)
/usr/bin/time -f '%M' -o "$T/rss" timeout 60 "$BS_BIN/act-http" -c "$T/c.ini" < "$T/in" > "$T/out" 2> "$T/err"
is "$?" 0 "exit 0"
secs=$(( $(date +%s) - start ))
diag "finished in ${secs}s (Open_Click_Timeout 25 s)"
is "$(grep -c . "$T/out")" 2 "both records out"
like "$(rec "$(cat "$T/out")" huge | jq -r '.http.click[0].error')" 'larger|size|exceed' \
    "Content-Length 10 GB: refused as too large ($(rec "$(cat "$T/out")" huge | jq -r '.http.click[0].error'))"
like "$(rec "$(cat "$T/out")" endless | jq -r '.http.click[0].error')" 'larger|size|exceed' \
    "endless chunked body: aborted at the bound ($(rec "$(cat "$T/out")" endless | jq -r '.http.click[0].error'))"
sleep 0.5
for m in http-huge http-endless; do
    n=$(cat "$T/$m/sent" 2>/dev/null || echo 0)
    [ "$n" -lt $((64 * 1024 * 1024)) ]; ok $? "$m: under 64 MB sent before the client went away ($n bytes)"
    like "$(cat "$T/$m/log")" "peer gone" "$m: the client closed the connection"
done
rss=$(tail -n 1 "$T/rss")
[ "$rss" -lt 200000 ]; ok $? "act-http peak RSS bounded (${rss} kB)"
done_testing
