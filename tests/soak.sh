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
# shellcheck source=tools/live-sink.sh
. "$ROOT/tools/live-sink.sh"
live_netns "$0" "$@"
N=${1:-1000000}
ROUND=${BS_SOAK_ROUND:-20000}
CONN=${BS_SOAK_CONN:-20}
EVERY=${BS_SOAK_SAMPLE:-5}
STREAM=${BS_SOAK_STREAM:-mixed}
case "$STREAM" in mixed|accept) ;; *) echo "soak: BS_SOAK_STREAM must be mixed or accept" >&2; exit 64 ;; esac
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
live_init soak "${BS_SOAK_DIR:-${TMPDIR:-/tmp}}" "${BS_SOAK_KEEP:-}"
live_peers
# The message (smtp-source's own unless -F), its recipient, the DKIM keys to verify it.
msg=() rcpt=soak@accept.bouncy-sink.test keys=
if [ "$STREAM" = mixed ]; then
    "$BS_BIN/gen-corpus" -n 1 --seed 7 --streams mixed=1 -f eml -o "$T/eml" --key "$T/dkim.key" \
        --key-file "$T/dkim-keys.txt" --tracking-base "http://127.0.0.1:$tport" > /dev/null \
        || { say "error: gen-corpus failed"; exit 1; }
    rm -f "$T/eml/dkim.key" "$T/eml/dkim-keys.txt"
    eml=("$T"/eml/*.eml)
    msg=(-F "${eml[0]}") rcpt=soak@bouncy-sink.test keys=$T/dkim-keys.txt
fi
live_config no "$keys"
live_start

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
