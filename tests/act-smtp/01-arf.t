#!/usr/bin/env bash
# act-smtp: an FBL record becomes an RFC 5965 report delivered over SMTP; other records
# pass through untouched and in order.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
mkrec m1 fbl > "$T/rec1.json"
{
    cat "$T/rec1.json"
    echo '{"v":1,"kind":"params","id":"p1","ts":"2026-11-24T20:05:00.000Z","x":[1,{"y":"é"}]}'
    mkrec m2 open,click
    echo 'not json at all'
    mkrec m3 fbl hb=8bit
} > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "act-smtp exits 0"
is "$(wc -l < "$T/out.ndjson")" 5 "every record comes out (none dropped)"
is "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"].split("-")[0] for l in open(sys.argv[1])))' "$T/out.ndjson")" \
   "m1 p1 m2 invalid m3" "records keep their order"
python3 -c 'import json,sys; a,b=(json.loads(open(f).read().splitlines()[1]) for f in sys.argv[1:]); sys.exit(a!=b)' \
    "$T/in.ndjson" "$T/out.ndjson"
ok $? "a params record passes through unchanged"
is "$(jget "$T/out.ndjson" 3 smtp)" "" "a message without oob/fbl gets no smtp field"
is "$(jget "$T/out.ndjson" 4 kind)" "invalid" "a malformed line flows on as an invalid record"
like "$(cat "$T/err")" "malformed record \(stdin:4\)" "malformed line reported with its position"

is "$(jget "$T/out.ndjson" 1 smtp.fbl.status)" sent "FBL status sent"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.to)" fbl@sparkpostmail.com "FBL to the allow-list address"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.mx)" smtp.sparkpostmail.com "FBL mx recorded"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.from)" postmaster@sink.example "FBL from: default postmaster@<Hostname>"
like "$(jget "$T/out.ndjson" 1 smtp.fbl.reply)" "^250 2.0.0 Ok: queued as TEST" "server reply recorded"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.error)" "" "no error when sent"
is "$(jget "$T/out.ndjson" 5 smtp.fbl.status)" sent "FBL with an 8-bit header block sent"

n=$(ls "$T/srv"/*.eml 2>/dev/null | wc -l)
is "$n" 2 "the server received two reports"
for i in 1 2; do
    rec=$T/rec1.json
    [ "$i" = 2 ] && { sed -n 5p "$T/in.ndjson" > "$T/rec3.json"; rec=$T/rec3.json; }
    # the two deliveries run concurrently: find each by its Original-Rcpt/8-bit content
    eml=$(grep -l -a $'caf\xe9' "$T/srv"/*.eml)
    [ "$i" = 1 ] && eml=$(grep -L -a $'caf\xe9' "$T/srv"/*.eml)
    check_report arf "$eml" "$rec" "${eml%.eml}.json"
done

# connections to one server are reused: 20 reports, 2 at a time, far fewer connections
rm -f "$T/srv"/*
write_conf "$T/c2.ini" "$SMTP_PORT" "Max_In_Flight = 2"
for i in $(seq 1 20); do mkrec "c$i" fbl; done | "$BS_BIN/act-smtp" -c "$T/c2.ini" > "$T/c2.ndjson"
is "$(grep -c '"status": *"sent"' "$T/c2.ndjson")" 20 "20 reports sent with Max_In_Flight = 2"
conns=$(wc -l < "$T/srv/connections")
ok "$([ "$conns" -le 4 ]; echo $?)" "connections reused ($conns connections for 20 reports)"

# dry run: reports built, nothing sent
rm -f "$T/srv"/*
mkrec d1 fbl | "$BS_BIN/act-smtp" -c "$T/c.ini" --dry-run > "$T/dry.ndjson"
ok $? "dry run exits 0"
is "$(jget "$T/dry.ndjson" 1 smtp.fbl.status)" dry_run "dry run: status dry_run"
is "$(jget "$T/dry.ndjson" 1 smtp.fbl.to)" fbl@sparkpostmail.com "dry run: destination recorded"
is "$(ls "$T/srv" | wc -l)" 0 "dry run: no connection made"
done_testing
