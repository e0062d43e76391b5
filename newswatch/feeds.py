"""Feed discovery: RSS 0.9x/1.0/2.0 and Atom bytes in, a `Discovery` out (pure).

feedparser only ever receives an in-memory byte stream (`io.BytesIO`), never a string: given a
string, feedparser would try it as a URL or a file path. The feed's own URL travels as the
`Content-Location` response header, which feedparser uses only to resolve relative links.
"""

from __future__ import annotations

import html
import io
import re
import time
import xml.sax
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
from lxml import etree
from lxml import html as lxml_html

from newswatch.extract import absolute_http_url, normalize_lang
from newswatch.model import Discovery, Entry

MAX_ENTRIES = 2000
FUTURE_SLACK = timedelta(days=2)
MIN_YEAR = 1990
CONTENT_HTML_MIN_CHARS = 500  # content:encoded shorter than this (as text) is a teaser, not the article

# feedparser flags these although the feed parsed fine; they are not worth a warning.
_HARMLESS_BOZO = (feedparser.NonXMLContentType,)
_ENCODING_BOZO = (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)
_GOOGLE_HOSTS = {"google.com", "www.google.com"}
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "td",
        "th",
        "table",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "pre",
        "hr",
        "dd",
        "dt",
        "dl",
    }
)
_DROP_TAGS = ("script", "style", "noscript", "template")
_HTMLISH = re.compile(r"<[A-Za-z!/][^>]*>|&[#A-Za-z0-9]+;")
_LOOKS_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_LOOKS_FEED = re.compile(rb"<(?:[\w-]+:)?(?:rss|feed|rdf|channel)[\s>]", re.I)


def parse_feed(
    body: bytes,
    base_url: str | None = None,
    content_type: str | None = None,
    *,
    max_entries: int = MAX_ENTRIES,
    now: datetime | None = None,
) -> Discovery:
    """Entries of an RSS/Atom feed.

    `base_url` (the URL the feed was fetched from) resolves relative links; `content_type` (the HTTP
    header, with its charset) helps decoding. `now`, when given, turns dates more than two days in
    the future into None. A feed that parsed with trouble but still yielded entries carries a one-line
    `warning`; one that yielded nothing carries a one-line `error`.
    """
    if not body.strip():
        return Discovery(entries=(), error="empty body")
    try:
        parsed = _run_feedparser(_strip_leading_whitespace(body), base_url, content_type)
    except Exception as exc:  # feedparser's loose parser has crashed on broken feeds (int(None) in <height>)
        return Discovery(entries=(), error=_one_line(f"feed parser failed: {type(exc).__name__}: {exc}"))
    feed = parsed.get("feed", {})
    title = _plain(feed.get("title"), feed.get("title_detail"))
    problem = _bozo_problem(parsed)
    raw_entries = list(parsed.get("entries", []))
    if not raw_entries:
        return Discovery(entries=(), error=_no_entries_error(body, parsed, problem), title=title)

    base = absolute_http_url(base_url) if base_url else None
    base = base or absolute_http_url(str(feed.get("link") or ""))
    feed_lang = normalize_lang(feed.get("language"))
    notes: list[str] = [problem] if problem else []
    entries, dropped = _convert_entries(raw_entries, base, feed_lang, now)
    if not entries and problem:  # broken XML whose only "entries" are fragments: nothing was read
        return Discovery(entries=(), error=f"{problem}; no usable entry", title=title)
    if dropped:
        notes.append(f"dropped {dropped} entries without a link or content")
    if len(entries) > max_entries:
        notes.append(f"feed has {len(entries)} entries; kept the first {max_entries}")
        entries = entries[:max_entries]
    return Discovery(entries=tuple(entries), warning="; ".join(notes) or None, title=title)


def _run_feedparser(body: bytes, base_url: str | None, content_type: str | None) -> Any:
    headers: dict[str, str] = {}
    if base_url:
        headers["content-location"] = base_url
    if content_type and "charset=" in content_type.lower():
        # Only a header that names a charset is worth passing: a bare text/xml would make feedparser
        # assume us-ascii (RFC 3023) and flag every feed that declares its own encoding.
        headers["content-type"] = content_type
    # BytesIO: feedparser reads it and never opens a URL or a file.
    return feedparser.parse(io.BytesIO(body), response_headers=headers or None)


def _strip_leading_whitespace(body: bytes) -> bytes:
    """Blank lines before `<?xml ...?>` make strict XML parsers reject the whole feed."""
    bom = b"\xef\xbb\xbf" if body.startswith(b"\xef\xbb\xbf") else b""
    rest = body[len(bom) :].lstrip(b" \t\r\n")
    return bom + rest


