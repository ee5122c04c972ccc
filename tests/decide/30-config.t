#!/usr/bin/env bash
# decide configuration errors: each gives exit 78 and `FILE:LINE: [Section] Key: why`
# on stderr (never a crash); command-line errors give exit 64.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
UA=$ROOT/data/reference/user-agents.csv

# bad DESC REGEX <<ini  — the [Sink] lines given, after a valid User_Agents_File (unless NOUA)
bad() {
    { echo "[Sink]"; [ -n "${NOUA:-}" ] || echo "User_Agents_File = $UA"; cat; } >"$T/bad.ini"
    err=$("$BS_BIN/decide" -c "$T/bad.ini" </dev/null 2>&1 >"$T/out"); rc=$?
    is "$rc" 78 "$1: exit 78"
    like "$err" "^decide: fatal: $T/bad.ini:$2" "$1: message"
    is "$(wc -c <"$T/out")" 0 "$1: no output"
}

bad "OpenAgain|Open > 1" '4: \[Sink\] Open_Again_percent: 60 > Open_percent 55: OpenAgain\|Open = 1.09091 is outside \[0, 1\]' <<'EOF2'
Open_percent = 55
Open_Again_percent = 60
EOF2
bad "Click|Open > 1" '4: \[Sink\] Click_percent: 20 > Open_percent 10: Click\|Open = 2 is outside \[0, 1\]' <<'EOF2'
Open_percent = 10
Click_percent = 20
Open_Again_percent = 5
EOF2
bad "ClickAgain|Click > 1" '3: \[Sink\] Click_Again_percent: 16 > Click_percent 15: ClickAgain\|Click' <<'EOF2'
Click_Again_percent = 16
EOF2
bad "zero divisor Open" '3: \[Sink\] Open_percent: 0 makes OpenAgain\|Open = Open_Again_percent / Open_percent a division by zero' <<'EOF2'
Open_percent = 0
Open_Again_percent = 0
Click_percent = 0
Click_Again_percent = 0
EOF2
bad "zero divisor Click" '3: \[Sink\] Click_percent: 0 makes ClickAgain\|Click' <<'EOF2'
Click_percent = 0
Click_Again_percent = 0
EOF2
bad "Upstream_Handled 100" '3: \[Sink\] Upstream_Handled: 100 leaves this process no traffic' <<'EOF2'
Upstream_Handled = 100
EOF2
bad "percent out of range" '3: \[Sink\] OOB_percent: 150 is out of range \[0, 100\]' <<'EOF2'
OOB_percent = 150
EOF2
bad "negative percent" '3: \[Sink\] FBL_percent: -1 is out of range' <<'EOF2'
FBL_percent = -1
EOF2
bad "non-number" "3: \\[Sink\\] Open_percent: 'lots' is not a number" <<'EOF2'
Open_percent = lots
EOF2
bad "Weekly_Cycle_Open_Rate length 6" '3: \[Sink\] Weekly_Cycle_Open_Rate: 6 entries is not a multiple of 7' <<'EOF2'
Weekly_Cycle_Open_Rate = 1,1,1,1,1,1
EOF2
bad "Weekly_Cycle_Bounce_Rate length 8" '3: \[Sink\] Weekly_Cycle_Bounce_Rate: 8 entries is not a multiple of 7' <<'EOF2'
Weekly_Cycle_Bounce_Rate = 4,4,4,4,4,4,4,4
EOF2
bad "Weekly_Cycle_Suppressions_Purge length 13" '3: \[Sink\] Weekly_Cycle_Suppressions_Purge: 13 entries is not a multiple of 7' <<'EOF2'
Weekly_Cycle_Suppressions_Purge = 0,0,0,0,0,0,0,0,0,0,0,0,1
EOF2
bad "Weekly_Cycle_Open_Rate non-number" "3: \\[Sink\\] Weekly_Cycle_Open_Rate: item 2, 'x', is not a number" <<'EOF2'
Weekly_Cycle_Open_Rate = 1,x,1,1,1,1,1
EOF2
bad "Weekly_Cycle_Open_Rate negative" '3: \[Sink\] Weekly_Cycle_Open_Rate: item 7, -1, is out of range' <<'EOF2'
Weekly_Cycle_Open_Rate = 1,1,1,1,1,1,-1
EOF2
bad "Weekly_Cycle_Bounce_Rate over 100" '3: \[Sink\] Weekly_Cycle_Bounce_Rate: item 1, 101, is out of range \[0, 100\]' <<'EOF2'
Weekly_Cycle_Bounce_Rate = 101,4,4,4,4,4,4
EOF2
bad "Digit day 32" '4: \[Sink\] Digit3_days: item 2, 32, is not a day of the month' <<'EOF2'
Signals_Traffic_Prefix = test
Digit3_days = 1,32
EOF2
bad "Digit days 0 with days" '4: \[Sink\] Digit3_days: 0 \(never\) cannot be combined with days' <<'EOF2'
Signals_Traffic_Prefix = test
Digit3_days = 0,5
EOF2
bad "Signals prefix without any day" '3: \[Sink\] Signals_Traffic_Prefix: set, but no Digit0_days..Digit9_days lists a day' <<'EOF2'
Signals_Traffic_Prefix = test
Digit0_days = 0
EOF2
NOUA=1 bad "missing User_Agents_File" "2: \\[Sink\\] User_Agents_File: cannot open /nonexistent/ua.csv: No such file or directory" <<'EOF2'
User_Agents_File = /nonexistent/ua.csv
EOF2
printf 'Software,OS\n' >"$T/empty.csv"
NOUA=1 bad "User_Agents_File without agents" "2: \\[Sink\\] User_Agents_File: $T/empty.csv: no User-Agent in the first column" <<EOF2
User_Agents_File = $T/empty.csv
EOF2
bad "SPF_Required unknown stream" "4: \\[Decide\\] SPF_Required: 'oops' is not a stream" <<'EOF2'
[Decide]
SPF_Required = oob, oops
EOF2
bad "Unsubscribe_percent over 100" '4: \[Decide\] Unsubscribe_percent: 101 is out of range \[0, 100\]' <<'EOF2'
[Decide]
Unsubscribe_percent = 101
EOF2
bad "OOTO_percent negative" '4: \[Decide\] OOTO_percent: -1 is out of range \[0, 100\]' <<'EOF2'
[Decide]
OOTO_percent = -1
EOF2
bad "SPF_Required: ooto is a stream" "5: \\[Decide\\] Seed: 'x' is not a whole number" <<'EOF2'
[Decide]
SPF_Required = ooto, unsub
Seed = x
EOF2
bad "Seed not a number" "4: \\[Decide\\] Seed: '-3' is not a whole number" <<'EOF2'
[Decide]
Seed = -3
EOF2
bad "INI syntax error" '3: syntax error' <<'EOF2'
this is not ini
EOF2

