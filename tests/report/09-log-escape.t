#!/usr/bin/env bash
# report: the log line stays one line of 7 comma-separated fields whatever the record
# holds (issue 14 defect 9). In the file, To and From fields `,` is written `\x2c` and `\`
# as `\\`; U+0085, U+2028, U+2029 as `\u0085` `\u2028` `\u2029` anywhere on the line.
# Python's splitlines() (which splits on those) sees one line per record and each field
# reads back as the record had it; ordinary values are written as before. Text from a
# record printed on stderr (a refused settle path with an escape sequence, 100 KB long) is
# escaped and bounded.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
cd "$T" || exit 1
printf '[Sink]\nLogfile = c.log\n' > c.ini
python3 - <<'PY' > recs.ndjson
import json
hdr = {"v": 1, "ts": "2026-11-24T20:05:10Z"}
recs = [
    # file, To, From with commas, backslashes and the three Unicode line separators
    dict(hdr, kind="message", id="m1", source={"type": "file", "name": "in,box\\m1.msg"},
         headers={"to": '"Doe, John" <j@x.test>', "from": "a\u0085b\u2028c\u2029d@y.test"},
         dkim={"result": "pass"}, plan={"actions": []}),
    # no source.name: the id is the file field; To from the envelope
    dict(hdr, kind="message", id="m,2\u2028x", envelope={"rcpt": "r,1@x.test"},
         headers={"from": "lit\\x2c@y.test"}, plan={"actions": [], "skip": "!DKIM fail: a\u2029b"}),
    # listen's records: id, envelope.rcpt, envelope.mail_from
    dict(hdr, kind="inband", id="i,1", envelope={"rcpt": "a,b@x.test", "mail_from": "c\u0085d@y.test"},
         reply={"code": 550, "enhanced": "5.1.1", "text": "no\u2028such user"}),
    dict(hdr, kind="blackhole", id="b1", envelope={"rcpt": "x@y,z", "mail_from": ""}),
    # an ordinary one: written exactly as before
    dict(hdr, kind="message", id="m3", source={"type": "spool", "name": "spool/m3.msg"},
         headers={"to": "any@accept.sink.test", "from": "news@sender.test"},
         dkim={"result": "pass"}, plan={"actions": []}),
]
for r in recs:
    print(json.dumps(r))
PY
"$BS_BIN/report" -c c.ini --once < recs.ndjson > /dev/null 2> err.txt
ok $? "exit 0"

python3 - recs.ndjson c.log <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
text = open(sys.argv[2], encoding="utf-8", newline="").read()
lines = text.splitlines()  # splits on \n, \r, \x85, \u2028, \u2029, ...
assert len(lines) == len(recs) + 3, ("lines", len(lines), lines)
def unescape(f):
    return re.sub(r"\\(\\|x2c|u0085|u2028|u2029)",
                  lambda m: {"\\": "\\", "x2c": ",", "u0085": "\x85", "u2028": "\u2028",
                             "u2029": "\u2029"}[m.group(1)], f)
def field(r, *paths):
    for p in paths:
        v = r
        for k in p.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, str):
            return v
    return ""
for r, line in zip(recs, lines[2:-1]):
    parts = line.split(",", 7)  # date time, ms, consume-mail, level, file, To, From, actions
    assert len(parts) == 8, parts
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", parts[0]) and re.fullmatch(r"\d{3}", parts[1]), parts
    assert parts[2] == "consume-mail" and parts[3] == "INFO", parts
    if r["kind"] == "message":
        want = (field(r, "source.name", "id"), field(r, "headers.to", "envelope.rcpt"), field(r, "headers.from"))
    else:
        want = (r["id"], field(r, "envelope.rcpt"), field(r, "envelope.mail_from"))
    got = tuple(unescape(f) for f in parts[4:7])
    assert got == want, (got, want)
PY
ok $? "splitlines(): one line per record; 7 fields each, file/To/From read back unchanged"

log=$(cat c.log)
like "$log" ',INFO,in\\x2cbox\\\\m1\.msg,"Doe\\x2c John" <j@x\.test>,a\\u0085b\\u2028c\\u2029d@y\.test,Accept$' \
    "commas, backslash and separators escaped in the fields"
like "$log" ',INFO,m\\x2c2\\u2028x,r\\x2c1@x\.test,lit\\\\x2c@y\.test,!DKIM fail: a\\u2029b$' \
    "a literal \\x2c stays distinct; separators escaped in the actions too"
like "$log" ',INFO,i\\x2c1,a\\x2cb@x\.test,c\\u0085d@y\.test,InBand 550 5\.1\.1 no\\u2028such user$' "inband line"
like "$log" ',INFO,spool/m3\.msg,any@accept\.sink\.test,news@sender\.test,Accept$' "ordinary values unchanged"
ok "$(LC_ALL=C grep -c $'\xc2\x85\|\xe2\x80\xa8\|\xe2\x80\xa9' c.log | grep -qx 0; echo $?)" "no raw U+0085/U+2028/U+2029 in the log"

# stderr: a refused settle path with an escape sequence, 100 KB long.
python3 - <<'PY' > big.ndjson
import json
print(json.dumps({"v": 1, "kind": "message", "id": "big", "ts": "2026-11-24T20:05:10Z",
                  "settle": "spool/claimed/\x1b[2J\x1b[31m" + "A" * 100000 + ".msg",
                  "plan": {"actions": []}}))
PY
"$BS_BIN/report" -c c.ini --once < big.ndjson > /dev/null 2> err.txt
ok $? "exit 0"
is "$(wc -l < err.txt)" 1 "one diagnostic line"
ok "$( [ "$(wc -c < err.txt)" -lt 1000 ]; echo $? )" "bounded: $(wc -c < err.txt) bytes for a 100 KB path"
ok "$(LC_ALL=C grep -q $'\x1b' err.txt; [ $? = 1 ]; echo $?)" "no raw escape character on stderr"
like "$(cat err.txt)" '^report: warning: settle refused, no file touched \(spool/claimed/\\x1b\[2J\\x1b\[31mAAAA.*\.\.\.\(100027 bytes\)\): ' \
    "the path shown escaped, cut, with its length"
ok "$( [ "$(tail -n 2 c.log | head -n 1 | wc -c)" -lt 1000 ]; echo $? )" "the log line bounds the path too"
done_testing
