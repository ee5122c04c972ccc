#!/usr/bin/env bash
# listen's provider personas end to end (issue 16), on real facts: in a private network
# namespace dnsmasq serves SPF, DKIM keys (gen-corpus), _dmarc records, PTR and A records;
# clients send from documentation addresses added to lo. For each shipped persona (copies
# of data/personas with the bulk threshold lowered to 5 messages a day and the IP rate to
# 3 messages a minute): a compliant sender is accepted; unauthenticated mail, SPF pass with
# a misaligned From under p=reject, no PTR, a bulk sender without List-Unsubscribe-Post
# (and microsoft's high-volume authentication) are refused by the rule that says so, and
# the same mail where the condition does not hold is not; over the IP rate the next RCPT
# is deferred, and accepted again a minute later (injected clock). Every refusal is a
# persona record naming persona and rule.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/ingest/5x-dns-ns.sh
. "$ROOT/tests/ingest/5x-dns-ns.sh"
# shellcheck source=tests/listen/common.sh
. "$(dirname "$0")/common.sh"

G=$BS_BIN/gen-corpus
# signed by sender.test (aligned), by bulk.test (the bulk sender), by other.test (From
# other.test, p=reject, key not in DNS), unsigned from fail.test (SPF -all), unsigned
# from rate.test (no DMARC record)
"$G" -n 1 --seed 41 -f eml -o "$T/good" --domain sender.test --dnsmasq "$T/k1.conf" &&
    "$G" -n 1 --seed 42 -f eml -o "$T/good-noc" --key "$T/good/dkim.key" --domain sender.test --no-one-click &&
    "$G" -n 1 --seed 43 -f eml -o "$T/bulk" --key "$T/good/dkim.key" --domain bulk.test --dnsmasq "$T/k2.conf" &&
    "$G" -n 1 --seed 44 -f eml -o "$T/bulk-noc" --key "$T/good/dkim.key" --domain bulk.test --no-one-click &&
    "$G" -n 1 --seed 45 -f eml -o "$T/other" --domain other.test &&
    "$G" -n 1 --seed 46 -f eml -o "$T/unsigned" --domain fail.test --no-sign &&
    "$G" -n 1 --seed 47 -f eml -o "$T/rate" --domain rate.test --no-sign
ok $? "messages generated"
for d in good good-noc bulk bulk-noc other unsigned rate; do cp "$T"/$d/*.eml "$T/$d.eml"; done

cat "$T/k1.conf" "$T/k2.conf" > "$T/zone.conf"
cat >> "$T/zone.conf" <<'Z'
txt-record=sender.test,"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all"
txt-record=_dmarc.sender.test,"v=DMARC1; p=none"
txt-record=bulk.test,"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all"
txt-record=_dmarc.bulk.test,"v=DMARC1; p=none"
txt-record=fail.test,"v=spf1 -all"
txt-record=_dmarc.other.test,"v=DMARC1; p=reject"
ptr-record=10.2.0.192.in-addr.arpa,mta1.sender.test
address=/mta1.sender.test/192.0.2.10
ptr-record=7.100.51.198.in-addr.arpa,mta2.sender.test
address=/mta2.sender.test/198.51.100.7
local=/in-addr.arpa/
Z
dns_start "$T/zone.conf"
ok $? "dnsmasq answers in the namespace"
for ip in 192.0.2.10 192.0.2.11 198.51.100.7; do ip addr add "$ip/32" dev lo; done

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj /CN=sink.test > /dev/null 2>&1
mkdir "$T/personas"
for p in gmail microsoft yahoo; do
    sed -e 's/^param bulk_per_day .*/param bulk_per_day 5/' \
        -e 's/^param ip_per_minute .*/param ip_per_minute 3/' \
        "$ROOT/data/personas/$p.persona" > "$T/personas/$p.persona"
done
echo 0 > "$T/clock"
port=$(free_port)
UPSTREAM=0 write_config "$T/c.ini" "$port" "Sink_Domains = sink.test" \
    "Clock_Offset_File = $T/clock" "TLS_Certificate = $T/cert.pem" "TLS_Key = $T/key.pem" \
    "[Personas]" "Dir = $T/personas"
start_listen "$T/c.ini"

