#!/usr/bin/env bash
# Issue 14 defect 9: text that comes from a record (an id, an address) or from a parser
# quoting its input never reaches stderr raw: every diagnostic (src/lib/util.c) is one line
# with control characters and bytes that are not UTF-8 escaped as \xHH, cut at 4 KB, and a
# record-supplied string in it is cut after 128 bytes (bs_show).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

# clean FILE DESC: no control byte but the line ends, no byte that is not UTF-8.
clean() {
    python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", data)
try:
    text = data.decode("utf-8")
    c1 = re.search("[\x80-\x9f]", text)
except UnicodeDecodeError as e:
    print("not UTF-8:", e); sys.exit(1)
if bad or c1:
    print("control character at", (bad or c1).start()); sys.exit(1)
PY
}

# --- a record id and address with terminal escapes and 100 KB, in act-smtp's warning ------
port=$(free_port)   # nothing listens: the delivery fails and act-smtp warns, naming the id
write_conf "$T/a.ini" "$port" "Retry_Max_Seconds = 0"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/a.ini"
big=$(head -c 100000 /dev/zero | tr '\0' A)
id=$'evil\e]0;owned\a\e[2J\r\nact-smtp: warning: forged line '"$big"
mkrec "$id" oob $'to=x\e[31m@oob.bouncy-sink.test' | "$BS_BIN/act-smtp" -c "$T/a.ini" > "$T/a.out" 2> "$T/a.err"
ok $? "act-smtp: exit 0"
is "$(jq -r .id "$T/a.out" | wc -c)" 100052 "the record keeps its id, whole, in its output"
is "$(wc -l < "$T/a.err")" 1 "one diagnostic line (no forged line)"
clean "$T/a.err"; ok $? "no control character on stderr"
[ "$(wc -c < "$T/a.err")" -lt 1000 ]; ok $? "bounded: $(wc -c < "$T/a.err") bytes for a 100 KB id"
like "$(cat "$T/a.err")" '^act-smtp: warning: message evil\\x1b\]0;owned\\x07\\x1b\[2J\\x0d\\x0aact-smtp: warning: forged line A+\.\.\.\(100051 bytes\): OOB to ' \
    "the id escaped and cut, its length given"

# --- a parser quoting its input: decide's malformed record ---------------------------------
printf '{"v":1,"id":\e[31mX}\n["\xc2\x9b31m\xff\xfe"\n' | "$BS_BIN/decide" > "$T/d.out" 2> "$T/d.err"
is "$(grep -c 'malformed record' "$T/d.err")" 2 "decide: two malformed records reported"
clean "$T/d.err"; ok $? "decide: no control character or invalid UTF-8 on stderr"
like "$(cat "$T/d.err")" "stdin:1\\): not JSON: invalid token near '\\\\x1b'" "decide: the ESC jansson quotes is escaped"
like "$(cat "$T/d.err")" "stdin:2\\): .* near '\"\\\\xc2\\\\x9b31m'" "decide: a C1 control (CSI) is escaped"
done_testing
