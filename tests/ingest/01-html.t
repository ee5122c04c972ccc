#!/usr/bin/env bash
# ingest: URLs of the first HTML part after transfer and charset decoding (SPEC A5).
. "$(dirname "$0")/../lib.sh"
D=$ROOT/tests/ingest/data
printf '[Verify]\nSPF = off\n' > "$T/sink.ini"
run() { "$BS_BIN/ingest" -c "$T/sink.ini" "$@"; }

# Quoted-printable HTML: soft line breaks, =3D, entities; comments (incl. mso), script and
# style ignored; the text/plain part and the second HTML part ignored; order and
# duplicates kept; blanks around a URL dropped.
rec=$(run "$D/qp-html.msg")
is "$(jq -c .urls.open <<<"$rec")" '["http://track.test/q/open?a=1&b=2"]' "QP: open URL entity-decoded; comment, mso, script, style ignored"
is "$(jq -c .urls.click <<<"$rec")" '["http://track.test/f/a/long-link-that-is-soft-broken?x=1&y=2\"","http://track.test/f/a/second","http://track.test/f/a/second"]' "QP: click URLs decoded (soft break, &amp; &#50; &quot;), duplicates kept, first HTML part only"
is "$(jq .html <<<"$rec")" true "QP: html true"
is "$(jq -r .headers.subject <<<"$rec")" "Café news" "RFC 2047 subject decoded"
is "$(jq -r '.error // "none"' <<<"$rec")" none "no error on a good message"

# base64 + ISO-8859-1, inside multipart/mixed after an HTML attachment; the document's
# <meta charset="utf-8"> does not override the MIME charset.
rec=$(run "$D/b64-latin1.msg")
is "$(jq -c .urls <<<"$rec")" '{"open":["http://track.test/q/été.png"],"click":["http://track.test/f/café?x=1&y=2"]}' "base64 ISO-8859-1 part converted to UTF-8; attachment skipped"
is "$(jq -r .headers.subject <<<"$rec")" "Jörg's offer" "ISO-8859-1 encoded word decoded"

# A single-part text/html message with windows-1252 and a charset only in <meta>.
printf 'From: a@sender.test\nTo: b@accept.bouncy-sink.test\nContent-Type: text/html; charset=windows-1252\n\n<img src="http://t.test/\x80.gif"><a href="http://t.test/&euro;">x</a>\n' > "$T/cp1252.msg"
is "$(run "$T/cp1252.msg" | jq -c .urls)" '{"open":["http://t.test/€.gif"],"click":["http://t.test/€"]}' "single-part windows-1252 HTML; named entity decoded"
printf 'From: a@sender.test\nTo: b@accept.bouncy-sink.test\nContent-Type: text/html\n\n<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><a href="http://t.test/\x80">x</a></body></html>\n' > "$T/meta.msg"
is "$(run "$T/meta.msg" | jq -c .urls.click)" '["http://t.test/€"]' "no MIME charset: the document's meta charset is used"

# No HTML at all; an HTML part that is an attachment only.
printf 'From: a@sender.test\nTo: b@accept.bouncy-sink.test\nSubject: plain\n\n<a href="http://no.test/">x</a>\n' > "$T/plain.msg"
rec=$(run "$T/plain.msg")
is "$(jq -c '[.html, .urls]' <<<"$rec")" '[false,{"open":[],"click":[]}]' "text/plain only: html false, no URLs"
printf 'From: a@sender.test\nContent-Type: text/html\nContent-Disposition: attachment; filename=x.html\n\n<a href="http://no.test/">x</a>\n' > "$T/att.msg"
is "$(run "$T/att.msg" | jq -c '[.html, .urls.click]')" '[false,[]]' "an HTML attachment is not the HTML body"

# Script/style content that looks like tags, conditional comments, uppercase tags,
# unquoted attributes, <img> without src.
cat > "$T/tricky.msg" <<'MSG'
From: a@sender.test
Content-Type: text/html; charset=utf-8

<HTML><BODY>
<style>/* <a href="http://style.test/"> */</style>
<script type="text/javascript">var s = "<img src='http://script.test/'>";</script>
<!--[if mso]><img src="http://mso.test/a.gif"><![endif]-->
<!--[if !mso]><!--><img src="http://notmso.test/b.gif"><!--<![endif]-->
<IMG SRC=http://track.test/upper.gif><img alt="no src">
<a href='http://track.test/?a=1&amp;amp;b=&lt;2&gt;'>entities</a>
</BODY></HTML>
MSG
is "$(run "$T/tricky.msg" | jq -c .urls)" '{"open":["http://notmso.test/b.gif","http://track.test/upper.gif"],"click":["http://track.test/?a=1&amp;b=<2>"]}' "tricky HTML: only real elements, entities decoded once"
# Charset conversion and Max_Decoded_Size: the limit is on the HTML once in UTF-8 (3,000
# ISO-8859-1 "é" are 6,000 bytes); a part stopped at the limit in the middle of a
# stateful charset (ISO-2022-JP, left in its two-byte mode) does not leak that state
# into the next part in the same charset, read by the same converter.
mkdir "$T/cs"
printf '[Verify]\nSPF = off\n[Ingest]\nMax_Decoded_Size = 4K\n' > "$T/cs.ini"
python3 - "$T/cs" <<'PY'
import sys
d = sys.argv[1]
head = b"From: a@sender.test\nTo: b@accept.bouncy-sink.test\n"
def w(name, charset, body):
    open(f"{d}/{name}.msg", "wb").write(head + b"Content-Type: text/html; charset=" +
        charset + b"\nContent-Transfer-Encoding: 8bit\n\n" + body + b"\n")
w("1-latin1", b"ISO-8859-1", b'<a href="http://t.test/l">x</a><p>' + b"\xe9" * 3000 + b"</p>")
w("2-jis-over", b"ISO-2022-JP", b'<a href="http://t.test/j1">x</a><p>\x1b$B' + b"$3$s$K$A$O" * 400)
w("3-jis", b"ISO-2022-JP", b'<a href="http://t.test/j2">x</a>')
PY
"$BS_BIN/ingest" -c "$T/cs.ini" -j 1 "$T/cs" > "$T/cs.out" 2> /dev/null
is "$(jq -r '[.source.name, (.error // "-"), (.urls.click | join(",") | if . == "" then "-" else . end)] | join(" ")' "$T/cs.out" | sed "s|$T/cs/||")" \
    "1-latin1.msg HTML part larger than 4096 bytes once decoded ([Ingest] Max_Decoded_Size) -
2-jis-over.msg HTML part larger than 4096 bytes once decoded ([Ingest] Max_Decoded_Size) -
3-jis.msg - http://t.test/j2" "charset conversion: limit on the UTF-8 text; no state left from a part over it"
done_testing
