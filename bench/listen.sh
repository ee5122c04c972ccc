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
# Then the cost of the facts (issue 16): spool mode, DKIM-signed 4 KB mail (gen-corpus),
# 10 sessions, listen with [Listen] Facts = yes (rDNS/FCrDNS, SPF, DKIM, DMARC, header
# facts, the Authentication-Results header) against Facts = no, in a private network
# namespace (unshare -n -m) where dnsmasq serves the sender's SPF, DKIM key, _dmarc and
# PTR/A records and listen answers on 192.0.2.1 (goal: ratio >= 0.75). BENCH_ONLY_FACTS=1
# runs only that comparison.
# BENCH_LISTEN_THREADS=N sets listen's [Listen] Threads (default: listen's own, one event
# loop per two cores; smtp-sink is one process with one loop, and smtp-source shares the
# same cores). BENCH_LISTEN_TMPFS=1 (root) puts both spool directories on a tmpfs: on this
# machine's root ext4 (no journal) file creation costs both servers several hundred µs of
# kernel CPU per message, which hides their own cost.
# BENCH_ONLY_RATES=1 runs only the first comparisons, listen vs smtp-sink (with
# BENCH_LISTEN_SIZES="1024": only the small messages). Last, the instructions per message
# of both under callgrind (see callgrind_listen).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
MSGS_SMALL=${BENCH_MSGS_SMALL:-8000}
MSGS_BIG=${BENCH_MSGS_BIG:-1000}
bench_init listen smtp-source smtp-sink python3

# rate SESSIONS MSGS LEN PORT RCPT: msgs/s of one smtp-source run
rate() {
    bench_rate "$2" -d -s "$1" -m "$2" -l "$3" -f a@x.test -t "$5" "127.0.0.1:$4"
}

