#!/usr/bin/env bash
# act-smtp: STARTTLS when the server offers it (opportunistic: the certificate is not
# checked unless TLS_Verify = yes), plain SMTP when it does not.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mx.test.invalid -days 2 \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
ok $? "self-signed certificate made"
start_smtpd "$T/srv" --starttls "$T/cert.pem,$T/key.pem"
write_conf "$T/c.ini" "$SMTP_PORT"
mkrec t1 fbl | "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/out.ndjson"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.status)" sent "sent to a STARTTLS server with a self-signed certificate"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tls"])' "$T/srv/msg-1.json")" True "the message went over TLS"
mkrec t1 fbl > "$T/t1.json"
check_report arf "$T/srv/msg-1.eml" "$T/t1.json" "$T/srv/msg-1.json"

write_conf "$T/v.ini" "$SMTP_PORT" "TLS_Verify = yes" "Retry_Max_Seconds = 0"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/v.ini"
mkrec t2 oob | "$BS_BIN/act-smtp" -c "$T/v.ini" > "$T/v.ndjson" 2>/dev/null
is "$(jget "$T/v.ndjson" 1 smtp.oob.status)" smtp_error "TLS_Verify = yes: an unverifiable certificate is refused"
like "$(jget "$T/v.ndjson" 1 smtp.oob.error)" "SSL|certificate" "TLS_Verify = yes: the error says why"
is "$(ls "$T/srv"/*.eml | wc -l)" 1 "nothing delivered without a verified certificate"

start_smtpd "$T/plain"
write_conf "$T/p.ini" "$SMTP_PORT"
mkrec t3 fbl | "$BS_BIN/act-smtp" -c "$T/p.ini" > "$T/p.ndjson"
is "$(jget "$T/p.ndjson" 1 smtp.fbl.status)" sent "server without STARTTLS: sent in the clear"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tls"])' "$T/plain/msg-1.json")" False "... not over TLS"
done_testing
