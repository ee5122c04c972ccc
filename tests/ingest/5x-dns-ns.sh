# tests/ingest/5x-dns-ns.sh — DNS inside the private namespace of a 5x auth test.
# Sourced after tests/lib.sh by a test that re-executed itself under `unshare -n -m`.
# shellcheck shell=bash

# dns_start CONF: brings lo up, points /etc/resolv.conf (bind mount, private to the
# namespace) at 127.0.0.1, starts a SERVFAIL responder for tempfail.test (it appends
# a line to $T/servfail.log per query) and dnsmasq
# on 127.0.0.1:53 with CONF (dnsmasq option lines) plus the test defaults. Both
# processes are killed at exit (bg). Queries are logged to $T/dnsmasq.log.
# Returns non-zero when DNS does not answer.
dns_start() {
    ip link set lo up || return 1
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
    mount --bind "$T/resolv.conf" /etc/resolv.conf || return 1
    local sf_port
    sf_port=$(free_port)
    cat > "$T/servfail.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    r = bytearray(q)
    r[2] = 0x80 | (q[2] & 0x79)   # QR, keep opcode and RD
    r[3] = 0x80 | 0x02            # RA, RCODE 2 = SERVFAIL
    r[6:12] = b"\0" * 6           # no answers, authority or additional records
    s.sendto(bytes(r), peer)
    with open(sys.argv[2], "a") as log:
        log.write("query\n")
PY
    bg python3 "$T/servfail.py" "$sf_port" "$T/servfail.log"
    {
        cat "$1"
        echo "local=/test/"
        echo "local-ttl=300"
        echo "server=/tempfail.test/127.0.0.1#$sf_port"
        echo "address=/ready.test/192.0.2.53"
    } > "$T/dnsmasq.conf"
    bg /usr/sbin/dnsmasq --conf-file="$T/dnsmasq.conf" --no-resolv --no-hosts --port 53 \
        --listen-address 127.0.0.1 --bind-interfaces --keep-in-foreground \
        --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" --log-queries --user=root
    wait_for dns_answers ready.test || return 1
    kill -0 "$BG_PID" 2> /dev/null || return 1 # dnsmasq still running
}

# dns_answers NAME: true when 127.0.0.1:53 answers an A query for NAME with NOERROR.
dns_answers() { python3 "$ROOT/tools/dns-answers.py" "$1"; }
