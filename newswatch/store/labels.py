"""Labels, relations and per-article classification records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from newswatch.store.rows import insert_rows


@dataclass(frozen=True)
class LabelRow:
    article_id: str
    label: str
    score: float
    evidence: list[dict[str, object]]


@dataclass(frozen=True)
class RelationRow:
    article_id: str
    label: str
    orgs: tuple[str, ...]
    kind: str | None
    model: str | None
    relation_key: str


@dataclass(frozen=True)
class ClassificationRow:
    article_id: str
    scores: dict[str, float]
    labels: Sequence[LabelRow]
    relations: Sequence[RelationRow]


def replace_classifications(
    con: duckdb.DuckDBPyConnection, rows: Sequence[ClassificationRow], version: str, now: datetime
) -> None:
    """Replace what is stored for these articles by this classifier version's verdict (idempotent)."""
    if not rows:
        return
    ids = [r.article_id for r in rows]
    for table in ("labels", "relations", "classifications"):
        con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    insert_rows(
        con,
        "classifications",
        ("article_id", "classifier_version", "scores", "classified_at"),
        [(r.article_id, version, json.dumps(r.scores, sort_keys=True), now) for r in rows],
    )
    insert_rows(
        con,
        "labels",
        ("article_id", "label", "score", "evidence", "classifier_version", "classified_at"),
        [
            (lb.article_id, lb.label, lb.score, json.dumps(lb.evidence, ensure_ascii=False), version, now)
            for r in rows
            for lb in r.labels
        ],
    )
    insert_rows(
        con,
        "relations",
        ("article_id", "label", "orgs", "kind", "model", "relation_key", "classifier_version"),
        [
            (rel.article_id, rel.label, list(rel.orgs), rel.kind, rel.model, rel.relation_key, version)
            for r in rows
            for rel in r.relations
        ],
    )


def get_articles_to_classify(
    con: duckdb.DuckDBPyConnection, version: str, *, all_articles: bool, limit: int, after_id: str = ""
) -> list[tuple[str, str, str, str]]:
    """(id, title, text, lang) of articles not yet classified by `version` (or all), in id order."""
    cond = "" if all_articles else "AND (c.classifier_version IS NULL OR c.classifier_version <> ?)"
    params: list[object] = [after_id]
    if not all_articles:
        params.append(version)
    params.append(limit)
    return [
        (str(r[0]), r[1] or "", r[2] or "", r[3] or "und")
        for r in con.execute(
            "SELECT a.id, a.title, a.text, a.lang FROM articles a "
            "LEFT JOIN classifications c ON c.article_id = a.id "
            f"WHERE a.id > ? {cond} ORDER BY a.id LIMIT ?",
            params,
        ).fetchall()
    ]
