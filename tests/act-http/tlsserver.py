#!/usr/bin/env python3
"""tlsserver.py CERT KEY LOG — an HTTPS server on 127.0.0.1 (port printed on stdout).

GET answers 200 with Server: msys-http; POST logs "POST <path> <content-type> <body>" to
LOG and answers 200. Stops by itself after 60 seconds.
"""
import http.server
import ssl
import sys
import threading
import time

cert, key, log = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "msys-http"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def reply(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(log, "a") as f:
            f.write("POST %s %s %s\n" % (self.path, self.headers.get("Content-Type"), body))
        self.reply()

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("127.0.0.1:%d" % srv.server_address[1], flush=True)
threading.Thread(target=lambda: (time.sleep(60), srv.shutdown()), daemon=True).start()
srv.serve_forever()
