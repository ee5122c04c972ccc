#!/usr/bin/env bash
# decide golden tests: a model whose probabilities are all 0 or 1 (golden/golden.ini), a
# fixed seed and a fixed --now give plans that follow from SPEC A2-A4 by reasoning; the
# expected files golden/golden-*.out were written from that reasoning (see the comments in
# golden.ini): routing, gate, Signals day gate, weekly cycle index, local time, pass-through.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
G=tests/decide/golden

run() { # TZ NOW
    TZ=$1 "$BS_BIN/decide" -c $G/golden.ini --seed 7 --now "$2" <$G/golden.in 2>"$T/err"
}

out=$(run UTC 2026-11-24T12:00:00Z); rc=$?
is "$rc" 0 "exit 0"
is "$(printf '%s\n' "$out" | tail -n +2)" "$(cat $G/golden-d24.out)" \
    "Tue 2026-11-24 (ISO week 48, even: index 1, factor 1, day 24): expected plans"
first=$(printf '%s\n' "$out" | head -n 1)
like "$first" '^\{"v":1,"kind":"params","id":"params-1","ts":"2026-11-24T12:00:00.000Z","source":"tests/decide/golden/golden.ini","reason":"start"' \
    "first record: params at start, at the --now time"
like "$first" '"today":\{"day_of_month":24,"isoweek":48,"isoweekday":2,"index":1,"weekly_open_rate":1.0,"factor":1.0,' \
    "params: today's index and factor"
like "$first" '"density":0.133333333333333' "params: density (0+1+3)/(10*3)"
like "$first" '"open_again_given_open":0.0,"click_given_open":1.0,"click_again_given_click":1.0' \
    "params: conditional probabilities"
like "$(cat "$T/err")" '^decide: start: params \(tests/decide/golden/golden.ini\): .*factor=1 ' \
    "parameters logged on stderr"

out=$(run UTC 2026-12-01T12:00:00Z)
is "$(printf '%s\n' "$out" | tail -n +2)" "$(cat $G/golden-d01.out)" \
    "Tue 2026-12-01 (ISO week 49, odd: index 8, Weekly_Cycle_Open_Rate 0, day 1): expected plans"
like "$(printf '%s\n' "$out" | head -n 1)" '"index":8,"weekly_open_rate":0.0,"factor":0.0,' \
    "params: index 8, factor 0"

out=$(run UTC-14 2026-11-24T12:00:00Z)
is "$(printf '%s\n' "$out" | tail -n +2)" "$(cat $G/golden-k25.out)" \
    "TZ UTC-14: local Wed 2026-11-25 02:00 (index 2, day 25): expected plans"

a=$(run UTC 2026-11-24T12:00:00Z | md5sum)
b=$(run UTC 2026-11-24T12:00:00Z | md5sum)
is "$a" "$b" "same seed, input and --now: byte-identical output"
done_testing
