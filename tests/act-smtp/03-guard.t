#!/usr/bin/env bash
# act-smtp: the backscatter guard and the records that cannot be answered send nothing and
# say why with a ! error.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/act-smtp/common.sh"

start_smtpd "$T/srv"
write_conf "$T/c.ini" "$SMTP_PORT"
{
    mkrec g1 fbl mail_from=b@other.test
    mkrec g2 oob mail_from=b@other.test
    mkrec g3 fbl mail_from=none
    mkrec g4 oob mail_from=none
    mkrec g5 fbl rcpt=none to=none
    mkrec g6 oob mail_from=b@nomx.test
    mkrec g7 fbl mail_from=b@nomx.test
    mkrec g8 oob mail_from='<>'
} > "$T/in.ndjson"
"$BS_BIN/act-smtp" -c "$T/c.ini" < "$T/in.ndjson" > "$T/out.ndjson"
ok $? "act-smtp exits 0"
is "$(wc -l < "$T/out.ndjson")" 8 "every record comes out"
is "$(ls "$T/srv" | wc -l)" 0 "the server saw no connection at all"

is "$(jget "$T/out.ndjson" 1 smtp.fbl.status)" return_path_not_sparkpost "FBL allow-list miss: status"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.error)" "!FBL not sent, Return-Path not recognized as SparkPost" "FBL allow-list miss: error text"
is "$(jget "$T/out.ndjson" 1 smtp.fbl.mx)" mx.other.test "FBL allow-list miss: the MX that was refused"
is "$(jget "$T/out.ndjson" 2 smtp.oob.status)" return_path_not_sparkpost "OOB allow-list miss: status"
is "$(jget "$T/out.ndjson" 2 smtp.oob.error)" "!OOB not sent, Return-Path not recognized as SparkPost" "OOB allow-list miss: error text"
is "$(jget "$T/out.ndjson" 3 smtp.fbl.status)" missing_return_path "FBL without Return-Path"
is "$(jget "$T/out.ndjson" 4 smtp.oob.status)" missing_return_path "OOB without Return-Path"
like "$(jget "$T/out.ndjson" 4 smtp.oob.error)" "^!Missing Return-Path" "missing Return-Path error text"
is "$(jget "$T/out.ndjson" 5 smtp.fbl.status)" missing_to "FBL without recipient"
like "$(jget "$T/out.ndjson" 5 smtp.fbl.error)" "^!Missing To" "missing To error text"
is "$(jget "$T/out.ndjson" 6 smtp.oob.status)" no_mx "OOB to a domain without MX"
is "$(jget "$T/out.ndjson" 6 smtp.oob.error)" "!OOB not sent, Return-Path b@nomx.test does not have a valid MX" "no MX error text"
is "$(jget "$T/out.ndjson" 7 smtp.fbl.status)" no_mx "FBL to a domain without MX"
is "$(jget "$T/out.ndjson" 8 smtp.oob.status)" missing_return_path "null Return-Path <> is missing"

# the *.e.sparkpost.com rule and an allow-list key in another case
write_conf "$T/c2.ini" "$SMTP_PORT" 
sed -i 's/^smtp.sparkpostmail.com = /SMTP.SparkPostMail.COM = /' "$T/c2.ini"
{ mkrec s1 fbl mail_from=b@tenant.test; mkrec s2 fbl; } | "$BS_BIN/act-smtp" -c "$T/c2.ini" > "$T/sp.ndjson"
is "$(jget "$T/sp.ndjson" 1 smtp.fbl.to)" fbl@acme.mail.e.sparkpost.com "MX under e.sparkpost.com: fbl@<first label>.mail.e.sparkpost.com"
is "$(jget "$T/sp.ndjson" 1 smtp.fbl.status)" sent "... and sent"
is "$(jget "$T/sp.ndjson" 2 smtp.fbl.status)" sent "allow-list keys match case-insensitively"
is "$(cat "$T/srv"/*.json | grep -o 'fbl@[a-z.]*' | sort | tr '\n' ' ')" "fbl@acme.mail.e.sparkpost.com fbl@sparkpostmail.com " "the server got exactly those two"
done_testing
