"""A loopback HTTP server that misbehaves on purpose, and builders for the feeds and pages it serves.

`HostileServer` speaks raw HTTP/1.1 over sockets on 127.0.0.1 so that each route can do what no polite
server library would: never answer, drip a byte a second, reset the connection halfway, send a gzip bomb,
redirect in a loop or to file://. Every response closes its connection (no keep-alive surprises).
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from xml.sax.saxutils import escape

Handler = Callable[[socket.socket, "Request", threading.Event], None]

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _parse(head: bytes) -> Request | None:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return Request(parts[0], parts[1].split("#", 1)[0], headers)


class HostileServer:
    """`with HostileServer() as srv: url = srv.route('/feed', respond(500))`."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, name="hostile-server", daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler, host: str = "127.0.0.1") -> str:
        with self._lock:
            self.routes[path] = handler
        return self.url(path, host)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        self._thread.join(2)
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            request = _parse(_read_head(conn))
            if request is None:
                return
            with self._lock:
                self.hits[request.path] += 1
                handler = self.routes.get(request.path)
            if handler is None and request.path == "/robots.txt":
                handler = respond(200, b"User-agent: *\nAllow: /\n", "text/plain")
            if handler is None:
                handler = respond(404, b"not found", "text/plain")
            handler(conn, request, self.stop)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


# --------------------------------------------------------------------------- behaviours


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1")


def respond(
    status: int = 200,
    body: bytes = b"",
    content_type: str | None = "text/html; charset=utf-8",
    headers: Iterable[tuple[str, str]] = (),
) -> Handler:
    """A plain, well-formed answer."""
    extra = [
        *([("Content-Type", content_type)] if content_type else []),
        *headers,
        ("Content-Length", str(len(body))),
    ]

    def handle(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(_head(status, extra) + body)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    return respond(status, b"", None, [("Location", location)])


def chunked_without_length(chunk: bytes, count: int, content_type: str = "text/html") -> Handler:
    """A body with no Content-Length, `count` chunks of `chunk`: the size cap must catch it while reading."""

    def handle(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(_head(200, [("Content-Type", content_type), ("Transfer-Encoding", "chunked")]))
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        for _ in range(count):
            if stop.is_set():
                return
            conn.sendall(frame)
        conn.sendall(b"0\r\n\r\n")

    return handle


def reset_mid_body(declared: int = 100_000, sent: bytes = b"<rss><channel><item>") -> Handler:
    """Promise `declared` bytes, send a few, then abort the connection with a TCP RST."""

    def handle(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(_head(200, [("Content-Type", "application/rss+xml"), ("Content-Length", str(declared))]))
        conn.sendall(sent)
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return handle


def silent() -> Handler:
    """Accept, read the request, and never answer."""

    def handle(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        stop.wait(30)

    return handle


def drip(interval: float = 1.0, in_headers: bool = False) -> Handler:
    """One byte per `interval` seconds: of the body (after proper headers), or of the status line itself."""
    body = b"<rss><channel>" + b" " * 10_000

    def handle(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        stream = _head(200, [("Content-Type", "application/rss+xml"), ("Content-Length", str(len(body)))])
        if not in_headers:
            conn.sendall(stream)
            stream = body
        for i in range(len(stream)):
            if stop.wait(interval):
                return
            conn.sendall(stream[i : i + 1])

    return handle


def sequence(*handlers: Handler) -> Handler:
    """The first request gets the first handler, the second the second, ...; the last one repeats."""
    calls = Counter[str]()
    lock = threading.Lock()

    def handle(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        with lock:
            n = calls[request.path]
            calls[request.path] += 1
        handlers[min(n, len(handlers) - 1)](conn, request, stop)

    return handle


_BOMB: bytes | None = None


def gzip_bomb() -> bytes:
    """~100 KB of gzip that inflates to 100 MB of zeros (built once)."""
    global _BOMB
    if _BOMB is None:
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b"\0" * (1 << 20)
        _BOMB = b"".join(z.compress(block) for _ in range(100)) + z.flush()
    return _BOMB


# --------------------------------------------------------------------------- content builders


_WORDS = [
    "model",
    "partnership",
    "cloud",
    "investment",
    "research",
    "lab",
    "compute",
    "chips",
    "data",
    "training",
    "inference",
    "open",
    "weights",
    "startup",
    "funding",
    "round",
    "regulators",
    "europe",
    "agreement",
    "license",
    "integration",
    "assistant",
    "developers",
    "customers",
    "revenue",
    "market",
    "launch",
    "release",
    "benchmark",
    "safety",
    "team",
    "engineers",
    "announced",
    "reported",
    "according",
    "sources",
    "company",
    "billion",
    "deal",
    "quarter",
    "strategy",
    "product",
    "platform",
    "service",
    "region",
    "language",
    "speech",
    "vision",
]


def prose(seed: int, sentences: int = 14) -> list[str]:
    """Deterministic, varied English sentences (distinct per seed, so no two pages are near-duplicates)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rnd.choice(_WORDS) for _ in range(rnd.randint(9, 16))]
        out.append(" ".join(words).capitalize() + f" {rnd.randint(10, 9999)}.")
    return out


def article_html(title: str, seed: int, *, extra_head: str = "", charset: str | None = "utf-8") -> str:
    paragraphs = prose(seed)
    body = "".join(f"<p>{' '.join(paragraphs[i : i + 3])}</p>\n" for i in range(0, len(paragraphs), 3))
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f'<!doctype html><html lang="en"><head>{meta}<title>{escape(title)}</title>{extra_head}</head>'
        f'<body><nav><a href="/">Home</a></nav><article><h1>{escape(title)}</h1>\n{body}</article>'
        "<footer>© news</footer></body></html>"
    )


@dataclass
class Item:
    link: str | None = None
    title: str | None = None
    guid: str | None = None
    published: datetime | str | None = field(default_factory=lambda: datetime(2026, 11, 21, 9, tzinfo=UTC))
    description: str | None = None


def rss(items: Iterable[Item], *, encoding: str | None = "utf-8", title: str = "hostile") -> str:
    """RSS 2.0 text; every missing field is simply left out (that is the point)."""
    decl = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    parts = [
        decl,
        f'<rss version="2.0"><channel><title>{escape(title)}</title>'
        "<link>http://127.0.0.1/</link><description>d</description>",
    ]
    for it in items:
        parts.append("<item>")
        if it.title is not None:
            parts.append(f"<title>{escape(it.title)}</title>")
        if it.link is not None:
            parts.append(f"<link>{escape(it.link)}</link>")
        if it.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(it.guid)}</guid>')
        if it.published is not None:
            when = it.published if isinstance(it.published, str) else format_datetime(it.published)
            parts.append(f"<pubDate>{when}</pubDate>")
        if it.description is not None:
            parts.append(f"<description>{escape(it.description)}</description>")
        parts.append("</item>\n")
    parts.append("</channel></rss>")
    return "".join(parts)


def hours_ago(n: int) -> datetime:
    return datetime(2026, 11, 21, 12, tzinfo=UTC) - timedelta(hours=n)
