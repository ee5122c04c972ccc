#!/usr/bin/env bash
# ingest: bad input gives error records and stderr lines, never a crash or a stop.
. "$(dirname "$0")/../lib.sh"
printf '[Verify]\nSPF = off\n[Ingest]\nMax_Message_Size = 12M\n' > "$T/sink.ini"
run() { "$BS_BIN/ingest" -c "$T/sink.ini" "$@"; }
B=$T/bad
mkdir "$B"
: > "$B/01-empty.msg"
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe' > "$B/02-binary.msg"
printf 'hello world, this is not a header\n\nbody\n' > "$B/03-noheader.msg"
{ printf 'From: a@sender.test\n'; for i in $(seq 1 200000); do printf 'X-Filler-%06d: %s\n' "$i" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done; printf '\nbody\n'; } > "$B/04-bigheader.msg"
{ printf 'Subject: '; head -c 3000000 /dev/zero | tr '\0' a; printf '\n\nbody\n'; } > "$B/05-longline.msg"
printf 'From: a@sender.test\nContent-Type: multipart/alternative; boundary="b"\n\n--b\nContent-Type: text/html\n\n<a href="http://t.test/cut">x</a>\n' > "$B/06-truncated.msg"
printf 'From: a@sender.test\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/html\n\n<a href="http://t.test/">x</a>\n--x--\n' > "$B/07-noboundary.msg"
printf 'From: J\xf6rg <a@sender.test>\nSubject: caf\xe9\n\nbody\n' > "$B/08-latin1-header.msg"
printf 'From: a@sender.test\nX-Bin: a\x00b\n\nbody\n' > "$B/09-nul.msg"
printf 'From: a@sender.test\nSubject: cut in the hea' > "$B/10-cut-header.msg"
printf 'From: a@sender.test\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n!!!not base64 at all\x80\xff\n' > "$B/11-badb64.msg"
cp "$REF/sparkpost-sample.msg" "$B/12-good.msg"
{ printf 'From: a@sender.test\n\n'; head -c 13000000 /dev/zero | tr '\0' '\n'; } > "$B/13-huge.msg"

run "$B" > "$T/out.json" 2> "$T/err"
is "$?" 0 "bad messages are data: exit 0"
is "$(wc -l < "$T/out.json")" 13 "one record per input, none dropped"
is "$(jq -s 'map(select(.error)) | length' "$T/out.json")" 10 "ten error records"
is "$(grep -c 'ingest: error: bad message' "$T/err")" 10 "ten stderr lines"
err_of() { jq -r "select(.source.name | endswith(\"/$1\")) | .error // \"none\"" "$T/out.json"; }
like "$(err_of 01-empty.msg)" 'empty message' "empty file"
like "$(err_of 02-binary.msg)" 'no header section|binary' "binary file"
like "$(err_of 03-noheader.msg)" 'no header section' "no header"
like "$(err_of 04-bigheader.msg)" 'header section longer than 1048576 bytes' "10 MB header"
like "$(err_of 05-longline.msg)" 'header section longer than' "3 MB header line"
like "$(err_of 06-truncated.msg)" 'truncated' "multipart not closed"
like "$(err_of 07-noboundary.msg)" 'broken MIME' "multipart without boundary"
# 8-bit header text is sloppy but readable: no error (the plan is made), header_block_b64.
is "$(err_of 08-latin1-header.msg)" none "invalid UTF-8 in the header: no error"
like "$(err_of 09-nul.msg)" 'binary data' "NUL in the header"
like "$(err_of 10-cut-header.msg)" 'truncated' "ends inside the header"
# Characters outside the base64 alphabet are skipped, as RFC 2045 says: not an error.
is "$(err_of 11-badb64.msg)" none "garbage in base64 is skipped"
is "$(err_of 12-good.msg)" none "the good message after the bad ones is fine"
like "$(err_of 13-huge.msg)" 'larger than 12582912 bytes' "over Max_Message_Size"
is "$(jq -r 'select(.source.name | endswith("/13-huge.msg")) | .size' "$T/out.json")" "$(stat -c %s "$B/13-huge.msg")" "oversized message: real size"
like "$(grep '03-noheader' "$T/err")" "^ingest: error: bad message \($B/03-noheader.msg\): " "stderr names the input"
is "$(jq -r 'select(.source.name | endswith("/08-latin1-header.msg")) | .headers.subject' "$T/out.json")" "café" "8-bit header still decoded (as Latin-1)"
jq -r 'select(.source.name | endswith("/08-latin1-header.msg")) | .header_block_b64' "$T/out.json" | base64 -d > "$T/hb8"
printf 'From: J\xf6rg <a@sender.test>\nSubject: caf\xe9\n' | cmp -s - "$T/hb8"; ok $? "8-bit header block kept byte for byte (base64)"
is "$(jq -c 'select(.source.name | endswith("/06-truncated.msg")) | .urls.click' "$T/out.json")" '["http://t.test/cut"]' "truncated message: what could be read is there"

# The same bad messages in one mbox stream: the stream goes on.
for f in "$B"/0[1-9]*.msg "$B/12-good.msg"; do printf 'From x Tue Nov 24 20:00:00 2026\n'; cat "$f"; printf '\n\n'; done > "$T/bad.mbox"
run < "$T/bad.mbox" > "$T/mbox.json" 2>/dev/null
is "$?" 0 "bad mbox: exit 0"
is "$(jq -r .source.index "$T/mbox.json" | tail -1)" 10 "all ten mbox messages read"
is "$(jq -r 'select(.source.index == 10) | .error // "none"' "$T/mbox.json")" none "last (good) mbox message fine"

# Random garbage never crashes it.
for i in 1 2 3 4 5; do head -c $((i * 7919)) /dev/urandom > "$T/rand$i.msg"; done
run "$T"/rand*.msg > "$T/rand.json" 2>/dev/null
is "$?" 0 "random bytes: exit 0"
is "$(jq -s length "$T/rand.json")" 5 "random bytes: five records"
done_testing
