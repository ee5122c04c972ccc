# tools/live-sink.sh — sourced by bench/e2e.sh and tests/soak.sh: the live sink
# (pipelines/sink.sh) on loopback with its peers: bin/track-server serves the tracking links,
# Postfix's smtp-sink takes the ARF/DSN reports. As root everything runs in a private network
# namespace whose resolver names 127.0.0.1, where nothing answers, so no DNS query leaves.
#
#   live_netns "$0" "$@"    first: as root, runs the script again inside `unshare -n -m`
#   live_init NAME DIR [KEEP]
#                           the run's temporary directory T under DIR (kept when KEEP is not
#                           empty), removed with every process in pids[] on exit; the
#                           namespace's loopback and resolver; say() prints "NAME: ..."
#   port; wait_port PORT    a free loopback port; wait until PORT accepts (10 s at most)
#   live_peers              track-server on $tport (pids[0]), smtp-sink on $sport (pids[1]);
#                           picks $lport for listen and $rport for report
#   live_config FSYNC [DKIM_KEY_FILE]
#                           writes $T/sink.ini: run directory R=$T/run, log, spool, the peers,
#                           MX_Override sender.test=mx.sender.test, its FBL allow-list entry
#   live_start              starts pipelines/sink.sh ($sink), errors in $T/sink.err, and waits
#                           until listen and report accept connections
#   live_drained            0 once the spool holds no message and the log is quiet for a
#                           moment; 1 after 300 s
#   live_cpu                "name user+system ticks" of every process of the sink and its peers
# Needs ROOT and BS_BIN.
# shellcheck shell=bash

live_netns() {
    if [ -z "${BS_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare -n -m true 2>/dev/null; then
        BS_IN_NETNS=1 exec unshare -n -m -- bash "$@"
    fi
}

live_init() {
    LIVE_NAME=$1 LIVE_KEEP=${3:-}
    T=$(mktemp -d "$2/bs-$1.XXXXXX") || exit 1
    pids=()
    trap live_cleanup EXIT
    if [ -n "${BS_IN_NETNS:-}" ]; then
        ip link set lo up
        printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
        mount --bind "$T/resolv.conf" /etc/resolv.conf
    else
        say "warning: not root: no private network namespace (DNS queries may leave the machine)" >&2
    fi
}

live_cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "$LIVE_KEEP" ] || rm -rf "$T"
}

say() { echo "$LIVE_NAME: $*"; }

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    local _
    for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

live_peers() {
    local sink user=()
    sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
    tport=$(port) sport=$(port) lport=$(port) rport=$(port)
    "$BS_BIN/track-server" -l "127.0.0.1:$tport" > /dev/null 2>&1 & pids+=($!)
    [ "$(id -u)" = 0 ] && user=(-u root)
    "$sink" "${user[@]}" "127.0.0.1:$sport" 256 & pids+=($!)
    { wait_port "$tport" && wait_port "$sport"; } || { say "error: track-server or smtp-sink did not start" >&2; exit 1; }
}

live_config() {
    R=$T/run
    mkdir -p "$R"
    {
        cat <<INI
[Sink]
Logfile = $R/consume-mail.log
Tracking_Domains_Allowlist = 127.0.0.1:$tport
User_Agents_File = $ROOT/data/reference/user-agents.csv
[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test
[Listen]
Address = 127.0.0.1:$lport
Hostname = bouncy-sink.test
Spool = $R/spool
InBand_Replies_File = $ROOT/data/reference/inband-replies.dat
Fsync = $1
[Http]
Allow_Private_Addresses = yes
Allowed_Networks = 127.0.0.0/8
[Smtp]
Relay = 127.0.0.1:$sport
MX_Override = sender.test=mx.sender.test
[Report]
Address = 127.0.0.1:$rport
State_File = $R/report-state.json
INI
        if [ -n "${2:-}" ]; then printf '[Verify]\nDKIM_Key_File = %s\n' "$2"; fi
    } > "$T/sink.ini"
}

live_start() {
    bash "$ROOT/pipelines/sink.sh" -c "$T/sink.ini" -d "$R" -b "$BS_BIN" 2> "$T/sink.err" & sink=$!
    pids+=("$sink")
    { wait_port "$lport" && wait_port "$rport"; } || { say "error: the sink did not start" >&2; cat "$T/sink.err" >&2; exit 1; }
}

live_drained() {
    local last="" now
    for _ in $(seq 1 600); do
        if [ -z "$(find "$R/spool" -maxdepth 2 -name '*.msg' -print -quit)" ]; then
            now=$(wc -l < "$R/consume-mail.log")
            [ "$now" = "$last" ] && return 0
            last=$now
        fi
        sleep 0.5
    done
    return 1
}

live_cpu() {
    local p
    for p in $(pgrep -P "$sink") "${pids[0]}" "${pids[1]}"; do
        awk -v p="$p" '{ sub(/^.*\) /, ""); print p, $12 + $13 }' "/proc/$p/stat" 2> /dev/null |
            while read -r pid ticks; do echo "$(cat "/proc/$pid/comm" 2> /dev/null) $ticks"; done
    done
}
