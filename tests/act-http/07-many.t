#!/usr/bin/env bash
# act-http: 1000 records, half with fetches, through a small in-flight and pending limit:
# none dropped, none duplicated, every fetch made exactly once; input from a slow pipe.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

start_ts TS 127.0.0.1:0 || exit 1
conf "$T/c.ini" "[Http]" "Allow_Private_Addresses = yes" "Max_In_Flight = 8" "Max_Pending_Records = 20"
jq -cn --arg b "http://$TS" '
  range(1; 1001) as $i |
  if $i % 2 == 0 then
    {v:1,kind:"message",id:("m\($i)"),ts:"t",urls:{open:["\($b)/q/\($i)"],click:["\($b)/f/\($i)","mailto:x@y.test"]},
     plan:{actions:["open","click"],user_agent:"UA"}}
  elif $i % 3 == 0 then {v:1,kind:"params",id:("p\($i)"),ts:"t"}
  else {v:1,kind:"message",id:("m\($i)"),ts:"t",plan:{actions:["oob"]}} end' > "$T/in"
is "$(grep -c . "$T/in")" 1000 "1000 input records"
# Feed in chunks with pauses so the reader sees partial input and would-block reads.
{ head -n 300 "$T/in"; sleep 0.3; sed -n '301,700p' "$T/in"; sleep 0.3; tail -n 300 "$T/in"; } |
    "$AH" -c "$T/c.ini" > "$T/out"
is "$?" 0 "exit 0"
is "$(grep -c . "$T/out")" 1000 "1000 records out"
is "$(jq -r .id "$T/out" | sort | uniq -d | grep -c .)" 0 "no record twice"
is "$(jq -r .id "$T/out" | sort | md5sum)" "$(jq -r .id "$T/in" | sort | md5sum)" "the same ids in and out"
is "$(jq -c 'select(.http) | [.http.open[0].status, .http.click[0].status]' "$T/out" | sort -u)" '[200,200]' "every fetch succeeded"
is "$(jq -c 'select(.http) | .http.not_tracking.click' "$T/out" | sort -u)" 1 "mailto counted as not tracking"
is "$(stats "$TS" | jq .requests)" 1001 "1000 fetches and one probe reached the server"
is "$(stats "$TS" | jq '[.paths[]] | max')" 1 "no URL fetched twice"
conns=$(stats "$TS" | jq .connections)
ok "$([ "$conns" -ge 1 ] && [ "$conns" -le 8 ] && echo 0 || echo 1)" "keep-alive: 1001 requests over $conns connections (Max_In_Flight = 8)"
nowork='select((.plan.actions // []) | index("open") | not)'
is "$(cmp -s <(jq -c "$nowork" "$T/in") <(jq -c "$nowork" "$T/out") && echo same)" same "records without work keep their relative order and content"
done_testing
