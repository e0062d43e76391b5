"""Property tests over the parts that eat untrusted input: feed parsing, URL canonicalisation, link
discovery, the extraction wrapper, the URL policy, config validation. Thousands of generated inputs, no
unhandled exception, and invariants that must hold for every one of them.

Derandomized (the same inputs every run, so `make check` is stable); NEWSWATCH_FUZZ_RANDOM=1 draws new
ones and NEWSWATCH_FUZZ_SCALE=10 runs ten times as many. tests/unit/test_urls.py already checks that
canonicalising twice changes nothing on its own URL grammar; here it is hypothesis' RFC 3986 URLs with
noise, and what canonical URLs look like.
"""

from __future__ import annotations

import gzip
import os
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls as rfc_urls

from newswatch.config import ConfigError, parse_config
from newswatch.extract import decode_html, extract_article
from newswatch.feeds import MAX_ENTRIES, html_to_text, parse_feed
from newswatch.fetch import check_url_allowed, is_public_address, parse_retry_after
from newswatch.model import Extracted
from newswatch.pages import MAX_LINKS, TITLE_MAX_CHARS, parse_listing_page
from newswatch.urls import article_id, canonicalize_url, choose_canonical
from tests.reliability.reporting import count_example

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
SCALE = float(os.environ.get("NEWSWATCH_FUZZ_SCALE", "1"))
T = TypeVar("T", bound=Callable[..., Any])


def fuzz(examples: int) -> Callable[[T], T]:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=os.environ.get("NEWSWATCH_FUZZ_RANDOM") != "1",
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def is_http_absolute(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(ch <= " " for ch in url)


def one_line(text: str | None, limit: int = 400) -> bool:
    return text is None or ("\n" not in text and "\r" not in text and len(text) <= limit)


# --------------------------------------------------------------------------- strategies

SCHEMES = [
    "http",
    "https",
    "HTTP",
    "HtTpS",
    "javascript",
    "JaVaScRiPt",
    "java\tscript",
    "data",
    "vbscript",
    "file",
    "ftp",
    "mailto",
    "gopher",
    "ws",
    "about",
    "chrome",
    "x-evil",
    "",
]
HOSTS = [
    "example.com",
    "www.Example.org",
    "news.example.co.uk",
    "127.0.0.1",
    "[::1]",
    "10.0.0.1",
    "169.254.169.254",
    "xn--mnchen-3ya.de",
    "münchen.de",
    "a",
    "",
    "user:pw@example.com",
    "example.com:8080",
    "example.com:99999",
    "exa mple.com",
    "%65xample.com",
]
PATH_BITS = st.sampled_from(
    [
        "news",
        "2024",
        "11",
        "05",
        "ai-deal-between-two-big-companies",
        "..",
        ".",
        "",
        "%2e%2e",
        "a b",
        "amp",
        "index.html",
        "?x=1",
        "#frag",
        "\\",
        "\x00",
        "日本語",
        "tag",
        "feed",
        "page",
        "1234567",
    ]
)


@st.composite
def hrefs(draw: st.DrawFn) -> str:
    """Links as hostile pages write them: any scheme, relative, protocol-relative, padded, encoded."""
    kind = draw(st.integers(0, 4))
    path = "/".join(draw(st.lists(PATH_BITS, max_size=5)))
    if kind == 0:
        return draw(st.sampled_from(["", " ", "/", "#", "?", "//", "///x", "\\\\host\\share"])) + path
    if kind == 1:
        return path if draw(st.booleans()) else "/" + path
    if kind == 2:
        return f"//{draw(st.sampled_from(HOSTS))}/{path}"
    if kind == 3:
        return draw(st.text(max_size=40))
    pad = draw(st.sampled_from(["", " ", "\t", "\n", "\x00", "\u200b"]))
    return (
        f"{pad}{draw(st.sampled_from(SCHEMES))}:{draw(st.sampled_from(['//', '', '///']))}"
        f"{draw(st.sampled_from(HOSTS))}/{path}{pad}"
    )


TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
DATES = st.one_of(
    st.sampled_from(
        [
            "",
            "yesterday",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sat, 21 Nov 2026 08:00:00 +0000",
            "2026-11-21T08:00:00Z",
            "2026-02-30T25:61:61Z",
            "Mon, 32 Foo 2024 99:99:99 XYZ",
            "0",
            "-1",
            "1e308",
        ]
    ),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000") if d.year >= 1000 else str(d)
    ),
)


