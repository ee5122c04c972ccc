# bench/lib.sh — sourced by the bench scripts that drive listen with Postfix's smtp-source
# (listen.sh, listen-proxy.sh, listen-fsync.sh, personas.sh). Needs ROOT (the tree).
#
#   bench_init NAME TOOL...   BS_BIN (default ROOT/bin); every TOOL on the PATH or exit 69
#                             ("bench: NAME: TOOL not found"); the work directory W
#                             (/tmp/bs-bench-NAME.XXXXXX, mode 755), removed on exit with
#                             every process in pids[] killed and every mount in mounts[]
#                             unmounted; up to 8192 descriptors
#   bench_netns "$0" "$@"     first: runs the script again inside a private network namespace
#                             (unshare -n -m; exit 69 when that cannot be made)
#   bench_dns CONF NAME       inside the namespace: loopback up, /etc/resolv.conf names
#                             127.0.0.1, where dnsmasq serves CONF; waits until it answers
#                             an A query for NAME (exit 69 when it does not)
#   free_port                 a TCP port on 127.0.0.1 free right now
#   wait_port PORT [HOST]     until HOST (127.0.0.1) accepts on PORT, 5 s at most
#   bench_listen_ini FILE KEY=VALUE...
#                             a listen config: [Sink] Upstream_Handled (100: blackhole) and a
#                             [Listen] section (Spool $W/spool, Fsync no, no in-band bounce,
#                             the reference reply table); each "Key = value" given replaces
#                             the default of that key or is added after them (so a
#                             "[Section]" line starts another section)
#   bench_rate MSGS ARG...    msgs/s of one `smtp-source ARG...` run that sends MSGS messages
#   bench_abba "CMD_A" "CMD_B"
#                             runs CMD_A CMD_B CMD_B CMD_A (commands with their arguments,
#                             split at blanks, each printing a rate; the machine is shared
#                             and noisy) and sets A and B to the best of each
#   ratio X Y                 X / Y with two decimals
# shellcheck shell=bash

bench_init() {
    BENCH_NAME=$1
    shift
    BS_BIN=${BS_BIN:-$ROOT/bin}
    local t
    for t in "$@"; do
        command -v "$t" > /dev/null || { echo "bench: $BENCH_NAME: $t not found" >&2; exit 69; }
    done
    W=$(mktemp -d "/tmp/bs-bench-$BENCH_NAME.XXXXXX") || exit 70
    chmod 755 "$W"
    pids=()
    mounts=()
    trap bench_cleanup EXIT
    ulimit -n 8192 2> /dev/null || true
}

bench_cleanup() {
    local p m
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
    for m in "${mounts[@]}"; do umount "$m" 2> /dev/null; done
    rm -rf "$W"
}

bench_netns() {
    if [ -z "${BS_IN_NETNS:-}" ]; then
        unshare -n -m true 2> /dev/null || {
            echo "bench: $(basename "$1" .sh): needs unshare -n -m (root or user namespaces)" >&2
            exit 69
        }
        BS_IN_NETNS=1 exec unshare -n -m -- bash "$@"
    fi
}

bench_dns() {
    ip link set lo up
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$W/resolv.conf"
    mount --bind "$W/resolv.conf" /etc/resolv.conf || exit 71
    /usr/sbin/dnsmasq --conf-file="$1" --no-resolv --no-hosts --port 53 \
        --listen-address 127.0.0.1 --bind-interfaces --keep-in-foreground \
        --pid-file="$W/dnsmasq.pid" --user=root ${BENCH_DNSLOG:+--log-queries --log-facility=$BENCH_DNSLOG} &
    pids+=($!)
    local _
    for _ in $(seq 1 50); do bench_dns_ready "$2" && return 0; sleep 0.1; done
    echo "bench: $BENCH_NAME: dnsmasq does not answer" >&2
    exit 69
}

# bench_dns_ready NAME: dnsmasq on 127.0.0.1 answers an A query for NAME
bench_dns_ready() { python3 "$ROOT/tools/dns-answers.py" "$1" 0.2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    local _
    for _ in $(seq 1 100); do
        (exec 3<> "/dev/tcp/${2:-127.0.0.1}/$1") 2> /dev/null && return 0
        sleep 0.05
    done
    echo "bench: $BENCH_NAME: nothing listens on port $1" >&2
    return 1
}

bench_listen_ini() {
    local file=$1 line d up="Upstream_Handled = 100" given=" "
    shift
    local defaults=("Spool = $W/spool" "Fsync = no" "InBand_Bounce_percent = 0"
        "InBand_Replies_File = $ROOT/data/reference/inband-replies.dat")
    for line in "$@"; do
        given+="${line%% =*} "
        case "$line" in "Upstream_Handled ="*) up=$line ;; esac
    done
    {
        printf '[Sink]\n%s\n[Listen]\n' "$up"
        for d in "${defaults[@]}"; do
            case "$given" in *" ${d%% =*} "*) ;; *) echo "$d" ;; esac
        done
        for line in "$@"; do
            case "$line" in "Upstream_Handled ="*) ;; *) echo "$line" ;; esac
        done
    } > "$file"
}

bench_rate() {
    local m=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    smtp-source "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print('%.0f' % ($m / ($t1 - $t0)))"
}

bench_abba() {
    local a1 a2 b1 b2
    # shellcheck disable=SC2086 # a command and its arguments
    {
        a1=$($1)
        b1=$($2)
        b2=$($2)
        a2=$($1)
    }
    # shellcheck disable=SC2034 # read by the caller
    A=$((a1 > a2 ? a1 : a2)) B=$((b1 > b2 ? b1 : b2))
}

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
