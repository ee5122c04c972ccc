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
BS_BIN=${BS_BIN:-$ROOT/bin}
MSGS=${BENCH_MSGS_PROXY:-4000}
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
for t in smtp-source python3 "$HAPROXY"; do
    command -v "$t" > /dev/null || { echo "bench: listen-proxy: $t not found" >&2; exit 69; }
done
W=$(mktemp -d /tmp/bs-bench-proxy.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
ulimit -n 8192 2> /dev/null || true

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.05
    done
    echo "bench: listen-proxy: nothing listens on port $1" >&2
    return 1
}
# rate KEEP(-d or "") PORT: msgs/s of one smtp-source run
rate() {
    local t0 t1
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086 # $1 is one option or none
    smtp-source $1 -s 10 -m "$MSGS" -l 1024 -f a@x.test -t x@bouncy-sink.test "127.0.0.1:$2" \
        > /dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print('%.0f' % ($MSGS / ($t1 - $t0)))"
}
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

start_listen() { # NAME PORT [EXTRA LINE]
    printf '[Sink]\nUpstream_Handled = 100\n[Listen]\nAddress = 127.0.0.1:%s\nSpool = %s\nFsync = no\nInBand_Bounce_percent = 0\nInBand_Replies_File = %s\nMax_Connections = 2000\nThreads = 1\n%s\n' \
        "$2" "$W/spool" "$ROOT/data/reference/inband-replies.dat" "${3:-}" > "$W/$1.ini"
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
    a1=$(rate "$keep" "$hp")
    b1=$(rate "$keep" "$hd")
    b2=$(rate "$keep" "$hd")
    a2=$(rate "$keep" "$hp")
    a=$((a1 > a2 ? a1 : a2))
    b=$((b1 > b2 ? b1 : b2))
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
