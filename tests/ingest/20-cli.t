#!/usr/bin/env bash
# ingest: command line, configuration and exit status.
. "$(dirname "$0")/../lib.sh"
printf '[Verify]\nSPF = off\n' > "$T/sink.ini"
I=$BS_BIN/ingest

"$I" -c "$T/sink.ini" "$T/missing.msg" "$REF/sparkpost-sample.msg" > "$T/out" 2> "$T/err"
is "$?" 66 "a missing input path: exit 66"
is "$(jq -r .source.name "$T/out")" "$REF/sparkpost-sample.msg" "the other input is still read"
like "$(cat "$T/err")" "^ingest: error: cannot open input \($T/missing.msg\): No such file or directory" "diagnostic names the path"

"$I" -x > /dev/null 2> "$T/err"; is "$?" 64 "unknown option: exit 64"
like "$(cat "$T/err")" '^usage: ingest ' "usage on stderr"
"$I" -j 0 < /dev/null > /dev/null 2>&1; is "$?" 64 "-j 0: exit 64"
"$I" -h > "$T/help" 2>&1; is "$?" 0 "-h: the options, exit 0"
like "$(cat "$T/help")" '^usage: ingest .*--spool DIR' "-h: usage on stdout"

printf '[Verify]\nSPF = off\n[Ingest]\nMax_Message_Size = lots\n' > "$T/bad.ini"
"$I" -c "$T/bad.ini" < /dev/null > /dev/null 2> "$T/err"; is "$?" 78 "bad Max_Message_Size: exit 78"
like "$(cat "$T/err")" "$T/bad.ini:4: \[Ingest\] Max_Message_Size: " "FILE:LINE: [Section] Key: why"
"$I" -c "$T/nonexistent.ini" < /dev/null > /dev/null 2>&1; is "$?" 78 "missing config file: exit 78"
"$I" -c "$REF/consume-mail.ini" -j 1 - < /dev/null > /dev/null 2> "$T/err"; is "$?" 0 "production consume-mail.ini loads"

# Output error.
"$I" -c "$T/sink.ini" "$REF/sparkpost-sample.msg" > /dev/full 2> "$T/err"
is "$?" 74 "output error: exit 74"
like "$(cat "$T/err")" 'write error' "output error reported"

# Max_Message_Size with a suffix; Max_Header_Size.
printf '[Verify]\nSPF = off\n[Ingest]\nMax_Message_Size = 2k\nMax_Header_Size = 1K\n' > "$T/small.ini"
like "$("$I" -c "$T/small.ini" "$REF/sparkpost-sample.msg" 2>/dev/null | jq -r .error)" 'larger than 2048 bytes' "Max_Message_Size = 2k"
{ printf 'From: a@sender.test\n'; for _ in $(seq 1 30); do printf 'X-F: 0123456789012345678901234567890123456789\n'; done; printf '\nx\n'; } > "$T/h.msg"
like "$("$I" -c "$T/small.ini" "$T/h.msg" 2>/dev/null | jq -r .error)" 'header section longer than 1024 bytes' "Max_Header_Size = 1K"

# Record basics: schema version, kind, ts.
rec=$("$I" -c "$T/sink.ini" "$REF/sparkpost-sample.msg")
is "$(jq -c '[.v, .kind]' <<<"$rec")" '[1,"message"]' "v 1, kind message"
like "$(jq -r .ts <<<"$rec")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "ts ISO-8601 UTC with milliseconds"
is "$(jq -r .id <<<"$rec")" "$(jq -r .id <<<"$rec" | grep -E '^[0-9a-f]{16}$')" "id is 16 hex digits"
done_testing
