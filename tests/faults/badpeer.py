#!/usr/bin/env python3
"""badpeer.py MODE DIR — a misbehaving server on 127.0.0.1 for the fault tests. Prints its
port on stdout, writes DIR/sent (bytes sent so far) and DIR/log, stops after 120 s.

MODE: http-huge    answers 200 with Content-Length 10 GB and streams zeros until the
                   client goes away (DIR/sent: how much went out)
      http-endless answers 200 chunked and streams chunks for ever
      smtp-stall   an SMTP server that takes MAIL/RCPT/DATA, reads some of the message and
                   then says nothing more (never answers the end of DATA)
      smtp-421     greets with 220, then answers the first command 421 and closes
"""
import os
import socket
import sys
import threading
import time

mode, d = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(srv.getsockname()[1], flush=True)
held = []
sent = [0]
lock = threading.Lock()


def log(s):
    with lock:
        with open(os.path.join(d, "log"), "a") as f:
            f.write(s + "\n")


def count(n):
    with lock:
        sent[0] += n
        with open(os.path.join(d, "sent.tmp"), "w") as f:
            f.write(str(sent[0]))
        os.replace(os.path.join(d, "sent.tmp"), os.path.join(d, "sent"))


def http(c):
    c.recv(65536)
    log("request")
    zeros = b"\0" * 65536
    if mode == "http-huge":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Length: 10737418240\r\n\r\n")
        chunk = zeros
    else:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + zeros + b"\r\n"
    left = 10 * 1024 ** 3
    while left > 0:
        c.sendall(chunk)
        count(len(chunk))
        left -= len(chunk)


def smtp(c):
    f = c.makefile("rb")
    c.sendall(b"220 badpeer ESMTP\r\n")
    if mode == "smtp-421":
        f.readline()
        log("command")
        c.sendall(b"421 4.3.2 badpeer: service shutting down\r\n")
        c.close()
        log("closed")
        return
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line[:4].upper()
        log("cmd " + cmd.decode("latin-1"))
        if cmd == b"DATA":
            c.sendall(b"354 go ahead\r\n")
            f.readline()
            log("stalled in DATA")
            held.append((c, f))
            return
        if cmd in (b"EHLO", b"HELO"):
            c.sendall(b"250 badpeer\r\n")
        elif cmd == b"QUIT":
            c.sendall(b"221 bye\r\n")
            return
        else:
            c.sendall(b"250 ok\r\n")


def serve(c):
    try:
        c.settimeout(60)
        (http if mode.startswith("http") else smtp)(c)
    except OSError as e:
        log("peer gone: %s" % e)


def main():
    threading.Thread(target=lambda: (time.sleep(120), os._exit(0)), daemon=True).start()
    while True:
        c, _ = srv.accept()
        log("connection")
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
