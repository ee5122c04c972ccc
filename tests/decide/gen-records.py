#!/usr/bin/env python3
"""gen-records.py — write N message records (NDJSON) as ingest would, for decide's tests
and bench.

  gen-records.py COUNT RCPT_TEMPLATE [--id-prefix P] [--pad BYTES] [--unsub] [--dkim R]
                 [--spf R] [--to-only]

RCPT_TEMPLATE may hold {i} (the record number from 0), e.g. test+u{i}@bouncy-sink.test.
--pad adds a header_block of about BYTES bytes so records look like real ones.
"""
import argparse
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("count", type=int)
ap.add_argument("rcpt")
ap.add_argument("--id-prefix", default="m")
ap.add_argument("--pad", type=int, default=0)
ap.add_argument("--unsub", action="store_true")
ap.add_argument("--dkim", default="pass")
ap.add_argument("--spf", default="pass")
ap.add_argument("--to-only", action="store_true")
a = ap.parse_args()

block = ""
if a.pad:
    line = "X-Filler: " + "abcdefghijklmnopqrstuvwxyz0123456789" * 2 + "\r\n"
    block = "Return-Path: <bounces@sender.test>\r\nReceived: from mta1.sender.test (192.0.2.10)\r\n"
    while len(block) < a.pad:
        block += line

out = sys.stdout
for i in range(a.count):
    rcpt = a.rcpt.replace("{i}", str(i))
    rec = {"v": 1, "kind": "message", "id": "%s%08d" % (a.id_prefix, i),
           "ts": "2026-11-24T20:05:10.387Z",
           "source": {"type": "file", "name": "corpus/%d.msg" % i}, "size": 5120}
    if not a.to_only:
        rec["envelope"] = {"mail_from": "bounces@sender.test", "rcpt": rcpt,
                           "client_ip": "192.0.2.10", "helo": "mta1.sender.test",
                           "received": "2026-11-24T20:05:10Z"}
    headers = {"to": rcpt, "from": "news@sender.test", "subject": "Newsletter %d" % i,
               "message_id": "<%d@sender.test>" % i, "x_msfbl": "KZA7bWVzc2FnZQ=="}
    if a.unsub:
        headers["list_unsubscribe"] = "<https://track.sender.test/u/%d>" % i
        headers["list_unsubscribe_post"] = "List-Unsubscribe=One-Click"
    rec["headers"] = headers
    if block:
        rec["header_block"] = block
    rec["urls"] = {"open": ["http://track.sender.test/q/%d" % i],
                   "click": ["http://track.sender.test/f/a/%d" % i]}
    rec["html"] = True
    rec["dkim"] = {"result": a.dkim, "domain": "sender.test", "selector": "s1",
                   "reason": "" if a.dkim == "pass" else "signature did not verify",
                   "signatures": [{"result": a.dkim, "domain": "sender.test",
                                   "selector": "s1", "reason": ""}]}
    rec["spf"] = {"result": a.spf, "domain": "sender.test", "reason": ""}
    out.write(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n")
