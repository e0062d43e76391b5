"""The fault matrix: misbehaving sources beside a healthy source in the same poll, one test per fault.

Every test checks the same four things: the run finishes, the healthy source's articles land, the fault
is a clear one-line outcome in `fetches` (kind 'source' for the feed, 'page' for an article page), and
nothing half-written remains (`assert_store_consistent`). The feed faults share one poll (each faulty
feed its own source on its own server), the page faults another (one feed listing a fine page and every
faulty one); the odd-content tests poll one hostile source each. Timeouts are scaled down (read 0.5 s,
total 1 s, extraction 2-10 s per page) so the folder stays fast.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.replay import ReplayServer
from newswatch.extract import extract_article
from newswatch.model import Outcome
from tests.reliability.harness import Poll, assert_store_consistent, make_config, run_poll
from tests.reliability.hostile import (
    HostileServer,
    Item,
    article_html,
    chunked_without_length,
    drip,
    gzip_bomb,
    hours_ago,
    prose,
    redirect,
    reset_mid_body,
    respond,
    rss,
    sequence,
    silent,
)
from tests.reliability.reporting import FaultFactory
from tests.reliability.scripted import scripted_extract

RSS = "application/rss+xml"
LIVENESS_S = 90.0  # not a speed check: a poll that has not finished by then is hung


# --------------------------------------------------------------------------- shared fixtures


@dataclass(frozen=True)
class Healthy:
    url: str
    links: tuple[str, ...]

    @property
    def source(self) -> dict[str, str]:
        return {"name": "healthy", "kind": "feed", "url": self.url}


@pytest.fixture(scope="module")
def healthy() -> Iterator[Healthy]:
    """A well-behaved feed on its own 'site' (good.test) with two real article pages."""
    with ReplayServer() as srv:
        site = f"http://good.test:{srv.port}"
        items, links = [], []
        for i in range(2):
            path = f"/news/healthy-source-story-number-{i}.html"
            srv.add(path, article_html(f"Healthy story {i}", 100 + i).encode())
            links.append(site + path)
            items.append(Item(link=site + path, title=f"Healthy {i}", published=hours_ago(i)))
        srv.add("/feed.xml", rss(items).encode(), RSS)
        yield Healthy(site + "/feed.xml", tuple(links))


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def matrix_dns(host: str, port: int) -> list[str]:
    """Every host is this machine, but `tarpit.*` hosts answer never (a name server that tarpits)."""
    if host.startswith("tarpit."):
        time.sleep(20)
    return ["127.0.0.1"]


def poll_with_watchdog(run: Callable[[], Poll]) -> Poll:
    """Run a poll, failing (instead of hanging the suite) if it does not finish."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["poll"] = run()
        except BaseException as exc:  # re-raised in the test thread
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(LIVENESS_S)
    assert not t.is_alive(), f"the poll did not finish within {LIVENESS_S:g}s"
    if "error" in box:
        raise box["error"]
    poll: Poll = box["poll"]
    return poll


def poll_beside_healthy(tmp_path: Path, healthy: Healthy, hostile_source: dict[str, Any], **kw: Any) -> Poll:
    extract_fn = kw.pop("extract_fn", extract_article)
    config = make_config([healthy.source, {"name": "hostile", **hostile_source}], **kw)
    poll = poll_with_watchdog(lambda: run_poll(config, tmp_path / "news.duckdb", extract_fn=extract_fn))
    assert_healthy_landed(poll, healthy)
    assert_store_consistent(poll.db)
    return poll


def assert_healthy_landed(poll: Poll, healthy: Healthy) -> None:
    outcome, status, error = poll.source_fetch("healthy")
    assert (outcome, status, error) in {("ok", 200, None), ("not_modified", 304, None)}  # 304: polled before
    assert [(u, x) for u, _, x in poll.articles("healthy")] == [(u, "ok") for u in healthy.links]
    labelled = poll.rows(
        "SELECT count(*) FROM articles a JOIN classifications c ON c.article_id = a.id "
        "WHERE a.source = 'healthy'"
    )
    assert labelled == [(2,)]


# --------------------------------------------------------------------------- faults on the feed itself


@dataclass(frozen=True)
class FeedFault:
    id: str
    name: str
    install: Callable[[HostileServer, int], str]  # routes the fault; returns the feed URL
    outcome: Outcome
    fragment: str  # must appear in the recorded error line


def _at(path: str, handler: Any) -> Callable[[HostileServer, int], str]:
    return lambda srv, _port: srv.route(path, handler, host="bad.test")


def _loop(srv: HostileServer, _port: int) -> str:
    srv.route("/loop-b", redirect("/loop-a"))
    return srv.route("/loop-a", redirect("/loop-b"), host="bad.test")


