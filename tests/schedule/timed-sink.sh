# tests/schedule/timed-sink.sh — the live sink with a [Timing] section, for the schedule
# tests (sourced after tests/lib.sh, inside the private network namespace).
# shellcheck shell=bash
# timed_sink_config N STREAMS TIMING_LINES [PERCENT_LINES]: corpus of N signed messages and
# $T/sink.ini; PERCENT_LINES replace the [Sink] Open/Open_Again/Click/Click_Again percents.
timed_sink_config() {
    local n=$1 streams=$2 timing=$3
    local percents=${4:-"Open_percent = 55
Open_Again_percent = 20
Click_percent = 25
Click_Again_percent = 10"}
    SP=$(free_port); WP=$(free_port); TP=$(free_port); RP=$(free_port)
    mkdir -p "$T/received" "$T/run"
    "$BS_BIN/gen-corpus" -n "$n" -f eml -o "$T/eml" --seed 7 --domain sender.test --selector s1 \
        --key "$T/dkim.key" --key-file "$T/dkim-keys.txt" --manifest "$T/manifest.jsonl" \
        --tracking-base "http://127.0.0.1:$TP" --unsubscribe-base "https://127.0.0.1:$TP" \
        --streams "$streams" 2>"$T/gen.err"
    ok $? "corpus of $n DKIM-signed messages generated"
    cat > "$T/sink.ini" <<EOF
[Sink]
$percents
Upstream_Handled = 0
Logfile = $T/run/consume-mail.log
Tracking_Domains_Allowlist = 127.0.0.1:$TP
Open_Click_Timeout = 30
User_Agents_File = $ROOT/data/reference/user-agents.csv

[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test

[Listen]
Address = 127.0.0.1:$SP
Hostname = sink.test
Spool = $T/run/spool
Sink_Domains = bouncy-sink.test
InBand_Replies_File = $ROOT/data/reference/inband-replies.dat
InBand_Bounce_percent = 0
Blackhole_percent = 0
Fsync = no
Records = $T/run/listen.fifo

[Verify]
DKIM_Key_File = $T/dkim-keys.txt

[Decide]
Seed = 5

[Timing]
Store = $T/run/schedule.sqlite
$timing

[Http]
Allow_Private_Addresses = yes
Allowed_Networks = 127.0.0.0/8

[Smtp]
Relay = 127.0.0.1:$RP
MX_Override = sender.test=mx.sender.test
Timeout = 10

[Report]
Address = 127.0.0.1:$WP
State_File = $T/run/report-state.json
EOF
}

# timed_sink_start: tracking server, report receiver and the sink.
timed_sink_start() {
    bg "$BS_BIN/track-server" -l "127.0.0.1:$TP" --log "$T/track.log" > /dev/null
    bg smtp-sink -u root -d "$T/received/%M." "127.0.0.1:$RP" 100
    sink_start
    wait_port "$TP" && wait_port "$RP"
}
sink_start() {
    bg bash "$ROOT/pipelines/sink.sh" -c "$T/sink.ini" -d "$T/run" -b "$BS_BIN" 2>>"$T/sink.err"
    SINK_PID=$BG_PID
    wait_port "$SP" 20 && wait_port "$WP" 20
}
# The pid of a stage of the running sink (its parent is sink.sh).
stage_pid() { pgrep -P "$SINK_PID" -x "$1" | head -n 1; }

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