# send IP RCPT_DOMAIN FILE MAIL_FROM [tls] -> the reply that decided: "code text"
send() {
    python3 - "$port" "$@" <<'PY'
import smtplib, ssl, sys
port, ip, dom, path, mail_from = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
tls = len(sys.argv) > 6
s = smtplib.SMTP("127.0.0.1", port, source_address=(ip, 0), timeout=20)
try:
    s.ehlo("mta.sender.test")
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo("mta.sender.test")
    s.mail(mail_from)
    code, msg = s.rcpt("user@" + dom)
    if code < 400:
        code, msg = s.data(open(path, "rb").read())
    print(code, msg.decode().replace("\n", " "))
    if code != 421:
        s.quit()
except smtplib.SMTPServerDisconnected as e:
    print("disconnected", e)
PY
}
n=0
tick() { n=$((n + 70)); echo "$n" > "$T/clock"; }    # a new minute: the IP rates start again
day() { n=$((n + 90000)); echo "$n" > "$T/clock"; } # a new day: the domains' volumes too
nacc=0
G1=192.0.2.10 NOPTR=192.0.2.11 G2=198.51.100.7
accepted() { # accepted DESC ARGS...: 250 at the end of DATA
    local desc=$1 got
    shift
    got=$(send "$@")
    like "$got" '^250 2\.0\.0 Ok: queued as' "$desc"
    [[ $got == "250 2.0.0 Ok: queued as"* ]] && nacc=$((nacc + 1))
}
refused() { # refused ERE DESC ARGS...
    local want=$1 desc=$2 got
    shift 2
    got=$(send "$@")
    like "$got" "$want" "$desc"
}

for p in gmail microsoft yahoo; do
    tick
    accepted "$p: compliant sender accepted" $G1 $p.sink.test "$T/good.eml" bounces@sender.test
done
tick
refused '^550 5\.7\.26 This mail has been blocked because the sender is unauthenticated' \
    "gmail: no SPF nor DKIM pass: 550 5.7.26" $G1 gmail.sink.test "$T/unsigned.eml" bounces@fail.test
refused '^550 5\.7\.1 Unfortunately, messages from \[192\.0\.2\.10\] weren.t sent' \
    "microsoft: unauthenticated: 550 5.7.1" $G1 microsoft.sink.test "$T/unsigned.eml" bounces@fail.test
refused '^550 5\.7\.9 This mail has been blocked because the sender is unauthenticated' \
    "yahoo: unauthenticated: 550 5.7.9" $G1 yahoo.sink.test "$T/unsigned.eml" bounces@fail.test
tick
accepted "gmail: the same mail with SPF pass is not unauthenticated" $G1 gmail.sink.test "$T/unsigned.eml" bounces@sender.test
tick
refused "^550 5\.7\.26 Unauthenticated email from other\.test is not accepted due to domain's DMARC policy" \
    "gmail: SPF pass, From misaligned, p=reject: 550 5.7.26 (DMARC)" $G1 gmail.sink.test "$T/other.eml" bounces@sender.test
refused '^550 5\.7\.509 Access denied, sending domain other\.test does not pass DMARC verification' \
    "microsoft: DMARC fail, p=reject: 550 5.7.509" $G1 microsoft.sink.test "$T/other.eml" bounces@sender.test
refused '^554 5\.7\.9 Message not accepted for policy reasons' \
    "yahoo: DMARC fail, p=reject: 554 5.7.9" $G1 yahoo.sink.test "$T/other.eml" bounces@sender.test
day
refused '^550 5\.7\.25 The IP address sending this message does not have a PTR record' \
    "gmail: no PTR: 550 5.7.25 at RCPT" $NOPTR gmail.sink.test "$T/good.eml" bounces@sender.test
refused '^553 5\.7\.1 Connections will not be accepted from 192\.0\.2\.11' \
    "yahoo: no PTR: 553 5.7.1" $NOPTR yahoo.sink.test "$T/good.eml" bounces@sender.test
accepted "microsoft: no PTR rule" $NOPTR microsoft.sink.test "$T/good.eml" bounces@sender.test
accepted "gmail: PTR with forward confirmation (another IP): accepted" $G2 gmail.sink.test "$T/good.eml" bounces@sender.test

# bulk: bulk.test reaches 5 messages (any persona), then the bulk rules apply
day
for i in 1 2 3; do tick; accepted "bulk.test message $i (not yet bulk)" $G1 gmail.sink.test "$T/bulk.eml" bounces@bulk.test tls; done
tick
accepted "gmail: not yet bulk: no List-Unsubscribe-Post is fine" $G1 gmail.sink.test "$T/bulk-noc.eml" bounces@bulk.test tls
tick
accepted "gmail: bulk with one-click unsubscribe over TLS: accepted" $G1 gmail.sink.test "$T/bulk.eml" bounces@bulk.test tls
refused '^550 5\.7\.1 This message from a bulk sender does not offer one-click unsubscription' \
    "gmail: bulk without List-Unsubscribe-Post: 550 5.7.1" $G1 gmail.sink.test "$T/bulk-noc.eml" bounces@bulk.test tls
