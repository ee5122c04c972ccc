# tests/schedule/timed-sink.sh — the live sink (tests/e2e/common.sh) with a [Timing]
# section, for the schedule tests (sourced after tests/lib.sh, inside the private network
# namespace).
# shellcheck shell=bash
# shellcheck source=tests/e2e/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/common.sh"

# timed_sink_config N STREAMS TIMING_LINES [PERCENT_LINES]: corpus of N signed messages and
# $T/sink.ini; PERCENT_LINES replace the [Sink] Open/Open_Again/Click/Click_Again percents.
timed_sink_config() {
    local percents=${4:-"Open_percent = 55
Open_Again_percent = 20
Click_percent = 25
Click_Again_percent = 10"}
    e2e_corpus "$1" "$2"
    e2e_config "$percents
Upstream_Handled = 0" "InBand_Bounce_percent = 0
Blackhole_percent = 0" "" "
[Timing]
Store = $T/run/schedule.sqlite
$3"
}

# timed_sink_start: tracking server, report receiver and the sink.
timed_sink_start() { e2e_start; }

LOG=$T/run/consume-mail.log
# scheduled_ids: "<id>/<action>" for every action a message line scheduled.
scheduled_ids() {
    python3 - "$LOG" <<'PY'
import re, sys
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    p = l.rstrip("\n").split(",", 7)
    if len(p) == 8 and p[4].endswith(".msg"):
        mid = p[4].rsplit("/", 1)[-1][:-4]
        for m in re.finditer(r"(?:^|,)Scheduled((?: \w+ \+[\d.]+s \S+)+)", p[7]):
            for name in re.findall(r" (\w+) \+", m.group(1)):
                print("%s/%s" % (mid, name))
PY
}
# action_ids: the id of every Action line (one line per action performed).
action_ids() { awk -F, '{ split($8, a, " ") } a[1] == "Action" { print a[3] }' "$LOG"; }
# wait_progress TARGET CMD...: wait until CMD prints a number >= TARGET, for as long as the
# number keeps growing (a loaded machine is slow, not stuck): 1 after 60 s without progress.
wait_progress() {
    local target=$1 last=-1 still=0 n
    shift
    while :; do
        n=$("$@")
        [ "$n" -ge "$target" ] && return 0
        if [ "$n" -gt "$last" ]; then last=$n still=0; else still=$((still + 1)); fi
        [ "$still" -ge 300 ] && return 1
        sleep 0.2
    done
}
