#!/usr/bin/env bash
# bs-config: reads values through the shared INI reader, defaults, errors with file:line.
. "$(dirname "$0")/../lib.sh"
ini=$ROOT/data/reference/consume-mail.ini
is "$("$BS_BIN/bs-config" -c "$ini" sink oob_percent)" "0.5" "case-insensitive lookup"
is "$("$BS_BIN/bs-config" -c "$ini" RP_MX_domain_allowlist smtp.sparkpostmail.com)" "fbl@sparkpostmail.com" "allow-list value"
is "$("$BS_BIN/bs-config" -c "$ini" Listen Spool ./spool)" "./spool" "default for an absent key"
"$BS_BIN/bs-config" -c "$ini" Listen Spool >/dev/null; is "$?" 1 "absent key without default exits 1"
is "$("$BS_BIN/bs-config" -c "$ini" --default Listen Spool)" "./spool" "--default: the table's default"
is "$("$BS_BIN/bs-config" -c "$ini" --default sink oob_percent)" "0.5" "--default: a set value wins"
printf '[Listen]\nSpool =\n[Report]\nAddress = 127.0.0.1:9\n' > "$T/set.ini"
is "$("$BS_BIN/bs-config" -c "$T/set.ini" --default Listen Spool)" "./spool" "--default: an empty value is not set"
is "$("$BS_BIN/bs-config" -c "$T/set.ini" --default Report Address)" "127.0.0.1:9" "--default: the file's value"
"$BS_BIN/bs-config" -c "$ini" --default Listen Records >/dev/null; is "$?" 1 "--default: none in the table exits 1"
err=$("$BS_BIN/bs-config" -c "$ini" --default Listen Spoool 2>&1 >/dev/null); is "$?" 64 "--default: an unknown setting exits 64"
like "$err" "Listen\] Spoool: not a known setting" "--default: the unknown setting is named"
"$BS_BIN/bs-config" -c "$ini" --default Listen Spool ./x >/dev/null 2>&1; is "$?" 64 "--default with a DEFAULT too: usage"
printf '[Sink]\nOOB_percent = 1\nbroken line\n' > "$T/bad.ini"
err=$("$BS_BIN/bs-config" -c "$T/bad.ini" 2>&1 >/dev/null); rc=$?
is "$rc" 78 "unparsable file exits 78"
like "$err" "bad.ini:3: syntax error" "error names file and line"
"$BS_BIN/bs-config" 2>/dev/null; is "$?" 64 "usage error exits 64"
done_testing