def _xml_text(value: str, mode: int) -> str:
    if mode == 0:
        return escape(value)
    if mode == 1:
        return "<![CDATA[" + value.replace("]]>", "") + "]]>"
    return value  # raw: may break the XML, on purpose


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    """RSS 2.0 or Atom with hostile fields, sometimes broken, sometimes in another encoding."""
    atom = draw(st.booleans())
    items = []
    for _ in range(draw(st.integers(0, 8))):
        mode = draw(st.integers(0, 2))
        link, title, body = draw(hrefs()), draw(TEXT), draw(TEXT)
        guid, date = draw(st.one_of(st.none(), hrefs(), TEXT)), draw(DATES)
        if atom:
            items.append(
                f"<entry><title>{_xml_text(title, mode)}</title><link href={quoteattr(link)}/>"
                f"<id>{_xml_text(guid or '', mode)}</id><updated>{escape(date)}</updated>"
                f'<content type="html">{_xml_text(body, mode)}</content></entry>'
            )
        else:
            items.append(
                f"<item><title>{_xml_text(title, mode)}</title><link>{_xml_text(link, mode)}</link>"
                + (f"<guid>{_xml_text(guid, mode)}</guid>" if guid is not None else "")
                + f"<pubDate>{escape(date)}</pubDate>"
                + f"<description>{_xml_text(body, mode)}</description></item>"
            )
    if atom:
        doc = '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>' + "".join(items) + "</feed>"
    else:
        doc = '<rss version="2.0"><channel><title>t</title><link>http://example.com/</link>' + "".join(items)
        doc += "</channel></rss>"
    encoding = draw(st.sampled_from(["utf-8", "iso-8859-1", "windows-1251", "utf-16", "bogus-charset"]))
    declared = draw(st.sampled_from([encoding, "utf-8", None]))
    if declared:
        doc = f'<?xml version="1.0" encoding="{declared}"?>\n' + doc
    data = doc.encode(encoding if encoding != "bogus-charset" else "utf-8", errors="replace")
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


def _corpus_feeds() -> list[bytes]:
    folder = CORPUS / "feeds"
    return [p.read_bytes() for p in sorted(folder.glob("*.xml"))] if folder.is_dir() else []


CORPUS_FEEDS = _corpus_feeds()


