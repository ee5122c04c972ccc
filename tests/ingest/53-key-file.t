#!/usr/bin/env bash
# [Verify] DKIM_Key_File is read once and served from memory (auth_dkim.c), with the rules of
# libopendkim's own file query method: '#' lines skipped, the name compared without
# case, the value after the blanks that follow it (CRLF line ends tolerated), the
# first matching line wins, a line without a value or a key that is not there is "no
# key", an empty value an unusable record, and lines longer than the library's 1 KiB
# buffer read in pieces. Each key file is checked on the same signed message.
. "$(dirname "$0")/../lib.sh"

"$BS_BIN/gen-corpus" -n 1 --seed 53 --date 2026-11-20T10:00:00Z -o "$T/c" > /dev/null
ok $? "gen-corpus: one signed message"
good="$T/c/dkim-keys.txt"
name=$(cut -d' ' -f1 "$good")
key=$(cut -d' ' -f2- "$good")
upper=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
bad_key=$("$BS_BIN/gen-corpus" -n 1 --seed 54 -o "$T/other" > /dev/null && cut -d' ' -f2- "$T/other/dkim-keys.txt")
long=$(head -c 1022 /dev/zero | tr '\0' x)
longer=$(head -c 1023 /dev/zero | tr '\0' x)

# result KEYFILE: the message's DKIM result and reason
result() {
    printf '[Verify]\nDKIM_Key_File = %s\nSPF = off\n' "$1" > "$T/sink.ini"
    "$BS_BIN/ingest" -c "$T/sink.ini" "$T/c" | python3 -c '
import json, sys
d = json.load(sys.stdin)["dkim"]
print(d["result"], d["reason"])'
}
check() { # check EXPECTED DESC (the key file is $T/k)
    is "$(result "$T/k")" "$1" "$2"
}

cp "$good" "$T/k"; check "pass " "gen-corpus's key file"
printf '# a comment\n%s \t %s\r\n' "$upper" "$key" > "$T/k"
check "pass " "comment, name in upper case, blanks and tab, CRLF"
printf '%s %s\n%s %s\n' "$name" "$bad_key" "$name" "$key" > "$T/k"
check "fail signature verification failed" "first matching line wins (a wrong key)"
printf '%s\n%s %s\n' "$name" "$name" "$key" > "$T/k"
check "pass " "a name without value is skipped"
printf '%s   \n%s %s\n' "$name" "$name" "$key" > "$T/k"
check "permerror key DNS reply corrupt" "an empty value is an unusable key record"
printf '%s\n%s %s\n' "$long" "$name" "$key" > "$T/k"
check "pass " "a 1022-byte line before the key"
printf '%s%s %s\n' "$longer" "$name" "$key" > "$T/k"
check "permerror no key for signature" "a line cut by the 1 KiB buffer is read in pieces"
printf 'other._domainkey.example %s\n' "$key" > "$T/k"
check "permerror no key for signature" "no line for the selector: no key"
printf ' %s %s\n' "$name" "$key" > "$T/k"
check "permerror no key for signature" "a line starting with a blank names nothing"
printf '%s %s' "$name" "$key" > "$T/k"
check "pass " "last line without newline"
: > "$T/k"; check "permerror no key for signature" "empty key file"

done_testing
