#!/usr/bin/env bash
# Only what a passing DKIM signature signs may steer an action (issue 14, defect 4), and
# a raw 8-bit header is no error (defect 9): messages signed with dkimpy (l= and chosen
# h= lists), then changed the ways an attacker would change them, go through ingest and
# decide:
#   - links appended after the signed body length (l=) are not among the URLs, with CRLF
#     and with LF line ends, plain and quoted-printable;
#   - List-Unsubscribe and List-Unsubscribe-Post not covered by h= are left out of the
#     record (so no one-click unsubscribe is planned); an unsigned List-Unsubscribe added
#     above a signed one does not replace it;
#   - a second From, To, Subject or Date fails the gate: !DKIM fail: duplicate From ...;
#   - a Latin-1 byte in a signed header: no error, header_block_b64, the plan is made.
. "$(dirname "$0")/../lib.sh"
SIGN="$ROOT/tests/ingest/dkim-sign.py"

/usr/bin/python3 -c 'import dkim' 2> /dev/null; ok $? "dkimpy (python3-dkim) is installed"
"$BS_BIN/gen-corpus" -n 1 --seed 54 -o "$T/keys" > /dev/null; ok $? "gen-corpus: a key and its key file"
KEY=$T/keys/dkim.key
cat > "$T/sink.ini" <<INI
[Verify]
DKIM_Key_File = $T/keys/dkim-keys.txt
SPF = off
[Sink]
User_Agents_File = $ROOT/data/reference/user-agents.csv
INI
ALL=from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:list-unsubscribe-post

# message STREAM [CTE]: a single-part HTML message with CRLF line ends to x@STREAM...
message() {
    local cte=${2:-}
    printf 'From: "Sender" <news@sender.test>\r\nTo: x@%s.bouncy-sink.test\r\n' "$1"
    printf 'Subject: Hello\r\nDate: Sun, 06 Dec 2026 15:40:47 +0000\r\n'
    printf 'Message-ID: <%s@sender.test>\r\nMIME-Version: 1.0\r\n' "$1"
    printf 'Content-Type: text/html; charset=utf-8\r\n'
    [ -z "$cte" ] || printf 'Content-Transfer-Encoding: %s\r\n' "$cte"
    printf 'List-Unsubscribe: <https://sender.test/unsub/good>\r\n'
    printf 'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n'
    if [ "$cte" = quoted-printable ]; then
        printf '<html><body><a href=3D"http://t.sender.test/f/a/good">read</a>\r\n'
    else
        printf '<html><body><a href="http://t.sender.test/f/a/good">read</a>\r\n'
    fi
    printf '<img src="http://t.sender.test/q/good"   alt="">   \r\n\r\n</body></html>\r\n'
}
EVIL='<a href="http://evil.test/f/a/bad">more</a><img src="http://evil.test/q/bad">'
# ingest_one FILE: its record
ingest_one() { "$BS_BIN/ingest" -c "$T/sink.ini" "$1" 2> "$T/ingest.err"; }
# plan RECORD_FILE: decide's [actions, skip] for it
plan() {
    "$BS_BIN/decide" -c "$T/sink.ini" --seed 1 < "$1" 2> "$T/decide.err" |
        jq -c 'select(.kind == "message") | [.plan.actions, .plan.skip]'
}
# field FILE JQ: a field of its record, compact
field() { ingest_one "$1" | jq -c "$2"; }
GOOD_URLS='{"open":["http://t.sender.test/q/good"],"click":["http://t.sender.test/f/a/good"]}'

# ---- l=: the body after the signed length ----
message openclick | /usr/bin/python3 "$SIGN" "$KEY" "$ALL" l > "$T/l.eml"
ok $? "signed with l= (dkimpy)"
is "$(field "$T/l.eml" '[.dkim.result, .urls, .dkim.unsigned_body]')" "[\"pass\",$GOOD_URLS,null]" \
    "l= covering the whole body: pass, both URLs, nothing unsigned"
{ cat "$T/l.eml"; printf '%s\r\n' "$EVIL"; } > "$T/l-more.eml"
is "$(field "$T/l-more.eml" '[.dkim.result, .urls, .dkim.unsigned_body]')" "[\"pass\",$GOOD_URLS,true]" \
    "links appended after l=: still pass, but only the signed URLs, unsigned_body true"
{ sed 's/\r$//' "$T/l.eml"; printf '%s\n' "$EVIL"; } > "$T/l-more-lf.eml"
is "$(field "$T/l-more-lf.eml" '[.dkim.result, .urls, .dkim.unsigned_body]')" "[\"pass\",$GOOD_URLS,true]" \
    "the same with LF line ends (as spooled): only the signed URLs"
{ cat "$T/l.eml"; printf '\r\n \t\r\n\r\n'; } > "$T/l-blank.eml"
is "$(field "$T/l-blank.eml" '[.dkim.result, .urls, .dkim.unsigned_body]')" "[\"pass\",$GOOD_URLS,null]" \
    "only blank lines appended (canonicalisation drops them): the whole body counts"
{ head -c -2 "$T/l.eml"; printf '%s\r\n' "$EVIL"; } > "$T/l-line.eml"
is "$(field "$T/l-line.eml" '.dkim.result')" '"fail"' \
    "appended to the last signed line instead: the body hash fails"
