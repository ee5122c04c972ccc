#!/usr/bin/env bash
# Issue 14 defect 8: pipelines/sink.sh checks the configuration with `bs-config --check`:
# at start, warnings (unknown sections or keys) are printed once with FILE:LINE and the
# sink starts; a reload (SIGHUP or a changed file) is refused while the file has warnings
# or errors (an empty list item), and the stages keep running with the file they have.
# A file edited again during a reload is checked again before the stages start: a bad one
# is waited out, not started with.
# In a private network namespace (loopback only).
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
ip link set lo up; ok $? "loopback up in the private network namespace"

R=$T/run
mkdir -p "$R"
lport=$(free_port) rport=$(free_port)
# conf [EXTRA [MORE]]: the configuration, with EXTRA lines at the end of [Sink], then MORE.
conf() {
    cat > "$T/sink.ini.new" <<INI
[Listen]
Address = 127.0.0.1:$lport
Spool = $R/spool
Fsync = no
Records = $R/listen.fifo
InBand_Replies_File = $REF/inband-replies.dat

[Report]
Address = 127.0.0.1:$rport
State_File = $R/report-state.json

[Sink]
Logfile = $R/consume-mail.log
User_Agents_File = $REF/user-agents.csv
${1:-}
${2:-}
INI
    mv "$T/sink.ini.new" "$T/sink.ini"
}
conf "Gather_Timout = 60"
bash "$ROOT/pipelines/sink.sh" -c "$T/sink.ini" -d "$R" -b "$BS_BIN" 2> "$T/sink.err" &
sink=$!
_bg_pids+=("$sink")
wait_port "$lport"; ok $? "the sink starts with a warning in its file"
like "$(cat "$T/sink.err")" "bs-config: warning: $T/sink.ini:15: \\[Sink\\] Gather_Timout: unknown key \\(did you mean Gather_Timeout\\?\\)" \
    "start: the warning is printed with FILE:LINE and the nearest key"
is "$(grep -c 'Gather_Timout' "$T/sink.err")" 1 "start: printed once, not once per stage"

stage_pid() { pgrep -P "$sink" -x "$1" | head -n 1; }
running() { [ -n "$(stage_pid "$1")" ]; }
wait_for running decide; ok $? "decide running"
reloads() { grep -c 'sink.sh: reloaded ' "$T/sink.err"; }
refused() { [ "$(grep -c 'configuration not reloaded' "$T/sink.err")" -ge "$1" ]; }
reloaded() { [ "$(reloads)" -ge "$1" ]; }

# A typo: the reload is refused, the stages keep running.
before=$(stage_pid decide)
conf "Open_precent = 40"
kill -HUP "$sink"
wait_for refused 1; ok $? "a file with a typo is not reloaded"
like "$(cat "$T/sink.err")" "sink.ini:15: \\[Sink\\] Open_precent: unknown key \\(did you mean Open_percent\\?\\)" \
    "the refusal names FILE:LINE and the nearest key"
is "$(stage_pid decide)" "$before" "the stages keep running"
is "$(reloads)" 0 "nothing reloaded"

# An empty list item: refused too.
conf "Weekly_Cycle_Open_Rate = ,,,,,,"
kill -HUP "$sink"
wait_for refused 2; ok $? "a file with ,,,,,, is not reloaded"
like "$(cat "$T/sink.err")" "sink.ini:15: \\[Sink\\] Weekly_Cycle_Open_Rate: item 1 is empty" "... with FILE:LINE: why"
is "$(stage_pid decide)" "$before" "the stages keep running"

# Repaired: reloaded.
conf "Open_percent = 40"
kill -HUP "$sink"
wait_for reloaded 1; ok $? "the repaired file is reloaded"
wait_for running decide
[ "$(stage_pid decide)" != "$before" ]; ok $? "the stages were restarted with it"

# Edited again while a reload stops the stages: nothing starts with the bad file. listen
# finishes an open transaction before it exits, so a connection held in one keeps the
# reload waiting while the file turns bad.
reloading() { [ "$(grep -c 'sink.sh: reloading ' "$T/sink.err")" -ge "$1" ]; }
restarts() { grep -c 'restarting it$\|draining and restarting the chain$' "$T/sink.err"; }
exec 3<> "/dev/tcp/127.0.0.1/$lport"
read -r -t 5 banner <&3
like "$banner" '^220 ' "a client connects"
printf 'EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n' >&3
conf "Open_percent = 41"
kill -HUP "$sink"
wait_for reloading 2; ok $? "a good file: the reload begins, listen waits for the open transaction"
conf "Open_precent = 41"
exec 3>&-
wait_until 20 grep -q 'changed during the reload and has errors' "$T/sink.err"
ok $? "the file turned bad meanwhile: the reload waits for a good one"
like "$(grep -c 'Open_precent' "$T/sink.err")" '^[2-9]' "... and says why with FILE:LINE"
running listen; ok $((!$?)) "listen is not started with the bad file"
is "$(restarts)" 0 "no stage started with it (none exited)"
conf "Open_percent = 42"
wait_until 20 reloaded 2; ok $? "repaired: the reload goes on"
wait_port "$lport"; ok $? "listen started with the good file"
wait_for running decide; ok $? "the chain started"
sleep 3
is "$(reloads)" 2 "no further reload: the file started with is the file on disk"
is "$(restarts)" 0 "no restarts"

# A good edit while the chain drains (report stopped, so the drain waits): listen, started
# before it, is started again with it, as the chain is.
banner() { exec 4<> "/dev/tcp/127.0.0.1/$lport" && read -r -t 5 b <&4; exec 4>&-; printf '%s' "$b"; }
listens() { grep -c 'sink.sh: listen started' "$T/sink.err"; }
listens_over() { [ "$(listens)" -gt "$1" ]; }
rep=$(stage_pid report)
kill -STOP "$rep"
conf "Open_percent = 43"
kill -HUP "$sink"
n=$(listens)
wait_for reloading 3; ok $? "a reload begins while report is stopped"
wait_for listens_over "$n"; ok $? "listen is started again; the chain drains"
conf "Open_percent = 43" "$(printf '[Listen]\nHostname = edited.sink.test')"
sleep 1.5
kill -CONT "$rep"
wait_until 20 reloaded 3; ok $? "the reload ends"
wait_port "$lport"
like "$(banner)" '^220 edited\.sink\.test ' "listen serves the file edited while the chain drained"
sleep 3
is "$(reloads)" 3 "no further reload"
is "$(restarts)" 0 "no restarts"

kill -TERM "$sink"; wait "$sink"; is "$?" 0 "SIGTERM: exit 0"
done_testing
