#!/usr/bin/env bash
# Issue 14 defect 8: configuration typos are reported. `bs-config -c FILE --check` warns
# about every unknown section and key with FILE:LINE and the nearest known name, and
# exits 1 on warnings (0 clean, 78 on errors); an existing consume-mail.ini checks clean
# (including the keys the sink reads and ignores, like Max_Threads). Empty list items and
# NUL bytes are errors in every program.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

for f in "$REF/consume-mail.ini" etc/bouncy-sink.ini; do
    err=$("$BS_BIN/bs-config" -c "$f" --check 2>&1); rc=$?
    is "$rc" 0 "$(basename "$f"): --check exits 0"
    is "$err" "" "$(basename "$f"): no warning (Max_Threads, Gather_Timeout, Done_Msg_File_Dest known)"
done

cat > "$T/typo.ini" <<'INI'
[Sink]
Open_precent = 5
OOB_percent = 0.5
max_threads = 4
LOGFILE_BACKUP_COUNT = 3
Spool = ./spool

[Lisen]
Address = 127.0.0.1:2525
Adress = 127.0.0.1:2526

[RP_MX_domain_allowlist]
anything.example = fbl@example.com

[Smtp]
Rellay = 127.0.0.1:2526
Zzzzzzzzzzzz = 1
INI
err=$("$BS_BIN/bs-config" -c "$T/typo.ini" --check 2>&1); rc=$?
is "$rc" 1 "typos: --check exits 1"
is "$(grep -c warning <<<"$err")" 5 "five warnings (known keys in any case, free-form allow-list, unknown section once)"
like "$err" "^bs-config: warning: $T/typo.ini:2: \\[Sink\\] Open_precent: unknown key \\(did you mean Open_percent\\?\\)" \
    "misspelt key: FILE:LINE and the nearest key"
like "$err" "typo.ini:6: \\[Sink\\] Spool: unknown key \\(Spool belongs in \\[Listen\\]\\)" "key in the wrong section: where it belongs"
like "$err" "typo.ini:8: \\[Lisen\\]: unknown section \\(did you mean \\[Listen\\]\\?\\)" "misspelt section: its line and the nearest section"
unlike "$err" "Adress" "keys of an unknown section are not warned about one by one"
like "$err" "typo.ini:16: \\[Smtp\\] Rellay: unknown key \\(did you mean Relay\\?\\)" "[Smtp] Rellay: did you mean Relay"
like "$err" "typo.ini:17: \\[Smtp\\] Zzzzzzzzzzzz: unknown key$" "nothing near: no suggestion"
[ "$(grep warning <<<"$err" | cut -d: -f4 | tr '\n' ' ')" = "2 6 8 16 17 " ]; ok $? "warnings in file order"
# The programs load it (names are judged once, by bs-config), and say nothing about it.
out=$("$BS_BIN/decide" -c "$T/typo.ini" < /dev/null 2>&1 > /dev/null); rc=$?
is "$rc" 0 "decide loads the file with typos"
unlike "$out" "warning|Open_precent" "decide does not repeat the warnings"
# Values, by type.
printf '[Sink]\nOOB_percent = lots\n' > "$T/v.ini"
err=$("$BS_BIN/bs-config" -c "$T/v.ini" --check 2>&1); rc=$?
is "$rc" 78 "a bad value: --check exits 78"
like "$err" "v.ini:2: \\[Sink\\] OOB_percent: 'lots' is not a number" "a bad value: FILE:LINE: why"
printf '[Listen]\nFsync = perhaps\n' > "$T/v.ini"
like "$("$BS_BIN/bs-config" -c "$T/v.ini" --check 2>&1)" "v.ini:2: \\[Listen\\] Fsync: 'perhaps' is not yes, no or syncfs" \
    "a listen-only key is checked too (listen is not run by the reload check)"
"$BS_BIN/bs-config" -c "$T/v.ini" Listen Fsync > /dev/null; is "$?" 0 "plain lookups do not check"
printf '[Sink]\nOpen_percent = 40\n' > "$T/ok.ini"
"$BS_BIN/bs-config" -c "$T/ok.ini" --check; is "$?" 0 "a clean file: exit 0"
"$BS_BIN/bs-config" -c "$T/ok.ini" --check Sink Open_percent 2>/dev/null; is "$?" 64 "--check with a key: usage error"
"$BS_BIN/bs-config" -c "$T/missing.ini" --check 2>/dev/null; is "$?" 78 "a missing file: exit 78"

# Empty list items: refused by every program that reads the list, and by --check.
printf '[Sink]\nWeekly_Cycle_Open_Rate = ,,,,,,\n' > "$T/e.ini"
err=$("$BS_BIN/decide" -c "$T/e.ini" < /dev/null 2>&1 > /dev/null); rc=$?
is "$rc" 78 "decide: ,,,,,, exits 78"
like "$err" "e.ini:2: \\[Sink\\] Weekly_Cycle_Open_Rate: item 1 is empty" "decide: ,,,,,,: FILE:LINE: why"
is "$("$BS_BIN/bs-config" -c "$T/e.ini" --check > /dev/null 2>&1; echo $?)" 78 "bs-config --check: ,,,,,, exits 78"
printf '[Listen]\nAddress = 127.0.0.1:%s\nSink_Domains = a.test,,b.test\n' "$(free_port)" > "$T/e.ini"
err=$(timeout 10 "$BS_BIN/listen" -c "$T/e.ini" 2>&1 < /dev/null); rc=$?
is "$rc" 78 "listen: a,,b exits 78"
like "$err" "e.ini:3: \\[Listen\\] Sink_Domains: item 2 is empty" "listen: a,,b: FILE:LINE: why"
printf '[Sink]\nTracking_Domains_Allowlist = a.test,\n' > "$T/e.ini"
like "$("$BS_BIN/act-http" -c "$T/e.ini" < /dev/null 2>&1)" "e.ini:2: \\[Sink\\] Tracking_Domains_Allowlist: item 2 is empty" \
    "act-http: a trailing comma is an empty item"
printf '[Listen]\nSink_Domains = a.test,\n  b.test,\n  c.test\n' > "$T/e.ini"
"$BS_BIN/bs-config" -c "$T/e.ini" --check; is "$?" 0 "a list continued on indented lines after commas is fine"

# NUL bytes: refused everywhere, with the line.
printf '[Sink]\nOOB_percent = 0.5\nLogfile = a\0b\n' > "$T/nul.ini"
for t in bs-config decide; do
    err=$("$BS_BIN/$t" -c "$T/nul.ini" 2>&1 < /dev/null > /dev/null); rc=$?
    is "$rc" 78 "$t: a NUL byte exits 78"
    like "$err" "nul.ini:3: NUL byte" "$t: a NUL byte: FILE:LINE"
done
done_testing
