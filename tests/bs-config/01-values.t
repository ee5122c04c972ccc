#!/usr/bin/env bash
# bs-config: reads values through the shared INI reader, defaults, errors with file:line.
. "$(dirname "$0")/../lib.sh"
ini=$ROOT/data/reference/consume-mail.ini
is "$("$BS_BIN/bs-config" -c "$ini" sink oob_percent)" "0.5" "case-insensitive lookup"
is "$("$BS_BIN/bs-config" -c "$ini" RP_MX_domain_allowlist smtp.sparkpostmail.com)" "fbl@sparkpostmail.com" "allow-list value"
is "$("$BS_BIN/bs-config" -c "$ini" Listen Spool ./spool)" "./spool" "default for an absent key"
"$BS_BIN/bs-config" -c "$ini" Listen Spool >/dev/null; is "$?" 1 "absent key without default exits 1"
printf '[Sink]\nOOB_percent = 1\nbroken line\n' > "$T/bad.ini"
err=$("$BS_BIN/bs-config" -c "$T/bad.ini" 2>&1 >/dev/null); rc=$?
is "$rc" 78 "unparsable file exits 78"
like "$err" "bad.ini:3: syntax error" "error names file and line"
"$BS_BIN/bs-config" 2>/dev/null; is "$?" 64 "usage error exits 64"
done_testing