def _bozo_problem(parsed: Mapping[str, Any]) -> str | None:
    """One line for a real parsing problem; None when the feed was clean (or the flag is harmless)."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None or isinstance(exc, _HARMLESS_BOZO):
        return None
    if isinstance(exc, _ENCODING_BOZO):
        return f"encoding: declared or missing charset was wrong; decoded as {parsed.get('encoding')}"
    if isinstance(exc, xml.sax.SAXParseException):
        return f"XML error at line {exc.getLineNumber()}: {exc.getMessage()}"
    return _one_line(f"{type(exc).__name__}: {exc}")


def _no_entries_error(body: bytes, parsed: Mapping[str, Any], problem: str | None) -> str | None:
    """Why nothing came out; None for a well-formed feed that simply has no items."""
    head = body[:4096]
    if not parsed.get("version") and _LOOKS_HTML.search(head) and not _LOOKS_FEED.search(head):
        return "not a feed: looks like HTML"
    if not parsed.get("version") and not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "not a feed: not XML"
    if problem:
        return problem
    if not parsed.get("version"):
        return "not a feed: no RSS, RDF or Atom root element"
    return None


def _convert_entries(
    raw_entries: Iterable[Mapping[str, Any]], base: str | None, feed_lang: str | None, now: datetime | None
) -> tuple[list[Entry], int]:
    entries: list[Entry] = []
    seen: set[str] = set()
    dropped = 0
    for raw in raw_entries:
        entry = _convert_entry(raw, base, feed_lang, now)
        if entry is None:
            dropped += 1
            continue
        keys = {k for k in (entry.guid and f"guid:{entry.guid}", entry.url and f"url:{entry.url}") if k}
        if keys & seen:
            continue
        seen |= keys
        entries.append(entry)
    return entries, dropped


def _convert_entry(
    raw: Mapping[str, Any], base: str | None, feed_lang: str | None, now: datetime | None
) -> Entry | None:
    url = _entry_url(raw, base)
    summary_text = _plain(raw.get("summary"), raw.get("summary_detail"))
    content_html, content_text = _content(raw)
    if url is None and not (summary_text or content_text):
        return None
    published = _date(raw.get("published_parsed"), now)
    updated = _date(dict.get(raw, "updated_parsed"), now) if isinstance(raw, dict) else None
    guid = str(raw.get("id") or "").strip() or None
    title_detail = raw.get("title_detail") or {}
    lang = normalize_lang(title_detail.get("language")) if isinstance(title_detail, Mapping) else None
    return Entry(
        url=url,
        title=_plain(raw.get("title"), raw.get("title_detail")),
        summary=summary_text or content_text,
        author=_plain(raw.get("author"), raw.get("author_detail")),
        published_at=published or updated,
        updated_at=updated,
        guid=guid,
        lang=lang or feed_lang,
        content_html=content_html,
    )


def _entry_url(raw: Mapping[str, Any], base: str | None) -> str | None:
    """The article link: FeedBurner's origLink, an HTML `alternate` link, `link`, then a URL-shaped guid."""
    candidates: list[str] = [str(raw.get("feedburner_origlink") or "")]  # FeedBurner's proxy hides it
    for link in raw.get("links") or []:
        if not isinstance(link, Mapping) or not link.get("href"):
            continue
        rel, kind = link.get("rel", "alternate"), link.get("type", "text/html")
        if rel == "alternate" and ("html" in kind or not kind):
            candidates.append(str(link["href"]))
    candidates.append(str(raw.get("link") or ""))
    if raw.get("guidislink") or re.match(r"https?://", str(raw.get("id") or "")):
        candidates.append(str(raw.get("id") or ""))
    for candidate in candidates:
        if url := absolute_http_url(candidate, base):
            return unwrap_redirect(url)
    return None


def unwrap_redirect(url: str) -> str:
    """Google Alerts and Google search wrap the article as `https://www.google.com/url?...&url=REAL`."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() in _GOOGLE_HOSTS and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            for value in query.get(key, []):
                if target := absolute_http_url(value):
                    return target
    return url


def _content(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(content_html when it is a full HTML article, its plain text) from content:encoded / Atom content."""
    best_html: str | None = None
    best_text: str | None = None
    for item in raw.get("content") or []:
        if not isinstance(item, Mapping):
            continue
        value, kind = str(item.get("value") or ""), str(item.get("type") or "")
        text = _plain(value, item)
        if text and (best_text is None or len(text) > len(best_text)):
            best_text = text
            best_html = value if "html" in kind else None
    if best_html is not None and (best_text is None or len(best_text) < CONTENT_HTML_MIN_CHARS):
        best_html = None
    return best_html, best_text


def _date(parsed: Any, now: datetime | None) -> datetime | None:
    """feedparser's UTC time tuple to an aware datetime; None before 1990 or over 2 days ahead of `now`."""
    if not isinstance(parsed, time.struct_time | tuple) or len(parsed) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in parsed[:6])
        when = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    if when.year < MIN_YEAR:
        return None
    if now is not None and when > now.astimezone(UTC) + FUTURE_SLACK:
        return None
    return when


def _plain(value: Any, detail: Any = None) -> str | None:
    """Plain text of a feed field: HTML stripped (if it is HTML), entities decoded, spaces collapsed."""
    if not value:
        return None
    text = str(value)
    kind = str(detail.get("type") or "") if isinstance(detail, Mapping) else ""
    if "html" in kind or ("plain" not in kind and _HTMLISH.search(text)):
        text = html_to_text(text)
    text = " ".join(text.split())
    return text or None


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment, block elements separated by spaces; scripts and styles dropped."""
    if "<" not in fragment:
        return html.unescape(fragment)
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return html.unescape(re.sub(r"<[^>]*>", " ", fragment))
    for bad in root.xpath("|".join(f".//{t}" for t in _DROP_TAGS)):
        bad.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = " " + (element.tail or "")
    return str(root.text_content())


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
