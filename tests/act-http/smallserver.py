#!/usr/bin/env python3
"""A small threaded HTTP endpoint, like a tracking server sized for a few clients.

  smallserver.py --port P --dir D [--workers N] [--backlog B] [--delay S]

Connections are accepted at once (so every connection the client opens is counted) and
each is served by one of N worker threads, for as long as it stays open (HTTP/1.1
keep-alive, like a thread-per-connection server with a fixed pool): a connection that
finds no free worker waits without being answered. Every request is answered 200 after
--delay seconds. D/stats holds {"open", "peak", "connections", "requests"} after every
change (peak: the most connections open at once); D/ready appears once it listens.
"""
import argparse
import json
import os
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--workers", type=int, default=2)
ap.add_argument("--backlog", type=int, default=4)
ap.add_argument("--delay", type=float, default=0.0)
args = ap.parse_args()

lock = threading.Lock()
stats = {"open": 0, "peak": 0, "connections": 0, "requests": 0}
workers = threading.Semaphore(args.workers)


def save():
    tmp = os.path.join(args.dir, "stats.tmp")
    with open(tmp, "w") as f:
        json.dump(stats, f)
    os.replace(tmp, os.path.join(args.dir, "stats"))


def serve(conn):
    try:
        with workers:
            conn.settimeout(5)
            f = conn.makefile("rb")
            while True:
                line = f.readline(65536)
                if not line:
                    break
                while True:  # headers; the requests have no body
                    h = f.readline(65536)
                    if not h or h in (b"\r\n", b"\n"):
                        break
                time.sleep(args.delay)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                             b"Content-Length: 2\r\n\r\nok")
                with lock:
                    stats["requests"] += 1
                    save()
    except OSError:
        pass
    finally:
        conn.close()
        with lock:
            stats["open"] -= 1
            save()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", args.port))
srv.listen(args.backlog)
with lock:
    save()
open(os.path.join(args.dir, "ready"), "w").close()
while True:
    c, _ = srv.accept()
    with lock:
        stats["open"] += 1
        stats["connections"] += 1
        stats["peak"] = max(stats["peak"], stats["open"])
        save()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
