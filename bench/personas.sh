#!/usr/bin/env bash
# bench/personas.sh — listen with provider personas on vs off (issue 16), same run:
# smtp-source sends one DKIM-signed ~4 KB message (gen-corpus, one-click unsubscribe)
# over 10 sessions to x@gmail.bouncy-sink.test, blackholed (Upstream_Handled = 100: no
# spool file, whose creation cost on a shared disk swamps the rest; a first run of 100
# messages is spooled to check that every fact passes). "On": the shipped gmail persona (its IP rate and bulk numbers raised so that the
# load passes every rule): PTR/FCrDNS, SPF, DKIM, DMARC and the header facts computed for
# every message, off the event loop, and the rules evaluated. "Off": [Personas] Labels =
# none, the same recipient is plain mixed-stream mail. DNS (SPF, DKIM key, _dmarc, PTR)
# comes from dnsmasq in a private network namespace (unshare -n -m, as the tests do).
# ABBA order, best of two each. Goal: on/off >= 0.75.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_netns "$0" "$@"
MSGS=${BENCH_MSGS_PERSONAS:-3000}
bench_init personas smtp-source python3 /usr/sbin/dnsmasq

rate() { # PORT [MSGS]: msgs/s of one smtp-source run
    local m=${2:-$MSGS}
    bench_rate "$m" -d -s 10 -m "$m" -F "$W/msg.eml" -f bounces@sender.test \
        -t x@gmail.bouncy-sink.test "127.0.0.1:$1"
}

# a signed message of about 4 KB, LF line ends (smtp-source -F appends CRLF)
"$BS_BIN/gen-corpus" -n 40 --seed 7 -f eml -o "$W/c" --domain sender.test \
    --dnsmasq "$W/zone.conf" > /dev/null || exit 70
best=$(for f in "$W"/c/*.eml; do echo "$(($(stat -c %s "$f") - 4096)) $f"; done |
    sed 's/^-//' | sort -n | head -n 1 | cut -d' ' -f2)
tr -d '\r' < "$best" > "$W/msg.eml"
cat >> "$W/zone.conf" <<'Z'
txt-record=sender.test,"v=spf1 ip4:127.0.0.0/8 -all"
txt-record=_dmarc.sender.test,"v=DMARC1; p=none"
ptr-record=1.0.0.127.in-addr.arpa,mta.sender.test
address=/mta.sender.test/127.0.0.1
address=/localhost/127.0.0.1
local=/test/
local=/in-addr.arpa/
Z
bench_dns "$W/zone.conf" mta.sender.test
mkdir -p "$W/personas"
sed -e 's/^param ip_per_minute .*/param ip_per_minute 100000000/' \
    -e 's/^param bulk_per_day .*/param bulk_per_day 100000000/' \
    "$ROOT/data/personas/gmail.persona" > "$W/personas/gmail.persona"

cpu() { # PID: user+system clock ticks so far
    awk '{print $14 + $15}' "/proc/$1/stat"
}
start_listen() { # on|off|facts|check PORT
    local labels=gmail upstream=100 facts=no
    [ "$1" = off ] && labels=none
    [ "$1" = facts ] && labels=none && facts=yes
    [ "$1" = check ] && upstream=0
    mkdir -p "$W/spool-$1"
    bench_listen_ini "$W/$1.ini" "Upstream_Handled = $upstream" "Facts = $facts" \
        "Address = 127.0.0.1:$2" "Spool = $W/spool-$1" "Hostname = sink.test" \
        "[Personas]" "Dir = $W/personas" "Labels = $labels"
    "$BS_BIN/listen" -c "$W/$1.ini" > "$W/records-$1" 2> "$W/listen-$1.err" &
    pids+=($!)
    LISTEN_PID=$!
    wait_port "$2"
}
check=$(free_port)
start_listen check "$check"
rate "$check" 100 > /dev/null
spooled=$(find "$W/spool-check" -name '*.msg' | wc -l)
ar=$(find "$W/spool-check" -name '*.msg' -print0 | xargs -0 grep -l -Z '^	iprev=pass' |
    xargs -0 grep -l '^	dmarc=pass' | wc -l)
on=$(free_port)
off=$(free_port)
start_listen on "$on"
on_pid=$LISTEN_PID
start_listen off "$off"
off_pid=$LISTEN_PID
c_on0=$(cpu "$on_pid")
c_off0=$(cpu "$off_pid")
bench_abba "rate $on" "rate $off"
a=$A b=$B
c_on=$(($(cpu "$on_pid") - c_on0))
c_off=$(($(cpu "$off_pid") - c_off0))
# the facts alone ([Listen] Facts = yes, no persona): what the personas add to them
fp=$(free_port)
start_listen facts "$fp"
c_f0=$(cpu "$LISTEN_PID")
f1=$(rate "$fp")
f2=$(rate "$fp")
c_f=$(($(cpu "$LISTEN_PID") - c_f0))
f=$((f1 > f2 ? f1 : f2))
refused=$(grep -c '"kind":"persona"' "$W/records-on")
passed=$(grep -c '"kind":"blackhole"' "$W/records-on")
echo "bench: personas: gmail persona on, signed $(stat -c %s "$W/msg.eml")-octet message, 10 sessions, $MSGS msgs: $a msgs/s (personas off: $b msgs/s, ratio $(ratio "$a" "$b"); goal >= 0.75; $passed passed, $refused refused; check: $ar of $spooled spooled with iprev, SPF, DKIM and DMARC pass)"
echo "bench: personas: listen CPU time for $((2 * MSGS)) msgs: on $c_on ticks, off $c_off ticks (off/on $(ratio "$c_off" "$c_on"): the cost of the facts and rules, independent of the machine's load); facts computed without personas ([Listen] Facts = yes): $f msgs/s, $c_f ticks (facts/on $(ratio "$c_f" "$c_on"): the rules and rates are the rest)"
