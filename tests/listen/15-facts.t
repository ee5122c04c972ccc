#!/usr/bin/env bash
# listen: the facts of a transaction ([Listen] Facts = yes), computed off the event loop
# and written into the spool file as an Authentication-Results header (RFC 8601) above
# listen's Received field. A private namespace: dnsmasq serves SPF, the DKIM key,
# _dmarc records, PTR (--ptr-record) and A records; clients send from documentation
# addresses added to lo. Checks: iprev pass / fail (PTR name that does not resolve
# back) / permerror (no PTR); SPF pass / fail; DKIM pass with d= / none; DMARC pass
# (aligned DKIM and SPF), fail (SPF passes for another domain: not aligned), policy p=;
# a sender's forged Authentication-Results never counts (ingest's listen_auth is ours);
# a lookup to a name server that never answers: another session on the same event loop
# (Threads = 1) is served meanwhile, the slow one is answered after Facts_Timeout with
# iprev=temperror; a job hanging longer than 3 x Facts_Timeout is given up (temperror);
# Facts = no (the default) writes no header.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
# shellcheck source=tests/ingest/5x-dns-ns.sh
. "$(dirname "$0")/../ingest/5x-dns-ns.sh"

ip link set lo up
for a in 192.0.2.10 192.0.2.11 192.0.2.12 198.51.100.7; do
    ip addr add "$a/32" dev lo || fail "add $a to lo"
done

"$BS_BIN/gen-corpus" -n 1 --seed 31 -f eml --no-trace --domain good.test --selector s1 \
    --dnsmasq "$T/keys.conf" -o "$T/signed" > /dev/null
ok $? "gen-corpus: a message signed by good.test, its key as a dnsmasq line"
"$BS_BIN/gen-corpus" -n 1 --seed 32 -f eml --no-trace --no-sign --domain good.test \
    -o "$T/unsigned" > /dev/null
"$BS_BIN/gen-corpus" -n 1 --seed 33 -f eml --no-trace --domain slow.test --selector s1 \
    -o "$T/slowsigned" > /dev/null
