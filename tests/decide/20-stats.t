#!/usr/bin/env bash
# decide statistical test: 100,000 generated records per population; every observed
# proportion (OOB, FBL, Open, OpenAgain, Click, ClickAgain, accept, unsubscribe; per
# stream) against the SPEC A4 formulas within 4 sigma, including a Tuesday with a
# Weekly_Cycle_Open_Rate factor below 1 and a Signals-prefix population. See stats-check.py.
. "$(dirname "$0")/../lib.sh"
export ROOT BS_BIN T
python3 "$ROOT/tests/decide/stats-check.py" >"$T/results" 2>"$T/err"
rc=$?
is "$rc" 0 "stats-check.py ran"
[ "$rc" = 0 ] || diag "$(tail -5 "$T/err")"
while IFS= read -r line; do
    case "$line" in
        "ok "*) pass "${line#ok }" ;;
        "not ok "*) fail "${line#not ok }" ;;
    esac
done <"$T/results"
done_testing
