"""Turn a discovered entry and what extraction got from its page into an `Article` (pure)."""

from __future__ import annotations

import re
from datetime import datetime

from newswatch.dedupe import content_hash
from newswatch.language import detect_language
from newswatch.model import Article, Entry, Extracted
from newswatch.urls import article_id, canonicalize_url, choose_canonical

_WS = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n\s*\n+")
_CONTROLS = {c: None for c in range(32) if chr(c) not in "\n\t"}  # dropped; newline and tab are kept


def clean_text(text: str | None) -> str:
    """Normalise whitespace, keep paragraph breaks, drop control characters."""
    if not text:
        return ""
    text = text.translate(_CONTROLS)
    lines = [_WS.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def entry_key(entry: Entry) -> str | None:
    """The id an entry would get from its own URL or GUID, before its page is seen."""
    url = entry.url or (entry.guid if entry.guid and entry.guid.startswith(("http://", "https://")) else None)
    return article_id(canonicalize_url(url)) if url else None


def build_article(
    entry: Entry,
    extracted: Extracted | None,
    *,
    source: str,
    fetched_at: datetime,
    final_url: str | None = None,
    source_lang: str | None = None,
    min_text_chars: int = 200,
) -> Article | None:
    """Combine page extraction with what the feed gave. None when there is nothing worth storing.

    The page's text wins when extraction found a real article; otherwise the feed's own content or
    summary is kept and the article is marked `feed_only`. Local text files are marked `text`.
    """
    url = final_url or entry.url
    if not url:
        return None
    ex = extracted or Extracted(text=None)
    page_text = clean_text(ex.text)
    if entry.text is not None:
        text, extraction = clean_text(entry.text), "text"
    elif page_text and len(page_text) >= min(min_text_chars, len(clean_text(entry.summary)) + 1):
        text, extraction = page_text, "ok"
    else:
        feed_text = clean_text(entry.summary)
        text, extraction = (page_text if len(page_text) > len(feed_text) else feed_text), "feed_only"
    title = clean_text(ex.title or entry.title or "").replace("\n", " ")
    if not title and not text:
        return None
    if not title:
        title = text.split("\n", 1)[0][:200]
    canonical = choose_canonical(url, ex.canonical_url, entry.guid)
    lang = detect_language(f"{title}\n{text}", html_lang=ex.lang, hint=entry.lang or source_lang)
    return Article(
        id=article_id(canonical),
        url=url,
        canonical_url=canonical,
        source=source,
        title=title,
        text=text,
        lang=lang,
        fetched_at=fetched_at,
        content_hash=content_hash(text or title),
        author=(ex.author or entry.author or None),
        published_at=entry.published_at or ex.published_at,
        site_name=ex.site_name,
        guid=entry.guid,
        extraction=extraction,
        summary=clean_text(entry.summary) or None,
        updated_at=entry.updated_at,
    )
