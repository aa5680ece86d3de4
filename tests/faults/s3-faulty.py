#!/usr/bin/env python3
"""A fake S3 endpoint that fails on purpose, for the S3 client's retry tests.

    s3-faulty.py MODE [N]

MODE:
  500-then-ok N        the first N requests get 500 InternalError, then it
                       works (PUT stores bodies in memory, GET/HEAD serve them)
  slowdown-then-ok N   the same with 503 SlowDown
  always-500           every request gets 500 InternalError
  drop                 reads the headers and part of the body, then closes
                       the connection without an answer

It does not check signatures; a PUT's Content-MD5 is checked (400 BadDigest).
The first line on stdout is the port it listens on (127.0.0.1).  Requests
are counted and served one at a time.
"""
import base64
import hashlib
import http.server
import socketserver
import sys
import threading

MODE = sys.argv[1] if len(sys.argv) > 1 else "500-then-ok"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2
LOCK = threading.Lock()
STATE = {"requests": 0}
OBJECTS = {}


def error_xml(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
            "<Message>%s</Message></Error>" % (code, message)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests read stdout
        pass

    def answer(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def failing(self):
        """Answer the planned failure, if this request gets one."""
        with LOCK:
            STATE["requests"] += 1
            count = STATE["requests"]
        if MODE == "drop":
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(min(n, 1000))
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if MODE == "always-500" or (MODE == "500-then-ok" and count <= N):
            self.body()
            self.answer(500, error_xml("InternalError", "planned failure"),
                        {"Content-Type": "application/xml"},
                        head=self.command == "HEAD")
            return True
        if MODE == "slowdown-then-ok" and count <= N:
            self.body()
            self.answer(503, error_xml("SlowDown", "Please reduce your "
                                       "request rate."),
                        {"Content-Type": "application/xml"},
                        head=self.command == "HEAD")
            return True
        return False

    def do_PUT(self):
        if self.failing():
            return
        data = self.body()
        md5 = self.headers.get("Content-MD5")
        if md5 is not None and \
                base64.b64decode(md5) != hashlib.md5(data).digest():
            self.answer(400, error_xml("BadDigest", "Content-MD5 differs"))
            return
        OBJECTS[self.path.split("?")[0]] = data
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        self.answer(200, headers={"ETag": etag})

    def get_or_head(self, head):
        if self.failing():
            return
        data = OBJECTS.get(self.path.split("?")[0])
        if data is None:
            self.answer(404, error_xml("NoSuchKey", "no such key"),
                        head=head)
            return
        self.answer(200, data, {"ETag": '"%s"' % hashlib.md5(data)
                                .hexdigest()}, head=head)

    def do_GET(self):
        self.get_or_head(False)

    def do_HEAD(self):
        self.get_or_head(True)

    def do_DELETE(self):
        if self.failing():
            return
        OBJECTS.pop(self.path.split("?")[0], None)
        self.answer(204)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
