#!/usr/bin/env bash
# Issue 22: one rule for paths (bouncy-sink.ini(5) "Paths"). A relative path written in the
# configuration is relative to the file's directory, never to the working directory; the
# shipped data (user agents, in-band replies) is found in the data directory when not set,
# wherever the program runs from. Before, every path was relative to the working directory:
# `ingest -c etc/sink.ini` from elsewhere exited 78 on its DKIM key file and decide, listen
# and act-smtp exited 78 on data/reference/... outside the repository.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mkdir -p "$T/conf" "$T/elsewhere"
# A DKIM-signed message and its key file, the key file beside the configuration.
"$BS_BIN/gen-corpus" -n 1 -f eml -o "$T/eml" --domain sender.test --selector demo \
    --key "$T/conf/dkim.key" --key-file "$T/conf/dkim-keys.txt" > /dev/null 2>&1
ok $? "gen-corpus: a signed message and its key file"
# The key file's own lines name the key by path: make it relative, as an operator would.
sed -i "s|$T/conf/||" "$T/conf/dkim-keys.txt"
printf '[Verify]\nDKIM_Key_File = dkim-keys.txt\nSPF = off\n[Listen]\nSpool = ./spool\nRecords = ../run/listen.fifo\n' > "$T/conf/sink.ini"
cd "$T/elsewhere" || exit 1

msg=$(ls "$T"/eml/*.eml | head -n 1)
out=$("$BS_BIN/ingest" -c ../conf/sink.ini "$msg" 2> "$T/ingest.err"); rc=$?
is "$rc" 0 "ingest from another directory reads the key file beside the configuration"
is "$(printf '%s\n' "$out" | jq -r .dkim.result)" pass "… and the signature verifies with it"

is "$("$BS_BIN/bs-config" -c ../conf/sink.ini Listen Spool)" "$T/conf/spool" \
    "bs-config prints a path as the programs use it: under the file's directory"
is "$("$BS_BIN/bs-config" -c ../conf/sink.ini --default Listen Records)" "$T/run/listen.fifo" \
    "… ../ from the file's directory"
is "$("$BS_BIN/bs-config" -c ../conf/sink.ini --default Report State_File)" "./report-state.json" \
    "a relative default stays relative to the working directory"
is "$("$BS_BIN/bs-config" -c ../conf/sink.ini --default Sink User_Agents_File)" \
    "$ROOT/data/reference/user-agents.csv" "shipped data: the build tree's data directory"
is "$("$BS_BIN/bs-config" -c "$ROOT/etc/bouncy-sink.ini" --default Listen Spool)" "$ROOT/run/spool" \
    "etc/bouncy-sink.ini: its ../run/spool is the repository's run/, from anywhere"

# No data/ in the working directory: the defaults still find the shipped data.
"$BS_BIN/decide" -c ../conf/sink.ini < /dev/null > /dev/null 2> "$T/decide.err"
ok $? "decide finds the user agents from any working directory"
"$BS_BIN/act-smtp" -c ../conf/sink.ini < /dev/null > /dev/null 2> "$T/act-smtp.err"
ok $? "act-smtp finds the in-band reply table from any working directory"
BS_DATA_DIR=$T/nodata "$BS_BIN/decide" -c ../conf/sink.ini < /dev/null > /dev/null 2> "$T/nodata.err"
is $? 78 "BS_DATA_DIR moves the data directory (nothing there: exit 78)"
like "$(cat "$T/nodata.err")" "User_Agents_File: .*$T/nodata/user-agents.csv" "… and the error names the file looked for"
mkdir -p "$T/data2"
printf 'UA-from-BS_DATA_DIR/1.0\n' > "$T/data2/user-agents.csv"
like "$(BS_DATA_DIR=$T/data2 "$BS_BIN/decide" -c ../conf/sink.ini --now 2026-11-24T12:00:00Z < /dev/null 2>/dev/null | head -n 1)" \
    "\"User_Agents_File\":\"$T/data2/user-agents.csv\"" "… and decide reads its user agents there"

# listen: the reply table by default, a relative TLS certificate beside the file.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=paths.test \
    -keyout "$T/conf/key.pem" -out "$T/conf/cert.pem" 2>/dev/null
port=$(free_port)
printf '[Listen]\nAddress = 127.0.0.1:%s\nSpool = spool\nTLS_Certificate = cert.pem\nTLS_Key = key.pem\n' "$port" > "$T/conf/listen.ini"
bg "$BS_BIN/listen" -c ../conf/listen.ini --records /dev/null 2> "$T/listen.err"
wait_port "$port"; ok $? "listen starts from another directory (reply table, certificate, key found)"
[ -d "$T/conf/spool" ]; ok $? "… and makes its spool beside the configuration"
unlike "$(cat "$T/listen.err")" "error" "… without an error"
done_testing
