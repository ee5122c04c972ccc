#!/usr/bin/env bash
# ingest --spool: files are claimed into claimed/, records carry settle, leftovers come first.
. "$(dirname "$0")/../lib.sh"
printf '[Verify]\nSPF = off\n' > "$T/sink.ini"
I=$BS_BIN/ingest
S=$T/spool
mkdir -p "$S/claimed"
mk() { printf 'From: a@sender.test\nTo: %s@accept.bouncy-sink.test\nSubject: %s\n\nbody\n' "$1" "$1" > "$2"; }
mk left "$S/claimed/00000000000000aa.msg"
mk one "$S/1111111111111111.msg"
mk two "$S/2222222222222222.msg"
mk other "$S/other-name.msg"
mk temp "$S/tmp.4242"
"$I" -c "$T/sink.ini" --spool "$S" > "$T/out" 2> "$T/err"
is "$?" 0 "exit 0"
is "$(jq -r .headers.subject "$T/out" | tr '\n' ' ')" "left one two other " "leftover first, then the spool in name order"
is "$(jq -r .id "$T/out" | head -3 | tr '\n' ' ')" "00000000000000aa 1111111111111111 2222222222222222 " "ids from spool names"
like "$(jq -r .id "$T/out" | tail -1)" '^[0-9a-f]{16}$' "content id for another name"
is "$(jq -c 'select(.id=="1111111111111111") | [.source, .settle]' "$T/out")" "[{\"type\":\"spool\",\"name\":\"$S/1111111111111111.msg\"},\"$S/claimed/1111111111111111.msg\"]" "source and settle of a claimed file"
is "$(jq -r 'select(.id=="00000000000000aa") | .settle' "$T/out")" "$S/claimed/00000000000000aa.msg" "leftover settle"
is "$(cd "$S" && ls | tr '\n' ' ')" "claimed tmp.4242 " "spool files moved away; a temporary name is left alone"
is "$(cd "$S/claimed" && ls | tr '\n' ' ')" "00000000000000aa.msg 1111111111111111.msg 2222222222222222.msg other-name.msg " "all in claimed/"
is "$(jq -r 'select(.settle) | .settle' "$T/out" | xargs -n1 test -f && echo yes)" yes "every settle path exists"

# Nobody settled them: a second run emits all four again (crash recovery).
"$I" -c "$T/sink.ini" --spool "$S" > "$T/out2"
is "$(jq -r .id "$T/out2" | sort | tr '\n' ' ')" "$(jq -r .id "$T/out" | sort | tr '\n' ' ')" "leftovers re-emitted"
# Settled ones are gone for good.
rm "$S/claimed/"*
"$I" -c "$T/sink.ini" --spool "$S" > "$T/out3"
is "$(wc -l < "$T/out3")" 0 "empty spool: no records"

# The spool is created-claimed-dir-if-missing; a missing spool is exit 66.
mkdir "$T/fresh"; mk fresh "$T/fresh/3333333333333333.msg"
"$I" -c "$T/sink.ini" --spool "$T/fresh" > "$T/out4"
is "$(jq -r .settle "$T/out4")" "$T/fresh/claimed/3333333333333333.msg" "claimed/ created when missing"
"$I" -c "$T/sink.ini" --spool "$T/nope" > /dev/null 2>&1; is "$?" 66 "missing spool: exit 66"
# A directory PATH is read, never claimed, no settle.
mk dir "$T/fresh/4444444444444444.msg"
"$I" -c "$T/sink.ini" "$T/fresh" > "$T/out5"
is "$(jq -c '[.id, .source.type, has("settle")]' "$T/out5")" '["4444444444444444","file",false]' "directory input: not claimed, no settle"
test -f "$T/fresh/4444444444444444.msg"; ok $? "directory input file left in place"
done_testing
