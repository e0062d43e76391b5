"""Articles, their LSH bands, story keys and sightings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from newswatch.model import Article, Candidate
from newswatch.store.rows import insert_rows


@dataclass(frozen=True)
class KnownArticle:
    id: str
    content_hash: str
    feed_updated_at: datetime | None
    source: str


@dataclass(frozen=True)
class ArticleRow:
    """An article as stored: the extracted article plus what dedupe decided."""

    article: Article
    cluster_id: str
    duplicate_of: str | None
    story_id: str
    minhash: bytes | None
    story_features: str | None
    word_count: int


_CANDIDATE_COLS = "id, cluster_id, story_id, duplicate_of, minhash, story_features, published_at, fetched_at"


def _candidates(rows: Iterable[tuple[object, ...]]) -> list[Candidate]:
    out = []
    for r in rows:
        mh = r[4]
        out.append(
            Candidate(
                id=str(r[0]),
                cluster_id=r[1] if r[1] is None else str(r[1]),
                story_id=r[2] if r[2] is None else str(r[2]),
                duplicate_of=r[3] if r[3] is None else str(r[3]),
                minhash=bytes(mh) if mh is not None else None,  # type: ignore[call-overload]
                story_features=r[5] if r[5] is None else str(r[5]),
                published_at=r[6],  # type: ignore[arg-type]
                fetched_at=r[7],  # type: ignore[arg-type]
            )
        )
    return out


def get_known_articles(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], urls: Sequence[str] = ()
) -> dict[str, KnownArticle]:
    """Stored articles by id, and by any canonical URL a source listed them under (keyed by that URL)."""
    out: dict[str, KnownArticle] = {}
    if ids:
        for r in con.execute(
            "SELECT a.id, a.content_hash, a.feed_updated_at, a.source FROM articles a "
            "JOIN (SELECT unnest(?::VARCHAR[]) AS id) q ON q.id = a.id",
            [sorted(set(ids))],
        ).fetchall():
            out[r[0]] = KnownArticle(r[0], r[1], r[2], r[3])
    if urls:
        for r in con.execute(
            "SELECT s.url, a.id, a.content_hash, a.feed_updated_at, a.source FROM article_sightings s "
            "JOIN (SELECT unnest(?::VARCHAR[]) AS u) q ON q.u = s.url JOIN articles a ON a.id = s.article_id",
            [sorted(set(urls))],
        ).fetchall():
            out.setdefault(r[0], KnownArticle(r[1], r[2], r[3], r[4]))
    return out


def get_by_content_hash(con: duckdb.DuckDBPyConnection, hashes: Sequence[str]) -> dict[str, Candidate]:
    """The earliest original article for each content hash."""
    if not hashes:
        return {}
    rows = con.execute(
        f"SELECT content_hash, {_CANDIDATE_COLS} FROM articles a "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS h) q ON q.h = a.content_hash "
        "ORDER BY (duplicate_of IS NULL) DESC, fetched_at, id",
        [list(set(hashes))],
    ).fetchall()
    out: dict[str, Candidate] = {}
    for r in rows:
        out.setdefault(str(r[0]), _candidates([r[1:]])[0])
    return out


def _by_key(con: duckdb.DuckDBPyConnection, pairs: list[tuple[object, ...]]) -> dict[object, list[Candidate]]:
    """(key, article id) pairs to key -> candidates, each article read once and shared between its keys
    (a popular story key can bring the same article for hundreds of new ones)."""
    ids = sorted({str(r[1]) for r in pairs})
    if not ids:
        return {}
    rows = con.execute(
        f"SELECT {', '.join('a.' + c for c in _CANDIDATE_COLS.split(', '))} FROM articles a "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS id) q ON q.id = a.id",
        [ids],
    ).fetchall()
    by_id = {c.id: c for c in _candidates(rows)}
    out: dict[object, list[Candidate]] = {}
    for key, article_id in pairs:
        if (c := by_id.get(str(article_id))) is not None:
            out.setdefault(key, []).append(c)
    return out


def get_band_candidates(
    con: duckdb.DuckDBPyConnection, band_keys: Sequence[int]
) -> dict[int, list[Candidate]]:
    """Articles sharing an LSH band key, by key: index lookups (the ART index on band_key; EXPLAIN
    ANALYZE shows an index scan reading none of the table's row groups), no scan of the history."""
    if not band_keys:
        return {}
    pairs = con.execute(
        "SELECT b.band_key, b.article_id FROM (SELECT unnest(?::BIGINT[]) AS k) q "
        "JOIN article_bands b ON b.band_key = q.k",
        [sorted(set(band_keys))],
    ).fetchall()
    return {int(k): v for k, v in _by_key(con, pairs).items()}  # type: ignore[call-overload]


def get_story_candidates(
    con: duckdb.DuckDBPyConnection, story_keys: Sequence[str], since: datetime
) -> dict[str, list[Candidate]]:
    """Articles seen since `since` sharing a story blocking key, by key (index lookups, as above)."""
    if not story_keys:
        return {}
    pairs = con.execute(
        "SELECT s.story_key, s.article_id FROM (SELECT unnest(?::VARCHAR[]) AS k) q "
        "JOIN story_keys s ON s.story_key = q.k WHERE s.seen_at >= ?",
        [sorted(set(story_keys)), since],
    ).fetchall()
    return {str(k): v for k, v in _by_key(con, pairs).items()}


_ARTICLE_COLS = (
    "id",
    "url",
    "canonical_url",
    "source",
    "title",
    "author",
    "published_at",
    "fetched_at",
    "feed_updated_at",
    "lang",
    "text",
    "summary",
    "site_name",
    "guid",
    "extraction",
    "content_hash",
    "word_count",
    "cluster_id",
    "duplicate_of",
    "story_id",
    "minhash",
    "story_features",
)


def insert_articles(con: duckdb.DuckDBPyConnection, rows: Sequence[ArticleRow]) -> None:
    """Insert new articles (idempotent: an id already stored is left as it is)."""
    values = []
    for r in rows:
        a = r.article
        values.append(
            (
                a.id,
                a.url,
                a.canonical_url,
                a.source,
                a.title,
                a.author,
                a.published_at,
                a.fetched_at,
                a.updated_at,
                a.lang,
                a.text,
                a.summary,
                a.site_name,
                a.guid,
                a.extraction,
                a.content_hash,
                r.word_count,
                r.cluster_id,
                r.duplicate_of,
                r.story_id,
                r.minhash,
                r.story_features,
            )
        )
    insert_rows(con, "articles", _ARTICLE_COLS, values, on_conflict="ON CONFLICT (id) DO NOTHING")


def update_article_texts(con: duckdb.DuckDBPyConnection, rows: Sequence[ArticleRow], now: datetime) -> None:
    """An article changed in place: new text and hash, `changed_at` set; identity, cluster and story kept.
    One statement for the whole batch (the values travel column by column, as in `insert_rows`)."""
    if not rows:
        return
    columns: dict[str, tuple[str, list[object]]] = {
        "id": ("VARCHAR", [r.article.id for r in rows]),
        "title": ("VARCHAR", [r.article.title for r in rows]),
        "author": ("VARCHAR", [r.article.author for r in rows]),
        "text": ("VARCHAR", [r.article.text for r in rows]),
        "summary": ("VARCHAR", [r.article.summary for r in rows]),
        "content_hash": ("VARCHAR", [r.article.content_hash for r in rows]),
        "word_count": ("INTEGER", [r.word_count for r in rows]),
        "feed_updated_at": ("TIMESTAMPTZ", [r.article.updated_at for r in rows]),
        "minhash": ("BLOB", [r.minhash for r in rows]),
        "story_features": ("VARCHAR", [r.story_features for r in rows]),
        "extraction": ("VARCHAR", [r.article.extraction for r in rows]),
    }
    values = ", ".join(f"unnest(?::{kind}[]) AS {name}" for name, (kind, _) in columns.items())
    sets = ", ".join(f"{name} = v.{name}" for name in columns if name not in ("id", "author"))
    con.execute(
        f"UPDATE articles SET {sets}, author = coalesce(v.author, articles.author), changed_at = ? "
        f"FROM (SELECT {values}) v WHERE articles.id = v.id",
        [now, *(vals for _, vals in columns.values())],
    )
    ids = columns["id"][1]
    con.execute("DELETE FROM article_bands WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [ids])


def touch_feed_updated(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, datetime]]) -> None:
    """Remember the feed's <updated> for articles refetched without a change, so they are not refetched."""
    if not rows:
        return
    con.execute(
        "UPDATE articles SET feed_updated_at = v.w "
        "FROM (SELECT unnest(?::VARCHAR[]) AS id, unnest(?::TIMESTAMPTZ[]) AS w) v WHERE articles.id = v.id",
        [[aid for aid, _ in rows], [when for _, when in rows]],
    )


def insert_bands(con: duckdb.DuckDBPyConnection, bands: Sequence[tuple[int, str]]) -> None:
    insert_rows(con, "article_bands", ("band_key", "article_id"), bands)


def insert_story_keys(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str, datetime]]) -> None:
    insert_rows(con, "story_keys", ("story_key", "article_id", "seen_at"), keys)


def insert_sightings(
    con: duckdb.DuckDBPyConnection, sightings: Sequence[tuple[str, str, str, datetime]]
) -> None:
    """(article_id, source, url, seen_at): which sources carried an article; the first sighting per
    source is kept."""
    insert_rows(
        con,
        "article_sightings",
        ("article_id", "source", "url", "seen_at"),
        sightings,
        on_conflict="ON CONFLICT (article_id, source) DO NOTHING",
    )


def count_articles(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM articles").fetchone()
    return int(row[0]) if row else 0
