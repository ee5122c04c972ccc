#!/usr/bin/env python3
"""smtp-send.py — send message files to an SMTP server with Python's smtplib.

    smtp-send.py [-s HOST:PORT] [-c CONNECTIONS] [-n PER_CONNECTION] [--rate N] [--json]
                 [--log FILE] PATH...

PATH: message files or directories of them (*.eml, *.msg, or every file). The envelope
sender is the message's Return-Path (else its From), the recipient its To (first address).
Trace fields (Return-Path, Received) at the top of a spool-format file are stripped before
sending. Messages are spread over CONNECTIONS parallel sessions, each sending up to
PER_CONNECTION messages before reconnecting. Prints one line per outcome class and, with
--json, a JSON summary {"sent": N, "accepted": N, "tempfail": N, "permfail": N,
"errors": N, "replies": {"250": N, ...}, "accepted_files": [...]} on stdout. --log FILE
writes one line per message: the epoch time of the reply (6 decimals), its code (0 for a
connection error) and the recipient, tab-separated (for latency measurements).
Used by `make demo`, the end-to-end tests and the end-to-end benchmark.
"""
import argparse
import email.utils
import json
import os
import smtplib
import sys
import threading
import time
from email.parser import BytesHeaderParser


def load(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if os.path.isfile(full) and not name.startswith("."):
                    files.append(full)
        else:
            files.append(p)
    return files


def envelope(raw):
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    msg = BytesHeaderParser().parsebytes(head + b"\n\n")
    rp = msg.get("Return-Path") or msg.get("From") or ""
    sender = email.utils.parseaddr(str(rp))[1]
    rcpt = email.utils.parseaddr(str(msg.get("To") or ""))[1]
    return sender, rcpt


def strip_trace(raw):
    """Drop leading Return-Path/Received fields (with continuations) a spool file has."""
    lines = raw.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        low = lines[i].lower()
        if low.startswith(b"return-path:") or low.startswith(b"received:") or low.startswith(b"authentication-results:"):
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                i += 1
            continue
        break
    return b"".join(lines[i:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-s", "--server", default="127.0.0.1:2525")
    ap.add_argument("-c", "--connections", type=int, default=4)
    ap.add_argument("-n", "--per-connection", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0, help="messages per second in total (0: as fast as possible)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--log", help="one line per message: reply time, code, recipient")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    files = load(a.paths)
    lock = threading.Lock()
    stats = {"sent": 0, "accepted": 0, "tempfail": 0, "permfail": 0, "errors": 0, "replies": {}, "accepted_files": []}
    queue = list(reversed(files))
    log = open(a.log, "w") if a.log else None
    start = time.time()

    def take():
        with lock:
            if not queue:
                return None
            if a.rate > 0:
                due = start + stats["sent"] / a.rate
                stats["sent"] += 1
            else:
                due = 0
                stats["sent"] += 1
            return queue.pop(), due

    def note(code, path, rcpt=""):
        with lock:
            if log:
                log.write(f"{time.time():.6f}\t{code}\t{rcpt}\n")
            key = str(code)
            stats["replies"][key] = stats["replies"].get(key, 0) + 1
            if 200 <= code < 300:
                stats["accepted"] += 1
                stats["accepted_files"].append(path)
            elif 400 <= code < 500:
                stats["tempfail"] += 1
            elif code >= 500:
                stats["permfail"] += 1
            else:
                stats["errors"] += 1

    def worker():
        conn, count = None, 0
        while True:
            item = take()
            if item is None:
                break
            path, due = item
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            with open(path, "rb") as f:
                raw = strip_trace(f.read())
            sender, rcpt = envelope(raw)
            try:
                if conn is None or count >= a.per_connection:
                    if conn is not None:
                        conn.quit()
                    conn = smtplib.SMTP(host, int(port), timeout=60)
                    conn.ehlo("sender.test")
                    count = 0
                count += 1
                conn.sendmail(sender, [rcpt], raw)
                note(250, path, rcpt)
            except smtplib.SMTPRecipientsRefused as e:
                code = list(e.recipients.values())[0][0]
                note(code, path, rcpt)
                try:
                    conn.rset()
                except (OSError, smtplib.SMTPException):
                    conn = None  # a 421 closes the connection (RFC 5321)
            except smtplib.SMTPResponseException as e:
                note(e.smtp_code, path, rcpt)
                try:
                    conn.rset()
                except (OSError, smtplib.SMTPException):
                    conn = None
            except (OSError, smtplib.SMTPException):
                note(0, path, rcpt)
                conn = None
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                pass

    threads = [threading.Thread(target=worker) for _ in range(max(1, a.connections))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    if log:
        log.close()
    print(f"smtp-send: {stats['sent']} sent in {elapsed:.1f}s ({stats['sent'] / max(elapsed, 1e-9):.0f}/s): "
          f"{stats['accepted']} accepted, {stats['tempfail']} 4xx, {stats['permfail']} 5xx, {stats['errors']} errors",
          file=sys.stderr)
    if a.json:
        json.dump(stats, sys.stdout)
        print()
    return 0 if stats["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
