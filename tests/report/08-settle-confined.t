#!/usr/bin/env bash
# report: a settle path comes from a record and is not trusted (issue 14 defect 1). Only a
# regular *.msg file directly in the spool's claimed directory ([Listen] Spool or --spool,
# + /claimed) is deleted or moved to Done_Msg_File_Dest. Absolute paths elsewhere, ../
# escapes, a symbolic link in the claimed directory (to a file or to a directory outside),
# a non-message record and a spool other than the configured one are refused: the target
# survives, the line is an ERROR line with `!Settle refused (PATH): why`, settle_refused
# counts it and stderr says so. Legitimate settles still work, also through --spool.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
cd "$T" || exit 1
rec() { # rec ID SETTLE [EXTRA-HEADERS [KIND]]
    printf '{"v":1,"kind":"%s","id":"%s","ts":"2026-11-24T20:05:10Z","source":{"type":"spool","name":"spool/%s.msg"},"settle":"%s","headers":{"to":"a@accept.s","from":"f@s"%s},"dkim":{"result":"pass"},"plan":{"actions":[]}}\n' \
        "${4:-message}" "$1" "$1" "$2" "${3:-}"
}
# Victims outside the spool (scratch files, never real system files).
setup() {
    rm -rf spool outside other done.d c.log
    mkdir -p spool/claimed outside other/claimed
    for f in passwd victim.msg victim2.msg victim3.msg; do echo "precious $f" > "outside/$f"; done
    echo "other spool" > other/claimed/o1.msg
    ln -s "$T/outside/victim2.msg" spool/claimed/link.msg
    ln -s "$T/outside" spool/claimed/dir.msg
    for id in good1 good2 good3 bh1; do echo "Subject: $id" > "spool/claimed/$id.msg"; done
}
records() {
    rec good1 spool/claimed/good1.msg
    rec abs1 "$T/outside/passwd"
    rec abs2 "$T/outside/victim.msg"
    rec dots1 spool/claimed/../../outside/victim.msg
    rec dots2 ../outside/victim.msg
    rec dots3 spool/claimed/..
    rec link1 spool/claimed/link.msg
    rec link2 spool/claimed/dir.msg/victim3.msg
    rec other1 other/claimed/o1.msg
    rec bh1 spool/claimed/bh1.msg '' blackhole
    rec good2 spool/claimed/good2.msg ',"x_bouncy_sink":"store-done"'
    rec good3 "$T/spool/claimed/good3.msg"
}
survivors() {
    local f
    for f in outside/passwd outside/victim.msg outside/victim2.msg outside/victim3.msg \
        other/claimed/o1.msg spool/claimed/bh1.msg; do
        [ "$(cat "$f" 2>/dev/null)" != "" ] || { echo "gone: $f"; return 1; }
    done
    [ -L spool/claimed/link.msg ] && [ -L spool/claimed/dir.msg ] || { echo "link gone"; return 1; }
}
refused_ids="abs1 abs2 dots1 dots2 dots3 link1 link2 other1"

# Without Done_Msg_File_Dest.
setup
printf '[Sink]\nLogfile = c.log\n' > c.ini
records | "$BS_BIN/report" -c c.ini --once > once.json 2> err.txt
ok $? "exit 0"
out=$(survivors); ok $? "every file outside the claimed directory, and the links, survive ${out}"
ok "$( [ ! -e spool/claimed/good1.msg ] && [ ! -e spool/claimed/good2.msg ] && [ ! -e spool/claimed/good3.msg ]; echo $? )" \
    "legitimate settles deleted their files (relative and absolute path)"
for id in $refused_ids; do
    line=$(grep -F "spool/$id.msg," c.log)
    like "$line" "^[0-9-]+ [0-9:]+,[0-9]+,consume-mail,ERROR,spool/$id.msg,a@accept.s,f@s,.*,!Settle refused \(.+\): " \
        "$id: an ERROR line with !Settle refused"
