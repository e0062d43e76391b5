"""The classifier's term scanner: every (position, key) where a term matches, found in one pass, equal to
trying every term at every word start its literal prefix allows."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from newswatch.classify import _Scanner, _scanner_items, load_topics
from newswatch.topics import TermParts, term_parts

DATA = Path(__file__).resolve().parents[1] / "quality" / "data" / "labelled.jsonl"


def _reference(items: list[tuple[TermParts, str]], text: str) -> set[tuple[int, tuple[str, str]]]:
    """Each term on its own: tried at every word start where its literal prefix stands (a term without
    one: searched for, as the scanner does, its key's terms as one pattern)."""
    lowered = text.lower()
    assert len(lowered) == len(text)
    found: set[tuple[int, tuple[str, str]]] = set()
    starts: dict[tuple[bool, str], list[int]] = {}
    misc: dict[str, list[str]] = defaultdict(list)
    for parts, key in items:
        kind, _sep, name = key.partition("\x00")
        if not (parts.prefix and parts.head):
            misc[key].append(parts.regex)
            continue
        cs = parts.case_sensitive
        prefix, hay = (parts.prefix, text) if cs else (parts.prefix.lower(), lowered)
        if (cs, prefix) not in starts:
            at, pos = [], hay.find(prefix)
            while pos >= 0:
                if pos == 0 or not re.match(r"\w", hay[pos - 1]):
                    at.append(pos)
                pos = hay.find(prefix, pos + 1)
            starts[(cs, prefix)] = at
        pattern = re.compile(parts.regex, re.IGNORECASE)
        found |= {(pos, (kind, name)) for pos in starts[(cs, prefix)] if pattern.match(text, pos)}
    for key, sources in misc.items():
        kind, _sep, name = key.partition("\x00")
        pattern = re.compile("|".join(f"(?:{x})" for x in sources), re.IGNORECASE)
        found |= {(m.start(), (kind, name)) for m in pattern.finditer(text)}
    return found


def _texts() -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = defaultdict(list)
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            by_lang[row["lang"]].append(f"{row['title']}\n\n{row['text']}")
    return by_lang


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "it", "pt"])
def test_scan_equals_every_term_tried_on_its_own(lang: str) -> None:
    texts = _texts()[lang]
    assert texts, f"no labelled {lang} articles"
    items = _scanner_items(load_topics(), frozenset({lang, "en"}))
    scanner = _Scanner(items)
    hits = 0
    for text in texts[:12]:
        got = {(start, key) for start, _end, key in scanner.scan(text)}
        assert got == _reference(items, text), text[:80]
        hits += len(got)
    assert hits > 100  # the comparison saw the terms at work


def test_a_candidate_does_not_hide_a_term_starting_inside_it() -> None:
    # "the company's" is the literal start of one term; "company" starts another, inside it
    items = [(p, "c\x00own") for p in term_parts(r"re:\b(?:the company's)\s+own\s+models?")] + [
        (p, "l\x00org_nouns") for p in term_parts("company")
    ]
    scanner = _Scanner(items)
    text = "It fills a gap while the company's own models mature."
    got = sorted((text[s:e], key) for s, e, key in scanner.scan(text))
    assert got == [("company", ("l", "org_nouns")), ("the company's own models", ("c", "own"))]


def test_function_words_are_candidates_only_before_the_words_that_follow_them() -> None:
    items = [(p, "c\x00talks") for p in term_parts("in talks")] + [
        (p, "c\x00own") for p in term_parts("in house model*")
    ]
    scanner = _Scanner(items)
    (_cs, detector, _verify), *_ = scanner._detectors
    text = "In 2024, in a deal in talks, an in-house model in houses in  house models."
    # "In 2024", "in a deal" and "in houses" are not even tried
    expected = [text.index(w) for w in ("in talks", "in-house", "in  house")]
    assert [m.start() for m in detector.finditer(text.lower())] == expected
    got = [(text[s:e], key) for s, e, key in scanner.scan(text)]
    assert got == [
        ("in talks", ("c", "talks")),
        ("in-house model", ("c", "own")),
        ("in  house models", ("c", "own")),
    ]


@pytest.mark.parametrize(
    ("term", "lead"),
    [
        ("in house model*", ("in", "house", "model")),
        ("in-house", ("in", "house")),
        ("co ... led", ("co",)),
        ("to licen(s|c)e", ("to", "licen")),
        ("invest*", ("invest",)),
        ("=AI model", ("AI", "model")),
        (r"re:\bthe two (companies|firms)", ("the two ",)),  # a regex: its literal start, as is
    ],
)
def test_lead_words(term: str, lead: tuple[str, ...]) -> None:
    (parts,) = term_parts(term)
    assert parts.lead_words == lead