def _chain(srv: HostileServer, _port: int) -> str:
    for i in range(1, 9):
        srv.route(f"/r{i}", redirect(f"/r{i + 1}"))
    return srv.route("/r0", redirect("/r1"), host="bad.test")


def _refused(srv: HostileServer, port: int) -> str:
    return f"http://bad.test:{port}/feed.xml"


def _tarpit(srv: HostileServer, port: int) -> str:
    return f"http://tarpit.bad.test:{srv.port}/feed.xml"


_BIG_LINE = rss([Item(link="http://bad.test/a-b-c-d", title="t", description="word " * 2_000_000)]).encode()
_JUNK = bytes(range(256)) * 64
_NEVER_RELENTS = respond(429, b"slow down", "text/plain", [("Retry-After", "0.2")])

FEED_FAULTS = [
    FeedFault("500", "HTTP 500", _at("/f", respond(500, b"boom")), Outcome.HTTP_ERROR, "HTTP 500"),
    FeedFault("502", "HTTP 502", _at("/f", respond(502, b"")), Outcome.HTTP_ERROR, "HTTP 502"),
    FeedFault("503", "HTTP 503 (no Retry-After)", _at("/f", respond(503)), Outcome.HTTP_ERROR, "HTTP 503"),
    FeedFault("404", "HTTP 404", _at("/f", respond(404)), Outcome.HTTP_ERROR, "HTTP 404 Not Found"),
    FeedFault("410", "HTTP 410", _at("/f", respond(410)), Outcome.HTTP_ERROR, "HTTP 410 Gone"),
    FeedFault(
        "429-short",
        "HTTP 429, Retry-After 0.2 s, never relents",
        _at("/f", _NEVER_RELENTS),
        Outcome.RATE_LIMITED,
        "still refused after 2 retries",
    ),
    FeedFault(
        "429-long",
        "HTTP 429, Retry-After 3600 s",
        _at("/f", respond(429, b"", None, [("Retry-After", "3600")])),
        Outcome.RATE_LIMITED,
        "Retry-After 3600s is over the 1s we wait",
    ),
    FeedFault("refused", "connection refused", _refused, Outcome.CONNECT_ERROR, "cannot connect"),
    FeedFault(
        "dns-tarpit",
        "DNS lookup that never answers",
        _tarpit,
        Outcome.TIMEOUT,
        "DNS lookup of tarpit.bad.test took longer than 1s",
    ),
    FeedFault(
        "reset",
        "connection reset mid-body",
        _at("/f", reset_mid_body()),
        Outcome.CONNECT_ERROR,
        "connection lost",
    ),
    FeedFault(
        "silent", "accepts, never answers", _at("/f", silent()), Outcome.TIMEOUT, "read timeout (0.5s)"
    ),
    FeedFault(
        "drip-body",
        "drips the body, a byte each 0.25 s",
        _at("/f", drip(0.25)),
        Outcome.TIMEOUT,
        "total deadline of 1s exceeded",
    ),
    FeedFault(
        "drip-head",
        "drips the status line, a byte each 0.25 s",
        _at("/f", drip(0.25, in_headers=True)),
        Outcome.TIMEOUT,
        "total deadline of 1s exceeded",
    ),
    FeedFault("drip-1s", "drips a byte a second", _at("/f", drip(1.0)), Outcome.TIMEOUT, "read timeout"),
    FeedFault(
        "cap-declared",
        "body over the size cap (Content-Length)",
        _at("/f", respond(200, b"<" * 1_200_000, RSS)),
        Outcome.TOO_LARGE,
        "Content-Length 1200000 is over the 1000000-byte cap",
    ),
    FeedFault(
        "cap-chunked",
        "body over the size cap (chunked, no length)",
        _at("/f", chunked_without_length(b"<item>" * 10_000, 40, RSS)),
        Outcome.TOO_LARGE,
        "body over the 1000000-byte cap",
    ),
    FeedFault(
        "gzip-bomb",
        "gzip bomb (100 KB → 100 MB)",
        _at("/f", respond(200, gzip_bomb(), RSS, [("Content-Encoding", "gzip")])),
        Outcome.TOO_LARGE,
        "(decoded)",
    ),
    FeedFault(
        "10mb-line",
        "a single 10 MB line (over the cap)",
        _at("/f", respond(200, _BIG_LINE, RSS)),
        Outcome.TOO_LARGE,
        "over the 1000000-byte cap",
    ),
    FeedFault("loop", "redirect loop", _loop, Outcome.REDIRECT_ERROR, "redirect loop"),
    FeedFault(
        "too-many",
        "redirect chain longer than max_redirects",
        _chain,
        Outcome.REDIRECT_ERROR,
        "more than 5 redirects",
    ),
    FeedFault(
        "file",
        "redirect to file:///etc/passwd",
        _at("/f", redirect("file:///etc/passwd")),
        Outcome.REDIRECT_ERROR,
        "not an http(s) URL (file:)",
    ),
    FeedFault(
        "gopher",
        "redirect to gopher://",
        _at("/f", redirect("gopher://127.0.0.1:70/1")),
        Outcome.REDIRECT_ERROR,
        "(gopher:)",
    ),
    FeedFault(
        "js-redirect",
        "redirect to javascript:",
        _at("/f", redirect("javascript:alert(1)")),
        Outcome.REDIRECT_ERROR,
        "(javascript:)",
    ),
    FeedFault(
        "html",
        "the feed is an HTML page",
        _at("/f", respond(200, article_html("Not a feed", 7).encode())),
        Outcome.PARSE_ERROR,
        "not a feed: looks like HTML",
    ),
    FeedFault("empty", "empty body", _at("/f", respond(200, b"", RSS)), Outcome.PARSE_ERROR, "empty body"),
    FeedFault(
        "blank",
        "body of blank lines",
        _at("/f", respond(200, b"\n \r\n\t\n", RSS)),
        Outcome.PARSE_ERROR,
        "empty body",
    ),
    FeedFault(
        "junk",
        "binary junk",
        _at("/f", respond(200, _JUNK, "application/octet-stream")),
        Outcome.PARSE_ERROR,
        "not a feed",
    ),
    FeedFault(
        "truncated",
        "XML cut in the middle of the first item",
        _at(
            "/f",
            respond(200, b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><ti', RSS),
        ),
        Outcome.PARSE_ERROR,
        "XML error",
    ),
]


@dataclass
class Shared:
    poll: Poll
    urls: dict[str, str]  # case id -> the URL of its faulty feed or page


@pytest.fixture(scope="module")
def feed_faults(healthy: Healthy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One poll: the healthy source beside every faulty feed, each on its own server (its own source)."""
    with contextlib.ExitStack() as stack:
        port = _closed_port()
        urls = {case.id: case.install(stack.enter_context(HostileServer()), port) for case in FEED_FAULTS}
        sources = [
            {"name": f"hostile-{case.id}", "kind": "feed", "url": urls[case.id]} for case in FEED_FAULTS
        ]
        config = make_config([healthy.source, *sources])
        db = tmp_path_factory.mktemp("feed-faults") / "news.duckdb"
        yield Shared(poll_with_watchdog(lambda: run_poll(config, db, resolve=matrix_dns)), urls)


@pytest.mark.parametrize("case", FEED_FAULTS, ids=lambda c: c.id)
def test_feed_fault(case: FeedFault, feed_faults: Shared, healthy: Healthy, fault: FaultFactory) -> None:
    rec = fault(case.name, "feed", str(case.outcome))
    poll, name = feed_faults.poll, f"hostile-{case.id}"
    outcome, _, error = poll.source_fetch(name)
    rec.saw(outcome, error)
    assert outcome == case.outcome
    assert error is not None and case.fragment in error, error
    assert "bad.test" in error  # the line says where
    assert poll.reports[name].outcome is case.outcome
    assert poll.articles(name) == [] and poll.page_fetches(name) == []
    state = poll.rows(
        f"SELECT last_outcome, consecutive_failures, last_error FROM sources WHERE name = '{name}'"
    )
    assert state == [(str(case.outcome), 1, error)]
    assert_healthy_landed(poll, healthy)
    assert_store_consistent(poll.db)


def test_feed_503_with_retry_after_then_recovers(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("HTTP 503 with Retry-After 0.2 s, then 200", "feed", "ok")
    page = hostile.route(
        "/news/recovered-after-a-short-outage.html", respond(200, article_html("Back", 3).encode())
    )
    body = rss([Item(link=page, title="Back")]).encode()
    flaky = sequence(respond(503, b"", None, [("Retry-After", "0.2")]), respond(200, body, RSS))
    url = hostile.route("/f", flaky, host="bad.test")
    poll = poll_beside_healthy(tmp_path, healthy, {"kind": "feed", "url": url})
    outcome, status, error = poll.source_fetch("hostile")
    rec.saw(outcome, f"{hostile.hits['/f']} requests (one retry after the 503), article stored")
    assert (outcome, status, error) == ("ok", 200, None)
    assert hostile.hits["/f"] == 2
    assert [u for u, _, _ in poll.articles("hostile")] == [page]


# --------------------------------------------------------------------------- faults on an article page


def _slow_html() -> bytes:
    """A real pathological page: trafilatura is superlinear in paragraphs with inline markup
    (10,000 of them, 0.6 MB: ~3.5 s; 20,000, 1.2 MB: ~14 s; the default cap allows 5 MB)."""
    para = b"<p>Some sentence with words <b>bold</b> and <i>it</i>.</p>\n"
    return (
        b"<html><head><title>slow</title></head><body><article>" + para * 10_000 + b"</article></body></html>"
    )


@dataclass(frozen=True)
class PageFault:
    id: str
    name: str
    install: Install  # routes the faulty page at the path given; returns its URL
    outcome: Outcome
    fragment: str | tuple[str, ...]  # (one of them) must appear in the recorded error line
    kept: bool  # the article is kept with what the feed gave (a permanent failure, or extraction failed)


Install = Callable[[HostileServer, int, str], str]


def _page(handler: Any) -> Install:
    return lambda srv, _port, path: srv.route(path, handler, host="bad.test")


def _page_loop(srv: HostileServer, _port: int, path: str) -> str:
    srv.route(path + "-b", redirect(path))
    return srv.route(path, redirect(path + "-b"), host="bad.test")


def _page_refused(srv: HostileServer, port: int, path: str) -> str:
    return f"http://refused.test:{port}{path}"


def _page_tarpit(srv: HostileServer, port: int, path: str) -> str:
    return f"http://tarpit.bad.test:{srv.port}{path}"


def _robots(srv: HostileServer, _port: int, path: str) -> str:
    srv.route("/robots.txt", respond(200, b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    return srv.route("/private" + path, respond(200, article_html("Hidden", 5).encode()), host="bad.test")


_BIG_PAGE = b"<html><body><p>" + b"word " * 2_000_000 + b"</p></body></html>"
# shared by every page fault: a 12 MB cap (for the 10 MB line), 2 s of extraction per page
_PAGE_CONFIG: dict[str, Any] = {"fetch": {"max_bytes": 12_000_000}, "extract": {"page_timeout": 2}}

PAGE_FAULTS = [
    PageFault("500", "HTTP 500", _page(respond(500)), Outcome.HTTP_ERROR, "HTTP 500", kept=False),
    PageFault("502", "HTTP 502", _page(respond(502)), Outcome.HTTP_ERROR, "HTTP 502", kept=False),
    PageFault("503", "HTTP 503", _page(respond(503)), Outcome.HTTP_ERROR, "HTTP 503", kept=False),
    PageFault("404", "HTTP 404", _page(respond(404)), Outcome.HTTP_ERROR, "HTTP 404", kept=True),
    PageFault("410", "HTTP 410", _page(respond(410)), Outcome.HTTP_ERROR, "HTTP 410", kept=True),
    PageFault(
        "429",
        "HTTP 429, Retry-After 0.2 s, never relents",
        _page(_NEVER_RELENTS),
        Outcome.RATE_LIMITED,
        "HTTP 429",
        kept=False,
    ),
    PageFault(
        "refused", "connection refused", _page_refused, Outcome.CONNECT_ERROR, "cannot connect", kept=False
    ),
    PageFault(
        "dns-tarpit",
        "DNS lookup that never answers",
        _page_tarpit,
        Outcome.TIMEOUT,
        "DNS lookup of tarpit.bad.test took longer than 1s",
        kept=False,
    ),
    PageFault(
        "reset",
        "connection reset mid-body",
        _page(reset_mid_body(sent=b"<html><body><p>")),
        Outcome.CONNECT_ERROR,
        "connection lost",
        kept=False,
    ),
    PageFault(
        "silent", "accepts, never answers", _page(silent()), Outcome.TIMEOUT, "read timeout", kept=False
    ),
    PageFault(
        "drip",
        "drips the body, a byte each 0.25 s",
        _page(drip(0.25)),
        Outcome.TIMEOUT,
        "total deadline",
        kept=False,
    ),
    PageFault(
        "cap",
        "body over the size cap (13 MB)",
        _page(respond(200, b"<p>" * 4_400_000)),
        Outcome.TOO_LARGE,
        "over the 12000000-byte cap",
        kept=True,
    ),
    PageFault(
        "gzip-bomb",
        "gzip bomb (100 KB → 100 MB)",
        _page(respond(200, gzip_bomb(), "text/html", [("Content-Encoding", "gzip")])),
        Outcome.TOO_LARGE,
        "(decoded)",
        kept=True,
    ),
    PageFault("loop", "redirect loop", _page_loop, Outcome.REDIRECT_ERROR, "redirect loop", kept=True),
    PageFault(
        "file",
        "redirect to file:///etc/passwd",
        _page(redirect("file:///etc/passwd")),
        Outcome.REDIRECT_ERROR,
        "(file:)",
        kept=True,
    ),
    PageFault(
        "robots",
        "robots.txt disallows the page",
        _robots,
        Outcome.ROBOTS,
        "disallowed by robots.txt",
        kept=True,
    ),
    PageFault(
        "junk",
        "binary junk served as text/html",
        _page(respond(200, _JUNK)),
        Outcome.PARSE_ERROR,
        "not HTML: binary content",
        kept=True,
    ),
    PageFault("empty", "empty body", _page(respond(200, b"")), Outcome.PARSE_ERROR, "empty page", kept=True),
    PageFault(
        "no-text",
        "a page with no article text (only navigation)",
        _page(
            respond(
                200,
                b"<html><head><title>Menu</title></head><body><nav></nav>"
                b"<script>var x;</script></body></html>",
            )
        ),
        Outcome.PARSE_ERROR,
        "no article text found",
        kept=True,
    ),
    PageFault(
        "10mb-line",
        "a single 10 MB line (cap raised to 12 MB)",
        _page(respond(200, _BIG_PAGE)),
        Outcome.PARSE_ERROR,
        ("no article text found", "extraction timed out after 2s"),
        kept=True,
    ),
    PageFault(
        "runaway",
        "extraction runs away (real pathological HTML, 0.6 MB)",
        _page(respond(200, _slow_html())),
        Outcome.PARSE_ERROR,
        "extraction timed out after 2s",
        kept=True,
    ),
    PageFault(
        "hang",
        "extraction hangs forever (scripted)",
        _page(respond(200, b"<p>HANG-FOREVER</p>")),
        Outcome.PARSE_ERROR,
        "extraction timed out after 2s",
        kept=True,
    ),
    PageFault(
        "worker-killed",
        "extraction worker killed (SIGKILL, scripted)",
        _page(respond(200, b"<p>KILL-MY-WORKER</p>")),
        Outcome.PARSE_ERROR,
        "extraction worker died (signal SIGKILL)",
        kept=True,
    ),
]


_FINE = "/news/a-fine-article-on-the-same-feed.html"


@pytest.fixture(scope="module")
def page_faults(healthy: Healthy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One poll: the healthy source beside one feed that lists a fine page and every faulty page."""
    with HostileServer() as srv:
        port = _closed_port()
        urls = {c.id: c.install(srv, port, f"/news/{c.id}-the-faulty-article-page.html") for c in PAGE_FAULTS}
        urls["fine"] = srv.route(_FINE, respond(200, article_html("Fine", 11).encode()), host="bad.test")
        items = [Item(link=urls["fine"], title="Fine", published=hours_ago(1))]
        items += [
            Item(
                link=urls[c.id], title=f"Faulty page {c.id}", description=_summary(i), published=hours_ago(2)
            )
            for i, c in enumerate(PAGE_FAULTS)
        ]
        feed = srv.route("/feed.xml", respond(200, rss(items).encode(), RSS), host="bad.test")
        config = make_config(
            [healthy.source, {"name": "hostile", "kind": "feed", "url": feed}], **_PAGE_CONFIG
        )
        db = tmp_path_factory.mktemp("page-faults") / "news.duckdb"
        poll = poll_with_watchdog(
            lambda: run_poll(config, db, extract_fn=scripted_extract, resolve=matrix_dns)
        )
        yield Shared(poll, urls)


def _summary(i: int) -> str:
    return " ".join(prose(1000 + i, 4))


@pytest.mark.parametrize("case", PAGE_FAULTS, ids=lambda c: c.id)
def test_page_fault(case: PageFault, page_faults: Shared, healthy: Healthy, fault: FaultFactory) -> None:
    rec = fault(case.name, "page", str(case.outcome))
    poll, faulty = page_faults.poll, page_faults.urls[case.id]
    rows = [(o, e) for u, o, e in poll.page_fetches("hostile") if u == faulty]
    assert len(rows) == 1, poll.page_fetches("hostile")
    outcome, error = rows[0]
    rec.saw(outcome, error)
    assert outcome == case.outcome
    fragments = (case.fragment,) if isinstance(case.fragment, str) else case.fragment
    assert error is not None and any(f in error for f in fragments) and faulty[:40] in error, error
    stored = {
        u: (t, x, text)
        for u, t, x, text in poll.rows(
            f"SELECT url, title, extraction, text FROM articles WHERE url = '{faulty}'"
        )
    }
    if case.kept:  # kept with what the feed gave
        assert stored == {faulty: (f"Faulty page {case.id}", "feed_only", _summary(PAGE_FAULTS.index(case)))}
    else:  # not stored: tried again next poll
        assert stored == {}
    assert_healthy_landed(poll, healthy)
    assert_store_consistent(poll.db)


def test_the_feed_with_faulty_pages_still_lands_its_fine_page(page_faults: Shared) -> None:
    poll = page_faults.poll
    outcome, status, error = poll.source_fetch("hostile")
    assert (outcome, status, error) == ("ok", 200, None)  # the feed itself was fine
    assert poll.rows(f"SELECT title, extraction FROM articles WHERE url = '{page_faults.urls['fine']}'") == [
        ("Fine", "ok")
    ]
    failed = sum(1 for c in PAGE_FAULTS if c.outcome is not Outcome.PARSE_ERROR)
    assert poll.rows(
        "SELECT failed_pages, new_articles FROM fetches WHERE kind = 'source' AND source = 'hostile'"
    ) == [(failed, 1 + sum(c.kept for c in PAGE_FAULTS))]


# --------------------------------------------------------------------------- odd feed content


def _serve_feed(hostile: HostileServer, body: bytes, content_type: str = RSS) -> str:
    return hostile.route("/feed.xml", respond(200, body, content_type), host="bad.test")


def _article(hostile: HostileServer, slug: str, seed: int, **kw: Any) -> str:
    return hostile.route(
        f"/news/{slug}.html", respond(200, article_html(slug, seed, **kw).encode()), host="bad.test"
    )


def test_feed_with_a_wrong_charset(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("feed declares UTF-8, bytes are Latin-1", "feed", "ok + warning")
    link = _article(hostile, "charset-mixup-story-from-zurich", 21)
    body = rss([Item(link=link, title="Café été à Zürich", description="Résumé: déjà vu")]).encode("latin-1")
    poll = poll_beside_healthy(tmp_path, healthy, {"kind": "feed", "url": _serve_feed(hostile, body)})
    outcome, _, warning = poll.source_fetch("hostile")
    rec.saw(outcome, warning)
    assert outcome == "ok" and warning is not None and "encoding" in warning
    assert poll.rows("SELECT summary FROM articles WHERE source = 'hostile'") == [("Résumé: déjà vu",)]


def test_feed_without_any_charset(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("feed in Latin-1 with no charset anywhere", "feed", "ok")
    link = _article(hostile, "no-charset-story-from-zurich", 22)
    body = rss([Item(link=link, title="Café", description="Résumé: déjà vu")], encoding=None).encode(
        "latin-1"
    )
    poll = poll_beside_healthy(
        tmp_path, healthy, {"kind": "feed", "url": _serve_feed(hostile, body, "text/xml")}
    )
    outcome, _, warning = poll.source_fetch("hostile")
    rec.saw(outcome, warning or "decoded as windows-1252: 'Résumé: déjà vu' intact")
    assert outcome == "ok"
    assert poll.rows("SELECT summary FROM articles WHERE source = 'hostile'") == [("Résumé: déjà vu",)]


def test_page_with_a_wrong_charset(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("page declares UTF-8, bytes are windows-1252", "page", "ok")
    html = article_html("Les modèles de Microsoft à l’été", 23).replace(
        "</h1>", "</h1><p>Déjà vu: café, été, garçon, naïve.</p>"
    )
    link = hostile.route(
        "/news/mislabelled-page-in-french-here.html", respond(200, html.encode("cp1252")), host="bad.test"
    )
    body = rss([Item(link=link, title="Les modèles")]).encode()
    poll = poll_beside_healthy(tmp_path, healthy, {"kind": "feed", "url": _serve_feed(hostile, body)})
    ((text, title),) = poll.rows("SELECT text, title FROM articles WHERE source = 'hostile'")
    rec.saw("ok", f"title {title!r}")
    assert "Déjà vu: café, été, garçon, naïve." in text and "\ufffd" not in text
    assert title == "Les modèles de Microsoft à l’été"


def test_feed_with_a_single_10mb_line_under_a_raised_cap(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("a single 10 MB line (cap raised to 12 MB)", "feed", "ok")
    link = _article(hostile, "the-story-with-a-huge-summary-line", 24)
    body = rss([Item(link=link, title="Huge", description="word " * 2_000_000)]).encode()
    assert len(body) > 10_000_000 and body.count(b"\n") <= 2
    poll = poll_beside_healthy(
        tmp_path,
        healthy,
        {"kind": "feed", "url": _serve_feed(hostile, body)},
        fetch={"max_bytes": 12_000_000},
    )
    outcome, _, warning = poll.source_fetch("hostile")
    rec.saw(outcome, warning or "parsed; 1 entry, its page extracted")
    assert outcome == "ok"
    assert [(u, x) for u, _, x in poll.articles("hostile")] == [(link, "ok")]


def test_feed_with_10000_items(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("a feed with 10,000 items (max_articles 20)", "feed", "ok + warning")
    page = respond(200, article_html("One of many", 25).encode())
    paths = [f"/many/story-number-{i}-of-the-flood.html" for i in range(10_000)]
    for p in paths[:40]:
        hostile.route(p, page)
    items = [
        Item(link=f"http://bad.test:{hostile.port}{p}", title=f"Item {i}", published=None)
        for i, p in enumerate(paths)
    ]
    url = _serve_feed(hostile, rss(items).encode())
    poll = poll_beside_healthy(
        tmp_path, healthy, {"kind": "feed", "url": url, "max_articles": 20}, fetch={"max_bytes": 2_000_000}
    )
    outcome, _, warning = poll.source_fetch("hostile")
    rec.saw(outcome, f"{warning}; 20 pages fetched (max_articles)")
    assert outcome == "ok" and warning == "feed has 10000 entries; kept the first 2000"
    assert poll.rows("SELECT entries, new_articles FROM fetches WHERE source = 'hostile'") == [(2000, 20)]
    assert len(poll.articles("hostile")) == 20
    assert sum(hostile.hits[p] for p in paths) == 20  # only the pages it stores are fetched


def test_entries_without_links_titles_or_dates(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("entries without links, titles or dates", "feed", "ok + warning")
    no_title = _article(hostile, "an-entry-without-a-title-in-the-feed", 26)
    no_date = _article(hostile, "an-entry-without-a-date-in-the-feed", 27)
    items = [
        Item(link=no_title, title=None),
        Item(link=no_date, title="No date", published=None),
        Item(link=None, title="No link, only a summary", description="Some text without a link."),
        Item(link=None, title=None, published=None),  # nothing at all
        Item(link=None, title="No link", guid="not-a-url-guid-42", description="A guid that is not a URL."),
    ]
    poll = poll_beside_healthy(
        tmp_path, healthy, {"kind": "feed", "url": _serve_feed(hostile, rss(items).encode())}
    )
    outcome, _, warning = poll.source_fetch("hostile")
    rec.saw(outcome, warning)
    assert outcome == "ok" and warning is not None
    assert "dropped 1 entries without a link or content" in warning
    # the two with text but no link (nor a URL GUID) cannot be stored: said, not silently skipped
    assert "skipped 2 entries without an http(s) link or URL GUID" in warning
    stored = poll.rows("SELECT url, title, published_at FROM articles WHERE source = 'hostile' ORDER BY url")
    assert [(u, t) for u, t, _ in stored] == [
        (no_date, "an-entry-without-a-date-in-the-feed"),
        (no_title, "an-entry-without-a-title-in-the-feed"),
    ]
    assert {u: p for u, _, p in stored}[no_date] is None


def test_duplicate_guids_and_links(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("duplicate GUIDs and duplicate links", "feed", "ok")
    a = _article(hostile, "first-story-that-owns-the-guid", 28)
    b = _article(hostile, "second-story-reusing-the-same-guid", 29)
    c = _article(hostile, "third-story-listed-twice-by-link", 30)
    items = [
        Item(link=a, title="A", guid="same-guid"),
        Item(link=b, title="B", guid="same-guid"),
        Item(link=c, title="C", guid="c-1"),
        Item(link=c, title="C again", guid="c-2"),
        Item(link=c + "?utm_source=rss", title="C tracked", guid="c-3"),
    ]
    url = _serve_feed(hostile, rss(items).encode())
    poll = poll_beside_healthy(tmp_path, healthy, {"kind": "feed", "url": url})
    outcome, _, warning = poll.source_fetch("hostile")
    assert warning is None, warning
    rec.saw(
        outcome,
        "5 items → 2 articles; the repeated GUID and the repeated link are skipped, page fetched once",
    )
    assert outcome == "ok"
    assert [u for u, _, _ in poll.articles("hostile")] == [a, c]
    assert hostile.hits["/news/third-story-listed-twice-by-link.html"] == 1


def test_dates_in_the_future_and_in_1970(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("dates in the future (2099) and in 1970", "feed", "ok, dates dropped")
    future = _article(hostile, "a-story-dated-far-in-the-future", 31)
    epoch = _article(hostile, "a-story-dated-on-the-unix-epoch", 32)
    sane = _article(hostile, "a-story-with-a-sane-date-on-it", 33)
    items = [
        Item(link=future, title="F", published="Fri, 01 Jan 2099 00:00:00 GMT"),
        Item(link=epoch, title="E", published="Thu, 01 Jan 1970 00:00:00 GMT"),
        Item(link=sane, title="S", published="Sat, 21 Nov 2026 08:00:00 GMT"),
        Item(link=sane + "?x=garbage-date", title="G", published="the day after tomorrow"),
    ]
    poll = poll_beside_healthy(
        tmp_path, healthy, {"kind": "feed", "url": _serve_feed(hostile, rss(items).encode())}
    )
    outcome, _, warning = poll.source_fetch("hostile")
    assert warning is None, warning
    rec.saw(outcome, "published_at left empty for 2099, 1970 and an unreadable date; a sane date kept")
    dates = dict(
        poll.rows(
            "SELECT url, strftime(published_at, '%Y-%m-%d %H:%M') FROM articles WHERE source = 'hostile'"
        )
    )
    assert dates[future] is None and dates[epoch] is None
    assert dates[sane] == "2026-11-21 08:00"


def test_relative_javascript_and_data_links(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("relative, javascript:, data: and file: links in a feed", "feed", "ok")
    relative = _article(hostile, "a-story-linked-with-a-relative-url", 34)
    items = [
        Item(link="/news/a-story-linked-with-a-relative-url.html", title="Relative"),
        Item(link="javascript:alert(document.cookie)", title="JS", description="evil"),
        Item(link="data:text/html,<script>alert(1)</script>", title="Data", description="evil"),
        Item(link="file:///etc/passwd", title="File", description="evil"),
        Item(link="  JaVaScRiPt:alert(1)", title="JS2", description="evil"),
    ]
    poll = poll_beside_healthy(
        tmp_path, healthy, {"kind": "feed", "url": _serve_feed(hostile, rss(items).encode())}
    )
    outcome, _, warning = poll.source_fetch("hostile")
    assert warning == "skipped 4 entries without an http(s) link or URL GUID", warning
    rec.saw(
        outcome, "the relative link resolved and stored; javascript:, data:, file: never fetched nor stored"
    )
    assert outcome == "ok"
    assert [u for u, _, _ in poll.articles("hostile")] == [relative]
    urls = poll.rows(
        "SELECT url FROM fetches UNION ALL SELECT url FROM articles UNION ALL SELECT url "
        "FROM article_sightings"
    )
    assert not [u for (u,) in urls if u and not u.startswith(("http://", "https://"))]


def test_listing_page_with_hostile_links(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("listing page with relative, javascript:, data: and off-site links", "page", "ok")
    good = _article(hostile, "a-real-article-on-the-listing-page", 35)
    listing = (
        b"<html><body><h1>News</h1>"
        b'<a href="/news/a-real-article-on-the-listing-page.html">A real article on the listing page</a>'
        b'<a href="javascript:void(0)">Another story</a><a href="  javascript:alert(1)">More</a>'
        b'<a href="data:text/html;base64,PHNjcmlwdD4=">Data</a><a href="file:///etc/passwd">File</a>'
        b'<a href="vbscript:msgbox(1)">VB</a><a href="http://[::1]:80/news/2024/01/01/x">v6</a>'
        b"</body></html>"
    )
    url = hostile.route("/", respond(200, listing), host="bad.test")
    poll = poll_beside_healthy(tmp_path, healthy, {"kind": "page", "url": url})
    outcome, _, warning = poll.source_fetch("hostile")
    assert warning is None, warning
    rec.saw(outcome, "1 article (the relative link); javascript:, data:, file:, vbscript:, off-site dropped")
    assert outcome == "ok"
    assert [u for u, _, _ in poll.articles("hostile")] == [good]
    assert poll.page_fetches("hostile") == []


def test_a_page_that_failed_for_a_while_is_fetched_on_the_next_poll(
    healthy: Healthy, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    """Nothing lost: a page that timed out is not stored, and the next poll of the same, unchanged feed
    (same body, same ETag) tries it again instead of skipping the feed as not modified."""
    rec = fault("article page times out, then recovers (next poll)", "page", "timeout, then ok")
    path = "/news/a-page-that-times-out-once.html"
    flaky = hostile.route(
        path, sequence(silent(), respond(200, article_html("Later", 36).encode())), host="bad.test"
    )
    body = rss([Item(link=flaky, title="Later")]).encode()
    url = hostile.route("/feed.xml", respond(200, body, RSS, [("ETag", '"v1"')]), host="bad.test")
    first = poll_beside_healthy(tmp_path, healthy, {"kind": "feed", "url": url})
    assert [o for _, o, _ in first.page_fetches("hostile")] == ["timeout"]
    assert first.articles("hostile") == []
    second = poll_beside_healthy(tmp_path, healthy, {"kind": "feed", "url": url})
    outcome, _, _ = second.source_fetch("hostile")
    rec.saw(
        first.page_fetches("hostile")[0][1],
        f"not stored; next poll re-reads the unchanged feed: {outcome}, stored",
    )
    assert outcome == "ok"
    assert [(u, x) for u, _, x in second.articles("hostile")] == [(flaky, "ok")]
