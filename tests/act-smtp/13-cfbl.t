#!/usr/bin/env bash
# RFC 9477 complaint feedback loop, end to end with real DNS in a private namespace:
# gen-corpus signs fbl-stream messages (d=sender.test) carrying CFBL-Address and
# CFBL-Feedback-ID, dnsmasq serves the DKIM key and the MX records, ingest verifies the
# signatures and checks the alignment (record field cfbl), decide plans the complaint, and
# act-smtp sends it to the CFBL-Address at its MX when that MX passes the allow-list guard,
# else by the Return-Path mapping as before. The reports are parsed with Python's email.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"
# shellcheck source=tests/ingest/5x-dns-ns.sh
. "$ROOT/tests/ingest/5x-dns-ns.sh"

gen() { # gen DIR SEED [--header ...]
    local dir=$1 seed=$2
    shift 2
    "$BS_BIN/gen-corpus" -n 1 --seed "$seed" -o "$T/$dir" --streams fbl=1 --key "$T/key.pem" \
        --dnsmasq "$T/keys.conf" "$@"
}
"$BS_BIN/gen-corpus" -n 1 --seed 1 -o "$T/k" --streams fbl=1 > /dev/null &&
    cp "$T/k/dkim.key" "$T/key.pem"
ok $? "a DKIM key for sender.test"
gen identical 11 --header 'CFBL-Address: fbl@sender.test; report=arf' --header 'CFBL-Feedback-ID: 111:a1'
gen child 12 --header 'CFBL-Address: fbl@cfbl.sender.test' --header 'CFBL-Feedback-ID: 222:b2'
gen third 13 --header 'CFBL-Address: fbl@other.test'
gen unsigned 14 --unsigned-header 'CFBL-Address: fbl@sender.test'
gen guarded 15 --header 'CFBL-Address: fbl@evil.sender.test'
gen plain 16
{
    cat "$T/keys.conf"
    echo "mx-host=sender.test,smtp.sparkpostmail.com,10"
    echo "mx-host=cfbl.sender.test,fbl-mx.sender.test,10"
    echo "mx-host=other.test,smtp.sparkpostmail.com,10"
    echo "mx-host=evil.sender.test,mx.evil.test,10"
} > "$T/zone.conf"
dns_start "$T/zone.conf"
ok $? "dnsmasq answers on 127.0.0.1:53 in the namespace"

start_smtpd "$T/srv"
cat > "$T/c.ini" <<EOF
[Sink]
User_Agents_File = $ROOT/data/reference/user-agents.csv
[Verify]
SPF = off
[Smtp]
Relay = 127.0.0.1:$SMTP_PORT
Resolver = 127.0.0.1:53
Timeout = 5
Retry_Max_Seconds = 0
[Listen]
Hostname = sink.example
InBand_Replies_File = $REF/inband-replies.dat
[RP_MX_domain_allowlist]
smtp.sparkpostmail.com = fbl@sparkpostmail.com
fbl-mx.sender.test = postmaster@sender.test
EOF
for d in identical child third unsigned guarded plain; do
    "$BS_BIN/ingest" -c "$T/c.ini" "$T/$d" | jq -c --arg d "$d" '.id = $d'
done > "$T/ingested.ndjson" 2> "$T/ingest.err"
ok $? "ingest reads the six messages"
cf() { jq -r --arg id "$1" "select(.id == \$id) | $2" "$T/ingested.ndjson"; }
is "$(cf identical .dkim.result)" pass "DKIM key from DNS: pass"
is "$(cf identical '.cfbl | "\(.address) \(.aligned) \(.feedback_id)"')" "fbl@sender.test true 111:a1" \
    "same domain as From, signed by it: aligned, with the feedback id"
is "$(cf child '.cfbl | "\(.address) \(.aligned)"')" "fbl@cfbl.sender.test true" \
    "a subdomain of From, signed by the From domain: aligned"
