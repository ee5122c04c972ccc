#!/usr/bin/env bash
# Outcomes as data: a message ingest cannot read completely gets, next to its human `error`
# text, a machine-readable `error_code` (the first problem found; names in
# src/global/outcomes.h and bouncy-sink-records(5)); a readable message has neither.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
printf '[Verify]\nSPF = off\n[Ingest]\nMax_Message_Size = 4K\nMax_Header_Size = 2K\nMax_MIME_Parts = 3\n' > c.ini
m() { printf "$2" > "$1.msg"; }
m good 'From: a@sender.test\nTo: b@x.test\nSubject: fine\n\nhello\n'
m empty ''
m no_header 'not a header\n\nbody\n'
m binary_header 'From: a@sender.test\nSubject: a\0b\n\nbody\n'
m broken_header 'From: a@sender.test\nthis line is no field\nSubject: x\n\nbody\n'
m truncated 'From: a@sender.test\nSubject: x'
m broken_mime 'From: a@sender.test\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\nhello\n'
python3 - <<'PY'
parts = "".join("--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(10))
open("over_limit.msg", "w", newline="").write(
    "From: a@sender.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    + parts + "--b--\r\n")
open("header_too_large.msg", "w").write("From: a@sender.test\n" + "X-Pad: %s\n" % ("p" * 3000) + "\nbody\n")
open("too_large.msg", "w").write("From: a@sender.test\n\n" + "x" * 8000 + "\n")
PY
for f in good empty no_header binary_header broken_header truncated broken_mime over_limit \
         header_too_large too_large; do
    "$BS_BIN/ingest" -c c.ini "$f.msg" > "$f.json" 2>/dev/null
    got=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("error_code", "-"), bool(r.get("error")))' "$f.json")
    if [ "$f" = good ]; then
        is "$got" "- False" "a readable message has no error and no error_code"
    else
        is "$got" "$f True" "$f: error_code $f beside the error text"
    fi
done
# Several problems: the code is the first one's, the text names them all.
m two 'From: a@sender.test\nno field here\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\nhello\n'
"$BS_BIN/ingest" -c c.ini two.msg > two.json 2>/dev/null
like "$(cat two.json)" '"error":"broken header: [^"]*; broken MIME' "two problems: both in the text"
like "$(cat two.json)" '"error_code":"broken_header"' "the code is the first problem's"
# decide still gates it as before (plan.skip_code input_error).
printf '[Sink]\nUser_Agents_File = %s/user-agents.csv\n' "$REF" > d.ini
"$BS_BIN/decide" -c d.ini < two.json > plan.json 2>/dev/null
like "$(cat plan.json)" '"skip_code":"input_error"' "decide gates it: skip_code input_error"
done_testing
