#!/usr/bin/env bash
# Issue 14 defect 8: pipelines/sink.sh checks the configuration with `bs-config --check`:
# at start, warnings (unknown sections or keys) are printed once with FILE:LINE and the
# sink starts; a reload (SIGHUP or a changed file) is refused while the file has warnings
# or errors (an empty list item), and the stages keep running with the file they have.
# A file edited again during a reload is checked again before the stages start, and a
# stage that exits while the file on disk is a refused one is not restarted with it: a bad
# file is waited out, not started with. At start, a value a stage rejects is an error (78).
# In a private network namespace (loopback only).
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sink-lib.sh
. "$(dirname "$0")/../sink-lib.sh"
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
sink_start
wait_port "$lport"; ok $? "the sink starts with a warning in its file"
like "$(cat "$T/sink.err")" "bs-config: warning: $T/sink.ini:15: \\[Sink\\] Gather_Timout: unknown key \\(did you mean Gather_Timeout\\?\\)" \
    "start: the warning is printed with FILE:LINE and the nearest key"
is "$(grep -c 'Gather_Timout' "$T/sink.err")" 1 "start: printed once, not once per stage"

wait_for stage_up decide; ok $? "decide running"
refused() { sink_said_at_least "$1" 'configuration not reloaded'; }

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
wait_for stage_up decide
[ "$(stage_pid decide)" != "$before" ]; ok $? "the stages were restarted with it"

# Edited again while a reload stops the stages: nothing starts with the bad file. listen
# finishes an open transaction before it exits, so a connection held in one keeps the
# reload waiting while the file turns bad.
reloading() { sink_said_at_least "$1" 'reloading '; }
exec 3<> "/dev/tcp/127.0.0.1/$lport"
read -r -t 5 banner <&3
like "$banner" '^220 ' "a client connects"
printf 'EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n' >&3
conf "Open_percent = 41"
kill -HUP "$sink"
wait_for reloading 2; ok $? "a good file: the reload begins, listen waits for the open transaction"
conf "Open_precent = 41"
exec 3>&-
wait_until 20 grep -q 'has errors or warnings (above): listen waits for a good file' "$T/sink.err"
ok $? "the file turned bad meanwhile: the reload waits for a good one"
like "$(grep -c 'Open_precent' "$T/sink.err")" '^[2-9]' "... and says why with FILE:LINE"
stage_up listen; ok $((!$?)) "listen is not started with the bad file"
is "$(restarts)" 0 "no stage started with it (none exited)"
conf "Open_percent = 42"
wait_until 20 reloaded 2; ok $? "repaired: the reload goes on"
wait_port "$lport"; ok $? "listen started with the good file"
wait_for stage_up decide; ok $? "the chain started"
sleep 3
is "$(reloads)" 2 "no further reload: the file started with is the file on disk"
is "$(restarts)" 0 "no restarts"

# A good edit while the chain drains (report stopped, so the drain waits): listen, started
# before it, is started again with it, as the chain is.
banner() { exec 4<> "/dev/tcp/127.0.0.1/$lport" && read -r -t 5 b <&4; exec 4>&-; printf '%s' "$b"; }
listens() { sink_said 'listen started'; }
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

# A stage that exits while the file on disk is one a reload refused is not restarted with
# it (it would exit 78 again and again until the sink gave up with exit 75): the chain
# waits for a good file while listen goes on accepting and spooling mail; then it starts,
# the mail is processed, and a reload gives every stage the good file.
listen_conf=$(printf '[Listen]\nHostname = edited.sink.test\nSink_Domains = bouncy-sink.test')
conf "Open_percent = 44" "$listen_conf"
kill -HUP "$sink"
wait_until 20 reloaded 4; ok $? "reloaded with Sink_Domains"
wait_port "$lport"
conf "Open_percent = 44" "$listen_conf
$(printf '[Http]\nMax_In_Flight = lots')"
kill -HUP "$sink"
wait_for refused 3; ok $? "a value act-http rejects: not reloaded"
r0=$(restarts)
kill -9 "$(stage_pid decide)"
wait_until 20 grep -q 'has errors or warnings (above): the chain waits for a good file' "$T/sink.err"
ok $? "decide killed: the chain waits for a good file"
sleep 4
stage_up act-http; ok $((!$?)) "the chain is not started with the refused file"
kill -0 "$sink"; ok $? "the sink does not give up"
is "$(restarts)" $((r0 + 1)) "one restart, not a loop of them"
printf 'From: a@sender.test\nTo: waiting@accept.bouncy-sink.test\nSubject: waiting\n\nhello\n' > "$T/waiting.eml"
python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$lport" -c 1 --json "$T/waiting.eml" > "$T/sent.json" 2> "$T/send.err"
is "$(jq -r .accepted "$T/sent.json")" 1 "listen accepts mail meanwhile"
is "$(find "$R/spool" -name '*.msg' | wc -l)" 1 "... and spools it"
logged() { log_cat "$R/consume-mail.log" | grep -q ',waiting@accept\.bouncy-sink\.test,'; }
logged; ok $((!$?)) "... not processed while the chain waits"
conf "Open_percent = 45" "$listen_conf"
wait_until 20 stage_up act-http; ok $? "repaired: the chain starts"
wait_until 20 logged; ok $? "the spooled message is processed"
wait_until 40 reloaded 5; ok $? "and a reload gives listen the repaired file too"
is "$(restarts)" $((r0 + 1)) "no further restart"

kill -TERM "$sink"; wait "$sink"; is "$?" 0 "SIGTERM: exit 0"

# At start, a file a stage rejects (bs-config --check does not open the DKIM key file) is
# an error: exit 78 with the stage's FILE:LINE, and no stage started (before, the stages
# exited 78 until the sink gave up with exit 75).
conf "Open_percent = 45" "$(printf '[Verify]\nDKIM_Key_File = missing-keys.txt')"
"$BS_BIN/bs-config" -c "$T/sink.ini" --check; is "$?" 0 "bs-config --check passes the file"
timeout 60 bash "$ROOT/pipelines/sink.sh" -c "$T/sink.ini" -d "$R" -b "$BS_BIN" 2> "$T/start.err"
is "$?" 78 "start with a DKIM key file ingest cannot read: exit 78"
like "$(cat "$T/start.err")" "sink\.ini:[0-9]+: \\[Verify\\] DKIM_Key_File: cannot read $T/missing-keys\.txt" \
    "... with ingest's FILE:LINE diagnostic"
is "$(grep -cE 'sink\.sh: (listen|chain) started' "$T/start.err")" 0 "... and no stage started"
done_testing
