#!/usr/bin/env bash
# act-smtp (issue 14 defect 6): where reports may go. An MX host is allowed by whole labels
# only (fakee.sparkpost.com is not under e.sparkpost.com), and a Return-Path that is not
# exactly one mailbox (victim@other.test@sender.test, a quoted local part, a source route)
# gets no report at all: no DNS query, no connection, `!OOB not sent, Return-Path ...
# invalid`. Legitimate Return-Paths and MX hosts are still delivered. Shown against the
# scripted SMTP server (smtpd.py), Postfix's smtp-sink and a dnsmasq resolver.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

MULTI='victim@other.test@sender.test'
QUOTED='"victim@other.test"@sender.test'
ROUTED='<@sender.test:victim@other.test>'
records() {
    mkrec v1 oob mail_from="$MULTI"
    mkrec v2 fbl mail_from="$MULTI"
    mkrec v3 ooto mail_from="$MULTI"
    mkrec v4 oob mail_from="$QUOTED"
    mkrec v5 oob mail_from="$ROUTED"
    mkrec v6 oob mail_from='bounces@sender.test, victim@other.test'
    mkrec f1 fbl mail_from=b@fake.test
    mkrec f2 oob mail_from=b@fake.test
    mkrec f3 fbl mail_from=b@fake2.test
    mkrec g1 oob mail_from=bounces@sender.test rcpt=g1@oob.bouncy-sink.test
    mkrec g2 fbl mail_from=b@tenant.test rcpt=g2@fbl.bouncy-sink.test
    mkrec g3 oob mail_from='<bounces-g3@tenant.test>' rcpt=g3@oob.bouncy-sink.test
    mkrec g4 ooto mail_from=bounces@sender.test rcpt=g4@ooto.bouncy-sink.test
}
# conf FILE PORT: the common configuration plus the hostile MX hosts
conf() {
    write_conf "$1" "$2"
    sed -i 's/^  tenant.test=acme.e.sparkpost.com, nomx.test=$/  tenant.test=ACME.e.sparkpost.com., nomx.test=, fake.test=fakee.sparkpost.com,\n  fake2.test=mx.evil.fakee.sparkpost.com/' "$1"
    grep -q '^  fake2.test=' "$1" || fail "test configuration written"
}

# ---- smtpd.py -------------------------------------------------------------------------
start_smtpd "$T/srv"
conf "$T/c.ini" "$SMTP_PORT"
echo "[Sink]" >> "$T/c.ini"; echo "Logfile = $T/c.log" >> "$T/c.ini"
records > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "act-smtp exits 0"
is "$(wc -l < "$T/out.ndjson")" 13 "every record comes out"

for n in 1 2 3 4 5 6; do
    kind=$(jget "$T/in.ndjson" "$n" plan.actions | tr -d '[]" ')
    is "$(jget "$T/out.ndjson" "$n" "smtp.$kind.status")" invalid_return_path \
        "v$n: Return-Path $(jget "$T/in.ndjson" "$n" envelope.mail_from): invalid_return_path"
    is "$(jget "$T/out.ndjson" "$n" "smtp.$kind.mx")" "" "v$n: no MX looked up"
done
is "$(jget "$T/out.ndjson" 1 smtp.oob.error)" "!OOB not sent, Return-Path $MULTI invalid" "multi-@ OOB: the error text"
is "$(jget "$T/out.ndjson" 2 smtp.fbl.error)" "!FBL not sent, Return-Path $MULTI invalid" "multi-@ FBL: the error text"
is "$(jget "$T/out.ndjson" 3 smtp.ooto.error)" "!OOTO not sent, Return-Path $MULTI invalid" "multi-@ OOTO: the error text"
is "$(jget "$T/out.ndjson" 4 smtp.oob.error)" "!OOB not sent, Return-Path $QUOTED invalid" "quoted local part: the error text"

for n in 7 8 9; do
    kind=$(jget "$T/in.ndjson" "$n" plan.actions | tr -d '[]" ')
    is "$(jget "$T/out.ndjson" "$n" "smtp.$kind.status")" return_path_not_sparkpost \
        "f$((n - 6)): MX $(jget "$T/out.ndjson" "$n" "smtp.$kind.mx") is not under e.sparkpost.com"
    is "$(jget "$T/out.ndjson" "$n" "smtp.$kind.to")" "" "f$((n - 6)): no destination"
