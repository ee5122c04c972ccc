#!/usr/bin/env python3
"""oddserver.py MODE — a misbehaving HTTP server on 127.0.0.1 (port printed on stdout).

MODE: silent  accept, read the request, never answer
      reset   read the request, then reset the connection (RST)
      garbage answer bytes that are not HTTP
Stops by itself after 60 seconds.
"""
import socket
import struct
import sys
import threading
import time

mode = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print("127.0.0.1:%d" % srv.getsockname()[1], flush=True)
held = []


def serve(c):
    try:
        c.settimeout(30)
        c.recv(65536)
        if mode == "silent":
            held.append(c)
            return
        if mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return
        c.sendall(b"\x00\x01\x02 this is not HTTP\r\n\r\n")
        c.close()
    except OSError:
        pass


def stop():
    time.sleep(60)
    sys.exit(0)


threading.Thread(target=stop, daemon=True).start()
srv.settimeout(1)
deadline = time.time() + 60
while time.time() < deadline:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