done
like "$(grep -F spool/abs1.msg, c.log)" "!Settle refused \($T/outside/passwd\): not the name of a spool file" "why: not a spool file name"
like "$(grep -F spool/dots1.msg, c.log)" "not in the spool's claimed directory$" "why: ../ escape is not in the claimed directory"
like "$(grep -F spool/link1.msg, c.log)" "not a regular file" "why: symbolic link"
like "$(grep -F spool/link2.msg, c.log)" "not in the spool's claimed directory$" "why: a link to a directory outside"
like "$(grep -F ',bh1,' c.log)" ",ERROR,bh1,,,Blackhole,!Settle refused \(spool/claimed/bh1.msg\): only a message record settles a file$" \
    "bh1: a blackhole record settles nothing"
like "$(grep -F spool/good1.msg, c.log)" ",INFO,spool/good1.msg,a@accept.s,f@s,Accept$" "legitimate line unchanged"
is "$(python3 -c 'import json,sys; print(json.load(open("once.json"))["settle_refused"])')" 9 "settle_refused counts 9"
is "$(grep -c 'report: warning: settle refused, no file touched' err.txt)" 9 "a warning on stderr for each"

# With Done_Msg_File_Dest: refused files are not moved there either.
setup
printf '[Sink]\nLogfile = c.log\nDone_Msg_File_Dest = done.d\n' > d.ini
{ records; rec abs3 "$T/outside/victim.msg" ',"x_bouncy_sink":"store-done"'; } \
    | "$BS_BIN/report" -c d.ini --once > /dev/null 2> err.txt
ok $? "exit 0"
out=$(survivors); ok $? "with a done directory: every outside file survives in place ${out}"
is "$(ls done.d | tr '\n' ' ')" "good2.msg " "only the legitimate store-done file was moved"
like "$(grep -F spool/abs3.msg, c.log)" ",!Settle refused \(.*\): not in the spool's claimed directory$" "store-done outside: refused, no !done"

# Another spool: [Listen] Spool decides which claimed directory is settled; --spool overrides.
setup
printf '[Sink]\nLogfile = c.log\n[Listen]\nSpool = other\n' > o.ini
rec good1 spool/claimed/good1.msg | "$BS_BIN/report" -c o.ini --once > /dev/null 2> err.txt
ok "$( [ -f spool/claimed/good1.msg ]; echo $? )" "[Listen] Spool = other: spool/claimed is not settled"
like "$(cat c.log)" "!Settle refused \(spool/claimed/good1.msg\): not in the spool's claimed directory" "and the line says so"
rec o1 other/claimed/o1.msg | "$BS_BIN/report" -c o.ini --once > /dev/null
ok "$( [ ! -e other/claimed/o1.msg ]; echo $? )" "[Listen] Spool = other: other/claimed/o1.msg settled"
rec good1 spool/claimed/good1.msg | "$BS_BIN/report" -c o.ini --spool ./spool/ --once > /dev/null
ok "$( [ ! -e spool/claimed/good1.msg ]; echo $? )" "--spool ./spool/ overrides it"
"$BS_BIN/report" -c o.ini --spool '' --once < /dev/null > /dev/null 2>&1; is $? 64 "--spool '': usage error"

# Live: a spool recreated under a running report is followed (the directory is opened
# again when the record's directory is not the one held open).
setup
port=$(free_port)
printf '[Sink]\nLogfile = live.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > live.ini
mkfifo in.fifo
bg "$BS_BIN/report" -c live.ini --input in.fifo < /dev/null 2> live.err
exec 3> in.fifo
rec good1 spool/claimed/good1.msg >&3
wait_for test ! -e spool/claimed/good1.msg; ok $? "live: settled"
rm -rf spool && mkdir -p spool/claimed && echo x > spool/claimed/new1.msg
rec new1 spool/claimed/new1.msg >&3
wait_for test ! -e spool/claimed/new1.msg; ok $? "live: settled in the recreated claimed directory"
rec abs1 "$T/outside/victim.msg" >&3
wait_for grep -q 'spool/abs1.msg' live.log
like "$(grep -F spool/abs1.msg live.log)" "!Settle refused" "live: refused"
ok "$( [ -f outside/victim.msg ]; echo $? )" "live: the outside file survives"
exec 3>&-
done_testing
