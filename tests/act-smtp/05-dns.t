#!/usr/bin/env bash
# act-smtp: real MX lookups (c-ares) against a dnsmasq the test starts on a loopback
# port ([Smtp] Resolver): lowest preference wins, A fallback, no MX and no address,
# NXDOMAIN, a null MX, a dead resolver; answers cached. A name server that never answers
# holds up only the records waiting for it: the others are delivered meanwhile, the output
# keeps the input order, and records for one domain share one lookup.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

command -v dnsmasq >/dev/null || { fail "dnsmasq installed (dnsmasq-base)"; done_testing; exit; }
DNS_PORT=$(free_port)
bg dnsmasq -C /dev/null --no-resolv --no-hosts --keep-in-foreground --port="$DNS_PORT" \
    --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root --group=root \
    --log-queries --log-facility="$T/dns.log" --local=/test/ \
    --mx-host=multi.test,mx-b.example.net,20 --mx-host=multi.test,smtp.sparkpostmail.com,10 \
    --mx-host=multi.test,mx-c.example.net,30 --mx-host=other.test,mx.other.test,10 \
    --host-record=afallback.test,192.0.2.7 --txt-record=txtonly.test,hello \
    --mx-host=nullmx.test,.,0
wait_port "$DNS_PORT" || fail "dnsmasq listening"

start_smtpd "$T/srv"
cat > "$T/c.ini" <<EOF2
[Smtp]
Relay = 127.0.0.1:$SMTP_PORT
Resolver = 127.0.0.1:$DNS_PORT
Timeout = 2
Retry_Max_Seconds = 0
[Listen]
Hostname = sink.example
[RP_MX_domain_allowlist]
smtp.sparkpostmail.com = fbl@sparkpostmail.com
afallback.test = fbl@afallback.test
EOF2
{
    mkrec d1 fbl mail_from=b@multi.test
    mkrec d2 oob mail_from=c@multi.test
    mkrec d3 fbl mail_from=b@afallback.test
    mkrec d4 fbl mail_from=b@txtonly.test
    mkrec d5 oob mail_from=b@nothing.test
    mkrec d6 fbl mail_from=b@other.test
    mkrec d7 fbl mail_from=b@MULTI.test
    mkrec d9 fbl mail_from=b@nullmx.test
} > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "exit 0"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.mx)" smtp.sparkpostmail.com "lowest MX preference chosen"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.status)" sent "FBL via the looked-up MX sent"
is "$(jget "$T/out.ndjson" 2 smtp.oob.status)" sent "OOB via the looked-up MX sent"
is "$(jget "$T/out.ndjson" 2 smtp.oob.to)" c@multi.test "OOB to the Return-Path address"
is "$(jget "$T/out.ndjson" 3 smtp.fbl.mx)" afallback.test "no MX: the domain itself (A record) is the host"
is "$(jget "$T/out.ndjson" 3 smtp.fbl.to)" fbl@afallback.test "A fallback host goes through the allow-list"
is "$(jget "$T/out.ndjson" 4 smtp.fbl.status)" no_mx "no MX and no address: no_mx"
like "$(jget "$T/out.ndjson" 4 smtp.fbl.reason)" "no MX and no address" "no_mx reason"
is "$(jget "$T/out.ndjson" 5 smtp.oob.status)" no_mx "NXDOMAIN: no_mx"
is "$(jget "$T/out.ndjson" 5 smtp.oob.error)" "!OOB not sent, Return-Path b@nothing.test does not have a valid MX" "NXDOMAIN: error text"
like "$(jget "$T/out.ndjson" 5 smtp.oob.reason)" "NXDOMAIN" "NXDOMAIN: the resolver's reason"
is "$(jget "$T/out.ndjson" 6 smtp.fbl.status)" return_path_not_sparkpost "MX not allowed: nothing sent"
is "$(jget "$T/out.ndjson" 7 smtp.fbl.status)" sent "domain case does not matter"
is "$(ls "$T/srv"/*.eml | wc -l)" 4 "exactly the four allowed reports reached the server"
is "$(jget "$T/out.ndjson" 8 smtp.fbl.status)" no_mx "null MX (RFC 7505): no_mx"
like "$(jget "$T/out.ndjson" 8 smtp.fbl.reason)" "null MX" "null MX: the reason"
is "$(grep -c 'query\[MX\] multi.test' "$T/dns.log")" 1 "one MX query for multi.test (cached)"