listen_conf() { # MODE(blackhole|spool|shaped) PORT: writes $W/MODE.ini
    local upstream=100 shaped=()
    [ "$1" = spool ] && upstream=0
    mkdir -p "$W/spool"
    [ "$1" = shaped ] && shaped=("Greylist_percent = 100" "Greylist_Delay = 0"
        "Throttle_Max_Connections_Per_IP = 100000"
        "Throttle_Max_Messages_Per_Connection = 1000000000"
        "Throttle_Max_Messages_Per_Minute = 1000000000")
    [ -n "${BENCH_LISTEN_THREADS:-}" ] && shaped+=("Threads = $BENCH_LISTEN_THREADS")
    bench_listen_ini "$W/$1.ini" "Upstream_Handled = $upstream" "Address = 127.0.0.1:$2" \
        "Max_Connections = 2000" "${shaped[@]}"
}
start_listen() { # MODE PORT
    listen_conf "$1" "$2"
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
    local lp sp a b m=$MSGS_SMALL
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
    bench_abba "rate 10 $m 1024 $sp x@bouncy-sink.test" "rate 10 $m 1024 $lp x@bouncy-sink.test"
    a=$A b=$B
    echo "bench: listen: blackhole, 1 KB, 10 sessions, $m msgs, greylist+throttle on: $a msgs/s (plain listen: $b msgs/s, ratio $(ratio "$a" "$b"); goal >= 0.90)"
    stop "$LISTEN_PID"
    stop "$shaped_pid"
}
# facts: re-runs this script inside a private network namespace (facts_inner)
facts() {
    if ! unshare -n -m true 2> /dev/null; then
        echo "bench: listen: facts: cannot make a network namespace (unshare -n -m): skipped" >&2
        return 0
    fi
    BENCH_FACTS_INNER=1 unshare -n -m -- bash "$0"
}
facts_inner() {
    local m=${BENCH_MSGS_FACTS:-4000} dir=$W/facts port_a port_b a b
    ip link set lo up && ip addr add 192.0.2.1/32 dev lo || return 1
    "$BS_BIN/gen-corpus" -n 1 --seed 7 -f eml --no-trace --domain sig.test --selector s1 \
        --dnsmasq "$W/keys.conf" --mail-from bounces@sig.test -o "$dir" > /dev/null || return 1
    local msg
    msg=$(ls "$dir"/*.eml)
    # gen-corpus messages are 4-6 KB (the size is printed)
    {
        cat "$W/keys.conf"
        echo 'txt-record=sig.test,"v=spf1 ip4:192.0.2.0/24 -all"'
        echo 'txt-record=_dmarc.sig.test,"v=DMARC1; p=reject"'
        echo 'ptr-record=1.2.0.192.in-addr.arpa,mta.sig.test'
        echo 'address=/mta.sig.test/192.0.2.1'
        echo 'local=/test/'
        echo 'local=/in-addr.arpa/'
        echo 'local-ttl=300'
    } > "$W/dnsmasq.conf"
    BENCH_DNSLOG=${BENCH_FACTS_DNSLOG:-} bench_dns "$W/dnsmasq.conf" mta.sig.test
    port_a=$(free_port)
    port_b=$(free_port)
    mkdir -p "$W/spool-a" "$W/spool-b"
    for v in a b; do
        local port=$port_a facts=yes
        [ $v = b ] && port=$port_b facts=no
        bench_listen_ini "$W/facts-$v.ini" "Upstream_Handled = 0" "Address = 192.0.2.1:$port" \
            "Spool = $W/spool-$v" "Hostname = sink.test" "Facts = $facts"
        printf '%b' "${BENCH_FACTS_EXTRA:-}" >> "$W/facts-$v.ini"
        "$BS_BIN/listen" -c "$W/facts-$v.ini" > /dev/null 2> "$W/listen-facts-$v.err" &
        pids+=("$!")
    done
    frate() { # PORT: msgs/s of one smtp-source run with the signed message
        bench_rate "$m" -d -s 10 -m "$m" -F "$msg" -f bounces@sig.test \
            -t x@accept.bouncy-sink.test "192.0.2.1:$1"
    }
    wait_port "$port_a" 192.0.2.1 && wait_port "$port_b" 192.0.2.1 || return 1
    smtp-source -s 1 -m 1 -F "$msg" -f bounces@sig.test -t x@accept.bouncy-sink.test \
        "192.0.2.1:$port_a" > /dev/null 2>&1
    local last
    last=$(find "$W/spool-a" -name '*.msg' -printf '%T@ %f\n' | sort -rn | head -1 | cut -d' ' -f2)
    if ! grep -q 'dkim=pass header.d=sig.test' "$W/spool-a/$last" ||
        ! grep -q 'dmarc=pass' "$W/spool-a/$last"; then
        echo "bench: listen: facts: the probe message did not get dkim=pass and dmarc=pass:" >&2
        sed -n '1,12p' "$W/spool-a/$last" >&2
        return 1
    fi
    if [ -n "${BENCH_FACTS_PERF:-}" ]; then
        perf record -g -o "$BENCH_FACTS_PERF" -p "$(pgrep -f "facts-a.ini" | head -1)" -- sleep 3 &
        local perf_pid=$!
        frate "$port_a" > /dev/null
        wait "$perf_pid"
    fi
    if [ -n "${BENCH_FACTS_CALLGRIND:-}" ] && command -v valgrind > /dev/null; then
        # load-independent: instructions listen executes per message (callgrind), the
        # first message (set-up, first DNS answers) excluded
        local v n=${BENCH_FACTS_CALLGRIND} ir_a ir_b
        for v in a b; do
            local cp
            cp=$(free_port)
            sed "s/^Address = .*/Address = 192.0.2.1:$cp/" "$W/facts-$v.ini" > "$W/cg-$v.ini"
            valgrind --tool=callgrind --callgrind-out-file="$W/cg-$v.out" \
                "$BS_BIN/listen" -c "$W/cg-$v.ini" > /dev/null 2> "$W/cg-$v.err" &
            local vp=$!
            for _ in $(seq 1 600); do
                (exec 3<> "/dev/tcp/192.0.2.1/$cp") 2> /dev/null && break
                sleep 0.1
            done
            smtp-source -s 1 -m 1 -F "$msg" -f bounces@sig.test -t x@accept.bouncy-sink.test \
                "192.0.2.1:$cp" > /dev/null 2>&1
            callgrind_control -z "$vp" > /dev/null
            smtp-source -d -s 10 -m "$n" -F "$msg" -f bounces@sig.test \
                -t x@accept.bouncy-sink.test "192.0.2.1:$cp" > /dev/null 2>&1
            callgrind_control -d "$vp" > /dev/null
            kill "$vp"
            wait "$vp" 2> /dev/null
            local dump
            dump=$(find "$W" -name "cg-$v.out.*" | head -1)
            [ -n "${BENCH_FACTS_CALLGRIND_KEEP:-}" ] && cp "$dump" "$BENCH_FACTS_CALLGRIND_KEEP-$v"
            eval "ir_$v=$(sed -n 's/^summary: //p;s/^totals: //p' "$dump" | head -1)"
        done
        echo "bench: listen: facts, callgrind, $n msgs: Facts = yes $((ir_a / n)) instructions/msg (Facts = no: $((ir_b / n)), ratio $(ratio "$ir_b" "$ir_a") as a speed ratio)"
    fi
    bench_abba "frate $port_a" "frate $port_b"
    a=$A b=$B
    local with_ar
    with_ar=$(grep -l 'iprev=pass.*' "$W"/spool-a/*.msg | xargs grep -l 'dmarc=pass' | wc -l)
    echo "bench: listen: facts: $with_ar of $(find "$W/spool-a" -name '*.msg' | wc -l) messages spooled with Facts = yes carry iprev=pass and dmarc=pass"
    echo "bench: listen: facts, spool, signed $(( $(wc -c < "$msg") / 1024 )) KB, 10 sessions, $m msgs: Facts = yes $a msgs/s (Facts = no: $b msgs/s, ratio $(ratio "$a" "$b"); goal >= 0.75)"
}
# instructions per message (callgrind; load-independent): listen in blackhole and spool
# mode and Postfix's smtp-sink, 1 KB, 10 sessions: a run of 100 + BENCH_LISTEN_CALLGRIND
# (default 1000) messages minus a run of 100, over the difference (servers stopped by
# SIGTERM; callgrind_control cannot reach smtp-sink once it changed user and waits in poll).
# BENCH_LISTEN_BEFORE=BINARY adds that listen (e.g. built from the base commit) in the same
# run. BENCH_ONLY_CALLGRIND=1 runs only this.
cg_total() { # MESSAGES CMD...: instructions of CMD (a server on $cgp) over that many messages
    local m=$1 vp
    shift
    valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$@" > /dev/null 2> "$W/cg.err" &
    vp=$!
    for _ in $(seq 1 600); do
        (exec 3<> "/dev/tcp/127.0.0.1/$cgp") 2> /dev/null && break
        sleep 0.1
    done
    smtp-source -d -s 10 -m "$m" -l 1024 -f a@x.test -t "$cgrcpt" "127.0.0.1:$cgp" > /dev/null 2>&1
    kill "$vp"
    wait "$vp" 2> /dev/null
    sed -n 's/^summary: //p;s/^totals: //p' "$W/cg.out" | head -1
    rm -f "$W/cg.out"
}
per_msg() { # CMD...: instructions per message
    local n=${BENCH_LISTEN_CALLGRIND:-1000} a b
    a=$(cg_total 100 "$@")
    b=$(cg_total $((100 + n)) "$@")
    echo $(((b - a) / n))
}
callgrind_listen() {
    command -v valgrind > /dev/null || { echo "bench: listen: callgrind: valgrind not found: skipped" >&2; return 0; }
    local mode tag ref now before
    cgp=$(free_port)
    cgrcpt=x@bouncy-sink.test
    # smtp-sink as this user: its callgrind output goes to $W
    ref=$(per_msg smtp-sink -u "$(id -un)" "127.0.0.1:$cgp" 1024)
    for mode in blackhole spool; do
        listen_conf "$mode" "$cgp"
        [ "$mode" = spool ] && cgrcpt=x@accept.bouncy-sink.test
        now=$(per_msg "$BS_BIN/listen" -c "$W/$mode.ini")
        tag=""
        if [ -n "${BENCH_LISTEN_BEFORE:-}" ]; then
            before=$(per_msg "$BENCH_LISTEN_BEFORE" -c "$W/$mode.ini")
            tag="; before: $before, now/before $(ratio "$now" "$before")"
        fi
        echo "bench: listen: callgrind, $mode, 1 KB, 10 sessions: $now instructions/msg (smtp-sink: $ref, listen/smtp-sink $(ratio "$now" "$ref")$tag)"
    done
}

if [ -n "${BENCH_ONLY_CALLGRIND:-}" ]; then
    callgrind_listen
    exit
fi
if [ -n "${BENCH_FACTS_INNER:-}" ]; then
    facts_inner
    exit
fi
if [ -n "${BENCH_ONLY_FACTS:-}" ]; then
    facts
    exit
fi
if [ -n "${BENCH_ONLY_SHAPING:-}" ]; then
    shaping
    exit
fi

# Spool directories are never removed between runs (a mass delete on a disk mounted with
# `discard` slows the next run's file creation).
if [ -n "${BENCH_LISTEN_TMPFS:-}" ]; then
    for d in spool sinkdump; do
        if ! mkdir -p "$W/$d" || ! mount -t tmpfs -o size=1g bs-bench "$W/$d"; then
            echo "bench: listen: cannot mount a tmpfs on $W/$d" >&2
            exit 69
        fi
        mounts+=("$W/$d")
    done
fi
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
    for len in ${BENCH_LISTEN_SIZES:-1024 102400}; do
        m=$MSGS_SMALL
        [ "$len" = 102400 ] && m=$MSGS_BIG
        for s in 10 100; do
            # ABBA order, best of two each: the machine is shared and noisy
            bench_abba "rate $s $m $len $lp $rcpt" "rate $s $m $len $sp $rcpt"
            a=$A b=$B
            echo "bench: listen: $mode, $((len / 1024)) KB, $s sessions, $m msgs: $a msgs/s ($ref: $b msgs/s, ratio $(ratio "$a" "$b"))"
        done
    done
    stop "$LISTEN_PID"
    stop "$SINK_PID"
done

[ -n "${BENCH_ONLY_RATES:-}" ] && exit
shaping
facts
callgrind_listen

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
