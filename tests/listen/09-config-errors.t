#!/usr/bin/env bash
# listen: configuration errors found after the file was read — a TLS certificate or key
# that cannot be loaded, an Address that does not resolve — are reported as
# `listen: error: [Listen] Key: ... (FILE:LINE): why` with the real reason (OpenSSL's,
# getaddrinfo's), exit 78; never "(null)". Facts that cannot be set up: exit 78 with
# Facts = yes, a warning without.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# run_listen CONFIG: runs listen (it should stop at once), sets rc and err
run_listen() {
    timeout 20 "$BS_BIN/listen" -c "$1" > /dev/null 2> "$T/err"
    rc=$?
    err=$(cat "$T/err")
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj "/CN=sink.test" > /dev/null 2>&1
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.pem" > /dev/null 2>&1
ok $? "certificate and keys made"
echo "not a certificate" > "$T/garbage.pem"

port=$(free_port)
write_config "$T/c1.ini" "$port" "TLS_Certificate = $T/missing.pem" "TLS_Key = $T/key.pem"
line=$(grep -n '^TLS_Certificate' "$T/c1.ini" | cut -d: -f1)
run_listen "$T/c1.ini"
is "$rc" 78 "missing certificate: exit 78"
is "$err" "listen: error: [Listen] TLS_Certificate: cannot load a certificate from $T/missing.pem ($T/c1.ini:$line): No such file or directory" \
    "missing certificate: file, FILE:LINE and the system's reason"

write_config "$T/c2.ini" "$port" "TLS_Certificate = $T/garbage.pem"
line=$(grep -n '^TLS_Certificate' "$T/c2.ini" | cut -d: -f1)
run_listen "$T/c2.ini"
is "$rc" 78 "not a certificate: exit 78"
like "$err" "^listen: error: \[Listen\] TLS_Certificate: cannot load a certificate from $T/garbage\.pem \($T/c2\.ini:$line\): no start line \(PEM routines\)$" \
    "not a certificate: FILE:LINE and OpenSSL's reason"
unlike "$err" "null" "no (null)"
diag "$err"

write_config "$T/c3.ini" "$port" "TLS_Certificate = $T/cert.pem" "TLS_Key = $T/other.pem"
line=$(grep -n '^TLS_Key' "$T/c3.ini" | cut -d: -f1)
run_listen "$T/c3.ini"
is "$rc" 78 "key of another certificate: exit 78"
is "$err" "listen: error: [Listen] TLS_Key: cannot load a matching private key from $T/other.pem ($T/c3.ini:$line): key values mismatch (x509 certificate routines)" \
    "key of another certificate: TLS_Key's FILE:LINE, key values mismatch"

write_config "$T/c4.ini" "$port" "TLS_Certificate = $T/cert.pem"
line=$(grep -n '^TLS_Certificate' "$T/c4.ini" | cut -d: -f1)
run_listen "$T/c4.ini"
is "$rc" 78 "certificate without its key (key defaults to the certificate file): exit 78"
like "$err" "^listen: error: \[Listen\] TLS_Key: cannot load a matching private key from $T/cert\.pem \($T/c4\.ini:$line\): [a-z]+ \([A-Za-z0-9 ]+\)$" \
    "no key in the certificate file: names TLS_Certificate's line, with OpenSSL's reason"
unlike "$err" "null" "no (null)"
diag "$err"

# facts that cannot be set up (an unreadable [Verify] DKIM_Key_File): with Facts = yes a
# configuration error; with Facts = no (only personas would need them) a warning, and
# listen runs
write_config "$T/c6.ini" "$port" "Facts = yes"
printf '[Verify]\nDKIM_Key_File = %s\n' "$T/missing-keys.txt" >> "$T/c6.ini"
line=$(grep -n '^DKIM_Key_File' "$T/c6.ini" | cut -d: -f1)
run_listen "$T/c6.ini"
is "$rc" 78 "Facts = yes, facts cannot be set up: exit 78"
like "$err" "\[Listen\] Facts: cannot set up the facts computation: $T/c6\.ini:$line: \[Verify\] DKIM_Key_File: cannot read $T/missing-keys\.txt" \
    "names Facts and the setting that broke it, with FILE:LINE"
sed 's/^Facts = yes/Facts = no/' "$T/c6.ini" > "$T/c7.ini"
"$BS_BIN/listen" -c "$T/c7.ini" > /dev/null 2> "$T/err7" &
pid=$!
wait_port "$port" 10
ok $? "Facts = no: listen starts all the same"
kill "$pid"
wait "$pid" 2> /dev/null
like "$(cat "$T/err7")" "warning: facts cannot be computed .*: transactions that need them get temperror" \
    "Facts = no: a warning says what is missing"

# an Address that does not resolve: in a private network namespace whose resolver is
# unreachable, so the name is not looked up on any real network
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
write_config "$T/c5.ini" "$port" "Address = no-such-host.invalid:$port"
line=$(grep -n '^Address' "$T/c5.ini" | cut -d: -f1)
# shellcheck disable=SC2016 # expanded by the inner shell
ns='mount --bind "$0" /etc/resolv.conf && exec "$@"'
unshare -n -m sh -c "$ns" "$T/resolv.conf" timeout 20 "$BS_BIN/listen" -c "$T/c5.ini" > /dev/null 2> "$T/err"
rc=$?
why=$(unshare -n -m sh -c "$ns" "$T/resolv.conf" python3 -c '
import socket, sys
try:
    socket.getaddrinfo(sys.argv[1], 25, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
except socket.gaierror as e:
    print(e.strerror)' no-such-host.invalid)
is "$rc" 78 "unresolvable Address: exit 78"
is "$(cat "$T/err")" "listen: error: [Listen] Address: cannot resolve 'no-such-host.invalid' ($T/c5.ini:$line): $why" \
    "unresolvable Address: FILE:LINE and getaddrinfo's reason ($why)"
done_testing
