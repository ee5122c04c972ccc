#!/usr/bin/env bash
# ingest: bounded memory and time per message whatever its MIME structure. The messages of
# issue 14 (3.5 million and 1.5 million empty MIME parts, under the 50 MB size limit; before
# the limits they cost 2 GB and more and aborted ingest) and random pathological structures
# (many parts, deep nesting, many or huge part headers, big decoded HTML) each get an error
# record naming the [Ingest] limit, and ingest's peak RSS (VmHWM, measured by GNU time)
# stays under 32 MB + 3 x the message size + 2 x Max_Decoded_Size.
. "$(dirname "$0")/../lib.sh"
# Under ASan (make test-asan) freed memory sits in a 256 MB quarantine: keep it small so
# that the peaks measured are the program's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
printf '[Verify]\nSPF = off\n[Ingest]\nMax_Decoded_Size = 2M\n' > "$T/sink.ini"
decoded=$((2 << 20))

# peak FILE: ingest -j1 on FILE; sets rss (kB), rc, and the record in $T/out.json.
peak() {
    /usr/bin/time -f '%M' -o "$T/time" "$BS_BIN/ingest" -c "$T/sink.ini" -j 1 "$1" \
        > "$T/out.json" 2> "$T/err"
    rc=$?
    rss=$(tail -1 "$T/time")
}
bound_kb() { echo $(( (32 * 1048576 + 3 * $(stat -c %s "$1") + 2 * decoded) / 1024 )); }

python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
for name, n in (("parts-3.5M", 3500000), ("parts-1.5M", 1500000)):
    with open(f"{t}/{name}.msg", "w", newline="") as f:
        f.write("From: a@sender.test\r\nTo: x@accept.bouncy-sink.test\r\nSubject: parts\r\n"
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
        f.write("--b\r\n\r\n" * n)
        f.write("--b--\r\n")
EOF
for m in parts-3.5M parts-1.5M; do
    peak "$T/$m.msg"
    is "$rc" 0 "$m ($(stat -c %s "$T/$m.msg") bytes): exit 0"
    like "$(jq -r .error "$T/out.json")" 'MIME parts over the limit of 1000 \(\[Ingest\] Max_MIME_Parts\)' \
        "$m: error record naming the limit"
    is "$(jq -r '.headers.subject + " " + (.urls|tostring)' "$T/out.json")" "parts null" \
        "$m: header fields read, no URLs"
    b=$(bound_kb "$T/$m.msg")
    [ "$rss" -le "$b" ]; ok $? "$m: peak RSS $rss kB <= $b kB"
done

# Each limit, with a message just over it.
python3 - "$T" <<'EOF'
import sys, base64
t = sys.argv[1]
head = "From: a@sender.test\nTo: x@accept.bouncy-sink.test\nSubject: limits\n"
def w(name, s):
    open(f"{t}/{name}.msg", "w").write(s)
w("depth", head + "Content-Type: multipart/mixed; boundary=b0\n\n" +
  "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i+1}\n\n" for i in range(25)) +
  "--b25\nContent-Type: text/plain\n\nx\n--b25--\n" + "".join(f"--b{i}--\n" for i in range(24, -1, -1)))
w("fields", head + "Content-Type: multipart/mixed; boundary=b\n\n--b\n" +
  "".join(f"X-F{i}: v\n" for i in range(10001)) + "\nx\n--b--\n")
w("part-header", head + "Content-Type: multipart/mixed; boundary=b\n\n--b\nX-Long: " +
  "a" * (1 << 20) + "\n\nx\n--b--\n")
html = ("<p><a href='http://t.test/x'>x</a></p>\n" * 80000).encode()
w("decoded", head + "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n" +
  base64.encodebytes(html).decode())
EOF
for c in "depth:MIME nesting deeper than 20 \(\[Ingest\] Max_MIME_Depth\)" \
         "fields:header fields over the limit of 10000 \(\[Ingest\] Max_Header_Fields\)" \
         "part-header:a MIME part's header section longer than 1048576 bytes \(\[Ingest\] Max_Header_Size\)" \
         "decoded:HTML part larger than 2097152 bytes once decoded \(\[Ingest\] Max_Decoded_Size\)"; do
    m=${c%%:*}
    peak "$T/$m.msg"
    like "$(jq -r .error "$T/out.json")" "${c#*:}" "$m: error record"
    like "$(cat "$T/err")" "ingest: error: bad message \($T/$m.msg\): " "$m: stderr line"
    is "$(jq -c '(.urls.open // []) + (.urls.click // []) | length' "$T/out.json")" 0 \
        "$m: no URLs (no action can follow)"
done

# Random pathological structures: never above the memory bound.
python3 "$(dirname "$0")/data/random-mime.py" "$T" 24 14
worst=0 errors=0 over=0
for f in "$T"/random-*.msg; do
    peak "$f"
    b=$(bound_kb "$f")
    [ "$rc" = 0 ] || { diag "$f: exit $rc"; over=$((over + 1)); }
    [ "$rss" -le "$b" ] || { diag "$f ($(stat -c %s "$f") bytes): peak RSS $rss kB > $b kB"; over=$((over + 1)); }
    [ "$rss" -gt "$worst" ] && worst=$rss
    [ "$(jq -r '.error // empty' "$T/out.json")" ] && errors=$((errors + 1))
done
is "$over" 0 "24 random structures: every one read (exit 0) within the memory bound (highest peak $worst kB)"
[ "$errors" -gt 0 ] && [ "$errors" -lt 24 ]; ok $? "some within the limits, some over ($errors error records)"

# The settings are checked.
printf '[Ingest]\nMax_MIME_Parts = 0\n' > "$T/bad.ini"
"$BS_BIN/ingest" -c "$T/bad.ini" < /dev/null > /dev/null 2> "$T/err"
is "$?" 78 "Max_MIME_Parts = 0: configuration error"
like "$(cat "$T/err")" "bad.ini:2: \[Ingest\] Max_MIME_Parts" "names FILE:LINE and the key"
printf '[Ingest]\nMax_Decoded_Size = lots\n' > "$T/bad.ini"
"$BS_BIN/ingest" -c "$T/bad.ini" < /dev/null > /dev/null 2> "$T/err"
is "$?" 78 "Max_Decoded_Size = lots: configuration error"
done_testing
