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

# load_pairs PORT SESSIONS MSGS: SESSIONS concurrent sessions, MSGS messages each to two spooled
# recipients; prints "queued TAG" or "refused TAG CODE" per message
load_pairs() {
    smtp_py "$1" <<PY
import threading
out, lock = [], threading.Lock()
def session(n):
    s = smtplib.SMTP('127.0.0.1', port, timeout=60)
    body = ('x' * 76 + '\r\n') * 100   # ~8 KB
    for i in range($3):
        tag = 's%02dm%02d' % (n, i)
        try:
            s.sendmail('a@sender.test', ['r1@accept.bouncy-sink.test', 'r2@oob.bouncy-sink.test'],
                       ('Subject: %s\r\n\r\n' % tag + body).encode())
            line = 'queued ' + tag
        except smtplib.SMTPDataError as e:
            line = 'refused %s %d' % (tag, e.smtp_code)
        with lock:
            out.append(line)
    s.quit()
ts = [threading.Thread(target=session, args=(n,)) for n in range($2)]
for t in ts: t.start()
for t in ts: t.join()
print('\n'.join(out))
PY
}
# check_pairs SPOOL OUT: every queued tag has its two files, no refused one has any
check_pairs() {
    local spool=$1 out=$2 missing=0 extra=0 tag c
    while read -r tag; do
        c=$(grep -l "^Subject: $tag" "$spool"/*.msg 2>/dev/null | wc -l)
        [ "$c" = 2 ] || { missing=$((missing + 1)); diag "$tag has $c files"; }
    done < <(sed -n 's/^queued //p' "$out")
    while read -r tag; do
        c=$(grep -l "^Subject: $tag" "$spool"/*.msg 2>/dev/null | wc -l)
        [ "$c" = 0 ] || { extra=$((extra + 1)); diag "refused $tag has $c files"; }
    done < <(sed -n 's/^refused \([^ ]*\) .*/\1/p' "$out")
    is "$missing" 0 "every 250 has its two files in the spool"
    is "$extra" 0 "no file of a refused message"
    is "$(find "$spool" -mindepth 1 -maxdepth 1 -name '*.msg' | wc -l)" \
        "$(( $(grep -c '^queued' "$out") * 2 ))" "no other file"
    is "$(find "$spool" -mindepth 1 -maxdepth 1 ! -name '*.msg' | wc -l)" 0 "no temporary file left"
}
