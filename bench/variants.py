"""N distinct article pages built from the real base pages of the shared corpus (deterministic).

The shared corpus has 240 real pages (181 English pages of the extraction benchmark, 59 pages in other
languages). A benchmark of N = 1,000 articles re-serves each base page several times, each copy at its
own URL with its own page furniture (a header, a "related" block and a footer that differ from copy to
copy), and with its article text changed in one of three ways:

- ``original`` (copy 0 of every base page): the article text as published;
- ``rewrite`` (odd copies): about one word in six of every paragraph replaced by another word of the
  same page, and the paragraphs rotated. Another outlet rewriting the same story: its 5-word shingles
  overlap the original's by ~0.2 (Jaccard), far under the 0.8 near-duplicate threshold, so it is a new
  article (not a duplicate) that names the same people and numbers: story clustering groups it with
  the original;
- ``near`` (even copies from 2 on): two paragraphs swapped and one sentence changed. A syndicated copy:
  Jaccard ~0.9, so dedupe marks it ``duplicate_of`` the original.

"Distinct" therefore means a distinct URL and distinct page bytes: every copy is fetched, extracted,
fingerprinted, classified and stored as its own row, and dedupe does its real work (exact hashes,
MinHash-LSH candidates and story matching) to tell the rewrites from the copies. With N = 1,000 about
72% of the rows are originals and 28% near duplicates (`expected_duplicates`).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bench.corpus import Page, load_benchmark_pages, load_language_pages

_PARAGRAPH = re.compile(rb"(<p\b[^>]*>)(.*?)(</p\s*>)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(rb"(<[^>]*>)")
# whole ASCII words only: a word next to a non-ASCII byte (UTF-8 or legacy letters) is left alone
_WORD = re.compile(rb"(?<![\x80-\xff\w])[A-Za-z]{3,}(?![\x80-\xff\w])")
_BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)

KINDS = ("original", "rewrite", "near")
REWRITE_SHARE = 1 / 6  # words replaced in each paragraph of a rewrite


@dataclass(frozen=True)
class Variant:
    path: str  # where the replay server serves it
    html: bytes
    title: str
    base_id: str
    copy: int
    kind: str  # original | rewrite | near


def load_base_pages() -> list[Page]:
    """The real pages every variant is built from (empty when ../shared/corpus is absent)."""
    return load_benchmark_pages() + load_language_pages()


def kind_of(copy: int) -> str:
    if copy == 0:
        return "original"
    return "rewrite" if copy % 2 else "near"


def build_variants(bases: Sequence[Page], n: int, *, prefix: str = "/news", salt: str = "") -> list[Variant]:
    """`n` pages: base page ``i % len(bases)``, copy ``i // len(bases)``. `salt` gives another set of the
    same shape (other URLs, furniture and rewrites), e.g. for the articles added to a grown store."""
    if not bases:
        return []
    titles = [page_title(p.html) or p.id for p in bases]
    out = []
    for i in range(n):
        base = bases[i % len(bases)]
        copy = i // len(bases)
        kind = kind_of(copy)
        rng = random.Random(_seed(base.id, copy, salt))
        html = _with_text_changed(base.html, kind, rng) if kind != "original" else base.html
        html = _with_furniture(html, rng, titles, copy)
        slug = re.sub(r"[^a-z0-9]+", "-", base.id.lower()).strip("-")[:40] or "page"
        title = titles[i % len(bases)]
        out.append(Variant(f"{prefix}/{copy}{salt}/{slug}-{i}.html", html, title, base.id, copy, kind))
    return out


def expected_duplicates(variants: Sequence[Variant]) -> int:
    """Near copies whose original is in the same set (what dedupe should mark, give or take pages whose
    text lives outside <p> elements, where the text changes do not reach)."""
    originals = {v.base_id for v in variants if v.kind == "original"}
    return sum(1 for v in variants if v.kind == "near" and v.base_id in originals)


def page_title(html: bytes) -> str | None:
    m = _TITLE.search(html[:200_000])
    if not m:
        return None
    raw = _TAG.sub(b"", m.group(1)).decode("utf-8", errors="replace")
    title = " ".join(raw.split())
    return title[:200] or None


def _seed(base_id: str, copy: int, salt: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"{base_id}/{copy}/{salt}".encode(), digest_size=8).digest(), "little"
    )


# --- text changes -----------------------------------------------------------------------------------


def _with_text_changed(html: bytes, kind: str, rng: random.Random) -> bytes:
    matches = list(_PARAGRAPH.finditer(html))
    if len(matches) < 2:
        return html
    inners = [m.group(2) for m in matches]
    if kind == "rewrite":
        pool = _WORD.findall(b" ".join(inners)) or [b"news"]
        inners = [_replace_words(inner, pool, rng) for inner in inners]
        shift = 1 + rng.randrange(len(inners) - 1)
        inners = inners[shift:] + inners[:shift]
    else:  # near: two neighbouring paragraphs swapped, one sentence changed
        i = rng.randrange(len(inners) - 1)
        inners[i], inners[i + 1] = inners[i + 1], inners[i]
        j = rng.randrange(len(inners))
        inners[j] = inners[j] + b" This sentence was added in an update to the story."
    out = bytearray()
    last = 0
    for m, inner in zip(matches, inners, strict=True):
        out += html[last : m.start(2)] + inner
        last = m.end(2)
    out += html[last:]
    return bytes(out)


def _replace_words(inner: bytes, pool: list[bytes], rng: random.Random) -> bytes:
    """Replace about REWRITE_SHARE of the words in the text parts of a paragraph (tags untouched)."""
    parts = _TAG.split(inner)
    for k in range(0, len(parts), 2):  # even parts are text, odd parts are tags
        parts[k] = _WORD.sub(
            lambda m: rng.choice(pool) if rng.random() < REWRITE_SHARE else m.group(0), parts[k]
        )
    return b"".join(parts)


# --- furniture ----------------------------------------------------------------------------------------


def _with_furniture(html: bytes, rng: random.Random, titles: Sequence[str], copy: int) -> bytes:
    sections = rng.sample(
        [
            "World",
            "Business",
            "Technology",
            "Science",
            "Culture",
            "Opinion",
            "Sport",
            "Markets",
            "Climate",
            "Health",
            "Politics",
            "Europe",
        ],
        7,
    )
    nav = "".join(f'<li><a href="/section/{s.lower()}">{s}</a></li>' for s in sections)
    header = (
        f'<header class="site-header"><div class="logo"><a href="/">The Daily Replay {copy}</a></div>'
        f'<nav class="main-nav"><ul>{nav}</ul></nav>'
        f'<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>'
    )
    related = "".join(
        f'<li><a href="/related/{rng.randrange(10**6)}.html">{_escape(t)}</a></li>'
        for t in rng.sample(list(titles), min(5, len(titles)))
    )
    aside = f'<aside class="related"><h3>Related stories</h3><ul>{related}</ul></aside>'
    footer = (
        f'<footer class="site-footer"><p>© {2000 + rng.randrange(26)} The Daily Replay, edition {copy}. '
        f'All rights reserved.</p><ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy'
        f'</a></li><li><a href="/contact">Contact</a></li></ul></footer>'
    )
    head, tail = header.encode(), (aside + footer).encode()
    if (m := _BODY_OPEN.search(html)) is not None:
        html = html[: m.end()] + head + html[m.end() :]
    else:
        html = head + html
    closes = list(_BODY_CLOSE.finditer(html))
    if closes:
        at = closes[-1].start()
        return html[:at] + tail + html[at:]
    return html + tail


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