# No User_Agents_File: the data directory's user-agents.csv.
printf '[Sink]\nOpen_percent = 40\n' >"$T/noua.ini"
# Not set: the shipped file of the data directory (bouncy-sink.ini(5) "Paths"), from any
# working directory; with BS_DATA_DIR naming an empty directory there is none.
err=$(cd "$T" && BS_DATA_DIR=$T/nodata "$BS_BIN/decide" -c noua.ini </dev/null 2>&1 >/dev/null); rc=$?
is "$rc" 78 "no User_Agents_File and no fallback: exit 78"
like "$err" "^decide: fatal: noua.ini: \\[Sink\\] User_Agents_File: not set, and the fallback: cannot open $T/nodata/user-agents.csv" \
    "no User_Agents_File and no fallback: message"
# ... while the data directory's file is found from anywhere.
out=$(cd "$T" && "$BS_BIN/decide" -c noua.ini </dev/null 2>/dev/null); rc=$?
is "$rc" 0 "no User_Agents_File: fallback data/reference/user-agents.csv"
like "$out" "\"User_Agents_File\":\"$ROOT/data/reference/user-agents.csv\",\"user_agents\":50" "fallback: 50 agents"

err=$("$BS_BIN/decide" -c "$T/does-not-exist.ini" </dev/null 2>&1 >/dev/null); rc=$?
is "$rc" 78 "missing -c file: exit 78"
like "$err" "does-not-exist.ini: cannot open" "missing -c file: message"

# Command line.
for args in "--bogus" "--seed abc" "--seed -1" "--now yesterday" "extra-arg" "-c"; do
    # shellcheck disable=SC2086
    err=$("$BS_BIN/decide" $args </dev/null 2>&1 >/dev/null); rc=$?
    is "$rc" 64 "command line '$args': exit 64"
    like "$err" "usage: decide" "command line '$args': usage on stderr"
done
out=$("$BS_BIN/decide" -h 2>&1); rc=$?
is "$rc" 0 "-h: exit 0"
like "$out" "usage: decide \[-c FILE\] \[--seed N\] \[--now TIME\]" "-h: usage"

# Without -c: all defaults (the production model).
out=$(printf '' | "$BS_BIN/decide" 2>/dev/null); rc=$?
is "$rc" 0 "no -c: defaults"
like "$out" '"source":"\(defaults\)","reason":"start","params":\{"OOB_percent":0.5,"FBL_percent":0.01,"Open_percent":55.0,"Open_Again_percent":10.0,"Click_percent":15.0,"Click_Again_percent":3.0,"Upstream_Handled":50.0' \
    "no -c: default [Sink] values"
like "$out" '"SPF_Required":\["oob","fbl","ooto"\],.*"OOTO_percent":0.0,' "no -c: SPF_Required oob, fbl, ooto; OOTO_percent 0"
# The ooto stream sends mail back, so by default it needs SPF pass like oob and fbl.
python3 tests/decide/gen-records.py 2 'x@ooto.bouncy-sink.test' --spf softfail >"$T/ooto.in"
out=$("$BS_BIN/decide" --seed 1 <"$T/ooto.in" 2>/dev/null | tail -n +2 | jq -c '[.plan.stream, .plan.actions, .plan.skip]' | sort -u)
is "$out" '["ooto",[],"!SPF fail: softfail"]' "ooto stream: SPF fail skips by default"
out=$("$BS_BIN/decide" --seed 1 < <(python3 tests/decide/gen-records.py 2 'x@ooto.bouncy-sink.test') 2>/dev/null | tail -n +2 | jq -c '[.plan.stream, .plan.actions]' | sort -u)
is "$out" '["ooto",["ooto"]]' "ooto stream: SPF pass plans ooto"
done_testing
