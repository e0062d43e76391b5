"""Article extraction: HTML bytes in, an `Extracted` value out (pure; trafilatura never fetches).

The page is decoded once (`decode_html`), parsed once into an lxml tree, our own metadata is read
from that tree (`<html lang>`, `<link rel=canonical>`, the precise publication time) and the same
tree is handed to trafilatura's `bare_extraction` (which works on a copy) for the text, title,
author, date and site name.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from newswatch import trafilatura_fast
from newswatch.model import Extracted

# trafilatura sped up in place (its pruning XPaths in Python, a C-level element lookup, one tree copy
# fewer in its fast pass): same output, ~25 % less time.
trafilatura_fast.install()
# trafilatura logs every discarded page at WARNING; the outcome is in `Extracted.error` instead.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PRESCAN_BYTES = 16_384
_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{2,40})""")
# WHATWG: these labels mean windows-1252 on the web.
_AS_CP1252 = {"latin_1", "iso8859-1", "ascii", "cp1252"}
_DOCUMENT_START = re.compile(r"<html[\s>]|<body[\s>]|<!doctype\s", re.I)
_LANG = re.compile(r"^\s*([A-Za-z]{2})(?:$|[-_\s])")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
_PRECISE_DATE_XPATH = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @property='og:published_time' or @itemprop='datePublished'"
    " or @name='pubdate' or @name='publishdate' or @name='date']/@content"
    " | //time[@itemprop='datePublished']/@datetime"
)
_MIN_YEAR = 1990
_URL_HOST = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")
_SHORT_TEXT_CHARS = 500  # a fast-pass text shorter than this gets trafilatura's full run,
_SHORT_TEXT_SHARE = 0.02  # and so does one shorter than this share of the page's visible text


