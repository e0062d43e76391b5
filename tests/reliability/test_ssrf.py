"""Network safety through the pipeline: links that feeds and pages hand us may not reach private networks.

A trusted local source (configured, so allowed on 127.0.0.1) lists links to loopback, RFC 1918, link-local
(cloud metadata), IPv6 loopback, decimal-encoded loopback, and host names whose DNS answers are private (or
mixed). Each is refused before any connection, recorded as a page-level `fetches` row with outcome
'blocked', and never stored; with `allow_private_networks: true` the same loopback links are fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newswatch.fetch import resolve_host
from tests.helpers import ROOT
from tests.reliability.harness import Poll, assert_store_consistent, make_config, run_poll
from tests.reliability.hostile import HostileServer, Item, article_html, redirect, respond, rss
from tests.reliability.reporting import FaultFactory

RSS = "application/rss+xml"

# what our test "DNS" answers; anything else goes to the system resolver (numeric hosts only, here)
DNS = {
    "rebind.example": ["127.0.0.1"],
    "internal.example": ["10.20.30.40"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],  # one public answer does not make it safe
    "v6.example": ["::1"],
    "mapped.example": ["::ffff:127.0.0.1"],
}


def test_dns(host: str, port: int) -> list[str]:
    """A resolver for these tests: the DNS table above, else the system resolver (numeric hosts only)."""
    if host in DNS:
        return DNS[host]
    return resolve_host(host, port)


test_dns.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def _blocked_links(port: int) -> dict[str, str]:
    """What each link stands for -> the link."""
    return {
        "loopback 127.0.0.1": f"http://127.0.0.1:{port}/news/loopback-article-from-a-feed.html",
        "loopback 127.8.9.10": f"http://127.8.9.10:{port}/news/another-loopback-article-here.html",
        "private 10.x": "http://10.1.2.3/news/private-network-article-here.html",
        "private 192.168.x": "http://192.168.0.1/news/router-admin-page-article.html",
        "link-local 169.254.169.254 (cloud metadata)": "http://169.254.169.254/latest/meta-data/iam/security",
        "IPv6 loopback [::1]": f"http://[::1]:{port}/news/ipv6-loopback-article-here.html",
        "decimal-encoded loopback (2130706433)": f"http://2130706433:{port}/news/decimal-loopback-article.html",
        "unspecified 0.0.0.0": f"http://0.0.0.0:{port}/news/unspecified-address-article.html",
        "host name resolving to 127.0.0.1": f"http://rebind.example:{port}/news/dns-rebinding-article.html",
        "host name resolving to 10.20.30.40": "http://internal.example/news/internal-wiki-article-page.html",
        "host name resolving to 169.254.169.254": "http://metadata.example/latest/meta-data/",
        "host name with a public and a private answer": f"http://mixed.example:{port}/news/mixed-dns-article.html",
        "host name resolving to ::1": f"http://v6.example:{port}/news/v6-dns-article-here.html",
        "host name resolving to ::ffff:127.0.0.1": f"http://mapped.example:{port}/news/mapped-dns-article.html",
    }


def _poll(tmp_path: Path, sources: list[dict[str, Any]], *, allow: bool, name: str = "news.duckdb") -> Poll:
    seeds = {"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")}
    config = make_config([seeds, *sources], allow_private_networks=allow)
    poll = run_poll(config, tmp_path / name, resolve=test_dns)
    assert (
        poll.source_fetch("seeds")[0] == "ok" and len(poll.articles("seeds")) == 2
    )  # the other source lands
    assert_store_consistent(poll.db)
    return poll


@pytest.mark.parametrize("kind", ["feed", "page"])
def test_discovered_links_to_private_addresses_are_blocked_and_recorded(
    kind: str, hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    links = _blocked_links(hostile.port)
    for url in links.values():  # were any of them fetched, they would answer (the loopback ones)
        hostile.route(url.split(str(hostile.port), 1)[-1], respond(200, article_html("secret", 1).encode()))
    if kind == "feed":
        body = rss(
            [Item(link=u, title=what, description=f"summary {what}") for what, u in links.items()]
        ).encode()
        source = hostile.route("/feed.xml", respond(200, body, RSS))
    else:
        anchors = "".join(f'<a href="{u}">{what}</a>' for what, u in links.items())
        body = f"<html><body><h1>News</h1>{anchors}</body></html>".encode()
        source = hostile.route("/", respond(200, body))
    poll = _poll(
        tmp_path,
        [
            {
                "name": "trusted",
                "kind": kind,
                "url": source,
                **({"link_pattern": r"/news/|/latest/"} if kind == "page" else {}),
            }
        ],
        allow=False,
    )

    assert poll.source_fetch("trusted")[0] == "ok"  # the configured source itself is trusted
    rows = {url: (outcome, error) for url, outcome, error in poll.page_fetches("trusted")}
    for what, url in links.items():
        outcome, error = rows.get(url, ("(no row)", None))
        if kind == "feed":
            fault(f"feed links to {what}", "page", "blocked").saw(outcome, error)
        assert outcome == "blocked", (what, url, outcome, error)
        assert error is not None and "non-public address" in error and "allow_private_networks" in error
    if kind == "page":
        fault(f"listing page links to {len(links)} kinds of private address", "page", "blocked").saw(
            "blocked", f"all {len(links)} links, one page-level row each"
        )
    assert set(rows) == set(links.values())
    assert poll.articles("trusted") == []
    assert sum(hostile.hits.values()) == 1  # the feed/page itself; not one discovered link was requested


def test_only_http_and_https_links_are_ever_fetched(
    hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault(
        "feed links to file:, ftp:, gopher:, data:, javascript:, mailto:, ws:", "page", "never fetched"
    )
    odd = [
        "file:///etc/passwd",
        f"ftp://127.0.0.1:{hostile.port}/pub",
        f"gopher://127.0.0.1:{hostile.port}/1",
        "data:text/html,hello",
        "javascript:alert(1)",
        "mailto:a@b.example",
        f"ws://127.0.0.1:{hostile.port}/x",
    ]
    body = rss([Item(link=u, title=f"odd {i}", description="odd") for i, u in enumerate(odd)]).encode()
    source = hostile.route("/feed.xml", respond(200, body, RSS))
    poll = _poll(tmp_path, [{"name": "trusted", "kind": "feed", "url": source}], allow=True)
    rec.saw(poll.source_fetch("trusted")[0], f"{len(poll.page_fetches('trusted'))} page fetches")
    assert poll.page_fetches("trusted") == [] and poll.articles("trusted") == []
    assert dict(hostile.hits) == {"/feed.xml": 1}


def test_a_trusted_source_redirecting_to_a_private_host_is_blocked(
    hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    """Trust covers the configured host only: a redirect to another host is checked like any link."""
    rec = fault("configured feed redirects to a host resolving to 127.0.0.1", "feed", "blocked")
    target = hostile.route("/real-feed.xml", respond(200, rss([]).encode(), RSS))
    source = hostile.route("/feed.xml", redirect(target.replace("127.0.0.1", "rebind.example")))
    poll = _poll(tmp_path, [{"name": "trusted", "kind": "feed", "url": source}], allow=False)
    outcome, _, error = poll.source_fetch("trusted")
    rec.saw(outcome, error)
    assert outcome == "blocked" and error is not None and "rebind.example resolves to non-public" in error
    assert hostile.hits["/real-feed.xml"] == 0


def test_allow_private_networks_lets_the_same_links_through(
    hostile: HostileServer, tmp_path: Path, fault: FaultFactory
) -> None:
    rec = fault("loopback links with allow_private_networks: true", "page", "ok")
    port = hostile.port
    links = [
        f"http://127.0.0.1:{port}/news/loopback-article-from-a-feed.html",
        f"http://rebind.example:{port}/news/dns-rebinding-article.html",
    ]
    for i, url in enumerate(links):
        hostile.route(
            url.split(str(port), 1)[-1], respond(200, article_html(f"Allowed {i}", 40 + i).encode())
        )
    body = rss([Item(link=u, title=f"a{i}") for i, u in enumerate(links)]).encode()
    source = hostile.route("/feed.xml", respond(200, body, RSS))
    poll = _poll(tmp_path, [{"name": "trusted", "kind": "feed", "url": source}], allow=True)
    rec.saw(poll.source_fetch("trusted")[0], f"{len(poll.articles('trusted'))} articles")
    assert poll.page_fetches("trusted") == []
    assert sorted(u for u, _, _ in poll.articles("trusted")) == sorted(links)
