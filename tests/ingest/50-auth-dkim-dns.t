#!/usr/bin/env bash
# DKIM keys from real DNS: in a private network and mount namespace, dnsmasq on
# 127.0.0.1:53 serves the TXT record gen-corpus wrote (--dnsmasq), /etc/resolv.conf
# is bind-mounted to name it, and the auth probe (the auth_test unit binary in
# --probe mode, linking src/global/auth.c) verifies generated messages.
# Checks: pass; no key record -> permerror; revoked key (p=) -> fail;
# SERVFAIL for the key -> temperror; bin/ingest asks DNS once for three messages.
# Needs root (or user namespaces): without them the test fails, it does not skip.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/ingest/5x-dns-ns.sh
. "$(dirname "$0")/5x-dns-ns.sh"

PROBE=${BS_UNIT:-$ROOT/build/release/tests}/global/auth_test
[ -x "$PROBE" ]; ok $? "auth probe binary exists ($PROBE)"
[ -x "$BS_BIN/gen-corpus" ]; ok $? "gen-corpus exists"

# Keys: a corpus signed by sender.test/s1 (in DNS), one by s1 of nokey.test (no
# record), one by sender.test/revoked (p= empty), one by tempfail.test (SERVFAIL).
"$BS_BIN/gen-corpus" -n 3 --seed 21 -o "$T/c" --dnsmasq "$T/keys.conf"
ok $? "corpus signed, dnsmasq key record written"
"$BS_BIN/gen-corpus" -n 1 --seed 22 -o "$T/nokey" --domain nokey.test
"$BS_BIN/gen-corpus" -n 1 --seed 23 -o "$T/revoked" --selector revoked
"$BS_BIN/gen-corpus" -n 1 --seed 24 -o "$T/temp" --domain tempfail.test
like "$(cat "$T/keys.conf")" '^txt-record=s1\._domainkey\.sender\.test,"v=DKIM1; k=rsa; p=' \
    "dnsmasq line names s1._domainkey.sender.test"

cat "$T/keys.conf" > "$T/zone.conf"
echo 'txt-record=revoked._domainkey.sender.test,"v=DKIM1; k=rsa; p="' >> "$T/zone.conf"
dns_start "$T/zone.conf"
ok $? "dnsmasq answers on 127.0.0.1:53 in the namespace"

printf '[Verify]\nSPF = off\n' > "$T/sink.ini"
probe() { "$PROBE" --probe -c "$T/sink.ini" "$1" 192.0.2.10 mta1.sender.test bounces@sender.test; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["dkim"][sys.argv[1]])' "$1"; }

n=0
for f in "$T"/c/*.msg; do
    out=$(probe "$f")
    if [ "$(field result <<<"$out")" = pass ]; then n=$((n + 1)); else diag "$out"; fi
done
is "$n" 3 "three messages verify with the key from DNS (pass)"

out=$(probe "$(ls "$T"/nokey/*.msg)")
is "$(field result <<<"$out")" permerror "no key record in DNS: permerror"
diag "$out"
out=$(probe "$(ls "$T"/revoked/*.msg)")
is "$(field result <<<"$out")" fail "revoked key (empty p=): fail"
diag "$out"
start=$SECONDS
out=$(probe "$(ls "$T"/temp/*.msg)")
is "$(field result <<<"$out")" temperror "SERVFAIL on the key query: temperror"
diag "$out"
[ $((SECONDS - start)) -lt 20 ]; ok $? "the SERVFAIL case does not hang"
# bin/ingest: one verifier per thread caches the key record for its TTL.
if [ -x "$BS_BIN/ingest" ]; then
    before=$(grep -c 'query\[TXT\] s1\._domainkey\.sender\.test' "$T/dnsmasq.log")
    n=$("$BS_BIN/ingest" -c "$T/sink.ini" -j 1 "$T/c" | grep -c '"dkim":{"result":"pass"')
    is "$n" 3 "ingest: three messages pass with the key from DNS"
    after=$(grep -c 'query\[TXT\] s1\._domainkey\.sender\.test' "$T/dnsmasq.log")
    is "$((after - before))" 1 "ingest asked DNS for the key once for three messages (cache)"
else
    fail "bin/ingest exists"
fi
[ -s "$T/servfail.log" ]; ok $? "the SERVFAIL responder was asked (dnsmasq forwarded tempfail.test)"

done_testing
