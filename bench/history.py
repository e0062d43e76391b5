"""A synthetic but realistic store history (e.g. 100,000 articles), written fast through the store's own
functions, for the "grown" scenario: new articles must not cost more because the store is large.

Each history article is a mix of 12–24 real sentences taken from three base pages of one language (so
texts read like news, in the right language, and are unrelated to any single base page: a new article
is not a near duplicate of them). What would take ~15 ms per article to compute for real is derived:

- MinHash: the signature of a union of shingle sets is the slot-wise minimum of their signatures, so
  a history article's signature is the minimum over its sentences' signatures (computed once per
  sentence); its LSH band keys come from `lsh_band_keys`, as in the pipeline;
- story features: those of its main base page, each set subsampled to 70%; story keys from
  `story_keys`, as in the pipeline;
- content hash: sha256 of the normalised sentences joined (what `content_hash` hashes, up to
  punctuation between sentences).

Publication times are spread evenly over `days` (default 100: ~1,000 articles a day, so a 3-day story
window holds ~3% of the history). Every article gets a classification record, ~15% carry a label with
evidence and a relation, and each has a sighting; the sources' poll log (`fetches`) gets a row per
source and half hour.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from newswatch.clustering import NUM_PERM
from newswatch.config import DedupeConfig
from newswatch.dedupe import (
    bands_for_threshold,
    lsh_band_keys,
    minhash_signature,
    normalize_text,
    signature_to_bytes,
)
from newswatch.model import Article, FetchRecord, Outcome
from newswatch.store import Store
from newswatch.store.articles import (
    ArticleRow,
    insert_articles,
    insert_bands,
    insert_sightings,
    insert_story_keys,
)
from newswatch.store.fetches import insert_fetches
from newswatch.store.labels import ClassificationRow, LabelRow, RelationRow, replace_classifications
from newswatch.stories import StoryFeatures, extract_story_features, features_to_json, story_keys
from newswatch.urls import article_id

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
SOURCES = 20
LABELLED_SHARE = 0.15
CLASSIFIER_VERSION = "history"


@dataclass(frozen=True)
class BaseText:
    title: str
    text: str
    lang: str


@dataclass
class _Pool:
    sentences: list[str]
    normalized: list[str]
    words: list[int]
    signatures: np.ndarray  # (sentences, NUM_PERM) uint32
    by_base: list[list[int]]  # sentence indexes of each base
    features: list[StoryFeatures]
    bases_by_lang: dict[str, list[int]]


def _pool(bases: Sequence[BaseText], shingle_words: int) -> _Pool:
    sentences: list[str] = []
    by_base: list[list[int]] = []
    for b in bases:
        own = [s.strip() for s in _SENTENCE.split(b.text.replace("\n", " ")) if len(s.split()) >= 6]
        by_base.append(list(range(len(sentences), len(sentences) + len(own))))
        sentences.extend(own)
    sigs = np.stack([minhash_signature(s, shingle_words=shingle_words, num_perm=NUM_PERM) for s in sentences])
    langs: dict[str, list[int]] = {}
    for i, b in enumerate(bases):
        if len(by_base[i]) >= 6:
            langs.setdefault(b.lang, []).append(i)
    return _Pool(
        sentences=sentences,
        normalized=[normalize_text(s) for s in sentences],
        words=[len(s.split()) for s in sentences],
        signatures=sigs,
        by_base=by_base,
        features=[extract_story_features(b.title, b.text, b.lang) for b in bases],
        bases_by_lang=langs,
    )


def _subsample(values: frozenset[str], rng: random.Random, share: float = 0.7) -> frozenset[str]:
    return frozenset(v for v in sorted(values) if rng.random() < share)


def _features(f: StoryFeatures, title_tokens: frozenset[str], rng: random.Random) -> StoryFeatures:
    entities = _subsample(f.entities, rng)
    return StoryFeatures(
        entities=entities,
        numbers=_subsample(f.numbers, rng),
        title_tokens=title_tokens,
        strong=f.strong & entities,
        names=f.names & entities,
        salient=f.salient & entities,
        lang=f.lang,
    )


def build_history(
    store: Store,
    bases: Sequence[BaseText],
    n: int,
    *,
    now: datetime,
    days: float = 100.0,
    seed: int = 7,
    batch: int = 10_000,
    cfg: DedupeConfig | None = None,
) -> int:
    """Write `n` history articles (and their bands, story keys, classifications, sightings, fetches) into
    `store`, in transactions of `batch` articles. Returns the number of articles written."""
    cfg = cfg or DedupeConfig()
    pool = _pool(bases, cfg.shingle_words)
    if not pool.bases_by_lang:
        raise ValueError("no base text has enough sentences to build a history from")
    weighted = [i for ids in pool.bases_by_lang.values() for i in ids]
    bands, rows = bands_for_threshold(cfg.near_threshold, NUM_PERM)
    rng = random.Random(seed)
    span = timedelta(days=days)
    written = 0
    for start in range(0, n, batch):
        items = [
            _history_article(j, pool, weighted, rng, now - span * (j + 0.5) / n, bands, rows)
            for j in range(start, min(n, start + batch))
        ]
        with store.write() as con:
            insert_articles(con, [it[0] for it in items])
            insert_bands(con, [(k, it[0].article.id) for it in items for k in it[1]])
            insert_story_keys(
                con, [(k, it[0].article.id, it[0].article.fetched_at) for it in items for k in it[2]]
            )
            insert_sightings(
                con,
                [
                    (it[0].article.id, it[0].article.source, it[0].article.url, it[0].article.fetched_at)
                    for it in items
                ],
            )
            replace_classifications(con, [it[3] for it in items], CLASSIFIER_VERSION, now)
        written += len(items)
    _write_poll_log(store, now, span)
    return written


def _history_article(
    j: int, pool: _Pool, weighted: list[int], rng: random.Random, published: datetime, bands: int, rows: int
) -> tuple[ArticleRow, list[int], list[str], ClassificationRow]:
    main = rng.choice(weighted)
    lang = pool.features[main].lang or "en"
    same = pool.bases_by_lang.get(lang) or [main]
    picked_bases = [main, rng.choice(same), rng.choice(same)]
    candidates = [s for b in picked_bases for s in pool.by_base[b]]
    chosen = rng.sample(candidates, min(len(candidates), rng.randint(12, 24)))
    text = " ".join(pool.sentences[i] for i in chosen)
    title = " ".join(pool.sentences[chosen[0]].split()[:10]).rstrip(".,;:")
    signature = pool.signatures[chosen].min(axis=0)
    source = f"history-{j % SOURCES:02d}"
    url = f"https://news-{j % SOURCES:02d}.example.org/{published:%Y/%m/%d}/story-{j}.html"
    aid = article_id(url)
    fetched = published + timedelta(minutes=rng.randint(1, 90))
    feats = _features(pool.features[main], frozenset(w.lower()[:6] for w in title.split() if len(w) > 3), rng)
    article = Article(
        id=aid,
        url=url,
        canonical_url=url,
        source=source,
        title=title,
        text=text,
        lang=lang,
        fetched_at=fetched,
        published_at=published,
        content_hash=hashlib.sha256(" ".join(pool.normalized[i] for i in chosen).encode()).hexdigest(),
        site_name=f"News {j % SOURCES:02d}",
        guid=url,
        summary=" ".join(text.split()[:40]),
    )
    row = ArticleRow(
        article=article,
        cluster_id=aid,
        duplicate_of=None,
        story_id=aid,
        minhash=signature_to_bytes(signature),
        story_features=features_to_json(feats),
        word_count=sum(pool.words[i] for i in chosen),
    )
    band_keys = lsh_band_keys(signature, bands, rows)
    return row, band_keys, story_keys(feats), _classification(aid, text, rng)


def _classification(aid: str, text: str, rng: random.Random) -> ClassificationRow:
    if rng.random() >= LABELLED_SHARE:
        return ClassificationRow(aid, {"ai_partnership": 0.0, "inhouse_model": 0.0}, [], [])
    label = rng.choice(["ai_partnership", "inhouse_model"])
    score = round(0.5 + rng.random() / 2, 3)
    sentence = text.split(". ", 1)[0][:300]
    evidence: list[dict[str, object]] = [{"sentence": sentence, "terms": ["partnership"], "weight": 1.0}]
    orgs = tuple(
        sorted(
            rng.sample(
                [
                    "microsoft",
                    "openai",
                    "amazon",
                    "anthropic",
                    "google",
                    "nvidia",
                    "meta",
                    "mistral",
                    "apple",
                    "oracle",
                ],
                2,
            )
        )
    )
    key = f"pair:{'|'.join(orgs)}" if label == "ai_partnership" else f"org:{orgs[0]}"
    return ClassificationRow(
        aid,
        {label: score},
        [LabelRow(aid, label, score, evidence)],
        [RelationRow(aid, label, orgs if label == "ai_partnership" else orgs[:1], "investment", None, key)],
    )


def _write_poll_log(store: Store, now: datetime, span: timedelta) -> None:
    polls = int(span / timedelta(minutes=30))
    records = [
        FetchRecord(
            source=f"history-{s:02d}",
            url=f"https://news-{s:02d}.example.org/feed.xml",
            started_at=now - span + timedelta(minutes=30 * k),
            outcome=Outcome.OK,
            status=200,
            elapsed_s=0.4,
            entries=30,
            new_articles=1,
        )
        for k in range(polls)
        for s in range(SOURCES)
    ]
    with store.write() as con:
        for start in range(0, len(records), 20_000):
            insert_fetches(con, "history", "source", records[start : start + 20_000])