tick
refused '^421 4\.7\.0 TLS required for bulk mail from bulk\.test' \
    "gmail: bulk without TLS: 421 4.7.0" $G1 gmail.sink.test "$T/bulk.eml" bounces@bulk.test
refused '^550 5\.7\.1 Bulk mail must offer one-click unsubscription' \
    "yahoo: bulk without List-Unsubscribe-Post: 550 5.7.1" $G1 yahoo.sink.test "$T/bulk-noc.eml" bounces@bulk.test
tick
accepted "yahoo: not bulk (sender.test) without List-Unsubscribe-Post: accepted" $G1 yahoo.sink.test "$T/good-noc.eml" bounces@sender.test
accepted "microsoft: bulk without List-Unsubscribe-Post (not modelled): accepted" $G1 microsoft.sink.test "$T/bulk-noc.eml" bounces@bulk.test
refused '^550 5\.7\.515 Access denied, sending domain bulk\.test does not meet the required authentication level' \
    "microsoft: bulk with SPF failing: 550 5.7.515" $G1 microsoft.sink.test "$T/bulk.eml" bounces@fail.test
tick
accepted "microsoft: not bulk with SPF failing (DKIM passes): accepted" $G1 microsoft.sink.test "$T/good.eml" bounces@fail.test

# rate: 3 messages a minute from one IP, the 4th RCPT deferred; a minute later accepted
for p in gmail microsoft yahoo; do
    day
    for i in 1 2 3; do send $G2 $p.sink.test "$T/rate.eml" bounces@sender.test > "$T/r$i"; done
    like "$(cat "$T/r1" "$T/r2" "$T/r3" | cut -c1-10 | tr '\n' ' ')" '^(250 2\.0\.0  ){3}$' \
        "$p: 3 messages in a minute accepted"
    nacc=$((nacc + $(cat "$T/r1" "$T/r2" "$T/r3" | grep -c '^250 2\.0\.0 Ok: queued as')))
    case $p in
    gmail) want='^421 4\.7\.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address \[198\.51\.100\.7\]' ;;
    microsoft) want='^451 4\.7\.650 The mail server \[198\.51\.100\.7\] has been temporarily rate limited' ;;
    yahoo) want='^421 4\.7\.0 \[TSS04\] Messages from 198\.51\.100\.7 temporarily deferred' ;;
    esac
    refused "$want" "$p: the 4th in the minute deferred" $G2 $p.sink.test "$T/rate.eml" bounces@sender.test
    tick
    accepted "$p: a minute later accepted again" $G2 $p.sink.test "$T/rate.eml" bounces@sender.test
done

# records: every refusal is a persona record naming persona, rule and stage
python3 - "$T/records" <<'PY' > "$T/summary"
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "persona":
        c["%s %s %s %d" % (r["persona"], r["rule"], r["stage"], r["reply"]["code"])] += 1
for k in sorted(c):
    print(k, c[k])
PY
is "$(cat "$T/summary")" "gmail bulk-tls data 421 1
gmail bulk-unsubscribe data 550 1
gmail dmarc-policy data 550 1
gmail no-ptr rcpt 550 1
gmail rate-ip rcpt 421 1
gmail unauthenticated data 550 1
microsoft dmarc-reject data 550 1
microsoft high-volume-auth data 550 1
microsoft rate-ip rcpt 451 1
microsoft unauthenticated data 550 1
yahoo bulk-unsubscribe data 550 1
yahoo dmarc-reject data 554 1
yahoo no-ptr rcpt 553 1
yahoo rate-ip rcpt 421 1
yahoo unauthenticated data 550 1" "one persona record per refusal, naming persona, rule, stage and code"
spooled=$(find "$T/spool" -name '*.msg' | wc -l)
is "$spooled" "$nacc" "accepted mail is spooled as any other"
grep -l '^Authentication-Results: sink.test;' "$T"/spool/*.msg | wc -l > "$T/ar"
is "$(cat "$T/ar")" "$nacc" "each with listen's Authentication-Results"
done_testing
