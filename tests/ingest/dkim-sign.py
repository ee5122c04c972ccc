#!/usr/bin/python3
"""dkim-sign.py KEY.pem HEADERS [l] < message > signed message

Signs a message with dkimpy (Debian's python3-dkim), an implementation independent of
the libopendkim that ingest verifies with: rsa-sha256, relaxed/relaxed, d=sender.test,
s=s1 (the key file gen-corpus writes for its key), h= the colon-separated HEADERS,
and with "l" an l= tag of the whole body. Prints the DKIM-Signature field and the
message, line ends as given."""
import sys

import dkim

key = open(sys.argv[1], "rb").read()
headers = [h.encode() for h in sys.argv[2].split(":")]
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, b"s1", b"sender.test", key, include_headers=headers,
                length=len(sys.argv) > 3 and sys.argv[3] == "l",
                canonicalize=(b"relaxed", b"relaxed"))
if b"\r\n" not in msg:  # dkimpy folds with CRLF: keep the message's own line ends
    sig = sig.replace(b"\r\n", b"\n")
sys.stdout.buffer.write(sig + msg)
