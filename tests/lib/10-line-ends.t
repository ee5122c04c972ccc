#!/usr/bin/env bash
# Issue 14 defect 7: every line-oriented data and configuration file is read alike with
# LF, CRLF or CR-only (classic Mac OS) line ends, through the one line reader of
# src/lib/lines.c: the User-Agent CSV (the original system's user-agents.csv has CR ends
# and no final newline: data/reference/user-agents-cr.csv), the in-band reply table (listen
# and act-smtp), the DKIM key file (ingest) and the INI file itself.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

# crlf FILE > OUT / cr FILE > OUT: the same text with other line ends.
crlf() { sed 's/$/\r/' "$1"; }
cr() { tr '\n' '\r' < "$1"; }

# --- the User-Agent CSV, read by decide -------------------------------------------------
crlf "$REF/user-agents.csv" > "$T/ua-crlf.csv"
python3 tests/decide/gen-records.py 300 'u{i}@openclick.bouncy-sink.test' > "$T/open.in"
for f in user-agents.csv user-agents-cr.csv ua-crlf.csv; do
    p=$REF/$f; [ -e "$p" ] || p=$T/$f
    printf '[Sink]\nUser_Agents_File = %s\n' "$p" > "$T/ua.ini"
    "$BS_BIN/decide" -c "$T/ua.ini" --seed 7 --now 2026-11-24T12:00:00Z < "$T/open.in" \
        > "$T/$f.out" 2> "$T/$f.err"
    ok $? "decide reads $f"
    like "$(head -n 1 "$T/$f.out")" '"user_agents":50[,}]' "$f: 50 User-Agents"
    tail -n +2 "$T/$f.out" | jq -r '.plan.user_agent // empty' | sort -u > "$T/$f.uas"
done
file "$REF/user-agents-cr.csv" | grep -q 'CR line terminators'; ok $? "the fixture has CR-only line ends"
[ "$(wc -l < "$T/user-agents.csv.uas")" -ge 20 ]; ok $? "many User-Agents used ($(wc -l < "$T/user-agents.csv.uas"))"
cmp -s "$T/user-agents.csv.uas" "$T/user-agents-cr.csv.uas"; ok $? "CR file: the same User-Agents as the LF file"
cmp -s "$T/user-agents.csv.uas" "$T/ua-crlf.csv.uas"; ok $? "CRLF file: the same User-Agents as the LF file"
is "$(tail -n +2 "$T/user-agents-cr.csv.out" | md5sum)" "$(tail -n +2 "$T/user-agents.csv.out" | md5sum)" \
    "CR file: the same plans, record for record"
# Quoted fields with CR ends; a line break inside quotes is not a line end (and a
# User-Agent with a line break is refused, as with LF ends).
printf 'Software,OS\r"Agent/1.0 (X11, Linux)",X\rAgent/2.0,Y' > "$T/quoted.csv"
printf '[Sink]\nUser_Agents_File = %s\n' "$T/quoted.csv" > "$T/q.ini"
like "$("$BS_BIN/decide" -c "$T/q.ini" < /dev/null 2>/dev/null | head -n 1)" '"user_agents":2[,}]' \
    "CR file with a quoted comma: 2 User-Agents"
printf 'Software,OS\r"Agent/1.0 (multi\rline)",X\rAgent/2.0,Y' > "$T/quoted.csv"
like "$("$BS_BIN/decide" -c "$T/q.ini" < /dev/null 2>&1 >/dev/null)" 'quoted\.csv: User-Agent 1 contains a control character' \
    "CR file with a line break inside quotes: one field, refused as with LF ends"

