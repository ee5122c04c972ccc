#!/usr/bin/env bash
# gen-corpus output: spool/eml/mbox formats, determinism, line ends, streams and
# their weights, Signals local parts, manifest, encodings, ESP header fields.
# shellcheck disable=SC2010,SC2012 # listing our own generated file names
. "$(dirname "$0")/../lib.sh"
G=$BS_BIN/gen-corpus
date=2026-11-20T10:00:00Z

"$G" -n 30 --seed 7 --date $date -o "$T/a" --tracking-base http://127.0.0.1:8080/ --manifest "$T/a.man"
ok $? "30 spool messages"
is "$(ls "$T/a" | grep -cE '^[0-9a-f]{16}\.msg$')" 30 "30 files named <16 hex>.msg"
is "$(ls -A "$T/a" | grep -vcE '^[0-9a-f]{16}\.msg$')" 2 "plus dkim.key and dkim-keys.txt only (no temporary files)"
"$G" -n 30 --seed 7 --date $date -o "$T/b" --key "$T/a/dkim.key" --tracking-base http://127.0.0.1:8080
diff -r -x dkim.key -x dkim-keys.txt "$T/a" "$T/b" > /dev/null
ok $? "same seed, date and key: identical files"
"$G" -n 30 --seed 8 --date $date -o "$T/c" --key "$T/a/dkim.key" --tracking-base http://127.0.0.1:8080
[ "$(ls "$T/a" | head -n 3)" != "$(ls "$T/c" | head -n 3)" ]; ok $? "another seed: other messages"
"$G" -n 5 --seed 7 --date $date -o "$T/five" --key "$T/a/dkim.key" --tracking-base http://127.0.0.1:8080
n=0; for f in "$T"/five/*.msg; do cmp -s "$f" "$T/a/$(basename "$f")" && n=$((n + 1)); done
is "$n" 5 "a prefix of the count gives the same first messages"

f=$(ls "$T"/a/*.msg | head -n 1)
grep -q $'\r' "$f"; ok $((! $?)) "spool files have LF line ends by default"
grep -q '^X-MSFBL: [A-Za-z0-9+/=]*|' "$f"; ok $? "X-MSFBL"
grep -q '^List-Unsubscribe: <mailto:unsubscribe@sender\.test?subject=unsubscribe:' "$f"; ok $? "List-Unsubscribe mailto"
grep -q '^ <http://127\.0\.0\.1:8080/u/[A-Za-z0-9_-]*>$' "$f"; ok $? "List-Unsubscribe URL under the tracking base (trailing / dropped)"
grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click$' "$f"; ok $? "List-Unsubscribe-Post"
grep -q '^Content-Type: multipart/alternative; boundary=' "$f"; ok $? "multipart/alternative"
grep -qE '^Message-ID: <[0-9a-f]{16}\.[0-9a-f]{8}@sender\.test>$' "$f"; ok $? "Message-ID"
grep -q '^Date: Fri, 20 Nov 2026 10:' "$f"; ok $? "Date from --date"

is "$(wc -l < "$T/a.man")" 30 "manifest: one line per message"
python3 - "$T/a.man" > "$T/man.out" <<'PY'
import json, sys
n = pix = trk = other = 0
encs = set()
for line in open(sys.argv[1]):
    d = json.loads(line)
    n += 1
    pix += any(u.startswith("http://127.0.0.1:8080/q/") for u in d["open"])
    trk += any(u.startswith("http://127.0.0.1:8080/f/a/") for u in d["click"])
    other += any(not u.startswith("http://127.0.0.1:8080/") for u in d["open"] + d["click"])
    encs.add(d["html_cte"])
print(n, pix, trk, other, " ".join(sorted(encs)))
PY
is "$(cat "$T/man.out")" "30 30 30 30 8bit base64 quoted-printable" \
    "every message: a pixel, a tracked link, non-tracking URLs; all HTML encodings occur"
grep -q '"file":"[^"]*/[0-9a-f]\{16\}\.msg"' "$T/a.man"; ok $? "manifest names the files"

"$G" -n 10 --seed 7 --date $date -f eml --crlf -o "$T/eml" --key "$T/a/dkim.key"
is "$(ls "$T/eml" | grep -c '\.eml$')" 10 "eml: 10 files"
g=$(ls "$T"/eml/*.eml | head -n 1)
head -n 1 "$g" | grep -q '^DKIM-Signature:'; ok $? "eml: no trace header, signature first"
is "$(grep -c $'\r$' "$g")" "$(wc -l < "$g")" "--crlf: every line ends with CRLF"

"$G" -n 12 --seed 7 --date $date -f mbox --key "$T/a/dkim.key" > "$T/m.mbox"
ok $? "mbox on stdout"
is "$(grep -c '^From bounces@sender\.test ' "$T/m.mbox")" 12 "mbox: 12 From_ lines"
is "$(grep -c '^Return-Path: ' "$T/m.mbox")" 12 "mbox keeps the trace headers"
"$G" -n 3 --seed 7 --date $date -f mbox -o "$T/m2.mbox" --key "$T/a/dkim.key"
ok $? "mbox to a file with -o"
is "$(grep -c '^From ' "$T/m2.mbox")" 3 "mbox file: 3 messages"

"$G" -n 1000 --seed 3 --no-sign -o "$T/w" --manifest "$T/w.man" --sink-domain sink.test
python3 - "$T/w.man" > "$T/w.out" <<'PY'
import collections, json, sys
c = collections.Counter(json.loads(l)["stream"] for l in open(sys.argv[1]))
ok = all(abs(c[s] - 1000 * w) < 1000 * w * 0.4 + 10
         for s, w in {"accept": .1, "oob": .05, "fbl": .05, "openclick": .3, "mixed": .5}.items())
print("ok" if ok and sum(c.values()) == 1000 else c)
PY
is "$(cat "$T/w.out")" ok "default weights: accept 10, oob 5, fbl 5, openclick 30, mixed 50 (roughly)"
bad=$(python3 -c '
import json, re, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    s, r = d["stream"], d["rcpt"]
    ok = re.search(r"@(not-[a-z]+\.com\.)?sink\.test$", r) if s == "mixed" else r.endswith("@%s.sink.test" % s)
    if not ok: print(s, r)' "$T/w.man" | head -n 3)
is "$bad" "" "recipients: <stream>.<sink domain>, mixed directly under it"

"$G" -n 20 --seed 3 --no-sign -o "$T/s" --streams unsub=1,accept=1 --signals-prefix test \
    --signals-percent 100 --manifest "$T/s.man"
is "$(grep -cE '"rcpt":"test\+[0-9]{20}@(unsub|accept)\.bouncy-sink\.test"' "$T/s.man")" 20 \
    "Signals prefix: test+<20 digits>, other stream names become labels"
grep -q '^DKIM-Signature' "$T"/s/*.msg; ok $((! $?)) "--no-sign: no signature"
[ ! -e "$T/s/dkim.key" ]; ok $? "--no-sign: no key written"
done_testing