# A resolver that does not answer: temporary failure recorded, never a crash.
dead=$(free_port)
sed "s/^Resolver = .*/Resolver = 127.0.0.1:$dead/" "$T/c.ini" > "$T/dead.ini"
mkrec d8 oob mail_from=b@multi.test | timeout 60 "$BS_BIN/act-smtp" -c "$T/dead.ini" > "$T/dead.ndjson" 2>/dev/null
ok $? "dead resolver: exit 0"
is "$(jget "$T/dead.ndjson" 1 smtp.oob.status)" smtp_error "dead resolver: smtp_error"
like "$(jget "$T/dead.ndjson" 1 smtp.oob.error)" "^!OOB not sent, MX lookup failed: .*temporary" "dead resolver: the resolver's reason"

# A name server that takes every query and never answers (it logs what it was asked).
bh=$(free_port)
bg /usr/bin/python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
log = open(sys.argv[2], "a")
while True:
    q, _ = s.recvfrom(4096)
    i, name = 12, []
    while i < len(q) and q[i]:
        name.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace")); i += 1 + q[i]
    qtype = int.from_bytes(q[i + 1:i + 3], "big") if i + 3 <= len(q) else 0
    print(qtype, ".".join(name), file=log, flush=True)
' "$bh" "$T/blackhole.log"
{
    mkrec s1 oob mail_from=b@slow.test
    mkrec s2 fbl mail_from=b@fast.test
    mkrec s3 oob mail_from=c@SLOW.test
} > "$T/bh-in.ndjson"
start_smtpd "$T/bh-srv"
cat > "$T/bh.ini" <<EOF2
[Smtp]
Relay = 127.0.0.1:$SMTP_PORT
Resolver = 127.0.0.1:$bh
MX_Override = fast.test=smtp.sparkpostmail.com
Timeout = 3
Retry_Max_Seconds = 0
[Listen]
Hostname = sink.example
[RP_MX_domain_allowlist]
smtp.sparkpostmail.com = fbl@sparkpostmail.com
EOF2
"$BS_BIN/act-smtp" -c "$T/bh.ini" < "$T/bh-in.ndjson" > "$T/bh-out.ndjson" 2>/dev/null &
apid=$!
delivered() { compgen -G "$T/bh-srv/*.eml" > /dev/null; }
wait_for delivered; ok $? "the record that needs no DNS is delivered while the name server is silent"
kill -0 "$apid" 2>/dev/null; ok $? "act-smtp still waiting for the silent name server then"
is "$(wc -c < "$T/bh-out.ndjson")" 0 "nothing written yet: the first record (waiting for DNS) goes out first"
wait "$apid"; ok $? "silent name server: exit 0"
is "$(wc -l < "$T/bh-out.ndjson")" 3 "three records out"
is "$(jget "$T/bh-out.ndjson" 1 id) $(jget "$T/bh-out.ndjson" 2 id) $(jget "$T/bh-out.ndjson" 3 id)" "s1 s2 s3" "in input order"
like "$(jget "$T/bh-out.ndjson" 1 smtp.oob.error)" "MX lookup failed: .*time-out" "s1: the lookup timed out"
is "$(jget "$T/bh-out.ndjson" 2 smtp.fbl.status)" sent "s2: sent"
like "$(jget "$T/bh-out.ndjson" 3 smtp.oob.error)" "MX lookup failed: .*time-out" "s3: the same answer"
n=$(grep -c '^15 slow.test$' "$T/blackhole.log")
ok "$(( !(n >= 1 && n <= 2) ))" "one lookup (two tries) for slow.test and SLOW.test together: $n MX queries"
done_testing