message openclick quoted-printable | /usr/bin/python3 "$SIGN" "$KEY" "$ALL" l > "$T/qp.eml"
{ cat "$T/qp.eml"; printf '<a href=3D"http://evil.test/f/a/bad">more</a>\r\n'; } > "$T/qp-more.eml"
is "$(field "$T/qp-more.eml" '[.dkim.result, .urls, .dkim.unsigned_body]')" "[\"pass\",$GOOD_URLS,true]" \
    "quoted-printable HTML with a link appended after l=: only the signed URLs"

# ---- h=: headers the signature does not cover ----
NOUNSUB=from:to:subject:date:message-id:mime-version:content-type
message unsub | /usr/bin/python3 "$SIGN" "$KEY" "$NOUNSUB" > "$T/h.eml"
ok $? "signed with h= lacking List-Unsubscribe and List-Unsubscribe-Post"
ingest_one "$T/h.eml" > "$T/h.rec"
is "$(jq -c '[.dkim.result, .headers.list_unsubscribe, .headers.list_unsubscribe_post, .dkim.unsigned_headers]' "$T/h.rec")" \
    '["pass",null,null,["List-Unsubscribe","List-Unsubscribe-Post"]]' \
    "unsigned List-Unsubscribe(-Post): left out of headers, named in dkim.unsigned_headers"
is "$(jq -r '.headers.from' "$T/h.rec")" '"Sender" <news@sender.test>' "signed From kept"
is "$(plan "$T/h.rec")" \
    '[[],"!No one-click unsubscribe (List-Unsubscribe with List-Unsubscribe-Post)"]' \
    "decide: no unsubscribe planned from unsigned headers"

message unsub | /usr/bin/python3 "$SIGN" "$KEY" "$ALL" > "$T/u.eml"
{ printf 'List-Unsubscribe: <https://evil.test/unsub/bad>\r\n'; cat "$T/u.eml"; } > "$T/u-more.eml"
is "$(field "$T/u-more.eml" '[.dkim.result, .headers.list_unsubscribe, .dkim.unsigned_headers]')" \
    '["pass","<https://sender.test/unsub/good>",null]' \
    "an unsigned List-Unsubscribe above the signed one: the signed (bottom-most) instance counts"
ingest_one "$T/u-more.eml" > "$T/u.rec"
is "$(plan "$T/u.rec")" '[["unsubscribe"],null]' "decide: unsubscribe planned (to the signed URI)"

# ---- a second From, To, Subject or Date ----
message fbl | /usr/bin/python3 "$SIGN" "$KEY" "$ALL" > "$T/d.eml"
is "$(field "$T/d.eml" '.dkim.result')" '"pass"' "the message as signed passes"
for f in From:attacker@evil.test To:victim@evil.test Subject:other "Date:Mon, 07 Dec 2026 10:00:00 +0000"; do
    name=${f%%:*}
    { printf '%s: %s\r\n' "$name" "${f#*:}"; cat "$T/d.eml"; } > "$T/dup.eml"
    ingest_one "$T/dup.eml" > "$T/dup.rec"
    is "$(jq -c '[.dkim.result, .dkim.reason]' "$T/dup.rec")" "[\"fail\",\"duplicate $name header field\"]" \
        "a second $name prepended: DKIM fail, duplicate $name header field"
    is "$(plan "$T/dup.rec")" "[[],\"!DKIM fail: duplicate $name header field\"]" \
        "decide: the gate stops it (!DKIM fail: duplicate $name header field)"
done

# ---- a raw Latin-1 byte in a header ----
message fbl | sed 's/^Subject: Hello/Subject: Caf\xe9 cr\xe8me/' |
    /usr/bin/python3 "$SIGN" "$KEY" "$ALL" > "$T/latin1.eml"
ingest_one "$T/latin1.eml" > "$T/latin1.rec"
is "$(jq -c '[.error, .dkim.result, .headers.subject, has("header_block")]' "$T/latin1.rec")" \
    '[null,"pass","Café crème",false]' "Latin-1 Subject: no error, pass, decoded, no header_block"
hlen=$(grep -b -m1 -a $'^\r$' "$T/latin1.eml" | cut -d: -f1)
head -c "$hlen" "$T/latin1.eml" > "$T/latin1.hdr"
jq -r '.header_block_b64' "$T/latin1.rec" | base64 -d > "$T/latin1.b64"
cmp -s "$T/latin1.hdr" "$T/latin1.b64"; ok $? "header_block_b64 is the header section byte for byte"
is "$(plan "$T/latin1.rec")" '[["fbl"],null]' "decide: the plan is made (fbl)"

# ---- without a passing signature, the record is as read ----
message unsub > "$T/none.eml"
is "$(field "$T/none.eml" '[.dkim.result, .headers.list_unsubscribe, .dkim.unsigned_headers]')" \
    '["none","<https://sender.test/unsub/good>",null]' "unsigned message: headers as read (the gate stops it anyway)"
done_testing
