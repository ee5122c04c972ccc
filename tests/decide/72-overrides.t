#!/usr/bin/env bash
# issue 18: sender-chosen outcomes in decide (override.h). A replayed message (no route
# trace from listen) whose recipient has a +bs- action tag is planned for that stream; with
# listen's trace the trace wins (listen applied the tag). A signed X-Bouncy-Sink-Outcome
# field (ingest records it only from a covered instance) chooses the stream when the address
# has no tag; with a failing DKIM result it counts for nothing, and the gate still refuses
# every action. In-band directives in the field are ignored (the message is accepted
# already). plan.override says which source chose. Fast scanner and reference parser agree.
. "$(dirname "$0")/../lib.sh"
# rec ID RCPT DKIM OUTCOME_HEADER [HEADER_BLOCK] [slow]
rec() {
    jq -cn --arg id "$1" --arg rcpt "$2" --arg dkim "$3" --arg ov "$4" --arg hb "${5:-}" \
        '{v:1,kind:"message",id:$id,ts:"2026-11-24T20:05:10.387Z",envelope:{rcpt:$rcpt},
          headers:({to:$rcpt} + (if $ov == "" then {} else {x_bouncy_sink_outcome:$ov} end)),
          dkim:{result:$dkim},spf:{result:"pass"}}
         + (if $hb == "" then {} else {header_block:$hb} end)' |
        if [ -n "${6:-}" ]; then sed 's/}$/,"x":1e0}/'; else cat; fi
}
trace=$'Return-Path: <s@sender.test>\r\nX-Bouncy-Sink-Route: accept\r\nReceived: from m (192.0.2.7) by sink.test id 0123456789abcdef for <x>; Tue, 24 Nov 2026 20:05:10 +0000\r\n'
{
    rec tag-oob 'u+bs-oob@accept.bouncy-sink.test' pass ""
    rec tag-fbl-slow 'u+bs-fbl@accept.bouncy-sink.test' pass "" "" slow
    rec tag-openclick 'u+bs-open-click@bouncy-sink.test' pass ""
    rec tag-traced 'u+bs-oob@accept.bouncy-sink.test' pass "" "$trace"
    rec tag-unsigned 'u+bs-oob@accept.bouncy-sink.test' fail ""
    rec hdr-fbl 'u@accept.bouncy-sink.test' pass "fbl"
    rec hdr-fbl-slow 'u@accept.bouncy-sink.test' pass " FBL " "" slow
    rec hdr-traced 'u@accept.bouncy-sink.test' pass "oob" "$trace"
    rec hdr-unsigned 'u@accept.bouncy-sink.test' fail "oob"
    rec hdr-inband 'u@accept.bouncy-sink.test' pass "550-5.1.1"
    rec hdr-bogus 'u@accept.bouncy-sink.test' pass "bounce"
    rec tag-wins 'u+bs-accept@oob.bouncy-sink.test' pass "fbl"
    rec tag-bad 'u+bs-xyz@oob.bouncy-sink.test' pass "fbl"
} > "$T/in.ndjson"
printf '[Sink]\nUser_Agents_File = %s\n' "$ROOT/data/reference/user-agents.csv" > "$T/d.ini"
"$BS_BIN/decide" -c "$T/d.ini" --seed 1 --now 2026-11-23T12:00:00Z \
    < "$T/in.ndjson" > "$T/out.ndjson" 2> "$T/err"
ok $? "decide runs"
plan() { jq -r --arg id "$1" 'select(.id == $id) | "\(.plan.stream) \(.plan.actions | join(",")) \(.plan.override.source // "-") \(.plan.override.directive // "-")"' "$T/out.ndjson"; }
is "$(plan tag-oob)" "oob oob tag oob" "replayed +bs-oob: the oob stream"
is "$(plan tag-fbl-slow)" "fbl fbl tag fbl" "replayed +bs-fbl: the fbl stream (reference parser)"
like "$(plan tag-openclick)" "^openclick open.* tag open-click$" "replayed +bs-open-click: opened"
is "$(plan tag-traced)" "accept  - -" "with listen's route trace the trace decides"
is "$(plan tag-unsigned)" "oob  tag oob" "unsigned: the stream, but the gate refuses every action"
is "$(jq -r 'select(.id == "tag-unsigned") | .plan.skip_code' "$T/out.ndjson")" dkim_fail \
    "unsigned: skipped as dkim_fail"
is "$(plan hdr-fbl)" "fbl fbl header fbl" "signed X-Bouncy-Sink-Outcome: fbl"
is "$(plan hdr-fbl-slow)" "fbl fbl header fbl" "the field's value trimmed, any case (reference parser)"
is "$(plan hdr-traced)" "oob oob header oob" "the field chooses over listen's subdomain route"
is "$(plan hdr-unsigned)" "accept  - -" "the field counts only with a DKIM pass"
is "$(plan hdr-inband)" "accept  - -" "an in-band directive in the field is ignored"
is "$(plan hdr-bogus)" "accept  - -" "an unknown directive in the field is ignored"
is "$(plan tag-wins)" "accept  tag accept" "the address's tag wins over the field"
is "$(plan tag-bad)" "oob oob - -" "a malformed tag: neither it nor the field counts"
done_testing
