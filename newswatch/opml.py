"""OPML in and out (what every feed reader speaks), pure: bytes in, source entries out, and back."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from newswatch.config import SourceConfig
from newswatch.errors import ConfigError

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    xml_url: str
    html_url: str | None = None
    lang: str | None = None


def parse_opml(data: bytes, origin: str = "OPML") -> list[OpmlFeed]:
    """Every outline with an http(s) xmlUrl, nested folders included, in document order."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{origin}: not valid OPML: {exc}") from None
    if root.tag != "opml":
        raise ConfigError(f"{origin}: not OPML (the root element is <{root.tag}>, not <opml>)")
    feeds = []
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not re.match(r"^https?://", url, re.IGNORECASE):
            continue
        title = (node.get("title") or node.get("text") or url).strip()
        lang = (node.get("language") or "").strip().lower()[:2] or None
        feeds.append(OpmlFeed(title, url, (node.get("htmlUrl") or "").strip() or None, lang))
    return feeds


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _SLUG.sub("-", ascii_text).strip("-")[:60] or "feed"


def new_sources(feeds: Iterable[OpmlFeed], existing: Sequence[SourceConfig]) -> list[dict[str, str]]:
    """Source entries for the feeds not configured yet (by URL), with unique names."""
    urls = {s.url for s in existing if s.url}
    names = {s.name for s in existing}
    out: list[dict[str, str]] = []
    for f in feeds:
        if f.xml_url in urls:
            continue
        urls.add(f.xml_url)
        base = slugify(f.title)
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.add(name)
        entry = {"name": name, "kind": "feed", "url": f.xml_url}
        if f.lang and re.fullmatch(r"[a-z]{2}", f.lang):
            entry["lang"] = f.lang
        out.append(entry)
    return out


def render_opml(sources: Sequence[SourceConfig], title: str = "newswatch sources") -> str:
    """Feed and page sources as OPML 2.0 (folders have no URL and are left out)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
        "  <body>",
    ]
    for s in sources:
        if not s.url:
            continue
        attrs = {"text": s.name, "title": s.name}
        if s.kind == "feed":
            attrs.update(type="rss", xmlUrl=s.url)
        else:
            attrs.update(type="link", htmlUrl=s.url)
        if s.lang:
            attrs["language"] = s.lang
        lines.append("    <outline " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"
