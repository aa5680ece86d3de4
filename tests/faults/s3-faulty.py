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
  part-fails           works, but the upload of a multipart part 2 gets
                       403 AccessDenied
  complete-error       works, but completing a multipart upload gets a 200
                       whose body is an <Error> (as S3 may answer)
  ok                   (or any other word) never fails on purpose

Multipart uploads work (initiate, parts, complete, abort), and so does
ListObjectsV2 (prefix, delimiter, max-keys, continuation-token).  GET /__stats
(any bucket) answers "requests=N aborts=N" (not counted as a request).
GET honours "Range: bytes=A-B".
It does not check signatures; a PUT's Content-MD5 is checked (400 BadDigest).
The first line on stdout is the port it listens on (127.0.0.1).
"""
import base64
import hashlib
import http.server
import socketserver
import sys
import threading
import urllib.parse
from xml.sax.saxutils import escape

MODE = sys.argv[1] if len(sys.argv) > 1 else "500-then-ok"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2
LOCK = threading.Lock()
STATE = {"requests": 0, "aborts": 0}
OBJECTS = {}
PARTS = {}  # (path, upload id) -> {part number: bytes}


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

    def split(self):
        path, _, query = self.path.partition("?")
        return path, urllib.parse.parse_qs(query, keep_blank_values=True)

    def do_PUT(self):
        if self.failing():
            return
        data = self.body()
        md5 = self.headers.get("Content-MD5")
        if md5 is not None and \
                base64.b64decode(md5) != hashlib.md5(data).digest():
            self.answer(400, error_xml("BadDigest", "Content-MD5 differs"))
            return
        path, q = self.split()
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        if "partNumber" in q:
            n = int(q["partNumber"][0])
            if MODE == "part-fails" and n == 2:
                self.answer(403, error_xml("AccessDenied", "no part 2"))
                return
            key = (path, q["uploadId"][0])
            if key not in PARTS:
                self.answer(404, error_xml("NoSuchUpload", "no upload"))
                return
            PARTS[key][n] = data
        else:
            OBJECTS[path] = data
        self.answer(200, headers={"ETag": etag})

    def do_POST(self):
        if self.failing():
            return
        body = self.body()
        path, q = self.split()
        if "uploads" in q:
            with LOCK:
                upload = "up-%d" % (len(PARTS) + 1)
                PARTS[(path, upload)] = {}
            self.answer(200, ("<InitiateMultipartUploadResult><Bucket>b"
                              "</Bucket><Key>k</Key><UploadId>%s</UploadId>"
                              "</InitiateMultipartUploadResult>" % upload)
                        .encode())
            return
        key = (path, q.get("uploadId", [""])[0])
        if key not in PARTS:
            self.answer(404, error_xml("NoSuchUpload", "no upload"))
            return
        if MODE == "complete-error":
            self.answer(200, error_xml("InternalError", "complete failed "
                                       "after the 200"))
            return
        parts = PARTS.pop(key)
        if b"<PartNumber>%d</PartNumber>" % len(parts) not in body:
            self.answer(400, error_xml("InvalidPart", "parts differ"))
            return
        OBJECTS[path] = b"".join(parts[i] for i in sorted(parts))
        self.answer(200, b"<CompleteMultipartUploadResult><ETag>\"x-2\""
                    b"</ETag></CompleteMultipartUploadResult>")

    def get_or_head(self, head):
        if self.failing():
            return
        data = OBJECTS.get(self.path.split("?")[0])
        if data is None:
            self.answer(404, error_xml("NoSuchKey", "no such key"),
                        head=head)
            return
        headers = {"ETag": '"%s"' % hashlib.md5(data).hexdigest()}
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and not head:
            a, _, b = rng[6:].partition("-")
            a = int(a)
            b = min(int(b) if b else len(data) - 1, len(data) - 1)
            if a >= len(data):
                headers["Content-Range"] = "bytes */%d" % len(data)
                self.answer(416, error_xml("InvalidRange", "range"),
                            headers)
                return
            headers["Content-Range"] = "bytes %d-%d/%d" % (a, b, len(data))
            self.answer(206, data[a:b + 1], headers)
            return
        self.answer(200, data, headers, head=head)

    def do_GET(self):
        if self.path.endswith("/__stats"):
            self.answer(200, ("requests=%d aborts=%d" % (
                STATE["requests"], STATE["aborts"])).encode())
            return
        path, q = self.split()
        if "list-type" in q:
            self.list_objects(path, q)
            return
        self.get_or_head(False)

    def list_objects(self, path, q):
        """ListObjectsV2 of one page (max-keys honoured, the continuation
        token is the last name of the page before)."""
        if self.failing():
            return
        bucket = path.strip("/") + "/"
        prefix = q.get("prefix", [""])[0]
        delim = q.get("delimiter", [""])[0]
        start = q.get("continuation-token", [""])[0]
        limit = int(q.get("max-keys", ["1000"])[0])
        names = {}
        for k, v in OBJECTS.items():
            k = k.lstrip("/")
            if not k.startswith(bucket):
                continue
            k = urllib.parse.unquote(k[len(bucket):])
            if not k.startswith(prefix):
                continue
            cut = k.find(delim, len(prefix)) if delim else -1
            if cut >= 0:
                names[k[:cut + 1]] = None
            else:
                names[k] = len(v)
        page = [n for n in sorted(names, key=lambda n: n.encode())
                if n.encode() > start.encode()]
        more = len(page) > limit
        page = page[:limit]
        out = ["<ListBucketResult><IsTruncated>%s</IsTruncated>"
               % ("true" if more else "false")]
        if more:
            out.append("<NextContinuationToken>%s</NextContinuationToken>"
                       % escape(page[-1]))
        for n in page:
            if names[n] is None:
                out.append("<CommonPrefixes><Prefix>%s</Prefix>"
                           "</CommonPrefixes>" % escape(n))
            else:
                out.append("<Contents><Key>%s</Key><Size>%d</Size>"
                           "</Contents>" % (escape(n), names[n]))
        out.append("</ListBucketResult>")
        self.answer(200, "".join(out).encode())

    def do_HEAD(self):
        self.get_or_head(True)

    def do_DELETE(self):
        if self.failing():
            return
        path, q = self.split()
        if "uploadId" in q:
            with LOCK:
                STATE["aborts"] += 1
            PARTS.pop((path, q["uploadId"][0]), None)
        else:
            OBJECTS.pop(path, None)
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
