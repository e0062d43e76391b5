"""Load the shared real-page corpus and build feeds over it (benchmarks and integration tests)."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BENCHMARK = SHARED / "corpus" / "article-extraction-benchmark"
PAGES = SHARED / "corpus" / "pages"

_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page:
    id: str
    html: bytes
    url: str  # where it was published
    truth: str | None = None  # ground-truth article text, when known


def load_benchmark_pages(limit: int | None = None) -> list[Page]:
    """The 181 pages of the article-extraction benchmark with their ground truth (empty when absent)."""
    gt_path = BENCHMARK / "ground-truth.json"
    if not gt_path.exists():
        return []
    truth = json.loads(gt_path.read_text(encoding="utf-8"))
    pages = []
    for pid in sorted(truth)[:limit]:
        html = gzip.decompress((BENCHMARK / "html" / f"{pid}.html.gz").read_bytes())
        pages.append(Page(pid, html, truth[pid].get("url", ""), truth[pid].get("articleBody", "")))
    return pages


def load_language_pages() -> list[Page]:
    """The 59 non-English pages (snippet ground truth only, so `truth` stays None)."""
    index = PAGES / "INDEX.json"
    if not index.exists():
        return []
    out = []
    for e in json.loads(index.read_text(encoding="utf-8")).get("pages", []):
        path = PAGES / e["path"]
        if path.exists():
            out.append(Page(path.stem, path.read_bytes(), e.get("url") or e.get("evaldata_key") or ""))
    return out


FEED_START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def rss_feed(
    items: list[tuple[str, str]],
    *,
    title: str = "replay",
    start: datetime | None = None,
    spacing: timedelta = timedelta(hours=1),
) -> bytes:
    """An RSS 2.0 feed of (link, title) items, newest first, `spacing` apart (one hour by default)."""
    start = start or FEED_START
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link><description>replay</description>",
    ]
    for i, (link, item_title) in enumerate(items):
        when = format_datetime(start - spacing * i)
        parts.append(
            f"<item><title>{escape(item_title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="true">{escape(link)}</guid><pubDate>{when}</pubDate></item>'
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def token_f1(predicted: str, truth: str) -> float:
    """Bag-of-words F1 over lowercase word tokens (as trafilatura's own evaluation)."""
    p = Counter(t.lower() for t in _TOKEN.findall(predicted or ""))
    t = Counter(t.lower() for t in _TOKEN.findall(truth or ""))
    if not p or not t:
        return 1.0 if not p and not t else 0.0
    common = sum((p & t).values())
    if common == 0:
        return 0.0
    precision = common / sum(p.values())
    recall = common / sum(t.values())
    return 2 * precision * recall / (precision + recall)