done
is "$(jget "$T/out.ndjson" 7 smtp.fbl.mx)" fakee.sparkpost.com "the fake suffix was the MX looked up"

is "$(jget "$T/out.ndjson" 10 smtp.oob.status)" sent "legitimate OOB sent"
is "$(jget "$T/out.ndjson" 11 smtp.fbl.status)" sent "legitimate FBL via a host under e.sparkpost.com (any case, root dot) sent"
is "$(jget "$T/out.ndjson" 11 smtp.fbl.to)" fbl@acme.mail.e.sparkpost.com "... to fbl@<first label>.mail.e.sparkpost.com"
is "$(jget "$T/out.ndjson" 12 smtp.oob.status)" sent "legitimate OOB with an <angle-bracketed> Return-Path sent"
is "$(jget "$T/out.ndjson" 12 smtp.oob.to)" bounces-g3@tenant.test "... to the mailbox inside the brackets"
is "$(jget "$T/out.ndjson" 13 smtp.ooto.status)" sent "legitimate OOTO sent"

wait_for test "$(ls "$T/srv"/*.json 2>/dev/null | wc -l)" -ge 4
is "$(ls "$T/srv"/*.json | wc -l)" 4 "the server received exactly the four legitimate reports"
is "$(python3 -c '
import json, sys
print(" ".join(sorted(r for f in sys.argv[1:] for r in json.load(open(f))["rcpts"])))' "$T/srv"/*.json)" \
    "<bounces-g3@tenant.test> <bounces@sender.test> <bounces@sender.test> <fbl@acme.mail.e.sparkpost.com>" \
    "RCPTs: the legitimate Return-Paths and FBL address only"
