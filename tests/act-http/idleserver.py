#!/usr/bin/env python3
"""idleserver.py --dir D [--idle S] [--rst] — an HTTP/1.1 keep-alive server on 127.0.0.1
that closes a connection once it has been idle for S seconds (default 0.3): with a FIN,
or with --rst a reset (RST). Every request is answered 200 with a small body. Prints the
port on stdout; D/stats holds {"connections", "requests", "closed_idle"} after every
change. Stops by itself after 60 seconds.
"""
import argparse
import json
import os
import socket
import struct
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--idle", type=float, default=0.3)
ap.add_argument("--rst", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
stats = {"connections": 0, "requests": 0, "closed_idle": 0}


def count(key):
    with lock:
        stats[key] += 1
        tmp = os.path.join(args.dir, "stats.tmp")
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.rename(tmp, os.path.join(args.dir, "stats"))


def serve(c):
    buf = b""
    try:
        while True:
            c.settimeout(args.idle)
            try:
                data = c.recv(65536)
            except socket.timeout:
                count("closed_idle")
                if args.rst:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
                return
            if not data:
                c.close()
                return
            buf += data
            while b"\r\n\r\n" in buf:
                _, buf = buf.split(b"\r\n\r\n", 1)
                count("requests")
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                          b"Content-Length: 2\r\n\r\nok")
    except OSError:
        c.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print("127.0.0.1:%d" % srv.getsockname()[1], flush=True)
threading.Timer(60, lambda: os._exit(0)).start()
while True:
    conn, _ = srv.accept()
    count("connections")
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
