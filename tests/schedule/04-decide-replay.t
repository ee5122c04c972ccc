#!/usr/bin/env bash
# Issue 17: decide's [Timing] draws (reproducible with a seed, the plans without [Timing]
# unchanged, bad values refused with FILE:LINE), and pipelines/replay.sh with a schedule:
# every action held and performed once, the /json summary counting them.
. "$(dirname "$0")/../lib.sh"
N=60
"$BS_BIN/gen-corpus" -n "$N" -f spool -o "$T/corpus" --seed 3 --domain sender.test \
    --key "$T/dkim.key" --key-file "$T/keys.txt" --tracking-base http://track.sender.test \
    --streams openclick=50,oob=25,fbl=25 2>/dev/null
ok $? "spool-format corpus generated"
cat > "$T/base.ini" <<INI
[Sink]
Logfile = $T/replay.log
Tracking_Domains_Allowlist = track.sender.test
User_Agents_File = $ROOT/data/reference/user-agents.csv
[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test
[Verify]
DKIM_Key_File = $T/keys.txt
SPF = off
[Smtp]
MX_Override = sender.test=mx.sender.test
[Decide]
Seed = 9
INI
"$BS_BIN/ingest" -c "$T/base.ini" "$T"/corpus/*.msg > "$T/records" 2>/dev/null
plans() { "$BS_BIN/decide" -c "$1" --now 2026-12-01T12:00:00Z < "$T/records" 2>/dev/null | jq -c 'select(.kind=="message") | .plan'; }
plans "$T/base.ini" > "$T/plain"
{ cat "$T/base.ini"; printf '[Timing]\nTime_Scale =\nOpen =\n'; } > "$T/empty.ini"
plans "$T/empty.ini" > "$T/empty"
is "$(md5sum < "$T/empty")" "$(md5sum < "$T/plain")" "[Timing] with every key empty: the same plans as without"
unlike "$(cat "$T/plain")" '"delays"' "no delays without [Timing]"
{ cat "$T/base.ini"; printf '[Timing]\nTime_Scale = 86400\nOpen = lognormal 1h 1 3h\nOOB = fixed 90s\n'; } > "$T/timed.ini"
plans "$T/timed.ini" > "$T/timed"
is "$(jq -c 'del(.delays)' "$T/timed" | md5sum)" "$(md5sum < "$T/plain")" "with [Timing]: the same actions, delays added"
is "$(jq -c 'select(.actions | length > 0) | (.delays | keys | sort) == (.actions | sort)' "$T/timed" | sort -u)" "true" \
    "a delay for every planned action"
is "$(jq -c 'select(.delays.oob) | .delays.oob' "$T/timed" | sort -u)" "90" "fixed 90s is 90 s"
is "$(jq -c 'select(.delays.open) | .delays.open <= 10800' "$T/timed" | sort -u)" "true" "the cap holds (3h)"
is "$(jq -c 'select(.delays.click) | .delays.click >= .delays.open' "$T/timed" | sort -u)" "true" "a click comes after its open"
is "$(plans "$T/timed.ini" | md5sum)" "$(md5sum < "$T/timed")" "seeded: the same delays again"
{ cat "$T/base.ini"; printf '[Timing]\nOpen = lognormal 1h\n'; } > "$T/bad.ini"
err=$("$BS_BIN/decide" -c "$T/bad.ini" < /dev/null 2>&1 >/dev/null); rc=$?
is "$rc" 78 "a bad distribution: exit 78"
like "$err" 'bad\.ini:[0-9]+: \[Timing\] Open: .lognormal 1h.: expected lognormal MEDIAN SIGMA' "  named with FILE:LINE and the expected forms"

# replay.sh with a schedule: a day of model time per second.
out=$(bash "$ROOT/pipelines/replay.sh" -c "$T/timed.ini" --dry-run "$T/corpus" 2>"$T/err")
ok $? "replay.sh with [Timing] exits 0"
j() { printf '%s' "$out" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
is "$(j total_messages)" "$N" "every message counted"
held=$(grep -o 'Scheduled[^,]*' "$T/replay.log" | grep -o ' +[0-9.]*s' | wc -l)
[ "$held" -gt 0 ]; ok $? "actions held ($held)"
is "$(j actions_scheduled)" "$held" "/json actions_scheduled = actions named on the message lines"
is "$(j actions_done)" "$held" "/json actions_done: every held action performed"
is "$(grep -c ',Action ' "$T/replay.log")" "$held" "one Action line each"
is "$(printf '%s' "$out" | jq -c '.schedule.pending_total')" 0 "nothing left pending"
done_testing
