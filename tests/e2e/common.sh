# tests/e2e/common.sh — the live sink for the tests (sourced after tests/lib.sh, inside the
# private network namespace): pipelines/sink.sh with bin/track-server for the tracking
# links (hits in $T/track.log) and Postfix's smtp-sink taking the ARF/DSN reports (one file
# each in $T/received/). Used by e2e/01-live-sink.t and schedule/timed-sink.sh.
# (tools/live-sink.sh, for the soak and the benchmarks, owns its own directory, clean-up
# and ports; the tests keep tests/lib.sh's T, bg and wait_port.) The sink itself is
# started and watched with tests/sink-lib.sh's helpers ($sink, stage_pid, sink_said, ...),
# with the run directory R=$T/run.
# shellcheck shell=bash
# shellcheck source=tests/sink-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sink-lib.sh"
R=$T/run

# e2e_corpus N STREAMS: ports SP (listen), WP (report), TP (track-server), RP (smtp-sink);
# $T/eml: N DKIM-signed gen-corpus messages of the streams (key file $T/dkim-keys.txt,
# manifest $T/manifest.jsonl) whose links point at the track-server.
e2e_corpus() {
    SP=$(free_port); WP=$(free_port); TP=$(free_port); RP=$(free_port)
    mkdir -p "$T/received" "$R"
    "$BS_BIN/gen-corpus" -n "$1" -f eml -o "$T/eml" --seed 7 --domain sender.test --selector s1 \
        --key "$T/dkim.key" --key-file "$T/dkim-keys.txt" --manifest "$T/manifest.jsonl" \
        --tracking-base "http://127.0.0.1:$TP" --unsubscribe-base "https://127.0.0.1:$TP" \
        --streams "$2" 2>"$T/gen.err"
    ok $? "corpus of $1 DKIM-signed messages generated"
}

# e2e_config SINK LISTEN VERIFY EXTRA: $T/sink.ini for the ports above, run directory
# $T/run; the lines SINK, LISTEN and VERIFY (newline-separated "Key = value") are added to
# [Sink], [Listen] and [Verify], EXTRA (whole sections) at the end.
e2e_config() {
    cat > "$T/sink.ini" <<EOF
[Sink]
Logfile = $T/run/consume-mail.log
Tracking_Domains_Allowlist = 127.0.0.1:$TP
Open_Click_Timeout = 30
User_Agents_File = $ROOT/data/reference/user-agents.csv
$1

[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test

[Listen]
Address = 127.0.0.1:$SP
Hostname = sink.test
Spool = $T/run/spool
Sink_Domains = bouncy-sink.test
InBand_Replies_File = $ROOT/data/reference/inband-replies.dat
Fsync = no
Records = $T/run/listen.fifo
$2

[Verify]
DKIM_Key_File = $T/dkim-keys.txt
$3

[Decide]
Seed = 5

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
$4
EOF
}

# e2e_start: the tracking server, the report receiver and the sink ($sink); 0 when all
# four listen.
e2e_start() {
    bg "$BS_BIN/track-server" -l "127.0.0.1:$TP" --log "$T/track.log" > /dev/null
    bg smtp-sink -u root -d "$T/received/%M." "127.0.0.1:$RP" 100
    e2e_sink_start && wait_port "$TP" && wait_port "$RP"
}

# e2e_sink_start: the sink alone (sink-lib's sink_start; again, after a stop), 0 when its
# SMTP (SP) and web (WP) ports listen.
e2e_sink_start() {
    # shellcheck disable=SC2119 # sink_start's arguments are extra environment: none here
    sink_start && wait_port "$SP" 20 && wait_port "$WP" 20
}
