#!/usr/bin/env python3
"""expected.py — writes golden.in and the expected golden-*.out from the hand-written table
below (it does not run decide). Each case states the plan that SPEC A2-A4 and golden.ini
give for each date: d24 = Tue 2026-11-24 UTC (index 1, factor 1, day 24), d01 = Tue
2026-12-01 UTC (index 8: rate 0, factor 0, day 1), k25 = 2026-11-24T12:00Z in UTC-14, i.e.
Wed 2026-11-25 (index 2, factor 1, day 25). Open = 1 and the conditionals are 0/1/1, so the
open branch is always ["open", "click", "click_again"]; Unsubscribe_percent = 100."""
import json, collections
UA = 'Mozilla/5.0 (X11; Linux x86_64) Golden/1.0, "quoted"'
OC = ["open", "click", "click_again"]
def d(**k): return k
def msg(id, rcpt=None, to=None, dkim="pass", reason="", spf="pass", extra=None, hdr=None, nodkim=False, nospf=False):
    r = collections.OrderedDict([("v",1),("kind","message"),("id",id),("ts","2026-11-24T20:05:10.387Z")])
    if rcpt is not None: r["envelope"] = {"mail_from":"bounces@sender.test","rcpt":rcpt}
    h = {}
    h["to"] = to if to is not None else (rcpt or "")
    h["from"] = "news@sender.test"
    if hdr: h.update(hdr)
    r["headers"] = h
    if not nodkim: r["dkim"] = {"result":dkim,"domain":"sender.test","selector":"s1","reason":reason}
    if not nospf: r["spf"] = {"result":spf,"domain":"sender.test","reason":""}
    if extra: r.update(extra)
    return r
LU = {"list_unsubscribe":"<https://u.sender.test/x>","list_unsubscribe_post":"List-Unsubscribe=One-Click"}
# (record, {variant: (stream, actions, skip, signals, skip_code)}) ; variant keys d24 d01 k25 ; "*" = all
def P(stream, actions, skip=None, signals=None, code=None): return (stream, actions, skip, signals, code)
mixed_open = {"d24":P("mixed",OC),"d01":P("mixed",[]),"k25":P("mixed",OC)}
cases = [
 (msg("g01", "u1@bouncy-sink.test"), mixed_open),
 (msg("g02", "x@accept.bouncy-sink.test"), {"*":P("accept",[])}),
 (msg("g03", "x@oob.bouncy-sink.test"), {"*":P("oob",["oob"])}),
 (msg("g04", "x@fbl.a.b.bouncy-sink.test"), {"*":P("fbl",["fbl"])}),
 (msg("g05", "x@OpenClick.Bouncy-Sink.Test"), {"*":P("openclick",OC)}),
 (msg("g06", "x@unsub.bouncy-sink.test", hdr=LU), {"*":P("unsub",["unsubscribe"])}),
 (msg("g07", "x@unsub.bouncy-sink.test"), {"*":P("unsub",[],"!No one-click unsubscribe (List-Unsubscribe with List-Unsubscribe-Post)", code="no_one_click")}),
 (msg("g08", "u8@bouncy-sink.test", hdr=LU), {"d24":P("mixed",OC+["unsubscribe"]),"d01":P("mixed",["unsubscribe"]),"k25":P("mixed",OC+["unsubscribe"])}),
 (msg("g09", "u9@bouncy-sink.test", dkim="fail", reason="signature did not verify"), {"*":P("mixed",[],"!DKIM fail: signature did not verify", code="dkim_fail")}),
 (msg("g10", "u10@bouncy-sink.test", dkim="none"), {"*":P("mixed",[],"!DKIM fail: none", code="dkim_fail")}),
 (msg("g11", "u11@bouncy-sink.test", nodkim=True), {"*":P("mixed",[],"!DKIM fail: not checked", code="dkim_fail")}),
 (msg("g12", "x@oob.bouncy-sink.test", extra={"error":"truncated message"}), {"*":P("oob",[],"!truncated message", code="input_error")}),
 (msg("g13", "x@oob.bouncy-sink.test", spf="softfail"), {"*":P("oob",[],"!SPF fail: softfail", code="spf_fail")}),
 (msg("g14", "x@oob.bouncy-sink.test", spf="off"), {"*":P("oob",["oob"])}),
 (msg("g15", "u15@bouncy-sink.test", spf="fail"), mixed_open),
 (msg("g16", "x@openclick.bouncy-sink.test", spf="fail"), {"*":P("openclick",[],"!SPF fail: fail", code="spf_fail")}),
 (msg("g17", None, to='"Doe, Jane" <jane@fbl.bouncy-sink.test>, other@accept.bouncy-sink.test'), {"*":P("fbl",["fbl"])}),
 (msg("g18", "x@accept.other.test"), mixed_open),
 (msg("g19", "x@oob.sink.example"), mixed_open),
 (msg("g20", "x@fbl.oob.sink.example"), {"*":P("fbl",["fbl"])}),
 (msg("g21", "x@accept.sink.example"), {"*":P("accept",[])}),
 (msg("g22", "test+a1@bouncy-sink.test"), {"d24":P("mixed",OC,None,(1,True)),"d01":P("mixed",[],None,(1,False)),"k25":P("mixed",[],None,(1,False))}),
 (msg("g23", "test+a2@bouncy-sink.test"), {"d24":P("mixed",[],None,(2,False)),"d01":P("mixed",[],None,(2,True)),"k25":P("mixed",[],None,(2,False))}),
 (msg("g24", "test+a3@bouncy-sink.test"), {"*":P("mixed",[],None,(3,False))}),
 (msg("g25", "test2@bouncy-sink.test"), mixed_open),
 (msg("g26", "test+a2@openclick.bouncy-sink.test"), {"d24":P("openclick",OC,None,(2,False)),"d01":P("openclick",OC,None,(2,True)),"k25":P("openclick",OC,None,(2,False))}),
 (msg("g27", "test@bouncy-sink.test"), mixed_open),
 (msg("g28", "<x@accept.bouncy-sink.test>"), {"*":P("accept",[])}),
 (msg("g29", "x@oob.bouncy-sink.test", nospf=True), {"*":P("oob",["oob"])}),
 (msg("g35", "x@ooto.bouncy-sink.test"), {"*":P("ooto",["ooto"])}),
 (msg("g36", "x@ooto.bouncy-sink.test", dkim="fail", reason="bad"), {"*":P("ooto",[],"!DKIM fail: bad", code="dkim_fail")}),
]
def plan_json(p):
    stream, actions, skip, sig, code = p
    o = collections.OrderedDict([("stream",stream),("actions",actions),("user_agent",UA)])
    if skip: o["skip"] = skip; o["skip_code"] = code
    if sig: o["signals"] = collections.OrderedDict([("digit",sig[0]),("allowed",sig[1])])
    return json.dumps(o, separators=(",",":"), ensure_ascii=False)
