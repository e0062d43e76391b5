"""Exact and near duplicates, on real pages of the article-extraction benchmark."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import lxml.html
import numpy as np
import pytest
import trafilatura

from newswatch.config import DedupeConfig
from newswatch.dedupe import (
    EMPTY_HASH,
    bands_for_threshold,
    best_near_duplicate,
    content_hash,
    estimate_jaccard,
    is_empty_signature,
    lsh_band_keys,
    minhash_signature,
    normalize_text,
    shingle_hashes,
    signature_from_bytes,
    signature_to_bytes,
)
from newswatch.urls import site_of

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "article-extraction-benchmark"
CFG = DedupeConfig()
BANDS, ROWS = bands_for_threshold(CFG.near_threshold, 128)


@lru_cache(maxsize=1)
def _ground_truth() -> dict[str, Any]:
    path = CORPUS / "ground-truth.json"
    if not path.exists():
        pytest.skip(f"corpus not found at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _html(item_id: str) -> str:
    return gzip.decompress((CORPUS / "html" / f"{item_id}.html.gz").read_bytes()).decode("utf-8")


def _id_for(url_part: str) -> str:
    matches = [k for k, v in _ground_truth().items() if url_part in v["url"]]
    assert len(matches) == 1, (url_part, matches)
    return matches[0]


def _sig(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    return minhash_signature(text, shingle_words=CFG.shingle_words)


def _near(a: str, b: str) -> bool:
    return estimate_jaccard(_sig(a), _sig(b)) >= CFG.near_threshold


def _candidates(a: str, b: str) -> bool:
    return bool(set(lsh_band_keys(_sig(a), BANDS, ROWS)) & set(lsh_band_keys(_sig(b), BANDS, ROWS)))


def _exact_jaccard(a: str, b: str, k: int = 5) -> float:
    def shingles(text: str) -> set[tuple[str, ...]]:
        w = normalize_text(text).split()
        return {tuple(w[i : i + k]) for i in range(max(1, len(w) - k + 1))}

    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


# --- exact duplicates ----------------------------------------------------------------------------


def test_normalize_text_folds_case_width_punctuation_and_space() -> None:
    assert (
        normalize_text("  L’IA de  Microsoft — « MAI-1 »,\n\tc'est\u00a0tout!  ")
        == "l ia de microsoft mai 1 c est tout"
    )
    assert normalize_text("ＡＢＣ ﬁnance STRASSE") == "abc finance strasse"
    assert normalize_text("Straße") == "strasse"
    assert normalize_text("") == ""


def test_content_hash_equal_for_cosmetic_changes_only() -> None:
    body = _ground_truth()[_id_for("gannett-gatehouse-merger")]["articleBody"]
    cosmetic = "  " + body.upper().replace("\n\n", "\n").replace(",", " ,").replace("’", "'") + "\n"
    assert content_hash(body) == content_hash(cosmetic)
    changed = body.replace("Gannett", "Gannet", 1)
    assert content_hash(body) != content_hash(changed)
    assert len(content_hash(body)) == 64


# --- MinHash -------------------------------------------------------------------------------------


def test_signature_is_deterministic_across_processes() -> None:
    text = _ground_truth()[_id_for("trump-trade-war-china")]["articleBody"]
    here = signature_to_bytes(_sig(text)).hex()
    code = (
        "import sys; from newswatch.dedupe import minhash_signature, signature_to_bytes; "
        "print(signature_to_bytes(minhash_signature(sys.stdin.read())).hex())"
    )
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], input=text, capture_output=True, text=True, env=env, check=True
        )
        assert out.stdout.strip() == here


def test_signature_is_pinned() -> None:
    # Signatures and band keys are stored: changing the hashing orphans every stored one. Change on purpose.
    sig = minhash_signature("Microsoft invests ten billion dollars in OpenAI, the maker of ChatGPT.")
    assert sig.dtype == np.uint32 and sig.shape == (128,)
    assert hashlib.sha256(signature_to_bytes(sig)).hexdigest()[:16] == "10693e1f6061bb3e"
    assert lsh_band_keys(sig, 16, 6)[:2] == [-5962861166091530878, -7033360455904877036]


def test_estimate_tracks_exact_jaccard_on_real_text() -> None:
    gt = _ground_truth()
    body = gt[_id_for("trump-trade-war-china")]["articleBody"]
    words = body.split()
    rng = np.random.default_rng(7)
    errors = []
    for frac in (0.01, 0.05, 0.1, 0.2, 0.4):
        edited = list(words)
        for i in rng.choice(len(words), size=int(len(words) * frac), replace=False):
            edited[i] = f"edit{i}"
        other = " ".join(edited)
        errors.append(estimate_jaccard(_sig(body), _sig(other)) - _exact_jaccard(body, other))
    assert max(abs(e) for e in errors) < 0.12, errors


def test_short_and_empty_texts() -> None:
    assert is_empty_signature(_sig(""))
    assert is_empty_signature(_sig(" ... — !"))
    assert bool(np.all(_sig("") == EMPTY_HASH))
    short = _sig("Three word text")
    assert not is_empty_signature(short)
    assert estimate_jaccard(short, _sig("three WORD text!")) == 1.0
    assert estimate_jaccard(short, _sig("Three word texts")) < 0.2
    assert shingle_hashes("one two three four five six", 5).size == 2
    assert best_near_duplicate(_sig(""), [("a", _sig(""))], 0.8) is None


def test_signature_bytes_round_trip() -> None:
    sig = _sig("Anthropic raises four billion dollars from Amazon in its largest round to date.")
    data = signature_to_bytes(sig)
    assert len(data) == 128 * 4
    back = signature_from_bytes(data)
    assert back.dtype == np.uint32
    assert np.array_equal(back, sig)
    with pytest.raises(ValueError):
        signature_from_bytes(b"abc")


# --- LSH -----------------------------------------------------------------------------------------


def test_bands_for_threshold_default_and_shape() -> None:
    assert (BANDS, ROWS) == (16, 6)
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        for num_perm in (64, 128, 256):
            b, r = bands_for_threshold(threshold, num_perm)
            assert b * r <= num_perm
            assert 1 - (1 - threshold**r) ** b >= 0.99
    # a stricter threshold takes longer bands
    assert (
        bands_for_threshold(0.95, 128)[1]
        > bands_for_threshold(0.8, 128)[1]
        > bands_for_threshold(0.5, 128)[1]
    )
    with pytest.raises(ValueError):
        bands_for_threshold(0.0, 128)


def test_band_keys_are_signed_64_bit_and_band_specific() -> None:
    flat = np.full(128, 42, dtype=np.uint32)  # every band holds the same values
    keys = lsh_band_keys(flat, BANDS, ROWS)
    assert len(keys) == BANDS == len(set(keys))
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert keys == lsh_band_keys(flat.copy(), BANDS, ROWS)
    assert set(keys).isdisjoint(lsh_band_keys(flat, 24, 4))
    with pytest.raises(ValueError):
        lsh_band_keys(flat, 20, 7)


def test_best_near_duplicate_is_order_independent() -> None:
    base = _ground_truth()[_id_for("disney-plus-kevin-mayer")]["articleBody"]
    same = _sig(base)
    edited = _sig(base.replace("Disney", "Disney Co.", 1))
    other = _sig(_ground_truth()[_id_for("gannett-gatehouse-merger")]["articleBody"])
    cands = [("b", same), ("a", same), ("c", edited), ("z", other)]
    assert best_near_duplicate(same, cands, 0.8) == ("a", 1.0)
    assert best_near_duplicate(same, list(reversed(cands)), 0.8) == ("a", 1.0)
    assert best_near_duplicate(other, [("b", same), ("c", edited)], 0.8) is None


# --- real pages ----------------------------------------------------------------------------------

FURNITURE_A = (
    "Skip to main content. Sign in. Subscribe now for 99 cents a week. Share this article on Facebook, "
    "Twitter, LinkedIn or by email. Most read: the ten best podcasts of the year; how to file your taxes."
)
FURNITURE_B = (
    "Advertisement. Newsletter: get the morning briefing in your inbox. Related coverage: markets slide "
    "as rates climb; the housing crunch explained; five charts on inflation. Comments are closed."
)


def _one_sentence_changed(text: str) -> str:
    sentences = text.split(". ")
    i = len(sentences) // 2
    sentences[i] = "A spokesperson declined to comment on the matter when reached on Tuesday evening"
    return ". ".join(sentences)


@pytest.mark.parametrize(
    "url_part", ["trump-trade-war-china", "gannett-gatehouse-merger", "impeachment-hearings-key-moments"]
)
def test_text_with_other_furniture_and_one_sentence_changed_is_near_duplicate(url_part: str) -> None:
    body = _ground_truth()[_id_for(url_part)]["articleBody"]
    first = f"{FURNITURE_A}\n\n{body}"
    second = f"{FURNITURE_B}\n\n{_one_sentence_changed(body)}\n\n{FURNITURE_A[:80]}"
    assert content_hash(first) != content_hash(second)
    assert _near(first, second)
    assert _candidates(first, second)


def _reserved_page(html: str, sentence_from: str, sentence_to: str) -> str:
    """The same article re-served: other navigation, footer, sidebars, related links; one sentence edited."""
    doc = lxml.html.fromstring(html)
    for tag in ("nav", "footer", "aside"):
        for el in list(doc.iter(tag)):
            el.clear()
            el.text = "Home | World | Politics | Business | Tech | Sports | Opinion | Weather | Obituaries"
    body = doc.find("body")
    assert body is not None
    banner = lxml.html.fragment_fromstring(
        '<div class="promo"><a href="/subscribe">Subscribe today: 12 weeks for $1</a> '
        '<a href="/login">Log in</a></div>'
    )
    related = lxml.html.fragment_fromstring(
        '<section class="related"><h2>More from our newsroom</h2><ul>'
        + "".join(
            f'<li><a href="/story/{i}">Story number {i} that readers also liked</a></li>' for i in range(8)
        )
        + "</ul></section>"
    )
    body.insert(0, banner)
    body.append(related)
    out = lxml.html.tostring(doc, encoding="unicode")
    assert sentence_from in out
    return out.replace(sentence_from, sentence_to)


@pytest.mark.parametrize(
    ("url_part", "sentence_from", "sentence_to"),
    [
        (
            "disney-plus-kevin-mayer",
            "we had some customer service issues",
            "we had customer support problems",
        ),
        ("trump-trade-war-china", "biggest trade war in modern history", "largest trade conflict in decades"),
    ],
)
def test_reserved_real_page_is_near_duplicate_after_extraction(
    url_part: str, sentence_from: str, sentence_to: str
) -> None:
    html = _html(_id_for(url_part))
    first = trafilatura.extract(html) or ""
    second = trafilatura.extract(_reserved_page(html, sentence_from, sentence_to)) or ""
    assert len(first.split()) > 300
    assert first != second
    assert content_hash(first) != content_hash(second)
    assert _near(first, second)
    assert _candidates(first, second)


def test_two_articles_from_the_same_site_are_not_near_duplicates_after_extraction() -> None:
    for site in ("wsj.com", "nytimes.com", "latimes.com"):
        ids = [k for k, v in _ground_truth().items() if site_of(v["url"]) == site]
        assert len(ids) == 2
        a, b = (trafilatura.extract(_html(i)) or "" for i in ids)
        assert a and b
        assert estimate_jaccard(_sig(a), _sig(b)) < 0.3
        assert not _near(a, b)


def test_no_two_benchmark_articles_are_near_duplicates_or_lsh_candidates() -> None:
    gt = _ground_truth()
    sigs = [_sig(v["articleBody"]) for v in gt.values()]
    owner: dict[int, int] = {}
    collisions = []
    for i, sig in enumerate(sigs):
        for key in lsh_band_keys(sig, BANDS, ROWS):
            if key in owner and owner[key] != i:
                collisions.append((owner[key], i))
            owner.setdefault(key, i)
    assert collisions == []
    stacked = np.stack(sigs)
    for i in range(len(sigs)):
        agree = (stacked == stacked[i]).mean(axis=1)
        agree[i] = 0.0
        assert agree.max() < 0.3, i
