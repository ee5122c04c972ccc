#!/usr/bin/env bash
# bench/sink-fsync.sh — the WHOLE sink (pipelines/sink.sh: listen, ingest, decide,
# act-http, act-smtp, report) with a durable spool (Fsync = yes), driven by Postfix's
# smtp-source on loopback, on three file systems: a tmpfs, the file system of /tmp (this
# machine's root file system) and a journaled ext4 image mounted with `mount -o loop` as
# production hosts have (tmpfs and the image need root; skipped otherwise).
# One DKIM-signed gen-corpus message (4-6 KB, to a @bouncy-sink.test recipient, whose
# verdict is logged), BENCH_SINK_N (default 10000) times over 64 sessions, unique envelope
# recipients (-N). Figures per file system:
#   whole sink   log lines written / seconds from the first send to the last log line
#                (the goal: >= 5000 msgs/s on every file system);
#   SMTP alone   messages / seconds smtp-source took (what listen accepted durably);
#   smtp-sink    the reference: the same smtp-source run against Postfix's smtp-sink (no
#                disk, no processing) right after, in the same run;
#   vs tmpfs     the whole sink on this file system / the first sink measured on tmpfs.
# Then the CPU seconds of each stage in the run (the bottleneck is the stage near 100 %).
# Each file system is measured with Fsync = yes (a fsync per spool file) and Fsync = syncfs
# (one syncfs(2) of the file system per group); BENCH_SINK_FSYNC="yes" for one of them.
# BENCH_SINK_BEFORE=DIR (a bin/ built from an older commit) measures that sink too, with
# Fsync = yes (an older listen may not know syncfs), in ABBA order, and prints the ratio.
# BENCH_SINK_HISTORY=ROWS starts every sink with a full history: report's database holds
# ROWS rows with random keys (made once, then copied for each run) and History_Max_Rows =
# ROWS, so its retention deletes a row for each one added, as in production once the
# history has filled (at 5,000 msg/s the default 1,000,000 rows take 200 s). Default: a
# fresh history. smtp-source sends one file, so only the spool id of the sink's own rows is
# random (one Message-ID and sender, numbered recipients): bench/report-history.sh part 3
# measures rows whose every key is random.
# BENCH_SINK_THREADS="4 64" measures those Spool_Threads values (default: the configured
# default only). BENCH_SINK_PERF=FILE records `perf record` (to FILE.yes, FILE.syncfs) of
# the sink's processes during the ext4-image runs and prints where their CPU time goes by
# program and the top symbols (cpu-clock samples: this VM has no hardware counters, `perf
# stat -e instructions` is not supported).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
# shellcheck source=tools/live-sink.sh
. "$ROOT/tools/live-sink.sh"
live_netns "$0" "$@"
export TZ=UTC # the log's times are local: compare them with epoch times in UTC
N=${BENCH_SINK_N:-10000}
HIST_ROWS=${BENCH_SINK_HISTORY:-0}
CONN=64
BEFORE=${BENCH_SINK_BEFORE:-}
PY=/usr/bin/python3
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
SMTP_SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
if [ ! -x "$SMTP_SOURCE" ] || [ ! -x "$SMTP_SINK" ]; then
    echo "bench: sink-fsync: smtp-source/smtp-sink not found" >&2
    exit 69
fi
live_init sink-fsync "${TMPDIR:-/tmp}" keep # removed by sink_cleanup, after the unmounts
say() { echo "bench: sink-fsync: $*"; }
mounts=()
sink_cleanup() {
    local m
    live_cleanup
    for m in "${mounts[@]}"; do umount "$m" 2> /dev/null; done
    rm -rf "$TOP"
}
TOP=$T
trap sink_cleanup EXIT
ulimit -n 8192 2> /dev/null || true
live_peers

"$BS_BIN/gen-corpus" -n 40 --seed 42 -f eml -o "$TOP/eml" --key "$TOP/dkim.key" \
    --key-file "$TOP/dkim-keys.txt" --tracking-base "http://127.0.0.1:$tport" > /dev/null 2>&1 ||
    { say "gen-corpus failed" >&2; exit 1; }
