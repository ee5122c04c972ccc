#!/usr/bin/env bash
# DKIM end to end through bin/ingest on a gen-corpus corpus (key file): every
# spool file and every message of the same corpus as an mbox stream verifies (pass),
# URLs and recipients match gen-corpus's manifest; a tampered body, a tampered
# signed header and a wrong key give fail; unsigned messages give none.
# shellcheck disable=SC2010,SC2012 # listing our own generated file names
. "$(dirname "$0")/../lib.sh"

[ -x "$BS_BIN/ingest" ]; ok $? "ingest exists"
date=2026-11-20T10:00:00Z
"$BS_BIN/gen-corpus" -n 50 --seed 52 --date $date -o "$T/spool" --manifest "$T/manifest" \
    --tracking-base http://127.0.0.1:9
ok $? "gen-corpus: 50 spool files"
"$BS_BIN/gen-corpus" -n 50 --seed 52 --date $date -f mbox --key "$T/spool/dkim.key" \
    --key-file "$T/k2.txt" --tracking-base http://127.0.0.1:9 > "$T/corpus.mbox"
ok $? "gen-corpus: the same corpus as mbox (same seed, date and key)"
cmp -s "$T/spool/dkim-keys.txt" "$T/k2.txt"; ok $? "reused key: same key file"

printf '[Verify]\nDKIM_Key_File = %s\nSPF = off\n' "$T/spool/dkim-keys.txt" > "$T/sink.ini"
"$BS_BIN/ingest" -c "$T/sink.ini" "$T/spool" > "$T/dir.rec" 2> "$T/dir.err"
ok $? "ingest the directory"
"$BS_BIN/ingest" -c "$T/sink.ini" - < "$T/corpus.mbox" > "$T/mbox.rec" 2> "$T/mbox.err"
ok $? "ingest the mbox stream"

summary() { # summary RECORDS: "<n> <n pass> <n matching the manifest>"
    python3 - "$1" "$T/manifest" <<'PY'
import json, sys
man = {}
for line in open(sys.argv[2]):
    d = json.loads(line)
    man[d["rcpt"]] = d
n = passed = same = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") != "message":
        continue
    n += 1
    passed += r.get("dkim", {}).get("result") == "pass"
    m = man.get(r.get("envelope", {}).get("rcpt"))
    u = r.get("urls", {})
    same += bool(m) and u.get("open") == m["open"] and u.get("click") == m["click"]
print(n, passed, same)
PY
}
is "$(summary "$T/dir.rec")" "50 50 50" "directory: 50 records, 50 DKIM pass, URLs as in the manifest"
is "$(summary "$T/mbox.rec")" "50 50 50" "mbox: 50 records, 50 DKIM pass, URLs as in the manifest"
"$BS_BIN/ingest" -c "$T/sink.ini" -j 2 "$T/spool" > "$T/j2.rec" 2> "$T/j2.err"
is "$(summary "$T/j2.rec")" "50 50 50" "two threads (one verifier each): 50 DKIM pass"

dkim_of() { "$BS_BIN/ingest" -c "$T/sink.ini" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dkim"]["result"])'; }
one=$(ls "$T"/spool/*.msg | head -n 1)
mkdir "$T/bad"
sed '0,/^--/s//-X-/' "$one" > "$T/bad/body.msg"
cmp -s "$one" "$T/bad/body.msg"; ok $((! $?)) "body tampered (first boundary line changed)"
is "$(dkim_of "$T/bad/body.msg")" fail "tampered body: fail"
sed 's/^Subject: ./Subject: Z/' "$one" > "$T/bad/subject.msg"
is "$(dkim_of "$T/bad/subject.msg")" fail "tampered signed header (Subject): fail"

"$BS_BIN/gen-corpus" -n 1 --seed 53 -o "$T/other" > /dev/null
printf '[Verify]\nDKIM_Key_File = %s\nSPF = off\n' "$T/other/dkim-keys.txt" > "$T/wrong.ini"
got=$("$BS_BIN/ingest" -c "$T/wrong.ini" "$one" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dkim"]["result"])')
is "$got" fail "wrong key: fail"

"$BS_BIN/gen-corpus" -n 3 --seed 54 --no-sign -o "$T/unsigned"
n=$("$BS_BIN/ingest" -c "$T/sink.ini" "$T/unsigned" | grep -c '"dkim":{"result":"none"')
is "$n" 3 "unsigned messages: none"
# listen's own verdicts (its Authentication-Results field above its Received field, our
# Hostname) are taken, not verified again: with no key at all the spool files still
# pass, and with the key the records are those of a verification (but listen_auth).
mkdir "$T/ar" "$T/forged"
for f in "$T"/spool/*.msg; do
    { printf 'Authentication-Results: sink.test;\r\n\tdkim=pass header.d=sender.test header.s=s1\r\n'
      cat "$f"; } > "$T/ar/${f##*/}"
    # the same field from a sender: below the topmost Received field
    awk 'done || !/^Received:/ { print; next }
         { print; printf "Authentication-Results: sink.test; dkim=pass header.d=sender.test header.s=s1\n"; done = 1 }' \
        "$f" > "$T/forged/${f##*/}"
done
: > "$T/no-keys.txt"
printf '[Listen]\nHostname = sink.test\n[Verify]\nDKIM_Key_File = %s\nSPF = off\n' "$T/no-keys.txt" > "$T/nokey.ini"
printf '[Listen]\nHostname = sink.test\n[Verify]\nDKIM_Key_File = %s\nSPF = off\n' "$T/spool/dkim-keys.txt" > "$T/key.ini"
is "$("$BS_BIN/ingest" -c "$T/nokey.ini" "$T/ar" | grep -c '"dkim":{"result":"pass"')" 50 \
    "listen's dkim=pass taken: 50 pass without any key (no second verification)"
is "$("$BS_BIN/ingest" -c "$T/nokey.ini" "$T/spool" | grep -c '"dkim":{"result":"permerror"')" 50 \
    "without listen's field and without a key: 50 permerror (verified)"
is "$("$BS_BIN/ingest" -c "$T/nokey.ini" "$T/forged" | grep -c '"dkim":{"result":"permerror"')" 50 \
    "a sender's field below Received: verified (50 permerror)"
"$BS_BIN/ingest" -c "$T/key.ini" "$T/ar" > "$T/ar.rec" 2>&1
"$BS_BIN/ingest" -c "$T/key.ini" "$T/spool" > "$T/spool.rec" 2>&1
same=$(python3 - "$T/ar.rec" "$T/spool.rec" <<'PY'
import json, sys
def load(p):
    out = {}
    for line in open(p):
        r = json.loads(line)
        out[r["id"]] = (r["dkim"], r["headers"], r["urls"], r.get("listen_auth") is not None)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
print(len(a), sum(a[k][:3] == b[k][:3] for k in a if k in b), sum(a[k][3] for k in a))
PY
)
is "$same" "50 50 50" "with the key: dkim, headers and URLs as verified, listen_auth recorded"
done_testing
