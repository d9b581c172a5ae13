#!/usr/bin/python3
"""A stand-in for a Debian mirror or a bundle host, on loopback.

Usage: archive_mirror.py PORT ROOT UPSTREAM [TAMPER_SUFFIX|- [HOLD_FILE]]. Prints "ready"
once it listens.
GET /<path>: the file ROOT/<path> when it exists; otherwise, when UPSTREAM (a URL such as
http://deb.debian.org) is not "-", the same path fetched from there. A body whose path
ends with TAMPER_SUFFIX (".deb", "InRelease", "Packages.xz") has one byte flipped in its
middle, as a mirror or a proxy that corrupts or alters what it serves would; "Packages.xz"
also covers an index fetched by hash (.../binary-amd64/by-hash/SHA256/<hash>). While
HOLD_FILE exists, a .deb's body stops after its first MiB (a download held mid-way).
"""
import http.server
import os
import socketserver
import sys
import time
import urllib.request

ROOT = sys.argv[2]
UPSTREAM = sys.argv[3]
TAMPER = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
HOLD = sys.argv[5] if len(sys.argv) > 5 else None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        local = os.path.normpath(os.path.join(ROOT, path.lstrip("/")))
        body = None
        if local.startswith(os.path.abspath(ROOT)) and os.path.isfile(local):
            with open(local, "rb") as f:
                body = f.read()
        elif UPSTREAM != "-":
            try:
                with urllib.request.urlopen(UPSTREAM + path, timeout=120) as answer:
                    body = answer.read()
            except urllib.error.HTTPError as error:
                self.send_error(error.code)
                return
        if body is None:
            self.send_error(404)
            return
        by_hash_index = "/binary-" in path and "/by-hash/" in path
        if TAMPER and (path.endswith(TAMPER) or (TAMPER == "Packages.xz" and by_hash_index)) and body:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0x20]) + body[middle + 1:]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if HOLD and path.endswith(".deb") and len(body) > (1 << 20):
            self.wfile.write(body[:1 << 20])
            self.wfile.flush()
            while os.path.exists(HOLD):
                time.sleep(0.05)
            body = body[1 << 20:]
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
