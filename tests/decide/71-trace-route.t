#!/usr/bin/env bash
# issue 15: decide trusts listen's routing decision recorded in the spool file
# (X-Bouncy-Sink-Route above listen's Received field, bouncy-sink(7)); a field a sender
# wrote (below that Received) is ignored; without the field the recipient decides, through
# the same function listen uses. The fast scanner and the reference parser agree.
. "$(dirname "$0")/../lib.sh"
# rec ID RCPT HEADER_BLOCK [EXTRA]: EXTRA "1e0" forces decide's slow path (jansson)
rec() {
    jq -cn --arg id "$1" --arg rcpt "$2" --arg hb "$3" --arg extra "${4:-}" \
        '{v:1,kind:"message",id:$id,ts:"2026-11-24T20:05:10.387Z",envelope:{rcpt:$rcpt},
          header_block:$hb,dkim:{result:"pass"},spf:{result:"pass"}}' |
        if [ -n "${4:-}" ]; then sed 's/}$/,"x":1e0}/'; else cat; fi
}
top=$'Return-Path: <s@sender.test>\r\n'
rcv=$'Received: from mta.sender.test (192.0.2.7) by sink.test id 0123456789abcdef for <x>; Tue, 24 Nov 2026 20:05:10 +0000\r\n'
{
    rec trusted a@accept.bouncy-sink.test "${top}X-Bouncy-Sink-Route: oob"$'\r\n'"${rcv}Subject: x"$'\r\n'
    rec trusted-slow a@accept.bouncy-sink.test "${top}X-Bouncy-Sink-Route: oob"$'\r\n'"${rcv}Subject: x"$'\r\n' slow
    rec greylist a@oob.bouncy-sink.test "${top}X-Bouncy-Sink-Route: greylist"$'\r\n'"${rcv}"
    rec forged a@accept.bouncy-sink.test "${top}${rcv}X-Bouncy-Sink-Route: oob"$'\r\n'
    rec forged-slow a@accept.bouncy-sink.test "${top}${rcv}X-Bouncy-Sink-Route: oob"$'\r\n' slow
    rec no-received a@accept.bouncy-sink.test $'X-Bouncy-Sink-Route: oob\r\nSubject: x\r\n'
    rec replayed a@fbl.bouncy-sink.test "${top}${rcv}Subject: x"$'\r\n'
    rec unknown a@fbl.bouncy-sink.test "${top}X-Bouncy-Sink-Route: oobx"$'\r\n'"${rcv}"
    # an 8-bit header block is recorded as base64: decide decodes it (slow path)
    jq -cn --arg hb "$(printf '%s' "${top}X-Bouncy-Sink-Route: oob"$'\r\n'"${rcv}" | base64 -w0)" \
        '{v:1,kind:"message",id:"b64",ts:"2026-11-24T20:05:10.387Z",envelope:{rcpt:"a@accept.bouncy-sink.test"},
          header_block_b64:$hb,dkim:{result:"pass"},spf:{result:"pass"}}'
} > "$T/in.ndjson"
printf '[Sink]\nUser_Agents_File = %s\n' "$ROOT/data/reference/user-agents.csv" > "$T/d.ini"
"$BS_BIN/decide" -c "$T/d.ini" --seed 1 --now 2026-11-23T12:00:00Z \
    < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "decide runs"
plan() { jq -r --arg id "$1" 'select(.id == $id) | "\(.plan.stream) \(.plan.actions | join(","))"' "$T/out.ndjson"; }
is "$(plan trusted)" "oob oob" "listen's decision above its Received is trusted over the recipient"
is "$(plan trusted-slow)" "oob oob" "the same through the reference parser"
is "$(plan greylist)" "accept " "a greylist decision is a quiet accept"
is "$(plan forged)" "accept " "a field below listen's Received (the sender's) is ignored"
is "$(plan forged-slow)" "accept " "ignored by the reference parser too"
is "$(plan no-received)" "accept " "no Received field: nothing written by listen"
is "$(plan replayed)" "fbl fbl" "a replayed corpus without the field: routed by its recipient"
is "$(plan unknown)" "fbl fbl" "an unknown label is ignored"
is "$(plan b64)" "oob oob" "a base64 header block is read too"
done_testing
