#!/usr/bin/env bash
# act-smtp closes the connections libcurl keeps for reuse with QUIT once they have been
# unused for [Smtp] Idle_Close seconds, before the server's time-out: Postfix's smtp-sink
# (here with a 4 s time-out instead of its 100 s) logs no "read timeout". The control
# run with Idle_Close = 0 keeps the connection open, and smtp-sink does log one.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { fail "smtp-sink installed (postfix)"; done_testing; exit; }
user=(); [ "$(id -u)" = 0 ] && user=(-u root)

# run NAME IDLE_CLOSE: smtp-sink -v on a free port; act-smtp sends one report and then
# sees no input for 7 s (its standard input stays open); smtp-sink's output in NAME.log.
run() {
    local name=$1 idle=$2 port
    port=$(free_port)
    "$SINK" "${user[@]}" -v -t 4 "127.0.0.1:$port" 10 > "$T/$name.log" 2>&1 &
    local sink_pid=$!
    wait_port "$port" || fail "$name: smtp-sink listening"
    write_conf "$T/$name.ini" "$port" "Idle_Close = $idle"
    mkrec "$name" fbl > "$T/$name.rec"
    { cat "$T/$name.rec"; sleep 7; } | "$BS_BIN/act-smtp" -c "$T/$name.ini" > "$T/$name.out"
    ok $? "$name: act-smtp exit 0"
    is "$(jget "$T/$name.out" 1 smtp.fbl.status)" sent "$name: report sent"
    kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null
}

run polite 1
log=$(cat "$T/polite.log")
like "$log" 'QUIT' "Idle_Close = 1: smtp-sink received QUIT"
unlike "$log" 'read timeout' "Idle_Close = 1: no read timeout in smtp-sink's output"
# QUIT came while act-smtp still ran (about 1 s after the report), not at its exit:
# smtp-sink's time-out (4 s) would otherwise have fired first, as in the control run.

run control 0
like "$(cat "$T/control.log")" 'read timeout' "control, Idle_Close = 0: smtp-sink times out the idle connection"
done_testing
