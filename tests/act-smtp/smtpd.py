#!/usr/bin/env python3
"""A scripted SMTP server for the act-smtp tests (loopback only).

  smtpd.py --port P --dir D [--rcpt R1,R2,...] [--data-reply R] [--silent]

Every accepted message is written to D/msg-N.eml exactly as received (dot-unstuffed,
CRLF kept), with D/msg-N.json holding {"mail_from", "rcpts", "helo"}; every connection
appends a line to D/connections; D/ready appears once it listens. --rcpt gives replies to RCPT commands: items
"REPLY" or "MATCH=REPLY" (for an RCPT containing MATCH), each used once, in order, across
connections; otherwise 250; --data-reply answers the end of DATA;
--silent accepts connections and never says anything; --starttls CERT,KEY offers
STARTTLS (msg-N.json then says whether the message came over TLS).
"""
import argparse
import json
import os
import socket
import ssl
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--rcpt", default="")
ap.add_argument("--data-reply", default="250 2.0.0 Ok: queued as TEST")
ap.add_argument("--silent", action="store_true")
ap.add_argument("--starttls", default="", help="CERT,KEY: offer STARTTLS")
args = ap.parse_args()

lock = threading.Lock()
rcpt_script = [r for r in args.rcpt.split(",") if r]
counter = [0]


def next_rcpt_reply(arg):
    """The first unused script item that applies: "REPLY" or "MATCH=REPLY" (MATCH a
    substring of the RCPT argument); each item is used once."""
    with lock:
        for i, item in enumerate(rcpt_script):
            match, _, reply = item.rpartition("=")
            if match in arg:
                del rcpt_script[i]
                return reply
        return "250 2.1.5 Ok"


def save(mail_from, rcpts, helo, data, tls):
    with lock:
        counter[0] += 1
        n = counter[0]
    base = os.path.join(args.dir, "msg-%d" % n)
    with open(base + ".eml.tmp", "wb") as f:
        f.write(data)
    with open(base + ".json", "w") as f:
        json.dump({"mail_from": mail_from, "rcpts": rcpts, "helo": helo, "tls": tls}, f)
    os.rename(base + ".eml.tmp", base + ".eml")


def session(conn):
    with lock:
        with open(os.path.join(args.dir, "connections"), "a") as f:
            f.write("connect\n")
    if args.silent:
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        return
    f = conn.makefile("rb")
    out = conn.makefile("wb")

    def say(line):
        out.write(line.encode() + b"\r\n")
        out.flush()

    say("220 test.invalid ESMTP scripted")
    mail_from, rcpts, helo, tls = None, [], "", False
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.rstrip(b"\r\n").decode("latin-1")
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            helo = cmd[5:]
            out.write(b"250-test.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n")
            if args.starttls and not tls:
                out.write(b"250-STARTTLS\r\n")
            out.write(b"250 SIZE 10240000\r\n")
            out.flush()
        elif verb == "STARTTLS" and args.starttls and not tls:
            say("220 2.0.0 Ready to start TLS")
            cert, key = args.starttls.split(",")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return
            f = conn.makefile("rb")
            out = conn.makefile("wb")
            tls, helo = True, ""
        elif verb == "MAIL":
            arg = cmd[5:].strip()
            if arg.upper().startswith("FROM:"):
                arg = arg[5:].strip()
            mail_from = arg.split(" ")[0]
            rcpts = []
            say("250 2.1.0 Ok")
        elif verb == "RCPT":
            r = next_rcpt_reply(cmd)
            if r.startswith("2"):
                rcpts.append(cmd[8:].strip())
            say(r)
        elif verb == "DATA":
            if not rcpts:
                say("503 5.5.1 Error: need RCPT command")
                continue
            say("354 End data with <CR><LF>.<CR><LF>")
            data = b""
            while True:
                l = f.readline()
                if not l:
                    return
                if l == b".\r\n":
                    break
                if l.startswith(b"."):
                    l = l[1:]
                data += l
            if args.data_reply.startswith("2"):
                save(mail_from, rcpts, helo, data, tls)
            say(args.data_reply)
            mail_from, rcpts = None, []
        elif verb == "RSET":
            mail_from, rcpts = None, []
            say("250 2.0.0 Ok")
        elif verb == "NOOP":
            say("250 2.0.0 Ok")
        elif verb == "QUIT":
            say("221 2.0.0 Bye")
            return
        else:
            say("502 5.5.2 Error: command not recognized")


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", args.port))
srv.listen(64)
open(os.path.join(args.dir, "ready"), "w").close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=session, args=(c,), daemon=True).start()
