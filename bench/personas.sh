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
if [ -z "${BS_IN_NETNS:-}" ]; then
    unshare -n -m true 2> /dev/null || { echo "bench: personas: needs unshare -n -m (root or user namespaces)" >&2; exit 69; }
    BS_IN_NETNS=1 exec unshare -n -m -- bash "$0" "$@"
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
MSGS=${BENCH_MSGS_PERSONAS:-3000}
for t in smtp-source python3 /usr/sbin/dnsmasq; do
    command -v "$t" > /dev/null || { echo "bench: personas: $t not found" >&2; exit 69; }
done
W=$(mktemp -d /tmp/bs-bench-personas.XXXXXX)
chmod 755 "$W"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.05
    done
    echo "bench: personas: nothing listens on port $1" >&2
    return 1
}
rate() { # PORT [MSGS]: msgs/s of one smtp-source run
    local t0 t1 m=${2:-$MSGS}
    t0=$(date +%s.%N)
    smtp-source -d -s 10 -m "$m" -F "$W/msg.eml" -f bounces@sender.test \
        -t x@gmail.bouncy-sink.test "127.0.0.1:$1" > /dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print('%.0f' % ($m / ($t1 - $t0)))"
}
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

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
ip link set lo up
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$W/resolv.conf"
mount --bind "$W/resolv.conf" /etc/resolv.conf || exit 71
/usr/sbin/dnsmasq --conf-file="$W/zone.conf" --no-resolv --no-hosts --port 53 \
    --listen-address 127.0.0.1 --bind-interfaces --keep-in-foreground \
    --pid-file="$W/dnsmasq.pid" --user=root &
pids+=($!)
dns_ready() { # an A query for mta.sender.test answered by dnsmasq
    python3 - <<'PY'
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in "mta.sender.test".split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
try:
    s.sendto(q, ("127.0.0.1", 53))
    r = s.recv(512)
except OSError:
    sys.exit(1)
sys.exit(0 if r[3] & 15 == 0 and struct.unpack(">H", r[6:8])[0] > 0 else 1)
PY
}
for _ in $(seq 1 50); do dns_ready && break; sleep 0.1; done
dns_ready || { echo "bench: personas: dnsmasq does not answer" >&2; exit 69; }
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
    printf '[Sink]\nUpstream_Handled = %s\n[Listen]\nFacts = %s\nInBand_Bounce_percent = 0\n\nAddress = 127.0.0.1:%s\nSpool = %s\nFsync = no\nInBand_Replies_File = %s\nHostname = sink.test\n[Personas]\nDir = %s\nLabels = %s\n' \
        "$upstream" "$facts" "$2" "$W/spool-$1" "$ROOT/data/reference/inband-replies.dat" "$W/personas" "$labels" > "$W/$1.ini"
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
a1=$(rate "$on")
b1=$(rate "$off")
b2=$(rate "$off")
a2=$(rate "$on")
c_on=$(($(cpu "$on_pid") - c_on0))
c_off=$(($(cpu "$off_pid") - c_off0))
a=$((a1 > a2 ? a1 : a2))
b=$((b1 > b2 ? b1 : b2))
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
