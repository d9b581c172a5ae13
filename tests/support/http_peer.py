#!/usr/bin/python3
"""A local HTTP/1.1 server for the HTTP client's tests, on TCP or on a Unix socket.

Usage: http_peer.py tcp PORT | unix PATH. Prints "ready" once it listens.
Paths: /hello, /echo (method, X-Test header, body), /big?n=BYTES (streamed in chunks),
/stall (headers, one byte, then silence), /redirect?to=URL, /status/CODE.
"""
import http.server
import socketserver
import sys
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "peer"

    def send_body(self, code, body, content_type="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        if url.path == "/hello":
            self.send_body(200, b"hello")
        elif url.path == "/echo":
            text = "%s %s %s" % (self.command, self.headers.get("X-Test", "-"), body.decode())
            self.send_body(200, text.encode())
        elif url.path == "/big":
            n = int(query["n"][0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0:
                self.wfile.write(chunk[: min(n, len(chunk))])
                n -= min(n, len(chunk))
        elif url.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(30)
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path.startswith("/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self.send_body(code, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', "application/json")
        else:
            self.send_body(404, b"no such path")

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class TcpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if __name__ == "__main__":
    if sys.argv[1] == "tcp":
        server = TcpServer(("127.0.0.1", int(sys.argv[2])), Handler)
    else:
        server = UnixServer(sys.argv[2], Handler)
    print("ready", flush=True)
    server.serve_forever()
