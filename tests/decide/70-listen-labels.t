#!/usr/bin/env bash
# The listener's own labels (greylist, throttle, slow) reach decide as quiet accepts;
# a look-alike label stays in the mixed stream.
. "$(dirname "$0")/../lib.sh"
rec() {
    printf '{"v":1,"kind":"message","id":"%s","ts":"2026-11-24T20:05:10.387Z","envelope":{"rcpt":"%s"},"dkim":{"result":"pass"},"spf":{"result":"pass"}}\n' "$1" "$2"
}
{ rec g1 a@greylist.bouncy-sink.test; rec t1 b@Throttle.bouncy-sink.test; rec s1 c@slow.x.bouncy-sink.test
  for i in $(seq 1 50); do rec m$i "u$i@slowly.bouncy-sink.test"; done; } > "$T/in.ndjson"
printf '[Sink]\nUser_Agents_File = %s\n' "$ROOT/data/reference/user-agents.csv" > "$T/d.ini"
"$BS_BIN/decide" -c "$T/d.ini" --seed 1 --now 2026-11-23T12:00:00Z \
    < "$T/in.ndjson" > "$T/out.ndjson" 2>/dev/null
ok $? "decide runs"
plan() { jq -r --arg id "$1" 'select(.id == $id) | "\(.plan.stream) \(.plan.actions | length)"' "$T/out.ndjson"; }
is "$(plan g1)" "accept 0" "greylist: quiet accept"
is "$(plan t1)" "accept 0" "throttle (any case): quiet accept"
is "$(plan s1)" "accept 0" "slow (first label only counts): quiet accept"
is "$(jq -r 'select(.id | startswith("m")) | .plan.stream' "$T/out.ndjson" | sort -u)" "mixed" "a look-alike label is the mixed stream"
ok "$([ "$(jq -r 'select(.id | startswith("m")) | .plan.actions | length' "$T/out.ndjson" | sort -u | wc -l)" -gt 1 ] && echo 0 || echo 1)" "the mixed stream gets varied plans"
done_testing
