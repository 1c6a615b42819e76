"""A local HTTP server standing in for the publishers: it serves files at the
catalogue's paths, answers ranges (206), ETags (304) and 404, and can cut a body
short (a truncated download)."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Mirror:
    """``files`` maps a path with its query (as the catalogue writes it) to bytes;
    ``cut`` maps a path to the number of bytes sent before the connection drops;
    ``redirects`` maps a path to the URL a 302 sends the client to."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[tuple[str, dict]] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - the http.server API
                mirror.requests.append((self.path, dict(self.headers)))
                if self.path in mirror.redirects:
                    self.send_response(302)
                    self.send_header("Location", mirror.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = mirror.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                start = 0
                if self.headers.get("Range", "").startswith("bytes="):
                    start = int(self.headers["Range"][6:].split("-")[0])
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Thu, 01 Oct 2026 08:00:00 GMT")
                self.end_headers()
                limit = mirror.cut.pop(self.path, None)
                sent = body[start:] if limit is None else body[start:limit]
                self.wfile.write(sent)
                if limit is not None:
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
