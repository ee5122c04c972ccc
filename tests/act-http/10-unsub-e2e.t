#!/usr/bin/env bash
# End to end, one-click unsubscribe on demand (issue 10): DKIM-signed messages to
# <local>@unsub.bouncy-sink.test from gen-corpus, and a record for x@unsub.bouncy-sink.test,
# go through ingest | decide | act-http; decide plans "unsubscribe", act-http POSTs
# List-Unsubscribe=One-Click (RFC 8058) to the URI of List-Unsubscribe, and track-server's
# --log shows each POST with the RFC 8058 body; report logs _Unsubscribe:200 and counts it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
cd "$T" || exit 1

start_ts TS 127.0.0.1:0 --log "$T/req.log" || exit 1
# track-server speaks plain http; RFC 8058 wants https, hence Allow_Insecure_Unsubscribe.
conf c.ini "[Verify]" "SPF = off" "DKIM_Key_File = $T/spool/dkim-keys.txt" \
    "[Http]" "Allow_Private_Addresses = yes" "Allow_Insecure_Unsubscribe = yes" \
    "[Sink]" "Logfile = $T/c.log" "User_Agents_File = $ROOT/data/reference/user-agents.csv"

"$BS_BIN/gen-corpus" -n 3 --seed 8 --streams unsub=1 --unsubscribe-base "http://$TS/unsub" \
    -o "$T/spool" --key "$T/dkim.key" 2> gen.err
ok $? "gen-corpus wrote three messages for the unsub stream"
"$BS_BIN/ingest" -c c.ini "$T/spool" > ingest.ndjson 2> ingest.err
ok $? "ingest exits 0"
# One more record, for exactly x@unsub.bouncy-sink.test, as ingest writes them (DKIM pass).
jq -c --arg u "<mailto:u@sender.test?subject=unsubscribe>, <http://$TS/unsub/u/x-token>" \
    '.id = "x-unsub" | .envelope.rcpt = "x@unsub.bouncy-sink.test"
     | .headers.to = "x@unsub.bouncy-sink.test" | .headers.list_unsubscribe = $u
     | del(.source.settle)' <(head -n 1 ingest.ndjson) >> ingest.ndjson

"$BS_BIN/decide" -c c.ini --seed 3 < ingest.ndjson 2> decide.err |
    "$BS_BIN/act-http" -c c.ini > out.ndjson 2> act.err
ok $? "decide | act-http exits 0"
[ -s out.ndjson ] || diag "$(cat decide.err act.err)"
is "$(jq -r 'select(.kind == "message") | .dkim.result' out.ndjson | sort -u)" pass "every message passes DKIM (the gate lets them through)"
is "$(jq -r 'select(.kind == "message") | .plan.stream' out.ndjson | sort | uniq -c | sed 's/^ *//')" "4 unsub" "decide routes all four to the unsub stream"
is "$(jq -c 'select(.kind == "message") | .plan.actions' out.ndjson | sort -u)" '["unsubscribe"]' "decide plans unsubscribe (and nothing else)"
is "$(jq -r 'select(.id == "x-unsub") | .http.unsubscribe.status' out.ndjson)" 200 "x@unsub.bouncy-sink.test: POST answered 200"
is "$(jq -r 'select(.kind == "message") | .http.unsubscribe.status' out.ndjson | sort | uniq -c | sed 's/^ *//')" "4 200" "four POSTs answered 200"

posts=$(awk -F'\t' '$1 == "POST"' "$T/req.log")
is "$(printf '%s\n' "$posts" | grep -c .)" 4 "track-server saw four POSTs"
is "$(printf '%s\n' "$posts" | cut -f7 | sort -u)" "List-Unsubscribe=One-Click" "every POST body is List-Unsubscribe=One-Click (RFC 8058)"
is "$(printf '%s\n' "$posts" | cut -f6 | sort -u)" "application/x-www-form-urlencoded" "every POST is application/x-www-form-urlencoded"
want=$(jq -r 'select(.kind == "message") | .headers.list_unsubscribe' out.ndjson |
    grep -o "http://${TS}[^>]*" | sed "s|http://$TS||" | sort)
is "$(printf '%s\n' "$posts" | cut -f2 | sort)" "$want" "each POST went to its message's List-Unsubscribe http URI"
like "$(printf '%s\n' "$posts" | cut -f2)" "/unsub/u/x-token" "the x@unsub.bouncy-sink.test record's URI was POSTed"
is "$(awk -F'\t' '$1 == "GET"' "$T/req.log" | grep -c .)" 0 "no GET: unsubscribe needs no opens, clicks or probes"

"$BS_BIN/report" -c c.ini --once < out.ndjson > once.json 2> report.err
ok $? "report --once exits 0"
is "$(jq -r .unsubscribe once.json)" 4 "report counts four one-click unsubscribes"
is "$(grep -c ',_Unsubscribe:200$' c.log)" 4 "report logs _Unsubscribe:200 for each"
like "$(grep ',x@unsub.bouncy-sink.test,' c.log)" ',_Unsubscribe:200$' "log line of x@unsub.bouncy-sink.test"
done_testing
