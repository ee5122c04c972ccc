#!/usr/bin/env bash
# act-smtp: 4xx retried with back-off while other records proceed; 5xx final with the
# server's code and text; a server that never answers times out.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

# 451 then 421 for the first record's FBL (retried after 1 s, then 2 s), then accepted; the
# second record is not held up meanwhile.
start_smtpd "$T/a" --rcpt "fbl@sparkpostmail.com=451 4.7.1 Greylisted; try again later,fbl@sparkpostmail.com=421 4.4.2 Timeout"
write_conf "$T/a.ini" "$SMTP_PORT"
{ mkrec r1 fbl; mkrec r2 oob; } | "$BS_BIN/act-smtp" -c "$T/a.ini" > "$T/a.ndjson" 2> "$T/a.err"
ok $? "exit 0"
is "$(jget "$T/a.ndjson" 1 id) $(jget "$T/a.ndjson" 2 id)" "r1 r2" "output keeps input order"
is "$(jget "$T/a.ndjson" 1 smtp.fbl.status)" sent "4xx then 250: sent"
is "$(jget "$T/a.ndjson" 1 smtp.fbl.attempts)" 3 "... on the third attempt"
is "$(jget "$T/a.ndjson" 2 smtp.oob.attempts)" 1 "the other record went through at once"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rcpts"][0])' "$T/a/msg-1.json")" \
   "<bounces@sender.test>" "the other record was delivered while the first waited for its retry"

# 5xx at RCPT: final, one attempt, code and text recorded.
start_smtpd "$T/b" --rcpt "550 5.7.1 <fbl@sparkpostmail.com>: Recipient address rejected: Access denied"
write_conf "$T/b.ini" "$SMTP_PORT"
mkrec r3 fbl | "$BS_BIN/act-smtp" -c "$T/b.ini" > "$T/b.ndjson" 2> "$T/b.err"
ok $? "exit 0 after a 5xx"
is "$(jget "$T/b.ndjson" 1 smtp.fbl.status)" smtp_error "5xx: status smtp_error"
is "$(jget "$T/b.ndjson" 1 smtp.fbl.attempts)" 1 "5xx: not retried"
is "$(jget "$T/b.ndjson" 1 smtp.fbl.error)" "!FBL endpoint returned error: 550 5.7.1 <fbl@sparkpostmail.com>: Recipient address rejected: Access denied" "5xx: code and text in the ! error"
like "$(jget "$T/b.ndjson" 1 smtp.fbl.reply)" "^550 5.7.1" "5xx: reply recorded"
like "$(cat "$T/b.err")" "r3.*550 5.7.1 .*Access denied" "5xx: logged on stderr with the message id"

# 5xx at end of DATA.
start_smtpd "$T/c" --data-reply "554 5.7.1 Message rejected as spam"
write_conf "$T/c.ini" "$SMTP_PORT"
mkrec r4 oob | "$BS_BIN/act-smtp" -c "$T/c.ini" > "$T/c.ndjson" 2>/dev/null
is "$(jget "$T/c.ndjson" 1 smtp.oob.error)" "!OOB endpoint returned error: 554 5.7.1 Message rejected as spam" "5xx after DATA: final with code and text"

# 4xx for ever: retried until Retry_Max_Seconds, then smtp_error.
start_smtpd "$T/d" --rcpt "452 4.2.2 Mailbox full,452 4.2.2 Mailbox full,452 4.2.2 Mailbox full,452 4.2.2 Mailbox full,452 4.2.2 Mailbox full"
write_conf "$T/d.ini" "$SMTP_PORT" "Retry_Max_Seconds = 2.5"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/d.ini"
mkrec r5 fbl | "$BS_BIN/act-smtp" -c "$T/d.ini" > "$T/d.ndjson" 2>/dev/null
is "$(jget "$T/d.ndjson" 1 smtp.fbl.status)" smtp_error "4xx until the retry limit: smtp_error"
like "$(jget "$T/d.ndjson" 1 smtp.fbl.attempts)" "^[23]$" "retried (attempts at 0 s and 1 s; the next, at 3 s, is past the limit)"
is "$(jget "$T/d.ndjson" 1 smtp.fbl.error)" "!FBL endpoint returned error: 452 4.2.2 Mailbox full" "4xx: last reply in the error"

# A server that accepts the connection and never answers.
start_smtpd "$T/e" --silent
write_conf "$T/e.ini" "$SMTP_PORT" "Retry_Max_Seconds = 0"
sed -i -e '/^Retry_Max_Seconds = 5$/d' -e 's/^Timeout = 5$/Timeout = 2/' "$T/e.ini"
mkrec r6 fbl | timeout 30 "$BS_BIN/act-smtp" -c "$T/e.ini" > "$T/e.ndjson" 2>/dev/null
ok $? "silent server: act-smtp finishes"
is "$(jget "$T/e.ndjson" 1 smtp.fbl.status)" smtp_error "silent server: smtp_error"
like "$(jget "$T/e.ndjson" 1 smtp.fbl.error)" "^!FBL endpoint returned error: .*[Tt]ime" "silent server: the error says time-out"

# Nothing listening: connection refused is an error, never a crash.
port=$(free_port)
write_conf "$T/f.ini" "$port" "Retry_Max_Seconds = 0"
sed -i '/^Retry_Max_Seconds = 5$/d' "$T/f.ini"
mkrec r7 oob | "$BS_BIN/act-smtp" -c "$T/f.ini" > "$T/f.ndjson" 2>/dev/null
ok $? "refused connection: exit 0"
like "$(jget "$T/f.ndjson" 1 smtp.oob.error)" "^!OOB endpoint returned error: .*(connect|Connection)" "refused connection recorded"
done_testing