grep -l 'victim\|fakee' "$T/srv"/*.eml "$T/srv"/*.json > /dev/null 2>&1
ok $((!$?)) "no victim address and no fakee destination reached the server"

"$BS_BIN/report" -c "$T/c.ini" --once < "$T/out.ndjson" > "$T/once.json" 2> "$T/report.err"
ok $? "report --once exits 0"
is "$(grep -c ",!OOB not sent, Return-Path $MULTI invalid$" "$T/c.log")" 1 "report logs !OOB not sent, Return-Path ... invalid"
is "$(grep -c ',!FBL not sent, Return-Path not recognized as SparkPost$' "$T/c.log")" 2 "report logs the fake suffix as not SparkPost"

# ---- Postfix smtp-sink ----------------------------------------------------------------
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
if [ -x "$SINK" ]; then
    user=(); [ "$(id -u)" = 0 ] && user=(-u root)
    port=$(free_port)
    mkdir -p "$T/dump"
    bg "$SINK" "${user[@]}" -d "$T/dump/m." "127.0.0.1:$port" 100
    wait_port "$port" || fail "smtp-sink listening"
    conf "$T/s.ini" "$port"
    records | "$BS_BIN/act-smtp" -c "$T/s.ini" > "$T/s.ndjson" 2> "$T/s.err"
    ok $? "act-smtp (smtp-sink) exits 0"
    is "$(grep -c '"status": *"sent"' "$T/s.ndjson")" 4 "smtp-sink: 4 sent"
    wait_for test "$(ls "$T/dump" | wc -l)" -ge 4
    is "$(ls "$T/dump" | wc -l)" 4 "smtp-sink dumped exactly 4 messages"
    is "$(grep -h '^X-Rcpt-Args:' "$T/dump"/* | sort | tr '\n' ' ')" \
        "X-Rcpt-Args: <bounces-g3@tenant.test> X-Rcpt-Args: <bounces@sender.test> X-Rcpt-Args: <bounces@sender.test> X-Rcpt-Args: <fbl@acme.mail.e.sparkpost.com> " \
        "smtp-sink: RCPTs are the legitimate ones only"
else
    fail "smtp-sink installed (postfix)"
fi

# ---- real lookups: the invalid Return-Path is never looked up --------------------------
if command -v dnsmasq > /dev/null; then
    DNS_PORT=$(free_port)
    bg dnsmasq -C /dev/null --no-resolv --no-hosts --keep-in-foreground --port="$DNS_PORT" \
        --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root --group=root \
        --log-queries --log-facility="$T/dns.log" --local=/test/ \
        --mx-host=evil-rp.test,smtp.sparkpostmail.com,10 \
        --mx-host=sender.test,smtp.sparkpostmail.com,10 \
        --mx-host=fake.test,fakee.sparkpost.com,10 \
        --mx-host=tenant.test,acme.e.sparkpost.com,10
    wait_port "$DNS_PORT" || fail "dnsmasq listening"
    cat > "$T/d.ini" <<EOF
[Smtp]
Relay = 127.0.0.1:$SMTP_PORT
Resolver = 127.0.0.1:$DNS_PORT
Timeout = 2
Retry_Max_Seconds = 0
[Listen]
Hostname = sink.example
[RP_MX_domain_allowlist]
smtp.sparkpostmail.com = fbl@sparkpostmail.com
EOF
    rm -f "$T/srv"/*
    {
        mkrec d1 oob mail_from='victim@other.test@evil-rp.test'
        mkrec d2 fbl mail_from='"victim@other.test"@evil-rp.test'
        mkrec d3 fbl mail_from=b@fake.test
        mkrec d4 oob mail_from=bounces@sender.test
        mkrec d5 fbl mail_from=b@tenant.test
    } | "$BS_BIN/act-smtp" -c "$T/d.ini" > "$T/d.ndjson" 2> "$T/d.err"
    ok $? "act-smtp (dnsmasq) exits 0"
    is "$(jget "$T/d.ndjson" 1 smtp.oob.status)" invalid_return_path "DNS: multi-@ Return-Path invalid"
    is "$(jget "$T/d.ndjson" 2 smtp.fbl.status)" invalid_return_path "DNS: quoted Return-Path invalid"
    is "$(jget "$T/d.ndjson" 3 smtp.fbl.status)" return_path_not_sparkpost "DNS: MX fakee.sparkpost.com refused"
    is "$(jget "$T/d.ndjson" 4 smtp.oob.status)" sent "DNS: legitimate OOB sent"
    is "$(jget "$T/d.ndjson" 5 smtp.fbl.status)" sent "DNS: legitimate FBL via acme.e.sparkpost.com sent"
    grep -q 'query\[MX\] sender.test' "$T/dns.log"
    ok $? "DNS: the legitimate Return-Path domain was looked up"
    grep -qi 'evil-rp' "$T/dns.log"
    ok $((!$?)) "DNS: the invalid Return-Paths' domain was never looked up"
    wait_for test "$(ls "$T/srv"/*.json 2>/dev/null | wc -l)" -ge 2
    is "$(ls "$T/srv"/*.json | wc -l)" 2 "DNS: exactly the two legitimate reports delivered"
else
    fail "dnsmasq installed (dnsmasq-base)"
fi

# ---- the allow-list itself: keys are host names, values one mailbox --------------------
printf '[RP_MX_domain_allowlist]\nsmtp.sparkpostmail.com = victim@other.test@sparkpostmail.com\n' > "$T/bad1.ini"
"$BS_BIN/act-smtp" -c "$T/bad1.ini" < /dev/null > /dev/null 2> "$T/bad1.err"
is "$?" 78 "an allow-list value with two @ is a configuration error (78)"
like "$(cat "$T/bad1.err")" "bad1.ini:2: .*is not one address" "... naming FILE:LINE"
printf '[RP_MX_domain_allowlist]\nsmtp sparkpostmail.com = fbl@sparkpostmail.com\n' > "$T/bad2.ini"
"$BS_BIN/act-smtp" -c "$T/bad2.ini" < /dev/null > /dev/null 2> "$T/bad2.err"
is "$?" 78 "an allow-list key that is not a host name is a configuration error (78)"
like "$(cat "$T/bad2.err")" "bad2.ini:2: .*is not a host name" "... naming FILE:LINE"
done_testing
