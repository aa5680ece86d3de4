#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a real S3 endpoint, for tests.

    s3-proxy.py UPSTREAM MODE [N]

Requests are passed to UPSTREAM (http://host:port) unchanged, the Host
header too, so SigV4 signatures still hold.  Writes (PUT, POST, DELETE) are
counted; from write number N on (1-based):
    pass            nothing goes wrong
    fail500 N       every write is answered 500 InternalError (no upstream)
    drop N          every write has its connection closed after part of the
                    body was read (no answer)
    once500 N       only write N is answered 500; later ones pass (retried)
The first line on stdout is the port it listens on (127.0.0.1).
"""
import http.client
import http.server
import socketserver
import sys
import threading
import urllib.parse

upstream = urllib.parse.urlsplit(sys.argv[1])
mode = sys.argv[2]
nth = int(sys.argv[3]) if len(sys.argv) > 3 else 1
lock = threading.Lock()
writes = 0

ERROR = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError'
         b'</Code><Message>injected by s3-proxy</Message></Error>')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def fault(self):
        global writes
        if self.command not in ("PUT", "POST", "DELETE"):
            return None
        with lock:
            writes += 1
            n = writes
        if mode == "fail500" and n >= nth:
            return "500"
        if mode == "once500" and n == nth:
            return "500"
        if mode == "drop" and n >= nth:
            return "drop"
        return None

    def body(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        f = self.fault()
        if f == "drop":
            length = int(self.headers.get("Content-Length", "0") or 0)
            self.rfile.read(min(length, 100))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        data = self.body()
        if f == "500":
            self.send_response(500)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(ERROR)))
            self.end_headers()
            self.wfile.write(ERROR)
            return
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=data if data or self.command in
                     ("PUT", "POST") else None, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() in ("transfer-encoding", "connection"):
                continue
            if k.lower() == "content-length" and self.command != "HEAD":
                continue    # a HEAD keeps the object's length; no body
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
