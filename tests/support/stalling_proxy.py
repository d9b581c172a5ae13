#!/usr/bin/python3
"""A reverse proxy in front of a test registry that holds blob downloads mid-way.

Usage: stalling_proxy.py PORT UPSTREAM_HOST:PORT HOLD_FILE. Prints "ready" once it listens.
Every request is passed to the upstream registry. A blob body larger than 1 MiB is sent
up to its first MiB; then, while HOLD_FILE exists, nothing more: a pull is stuck in its
download stage for as long as the test wants (to cancel it, kill the service, or kill
this proxy, which is then the registry going away mid-download).
"""
import http.client
import http.server
import os
import socketserver
import sys
import time

HOLD_AFTER = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.forward()

    def do_HEAD(self):
        self.forward()

    def forward(self):
        upstream = http.client.HTTPConnection(sys.argv[2], timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        upstream.request(self.command, self.path, headers=headers)
        answer = upstream.getresponse()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("connection", "transfer-encoding"):
                self.send_header(key, value)
        body = answer.read() if self.command != "HEAD" else b""
        if "Content-Length" not in answer.headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if "/blobs/" in self.path and len(body) > HOLD_AFTER:
            self.wfile.write(body[:HOLD_AFTER])
            self.wfile.flush()
            while os.path.exists(sys.argv[3]):
                time.sleep(0.05)
            body = body[HOLD_AFTER:]
        self.wfile.write(body)
        upstream.close()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
