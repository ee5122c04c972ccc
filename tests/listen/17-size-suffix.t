#!/usr/bin/env bash
# Issue 22: [Listen] Max_Message_Size takes the size suffixes that [Ingest]'s size settings
# take (K, M, G: 1024-based); before, `Max_Message_Size = 50M` worked in [Ingest] and was
# refused by listen (exit 78).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(free_port)
write_config "$T/c.ini" "$port" "Max_Message_Size = 20K"
"$BS_BIN/bs-config" -c "$T/c.ini" --check; ok $? "bs-config --check accepts Max_Message_Size = 20K"
start_listen "$T/c.ini"
out=$(swaks -s 127.0.0.1 -p "$port" -h mta.sender.test -f bounce@sender.test \
    -t user@accept.bouncy-sink.test --body 'hello' 2>&1)
like "$out" '250-SIZE 20480' "EHLO offers SIZE 20480 for 20K"
like "$(swaks -s 127.0.0.1 -p "$port" -f b@sender.test -t u@accept.bouncy-sink.test \
    --body "$(head -c 30000 /dev/zero | tr '\0' x | fold -w 70)" 2>&1)" '<\*\* +552' \
    "a 30 KB message is refused with 552"
kill "$LISTEN_PID"; wait "$LISTEN_PID" 2>/dev/null

write_config "$T/bad.ini" "$port" "Max_Message_Size = 20Q"
"$BS_BIN/listen" -c "$T/bad.ini" > /dev/null 2> "$T/bad.err"
is $? 78 "Max_Message_Size = 20Q: exit 78"
like "$(cat "$T/bad.err")" 'bad.ini:[0-9]+: \[Listen\] Max_Message_Size: .*suffix K, M or G' \
    "… naming the file, line and the accepted forms"
done_testing
