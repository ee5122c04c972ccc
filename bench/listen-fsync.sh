#!/usr/bin/env bash
# bench/listen-fsync.sh — listen alone with a durable spool (Fsync = yes), driven by
# smtp-source on loopback: 3,000 x 1 KB messages (one spool file each), 64 sessions, with
# Spool_Threads 4/16/32/64, on three file systems: a journaled ext4 image mounted with
# `mount -o loop` (made under /tmp, unmounted and deleted afterwards; needs root, skipped
# otherwise), the file system of /tmp, and a tmpfs (needs root, skipped otherwise).
# The reference in the same run is another listen binary given as BENCH_LISTEN_BEFORE (e.g.
# one built from the commit before the spool's fsyncs were grouped), in ABBA order, best of
# two each; without it only this tree's listen is measured. Prints msgs/s and the ratio.
# BENCH_FSYNC_THREADS="4 64" measures only those Spool_Threads values.
# Last, per file system, listen with Fsync = syncfs and the default Spool_Threads over
# BENCH_MSGS_DELETE (default 10000) messages twice: with the spool files left in place, then
# with a process deleting them every 50 ms as ingest and report do in the sink, with
# listen's CPU per message (user + system from /proc). On an ext4 without a journal the
# second can cost listen several times the first: such an ext4 does not reuse an inode
# freed in the last minutes and tests every free inode of the directory's group under its
# lock (listen(1), Fsync; docs/benchmarks.md, session 14). Files deleted there in the
# minutes before, this script's own earlier runs included, raise the first figure too.
# BENCH_MSGS_DELETE=0 skips it.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
MSGS=${BENCH_MSGS_FSYNC:-3000}
DMSGS=${BENCH_MSGS_DELETE:-10000}
SESSIONS=64
BEFORE=${BENCH_LISTEN_BEFORE:-}
bench_init listen-fsync smtp-source python3

# run BINARY SPOOL THREADS FSYNC N SIZE DELETE: "msgs/s µs" of one smtp-source run of N
# messages of SIZE bytes against a fresh listen (THREADS empty: the default Spool_Threads):
# the rate and listen's CPU µs per message (user + system from /proc). DELETE = 1: a loop
# deletes the spool files as they appear; else every message must be in the spool.
run() {
    local bin=$1 spool=$2 threads=$3 fsync=$4 n=$5 size=$6 delete=$7 port t0 t1 c0 c1 pid del=""
    port=$(free_port)
    mkdir -p "$spool"
    {
        printf '[Sink]\nUpstream_Handled = 0\n[Listen]\nAddress = 127.0.0.1:%s\nSpool = %s\nFsync = %s\nInBand_Bounce_percent = 0\nInBand_Replies_File = %s\nMax_Connections = 2000\n' \
            "$port" "$spool" "$fsync" "$ROOT/data/reference/inband-replies.dat"
        [ -n "$threads" ] && printf 'Spool_Threads = %s\n' "$threads"
    } > "$W/c.ini"
    "$bin" -c "$W/c.ini" > /dev/null 2>> "$W/listen.err" &
    pid=$!
    pids+=("$pid")
    wait_port "$port" || return 1
    if [ "$delete" = 1 ]; then
        while kill -0 "$pid" 2> /dev/null; do
            find "$spool" -name '*.msg' -delete
            sleep 0.05
        done &
        del=$!
        pids+=("$del")
    fi
    c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    t0=$(date +%s.%N)
    smtp-source -d -s "$SESSIONS" -m "$n" -l "$size" -f a@x.test -t x@accept.bouncy-sink.test \
        "127.0.0.1:$port" > /dev/null 2>&1
    t1=$(date +%s.%N)
    c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    kill "$pid"
    wait "$pid" 2> /dev/null
    if [ -n "$del" ]; then
        wait "$del" 2> /dev/null
    else
        local k
        k=$(find "$spool" -name '*.msg' | wc -l)
        [ "$k" = "$n" ] || echo "bench: listen-fsync: $bin: $k of $n messages in the spool" >&2
    fi
    find "$spool" -name '*.msg' -delete
    python3 -c "import os; print('%.0f %.0f' % ($n / ($t1 - $t0), ($c1 - $c0) * 1e6 / os.sysconf('SC_CLK_TCK') / $n))"
}
# rate BINARY SPOOL THREADS: msgs/s of one run of the grouped-fsync figures
rate() {
    local r
    r=$(run "$1" "$2" "$3" yes "$MSGS" 1024 0) || return 1
    echo "${r%% *}"
}

# the file systems: NAME DIR
fss=()
if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 > /dev/null; then
    truncate -s 1G "$W/ext4.img" && mkfs.ext4 -q -F "$W/ext4.img" && mkdir -p "$W/ext4" &&
        mount -o loop "$W/ext4.img" "$W/ext4" && mounts+=("$W/ext4") &&
        fss+=("ext4-image" "$W/ext4")
fi
fss+=("tmp-fs($(df -T "$W" | awk 'NR == 2 { print $2 }'))" "$W/root")
if [ "$(id -u)" = 0 ] && mkdir -p "$W/tmpfs" && mount -t tmpfs -o size=512m bs-bench "$W/tmpfs"; then
    mounts+=("$W/tmpfs")
    fss+=("tmpfs" "$W/tmpfs")
fi

for ((i = 0; i < ${#fss[@]}; i += 2)); do
    name=${fss[i]} dir=${fss[i + 1]}
    for threads in ${BENCH_FSYNC_THREADS:-4 16 32 64}; do
        if [ -n "$BEFORE" ]; then
            a1=$(rate "$BS_BIN/listen" "$dir/spool" "$threads")
            b1=$(rate "$BEFORE" "$dir/spool" "$threads")
            b2=$(rate "$BEFORE" "$dir/spool" "$threads")
            a2=$(rate "$BS_BIN/listen" "$dir/spool" "$threads")
            a=$((a1 > a2 ? a1 : a2))
            b=$((b1 > b2 ? b1 : b2))
            echo "bench: listen-fsync: $name, Fsync = yes, Spool_Threads = $threads, $SESSIONS sessions, $MSGS x 1 KB: $a msgs/s (before: $b msgs/s, ratio $(ratio "$a" "$b"))"
        else
            a=$(rate "$BS_BIN/listen" "$dir/spool" "$threads")
            echo "bench: listen-fsync: $name, Fsync = yes, Spool_Threads = $threads, $SESSIONS sessions, $MSGS x 1 KB: $a msgs/s"
        fi
    done
done
grep -h 'made durable in' "$W/listen.err" | tail -1 | sed 's/^/bench: listen-fsync: last run: /'
if [ "$DMSGS" -gt 0 ]; then
    for ((i = 0; i < ${#fss[@]}; i += 2)); do
        name=${fss[i]} dir=${fss[i + 1]}
        read -r ka kc < <(run "$BS_BIN/listen" "$dir/churn" "" syncfs "$DMSGS" 3000 0) || continue
        read -r da dc < <(run "$BS_BIN/listen" "$dir/churn" "" syncfs "$DMSGS" 3000 1) || continue
        echo "bench: listen-fsync: $name, Fsync = syncfs, $SESSIONS sessions, $DMSGS x 3 KB: files kept $ka msgs/s, listen $kc µs CPU a message; files deleted as they appear $da msgs/s, $dc µs (CPU ratio $(ratio "$dc" "$kc"))"
    done
fi