@st.composite
def mutated_corpus_feed(draw: st.DrawFn) -> bytes:
    """A real feed with bytes flipped, deleted or duplicated, and maybe truncated."""
    if not CORPUS_FEEDS:
        return draw(st.binary(max_size=200))
    data = bytearray(draw(st.sampled_from(CORPUS_FEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.integers(0, 2))
        if op == 0 and data:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i : i + draw(st.integers(1, 200))]
        else:
            data[i:i] = data[i : i + draw(st.integers(1, 200))]
    return bytes(data[: draw(st.integers(0, len(data)))]) if draw(st.booleans()) else bytes(data)


@st.composite
def listing_pages(draw: st.DrawFn) -> bytes:
    anchors = []
    for _ in range(draw(st.integers(0, 25))):
        href = draw(hrefs()).replace('"', "&quot;")
        inner = escape(draw(TEXT)) if draw(st.booleans()) else f'<img alt="{escape(draw(TEXT))}">'
        anchors.append(f'<div class="x"><a href="{href}">{inner}</a></div>')
    base = draw(st.one_of(st.none(), hrefs()))
    head = f'<base href="{base.replace(chr(34), "")}">' if base is not None else ""
    html = (
        f"<html><head>{head}<title>{escape(draw(TEXT))}</title></head><body>{''.join(anchors)}</body></html>"
    )
    if draw(st.booleans()):
        html = html[: draw(st.integers(0, len(html)))]
    return html.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16"])), errors="replace")


HTML_BITS = st.sampled_from(
    [
        "<html>",
        "</html>",
        "<body>",
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<article>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<table><tr><td>",
        "<h1>",
        "<br/>",
        "<meta charset='x'>",
        '<meta charset="utf-16">',
        "&#0;",
        "&#xD800;",
        "&amp;",
        "&nbsp;",
        "\x00",
        "\ufeff",
        "<?xml ?>",
        "<svg><foreignObject>",
        "<math>",
        "<a href='javascript:x'>",
        "<html lang='zz-ZZ'>",
        "<link rel=canonical href='javascript:alert(1)'>",
        "<meta property='article:published_time' content='99999'>",
        "Some article sentence with several words in it. ",
    ]
)


@st.composite
def html_pages(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.binary(max_size=2000))
    text = "".join(draw(st.lists(st.one_of(HTML_BITS, TEXT), max_size=60)))
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"])), errors="replace")


# --------------------------------------------------------------------------- feed parsing


def check_discovery_of_feed(body: bytes, base: str | None) -> None:
    d = parse_feed(body, base_url=base, content_type="application/rss+xml", now=NOW)
    assert (d.error is None) or d.entries == ()
    assert one_line(d.error) and one_line(d.warning)
    assert len(d.entries) <= MAX_ENTRIES
    keys: set[str] = set()
    for e in d.entries:
        assert e.url is None or is_http_absolute(e.url), e.url
        assert e.url or e.summary
        for when in (e.published_at, e.updated_at):
            assert when is None or (
                when.tzinfo is not None and when.year >= 1990 and when <= NOW + timedelta(days=2)
            )
        for key in (e.url and f"url:{e.url}", e.guid and f"guid:{e.guid}"):
            if key:
                assert key not in keys, key
                keys.add(key)
        assert e.lang is None or (len(e.lang) == 2 and e.lang.isalpha() and e.lang.islower())


@fuzz(350)
@given(feeds(), st.sampled_from([None, "http://feeds.example.com/rss", "javascript:alert(1)", "not a url"]))
def test_parse_feed_on_generated_feeds(body: bytes, base: str | None) -> None:
    count_example("parse_feed: generated RSS/Atom")
    check_discovery_of_feed(body, base)


@fuzz(150)
@given(mutated_corpus_feed())
def test_parse_feed_on_mutated_real_feeds(body: bytes) -> None:
    count_example("parse_feed: mutated corpus feeds")
    check_discovery_of_feed(body, "https://example.com/feed")


@fuzz(400)
@given(st.binary(max_size=3000))
def test_parse_feed_on_random_bytes(body: bytes) -> None:
    count_example("parse_feed: random bytes")
    check_discovery_of_feed(body, None)


@fuzz(600)
@given(TEXT)
def test_html_to_text_never_raises(fragment: str) -> None:
    count_example("html_to_text: random text")
    assert isinstance(html_to_text(fragment), str)


# --------------------------------------------------------------------------- URL canonicalisation


@fuzz(600)
@given(st.one_of(rfc_urls(), hrefs()), st.sampled_from(["", " ", "#x", "?utm_source=a&b=2", "/amp/"]))
def test_canonical_urls(url: str, noise: str) -> None:
    count_example("canonicalize_url: RFC 3986 URLs and hostile hrefs")
    raw = url + noise
    once = canonicalize_url(raw)
    assert canonicalize_url(once) == once
    assert article_id(raw) == article_id(once)
    clean_input = is_http_absolute(url) and not any(ch.isspace() or ch < " " for ch in url)
    if once.lower().startswith(("http://", "https://")) and clean_input:
        assert once == once.strip() and not any(ch in once for ch in "\n\r\t #")
        assert once.split(":", 1)[0] in ("http", "https")  # scheme lower-cased
    chosen = choose_canonical(raw, url, noise)
    assert canonicalize_url(chosen) == chosen


# --------------------------------------------------------------------------- link discovery


@fuzz(350)
@given(
    listing_pages(),
    st.sampled_from([None, "div.x", "a", "body > div"]),
    st.sampled_from([None, r"/news/", r"\d{4}", r"."]),
    st.sampled_from(["https://news.example.com/", "http://127.0.0.1:8080/section/", "https://münchen.de/"]),
)
def test_parse_listing_page_returns_only_http_links(
    body: bytes, selector: str | None, pattern: str | None, page_url: str
) -> None:
    count_example("parse_listing_page: generated pages")
    d = parse_listing_page(body, page_url, selector=selector, link_pattern=pattern)
    assert (d.error is None) or d.entries == ()
    assert one_line(d.error) and one_line(d.warning) and len(d.entries) <= MAX_LINKS
    urls = [e.url for e in d.entries]
    assert len(urls) == len(set(urls))
    for e in d.entries:
        assert e.url is not None and is_http_absolute(e.url), e.url
        assert "javascript" not in e.url.split(":", 1)[0].lower()
        assert e.title is None or len(e.title) <= TITLE_MAX_CHARS


# --------------------------------------------------------------------------- the extraction wrapper


@fuzz(300)
@given(
    html_pages(), st.sampled_from([None, "https://news.example.com/a/b.html", "javascript:alert(1)", "::"])
)
def test_extract_article_never_raises_and_returns_text_or_error(html: bytes, url: str | None) -> None:
    count_example("extract_article: generated HTML and bytes")
    result = extract_article(html, url)
    assert isinstance(result, Extracted)
    assert (result.text is None) != (result.error is None), result  # text, or an error: exactly one
    assert result.text is None or result.text.strip()
    assert one_line(result.error, 300)
    assert result.canonical_url is None or is_http_absolute(result.canonical_url)
    assert result.lang is None or (len(result.lang) == 2 and result.lang.isalpha())
    assert result.published_at is None or result.published_at.tzinfo is not None


@fuzz(800)
@given(st.one_of(st.binary(max_size=500), html_pages()))
def test_decode_html_never_raises(body: bytes) -> None:
    count_example("decode_html: bytes")
    assert isinstance(decode_html(body), str)


def test_extract_article_on_truncated_real_pages(corpus: Path) -> None:
    """Every benchmark page cut at 7 points (and gzipped bytes, as a server that forgot the header
    would send them): text or one error line, never an exception."""
    pages = sorted((corpus / "article-extraction-benchmark" / "html").glob("*.html.gz"))[:12]
    if not pages:
        pytest.skip("benchmark pages absent")
    for path in pages:
        raw = path.read_bytes()
        html = gzip.decompress(raw)
        for cut in (0, 1, 100, 1000, len(html) // 3, len(html) // 2, len(html) - 1):
            count_example("extract_article: truncated real pages")
            result = extract_article(html[:cut], "https://example.com/x")
            assert (result.text is None) != (result.error is None)
        count_example("extract_article: truncated real pages")
        assert extract_article(raw, None).text is None  # gzip bytes: an error value


# --------------------------------------------------------------------------- the URL policy and headers


def _fixed_dns(host: str, port: int) -> list[str]:
    if host.endswith(".internal"):
        return ["10.0.0.7"]
    if host.endswith(".bad"):
        raise OSError("no such host")
    return ["93.184.216.34"]


@fuzz(800)
@given(st.one_of(hrefs(), rfc_urls(), st.text(max_size=80)), st.booleans())
def test_check_url_allowed_passes_only_http(url: str, allow_private: bool) -> None:
    count_example("check_url_allowed: hrefs and text")
    reason = check_url_allowed(url, allow_private=allow_private, resolve=_fixed_dns)
    if reason is None:
        assert url.strip().split(":", 1)[0].lower() in ("http", "https")
    else:
        assert one_line(reason, 300)


@fuzz(600)
@given(st.one_of(st.ip_addresses().map(str), st.text(max_size=45)))
def test_is_public_address_never_raises(ip: str) -> None:
    count_example("is_public_address: addresses and text")
    assert isinstance(is_public_address(ip), bool)


@fuzz(400)
@given(st.one_of(st.none(), st.text(max_size=40), DATES))
def test_parse_retry_after_is_none_or_non_negative(value: str | None) -> None:
    count_example("parse_retry_after: header values")
    wait = parse_retry_after(value, now=NOW)
    assert wait is None or wait >= 0


# --------------------------------------------------------------------------- config validation

YAMLISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["name", "kind", "url", "path", "interval", "lang", "sources", "fetch", "digest", "smtp", "x"]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)
SOURCES = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.text(string.ascii_letters + "-_. ", max_size=8),
            "kind": st.sampled_from(["feed", "page", "x"]),
        },
        optional={
            "url": st.one_of(hrefs(), YAMLISH),
            "path": YAMLISH,
            "interval": st.one_of(DATES, YAMLISH),
            "lang": st.text(max_size=3),
            "selector": st.text(max_size=10),
            "max_articles": YAMLISH,
        },
    ),
    max_size=4,
)


@fuzz(400)
@given(st.one_of(YAMLISH, st.fixed_dictionaries({"sources": SOURCES}, optional={"fetch": YAMLISH})))
def test_parse_config_raises_only_config_errors(raw: Any) -> None:
    count_example("parse_config: YAML-like values")
    try:
        config = parse_config(raw, origin="fuzz.yaml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    for source in config.sources:
        assert source.url is None or source.url.lower().startswith(("http://", "https://"))