SIGNED=$(ls "$T"/signed/*.eml)
UNSIGNED=$(ls "$T"/unsigned/*.eml)
# a forged field on top of a signed message (not covered: the signature still passes)
{ printf 'Authentication-Results: sink.test; dmarc=pass header.from=evil.test\r\n'; cat "$SIGNED"; } > "$T/forged.eml"

silent=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1])))
while True: s.recvfrom(4096)' "$silent" &
_bg_pids+=("$!")
{
    cat "$T/keys.conf"
    echo 'txt-record=good.test,"v=spf1 ip4:192.0.2.0/24 -all"'
    echo 'txt-record=esp.test,"v=spf1 ip4:192.0.2.0/24 -all"'
    echo 'txt-record=other.test,"v=spf1 ip4:198.51.100.0/24 -all"'
    echo 'txt-record=_dmarc.good.test,"v=DMARC1; p=reject; adkim=r; aspf=r"'
    echo 'ptr-record=10.2.0.192.in-addr.arpa,mta.good.test'
    echo 'address=/mta.good.test/192.0.2.10'
    echo 'ptr-record=11.2.0.192.in-addr.arpa,liar.good.test'
    echo 'address=/liar.good.test/192.0.2.99'
    echo 'local=/2.0.192.in-addr.arpa/'
    echo "server=/100.51.198.in-addr.arpa/127.0.0.1#$silent"
    echo "server=/slow.test/127.0.0.1#$silent"
    echo 'txt-record=hang.test,"v=spf1 include:a.slow.test -all"'
} > "$T/zone.conf"
dns_start "$T/zone.conf"
ok $? "dnsmasq answers on 127.0.0.1:53 in the namespace"

port=$(free_port)
write_config "$T/a.ini" "$port" "Facts = yes" "Facts_Timeout = 2"
printf '[Verify]\nSPF = on\n' >> "$T/a.ini"
start_listen "$T/a.ini"

# send SOURCE_IP MAIL_FROM FILE: one message to accept.bouncy-sink.test; prints the
# queue id of the reply.
send() {
    python3 - "$port" "$1" "$2" "$3" <<'PY'
import smtplib, sys
port, src, frm, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP('127.0.0.1', port,
                 source_address=(src, 0), timeout=30)
s.ehlo('mta.client.test')
s.mail(frm)
s.rcpt('x@accept.bouncy-sink.test')
code, msg = s.data(open(path, 'rb').read())
print(msg.decode().split()[-1])
s.quit()
PY
}
# ar ID: the spool file's header section, unfolded, up to listen's Received field.
ar() {
    python3 - "$T/spool/$1.msg" <<'PY'
import sys, re
h = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').split('\r\n\r\n')[0]
h = re.sub(r'\r\n[ \t]+', ' ', h)
for line in h.split('\r\n'):
    if line.startswith('Received:'):
        break
    if line.startswith('Authentication-Results:'):
        print(line)
PY
}

id=$(send 192.0.2.10 news@good.test "$SIGNED")
got=$(ar "$id")
diag "$got"
like "$got" '^Authentication-Results: sink\.test;' "A-R above Received, authserv-id = Hostname"
like "$got" 'iprev=pass policy\.iprev=192\.0\.2\.10 \(mta\.good\.test\)' "PTR resolves back: iprev=pass"
like "$got" 'spf=pass smtp\.mailfrom=good\.test' "SPF pass for the client IP and MAIL FROM"
like "$got" 'dkim=pass header\.d=good\.test header\.s=s1' "DKIM pass, d=good.test"
like "$got" 'dmarc=pass policy\.p=reject .*policy\.dkim-aligned=yes policy\.spf-aligned=yes header\.from=good\.test' \
    "DMARC pass, p=reject, both aligned"

id=$(send 192.0.2.12 news@esp.test "$UNSIGNED")
got=$(ar "$id")
diag "$got"
like "$got" 'iprev=permerror' "no PTR record: iprev=permerror"
like "$got" 'spf=pass smtp\.mailfrom=esp\.test' "SPF pass for esp.test"
like "$got" 'dkim=none' "no signature: dkim=none"
like "$got" 'dmarc=fail policy\.p=reject .*policy\.dkim-aligned=no policy\.spf-aligned=no header\.from=good\.test' \
    "SPF passes for another domain: DMARC fail, not aligned"

id=$(send 192.0.2.11 bounces@other.test "$UNSIGNED")
got=$(ar "$id")
diag "$got"
like "$got" 'iprev=fail policy\.iprev=192\.0\.2\.11 \(liar\.good\.test\)' "PTR name resolving elsewhere: iprev=fail"
like "$got" 'spf=fail smtp\.mailfrom=other\.test' "client outside the SPF record: spf=fail"
like "$got" 'dmarc=fail' "neither aligned nor passing: dmarc=fail"

id=$(send 192.0.2.10 news@good.test "$T/forged.eml")
got=$(ar "$id")
is "$(grep -c . <<< "$got")" 1 "forged A-R: one A-R field above Received (ours)"
printf '[Listen]\nHostname = sink.test\nSpool = %s\n[Verify]\nSPF = off\n' "$T/spool" > "$T/ingest.ini"
la=$("$BS_BIN/ingest" -c "$T/ingest.ini" "$T/spool/$id.msg" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps(r.get("listen_auth")))')
diag "$la"
like "$la" '"authserv_id": "sink.test"' "ingest: listen_auth from listen's field"
like "$la" '"method": "dmarc", "result": "pass".*"header.from": "good.test"' \
    "ingest: the DMARC verdict is listen's (from good.test), not the forged one"
unlike "$la" 'evil' "ingest: the sender's forged field does not count"

# a slow lookup: the PTR of 198.51.100.7 goes to a server that never answers
out=$(python3 - "$port" "$SIGNED" <<'PY'
import smtplib, sys, threading, time
port, path = int(sys.argv[1]), sys.argv[2]
events = []
def slow():
    s = smtplib.SMTP('127.0.0.1', port, source_address=('198.51.100.7', 0), timeout=30)
    s.ehlo('slow.client.test'); s.mail('news@good.test'); s.rcpt('x@accept.bouncy-sink.test')
    t0 = time.time()
    code, msg = s.data(open(path, 'rb').read())
    events.append('slow %d %.1f %s' % (code, time.time() - t0, msg.decode().split()[-1]))
    s.quit()
t = threading.Thread(target=slow); t.start()
time.sleep(0.5)
s = smtplib.SMTP('127.0.0.1', port, source_address=('192.0.2.10', 0), timeout=30)
s.ehlo('mta.good.test'); s.mail('news@good.test'); s.rcpt('x@accept.bouncy-sink.test')
code, msg = s.data(open(path, 'rb').read())
events.append('quick %d' % code)
s.quit()
t.join()
print(' | '.join(events))
PY
)
diag "$out"
like "$out" '^quick 250 \| slow 250' "another session is served while a lookup hangs (same event loop)"
secs=$(sed -n 's/.*slow 250 \([0-9.]*\).*/\1/p' <<< "$out")
python3 -c "import sys; sys.exit(0 if 1.5 <= float('$secs') < 10 else 1)"
ok $? "the slow session waits about Facts_Timeout (2 s), no longer: ${secs} s"
id=${out##* }
like "$(ar "$id")" 'iprev=temperror' "the lookup that timed out: iprev=temperror"
like "$(ar "$id")" 'dkim=pass header\.d=good\.test' "the other facts of that message are known"

# a job that takes longer than 3 x Facts_Timeout as a whole is given up: the session goes
# on. Questions nobody answers: the PTR and _dmarc.slow.test (c-ares, 1 s each), an SPF
# include and the DKIM key of slow.test (libspf2 and libopendkim, through the system
# resolver, 4 s each by resolv.conf): the job would take 10 s, the session waits 3 s.
kill "$LISTEN_PID"; wait "$LISTEN_PID" 2> /dev/null
printf 'nameserver 127.0.0.1\noptions timeout:4 attempts:1\n' > "$T/resolv.conf"
port=$(free_port)
write_config "$T/c.ini" "$port" "Facts = yes" "Facts_Timeout = 1"
start_listen "$T/c.ini"
out=$(python3 - "$port" "$(ls "$T"/slowsigned/*.eml)" <<'PY'
import smtplib, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP('127.0.0.1', port, source_address=('198.51.100.7', 0), timeout=30)
s.ehlo('slow.client.test'); s.mail('bounces@hang.test'); s.rcpt('x@accept.bouncy-sink.test')
t0 = time.time()
code, msg = s.data(open(path, 'rb').read())
print('%.1f %s' % (time.time() - t0, msg.decode().split()[-1]))
s.quit()
PY
)
secs=${out%% *}
id=${out##* }
python3 -c "import sys; sys.exit(0 if 2.5 <= float('$secs') < 8 else 1)"
ok $? "a hanging job: the end of DATA is answered after 3 x Facts_Timeout (3 s), not after the job's 10 s: ${secs} s"
like "$(ar "$id")" 'iprev=temperror.*spf=temperror.*dkim=temperror.*dmarc=temperror' \
    "what the abandoned job did not deliver reads temperror"

# Facts = no (the default): no header
kill "$LISTEN_PID"; wait "$LISTEN_PID" 2> /dev/null
port=$(free_port)
write_config "$T/b.ini" "$port"
start_listen "$T/b.ini"
id=$(send 192.0.2.10 news@good.test "$SIGNED")
is "$(ar "$id")" "" "Facts = no: no Authentication-Results header"
kill "$LISTEN_PID"; wait "$LISTEN_PID" 2> /dev/null
# under the sanitizers (make test-asan) listen's reports go to its stderr
unlike "$(cat "$T/listen.err")" 'Sanitizer|runtime error' "listen: no sanitizer report (abandoned jobs freed)"

done_testing
