#!/usr/bin/env bash
# Issue 14 defect 8: the table of every setting (src/global/params.c, printed by
# `bs-config --list`) and bouncy-sink.ini(5) list the same sections, keys and defaults, in
# the same order; every (section, key) a program reads, as found in the sources, is in the
# table, so that no key a program reads draws an "unknown key" warning.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

"$BS_BIN/bs-config" --list > "$T/table"; ok $? "bs-config --list"
[ "$(wc -l < "$T/table")" -ge 100 ]; ok $? "the table has every setting ($(wc -l < "$T/table"))"
cut -f1,2 "$T/table" | sort -f | uniq -di > "$T/dups"
is "$(cat "$T/dups")" "" "no key twice in the table"
awk -F'\t' 'NF != 4 || $4 == "" { print }' "$T/table" > "$T/bad"
is "$(cat "$T/bad")" "" "every row has a section, a key, a default (or none) and a description"

# The SECTIONS of the manual: `.SS [Section]`, then for every key `.TP` and a line
# `.BR Key " (default)"` or `.B Key` (no default).
python3 - man/bouncy-sink.ini.5 > "$T/man" <<'PY'
import re, sys
section = None
in_sections = after_tp = False
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith(".SH "):
        in_sections = line == ".SH SECTIONS"
        continue
    if not in_sections:
        continue
    m = re.match(r"\.SS \[(\w+)\]", line)
    if m:
        section = m.group(1)
        continue
    if line == ".TP":
        after_tp = True
        continue
    if after_tp:
        after_tp = False
        m = re.match(r'\.BR? (\S+)(?: " \((.*)\)")?$', line)
        if not m:
            print("unparsed\t%s\t%s\t" % (section, line))
            continue
        print("%s\t%s\t%s" % (section, m.group(1), m.group(2) or ""))
PY
cut -f1-3 "$T/table" > "$T/table3"
diff "$T/table3" "$T/man" > "$T/diff"; ok $? "bouncy-sink.ini(5) lists the table's keys and defaults, in order"
[ -s "$T/diff" ] && sed 's/^/# /' "$T/diff" | head -n 20
grep -o '^\.SS \[[A-Za-z_]*\]' man/bouncy-sink.ini.5 | tr -d '[]' | cut -d' ' -f2 | sort > "$T/man-sections"
cut -f1 "$T/table" | sort -u > "$T/table-sections"
echo RP_MX_domain_allowlist >> "$T/table-sections"
is "$(sort "$T/table-sections" | tr '\n' ' ')" "$(tr '\n' ' ' < "$T/man-sections")" "the same sections"

# Every key read in the sources: "Section", "Key" literals, listen's S, "Key" ([Listen]),
# decide's pct / weekly_list / check_conditional keys ([Sink]).
{
    grep -ohE '"(Sink|Listen|Ingest|Verify|Decide|Http|Smtp|Report|Track_Server)", "[A-Za-z0-9_]+"' src/*/*.c |
        grep -v '^"[A-Za-z_]*", "[a-z]' | sed -E 's/"([^"]*)", "([^"]*)"/\1\t\2/'
    grep -ohE '\(cfg, S, "[A-Za-z0-9_]+"' src/listen/conf.c | sed -E 's/.*"([^"]*)"/Listen\t\1/'
    grep -ohE '(pct|weekly_list)\(cfg, "[A-Za-z0-9_]+"' src/decide/model.c | sed -E 's/.*"([^"]*)"/Sink\t\1/'
    for d in 0 1 2 3 4 5 6 7 8 9; do printf 'Sink\tDigit%d_days\n' "$d"; done
} | sort -u > "$T/read"
[ "$(wc -l < "$T/read")" -ge 90 ]; ok $? "keys read in the sources found ($(wc -l < "$T/read"))"
cut -f1,2 "$T/table" | sort -u > "$T/known"
comm -23 "$T/read" "$T/known" > "$T/missing"
is "$(tr '\t\n' ' ,' < "$T/missing")" "" "every key a program reads is in the table"
done_testing
