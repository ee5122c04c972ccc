#!/usr/bin/env bash
# gen-corpus command line: usage, exit codes, configuration, key outputs.
# shellcheck disable=SC2010,SC2012 # listing our own generated file names
. "$(dirname "$0")/../lib.sh"
G=$BS_BIN/gen-corpus

out=$("$G" -h); ok $? "-h exits 0"
like "$out" '^usage: gen-corpus' "-h prints the usage"
"$G" --bogus 2> "$T/err"; is $? 64 "unknown option: exit 64"
like "$(cat "$T/err")" 'usage:' "unknown option: usage on stderr"
"$G" -n 1 2> "$T/err"; is $? 64 "spool output without -o: exit 64"
"$G" -n x -o "$T/x" 2> /dev/null; is $? 64 "bad count: exit 64"
"$G" -n 1 -f maildir -o "$T/x" 2> /dev/null; is $? 64 "bad format: exit 64"
"$G" -n 1 --streams 'accept=-2' -o "$T/x" 2> "$T/err"; is $? 64 "bad --streams: exit 64"
like "$(cat "$T/err")" 'gen-corpus: error: --streams: bad weight' "bad --streams says why"
"$G" -n 1 -f mbox > /dev/null 2> "$T/err"; is $? 64 "mbox with a new key and nowhere to put it: exit 64"
"$G" -n 1 --date yesterday -o "$T/x" 2> /dev/null; is $? 64 "bad --date: exit 64"
"$G" extra -o "$T/x" 2> /dev/null; is $? 64 "stray argument: exit 64"

printf '[Listen]\nSink_Domains = a.sink.test, b.sink.test\nHostname = mx.sink.test\nAddress = nonsense\n[Listen]\n' > "$T/dup.ini"
printf '[Listen]\nSink_Domains = a.sink.test, b.sink.test\nHostname = mx.sink.test\n' > "$T/sink.ini"
printf '[Listen]\nthis is not ini\n' > "$T/bad.ini"
"$G" -c "$T/bad.ini" -n 1 -o "$T/x" 2> "$T/err"; is $? 78 "bad configuration: exit 78"
like "$(cat "$T/err")" 'bad\.ini:2' "bad configuration names file and line"
"$G" -c "$REF/consume-mail.ini" -n 1 -o "$T/prod" --no-sign; ok $? "production consume-mail.ini is accepted"

"$G" -c "$T/sink.ini" -n 20 --seed 1 -o "$T/c" --client-ip 198.51.100.7 --helo out.sender.test \
    --streams accept=1 --dns-txt "$T/zone.txt" --dnsmasq "$T/dnsmasq.conf"
ok $? "generate with a config, client IP and HELO"
n=$(grep -l '^To: .*@accept\.a\.sink\.test>\?$' "$T"/c/*.msg | wc -l)
is "$n" 20 "recipients under the first [Listen] Sink_Domains entry, stream accept"
f=$(ls "$T"/c/*.msg | head -n 1)
id=$(basename "$f" .msg)
like "$(sed -n 2p "$f")" "^Received: from out\.sender\.test \(198\.51\.100\.7\) by mx\.sink\.test id $id for <[^>]+@accept\.a\.sink\.test>; [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} \+0000 \(envelope-from <bounces@sender\.test>\)$" \
    "trace header as SPEC A1 (Hostname from the config)"
is "$(head -n 1 "$f")" "Return-Path: <bounces@sender.test>" "Return-Path first"
is "$(stat -c %a "$T/c/dkim.key")" 600 "generated private key saved with mode 600"
like "$(cat "$T/c/dkim-keys.txt")" '^s1\._domainkey\.sender\.test v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{300,}=*$' \
    "key file line for [Verify] DKIM_Key_File"
like "$(cat "$T/zone.txt")" '^s1\._domainkey\.sender\.test\.	IN	TXT	\( "v=DKIM1; k=rsa; p=[^"]{200,}" "[^"]+" \)$' \
    "zone-file TXT split in strings of at most 255 bytes"
like "$(cat "$T/dnsmasq.conf")" '^txt-record=s1\._domainkey\.sender\.test,"v=DKIM1; k=rsa; p=[^"]+","[^"]+"$' \
    "dnsmasq txt-record line"
p1=$(sed 's/.* p=//' "$T/c/dkim-keys.txt")
p2=$(sed 's/.*( //; s/ )$//; s/" "//g; s/"//g; s/.*p=//' "$T/zone.txt")
is "$p2" "$p1" "the zone TXT holds the same public key"
pub=$(openssl pkey -in "$T/c/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)
is "$pub" "$p1" "p= is the public half of dkim.key"

"$G" -n 2 --seed 1 -o "$T/k2" --key "$T/c/dkim.key" --domain other.test --selector sel2
ok $? "reuse a key with another domain and selector"
is "$(cat "$T/k2/dkim-keys.txt")" "sel2._domainkey.other.test v=DKIM1; k=rsa; p=$p1" \
    "key file names the new selector and domain, same key"
grep -q '^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=other\.test; s=sel2;' "$T"/k2/*.msg
ok $? "signature names d= and s="
echo "not a key" > "$T/bad.key"
"$G" -n 1 -o "$T/k3" --key "$T/bad.key" 2> "$T/err"; is $? 65 "unreadable key: exit 65"
like "$(cat "$T/err")" 'bad\.key' "unreadable key named"

# --no-one-click: List-Unsubscribe without List-Unsubscribe-Post, and the signature's h=
# does not name it (a persona's bulk rules see a sender without RFC 8058 one-click)
"$G" -n 2 --seed 1 -f eml -o "$T/noc" --no-one-click
ok $? "--no-one-click"
is "$(cat "$T"/noc/*.eml | grep -c '^List-Unsubscribe-Post:')" 0 "no List-Unsubscribe-Post field"
is "$(cat "$T"/noc/*.eml | grep -c '^List-Unsubscribe:')" 2 "List-Unsubscribe kept"
! cat "$T"/noc/*.eml | tr -d '\r\n\t ' | grep -qi 'List-Unsubscribe-Post;'
ok $? "h= does not name List-Unsubscribe-Post"
"$G" -n 1 --seed 1 -f eml -o "$T/oc"
is "$(grep -c '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$T"/oc/*.eml)" 1 \
    "without it: List-Unsubscribe-Post present"
done_testing
