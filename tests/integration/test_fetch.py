"""newswatch.fetch against real servers on 127.0.0.1: pytest-httpserver for the polite cases, small raw
socket servers for the nasty ones (silence, drips, resets, bombs). Small timeouts keep the file fast."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from newswatch.config import FetchConfig
from newswatch.fetch import Fetcher
from newswatch.model import FetchResult, Outcome

UA = "newswatch-test/1.0 (+https://example.org/bot)"
FAST = FetchConfig(
    user_agent=UA,
    connect_timeout=1.0,
    read_timeout=0.5,
    total_timeout=1.0,
    max_bytes=100_000,
    max_redirects=3,
    max_retry_after=2.0,
)


def everything_is_local(host: str, port: int) -> list[str]:
    """A resolver that sends every host name to this machine, so tests can have several 'hosts'."""
    return ["127.0.0.1"]


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FAST) as f:
        yield f


def assert_failure_line(result: FetchResult, *fragments: str) -> None:
    assert result.error, result
    assert "\n" not in result.error and len(result.error) <= 300, result.error
    for fragment in fragments:
        assert fragment in result.error, (fragment, result.error)


# --------------------------------------------------------------------------- raw socket servers


def read_request_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each to `handle(conn, stop)` in its own thread."""

    def __init__(self, handle: Callable[[socket.socket, threading.Event], None]) -> None:
        self._handle = handle
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            read_request_head(conn)
            self._handle(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def raw() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        srv = RawServer(handle)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.close()


RawFactory = Callable[[Callable[[socket.socket, threading.Event], None]], RawServer]


# --------------------------------------------------------------------------- the polite cases


def test_ok_carries_body_validators_type_and_user_agent(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed.xml", headers={"User-Agent": UA}).respond_with_data(
        b"<rss/>",
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 10:00:00 GMT"},
    )
    url = http.url_for("/feed.xml")
    result = fetcher.fetch(url, trusted=True)
    assert result.outcome is Outcome.OK, result.error
    assert result.body == b"<rss/>"
    assert result.status == 200
    assert result.url == url and result.final_url == url
    assert result.content_type == "application/rss+xml"
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 Jan 2025 10:00:00 GMT"
    assert result.error is None and result.elapsed_s > 0


def test_conditional_get_sends_validators_and_304_is_not_modified(http: HTTPServer, fetcher: Fetcher) -> None:
    lm = "Wed, 01 Jan 2025 10:00:00 GMT"
    # only a request carrying both validators gets the 304; anything else gets no handler (500)
    http.expect_request(
        "/feed", headers={"If-None-Match": '"v1"', "If-Modified-Since": lm}
    ).respond_with_data(b"", status=304)
    result = fetcher.fetch(http.url_for("/feed"), etag='"v1"', last_modified=lm, trusted=True)
    assert result.outcome is Outcome.NOT_MODIFIED, result.error
    assert result.status == 304
    assert result.etag == '"v1"' and result.last_modified == lm  # carried over: the 304 repeated neither
    assert result.body == b""


def test_gzip_and_deflate_bodies_are_decoded(http: HTTPServer) -> None:
    text = b"".join(b"<p>AI partnership %d</p>" % i for i in range(40_000))  # ~0.9 MB: many inflate steps
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    half = len(text) // 2
    http.expect_request("/gz").respond_with_data(
        zlib.compress(text, wbits=31), headers={"Content-Encoding": "gzip"}
    )
    http.expect_request("/members").respond_with_data(  # two gzip members, as `cat a.gz b.gz` makes
        zlib.compress(text[:half], wbits=31) + zlib.compress(text[half:], wbits=31),
        headers={"Content-Encoding": "gzip"},
    )
    http.expect_request("/zlib").respond_with_data(
        zlib.compress(text), headers={"Content-Encoding": "deflate"}
    )
    http.expect_request("/raw").respond_with_data(
        raw_deflate.compress(text) + raw_deflate.flush(), headers={"Content-Encoding": "deflate"}
    )
    http.expect_request("/br").respond_with_data(b"????", headers={"Content-Encoding": "br"})
    with Fetcher(FAST.model_copy(update={"max_bytes": 2_000_000})) as fetcher:
        for path in ("/gz", "/members", "/zlib", "/raw"):
            result = fetcher.fetch(http.url_for(path), trusted=True)
            assert result.outcome is Outcome.OK, (path, result.error)
            assert result.body == text, path
        unsupported = fetcher.fetch(http.url_for("/br"), trusted=True)
    assert unsupported.outcome is Outcome.ERROR
    assert_failure_line(unsupported, "Content-Encoding 'br'")
    assert all(entry[0].headers["Accept-Encoding"] == "gzip, deflate" for entry in http.log)


@pytest.mark.parametrize(("status", "phrase"), [(404, "Not Found"), (500, "Internal Server Error")])
def test_http_errors(http: HTTPServer, fetcher: Fetcher, status: int, phrase: str) -> None:
    http.expect_request("/x").respond_with_data(b"nope", status=status)
    url = http.url_for("/x")
    result = fetcher.fetch(url, trusted=True)
    assert result.outcome is Outcome.HTTP_ERROR
    assert result.status == status
    assert result.body == b""
    assert_failure_line(result, f"HTTP {status}", url)
    assert phrase.lower() in result.error.lower()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- timeouts


def test_server_that_never_answers_times_out_quickly(raw: RawFactory, fetcher: Fetcher) -> None:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(5)  # read the request, then say nothing

    srv = raw(handle)
    start = time.monotonic()
    result = fetcher.fetch(srv.url("/silent"), trusted=True)
    took = time.monotonic() - start
    assert result.outcome is Outcome.TIMEOUT
    assert_failure_line(result, "read timeout", srv.url("/silent"))
    assert 0.4 < took < 1.5  # the server would stay silent for 5 s


def drip(conn: socket.socket, stop: threading.Event, data: bytes) -> None:
    for byte in data:
        if stop.wait(0.1):
            return
        conn.sendall(bytes([byte]))


def test_body_drip_is_cut_off_by_the_total_deadline(raw: RawFactory, fetcher: Fetcher) -> None:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        drip(conn, stop, b"x" * 100)  # a byte every 0.1 s: never trips the 0.5 s read timeout

    srv = raw(handle)
    start = time.monotonic()
    result = fetcher.fetch(srv.url(), trusted=True)
    took = time.monotonic() - start
    assert result.outcome is Outcome.TIMEOUT
    assert_failure_line(result, "total deadline of 1s", srv.url())
    assert 0.95 < took < 2.5  # the drip would last 10 s or more


def test_header_drip_is_cut_off_by_the_total_deadline(raw: RawFactory, fetcher: Fetcher) -> None:
    srv = raw(lambda conn, stop: drip(conn, stop, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: a\r\n" * 10 + b"\r\n"))
    start = time.monotonic()
    result = fetcher.fetch(srv.url(), trusted=True)
    took = time.monotonic() - start
    assert result.outcome is Outcome.TIMEOUT
    assert_failure_line(result, "total deadline")
    assert 0.95 < took < 2.5  # the drip would last 10 s or more


# --------------------------------------------------------------------------- size cap


def test_body_over_the_cap_without_content_length(raw: RawFactory, fetcher: Fetcher) -> None:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for _ in range(200):  # 2 MB if nobody stops reading
            conn.sendall(b"y" * 10_000)

    srv = raw(handle)
    result = fetcher.fetch(srv.url(), trusted=True)
    assert result.outcome is Outcome.TOO_LARGE
    assert result.body == b""
    assert_failure_line(result, "100000-byte cap", srv.url())


def test_content_length_over_the_cap_is_refused_before_reading(raw: RawFactory, fetcher: Fetcher) -> None:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\nstart")
        stop.wait(5)  # would time out if we waited for the body

    srv = raw(handle)
    result = fetcher.fetch(srv.url(), trusted=True)
    assert result.outcome is Outcome.TOO_LARGE  # waiting for the body would have been a TIMEOUT
    assert_failure_line(result, "Content-Length 10000000")


def test_gzip_bomb_stops_at_the_cap_without_inflating(raw: RawFactory) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(b"\0" * 1_000_000) for _ in range(50)) + packer.flush()  # 50 MB of zeros
    assert len(bomb) < 100_000

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n"
        conn.sendall(head.encode() + bomb)

    srv = raw(handle)
    settings = FetchConfig(user_agent=UA, read_timeout=2, total_timeout=5, max_bytes=1_000_000)
    with Fetcher(settings) as fetcher:
        tracemalloc.start()
        try:
            result = fetcher.fetch(srv.url(), trusted=True)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.outcome is Outcome.TOO_LARGE
    assert_failure_line(result, "1000000-byte cap (decoded)")
    assert peak < 3_000_000, f"peak {peak} bytes while refusing a 50 MB bomb"


# --------------------------------------------------------------------------- redirects


def test_redirect_chain_is_followed_and_final_url_recorded(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/a").respond_with_data(b"", status=301, headers={"Location": "/b"})
    http.expect_request("/b").respond_with_data(b"", status=302, headers={"Location": http.url_for("/c")})
    http.expect_request("/c").respond_with_data(b"", status=307, headers={"Location": "d"})
    http.expect_request("/d").respond_with_data(b"here")
    result = fetcher.fetch(http.url_for("/a"), trusted=True)
    assert result.outcome is Outcome.OK, result.error
    assert result.body == b"here"
    assert result.url == http.url_for("/a")
    assert result.final_url == http.url_for("/d")


def test_redirect_loop_is_an_error(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/a").respond_with_data(b"", status=302, headers={"Location": "/b"})
    http.expect_request("/b").respond_with_data(b"", status=302, headers={"Location": "/a"})
    result = fetcher.fetch(http.url_for("/a"), trusted=True)
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert_failure_line(result, "redirect loop", http.url_for("/a"))
    assert len(http.log) == 2


def test_too_many_redirects_is_an_error(http: HTTPServer, fetcher: Fetcher) -> None:
    for i in range(6):
        http.expect_request(f"/r{i}").respond_with_data(b"", status=301, headers={"Location": f"/r{i + 1}"})
    result = fetcher.fetch(http.url_for("/r0"), trusted=True)
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert_failure_line(result, "more than 3 redirects")
    assert len(http.log) == 4  # the first request and 3 hops (max_redirects=3)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "javascript:alert(1)", "ftp://127.0.0.1/x"])
def test_redirect_to_a_non_http_scheme_is_refused(http: HTTPServer, fetcher: Fetcher, location: str) -> None:
    http.expect_request("/go").respond_with_data(b"", status=302, headers={"Location": location})
    result = fetcher.fetch(http.url_for("/go"), trusted=True)
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert_failure_line(result, location)


def test_malformed_location_is_a_redirect_error(raw: RawFactory, fetcher: Fetcher) -> None:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://[oops/\r\nContent-Length: 0\r\n\r\n")

    srv = raw(handle)
    result = fetcher.fetch(srv.url("/go"), trusted=True)
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert_failure_line(result, "malformed Location", "http://[oops/")


def test_cookie_setting_redirect_back_is_not_a_loop(http: HTTPServer, fetcher: Fetcher) -> None:
    """A -> consent (sets a cookie) -> A again, now with the cookie: the usual consent dance."""
    http.expect_request("/article", headers={"Cookie": "consent=yes"}).respond_with_data(b"story")
    http.expect_request("/article").respond_with_data(b"", status=302, headers={"Location": "/consent"})
    http.expect_request("/consent").respond_with_data(
        b"", status=302, headers={"Location": "/article", "Set-Cookie": "consent=yes; Path=/"}
    )
    result = fetcher.fetch(http.url_for("/article"), trusted=True)
    assert result.outcome is Outcome.OK, result.error
    assert result.body == b"story"
    # cookies live for one fetch only: the next fetch starts without them
    again = fetcher.fetch(http.url_for("/article"), trusted=True)
    assert again.outcome is Outcome.OK
    assert "Cookie" not in http.log[3][0].headers


# --------------------------------------------------------------------------- Retry-After


def test_429_with_short_retry_after_waits_then_succeeds(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_oneshot_request("/busy").respond_with_data(b"", status=429, headers={"Retry-After": "1"})
    http.expect_request("/busy").respond_with_data(b"finally")
    start = time.monotonic()
    result = fetcher.fetch(http.url_for("/busy"), trusted=True)
    took = time.monotonic() - start
    assert result.outcome is Outcome.OK, result.error
    assert result.body == b"finally"
    assert len(http.log) == 2
    assert 1.0 <= took < 3.0


def test_429_with_long_retry_after_gives_up_at_once(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/busy").respond_with_data(b"", status=429, headers={"Retry-After": "3600"})
    start = time.monotonic()
    result = fetcher.fetch(http.url_for("/busy"), trusted=True)
    assert time.monotonic() - start < 1.0
    assert result.outcome is Outcome.RATE_LIMITED
    assert result.status == 429 and result.retry_after_s == 3600
    assert_failure_line(result, "HTTP 429", "3600s")
    assert len(http.log) == 1


def test_429_retries_at_most_twice(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/busy").respond_with_data(b"", status=429, headers={"Retry-After": "0"})
    result = fetcher.fetch(http.url_for("/busy"), trusted=True)
    assert result.outcome is Outcome.RATE_LIMITED
    assert_failure_line(result, "after 2 retries")
    assert len(http.log) == 3


def test_503_with_retry_after_is_retried(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_oneshot_request("/down").respond_with_data(b"", status=503, headers={"Retry-After": "0"})
    http.expect_request("/down").respond_with_data(b"up")
    result = fetcher.fetch(http.url_for("/down"), trusted=True)
    assert result.outcome is Outcome.OK and result.body == b"up"


# --------------------------------------------------------------------------- connection failures


def test_connection_refused(fetcher: Fetcher) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    url = f"http://127.0.0.1:{port}/"
    result = fetcher.fetch(url, trusted=True)
    assert result.outcome is Outcome.CONNECT_ERROR
    assert_failure_line(result, "cannot connect", url)


def test_reset_in_the_middle_of_the_body(raw: RawFactory, fetcher: Fetcher) -> None:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"z" * 1000)
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST

    srv = raw(handle)
    result = fetcher.fetch(srv.url("/article"), trusted=True)
    assert result.outcome is Outcome.CONNECT_ERROR
    assert_failure_line(result, srv.url("/article"))


def test_dns_failure() -> None:
    def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with Fetcher(FAST, resolve=no_such_host) as fetcher:
        result = fetcher.fetch("https://nonexistent.invalid/feed", trusted=True)
    assert result.outcome is Outcome.DNS_ERROR
    assert_failure_line(result, "cannot resolve host nonexistent.invalid")


def test_closed_fetcher_answers_with_an_error_value() -> None:
    fetcher = Fetcher(FAST)
    fetcher.close()
    result = fetcher.fetch("http://127.0.0.1:9/", trusted=True)
    assert result.outcome is Outcome.ERROR
    assert_failure_line(result, "Fetcher is closed")


# --------------------------------------------------------------------------- address policy


def test_untrusted_loopback_is_blocked_unless_private_networks_allowed(http: HTTPServer) -> None:
    http.expect_request("/internal").respond_with_data(b"secret")
    url = http.url_for("/internal")
    with Fetcher(FAST) as fetcher:
        blocked = fetcher.fetch(url)
    assert blocked.outcome is Outcome.BLOCKED
    assert_failure_line(blocked, "127.0.0.1", url)
    assert len(http.log) == 0  # refused before any connection
    with Fetcher(FAST, allow_private_networks=True) as fetcher:
        allowed = fetcher.fetch(url)
    assert allowed.outcome is Outcome.OK and allowed.body == b"secret"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "data:,x"]
)
def test_non_http_first_url_is_blocked(fetcher: Fetcher, url: str) -> None:
    result = fetcher.fetch(url, trusted=True)
    assert result.outcome is Outcome.BLOCKED
    assert_failure_line(result, url)


def test_trusted_source_may_redirect_within_its_own_host(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(b"", status=301, headers={"Location": "/feed.xml"})
    http.expect_request("/feed.xml").respond_with_data(b"<rss/>")
    result = fetcher.fetch(http.url_for("/feed"), trusted=True)
    assert result.outcome is Outcome.OK, result.error
    assert result.final_url == http.url_for("/feed.xml")


def test_trusted_source_redirecting_to_another_private_host_is_blocked(http: HTTPServer) -> None:
    port = http.port
    http.expect_request("/feed").respond_with_data(
        b"", status=302, headers={"Location": f"http://metadata.internal:{port}/secret"}
    )
    http.expect_request("/secret").respond_with_data(b"secret")
    with Fetcher(FAST, resolve=everything_is_local) as fetcher:
        result = fetcher.fetch(f"http://feeds.test:{port}/feed", trusted=True)
    assert result.outcome is Outcome.BLOCKED
    assert_failure_line(result, "metadata.internal")
    assert result.final_url == f"http://metadata.internal:{port}/secret"
    assert [entry[0].path for entry in http.log] == ["/feed"]


def test_a_host_is_looked_up_once_and_its_answers_are_vetted_at_every_use(http: HTTPServer) -> None:
    """One DNS lookup per host per minute, not per page; the cache holds answers, not verdicts: the
    private address a trusted source may reach is still refused to a link found in it."""
    lookups: list[str] = []

    def counting(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    port = http.port
    for path in ("/feed", "/a", "/b"):
        http.expect_request(path).respond_with_data(b"ok")
    with Fetcher(FAST, resolve=counting) as fetcher:
        assert fetcher.fetch(f"http://feeds.test:{port}/feed", trusted=True).outcome is Outcome.OK
        assert fetcher.fetch(f"http://feeds.test:{port}/a", trusted=True).outcome is Outcome.OK
        link = fetcher.fetch(f"http://feeds.test:{port}/b")  # a link found in the feed: untrusted
    assert lookups == ["feeds.test"]
    assert link.outcome is Outcome.BLOCKED
    assert_failure_line(link, "feeds.test")
    assert [entry[0].path for entry in http.log] == ["/feed", "/a"]


# --------------------------------------------------------------------------- robots.txt


def test_robots_disallow_is_honoured_and_robots_fetched_once(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/robots.txt", headers={"User-Agent": UA}).respond_with_data(
        "User-agent: *\nDisallow: /\n\nUser-agent: newswatch\nDisallow: /private/\n",
        content_type="text/plain",
    )
    http.expect_request("/news/1").respond_with_data(b"one")
    http.expect_request("/private/2").respond_with_data(b"two")
    ok = fetcher.fetch(http.url_for("/news/1"), trusted=True, check_robots=True)
    refused = fetcher.fetch(http.url_for("/private/2"), trusted=True, check_robots=True)
    unchecked = fetcher.fetch(http.url_for("/private/2"), trusted=True)
    assert ok.outcome is Outcome.OK, ok.error
    assert refused.outcome is Outcome.ROBOTS
    assert_failure_line(refused, "robots.txt", http.url_for("/private/2"))
    assert unchecked.outcome is Outcome.OK  # check_robots=False: feeds are not subject to robots
    paths = [entry[0].path for entry in http.log]
    assert paths == ["/robots.txt", "/news/1", "/private/2"]


@pytest.mark.parametrize("robots_status", [404, 500])
def test_missing_or_failing_robots_allows_and_is_cached(
    http: HTTPServer, fetcher: Fetcher, robots_status: int
) -> None:
    http.expect_request("/robots.txt").respond_with_data(b"", status=robots_status)
    http.expect_request("/a").respond_with_data(b"a")
    http.expect_request("/b").respond_with_data(b"b")
    a = fetcher.fetch(http.url_for("/a"), trusted=True, check_robots=True)
    b = fetcher.fetch(http.url_for("/b"), trusted=True, check_robots=True)
    assert a.outcome is Outcome.OK and b.outcome is Outcome.OK
    assert [entry[0].path for entry in http.log] == ["/robots.txt", "/a", "/b"]


def test_robots_is_skipped_when_disabled_in_settings(http: HTTPServer) -> None:
    http.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    http.expect_request("/a").respond_with_data(b"a")
    with Fetcher(FAST.model_copy(update={"respect_robots": False})) as fetcher:
        result = fetcher.fetch(http.url_for("/a"), trusted=True, check_robots=True)
    assert result.outcome is Outcome.OK
    assert [entry[0].path for entry in http.log] == ["/a"]


# --------------------------------------------------------------------------- concurrency


class SlowCounter:
    """A threaded HTTP server whose handler sleeps, recording the most requests it ever saw at once."""

    def __init__(self, delay: float) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with counter.lock:
                    counter.active += 1
                    counter.peak = max(counter.peak, counter.active)
                time.sleep(delay)
                with counter.lock:
                    counter.active -= 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def fetch_all(fetcher: Fetcher, urls: list[str]) -> list[FetchResult]:
    results: list[FetchResult] = []
    lock = threading.Lock()

    def run(url: str) -> None:
        result = fetcher.fetch(url, trusted=True)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_per_host_limit_holds_across_threads() -> None:
    srv = SlowCounter(delay=0.25)
    try:
        settings = FetchConfig(user_agent=UA, per_host=2, concurrency=8, total_timeout=5)
        with Fetcher(settings) as fetcher:
            results = fetch_all(fetcher, [f"http://127.0.0.1:{srv.port}/{i}" for i in range(6)])
    finally:
        srv.close()
    assert [r.outcome for r in results] == [Outcome.OK] * 6
    assert srv.peak == 2


def test_global_limit_holds_across_hosts() -> None:
    srv = SlowCounter(delay=0.25)
    try:
        settings = FetchConfig(user_agent=UA, per_host=4, concurrency=2, total_timeout=5)
        urls = [f"http://{host}:{srv.port}/{i}" for i in range(3) for host in ("a.test", "b.test")]
        with Fetcher(settings, resolve=everything_is_local) as fetcher:
            results = fetch_all(fetcher, urls)
    finally:
        srv.close()
    assert [r.outcome for r in results] == [Outcome.OK] * 6
    assert srv.peak == 2


# --------------------------------------------------------------------------- TLS


def self_signed_pem(tmp_path: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (and 127.0.0.1), usable as its own trust anchor."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[HTTPServer, Path]]:
    cert_file, key_file = self_signed_pem(tmp_path, "feeds.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    srv = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    srv.start()
    yield srv, cert_file
    srv.clear()
    srv.stop()


def test_https_verifies_the_url_host_while_connecting_to_the_checked_address(
    https_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv, cert_file = https_server
    srv.expect_request("/feed").respond_with_data(b"secure")
    url = f"https://feeds.test:{srv.port}/feed"
    with Fetcher(FAST, resolve=everything_is_local) as fetcher:
        untrusted_cert = fetcher.fetch(url, trusted=True)
    assert untrusted_cert.outcome is Outcome.CONNECT_ERROR
    assert_failure_line(untrusted_cert, "CERTIFICATE_VERIFY_FAILED", url)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # trust our own CA, as a corporate setup would
    with Fetcher(FAST, resolve=everything_is_local) as fetcher:
        ok = fetcher.fetch(url, trusted=True)
        wrong_name = fetcher.fetch(f"https://other.test:{srv.port}/feed", trusted=True)
    assert ok.outcome is Outcome.OK, ok.error
    assert ok.body == b"secure"
    assert wrong_name.outcome is Outcome.CONNECT_ERROR  # the certificate is for feeds.test only
    assert_failure_line(wrong_name, "other.test")
