"""A loopback HTTP server that replays stored pages and feeds (for benchmarks and integration tests).

Real HTTP on 127.0.0.1: conditional GET (ETag / Last-Modified → 304), per-path hit counters, and a
robots.txt that allows everything unless told otherwise.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


class ReplayServer:
    """`with ReplayServer() as srv: srv.add('/feed.xml', body, 'application/rss+xml')`, then
    `srv.url('/feed.xml')`."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        *,
        validators: bool = True,
        status: int = 200,
    ) -> str:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"' if validators else None
        lm = formatdate(1_700_000_000, usegmt=True) if validators else None
        with self._lock:
            self.resources[path] = Resource(body, content_type, status, etag, lm)
        return self.url(path)

    def page_hits(self, prefix: str) -> int:
        with self._lock:
            return sum(n for p, n in self.hits.items() if p.startswith(prefix))

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_GET(self) -> None:
                path = self.path.split("#", 1)[0]
                with replay._lock:
                    replay.hits[path] += 1
                    res = replay.resources.get(path)
                if res is None and path == "/robots.txt":
                    res = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
                if res is None:
                    self._send(404, b"not found", "text/plain")
                    return
                if res.etag and self.headers.get("If-None-Match") == res.etag:
                    with replay._lock:
                        replay.not_modified[path] += 1
                    self._send(304, b"", None, res)
                    return
                self._send(res.status, res.body, res.content_type, res)

            def _send(self, status: int, body: bytes, ctype: str | None, res: Resource | None = None) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if res is not None and res.etag:
                    self.send_header("ETag", res.etag)
                if res is not None and res.last_modified:
                    self.send_header("Last-Modified", res.last_modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler
