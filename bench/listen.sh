#!/usr/bin/env bash
# bench/listen.sh — listen against Postfix's smtp-sink, both driven by smtp-source on
# loopback in the same run: 1 KB and 100 KB messages, 10 and 100 sessions, in blackhole
# mode (Upstream_Handled = 100, no in-band bounces) vs `smtp-sink`, and in spool mode
# (Upstream_Handled = 0, Fsync = no, one file per message) vs `smtp-sink -d DIR` (also a
# file per message); then 1,000 idle connections held, RSS measured. Sessions are kept
# open between messages (smtp-source -d). Each figure is the best of two runs in ABBA
# order. Prints msgs/s and the ratio listen/smtp-sink. Then the cost of shaping: blackhole,
# 1 KB, 10 sessions, listen with greylisting and throttling on (every recipient looked up
# in the greylist table as an already-passed triple, per-IP connection and message limits
# counted but set too high to trip) against the plain listener (goal: ratio >= 0.90).
# BENCH_ONLY_SHAPING=1 runs only that comparison.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
MSGS_SMALL=${BENCH_MSGS_SMALL:-8000}
MSGS_BIG=${BENCH_MSGS_BIG:-1000}
for t in smtp-source smtp-sink python3; do
    command -v "$t" > /dev/null || { echo "bench: listen: $t not found" >&2; exit 69; }
done
W=$(mktemp -d /tmp/bs-bench-listen.XXXXXX)
chmod 755 "$W"
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
    echo "bench: listen: nothing listens on port $1" >&2
    return 1
}
# rate SESSIONS MSGS LEN PORT RCPT: msgs/s of one smtp-source run
rate() {
    local s=$1 m=$2 l=$3 port=$4 rcpt=$5 t0 t1
    t0=$(date +%s.%N)
    smtp-source -d -s "$s" -m "$m" -l "$l" -f a@x.test -t "$rcpt" "127.0.0.1:$port" > /dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print('%.0f' % ($m / ($t1 - $t0)))"
}
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

start_listen() { # MODE(blackhole|spool|shaped) PORT
    local upstream=100
    [ "$1" = spool ] && upstream=0
    mkdir -p "$W/spool"
    printf '[Sink]\nUpstream_Handled = %s\n[Listen]\nAddress = 127.0.0.1:%s\nSpool = %s\nFsync = no\nInBand_Bounce_percent = 0\nInBand_Replies_File = %s\nMax_Connections = 2000\n' \
        "$upstream" "$2" "$W/spool" "$ROOT/data/reference/inband-replies.dat" > "$W/$1.ini"
    if [ "$1" = shaped ]; then
        printf 'Greylist_percent = 100\nGreylist_Delay = 0\nThrottle_Max_Connections_Per_IP = 100000\nThrottle_Max_Messages_Per_Connection = 1000000000\nThrottle_Max_Messages_Per_Minute = 1000000000\n' >> "$W/$1.ini"
    fi
    "$BS_BIN/listen" -c "$W/$1.ini" > /dev/null 2> "$W/listen-$1.err" &
    LISTEN_PID=$!
    pids+=("$LISTEN_PID")
    wait_port "$2"
}
start_sink() { # PORT [DUMPDIR]
    if [ -n "${2:-}" ]; then
        mkdir -p "$2" && chmod 777 "$2"
        smtp-sink -u nobody -d "$2/%M." "127.0.0.1:$1" 1024 > /dev/null 2>&1 &
    else
        smtp-sink -u nobody "127.0.0.1:$1" 1024 > /dev/null 2>&1 &
    fi
    SINK_PID=$!
    pids+=("$SINK_PID")
    wait_port "$1"
}
stop() { kill "$1" 2> /dev/null; wait "$1" 2> /dev/null; }

