#!/usr/bin/env bash
# act-smtp: command line, configuration errors, the production configuration, plain
# pass-through without any SMTP work.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"
A=$BS_BIN/act-smtp

"$A" -x < /dev/null > /dev/null 2> "$T/err"; is $? 64 "unknown option: exit 64"
like "$(cat "$T/err")" "^usage: act-smtp" "unknown option: usage on stderr"
"$A" extra < /dev/null > /dev/null 2>&1; is $? 64 "stray argument: exit 64"
"$A" -h > "$T/out" 2>&1; is $? 0 "-h: exit 0"
like "$(cat "$T/out")" "usage: act-smtp .*--dry-run" "-h prints usage"
"$A" -c "$T/missing.ini" < /dev/null > /dev/null 2> "$T/err"; is $? 78 "missing config file: exit 78"

bad() { # bad DESC INI-TEXT EXPECTED-STDERR-ERE
    printf '%b' "$2" > "$T/bad.ini"
    "$A" -c "$T/bad.ini" < /dev/null > /dev/null 2> "$T/err"
    is $? 78 "$1: exit 78"
    like "$(cat "$T/err")" "$3" "$1: message names file, line, key"
}
bad "Relay without port" "[Smtp]\nRelay = localhost\n" "bad.ini:2: \[Smtp\] Relay: "
bad "Timeout not a number" "[Smtp]\n\nTimeout = soon\n" "bad.ini:3: \[Smtp\] Timeout: "
bad "Port out of range" "[Smtp]\nPort = 70000\n" "bad.ini:2: \[Smtp\] Port: "
bad "Max_In_Flight zero" "[Smtp]\nMax_In_Flight = 0\n" "bad.ini:2: \[Smtp\] Max_In_Flight: "
bad "TLS_Verify not a boolean" "[smtp]\ntls_verify = maybe\n" "bad.ini:2: \[smtp\] tls_verify: .maybe."
bad "MX_Override item without =" "[Smtp]\nMX_Override = a.test=mx.a.test, b.test\n" "bad.ini:2: \[Smtp\] MX_Override: .*b.test"
bad "From not an address" "[Smtp]\nFrom = postmaster\n" "bad.ini:2: \[Smtp\] From: "
bad "Resolver not IPv4" "[Smtp]\nResolver = ns.example:53\n" "bad.ini:2: \[Smtp\] Resolver: "
bad "reply table missing" "[Listen]\nInBand_Replies_File = $T/nope.dat\n" "bad.ini:2: \[Listen\] InBand_Replies_File: .*nope.dat"

# The production configuration loads unchanged; records without SMTP work pass through.
{
    echo '{"v":1,"kind":"params","id":"p","ts":"2026-11-24T20:05:00.000Z"}'
    mkrec a1 open
    echo '{"v":1,"kind":"inband","id":"i","ts":"2026-11-24T20:05:00.000Z","reply":{"code":550}}'
    mkrec a2 "" | sed 's/"plan": {[^}]*}/"plan": {"stream": "fbl", "actions": [], "skip": "!DKIM fail: x"}/'
} > "$T/in.ndjson"
"$A" -c "$REF/consume-mail.ini" < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "production consume-mail.ini loads; exit 0"
is "$(cat "$T/err")" "" "no diagnostics"
python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(a != b)' "$T/in.ndjson" "$T/out.ndjson"
ok $? "records without oob/fbl come out unchanged, in order"
"$A" < /dev/null > "$T/out" 2>&1; ok $? "no -c, empty input: exit 0"
is "$(cat "$T/out")" "" "empty input, empty output"

# A closed stdout is an I/O error (74), not a crash.
mkrec w1 open > "$T/one.json"
for _ in $(seq 1 2000); do cat "$T/one.json"; done > "$T/many.ndjson"
"$A" < "$T/many.ndjson" 2> "$T/err" | head -c 1 > /dev/null
is "${PIPESTATUS[0]}" 74 "stdout closed: exit 74"
done_testing
