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
# The readers below take the log with its rotated files (log_cat): a run across local
# midnight has its lines in two files.
# scheduled_ids: "<id>/<action>" for every action a message line scheduled.
scheduled_ids() {
    python3 - <(log_cat "$LOG") <<'PY'
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
action_ids() { log_cat "$LOG" | awk -F, '{ split($8, a, " ") } a[1] == "Action" { print a[3] }'; }
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
# sink_state: what a wait that timed out needs to name its cause, as diagnostics: per log
# file its message and action lines, report's counters and schedule's status (/json), the
# store's actions by state (0 pending, 1 claimed, 2 done), the stages alive (with the
# kernel function each waits in) and the end of the sink's stderr.
sink_state() {
    local f p s
    diag "--- sink state at $(date -u +%FT%T.%3NZ) (log times are local, TZ=${TZ:-unset}) ---"
    for f in "$LOG".[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "$LOG"; do
        [ -f "$f" ] || continue
        diag "$(basename "$f"): $(grep ',consume-mail,[A-Z]*,[^,]*\.msg,' "$f" | grep -vc ',Action ')" \
            "message lines, $(grep -c ',Action ' "$f") Action lines, last: $(tail -n 1 "$f" | cut -c1-160)"
    done
    diag "report /json: $(curl -fsS -m 5 "http://127.0.0.1:$WP/json" 2>&1 | python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
except ValueError:
    print("unreadable"); sys.exit()
print({k: j.get(k) for k in ("total_messages", "settle_refused", "actions_repeated")},
      "schedule:", j.get("schedule"))' 2>&1)"
    diag "store actions by state: $(sqlite3 "$T/run/schedule.sqlite" \
        'SELECT state, count(*) FROM actions GROUP BY state' 2>&1 | tr '\n' ' ')"
    for s in listen ingest decide schedule act-http act-smtp report; do
        p=$(stage_pid "$s")
        diag "$s: ${p:-not running}${p:+ ($(cat "/proc/$p/wchan" 2>/dev/null), $(grep -E '^State' "/proc/$p/status" 2>/dev/null | tr -s '\t ' ' '))}"
    done
    tail -n 5 "$T/sink.err" 2>/dev/null | while IFS= read -r l; do diag "sink.err: $l"; done
}
