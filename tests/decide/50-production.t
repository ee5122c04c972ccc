#!/usr/bin/env bash
# decide with the production data/reference/consume-mail.ini, unchanged: its
# User_Agents_File = ./user-agents.csv is relative to the file's directory
# (bouncy-sink.ini(5) "Paths"), so it loads from any working directory, here one that
# holds another copy of the file.
. "$(dirname "$0")/../lib.sh"
cp "$REF/user-agents.csv" "$T/"
cd "$T" || exit 1
INI=$REF/consume-mail.ini
msg='{"v":1,"kind":"message","id":"p1","ts":"2026-11-24T20:05:10.387Z","envelope":{"rcpt":"test+a5@bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}}'

out=$(echo "$msg" | TZ=UTC "$BS_BIN/decide" -c "$INI" --seed 1 --now 2026-11-24T12:00:00Z 2>"$T/err"); rc=$?
is "$rc" 0 "production consume-mail.ini loads unchanged"
p=$(printf '%s\n' "$out" | head -n 1)
like "$p" '"OOB_percent":0.5,"FBL_percent":0.01,"Open_percent":55.0,"Open_Again_percent":10.0,"Click_percent":15.0,"Click_Again_percent":3.0,"Upstream_Handled":50.0' \
    "raw [Sink] values"
like "$p" '"Weekly_Cycle_Open_Rate":\[1.0,0.1,0.1,0.2,1.0,1.0,1.0,1.0,0.5,0.7,1.0,1.0,1.0,1.0\]' "Weekly_Cycle_Open_Rate, 14 entries"
like "$p" '"Signals_Traffic_Prefix":"test","digit_day_counts":\[0,17,31,31,31,2,31,31,31,31\]' \
    "Digit0_days = 0 is never (0 days); Digit1 17 days; Digit5 2 days"
like "$p" '"share":0.5,"p_oob":0.01,"p_fbl":0.0002,"p_open":1.1,"p_open_again":0.2,"p_click":0.3,"p_click_again":0.06' \
    "X_percent/100/share"
# density = (0+17+31*7+2)/(10*31) = 236/310
like "$p" '"density":0.761290322580645' "density 236/310"
# Tue 2026-11-24, ISO week 48 (even): index 1, rate 0.1, factor 0.1/0.76129 = 0.131356
like "$p" '"today":\{"day_of_month":24,"isoweek":48,"isoweekday":2,"index":1,"weekly_open_rate":0.1,"factor":0.13135593220339,' \
    "Tuesday of an even week: index 1, factor 0.1/density"
# open = clip01(1.1*f), conditionals from the clipped values
like "$p" '"open":0.144491525423729,"open_again":0.026271186440678,"click":0.039406779661017,"click_again":0.00788135593220339,"open_again_given_open":0.181818181818182,"click_given_open":0.272727272727273,"click_again_given_click":0.2' \
    "day probabilities and conditionals"
like "$(printf '%s\n' "$out" | tail -n 1)" '"signals":\{"digit":5,"allowed":false\}' "Digit5_days = 3,18: not on the 24th"
like "$(cat "$T/err")" '^decide: start: params \(.*consume-mail.ini\): OOB=0.5 FBL=0.01 Open=55 ' "stderr line"

p=$(echo "$msg" | TZ=UTC "$BS_BIN/decide" -c "$INI" --now 2026-12-01T12:00:00Z 2>/dev/null | head -n 1)
like "$p" '"isoweek":49,"isoweekday":2,"index":8,"weekly_open_rate":0.5,"factor":0.656779661016949,' \
    "Tuesday of an odd week: index 8, factor 0.5/density"
p=$(echo "$msg" | TZ=UTC "$BS_BIN/decide" -c "$INI" --now 2026-11-23T12:00:00Z 2>/dev/null | head -n 1)
like "$p" '"index":0,"weekly_open_rate":1.0,"factor":1.0,"oob":0.01,"fbl":0.0002,"open":1.0,"open_again":0.2,"click":0.3,"click_again":0.06,"open_again_given_open":0.2,' \
    "Monday: factor clip01(1/density) = 1, Open clipped to 1, OpenAgain|Open = 0.2/1"
out=$(echo "$msg" | TZ=UTC "$BS_BIN/decide" -c "$INI" --now 2026-11-18T12:00:00Z 2>/dev/null | tail -n 1)
like "$out" '"signals":\{"digit":5,"allowed":true\}' "Digit5_days = 3,18: allowed on the 18th"
done_testing