# --- the in-band reply table, read by act-smtp and listen --------------------------------
cr "$REF/inband-replies.dat" > "$T/replies-cr.dat"
crlf "$REF/inband-replies.dat" > "$T/replies-crlf.dat"
for f in replies-cr.dat replies-crlf.dat; do
    printf '[Listen]\nInBand_Replies_File = %s\n' "$T/$f" > "$T/r.ini"
    err=$("$BS_BIN/act-smtp" -c "$T/r.ini" < /dev/null 2>&1 > /dev/null)
    ok $? "act-smtp reads $f"
    [ -z "$err" ]; ok $? "act-smtp: $f: nothing on stderr"
done
port=$(free_port)
printf '[Listen]\nAddress = 127.0.0.1:%s\nSpool = %s\nInBand_Replies_File = %s\n' \
    "$port" "$T/spool" "$T/replies-cr.dat" > "$T/l.ini"
bg "$BS_BIN/listen" -c "$T/l.ini" > /dev/null 2> "$T/listen.err"
lpid=$BG_PID
wait_port "$port"; ok $? "listen starts with a CR-only reply table"
reply=$(python3 - "$port" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("client.test")
s.mail("a@sender.test")
code, text = s.rcpt("552-5.2.2@inband.bouncy-sink.test")
print(code, text.decode().splitlines()[0][:60])
s.quit()
PY
)
like "$reply" '^552 5\.2\.2 ' "listen: 552-5.2.2@inband answered from the CR-only table ($reply)"
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null

# --- the DKIM key file, read by ingest ---------------------------------------------------
"$BS_BIN/gen-corpus" -n 1 --seed 53 --date 2026-11-20T10:00:00Z -o "$T/c" > /dev/null
ok $? "gen-corpus: one signed message"
{ printf '# keys\n'; cat "$T/c/dkim-keys.txt"; printf 'other._domainkey.example v=DKIM1; p=\n'; } > "$T/keys-lf"
cr "$T/keys-lf" > "$T/keys-cr"
crlf "$T/keys-lf" > "$T/keys-crlf"
for k in keys-lf keys-cr keys-crlf; do
    printf '[Verify]\nDKIM_Key_File = %s\nSPF = off\n' "$T/$k" > "$T/k.ini"
    is "$("$BS_BIN/ingest" -c "$T/k.ini" "$T/c/"*.msg 2>/dev/null | jq -r .dkim.result)" pass \
        "ingest: DKIM key from $k: pass"
done

# --- the INI file -------------------------------------------------------------------------
# A production install: consume-mail.ini naming ./user-agents.csv, which is the CR-only file.
mkdir "$T/prod"
cp "$REF/user-agents-cr.csv" "$T/prod/user-agents.csv"
cr "$REF/consume-mail.ini" > "$T/prod/cr.ini"
crlf "$REF/consume-mail.ini" > "$T/prod/crlf.ini"
cp "$REF/consume-mail.ini" "$T/prod/lf.ini"
for f in cr.ini crlf.ini lf.ini; do
    is "$("$BS_BIN/bs-config" -c "$T/prod/$f" Sink Open_Click_Timeout)" 10 "$f: a value"
    is "$("$BS_BIN/bs-config" -c "$T/prod/$f" RP_MX_domain_allowlist mailin-devm007.ngpweb.com)" \
        fbl@bouncedev.myngp.com "$f: the last line"
    (cd "$T/prod" && "$BS_BIN/decide" -c "$f" < /dev/null 2>/dev/null | head -n 1 | jq -c .params) > "$T/$f.params"
    like "$(cat "$T/$f.params")" '"user_agents":50[,}]' "decide: production $f with the original CR-only user-agents.csv"
done
cmp -s "$T/lf.ini.params" "$T/cr.ini.params" && cmp -s "$T/lf.ini.params" "$T/crlf.ini.params"
ok $? "decide: the same model from LF, CRLF and CR files"
printf '[Sink]\rOOB_percent = 1\rbroken line\r' > "$T/bad.ini"
like "$("$BS_BIN/bs-config" -c "$T/bad.ini" 2>&1)" 'bad\.ini:3: syntax error' "CR file: errors name the right line"
done_testing