is "$(cf third '.cfbl | "\(.aligned) \(.reason)"')" \
    "false a third-party CFBL-Address needs covering DKIM signatures of its domain and of the From domain" \
    "a third-party domain with the From domain's signature only: misaligned"
is "$(cf unsigned '.cfbl | "\(.aligned) \(.reason)"')" \
    "false no valid DKIM signature covers CFBL-Address" "a CFBL-Address outside the signature: misaligned"
is "$(cf plain .cfbl)" null "no CFBL-Address: no cfbl field"

"$BS_BIN/decide" -c "$T/c.ini" --seed 1 < "$T/ingested.ndjson" |
    "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/out.ndjson" 2> "$T/act.err"
ok $? "decide | act-smtp"
fbl() { jq -r --arg id "$1" 'select(.id == $id) | .smtp.fbl | "\(.status) \(.to) \(.mx) \(.cfbl // false)"' "$T/out.ndjson"; }
is "$(fbl identical)" "sent fbl@sender.test smtp.sparkpostmail.com true" "aligned: ARF to the CFBL-Address"
is "$(fbl child)" "sent fbl@cfbl.sender.test fbl-mx.sender.test true" \
    "aligned subdomain: ARF to the CFBL-Address at its own (allow-listed) MX"
is "$(fbl third)" "sent fbl@sparkpostmail.com smtp.sparkpostmail.com false" \
    "misaligned: the Return-Path mapping as before"
is "$(fbl unsigned)" "sent fbl@sparkpostmail.com smtp.sparkpostmail.com false" \
    "unsigned CFBL-Address: the Return-Path mapping as before"
is "$(fbl guarded)" "return_path_not_sparkpost null mx.evil.test false" \
    "aligned, but its MX is not allow-listed: nothing sent (backscatter guard)"
is "$(jq -r 'select(.id == "guarded") | .smtp.fbl.error' "$T/out.ndjson")" \
    "!FBL not sent, CFBL-Address fbl@evil.sender.test: MX not recognized as SparkPost" "guard: the log text"
is "$(ls "$T/srv"/*.eml | wc -l)" 5 "five reports reached the server"

python3 - "$T/srv" > "$T/check" 2>&1 <<'PY'
import email, email.policy, glob, json, sys
for eml in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    env = json.load(open(eml[:-4] + ".json"))
    m = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
    parts = list(m.iter_parts())
    fr = parts[1].get_payload()[0]
    orig = parts[2].get_content()
    fid = [l.split(":", 1)[1].strip() for l in orig.splitlines() if l.lower().startswith("cfbl-feedback-id:")]
    print(env["rcpts"][0].strip("<>"), m.get_param("report-type"), fr["Feedback-Type"], fid[0] if fid else "-")
PY
ok $? "the reports parse with Python's email package"
c=$(cat "$T/check")
like "$c" "fbl@sender.test feedback-report abuse 111:a1" "ARF to fbl@sender.test carries CFBL-Feedback-ID 111:a1"
like "$c" "fbl@cfbl.sender.test feedback-report abuse 222:b2" "ARF to fbl@cfbl.sender.test carries 222:b2"
is "$(grep -c '^fbl@sparkpostmail.com feedback-report abuse' <<< "$c")" 3 \
    "three ARFs by the Return-Path mapping"
printf '[Sink]\nLogfile = %s/r.log\n' "$T" > "$T/r.ini"
"$BS_BIN/report" -c "$T/r.ini" --once < "$T/out.ndjson" > "$T/once.json" 2> /dev/null
is "$(jq '"\(.fbl_cfbl) \(.fbl_sent)"' -r "$T/once.json")" "2 5" "/json: fbl_cfbl of fbl_sent"
like "$(cat "$T/r.log")" "FBL sent,to fbl@cfbl.sender.test via fbl-mx.sender.test" "log: the CFBL destination"
done_testing
