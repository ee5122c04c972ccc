#!/usr/bin/env bash
# SPF with libspf2 against a zone of test records served by dnsmasq in a private
# network namespace (see 50-auth-dkim-dns.t and 5x-dns-ns.sh): pass, fail, softfail,
# neutral, none (no record, NXDOMAIN), temperror (SERVFAIL, directly and through an
# include), permerror (syntax error, two records, include of a domain without SPF),
# the null sender checked as postmaster@HELO, IPv6, a: and mx: mechanisms, SPF = off.
# Client addresses are documentation ranges: libspf2 passes loopback clients.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/ingest/5x-dns-ns.sh
. "$(dirname "$0")/5x-dns-ns.sh"

PROBE=${BS_UNIT:-$ROOT/build/release/tests}/global/auth_test
[ -x "$PROBE" ]; ok $? "auth probe binary exists ($PROBE)"

cat > "$T/zone.conf" <<'Z'
txt-record=pass.test,"v=spf1 ip4:192.0.2.0/24 -all"
txt-record=fail.test,"v=spf1 ip4:198.51.100.0/24 -all"
txt-record=softfail.test,"v=spf1 ip4:198.51.100.0/24 ~all"
txt-record=neutral.test,"v=spf1 ?all"
txt-record=nospf.test,"google-site-verification=abc"
txt-record=syntax.test,"v=spf1 ip4:192.0.2.0/24 frobnicate:x -all"
txt-record=two.test,"v=spf1 -all"
txt-record=two.test,"v=spf1 +all"
txt-record=inc-none.test,"v=spf1 include:nospf.test -all"
txt-record=inc-temp.test,"v=spf1 include:tempfail.test -all"
txt-record=inc-pass.test,"v=spf1 include:pass.test -all"
txt-record=v6.test,"v=spf1 ip6:2001:db8::/32 -all"
txt-record=amech.test,"v=spf1 a:relay.amech.test mx -all"
address=/relay.amech.test/203.0.113.7
mx-host=amech.test,mx.amech.test,10
address=/mx.amech.test/203.0.113.25
Z
dns_start "$T/zone.conf"
ok $? "dnsmasq answers on 127.0.0.1:53 in the namespace"

printf 'From: a@pass.test\nSubject: x\n\nbody\n' > "$T/msg"
printf '[Verify]\nSPF = on\n' > "$T/on.ini"
printf '[Verify]\nSPF = off\n' > "$T/off.ini"
spf() { # spf INI IP HELO MAIL_FROM -> "result domain"
    "$PROBE" --probe -c "$1" "$T/msg" "$2" "$3" "$4" |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["spf"]; print(d["result"], d.get("domain","")); sys.stderr.write("# %s\n" % json.dumps(d))'
}
check() { # check WANT IP MAIL_FROM DESC
    local got
    got=$(spf "$T/on.ini" "$2" mta.example.test "$3" 2>"$T/why")
    is "${got%% *}" "$1" "$4"
    cat "$T/why"
}
check pass 192.0.2.10 bounces@pass.test "ip4 match: pass"
check fail 192.0.2.10 bounces@fail.test "-all: fail"
check softfail 192.0.2.10 bounces@softfail.test "~all: softfail"
check neutral 192.0.2.10 bounces@neutral.test "?all: neutral"
check none 192.0.2.10 bounces@nospf.test "TXT without v=spf1: none"
check none 192.0.2.10 bounces@nx.test "NXDOMAIN: none"
check temperror 192.0.2.10 bounces@tempfail.test "SERVFAIL: temperror"
check temperror 192.0.2.10 bounces@inc-temp.test "include of a SERVFAIL domain: temperror"
[ -s "$T/servfail.log" ]; ok $? "the SERVFAIL responder was asked (dnsmasq forwarded tempfail.test)"
check permerror 192.0.2.10 bounces@syntax.test "unknown mechanism: permerror"
check permerror 192.0.2.10 bounces@two.test "two v=spf1 records: permerror"
check permerror 192.0.2.10 bounces@inc-none.test "include of a domain without SPF: permerror"
check pass 192.0.2.10 bounces@inc-pass.test "include of a passing domain: pass"
check fail 198.51.100.9 bounces@inc-pass.test "include that does not match, -all: fail"
check pass 2001:db8::25 bounces@v6.test "IPv6 client, ip6 match: pass"
check fail 2001:db9::25 bounces@v6.test "IPv6 client outside: fail"
check pass 203.0.113.7 bounces@amech.test "a: mechanism: pass"
check pass 203.0.113.25 bounces@amech.test "mx mechanism: pass"
check fail 203.0.113.8 bounces@amech.test "neither a nor mx: fail"

got=$(spf "$T/on.ini" 192.0.2.10 pass.test "" 2>/dev/null)
is "$got" "pass pass.test" "null sender: checked as postmaster@HELO"
got=$(spf "$T/on.ini" 192.0.2.10 fail.test "" 2>/dev/null)
is "$got" "fail fail.test" "null sender with a failing HELO domain: fail"
got=$(spf "$T/off.ini" 192.0.2.10 mta.example.test bounces@fail.test 2>/dev/null)
is "${got%% *}" off "[Verify] SPF = off: off"
got=$(spf "$T/on.ini" - mta.example.test bounces@pass.test 2>/dev/null)
is "${got%% *}" none "unknown client IP: none"

# End to end: bin/ingest takes client IP, HELO and sender from the spool trace header.
if [ -x "$BS_BIN/ingest" ]; then
    for case in pass fail; do
        "$BS_BIN/gen-corpus" -n 1 --seed 55 --no-sign --mail-from "bounces@$case.test" \
            --client-ip 192.0.2.77 --helo "mta.$case.test" -o "$T/e2e-$case"
        got=$("$BS_BIN/ingest" -c "$T/on.ini" "$T/e2e-$case" |
            python3 -c 'import json,sys; d=json.load(sys.stdin)["spf"]; print(d["result"], d["domain"])')
        is "$got" "$case $case.test" "ingest: sender bounces@$case.test from 192.0.2.77: $case"
    done
else
    fail "bin/ingest exists (needed for the end-to-end SPF checks)"
fi

done_testing
