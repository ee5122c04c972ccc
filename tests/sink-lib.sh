# tests/sink-lib.sh — helpers for the tests of pipelines/sink.sh, the live sink's
# supervisor. Source it after tests/lib.sh:  . "$ROOT/tests/sink-lib.sh"
# The sink runs with $T/sink.ini, the run directory $R and the programs of $BS_BIN; what
# the supervisor and its stages print to standard error is appended to $T/sink.err (a sink
# started again after a stop adds to it). tests/e2e/common.sh sources this file too.
# shellcheck shell=bash

# sink_start [NAME=VALUE...]: start the sink in the background (NAME=VALUE: its
# environment, e.g. BS_MAX_RESTARTS=100); $sink is its pid, killed at the test's end.
sink_start() {
    bg env "$@" bash "$ROOT/pipelines/sink.sh" -c "$T/sink.ini" -d "$R" -b "$BS_BIN" 2>> "$T/sink.err"
    sink=$BG_PID
}
# stage_pid NAME: the pid of the stage NAME (listen, ingest, ...) the supervisor runs, or
# nothing; stage_up NAME: one runs.
stage_pid() { pgrep -P "$sink" -x "$1" | head -n 1; }
stage_up() { [ -n "$(stage_pid "$1")" ]; }
# sink_said ERE: how many of the supervisor's lines match ERE (after "sink.sh: ");
# sink_said_at_least N ERE: at least N of them (a condition for wait_for, wait_until).
sink_said() { grep -cE -- "sink\.sh: $1" "$T/sink.err"; }
sink_said_at_least() { [ "$(sink_said "$2")" -ge "$1" ]; }
# reloads: the reloads the supervisor finished; reloaded N: at least N.
reloads() { sink_said 'reloaded '; }
reloaded() { sink_said_at_least "$1" 'reloaded '; }
# restarts: the stages it restarted after they exited (listen alone or the chain).
restarts() { sink_said '.*(restarting it|draining and restarting the chain)$'; }
# supervisor_log: its last 12 lines as TAP comments (for a failed check).
supervisor_log() { grep 'sink\.sh: ' "$T/sink.err" | tail -n 12 | while read -r l; do diag "$l"; done; }
