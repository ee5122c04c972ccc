#!/usr/bin/env bash
# Issue 22: `act-smtp --dry-run` (and so `pipelines/replay.sh --dry-run`) makes no network
# request at all: no SMTP, and no DNS either. Before, it still looked up the MX of every
# Return-Path domain. A name server that counts the queries it gets stands in for DNS
# ([Smtp] Resolver); the same records without --dry-run show that it is asked.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
port=$(free_port)
cat > "$T/ns.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
while True:
    q, peer = s.recvfrom(4096)
    with open(sys.argv[2], "a") as log:
        log.write("query\n")
PY
bg python3 "$T/ns.py" "$port" "$T/queries"
wait_for test -e "$T/queries"; ok $? "a name server that never answers, counting queries"
printf '[Smtp]\nResolver = 127.0.0.1:%s\nTimeout = 1\nRetry_Max_Seconds = 0\nMX_Override = over.test=mx.over.test\n[Listen]\nInBand_Replies_File = %s/inband-replies.dat\n[RP_MX_domain_allowlist]\nmx.over.test = fbl@over.test\n' \
    "$port" "$REF" > "$T/c.ini"

{ mkrec d1 oob; mkrec d2 fbl; mkrec d3 fbl mail_from=b@over.test; } \
    | "$BS_BIN/act-smtp" -c "$T/c.ini" --dry-run > "$T/dry.ndjson" 2> "$T/dry.err"
ok $? "--dry-run exits 0"
is "$(grep -c . "$T/queries")" 0 "--dry-run: no DNS query"
is "$(jget "$T/dry.ndjson" 1 smtp.oob.status)" dry_run "--dry-run: the DSN is dry_run"
like "$(jget "$T/dry.ndjson" 1 smtp.oob.reason)" "not looked up" "… and says the MX was not looked up"
is "$(jget "$T/dry.ndjson" 2 smtp.fbl.status)" dry_run "--dry-run: the ARF is dry_run"
is "$(jget "$T/dry.ndjson" 3 smtp.fbl.to)" fbl@over.test "--dry-run: MX_Override still routes (no DNS needed)"

{ mkrec l1 oob; } | "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/live.ndjson" 2> "$T/live.err"
[ "$(grep -c . "$T/queries")" -gt 0 ]; ok $? "without --dry-run the name server is asked (the check can fail)"
is "$(jget "$T/live.ndjson" 1 smtp.oob.status)" smtp_error "… and the lookup times out"
done_testing
