#!/usr/bin/env python3
"""Checks a report received by the test SMTP server with Python's email package.

  check.py arf|dsn MESSAGE.eml RECORD.json [ENVELOPE.json]

Prints one line per check: "PASS name" or "FAIL name: detail". RECORD.json is the input
record (for the original header block and the expected addresses).
"""
import base64
import email
import email.policy
import email.utils
import json
import re
import sys

kind, eml_path, rec_path = sys.argv[1:4]
env_path = sys.argv[4] if len(sys.argv) > 4 else None
raw = open(eml_path, "rb").read()
rec = json.load(open(rec_path))
if "header_block" in rec:
    hb = rec["header_block"].encode("utf-8")
else:
    hb = base64.b64decode(rec["header_block_b64"])
hb_crlf = re.sub(rb"(?<!\r)\n", b"\r\n", hb)
if not hb_crlf.endswith(b"\r\n"):
    hb_crlf += b"\r\n"
rp = rec["envelope"]["mail_from"]
rcpt = rec["envelope"].get("rcpt") or rec["headers"]["to"]


def check(name, cond, detail=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, detail)))


msg = email.message_from_bytes(raw, policy=email.policy.compat32)
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", re.I)
ENH = re.compile(r"^5\.\d{1,3}\.\d{1,3}$")

# Generic message checks.
lines = raw.split(b"\r\n")
check("every line ends with CRLF (no bare LF or CR)", b"\n" not in raw.replace(b"\r\n", b"")
      and b"\r" not in raw.replace(b"\r\n", b""))
check("no line longer than 998 octets", max(len(l) for l in lines) <= 998,
      max(len(l) for l in lines))
for h in ("From", "To", "Date", "Message-ID", "Subject", "MIME-Version", "Auto-Submitted"):
    check("header %s present" % h, msg[h] is not None)
check("Date parses", msg["Date"] is not None and email.utils.parsedate_to_datetime(msg["Date"]) is not None)
check("Message-ID is <x@y>", re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", msg["Message-ID"] or "") is not None,
      msg["Message-ID"])
check("MIME-Version 1.0", (msg["MIME-Version"] or "").strip() == "1.0")
check("content type multipart/report", msg.get_content_type() == "multipart/report",
      msg.get_content_type())
parts = msg.get_payload() if msg.is_multipart() else []
check("three parts", len(parts) == 3, len(parts))
if len(parts) != 3:
    sys.exit(0)
check("part 1 text/plain", parts[0].get_content_type() == "text/plain", parts[0].get_content_type())
check("part 3 text/rfc822-headers", parts[2].get_content_type() == "text/rfc822-headers",
      parts[2].get_content_type())

# Part 3, byte for byte: the raw bytes between the part's header and the closing boundary.
boundary = msg.get_boundary().encode()
chunks = raw.split(b"\r\n--" + boundary)
third = chunks[3] if len(chunks) > 3 else b""
body3 = third.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in third else b""
# the CRLF before the closing delimiter belongs to the delimiter; we add one blank line
check("original headers byte-identical", body3 == hb_crlf,
      "got %r... expected %r..." % (body3[:120], hb_crlf[:120]))
check("X-MSFBL folding intact", b"X-MSFBL: KZA7nd53" in body3 and
      b"\r\n\tkIjoiMjYiLCJyIjoidGVzdCsz" in body3 and b"\r\n \t uY29tLmJv" in body3)
check("multipart closed", raw.rstrip(b"\r\n").endswith(b"--" + boundary + b"--"))

