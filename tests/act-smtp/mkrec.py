#!/usr/bin/env python3
"""Writes hand-made message records for the act-smtp tests.

  mkrec.py ID ACTIONS [key=value ...]    one record on stdout
keys: mail_from, rcpt, to (headers.to), from (headers.from), ip, hb (header block: 'default',
'lf' for bare LF line ends, '8bit' for a non-UTF-8 byte), kind, subject (headers.subject),
msgid (headers.message_id), hdrs (extra header lines appended to the block, '|' separated),
notify (dsn.notify, ',' separated), ret, envid, orcpt (dsn.*), body (return_body), skip
(plan.skip).
A value 'none' drops the field.
"""
import base64
import json
import sys

HB = ("Return-Path: <{mf}>\r\n"
      "Received: from mta1.sender.test (192.0.2.10) by sink.example id 5f1c0a3e9b7d2c41 for <{rcpt}>;"
      " Tue, 24 Nov 2026 20:05:10 +0000 (envelope-from <{mf}>)\r\n"
      "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
      "\td=sender.test; s=s1; t=1528134994;\r\n"
      "\tbh=oB3T+QpHJPpFxoBSV1F8752cCa90HrVGXTB13zXm8jc=;\r\n"
      "X-MSFBL: KZA7nd53Fw/GDfWYz9wlbQ9KWWsnvEiH6TBrOgm2eSQ=|eyJzdWJhY2NvdW50X2l\r\n"
      "\tkIjoiMjYiLCJyIjoidGVzdCszMjk5MTkwMTI2NjQ3ODAzNjM5MkBub3QtZ21haWw\r\n"
      " \t uY29tLmJvdW5jeS1zaW5rLnRyeW1zeXMubmV0IiwibWVzc2FnZV9pZCI6IjAwMDE  \r\n"
      "To: {rcpt}\r\n"
      "From: News Letter <news@sender.test>\r\n"
      "Subject: Newsletter\r\n"
      "Message-ID: <1@sender.test>\r\n"
      ".Dotted-Header: starts with a dot\r\n")

args = sys.argv[1:]
rid, actions = args[0], [a for a in args[1].split(",") if a]
kv = dict(a.split("=", 1) for a in args[2:])
mf = kv.get("mail_from", "bounces@sender.test")
rcpt = kv.get("rcpt", "a@fbl.bouncy-sink.test")
rec = {"v": 1, "kind": kv.get("kind", "message"), "id": rid, "ts": "2026-11-24T20:05:10.387Z",
       "envelope": {"mail_from": mf, "rcpt": rcpt, "client_ip": kv.get("ip", "192.0.2.10"),
                    "helo": "mta1.sender.test", "received": "2026-11-24T20:05:10Z"},
       "headers": {"to": kv.get("to", rcpt), "from": kv.get("from", "News Letter <news@sender.test>"),
                   "subject": "Newsletter"},
       "plan": {"stream": "mixed", "actions": actions}}
hb = HB.format(mf=mf, rcpt=rcpt)
if kv.get("hdrs"):
    hb += "".join(h + "\r\n" for h in kv["hdrs"].split("|"))
if "subject" in kv:
    rec["headers"]["subject"] = kv["subject"]
if "msgid" in kv:
    rec["headers"]["message_id"] = kv["msgid"]
mode = kv.get("hb", "default")
if mode == "lf":
    rec["header_block"] = hb.replace("\r\n", "\n")
elif mode == "8bit":
    rec["header_block_b64"] = base64.b64encode(hb.encode() + b"X-Latin1: caf\xe9\r\n").decode()
else:
    rec["header_block"] = hb
for k, path in (("mail_from", ("envelope", "mail_from")), ("rcpt", ("envelope", "rcpt")),
                ("to", ("headers", "to")), ("from", ("headers", "from"))):
    if kv.get(k) == "none":
        del rec[path[0]][path[1]]
dsn = {}
if "notify" in kv:
    dsn["notify"] = kv["notify"].split(",")
for k in ("ret", "envid", "orcpt"):
    if k in kv:
        dsn[k] = kv[k]
if dsn:
    rec["dsn"] = dsn
if "body" in kv:
    rec["return_body"] = kv["body"].replace("|", "\r\n")
if "skip" in kv:
    rec["plan"]["skip"] = kv["skip"]
print(json.dumps(rec))
