"""The write phase of a poll: dedupe against the store and write a source's batch in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from newswatch.classify import Classification
from newswatch.clustering import Decision, Prepared, decide
from newswatch.config import DedupeConfig
from newswatch.dedupe import signature_to_bytes
from newswatch.model import FetchRecord
from newswatch.store import Store
from newswatch.store.articles import (
    ArticleRow,
    Candidate,
    get_band_candidates,
    get_by_content_hash,
    get_known_articles,
    get_story_candidates,
    insert_articles,
    insert_bands,
    insert_sightings,
    insert_story_keys,
    touch_feed_updated,
    update_article_texts,
)
from newswatch.store.fetches import SourceState, insert_fetches, upsert_source_state
from newswatch.store.labels import ClassificationRow, LabelRow, RelationRow, replace_classifications


@dataclass(frozen=True)
class Sighting:
    article_id: str
    url: str  # the canonical form of the URL the source listed


@dataclass
class WriteResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    labelled: int = 0
    new_by_lang: Counter[str] = field(default_factory=Counter)


def relation_key(label: str, orgs: Sequence[str], model: str | None) -> str:
    names = sorted({o.strip().lower() for o in orgs if o.strip()})
    if model:
        return f"model:{'|'.join(names)}|{model.strip().lower()}"
    return f"pair:{'|'.join(names)}" if label != "inhouse_model" else f"org:{'|'.join(names)}"


def classification_row(article_id: str, c: Classification) -> ClassificationRow:
    labels = [
        LabelRow(
            article_id,
            label,
            float(c.scores.get(label, 0.0)),
            [
                {"sentence": e.sentence, "terms": list(e.terms), "weight": e.weight}
                for e in c.evidence
                if e.label == label
            ],
        )
        for label in c.labels
    ]
    relations = [
        RelationRow(
            article_id, r.label, tuple(r.orgs), r.kind, r.model, relation_key(r.label, r.orgs, r.model)
        )
        for r in c.relations
        if r.label in c.labels
    ]
    return ClassificationRow(article_id, dict(c.scores), labels, relations)


_K = TypeVar("_K", int, str)


def _pick(keys: Sequence[_K], index: dict[_K, list[Candidate]]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for k in keys:
        for c in index.get(k, ()):
            seen.setdefault(c.id, c)
    return list(seen.values())


def write_batch(
    store: Store,
    *,
    prepared: Sequence[Prepared],
    classifications: dict[str, Classification],
    classifier_version: str,
    sightings: Sequence[Sighting],
    source: str,
    fetch_records: Sequence[FetchRecord],
    page_records: Sequence[FetchRecord],
    make_state: Callable[[WriteResult], SourceState] | None,
    source_kind: str,
    source_location: str | None,
    run_id: str,
    cfg: DedupeConfig,
    now: datetime,
) -> WriteResult:
    """Everything a poll of one source learnt, in one transaction: all of it lands, or none of it."""
    result = WriteResult()
    with store.write() as con:
        unique: dict[str, Prepared] = {}
        for p in prepared:
            unique.setdefault(p.article.id, p)
        batch = list(unique.values())
        known = get_known_articles(con, [p.article.id for p in batch])
        new = [p for p in batch if p.article.id not in known]
        changed = [
            p
            for p in batch
            if p.article.id in known and known[p.article.id].content_hash != p.article.content_hash
        ]
        result.unchanged = len(batch) - len(new) - len(changed)
        touch_feed_updated(
            con,
            [
                (p.article.id, p.article.updated_at)
                for p in batch
                if p.article.id in known and p.article.updated_at is not None
            ],
        )

        by_hash = get_by_content_hash(con, [p.article.content_hash for p in new])
        bands: dict[int, list[Candidate]] = dict(
            get_band_candidates(con, [k for p in new for k in p.band_keys])
        )
        since = min((p.when for p in new), default=now) - timedelta(seconds=cfg.story_window)
        stories: dict[str, list[Candidate]] = dict(
            get_story_candidates(con, [k for p in new for k in p.story_keys], since)
        )

        rows: list[ArticleRow] = []
        for p in new:
            same = by_hash.get(p.article.content_hash)
            d: Decision = decide(p, same, _pick(p.band_keys, bands), _pick(p.story_keys, stories), cfg)
            rows.append(_row(p, d))
            # later articles of the same batch see this one as a candidate
            cand = p.as_candidate(d)
            by_hash.setdefault(p.article.content_hash, cand)
            for k in p.band_keys:
                bands.setdefault(k, []).append(cand)
            for sk in p.story_keys:
                stories.setdefault(sk, []).append(cand)
            result.duplicates += d.duplicate_of is not None
            result.new_by_lang[p.article.lang] += 1
        result.new = len(rows)
        result.updated = len(changed)

        insert_articles(con, rows)
        update_article_texts(con, [_row(p, Decision(p.article.id, None, p.article.id)) for p in changed], now)
        written = [*new, *changed]
        insert_bands(con, [(k, p.article.id) for p in written for k in p.band_keys])
        insert_story_keys(con, [(k, p.article.id, p.when) for p in new for k in p.story_keys])
        insert_sightings(con, [(s.article_id, source, s.url, now) for s in sightings])
        cls_rows = [
            classification_row(p.article.id, classifications[p.article.id])
            for p in written
            if p.article.id in classifications
        ]
        replace_classifications(con, cls_rows, classifier_version, now)
        result.labelled = sum(1 for r in cls_rows if r.labels)

        finals = [
            FetchRecord(**{**r.__dict__, "new_articles": result.new, "updated_articles": result.updated})
            for r in fetch_records
        ]
        insert_fetches(con, run_id, "source", finals)
        insert_fetches(con, run_id, "page", page_records)
        if make_state is not None:
            upsert_source_state(con, source_kind, source_location, make_state(result))
    return result


def _row(p: Prepared, d: Decision) -> ArticleRow:
    return ArticleRow(
        article=p.article,
        cluster_id=d.cluster_id,
        duplicate_of=d.duplicate_of,
        story_id=d.story_id,
        minhash=signature_to_bytes(p.signature) if p.signature is not None else None,
        story_features=p.features_json,
        word_count=p.word_count,
    )
