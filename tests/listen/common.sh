# tests/listen/common.sh — shared set-up for the listen tests (sourced after ../lib.sh).
# shellcheck shell=bash

# write_config FILE PORT [EXTRA LINES...]: a [Listen] config on 127.0.0.1:PORT with a
# spool in $T/spool, no fsync, one thread and a fixed seed unless EXTRA overrides.
write_config() {
    local file=$1 port=$2
    shift 2
    local defaults=("Address = 127.0.0.1:$port" "Spool = $T/spool" "Hostname = sink.test"
        "InBand_Replies_File = $REF/inband-replies.dat" "Fsync = no" "Threads = 1")
    local d l key skip
    {
        echo "[Sink]"
        echo "Upstream_Handled = ${UPSTREAM:-50}"
        echo "[Listen]"
        for d in "${defaults[@]}"; do
            skip=0
            key=${d%% =*}
            for l in "$@"; do [ "${l%% =*}" = "$key" ] && skip=1; done
            [ $skip = 1 ] || echo "$d"
        done
        for l in "$@"; do echo "$l"; done
    } > "$file"
}

# start_listen CONFIG [RECORDS_FILE]: starts listen in the background (records to
# RECORDS_FILE, default $T/records), waits for the port given in the config.
start_listen() {
    local cfg=$1 rec=${2:-$T/records} port
    port=$(sed -n 's/^Address = 127.0.0.1:\([0-9]*\).*/\1/p' "$cfg")
    bg "$BS_BIN/listen" -c "$cfg" > "$rec" 2>> "$T/listen.err"
    # shellcheck disable=SC2034 # read by the tests that source this file
    LISTEN_PID=$BG_PID
    wait_port "$port" 10 || { diag "listen did not start"; cat "$T/listen.err"; }
}

# smtp_py PORT <<'PY' ... : runs python with `port` set and smtplib/socket imported.
smtp_py() {
    local port=$1
    python3 -c "
import smtplib, socket, sys, os, time
port = $port
T = '$T'
$(cat)
"
}