one=$(grep -l '^To:.*@bouncy-sink\.test' "$TOP"/eml/*.eml | head -n 1)
[ -n "$one" ] || { say "no message to a @bouncy-sink.test recipient in the corpus" >&2; exit 1; }

# the file systems: NAME DIR
fss=()
if [ "$(id -u)" = 0 ] && mkdir -p "$TOP/tmpfs" && mount -t tmpfs -o size=1g bs-bench "$TOP/tmpfs"; then
    mounts+=("$TOP/tmpfs")
    fss+=("tmpfs" "$TOP/tmpfs")
fi
mkdir -p "$TOP/root"
fss+=("root-fs($(df -T "$TOP" | awk 'NR == 2 { print $2 }')$(grep -q has_journal < <(dumpe2fs -h "$(df "$TOP" | awk 'NR == 2 { print $1 }')" 2> /dev/null) || echo ', no journal'))" "$TOP/root")
if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 > /dev/null; then
    truncate -s 2G "$TOP/ext4.img" && mkfs.ext4 -q -F "$TOP/ext4.img" && mkdir -p "$TOP/ext4" &&
        mount -o loop "$TOP/ext4.img" "$TOP/ext4" && mounts=("$TOP/ext4" "${mounts[@]}") &&
        fss+=("ext4-image(journal)" "$TOP/ext4")
fi

# run BINDIR DIR THREADS FSYNC: "whole_rate smtp_rate lines wall" of one run of a fresh sink
# on DIR (the CPU per stage in $TOP/cpu.txt)
run() {
    local bin=$1 dir=$2 threads=$3 fsync=$4 t0 t1 n last
    T=$(mktemp -d "$dir/run.XXXXXX") || { T=$TOP; return 1; }
    live_config "$fsync" "$TOP/dkim-keys.txt"
    [ -n "$threads" ] && printf '[Listen]\nSpool_Threads = %s\n' "$threads" >> "$T/sink.ini"
    if [ "$HIST_ROWS" -gt 0 ]; then # a full history; this report's own indexes made before
        sed -i "/^\[Report\]/a History_Max_Rows = $HIST_ROWS" "$T/sink.ini"
        cp "$TOP/history.sqlite" "$R/report-history.sqlite"
        "$bin/report" -c "$T/sink.ini" --until-eof < /dev/null 2> /dev/null
        sync -f "$R" # not flushed by listen's syncfs during the run
    fi
    local save_bin=$BS_BIN
    BS_BIN=$bin
    live_start
    BS_BIN=$save_bin
    live_cpu > "$T/cpu0"
    if [ -n "${PERF_NOW:-}" ]; then # the sink's own processes (the machine is shared)
        perf record -e cpu-clock -g -o "$PERF_NOW" -p "$(pgrep -P "$sink" | paste -sd,)" > /dev/null 2>&1 &
        perf_pid=$!
    fi
    t0=$(date +%s.%N)
    "$SMTP_SOURCE" -s "$CONN" -m "$N" -d -N -f bounces@sender.test -t bench@bouncy-sink.test \
        -F "$one" "127.0.0.1:$lport" > "$T/source.out" 2>&1
    t1=$(date +%s.%N)
    live_drained || say "warning: the sink did not drain in 300 s" >&2
    [ -n "${PERF_NOW:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid"; }
    live_cpu > "$T/cpu1"
    read -r n last < <("$PY" - "$R/consume-mail.log" <<'PY'
import sys, calendar, time
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace") if ",** " not in l]
last = lines[-1].split(",", 2) if lines else None
t = calendar.timegm(time.strptime(last[0], "%Y-%m-%d %H:%M:%S")) + int(last[1]) / 1000 if last else 0
print(len(lines), f"{t:.3f}")
PY
)
    local wall
    wall=$(awk -v a="$t0" -v b="$last" 'BEGIN { printf "%.2f", b - a }')
    awk -v w="$wall" 'NR == FNR { a[$1] += $2; next } { b[$1] += $2 }
        END { for (k in b) if (k != "sleep" && b[k] > a[k]) printf "%d\t%s %.1f s (%.0f%%)\n", b[k] - a[k], k, (b[k] - a[k]) / 100, (b[k] - a[k]) / w }' \
        "$T/cpu0" "$T/cpu1" | sort -rn | cut -f2- | paste -sd, | sed 's/,/, /g' > "$TOP/cpu.txt"
    kill -TERM "$sink"
    wait "$sink"
    pids=("${pids[0]}" "${pids[1]}")
    rm -rf "$T"
    T=$TOP
    awk -v n="$n" -v a="$t0" -v b="$last" -v m="$N" -v c="$t1" -v w="$wall" \
        'BEGIN { printf "%.0f %.0f %d %s\n", n / (b - a), m / (c - a), n, w }'
}
# ref: msgs/s of the same smtp-source run against Postfix's smtp-sink
ref() {
    local p t0 t1 sp
    p=$(port)
    "$SMTP_SINK" -u root "127.0.0.1:$p" 1024 > /dev/null 2>&1 &
    sp=$!
    wait_port "$p"
    t0=$(date +%s.%N)
    "$SMTP_SOURCE" -s "$CONN" -m "$N" -d -N -f bounces@sender.test -t bench@bouncy-sink.test \
        -F "$one" "127.0.0.1:$p" > /dev/null 2>&1
    t1=$(date +%s.%N)
    kill "$sp"
    wait "$sp" 2> /dev/null
    awk -v m="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", m / (b - a) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

if [ "$HIST_ROWS" -gt 0 ]; then
    command -v sqlite3 > /dev/null || { say "sqlite3 not installed (bash tools/deps.sh)" >&2; exit 69; }
    # shellcheck source=bench/history-rows.sh
    . "$ROOT/bench/history-rows.sh"
    printf '[Sink]\nLogfile = %s/h.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = %s/h.state\nHistory = %s/history.sqlite\n' \
        "$TOP" "$rport" "$TOP" "$TOP" > "$TOP/h.ini"
    history_fill "$BS_BIN/report" "$TOP/h.ini" "$TOP/history.sqlite" "$HIST_ROWS" "lower(hex(randomblob(8)))" \
        "lower(hex(randomblob(6))) || '@mixed.sink.test'" "'bounces+' || lower(hex(randomblob(4))) || '@sender.test'" \
        "lower(hex(randomblob(8))) || '@sender.test'" "'KZA7' || hex(randomblob(6)) || '='"
    say "every sink starts with a full history: $HIST_ROWS rows with random keys, History_Max_Rows = $HIST_ROWS"
fi
say "message: $(($(wc -c < "$one") / 1024)) KB DKIM-signed, $N x over $CONN sessions; whole sink = log lines/s from the first send to the last log line"
tmpfs_rate=""
for ((i = 0; i < ${#fss[@]}; i += 2)); do
    name=${fss[i]} dir=${fss[i + 1]}
    for fsync in ${BENCH_SINK_FSYNC:-yes syncfs}; do
    for threads in ${BENCH_SINK_THREADS:-""}; do
        tag=", Fsync = $fsync${threads:+, Spool_Threads = $threads}"
        PERF_NOW=""
        [ -n "${BENCH_SINK_PERF:-}" ] && [ "${name#ext4-image}" != "$name" ] && PERF_NOW=$BENCH_SINK_PERF.$fsync
        read -r a sa na wa < <(run "$BS_BIN" "$dir" "$threads" "$fsync") || { say "$name$tag: the run failed" >&2; continue; }
        PERF_NOW=""
        cpu_a=$(cat "$TOP/cpu.txt")
        if [ -n "$BEFORE" ]; then
            read -r b1 _ _ _ < <(run "$BEFORE" "$dir" "$threads" yes)
            read -r b2 _ _ _ < <(run "$BEFORE" "$dir" "$threads" yes)
            read -r a2 sa2 _ _ < <(run "$BS_BIN" "$dir" "$threads" "$fsync")
            a=$((a > a2 ? a : a2)) sa=$((sa > sa2 ? sa : sa2)) b=$((b1 > b2 ? b1 : b2))
        fi
        r=$(ref)
        [ "$name" = tmpfs ] && [ -z "$tmpfs_rate" ] && tmpfs_rate=$a
        line="$name$tag: whole sink $a msgs/s ($na log lines in ${wa}s; goal 5000, ratio $(ratio "$a" 5000))"
        line+=", SMTP alone $sa msgs/s; reference smtp-sink $r msgs/s (ratio $(ratio "$a" "$r"))"
        [ -n "$tmpfs_rate" ] && line+=", vs the first sink on tmpfs $(ratio "$a" "$tmpfs_rate")"
        [ -n "$BEFORE" ] && line+=", before (Fsync = yes): $b msgs/s (ratio $(ratio "$a" "$b"))"
        say "$line"
        say "$name$tag: cpu: $cpu_a"
    done
    done
done
for fsync in ${BENCH_SINK_FSYNC:-yes syncfs}; do
    f=${BENCH_SINK_PERF:-}.$fsync
    if [ -n "${BENCH_SINK_PERF:-}" ] && [ -s "$f" ]; then
        perf report -i "$f" --no-children --sort comm --stdio 2> /dev/null |
            awk '/^ *[0-9.]+%/ && n < 10 { printf "%s %s, ", $1, $2; n++ }' | sed "s/, \$//;s/^/bench: sink-fsync: perf (ext4-image, Fsync = $fsync), samples by program: /"
        echo
        perf report -i "$f" --no-children --sort comm,sym --stdio -g none 2> /dev/null |
            awk '/^ *[0-9.]+%/ && n < 15 { printf "%s %s %s, ", $1, $2, $NF; n++ }' | sed "s/, \$//;s/^/bench: sink-fsync: perf (ext4-image, Fsync = $fsync), top symbols: /"
        echo
    fi
done
