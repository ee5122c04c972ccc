#!/usr/bin/env python3
"""Checks an out-of-office auto-reply (RFC 3834) received by the test SMTP server,
field by field, with Python's email package.

  check-ooto.py MESSAGE.eml ENVELOPE.json RECORD.json SUBJECT MSGID REFERENCES

SUBJECT is the original subject (decoded), MSGID the original Message-ID, REFERENCES the
original References value ('' when none). Prints "PASS name" or "FAIL name: detail".
"""
import email
import email.header
import email.policy
import email.utils
import json
import re
import sys

eml, envp, recp, subject, msgid, refs = sys.argv[1:7]
raw = open(eml, "rb").read()
env = json.load(open(envp))
rec = json.load(open(recp))
rp = rec["envelope"]["mail_from"]
rcpt = rec["envelope"]["rcpt"]


def check(name, cond, detail=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, detail)))


msg = email.message_from_bytes(raw, policy=email.policy.default)
check("envelope MAIL FROM:<> (RFC 3834 section 3.3)", env["mail_from"] == "<>", env["mail_from"])
check("envelope RCPT TO the original envelope sender", env["rcpts"] == ["<%s>" % rp], env["rcpts"])
check("Auto-Submitted: auto-replied", str(msg["Auto-Submitted"]) == "auto-replied",
      msg["Auto-Submitted"])
check("In-Reply-To is the original Message-ID", str(msg["In-Reply-To"]) == msgid, msg["In-Reply-To"])
want_refs = (refs.split() if refs else []) + [msgid]
got_refs = str(msg["References"] or "").split()
check("References = original References + Message-ID", got_refs == want_refs, got_refs)
dec = str(msg["Subject"])
check("Subject is 'Out of Office: <original>'", dec == "Out of Office: " + subject, repr(dec))
subject_raw = re.search(rb"^Subject:(.*(?:\r\n[ \t].*)*)", raw, re.M | re.I)
if any(ord(c) > 127 for c in subject):
    check("non-ASCII Subject is RFC 2047 encoded", subject_raw and b"=?UTF-8?B?" in subject_raw.group(1)
          and all(b < 128 for b in subject_raw.group(1)), subject_raw and subject_raw.group(1))
check("From is the original recipient", email.utils.parseaddr(str(msg["From"]))[1] == rcpt, msg["From"])
check("To is the envelope sender", email.utils.parseaddr(str(msg["To"]))[1] == rp, msg["To"])
check("Date parses", msg["Date"] is not None and email.utils.parsedate_to_datetime(str(msg["Date"])) is not None)
check("Message-ID present", re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", str(msg["Message-ID"] or "")) is not None,
      msg["Message-ID"])
check("MIME-Version: 1.0", str(msg["MIME-Version"]) == "1.0")
check("text/plain body", msg.get_content_type() == "text/plain")
body = msg.get_content()
check("body says out of the office until a date",
      re.search(r"out of the office until \w+day, \d{1,2} \w+ \d{4}", body) is not None, body[:200])
check("CRLF line ends, lines <= 998 octets",
      b"\n" not in raw.replace(b"\r\n", b"") and all(len(l) <= 998 for l in raw.split(b"\r\n")))
check("no defects found by the parser", not msg.defects, msg.defects)
