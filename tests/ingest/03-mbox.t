#!/usr/bin/env bash
# ingest: an mbox on stdin and a directory of the same messages give the same records.
. "$(dirname "$0")/../lib.sh"
printf '[Verify]\nSPF = off\n' > "$T/sink.ini"
run() { "$BS_BIN/ingest" -c "$T/sink.ini" "$@"; }
mkdir "$T/dir"
cp "$ROOT/tests/ingest/data/"*.msg "$REF/sparkpost-sample.msg" "$T/dir/"
# Lines that need mboxrd quoting, an empty line at the end of the body, CRLF. (Every
# message ends with a newline: an mbox cannot carry one that does not.)
printf 'From: a@sender.test\nTo: x@accept.bouncy-sink.test\nSubject: quoting\n\nFrom here on\n>From there\n>>From nowhere\n\n' > "$T/dir/q1.msg"
printf 'From: a@sender.test\r\nTo: y@oob.bouncy-sink.test\r\nContent-Type: text/html\r\n\r\n<a href="http://t.test/crlf">x</a>\r\n' > "$T/dir/q2.msg"
cp "$T/dir/q1.msg" "$T/dir/q4.msg" # a duplicate: another position, another id
ls "$T/dir" | LC_ALL=C sort > "$T/names"
while read -r n; do
    printf 'From sender@x.test Tue Nov 24 20:00:00 2026\n'
    sed -e 's/^\(>*From \)/>\1/' "$T/dir/$n"
    printf '\n'
done < "$T/names" > "$T/all.mbox"

strip='del(.ts, .source, .settle)'
run "$T/dir" > "$T/dir.json"; ok $? "directory input exits 0"
run < "$T/all.mbox" > "$T/mbox.json"; ok $? "mbox on stdin exits 0"
is "$(wc -l < "$T/mbox.json")" "$(wc -l < "$T/names")" "one record per mbox message"
is "$(jq -c "$strip" "$T/mbox.json" | md5sum)" "$(jq -c "$strip" "$T/dir.json" | md5sum)" "mbox and directory give the same records (ids, sizes, fields)"
is "$(jq -r '.id' "$T/dir.json" | sort -u | wc -l)" "$(wc -l < "$T/names")" "ids unique, even for the duplicate message"
is "$(jq -c .source "$T/mbox.json" | sed -n 2p)" '{"type":"stdin","name":"stdin","index":2}' "mbox source has the index"
is "$(jq -c .source "$T/dir.json" | head -1)" "{\"type\":\"file\",\"name\":\"$T/dir/$(head -1 "$T/names")\"}" "file source"
is "$(jq -r 'select(.headers.subject=="quoting") | .size' "$T/mbox.json" | head -1)" "$(stat -c %s "$T/dir/q1.msg")" "mboxrd quoting undone (size equal)"
# The same mbox given as a file path and as "-".
run "$T/all.mbox" > "$T/mboxfile.json"
is "$(jq -c "$strip" "$T/mboxfile.json" | md5sum)" "$(jq -c "$strip" "$T/mbox.json" | md5sum)" "an mbox file path reads like stdin"
is "$(jq -r .source.name "$T/mboxfile.json" | head -1)" "$T/all.mbox" "mbox file source name"
# A single message on stdin (no From_ line) is one message.
run - < "$REF/sparkpost-sample.msg" > "$T/one.json"
is "$(jq -c '[.source, .size]' "$T/one.json")" "[{\"type\":\"stdin\",\"name\":\"stdin\"},$(stat -c %s "$REF/sparkpost-sample.msg")]" "single message on stdin"
is "$(jq -r .id "$T/one.json")" "$(run "$REF/sparkpost-sample.msg" | jq -r .id)" "same id as the file"
# Replaying gives the same ids.
is "$(run < "$T/all.mbox" | jq -r .id | md5sum)" "$(jq -r .id "$T/mbox.json" | md5sum)" "replay gives the same ids"
# Empty stdin: no record, exit 0.
out=$(run < /dev/null); ok $? "empty stdin exits 0"
is "$out" "" "empty stdin: no record"
# -j 1 and -j 3 give the same records in the same order.
is "$(run -j 1 "$T/dir" | jq -c "$strip" | md5sum)" "$(run -j 3 "$T/dir" | jq -c "$strip" | md5sum)" "-j 1 and -j 3: same records, same order"
# An mbox on a pipe that stays open: the first message ends at the second "From " line, and
# its record is out while ingest waits for the rest (not held in the output buffer).
mkfifo "$T/pipe"
exec 3<> "$T/pipe" # the writer's end, opened first: opening the reader's does not block then
run - < "$T/pipe" > "$T/live.json" 3>&- & # not bg: its "&" would read /dev/null
pid=$!
printf 'From a@x.test Tue Nov 24 20:00:00 2026\nFrom: a@sender.test\nTo: x@accept.bouncy-sink.test\nSubject: one\n\nbody\n\nFrom b@x.test Tue Nov 24 20:00:00 2026\n' >&3
lines() { [ "$(wc -l < "$T/live.json")" -ge "$1" ]; }
wait_for lines 1; ok $? "a record is written while ingest waits for input on a pipe"
printf 'From: b@sender.test\nTo: y@accept.bouncy-sink.test\nSubject: two\n\nbody\n' >&3
exec 3>&-
wait "$pid"; ok $? "exit 0 at the end of the pipe"
is "$(jq -r .headers.subject "$T/live.json" | tr '\n' ' ')" "one two " "both messages, in order"
done_testing