if kind == "arf":
    check("report-type=feedback-report", msg.get_param("report-type") == "feedback-report",
          msg.get_param("report-type"))
    check("Auto-Submitted: auto-generated", (msg["Auto-Submitted"] or "").strip() == "auto-generated")
    check("part 2 message/feedback-report", parts[1].get_content_type() == "message/feedback-report",
          parts[1].get_content_type())
    fr = parts[1].get_payload()
    fr = fr[0] if isinstance(fr, list) else email.message_from_string(fr)
    check("Feedback-Type: abuse", fr["Feedback-Type"] == "abuse", fr["Feedback-Type"])
    check("User-Agent Bouncy-Sink/<version>", re.match(r"^Bouncy-Sink/\d", fr["User-Agent"] or "") is not None,
          fr["User-Agent"])
    check("Version: 1", fr["Version"] == "1", fr["Version"])
    check("Original-Mail-From is the envelope sender",
          (fr["Original-Mail-From"] or "").strip("<>") == rp, fr["Original-Mail-From"])
    check("Original-Rcpt-To is the recipient", (fr["Original-Rcpt-To"] or "").strip("<>") == rcpt,
          fr["Original-Rcpt-To"])
    check("Arrival-Date is the message's arrival",
          fr["Arrival-Date"] is not None and
          email.utils.parsedate_to_datetime(fr["Arrival-Date"]).isoformat() == "2026-11-24T20:05:10+00:00",
          fr["Arrival-Date"])
    check("Source-IP", fr["Source-IP"] == rec["envelope"]["client_ip"], fr["Source-IP"])
    rd = fr["Reported-Domain"] or ""
    check("Reported-Domain is a domain", DOMAIN.match(rd) is not None and "@" not in rd, rd)
    check("Reported-Domain is the From domain", rd == "sender.test", rd)
    if env_path:
        env = json.load(open(env_path))
        check("envelope sender is the report's From", env["mail_from"] == "<%s>" %
              email.utils.parseaddr(msg["From"])[1], env["mail_from"])
        check("envelope recipient is the report's To", env["rcpts"] == ["<%s>" % msg["To"].strip()],
              env["rcpts"])
else:
    check("report-type=delivery-status", msg.get_param("report-type") == "delivery-status",
          msg.get_param("report-type"))
    check("Auto-Submitted: auto-replied", (msg["Auto-Submitted"] or "").strip() == "auto-replied")
    check("To: is the envelope sender", (msg["To"] or "").strip() == rp, msg["To"])
    check("From: MAILER-DAEMON", "MAILER-DAEMON@" in (msg["From"] or ""), msg["From"])
    check("part 2 message/delivery-status", parts[1].get_content_type() == "message/delivery-status",
          parts[1].get_content_type())
    blocks = parts[1].get_payload()
    check("delivery-status has per-message and per-recipient blocks", len(blocks) == 2, len(blocks))
    if len(blocks) == 2:
        pm, pr = blocks
        check("Reporting-MTA: dns; host", re.match(r"^dns; ?\S+$", pm["Reporting-MTA"] or "") is not None,
              pm["Reporting-MTA"])
        check("Arrival-Date", pm["Arrival-Date"] is not None and
              email.utils.parsedate_to_datetime(pm["Arrival-Date"]).isoformat() == "2026-11-24T20:05:10+00:00",
              pm["Arrival-Date"])
        check("Final-Recipient: rfc822; rcpt", re.sub(r"\s", "", pr["Final-Recipient"] or "") == "rfc822;" + rcpt,
              pr["Final-Recipient"])
        check("Action: failed", pr["Action"] == "failed", pr["Action"])
        st = pr["Status"] or ""
        check("Status is 5.x.x", ENH.match(st) is not None, st)
        dc = pr["Diagnostic-Code"] or ""
        m = re.match(r"^smtp; ?(5\d\d) (5\.\d{1,3}\.\d{1,3}) +\S", dc)
        check("Diagnostic-Code: smtp; 5xx 5.x.x text", m is not None, dc)
        check("Status agrees with Diagnostic-Code", m is not None and m.group(2) == st and
              m.group(1)[0] == st[0], "%s vs %s" % (st, dc))
        check("no placeholder left in Diagnostic-Code", re.search(r"<[A-Z_]{4,}>", dc) is None, dc)
        check("Remote-MTA: dns; host", re.match(r"^dns; ?\S+$", pr["Remote-MTA"] or "") is not None,
              pr["Remote-MTA"])
    if env_path:
        env = json.load(open(env_path))
        check("envelope sender is <>", env["mail_from"] == "<>", env["mail_from"])
        check("envelope recipient is the Return-Path", env["rcpts"] == ["<%s>" % rp], env["rcpts"])
