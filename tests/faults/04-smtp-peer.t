#!/usr/bin/env bash
# faults: act-smtp against an SMTP peer that stalls in the middle of DATA and one that
# answers 421 and closes: each is a per-record smtp_error with a reason, act-smtp finishes
# and every record comes out. (A peer silent from the start, 4xx/5xx replies:
# act-smtp/04-retry.t; DNS failure for MX lookups (dead resolver): act-smtp/05-dns.t.)
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_peer() { # start_peer MODE: sets PEER_PORT; the peer's files are in $T/MODE
    mkdir -p "$T/$1"
    bg python3 "$ROOT/tests/faults/badpeer.py" "$1" "$T/$1" > "$T/$1.port"
    wait_for test -s "$T/$1.port" || return 1
    PEER_PORT=$(head -n 1 "$T/$1.port")
}

start_peer smtp-stall || exit 1
write_conf "$T/a.ini" "$PEER_PORT" "Retry_Max_Seconds = 0"
sed -i -e '/^Retry_Max_Seconds = 5$/d' -e 's/^Timeout = 5$/Timeout = 2/' "$T/a.ini"
{ mkrec s1 fbl; mkrec s2 oob; } | timeout 60 "$BS_BIN/act-smtp" -c "$T/a.ini" > "$T/a.ndjson" 2> "$T/a.err"
is "$?" 0 "stall mid-DATA: act-smtp finishes, exit 0"
is "$(grep -c . "$T/a.ndjson")" 2 "stall mid-DATA: every record out"
like "$(cat "$T/smtp-stall/log")" "stalled in DATA" "the peer did stall in DATA"
is "$(jget "$T/a.ndjson" 1 smtp.fbl.status)" smtp_error "stall mid-DATA: smtp_error"
like "$(jget "$T/a.ndjson" 1 smtp.fbl.error)" "^!FBL endpoint returned error: .*[Tt]ime" "stall mid-DATA: the error says time-out"
is "$(jget "$T/a.ndjson" 2 smtp.oob.status)" smtp_error "stall mid-DATA: the other record too"

start_peer smtp-421 || exit 1
write_conf "$T/b.ini" "$PEER_PORT" "Retry_Max_Seconds = 0"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/b.ini"
mkrec t1 fbl | timeout 60 "$BS_BIN/act-smtp" -c "$T/b.ini" > "$T/b.ndjson" 2> "$T/b.err"
is "$?" 0 "421 then close: exit 0"
like "$(cat "$T/smtp-421/log")" "closed" "the peer answered 421 and closed"
is "$(jget "$T/b.ndjson" 1 smtp.fbl.status)" smtp_error "421 then close: smtp_error"
like "$(jget "$T/b.ndjson" 1 smtp.fbl.error)" "^!FBL endpoint returned error: 421 4.3.2" "421 then close: the 421 reply in the error"

# 421 then close, with retries allowed: retried (421 is temporary), then given up.
write_conf "$T/c.ini" "$PEER_PORT" "Retry_Max_Seconds = 1.5"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/c.ini"
mkrec t2 fbl | timeout 60 "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/c.ndjson" 2> "$T/c.err"
is "$?" 0 "421 with retries: exit 0"
is "$(jget "$T/c.ndjson" 1 smtp.fbl.status)" smtp_error "421 with retries: smtp_error in the end"
[ "$(jget "$T/c.ndjson" 1 smtp.fbl.attempts)" -ge 2 ]; ok $? "421 with retries: retried ($(jget "$T/c.ndjson" 1 smtp.fbl.attempts) attempts)"
done_testing
