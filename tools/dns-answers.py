#!/usr/bin/env python3
"""dns-answers.py NAME [TIMEOUT]: exit 0 when the DNS server on 127.0.0.1:53 answers an
A query for NAME with NOERROR and at least one answer, 1 otherwise (no answer within
TIMEOUT seconds, default 0.5, an error code or an empty answer). Used by the tests and
benches that start dnsmasq in a private network namespace to wait until it serves."""
import socket
import struct
import sys

if len(sys.argv) not in (2, 3):
    sys.exit("usage: dns-answers.py NAME [TIMEOUT]")
name = sys.argv[1]
query = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
query += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[2]) if len(sys.argv) == 3 else 0.5)
try:
    s.sendto(query, ("127.0.0.1", 53))
    reply = s.recv(512)
except OSError:
    sys.exit(1)
ok = len(reply) >= 12 and reply[3] & 15 == 0 and struct.unpack(">H", reply[6:8])[0] > 0
sys.exit(0 if ok else 1)
