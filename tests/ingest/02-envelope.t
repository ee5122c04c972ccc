#!/usr/bin/env bash
# ingest: envelope, headers and header block of the PowerMTA sample and of our spool format.
. "$(dirname "$0")/../lib.sh"
printf '[Verify]\nSPF = off\n' > "$T/sink.ini"
run() { "$BS_BIN/ingest" -c "$T/sink.ini" "$@"; }

rec=$(run "$REF/sparkpost-sample.msg")
is "$(jq -c .envelope <<<"$rec")" '{"mail_from":"bounces@stevet-spe-send.trymsys.net","rcpt":"test+32991901266478036392@not-gmail.com.bouncy-sink.trymsys.net","client_ip":"172.31.7.50","helo":"mta1a2.demo-t.sparkpostelite.com","received":"2018-06-04T17:56:34Z"}' "PowerMTA sample: envelope from Return-Path and Received"
is "$(jq -r .headers.to <<<"$rec")" "test+32991901266478036392@not-gmail.com.bouncy-sink.trymsys.net" "sample: To"
is "$(jq -r .headers.from <<<"$rec")" "traffic.gen.subacc26@stevet-spe-send.trymsys.net" "sample: From"
is "$(jq -r .headers.message_id <<<"$rec")" "<E5.2D.40209.25D751B5@a.mta2vrest.cc.prd.sparkpost>" "sample: Message-ID"
is "$(jq -r .headers.date <<<"$rec")" "Mon, 04 Jun 2018 17:56:30 +0000" "sample: Date"
like "$(jq -r .headers.x_msfbl <<<"$rec")" '^KZA7nd53Fw/GDfWYz9wlbQ9KWWsnvEiH6TBrOgm2eSQ=\|eyJzdWJhY2NvdW50X2l.*kIjoiMSJ9$' "sample: X-MSFBL unfolded"
like "$(jq -r .headers.list_unsubscribe <<<"$rec")" '^<mailto:unsubscribe@demo-t.sparkpostelite.com\?subject=unsubscribe:' "sample: List-Unsubscribe"
is "$(jq -r '.headers | has("x_bouncy_sink")' <<<"$rec")" false "absent header field absent"
# header_block: byte for byte up to (not including) the empty line.
awk 'BEGIN{h=1} h&&/^$/{exit} {print}' "$REF/sparkpost-sample.msg" > "$T/want-hb"
jq -j .header_block <<<"$rec" > "$T/got-hb"
cmp -s "$T/want-hb" "$T/got-hb"; ok $? "sample: header_block byte for byte"
is "$(jq -c '[(.urls.open | length), (.urls.click | length), .html]' <<<"$rec")" '[2,1,true]' "sample: two open pixels, one link"
is "$(jq -r '.urls.click[0]' <<<"$rec")" "http://click.hp2demo.trymsys.net/f/a/7zD80MgbvwHh4lqRkCM6mg~~/AAAAAQA~/RgRc-AJOP0UPTW9yZSBEYWlseSBOZXdzRB1odHRwOi8vZXhhbXBsZS5jb20vaW5kZXguaHRtbFcEZGVtb1gEAAAAGkIKAAFSfRVbEZ1e0lI_dGVzdCszMjk5MTkwMTI2NjQ3ODAzNjM5MkBub3QtZ21haWwuY29tLmJvdW5jeS1zaW5rLnRyeW1zeXMubmV0" "sample: click URL"
is "$(jq -r .size <<<"$rec")" "$(stat -c %s "$REF/sparkpost-sample.msg")" "size is the file size"
like "$(jq -r .dkim.result <<<"$rec")" '^(temperror|fail|permerror|pass|none)$' "dkim result recorded"
is "$(jq -r .spf.result <<<"$rec")" off "[Verify] SPF = off recorded"

# Our listener's format, CRLF line ends, IPv6 client, 8-bit-free header with a folded
# Received; null sender.
printf 'Return-Path: <>\r\nReceived: from mx.example.test ([IPv6:2001:db8::25])\r\n\tby sink.test id 0123abcd for <u@fbl.bouncy-sink.test>;\r\n Tue, 24 Nov 2026 21:05:10 +0100 (envelope-from <>)\r\nFrom: a@example.test\r\nTo: "User" <u@fbl.bouncy-sink.test>\r\nX-Bouncy-Sink: store-done\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nbody\r\n' > "$T/5f1c0a3e9b7d2c41.msg"
rec=$(run "$T/5f1c0a3e9b7d2c41.msg")
is "$(jq -r .id <<<"$rec")" 5f1c0a3e9b7d2c41 "id from a 16-hex spool name"
is "$(jq -c .envelope <<<"$rec")" '{"mail_from":"","rcpt":"u@fbl.bouncy-sink.test","client_ip":"2001:db8::25","helo":"mx.example.test","received":"2026-11-24T20:05:10Z"}' "our format: folded Received, IPv6, null sender, date in UTC"
is "$(jq -r .headers.x_bouncy_sink <<<"$rec")" store-done "X-Bouncy-Sink"
is "$(jq -r .headers.list_unsubscribe_post <<<"$rec")" "List-Unsubscribe=One-Click" "List-Unsubscribe-Post"
is "$(jq -r .headers.to <<<"$rec")" '"User" <u@fbl.bouncy-sink.test>' "To decoded value"
jq -j .header_block <<<"$rec" | od -c | tail -3 | grep -q '\\r  \\n' ; ok $? "CRLF kept in header_block"
is "$(jq -j .header_block <<<"$rec" | wc -c)" "$(( $(stat -c %s "$T/5f1c0a3e9b7d2c41.msg") - 8 ))" "header_block ends before the empty line"

# No Return-Path: the envelope-from comment gives the sender; Postfix-style Received.
printf 'Received: from helo.test (rdns.test [198.51.100.7])\n\tby mx.sink.test (Postfix) with ESMTP id 4Xyz\n\tfor b@accept.bouncy-sink.test; Wed, 25 Nov 2026 01:02:03 -0000 (envelope-from <s@sender.test>)\nFrom: s@sender.test\n\nx\n' > "$T/pf.msg"
is "$(run "$T/pf.msg" | jq -c .envelope)" '{"mail_from":"s@sender.test","rcpt":"b@accept.bouncy-sink.test","client_ip":"198.51.100.7","helo":"helo.test","received":"2026-11-25T01:02:03Z"}' "Postfix-style Received; envelope-from as sender"
printf 'From: s@sender.test\n\nx\n' > "$T/none.msg"
is "$(run "$T/none.msg" | jq -c .envelope)" '{}' "no trace fields: empty envelope"
done_testing
