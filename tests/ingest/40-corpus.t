#!/usr/bin/env bash
# ingest on a corpus from gen-corpus: DKIM passes with the key file, URLs as the manifest
# says, spool and mbox forms of the same corpus give the same records.
. "$(dirname "$0")/../lib.sh"
G=$BS_BIN/gen-corpus
I=$BS_BIN/ingest
date=2026-11-20T10:00:00Z
"$G" -n 60 --seed 42 --date "$date" -o "$T/spool" --key "$T/dkim.key" --manifest "$T/manifest.json" 2> "$T/gen.err"
ok $? "gen-corpus wrote a spool"
printf '[Verify]\nSPF = off\nDKIM_Key_File = %s\n' "$T/spool/dkim-keys.txt" > "$T/sink.ini"
"$I" -c "$T/sink.ini" "$T/spool" > "$T/spool.json" 2> "$T/err"
ok $? "ingest exits 0"
is "$(wc -l < "$T/spool.json")" 60 "sixty records"
is "$(jq -r .dkim.result "$T/spool.json" | sort | uniq -c | sed 's/^ *//')" "60 pass" "every signature verifies (dkim.result pass)"
is "$(jq -r .dkim.domain "$T/spool.json" | sort -u)" "sender.test" "dkim domain"
is "$(jq -s 'map(select(.error)) | length' "$T/spool.json")" 0 "no error records"
is "$(cat "$T/err")" "" "nothing on stderr"
# URLs: exactly the manifest's expected lists (decoded, in order; traps excluded).
jq -c '{id, open: .urls.open, click: .urls.click}' "$T/spool.json" | sort > "$T/got"
jq -c '{id, open, click}' "$T/manifest.json" | sort > "$T/want"
cmp -s "$T/got" "$T/want"; ok $? "open and click URLs match the manifest for all messages"
[ -s "$T/got" ] && [ "$(jq -s 'map(.open | length) | add' "$T/manifest.json")" -gt 0 ]; ok $? "manifest has URLs to compare"
diff "$T/got" "$T/want" | head -5 | sed 's/^/# /'
jq -c '{id, rcpt, mail_from}' "$T/manifest.json" | sort > "$T/want-env"
jq -c '{id, rcpt: .envelope.rcpt, mail_from: .envelope.mail_from}' "$T/spool.json" | sort > "$T/got-env"
cmp -s "$T/got-env" "$T/want-env"; ok $? "envelope rcpt and mail_from match the manifest"
is "$(jq -r '.envelope.client_ip' "$T/spool.json" | sort -u)" "192.0.2.10" "client ip from the trace header"
# The same corpus as an mbox stream, and with CRLF line ends.
"$G" -n 60 --seed 42 --date "$date" -f mbox --key "$T/dkim.key" 2>/dev/null | "$I" -c "$T/sink.ini" > "$T/mbox.json"
is "$(jq -r .dkim.result "$T/mbox.json" | sort | uniq -c | sed 's/^ *//')" "60 pass" "mbox: every signature verifies"
strip='del(.ts, .source, .settle, .id)'
# (spool files are read in name order, the mbox in generation order)
is "$(jq -c "$strip" "$T/mbox.json" | sort | md5sum)" "$(jq -c "$strip" "$T/spool.json" | sort | md5sum)" "mbox and spool: same records"
"$G" -n 20 --seed 42 --date "$date" --crlf -o "$T/crlf" --key "$T/dkim.key" 2>/dev/null
"$I" -c "$T/sink.ini" "$T/crlf" > "$T/crlf.json"
is "$(jq -r .dkim.result "$T/crlf.json" | sort | uniq -c | sed 's/^ *//')" "20 pass" "CRLF corpus verifies"
jq -c '{id, urls}' "$T/crlf.json" | sort > "$T/crlf-urls"
jq -c '{id, urls}' "$T/spool.json" | sort | grep -F -f <(jq -r '"\"" + .id + "\""' "$T/crlf.json") > "$T/lf-urls"
is "$(wc -l < "$T/lf-urls")" 20 "CRLF corpus: same ids as the first twenty"
cmp -s "$T/crlf-urls" "$T/lf-urls"; ok $? "CRLF: same URLs"
# Several workers: same output.
is "$("$I" -c "$T/sink.ini" -j 3 "$T/spool" | jq -c 'del(.ts)' | md5sum)" "$(jq -c 'del(.ts)' "$T/spool.json" | md5sum)" "-j 3: same records, same order"
# A tampered body fails (the record says so; ingest does not judge).
f=$(ls "$T/spool/"*.msg | head -1)
sed -i 's/^\(<h1>\)/\1X/' "$f"
grep -q '^<h1>X' "$f" || printf 'tampered line\n' >> "$f"
is "$("$I" -c "$T/sink.ini" "$f" | jq -r .dkim.result)" fail "tampered body: dkim fail"
done_testing
