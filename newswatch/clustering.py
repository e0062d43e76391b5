"""Decide, for a new article, whether it copies an earlier one and which story it belongs to (pure).

The store supplies candidates found by indexed lookups (same content hash, a shared LSH band, a shared
story key); this module only compares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from newswatch.config import DedupeConfig
from newswatch.dedupe import (
    bands_for_threshold,
    estimate_jaccard,
    lsh_band_keys,
    minhash_signature,
    signature_from_bytes,
    signature_to_bytes,
)
from newswatch.model import Article, Candidate
from newswatch.stories import (
    StoryFeatures,
    extract_story_features,
    features_from_json,
    features_to_json,
    story_keys,
    story_similarity,
)

MIN_WORDS_FOR_NEAR = 40  # shorter texts are matched by exact hash only
NUM_PERM = 128


@dataclass(frozen=True)
class Prepared:
    """An article with its fingerprints, computed outside any transaction."""

    article: Article
    word_count: int
    signature: np.ndarray | None
    band_keys: tuple[int, ...]
    features: StoryFeatures
    story_keys: tuple[str, ...]
    features_json: str  # `features` as stored (computed by the worker, not in the write transaction)

    @property
    def when(self) -> datetime:
        return self.article.published_at or self.article.fetched_at

    def as_candidate(self, decision: Decision) -> Candidate:
        return Candidate(
            id=self.article.id,
            cluster_id=decision.cluster_id,
            story_id=decision.story_id,
            duplicate_of=decision.duplicate_of,
            minhash=signature_to_bytes(self.signature) if self.signature is not None else None,
            story_features=self.features_json,
            published_at=self.article.published_at,
            fetched_at=self.article.fetched_at,
            features=self.features,
        )


@dataclass(frozen=True)
class Decision:
    cluster_id: str
    duplicate_of: str | None
    story_id: str
    similarity: float = 0.0  # Jaccard to the original when a near duplicate


def prepare_article(article: Article, cfg: DedupeConfig) -> Prepared:
    words = len(article.text.split())
    sig: np.ndarray | None = None
    keys: tuple[int, ...] = ()
    if words >= MIN_WORDS_FOR_NEAR:
        sig = minhash_signature(article.text, shingle_words=cfg.shingle_words, num_perm=NUM_PERM)
        bands, rows = bands_for_threshold(cfg.near_threshold, NUM_PERM)
        keys = tuple(lsh_band_keys(sig, bands, rows))
    feats = extract_story_features(article.title, article.text, article.lang)
    return Prepared(article, words, sig, keys, feats, tuple(story_keys(feats)), features_to_json(feats))


@lru_cache(maxsize=16384)
def _features(data: str) -> StoryFeatures:
    """A candidate's stored features, decoded once: a batch compares each candidate with many new
    articles (immutable, so sharing them is safe)."""
    return features_from_json(data)


def _original(c: Candidate) -> str:
    return c.duplicate_of or c.id


def decide(
    p: Prepared,
    same_hash: Candidate | None,
    band_candidates: list[Candidate],
    story_candidates: list[Candidate],
    cfg: DedupeConfig,
) -> Decision:
    """Exact copy first, then the nearest near-duplicate over the threshold, then the best story match."""
    own = p.article.id
    if same_hash is not None and same_hash.id != own:
        cluster = same_hash.cluster_id or _original(same_hash)
        return Decision(cluster, _original(same_hash), same_hash.story_id or cluster, 1.0)
    if p.signature is not None:
        best: tuple[float, Candidate] | None = None
        for c in band_candidates:
            if c.id == own or c.minhash is None:
                continue
            other = signature_from_bytes(c.minhash)
            if other.shape != p.signature.shape:
                continue
            j = estimate_jaccard(p.signature, other)
            if j >= cfg.near_threshold and (best is None or j > best[0]):
                best = (j, c)
        if best is not None:
            c = best[1]
            cluster = c.cluster_id or _original(c)
            return Decision(cluster, _original(c), c.story_id or cluster, best[0])
    window = timedelta(seconds=cfg.story_window)
    best_story: tuple[float, Candidate] | None = None
    for c in story_candidates:
        if c.id == own or c.story_features is None:
            continue
        when = c.published_at or c.fetched_at
        if abs(when - p.when) > window:
            continue
        features = c.features if c.features is not None else _features(c.story_features)
        s = story_similarity(p.features, features)
        if s >= cfg.story_threshold and (best_story is None or s > best_story[0]):
            best_story = (s, c)
    story = (best_story[1].story_id or best_story[1].id) if best_story else own
    return Decision(own, None, story)
