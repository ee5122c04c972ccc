#!/usr/bin/env bash
# Issue 22: a renewed TLS certificate is picked up on reload. `systemctl reload
# bouncy-sink` sends SIGHUP to pipelines/sink.sh (the unit's ExecReload), which checks the
# file and restarts listen, and listen loads [Listen] TLS_Certificate and TLS_Key again:
# swap the files as a renewal (certbot, acme.sh) does, send SIGHUP, and the new
# certificate is served (openssl s_client with STARTTLS). The paths are relative to the
# configuration file (bouncy-sink.ini(5) "Paths"). In a private network namespace.
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sink-lib.sh
. "$(dirname "$0")/../sink-lib.sh"
ip link set lo up; ok $? "loopback up in the private network namespace"

R=$T/run
mkdir -p "$R" "$T/tls"
for n in old new; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$n.sink.test" \
        -keyout "$T/$n.key" -out "$T/$n.pem" 2> /dev/null
done
cp "$T/old.pem" "$T/tls/cert.pem" && cp "$T/old.key" "$T/tls/key.pem"
ok $? "two certificates; the old one installed"
lport=$(free_port) rport=$(free_port)
cat > "$T/sink.ini" <<INI
[Listen]
Address = 127.0.0.1:$lport
Spool = run/spool
Fsync = no
TLS_Certificate = tls/cert.pem
TLS_Key = tls/key.pem
[Report]
Address = 127.0.0.1:$rport
State_File = run/report-state.json
[Sink]
Logfile = run/consume-mail.log
INI
sink_start
wait_port "$lport"; ok $? "the sink starts"

served() { # the subject of the certificate listen serves after STARTTLS
    openssl s_client -connect "127.0.0.1:$lport" -starttls smtp -servername sink.test \
        < /dev/null 2> /dev/null | openssl x509 -noout -subject 2> /dev/null
}
like "$(served)" 'CN ?= ?old\.sink\.test' "the old certificate is served"

# A renewal: new files moved into place, then the reload.
cp "$T/new.pem" "$T/tls/cert.pem.tmp" && mv "$T/tls/cert.pem.tmp" "$T/tls/cert.pem"
cp "$T/new.key" "$T/tls/key.pem.tmp" && mv "$T/tls/key.pem.tmp" "$T/tls/key.pem"
like "$(served)" 'CN ?= ?old\.sink\.test' "without a reload the old one is still served"
kill -HUP "$sink"
serves_new() { served | grep -Eq 'CN ?= ?new\.sink\.test'; }
wait_until 20 serves_new; ok $? "after SIGHUP the new certificate is served"
wait_until 30 reloaded 1; ok $? "sink.sh logged the reload"
out=$(swaks -s 127.0.0.1 -p "$lport" -tls -f b@sender.test -t u@accept.bouncy-sink.test --body hi 2>&1)
like "$out" '<~  250 2\.0\.0 Ok: queued' "mail over STARTTLS is accepted after the reload"
done_testing
