#!/usr/bin/env bash
# tests/soak.sh [N] — soak of the live sink (`make soak`, not part of `make test`).
#
# pipelines/sink.sh runs every stage; bin/track-server is the tracking endpoint and
# Postfix's smtp-sink takes the ARF/DSN reports, all on loopback (as root in a private
# network namespace, so no DNS query leaves). Postfix's smtp-source sends N messages
# (default 1,000,000) in rounds of BS_SOAK_ROUND (default 20,000), each to a unique
# recipient, over BS_SOAK_CONN (default 20) connections. With BS_SOAK_STREAM=mixed (the
# default) the message is a DKIM-signed gen-corpus message with open pixels and tracked
# links, sent to the mixed stream, so every stage works: listen answers in-band bounces
# and blackholes its share, decide plans opens, clicks, OOB and FBL, act-http fetches from
# the track-server, act-smtp delivers reports to the smtp-sink. With BS_SOAK_STREAM=accept
# it is smtp-source's own message to the always-spooled accept stream. Either way every
# recipient ends in exactly one log line (in-band bounce, blackhole or message), so zero
# lost means as many log lines as messages sent. Every BS_SOAK_SAMPLE seconds (default 5)
# the RSS and the open descriptors of every stage are sampled into the run directory. At
# the end: messages sent, messages logged, the report's counters, and per stage the RSS
# and descriptors first (after the first round), at their highest and at the end.
# Environment: BS_BIN (default bin/), BS_SOAK_DIR (default $TMPDIR or /tmp; the run
# directory is kept when BS_SOAK_KEEP is set).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
if [ -z "${BS_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare -n -m true 2>/dev/null; then
    BS_IN_NETNS=1 exec unshare -n -m -- bash "$0" "$@"
fi
N=${1:-1000000}
ROUND=${BS_SOAK_ROUND:-20000}
CONN=${BS_SOAK_CONN:-20}
EVERY=${BS_SOAK_SAMPLE:-5}
STREAM=${BS_SOAK_STREAM:-mixed}
case "$STREAM" in mixed|accept) ;; *) echo "soak: BS_SOAK_STREAM must be mixed or accept" >&2; exit 64 ;; esac
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
SMTP_SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
T=$(mktemp -d "${BS_SOAK_DIR:-${TMPDIR:-/tmp}}/bs-soak.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${BS_SOAK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
say() { echo "soak: $*"; }
if [ -n "${BS_IN_NETNS:-}" ]; then
    ip link set lo up
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
    mount --bind "$T/resolv.conf" /etc/resolv.conf
fi
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    local _
    for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
    return 1
}
tport=$(port) sport=$(port) lport=$(port) rport=$(port)
"$BS_BIN/track-server" -l "127.0.0.1:$tport" > /dev/null 2>&1 & pids+=($!)
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
"$SMTP_SINK" "${user[@]}" "127.0.0.1:$sport" 256 & pids+=($!)
R=$T/run
mkdir -p "$R"
msg=()
if [ "$STREAM" = mixed ]; then
    "$BS_BIN/gen-corpus" -n 1 --seed 7 --streams mixed=1 -f eml -o "$T/eml" --key "$T/dkim.key" \
        --key-file "$T/dkim-keys.txt" --tracking-base "http://127.0.0.1:$tport" > /dev/null \
        || { say "error: gen-corpus failed"; exit 1; }
    rm -f "$T/eml/dkim.key" "$T/eml/dkim-keys.txt"
    eml=("$T"/eml/*.eml)
    msg=(-F "${eml[0]}")
fi
cat > "$T/sink.ini" <<INI
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
Fsync = no
[Verify]
DKIM_Key_File = $T/dkim-keys.txt
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
[ "$STREAM" = mixed ] || sed -i '/^\[Verify\]/,+1d' "$T/sink.ini"
bash "$ROOT/pipelines/sink.sh" -c "$T/sink.ini" -d "$R" -b "$BS_BIN" 2> "$T/sink.err" & sink=$!
pids+=("$sink")
{ wait_port "$lport" && wait_port "$rport"; } || { say "error: the sink did not start"; cat "$T/sink.err"; exit 1; }

# Sampler: "seconds stage pid rss_kB fds" for every process under sink.sh.
sample() {
    local p c
    for p in $(pgrep -P "$sink"); do
        c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        case "$c" in listen|ingest|decide|act-http|act-smtp|report) ;; *) continue ;; esac
        echo "$SECONDS $c $p $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null) $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
    done
}
( while kill -0 "$sink" 2>/dev/null; do sample >> "$T/samples"; sleep "$EVERY"; done ) & pids+=($!)

# log lines of messages (the "** " lines are the sink's own notes)
logged() {
    local n
    n=$(grep -vc '^[^,]*,[0-9]*,consume-mail,[A-Z]*,\*\* ' "$R/consume-mail.log" 2>/dev/null)
    echo "${n:-0}"
}
rcpt=soak@accept.bouncy-sink.test
[ "$STREAM" = mixed ] && rcpt=soak@bouncy-sink.test
sent=0 round=0 start=$SECONDS
while [ "$sent" -lt "$N" ]; do
    n=$(( N - sent < ROUND ? N - sent : ROUND ))
    # -N: a unique number before each recipient; message count -m, sessions -s.
    "$SMTP_SOURCE" -s "$CONN" -m "$n" -d -N -f bounces@sender.test -t "$rcpt" \
        -S "soak round $round" "${msg[@]}" "127.0.0.1:$lport" > "$T/source.out" 2>&1 || say "warning: smtp-source: $(tail -n 2 "$T/source.out")"
    sent=$((sent + n)); round=$((round + 1))
    [ "$round" = 1 ] && { sleep 2; sample > "$T/first"; }
    say "round $round: $sent sent, $(logged) logged, $((SECONDS - start)) s"
done
# drain: wait until the log stops growing and the spool is empty (at most 10 minutes)
last=-1
for _ in $(seq 1 600); do
    now=$(logged)
    if [ "$now" -ge "$N" ] || { [ "$now" = "$last" ] && [ -z "$(find "$R/spool" -name '*.msg' -print -quit)" ]; }; then break; fi
    last=$now; sleep 1
done
sample > "$T/last"
got=$(logged)
say "$N messages sent in $((SECONDS - start)) s; $got logged; $(( N - got )) missing"
say "spool left: $(find "$R/spool" -name '*.msg' | wc -l) files; stage restarts by sink.sh: $(grep -c 'restarting' "$T/sink.err")"
sleep 2 # the state file is written every second
say "counters: $(/usr/bin/python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
print(", ".join(f"{k} {v}" for k, v in c.items() if v))' "$R/report-state.json" 2>&1)"
for st in listen ingest decide act-http act-smtp report; do
    read -r _ _ _ r1 f1 < <(grep " $st " "$T/first" | head -n 1)
    read -r _ _ _ r2 f2 < <(grep " $st " "$T/last" | head -n 1)
    rmax=$(awk -v s="$st" '$2 == s {if ($4 > m) m = $4} END {print m + 0}' "$T/samples")
    fmax=$(awk -v s="$st" '$2 == s {if ($5 > m) m = $5} END {print m + 0}' "$T/samples")
    say "$st: RSS ${r1:-?} kB after round 1, max $rmax kB, end ${r2:-?} kB; fds ${f1:-?}, max $fmax, end ${f2:-?}"
done
say "samples: $(wc -l < "$T/samples") lines${BS_SOAK_KEEP:+ in $T/samples}"
[ "$got" -ge "$N" ]