def dump(r): return json.dumps(r, separators=(",",":"), ensure_ascii=False)
inp = []; outs = {"d24":[],"d01":[],"k25":[]}
for rec, exp in cases:
    line = dump(rec); inp.append(line)
    for v in outs:
        p = exp.get(v, exp.get("*"))
        outs[v].append(line[:-1] + ',"plan":' + plan_json(p) + "}")
# hand-written lines
special = []
# an escaped character in a field decide reads: decoded, the record passed on as it was
l = r'{"v":1,"kind":"message","id":"g30","ts":"2026-11-24T20:05:10.387Z","headers":{"to":"x@acc\u0065pt.bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}}'
special.append((l, l[:-1], {"*":P("accept",[])}))
# a number with an exponent: the jansson path, which re-serialises the record
l = '{"v":1,"kind":"message","id":"g34","ts":"2026-11-24T20:05:10.387Z","size":5.12e3,"envelope":{"rcpt":"x@fbl.bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}}'
special.append((l, '{"v":1,"kind":"message","id":"g34","ts":"2026-11-24T20:05:10.387Z","size":5120.0,"envelope":{"rcpt":"x@fbl.bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}', {"*":P("fbl",["fbl"])}))
# an old plan is replaced
l = '{"v":1, "kind":"message", "id":"g31", "ts":"2026-11-24T20:05:10.387Z", "plan":{"stream":"old"}, "envelope":{"rcpt":"x@fbl.bouncy-sink.test"}, "dkim":{"result":"pass"}, "spf":{"result":"pass"}}'
special.append((l, '{"v":1,"kind":"message","id":"g31","ts":"2026-11-24T20:05:10.387Z","envelope":{"rcpt":"x@fbl.bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}', {"*":P("fbl",["fbl"])}))
# white space kept byte for byte on the fast path
l = '{ "v" : 1 , "kind" : "message" , "id" : "g32" , "ts":"2026-11-24T20:05:10.387Z", "envelope" : { "rcpt" : "x@accept.bouncy-sink.test" } , "dkim" : {"result":"pass"} }  '
special.append((l, '{ "v" : 1 , "kind" : "message" , "id" : "g32" , "ts":"2026-11-24T20:05:10.387Z", "envelope" : { "rcpt" : "x@accept.bouncy-sink.test" } , "dkim" : {"result":"pass"} ', {"*":P("accept",[])}))
for l, prefix, exp in special:
    inp.append(l)
    for v in outs:
        p = exp.get(v, exp.get("*"))
        outs[v].append(prefix + ',"plan":' + plan_json(p) + "}")
# pass-through kinds, verbatim
pt = ['{ "v": 1, "kind": "inband", "id": "i1", "ts": "2026-11-24T20:05:10.001Z", "stream": "mixed", "x": [1, 2.5, true, null, {"a": "\\u00e9"}] }',
      '{"v":1,"kind":"params","id":"params-1","ts":"2026-11-24T20:05:00.000Z","source":"other.ini","reason":"start","params":{}}',
      '{"v":1,"kind":"blackhole","id":"b1","ts":"2026-11-24T20:05:10.002Z","envelope":{"rcpt":"x@fbl.bouncy-sink.test"}}']
for l in pt:
    inp.append(l)
    for v in outs: outs[v].append(l)
# CRLF line and a blank line
inp.append("")
crlf = dump(msg("g33", "x@accept.bouncy-sink.test"))
inp.append(crlf + "\r")
for v in outs: outs[v].append(crlf[:-1] + ',"plan":' + plan_json(P("accept",[])) + "}")
open("golden.in","w").write("\n".join(inp) + "\n")
for v in outs: open("golden-%s.out" % v, "w").write("\n".join(outs[v]) + "\n")
