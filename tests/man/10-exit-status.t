#!/usr/bin/env bash
# One exit-code rule (bouncy-sink(7) EXIT STATUS, src/lib/util.h): each program's manual
# lists exactly the codes its sources can exit with (tests/man/exit-codes.py reads the
# EX_* names of the program and of the src/lib and src/global functions it calls), and each
# program's source opens with its manual (NAME, SYNOPSIS, DESCRIPTION, DIAGNOSTICS, SEE ALSO).
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
X=tests/man/exit-codes.py

for main in src/*/main.c; do
    tool=$(basename "$(dirname "$main")")
    out=$(python3 $X "$tool")
    is "$(sed -n 's/^manual: *//p' <<<"$out")" "$(sed -n 's/^sources: *//p' <<<"$out")" \
        "$tool(1) EXIT STATUS lists the codes its sources exit with"
    is "$(sed -n 's/^header: *//p' <<<"$out")" "$(sed -n 's/^sources: *//p' <<<"$out")" \
        "$main DIAGNOSTICS lists the same codes"
    head=$(awk 'NR == 1 && !/^\/\*/ {exit} {print} /\*\// {exit}' "$main")
    for s in NAME SYNOPSIS DESCRIPTION DIAGNOSTICS "SEE ALSO"; do
        grep -qE "^(/\*| \*) $s\$" <<<"$head"
        ok $? "$main opens with its manual: $s"
    done
done

# The check can fail: a page missing a code, or listing one its program never exits with.
sed '/^\.SH EXIT STATUS/,/^\.SH /{/^71$/,/^\.TP$/d}' man/listen.1 > "$T/listen.1"
out=$(python3 $X listen "$T/listen.1")
[ "$(sed -n 's/^manual: *//p' <<<"$out")" != "$(sed -n 's/^sources: *//p' <<<"$out")" ]
ok $? "a page without 71 no longer matches"
like "$(sed -n 's/^manual: *//p' <<<"$out")" '^0 64 69 70 73 74 78$' "  (71 gone from the manual)"
sed 's/^\.SH EXIT STATUS$/&\n65 bad input./' man/decide.1 > "$T/decide.1"
out=$(python3 $X decide "$T/decide.1")
like "$(sed -n 's/^manual: *//p' <<<"$out")" '^0 64 65 70' "an extra 65 is seen"
[ "$(sed -n 's/^manual: *//p' <<<"$out")" != "$(sed -n 's/^sources: *//p' <<<"$out")" ]
ok $? "a page listing a code the sources never use no longer matches"
# Codes reached through the shared floors count: act-smtp names no EX_SOFTWARE; its 70
# comes from bs_panic (util.c), its 71 from xmalloc's bs_fatal(EX_OSERR).
grep -q 'EX_SOFTWARE' src/act-smtp/*.c; ok $((!$?)) "act-smtp's sources name no EX_SOFTWARE"
like "$(python3 $X act-smtp | sed -n 's/^sources: *//p')" ' 70 71 ' "codes of the shared floors' functions followed"
done_testing
