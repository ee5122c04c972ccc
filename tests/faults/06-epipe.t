#!/usr/bin/env bash
# faults: every stage's output failing — a reader that goes away (EPIPE) and a closed
# standard output (the descriptor must not be taken over by a socket the tool opens, which
# used to happen to act-http and act-smtp) — is exit 74 with `tool: ...: write error` on
# stderr, no crash, no signal. Already covered elsewhere and not repeated here: decide EPIPE
# (decide/60-records.t), act-smtp EPIPE (act-smtp/07-cli.t), ingest ENOSPC
# (ingest/20-cli.t). listen's own records output: listen warns and goes on (see its man
# page), checked at the end.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1   # decide finds its default data files from the top
rec='{"v":1,"kind":"message","id":"m1","ts":"2026-11-24T20:05:10Z","headers":{"to":"a@accept.bouncy-sink.test","from":"f@sender.test","return_path":"b@sender.test"}}'
for _ in $(seq 1 3000); do printf '%s\n' "$rec"; done > "$T/many.ndjson"
printf '[Sink]\nLogfile = %s/r.log\n' "$T" > "$T/r.ini"
mkdir "$T/msgs"; for i in $(seq 1 200); do cp "$REF/sparkpost-sample.msg" "$T/msgs/$i.msg"; done

check() { # check NAME MODE CMD...: MODE epipe (reader gone) or closed (stdout closed)
    local name=$1 mode=$2 rc
    shift 2
    if [ "$mode" = epipe ]; then
        "$@" < "$T/many.ndjson" 2> "$T/err" | head -c 0
        rc=${PIPESTATUS[0]}
    else
        "$@" < "$T/many.ndjson" 2> "$T/err" >&-
        rc=$?
    fi
    is "$rc" 74 "$name, $mode: exit 74"
    like "$(head -c 400 "$T/err")" "^$name: (fatal|error): .*(write|cannot write).*(stdout|standard output)" "$name, $mode: says so"
    unlike "$(cat "$T/err")" "AddressSanitizer|runtime error|Segmentation" "$name, $mode: no crash"
}
check act-http epipe "$BS_BIN/act-http" --dry-run
check act-http closed "$BS_BIN/act-http" --dry-run
check act-smtp closed "$BS_BIN/act-smtp" --dry-run
check decide closed "$BS_BIN/decide" --seed 1
check ingest epipe "$BS_BIN/ingest" -j 1 "$T/msgs"
check ingest closed "$BS_BIN/ingest" -j 1 "$T/msgs"
check report epipe "$BS_BIN/report" -c "$T/r.ini" --once
check report closed "$BS_BIN/report" -c "$T/r.ini" --once
check gen-corpus epipe "$BS_BIN/gen-corpus" -n 300 -f mbox --no-sign --seed 1
check gen-corpus closed "$BS_BIN/gen-corpus" -n 5 -f mbox --no-sign --seed 1

# listen with its records on standard output and the reader gone: warns, keeps serving.
. "$ROOT/tests/listen/common.sh"
port=$(free_port)
write_config "$T/l.ini" "$port"
bg bash -c "'$BS_BIN/listen' -c '$T/l.ini' 2> '$T/listen.err' | head -c 0"
wait_port "$port" 10
out=$(smtp_py "$port" <<'PY'
for i in range(3):
    s = smtplib.SMTP('127.0.0.1', port)
    s.ehlo('x'); s.docmd('MAIL FROM:<a@b.test>')
    print('rcpt', s.docmd('RCPT TO:<550@inband.bouncy-sink.test>')[0])
    s.quit()
PY
)
is "$(printf '%s\n' "$out" | grep -c '^rcpt 550')" 3 "listen: records output gone, SMTP still served"
lpid=$(pgrep -f "listen -c $T/l.ini" | head -n 1)
[ -n "$lpid" ]; ok $? "listen: still running"
[ -n "$lpid" ] && kill -TERM "$lpid"
wait_for grep -q 'messages' "$T/listen.err"
like "$(cat "$T/listen.err")" "warning: .*(record|stdout|standard output)" "listen: the lost records are warned about"
unlike "$(cat "$T/listen.err")" "AddressSanitizer|runtime error" "listen: no crash"
done_testing