def decode_html(body: bytes) -> str:
    """Bytes of an HTML page to text.

    A BOM wins; then a declared charset (`<meta charset>`, `http-equiv`, or an XML declaration in the
    first 16 KB) unless the bytes are valid UTF-8 with non-ASCII in them (a mislabelled UTF-8 page is
    far more common than Latin-1 that happens to be valid UTF-8); with no declaration: UTF-8, and
    windows-1252 when that fails (the web's legacy default), also when a page labelled UTF-8 is mostly not
    UTF-8. Never raises: undecodable bytes become U+FFFD.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    declared = _declared_charset(body[:_PRESCAN_BYTES])
    if declared and declared != "utf-8":
        if not body.isascii() and _is_utf8(body):
            return body.decode("utf-8")
        return body.decode(declared, errors="replace")
    if _is_utf8(body):
        return body.decode("utf-8")
    if declared == "utf-8":
        text = body.decode("utf-8", errors="replace")
        if not _mostly_invalid(text):
            return text  # UTF-8 with a stray bad byte or two: keep it UTF-8
    return body.decode("cp1252", errors="replace")


def _mostly_invalid(text: str) -> bool:
    """More undecodable sequences than valid non-ASCII characters: a page labelled UTF-8 that is not
    (a legacy windows-1252 page with a copied-in `<meta charset=utf-8>`)."""
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ch > "\x7f") - bad
    return bad > good


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _declared_charset(head: bytes) -> str | None:
    """The declared charset as a Python codec name (utf-16 labels count as utf-8, as in browsers)."""
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not m:
        return None
    try:
        name = codecs.lookup(m.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith("utf-16") or name.startswith("utf-32") or name == "utf-8":
        return "utf-8"
    return "cp1252" if name in _AS_CP1252 else name


def normalize_lang(value: str | None) -> str | None:
    """'fr-FR', 'en_US', 'DE' -> 'fr', 'en', 'de'; anything else -> None."""
    if not value:
        return None
    m = _LANG.match(value)
    return m.group(1).lower() if m else None


def parse_html_tree(html: bytes | str) -> HtmlElement | None:
    """Decode (bytes) and parse a page once; None when there is nothing to parse.

    A fragment (feed `content:encoded`, a bare `<p>`) is wrapped in a document first: trafilatura
    rejects single-element fragments as "dubious HTML".
    """
    text = decode_html(html) if isinstance(html, bytes) else html
    if not text.strip():
        return None
    if not _DOCUMENT_START.search(text[:_PRESCAN_BYTES]):
        text = f"<html><body><article>{text}</article></body></html>"
    try:
        return load_html(text)
    except (ValueError, TypeError):
        return None


def extract_article(html: bytes | str, url: str | None = None, *, page_date: bool = True) -> Extracted:
    """The main text and metadata of one article page. Failure is a value: `text=None`, `error` one line.

    `page_date=False` skips the search for the page's publication date (~1 ms a page: its meta tags,
    then htmldate), for a caller that has a date already (a feed's, which wins over the page's)."""
    try:
        text = decode_html(html) if isinstance(html, bytes) else html
        if _looks_binary(text):
            return Extracted(text=None, error="not HTML: binary content")
        tree = parse_html_tree(text)
        if tree is None:
            return Extracted(text=None, error="empty page" if not _has_content(html) else "not HTML")
        return _extract_from_tree(tree, url, len(text), page_date)
    except Exception as exc:  # a library bug on odd input must not take the run down
        return Extracted(text=None, error=f"extraction failed: {type(exc).__name__}: {_one_line(str(exc))}")


def _looks_binary(text: str) -> bool:
    """A PDF, an image or a zip served where a page was expected: NULs or many control characters."""
    head = text[:4096]
    if "\x00" in head:
        return True
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\f\r")
    return controls > len(head) // 20


def _has_content(html: bytes | str) -> bool:
    return bool(html.strip())


def _one_line(s: str, limit: int = 200) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _extract_from_tree(tree: HtmlElement, url: str | None, source_chars: int, page_date: bool) -> Extracted:
    lang = extract_html_lang(tree)
    canonical = extract_canonical_url(tree, url)
    text = _extract_text(tree, url, source_chars)
    if not text:  # no metadata either: the title of a page without an article ("Menu") is no title
        return Extracted(text=None, lang=lang, canonical_url=canonical, error="no article text found")
    meta = _extract_metadata(tree, canonical or url)
    return Extracted(
        text=text,
        title=meta.title,
        author=meta.author,
        published_at=(extract_published_at(tree) or _day_to_utc(_find_day(tree, url))) if page_date else None,
        site_name=meta.sitename,
        lang=lang,
        canonical_url=canonical,
    )


def _extract_text(tree: HtmlElement, url: str | None, source_chars: int) -> str | None:
    """The main text: trafilatura's own algorithm first (``fast``); its full run, which also tries
    readability and jusText and keeps the best, only when that found little: under 500 characters, or
    under 2 % of the page's visible text (a long article cut to its first paragraphs).

    Measured on the 181 pages of the extraction benchmark and the 59 non-English pages: the full run on
    every page costs 20.8 ms per page (mean token F1 0.965, snippets 161/172 in, 165/177 out); this
    costs ~16 ms (F1 0.969, snippets the same), with the full run on one page in eight.
    """
    text = _bare_text(tree, url, fast=True)
    if text is None or len(text) < _SHORT_TEXT_CHARS or _small_share(text, tree, source_chars):
        text = _bare_text(tree, url, fast=False) or text
    return text


def _small_share(text: str, tree: HtmlElement, source_chars: int) -> bool:
    """The text is under _SHORT_TEXT_SHARE of the page's visible text (which the page's source length
    bounds: most pages are decided without walking the tree)."""
    limit = _SHORT_TEXT_SHARE * source_chars
    return len(text) < limit and len(text) < _SHORT_TEXT_SHARE * _visible_chars(tree)


def _visible_chars(tree: HtmlElement) -> int:
    body = tree.find(".//body")
    return len(" ".join((body if body is not None else tree).text_content().split()))


def _bare_text(tree: HtmlElement, url: str | None, *, fast: bool) -> str | None:
    doc = bare_extraction(
        tree,  # trafilatura works on a copy: the tree is reused for the second pass and the metadata
        url=url,
        fast=fast,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
    )
    if not isinstance(doc, Document) or not doc.text:
        return None
    text: str = doc.text.strip()
    return text or None


@dataclass(frozen=True)
class _Metadata:
    title: str | None
    author: str | None
    sitename: str | None


def _extract_metadata(tree: HtmlElement, url: str | None) -> _Metadata:
    """Title, author and site name as trafilatura finds them in meta tags, JSON-LD and the title or h1
    (the site name from the URL's host when nothing names it), without its search for author names in
    the page body: that costs 7 ms on the pages that need it (half of them), for an author found on a
    few more pages (a byline, "Reuters"); the feed's author is used when the page names none."""
    try:
        meta = extract_meta_json(tree, examine_meta(tree))
        if not meta.title:
            meta.title = extract_title(tree)
        if not meta.sitename:
            meta.sitename = extract_sitename(tree)
        meta.clean_and_trim()
    except Exception:  # a bug of the library on odd markup must not cost the article its text
        return _Metadata(None, None, None)
    author = meta.author if meta.author and " " in meta.author else None  # as trafilatura: "By" is no name
    sitename = (meta.sitename or "").lstrip("@") or None
    if sitename and "." not in sitename and not sitename[0].isupper():
        sitename = sitename.title()  # as trafilatura: "cleveland" -> "Cleveland"
    elif not sitename and url and (host := _URL_HOST.match(url)):
        sitename = host[1]
    return _Metadata(_clean(meta.title), _clean(author), _clean(sitename))


def _find_day(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's 'YYYY-MM-DD', without its "extensive" search: its year-only guesses (a "© 2024" footer
    -> 2024-01-01) are worse than no date; the feed's date or the page's own meta tags are better."""
    try:
        # per call: the parameters carry today's date as the latest acceptable one
        day = find_date(tree, url=url, **set_date_params(extensive=False))
    except Exception:
        return None
    return day if isinstance(day, str) else None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def extract_html_lang(tree: HtmlElement) -> str | None:
    """`<html lang>` (or xml:lang), else `<meta http-equiv=content-language>`, else `og:locale`: 2 letters."""
    root = tree.getroottree().getroot()
    for value in (root.get("lang"), root.get("{http://www.w3.org/XML/1998/namespace}lang")):
        if lang := normalize_lang(value):
            return lang
    for value in tree.xpath(
        "//meta[translate(@http-equiv,'CONTENTLANGUAGE','contentlanguage')='content-language']/@content"
        " | //meta[@property='og:locale']/@content"
    ):
        if lang := normalize_lang(str(value)):
            return lang
    return None


def extract_canonical_url(tree: HtmlElement, page_url: str | None = None) -> str | None:
    """`<link rel=canonical href>`, made absolute against `page_url`; http(s) only."""
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels and (href := (link.get("href") or "").strip()):
            return absolute_http_url(href, page_url)
    return None


def extract_og_url(tree: HtmlElement, page_url: str | None = None) -> str | None:
    """`<meta property="og:url">`, made absolute; http(s) only."""
    for value in tree.xpath("//meta[@property='og:url']/@content"):
        if url := absolute_http_url(str(value).strip(), page_url):
            return url
    return None


def absolute_http_url(href: str, base: str | None = None) -> str | None:
    """`href` resolved against `base`, without its fragment; None unless the result is http(s) with a host.

    As browsers do: tabs and newlines anywhere are dropped (so `java\nscript:` is javascript:), and the
    spaces and control characters left inside are percent-encoded (the URL stays one fetchable token).
    """
    href = _TAB_NEWLINE.sub("", href.strip())
    if not href:
        return None
    try:
        joined = urljoin(base, href) if base else href
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    url = parts._replace(scheme=parts.scheme.lower(), fragment="").geturl()
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", url)


def extract_published_at(tree: HtmlElement) -> datetime | None:
    """The publication time the page states (`article:published_time`, `datePublished`...), in UTC."""
    for value in tree.xpath(_PRECISE_DATE_XPATH):
        if when := parse_iso_datetime(str(value)):
            return when
    return None


def parse_iso_datetime(value: str) -> datetime | None:
    """An ISO 8601 timestamp to an aware UTC datetime (naive means UTC); None if unparseable or < 1990."""
    value = value.strip()
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when if when.year >= _MIN_YEAR else None


def _day_to_utc(day: str | None) -> datetime | None:
    """trafilatura's 'YYYY-MM-DD' date to midnight UTC."""
    if not day:
        return None
    return parse_iso_datetime(day[:10])
