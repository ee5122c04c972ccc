#!/usr/bin/env bash
# pipelines/replay.sh: captured files and an mbox on stdin through the real stages, --dry-run
# (no HTTP, no SMTP), the /json summary, and the captured files left untouched.
. "$(dirname "$0")/../lib.sh"
N=60
"$BS_BIN/gen-corpus" -n "$N" -f spool -o "$T/corpus" --seed 3 --domain sender.test \
    --key "$T/dkim.key" --key-file "$T/keys.txt" --tracking-base http://track.sender.test 2>/dev/null
ok $? "spool-format corpus generated"
"$BS_BIN/gen-corpus" -n "$N" -f mbox -o "$T/corpus.mbox" --seed 3 --domain sender.test \
    --key "$T/dkim.key" --key-file "$T/keys2.txt" --tracking-base http://track.sender.test 2>/dev/null
ok $? "the same corpus as an mbox"
cat > "$T/replay.ini" <<INI
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
before=$(cd "$T/corpus" && ls -l | md5sum)
# Dry run: a real request would fail here (nothing listens) and show as an error.
out=$(bash "$ROOT/pipelines/replay.sh" -c "$T/replay.ini" --dry-run "$T/corpus" 2>"$T/err")
ok $? "replay.sh exits 0"
j() { printf '%s' "$out" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
is "$(j total_messages)" "$N" "the /json summary counts every message"
is "$(j fail_dkim)" 0 "every message verified"
ok "$([ "$(j open)" -gt 0 ] && echo 0 || echo 1)" "opens planned and counted ($(j open))"
is "$(grep -c '\.msg,' "$T/replay.log")" "$N" "one log line per replayed file"
unlike "$(grep -E '\.msg,' "$T/replay.log")" '!Fetch|!FBL endpoint|!OOB not sent|!Tracking' \
    "no fetch or delivery was attempted"
is "$(cd "$T/corpus" && ls -l | md5sum)" "$before" "captured files untouched"
unlike "$(cat "$T/err")" 'report: [0-9]+/' "no progress line when stderr is not a terminal"
out2=$(bash "$ROOT/pipelines/replay.sh" -c "$T/replay.ini" --dry-run < "$T/corpus.mbox" 2>/dev/null)
ok $? "mbox on stdin replays"
is "$(printf '%s' "$out2" | python3 -c "import json,sys; print(json.load(sys.stdin)['total_messages'])")" \
    "$N" "mbox stream: every message counted"
bash "$ROOT/pipelines/replay.sh" 2>/dev/null
is "$?" 64 "usage error exits 64"
done_testing