# shaped: greylisting and throttling on, the load's one triple passed beforehand
shaping() {
    local lp sp a1 a2 b1 b2 a b m=$MSGS_SMALL
    lp=$(free_port)
    sp=$(free_port)
    start_listen shaped "$sp"
    local shaped_pid=$LISTEN_PID
    python3 - "$sp" <<'PY' || { echo "bench: listen: cannot pass the greylist" >&2; return 1; }
import smtplib, sys
for attempt in range(2):   # Greylist_Delay = 0: the retry passes
    s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
    s.ehlo('x'); s.docmd('MAIL FROM:<a@x.test>')
    code = s.docmd('RCPT TO:<x@bouncy-sink.test>')[0]
    s.quit()
sys.exit(0 if code == 250 else 1)
PY
    start_listen blackhole "$lp"
    a1=$(rate 10 "$m" 1024 "$sp" x@bouncy-sink.test)
    b1=$(rate 10 "$m" 1024 "$lp" x@bouncy-sink.test)
    b2=$(rate 10 "$m" 1024 "$lp" x@bouncy-sink.test)
    a2=$(rate 10 "$m" 1024 "$sp" x@bouncy-sink.test)
    a=$(( a1 > a2 ? a1 : a2 ))
    b=$(( b1 > b2 ? b1 : b2 ))
    echo "bench: listen: blackhole, 1 KB, 10 sessions, $m msgs, greylist+throttle on: $a msgs/s (plain listen: $b msgs/s, ratio $(ratio "$a" "$b"); goal >= 0.90)"
    stop "$LISTEN_PID"
    stop "$shaped_pid"
}
if [ -n "${BENCH_ONLY_SHAPING:-}" ]; then
    shaping
    exit
fi

# Spool directories are never removed between runs (a mass delete on a disk mounted with
# `discard` slows the next run's file creation).
for mode in blackhole spool; do
    lp=$(free_port)
    sp=$(free_port)
    start_listen "$mode" "$lp"
    if [ "$mode" = spool ]; then
        start_sink "$sp" "$W/sinkdump"
        rcpt=x@accept.bouncy-sink.test
        ref="smtp-sink -d"
    else
        start_sink "$sp"
        rcpt=x@bouncy-sink.test
        ref="smtp-sink"
    fi
    for len in 1024 102400; do
        m=$MSGS_SMALL
        [ "$len" = 102400 ] && m=$MSGS_BIG
        for s in 10 100; do
            # ABBA order, best of two each: the machine is shared and noisy
            a1=$(rate "$s" "$m" "$len" "$lp" "$rcpt")
            b1=$(rate "$s" "$m" "$len" "$sp" "$rcpt")
            b2=$(rate "$s" "$m" "$len" "$sp" "$rcpt")
            a2=$(rate "$s" "$m" "$len" "$lp" "$rcpt")
            a=$(( a1 > a2 ? a1 : a2 ))
            b=$(( b1 > b2 ? b1 : b2 ))
            echo "bench: listen: $mode, $((len / 1024)) KB, $s sessions, $m msgs: $a msgs/s ($ref: $b msgs/s, ratio $(ratio "$a" "$b"))"
        done
    done
    stop "$LISTEN_PID"
    stop "$SINK_PID"
done

shaping

# 1,000 idle connections (greeted, then EHLO, then held)
lp=$(free_port)
start_listen blackhole "$lp"
rss0=$(ps -o rss= -p "$LISTEN_PID" | tr -d ' ')
python3 - "$lp" "$LISTEN_PID" "$rss0" <<'PY'
import socket, subprocess, sys, time
port, pid, rss0 = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
socks = []
for i in range(1000):
    s = socket.create_connection(('127.0.0.1', port))
    socks.append(s)
ok = 0
for s in socks:
    s.settimeout(10)
    if s.recv(200).startswith(b'220'):
        ok += 1
    s.sendall(b'EHLO idle.test\r\n')
for s in socks:
    s.recv(1000)
time.sleep(0.5)
rss = int(subprocess.check_output(['ps', '-o', 'rss=', '-p', pid]).split()[0])
print('bench: listen: 1000 idle connections: %d greeted, RSS %.1f MB (idle server %.1f MB; limit: 64 MB, ratio %.2f)'
      % (ok, rss / 1024, rss0 / 1024, rss / 1024 / 64))
for s in socks:
    s.close()
PY
stop "$LISTEN_PID"
