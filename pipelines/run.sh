#!/usr/bin/env bash
# pipelines/run.sh — what `make run` runs: prepare a loopback sink in ./run and start it.
#
# Creates (once) run/bouncy-sink.ini from etc/bouncy-sink.ini, a self-signed TLS
# certificate, the demo DKIM key, the spool; then runs pipelines/sink.sh in the
# foreground. Ctrl-C stops it cleanly. BS_CONFIG names another configuration file.
# With --prepare only the preparation is done (pipelines/demo.sh uses it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bindir=$root/bin
mkdir -p run/tls run/demo
conf=${BS_CONFIG:-run/bouncy-sink.ini}
# A copy made before paths were relative to the file's directory (`Spool = run/spool`)
# would now mean run/run/spool: it is set aside and made again.
if [ "$conf" = run/bouncy-sink.ini ] && [ -e "$conf" ] && grep -Eq '^[[:space:]]*[A-Za-z_]+[[:space:]]*=[[:space:]]*(run|data)/' "$conf"; then
    mv "$conf" "$conf.old"
    echo "run.sh: $conf had paths relative to the repository; moved to $conf.old" >&2
fi
if [ ! -e "$conf" ]; then
    cp etc/bouncy-sink.ini "$conf"
    echo "run.sh: created $conf from etc/bouncy-sink.ini (edit it freely)" >&2
fi
if [ ! -s run/tls/cert.pem ] || [ ! -s run/tls/key.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=bouncy-sink.test" \
        -addext "subjectAltName=DNS:bouncy-sink.test,DNS:localhost,IP:127.0.0.1" \
        -keyout run/tls/key.pem -out run/tls/cert.pem 2>/dev/null
    echo "run.sh: made a self-signed TLS certificate in run/tls/" >&2
fi
keyfile=$("$bindir/bs-config" -c "$conf" Verify DKIM_Key_File "")
if [ -n "$keyfile" ] && [ "$(realpath -m "$keyfile")" = "$root/run/demo/dkim-keys.txt" ] && [ ! -s "$keyfile" ]; then
    "$bindir/gen-corpus" -n 0 -f eml -o run/demo/eml --domain sender.test --selector demo \
        --key run/demo/dkim.key --key-file run/demo/dkim-keys.txt
    echo "run.sh: made the demo DKIM key in run/demo/ (selector demo, domain sender.test)" >&2
fi
[ "${1:-}" != --prepare ] || exit 0
addr=$("$bindir/bs-config" -c "$conf" --default Listen Address)
web=$("$bindir/bs-config" -c "$conf" --default Report Address)
cat >&2 <<MSG
Bouncy Sink: SMTP on $addr, web report on http://$web/ — Ctrl-C stops it.
  send mail:  swaks --server ${addr%:*} --port ${addr##*:} --to someone@openclick.bouncy-sink.test
  or run:     make demo   (in another terminal)
MSG
exec bash pipelines/sink.sh -c "$conf" -d run
