#!/usr/bin/env bash
# bench/listen-proxy.sh — the cost of the PROXY protocol (issue 19): smtp-source through
# Debian's HAProxy to listen, once with `send-proxy-v2` to a listen that trusts it
# ([Listen] Proxy_Networks) and once without to a plain listen, same run, same machine,
# same balancer hop; blackhole mode (nothing written), 1 KB messages, 10 sessions. Two
# loads: a new connection per message (a PROXY header per message: the worst case) and
# sessions kept open (smtp-source -d). Each figure is the best of two runs in ABBA order.
# Prints msgs/s and the ratio proxied/direct (goal: >= 0.90); then, independent of the
# machine's load, the instructions per message of listen's event loop (callgrind).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
MSGS=${BENCH_MSGS_PROXY:-4000}
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
bench_init listen-proxy smtp-source python3 "$HAPROXY"

# rate PORT [-d]: msgs/s of one smtp-source run (-d: sessions kept open)
rate() {
    bench_rate "$MSGS" "${@:2}" -s 10 -m "$MSGS" -l 1024 -f a@x.test -t x@bouncy-sink.test "127.0.0.1:$1"
}

start_listen() { # NAME PORT [EXTRA LINE]
    bench_listen_ini "$W/$1.ini" "Address = 127.0.0.1:$2" "Max_Connections = 2000" "Threads = 1" ${3:+"$3"}
    "$BS_BIN/listen" -c "$W/$1.ini" > /dev/null 2> "$W/listen-$1.err" &
    pids+=($!)
    wait_port "$2"
}

lp=$(free_port) ld=$(free_port) hp=$(free_port) hd=$(free_port)
start_listen proxied "$lp" "Proxy_Networks = 127.0.0.1" || exit 1
start_listen direct "$ld" || exit 1
cat > "$W/haproxy.cfg" <<CFG
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m
frontend proxied
    bind 127.0.0.1:$hp
    default_backend proxied
frontend direct
    bind 127.0.0.1:$hd
    default_backend direct
backend proxied
    server l 127.0.0.1:$lp send-proxy-v2
backend direct
    server l 127.0.0.1:$ld
CFG
"$HAPROXY" -db -f "$W/haproxy.cfg" > "$W/haproxy.log" 2>&1 &
pids+=($!)
if ! wait_port "$hp" || ! wait_port "$hd"; then
    cat "$W/haproxy.log" >&2
    exit 1
fi

for keep in "" -d; do
    bench_abba "rate $hp $keep" "rate $hd $keep"
    a=$A b=$B
    load="a connection per message"
    [ -n "$keep" ] && load="sessions kept open"
    echo "bench: listen-proxy: blackhole, 1 KB, 10 sessions, $load, $MSGS msgs, through HAProxy: PROXY v2 $a msgs/s (direct: $b msgs/s, ratio $(ratio "$a" "$b"); goal >= 0.90)"
done
# Load-independent: instructions listen's event loop executes (callgrind, collected inside
# worker_main only, so start-up is left out), a connection per message, same two paths.
if command -v valgrind > /dev/null; then
    for p in "${pids[@]:0:2}"; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
    for name in proxied direct; do
        port=$ld
        [ $name = proxied ] && port=$lp
        valgrind --tool=callgrind --toggle-collect=worker_main --callgrind-out-file="$W/cg.$name" \
            "$BS_BIN/listen" -c "$W/$name.ini" > /dev/null 2>> "$W/listen-$name.err" &
        cg_pid=$!
        pids+=("$cg_pid")
        wait_port "$port" || exit 1
        hport=$hd
        [ $name = proxied ] && hport=$hp
        n=${BENCH_MSGS_CALLGRIND:-500}
        smtp-source -s 1 -m "$n" -l 1024 -f a@x.test -t x@bouncy-sink.test "127.0.0.1:$hport" > /dev/null 2>&1
        kill "$cg_pid"
        wait "$cg_pid" 2> /dev/null
        ir=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$W/cg.$name")
        if [ $name = proxied ]; then ir_proxied=$((ir / n)); else ir_direct=$((ir / n)); fi
    done
    echo "bench: listen-proxy: instructions per message in listen's event loop (callgrind), a connection per message: PROXY v2 $ir_proxied (direct: $ir_direct, ratio proxied/direct $(ratio "$ir_proxied" "$ir_direct"))"
fi

# the only connection without a header is wait_port's probe
if grep "PROXY header from" "$W/listen-proxied.err" | grep -vq "connection closed"; then
    echo "bench: listen-proxy: listen refused PROXY headers:" >&2
    grep "PROXY header from" "$W/listen-proxied.err" | head -n 3 >&2
    exit 1
fi
