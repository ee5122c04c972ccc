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
done_testing
