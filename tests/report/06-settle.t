#!/usr/bin/env bash
# report: settling spooled files (SPEC A8) — deleted without Done_Msg_File_Dest; with it,
# kept there on a `!` error or X-Bouncy-Sink: store-done (line suffix !done), removed
# otherwise; a settle failure is a warning and the line stands.
. "$(dirname "$0")/../lib.sh"
export TZ=UTC
cd "$T" || exit 1
rec() { # rec ID EXTRA-JSON
    printf '{"v":1,"kind":"message","id":"%s","ts":"2026-11-24T20:05:10Z","source":{"type":"spool","name":"spool/%s.msg"},"settle":"spool/claimed/%s.msg","headers":{"to":"a@accept.s","from":"f@s"%s},"dkim":{"result":"pass"},"plan":%s}\n' "$1" "$1" "$1" "$2" "$3"
}
make_spool() {
    rm -rf spool && mkdir -p spool/claimed
    for id in ok1 bad1 keep1 keep2; do echo "Subject: $id" > "spool/claimed/$id.msg"; done
    {
        rec ok1 '' '{"actions":[]}'
        rec bad1 '' '{"actions":[],"skip":"!DKIM fail: no signature"}'
        rec keep1 ',"x_bouncy_sink":"Store-Done"' '{"actions":[]}'
        rec keep2 ',"x_bouncy_sink":"store-done please"' '{"actions":[]}'
        rec gone1 '' '{"actions":[]}'
    } > recs.ndjson
}

# Without Done_Msg_File_Dest: every settled file is deleted.
make_spool
printf '[Sink]\nLogfile = c.log\n' > nodone.ini
"$BS_BIN/report" -c nodone.ini --once < recs.ndjson > /dev/null 2> err.txt
ok $? "exit 0 although one settle failed"
is "$(ls spool/claimed | wc -l)" 0 "all claimed files deleted"
is "$(grep -c '!done' c.log)" 0 "no !done without a done directory"
like "$(cat err.txt)" "report: warning: cannot delete settled file \((\./)?spool/claimed/gone1.msg\)" \
  "missing file: a warning"
like "$(grep ',gone1,\|spool/gone1' c.log)" "spool/gone1.msg,a@accept.s,f@s,Accept$" "its line still stands"

# With Done_Msg_File_Dest (created when missing).
make_spool
rm -f c.log
printf '[Sink]\nLogfile = c.log\nDone_Msg_File_Dest = out/done\n' > done.ini
"$BS_BIN/report" -c done.ini --once < recs.ndjson > /dev/null 2> err.txt
ok $? "exit 0"
ok "$( [ -d out/done ]; echo $? )" "done directory created"
is "$(ls out/done | tr '\n' ' ')" "bad1.msg keep1.msg keep2.msg " "kept: the ! error and both store-done"
is "$(cat out/done/bad1.msg)" "Subject: bad1" "kept file intact"
is "$(ls spool/claimed | wc -l)" 0 "claimed directory emptied"
like "$(grep 'spool/ok1.msg' c.log)" ",Accept$" "accepted file removed, no !done"
like "$(grep 'spool/bad1.msg' c.log)" ",!DKIM fail: no signature!done$" "error line gets !done"
like "$(grep 'spool/keep1.msg' c.log)" ",Accept!done$" "store-done line gets !done"

# Records without settle leave files alone.
echo keep > spool/other.msg
printf '{"v":1,"kind":"message","id":"n1","ts":"2026-11-24T20:05:10Z","source":{"type":"file","name":"spool/other.msg"},"plan":{"actions":[]}}\n' \
  | "$BS_BIN/report" -c done.ini --once > /dev/null
ok "$( [ -f spool/other.msg ]; echo $? )" "a record without settle touches no file"

# The line is written before the file goes: a live report, the file checked per line.
make_spool
port=$(free_port)
printf '[Sink]\nLogfile = live.log\n[Report]\nAddress = 127.0.0.1:%s\nState_File = st.json\n' "$port" > live.ini
mkfifo in.fifo
bg "$BS_BIN/report" -c live.ini --input in.fifo < /dev/null
exec 3> in.fifo
head -n 1 recs.ndjson >&3
wait_for test ! -e spool/claimed/ok1.msg
ok $? "live: file settled"
like "$(cat live.log)" "spool/ok1.msg,a@accept.s,f@s,Accept" "live: its line is in the log"
exec 3>&-
done_testing
