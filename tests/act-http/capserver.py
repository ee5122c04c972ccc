#!/usr/bin/env python3
"""capserver.py --port P --out FILE: a keep-alive HTTP/1.1 endpoint for tests that writes
every request as it came (request line, headers in order, body), then a line "----".
Answers 200 with "Server: msys-http" and a 2-byte body. Writes FILE.ready when listening."""
import argparse
import socket
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()
lock = threading.Lock()
out = open(a.out, "ab")


def serve(c):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(buf) < n:
            buf += c.recv(65536)
        body, buf = buf[:n], buf[n:]
        with lock:
            out.write(head.replace(b"\r\n", b"\n") + b"\n" + body + b"\n----\n")
            out.flush()
        c.sendall(b"HTTP/1.1 200 OK\r\nServer: msys-http\r\nContent-Length: 2\r\n\r\nok")


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", a.port))
s.listen(16)
open(a.out + ".ready", "w").close()
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
