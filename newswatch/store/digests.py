"""What the digest reads (the day's stories, earlier digests, source health) and the `digests` rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from newswatch.store.rows import insert_rows


@dataclass(frozen=True)
class StoryMemberRow:
    story_id: str
    article_id: str
    title: str
    url: str
    source: str
    lang: str
    published_at: datetime | None
    fetched_at: datetime
    text: str
    duplicate_of: str | None
    labels: dict[str, float]
    relations: tuple[
        tuple[str, tuple[str, ...], str | None, str | None, str], ...
    ]  # label, orgs, kind, model, key


def get_story_members(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[StoryMemberRow]:
    """Every article (up to `end`) of every story that gained an article during [start, end)."""
    rows = con.execute(
        """
        WITH touched AS (
            SELECT DISTINCT coalesce(story_id, id) AS sid FROM articles
            WHERE fetched_at >= ? AND fetched_at < ?
        )
        SELECT coalesce(a.story_id, a.id), a.id, a.title, a.canonical_url, a.source, a.lang, a.published_at,
               a.fetched_at, a.text, a.duplicate_of,
               (SELECT list(struct_pack(label := l.label, score := l.score) ORDER BY l.label)
                  FROM labels l WHERE l.article_id = a.id),
               (SELECT list(struct_pack(label := r.label, orgs := r.orgs, kind := r.kind, model := r.model,
                                        rkey := r.relation_key) ORDER BY r.relation_key)
                  FROM relations r WHERE r.article_id = a.id)
        FROM articles a JOIN touched t ON coalesce(a.story_id, a.id) = t.sid
        WHERE a.fetched_at < ?
        ORDER BY 1, a.fetched_at, a.id
        """,
        [start, end, end],
    ).fetchall()
    out = []
    for r in rows:
        labels = {x["label"]: float(x["score"]) for x in (r[10] or [])}
        rels = tuple(
            (x["label"], tuple(x["orgs"] or ()), x["kind"], x["model"], x["rkey"]) for x in (r[11] or [])
        )
        out.append(
            StoryMemberRow(
                r[0], r[1], r[2] or "", r[3], r[4], r[5], r[6], r[7], r[8] or "", r[9], labels, rels
            )
        )
    return out


def get_sent_stories(con: duckdb.DuckDBPyConnection, before: date) -> list[tuple[str, date, list[str], int]]:
    """(story_id, day, relation_keys, coverage_count) of stories in digests actually sent before `before`."""
    return [
        (r[0], r[1], list(r[2] or []), int(r[3] or 0))
        for r in con.execute(
            "SELECT ds.story_id, ds.day, ds.relation_keys, ds.coverage_count FROM digest_stories ds "
            "JOIN digests d ON d.day = ds.day WHERE d.sent_at IS NOT NULL AND ds.day < ? ORDER BY ds.day",
            [before],
        ).fetchall()
    ]


def get_known_relation_keys(con: duckdb.DuckDBPyConnection, before: datetime) -> frozenset[str]:
    rows = con.execute(
        "SELECT DISTINCT r.relation_key FROM relations r JOIN articles a ON a.id = r.article_id "
        "WHERE a.fetched_at < ?",
        [before],
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


@dataclass(frozen=True)
class HealthDayRow:
    source: str
    failures: int
    successes: int
    last_error: str | None
    last_new_at: datetime | None
    usual_gap: timedelta | None


def get_source_day_health(
    con: duckdb.DuckDBPyConnection, sources: Sequence[str], start: datetime, end: datetime
) -> list[HealthDayRow]:
    """Per configured source: polls failed/succeeded during the day, last error, and how often it
    usually brings new articles (mean gap over 30 days between polls that did)."""
    rows = con.execute(
        """
        WITH src AS (SELECT unnest(?::VARCHAR[]) AS source),
        day AS (
            SELECT source,
                   count(*) FILTER (WHERE outcome NOT IN ('ok', 'not_modified')) AS failures,
                   count(*) FILTER (WHERE outcome IN ('ok', 'not_modified')) AS successes,
                   arg_max(error, started_at)
                       FILTER (WHERE outcome NOT IN ('ok', 'not_modified')) AS last_error
            FROM fetches WHERE kind = 'source' AND started_at >= ? AND started_at < ? GROUP BY source
        ),
        yields AS (
            SELECT source, max(started_at) AS last_new_at, count(*) AS n,
                   (epoch(max(started_at)) - epoch(min(started_at))) / nullif(count(*) - 1, 0) AS gap_s
            FROM fetches
            WHERE kind = 'source' AND new_articles > 0
              AND started_at < ? AND started_at >= ?::TIMESTAMPTZ - INTERVAL 30 DAY
            GROUP BY source
        )
        SELECT src.source, coalesce(day.failures, 0), coalesce(day.successes, 0), day.last_error,
               yields.last_new_at, CASE WHEN yields.n >= 3 THEN yields.gap_s END
        FROM src LEFT JOIN day USING (source) LEFT JOIN yields USING (source)
        ORDER BY src.source
        """,
        [list(sources), start, end, end, end],
    ).fetchall()
    return [
        HealthDayRow(r[0], int(r[1]), int(r[2]), r[3], r[4], timedelta(seconds=float(r[5])) if r[5] else None)
        for r in rows
    ]


@dataclass(frozen=True)
class DigestRecord:
    day: date
    timezone: str
    created_at: datetime
    subject: str
    counts: dict[str, int]
    story_ids: list[str]
    archive_path: str
    message_id: str | None
    recipients: list[str]
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None


def get_digest(con: duckdb.DuckDBPyConnection, day: date) -> DigestRecord | None:
    r = con.execute(
        "SELECT day, timezone, created_at, subject, counts, story_ids, archive_path, message_id, recipients, "
        "attempts, sent_at, last_error FROM digests WHERE day = ?",
        [day],
    ).fetchone()
    if r is None:
        return None
    return DigestRecord(
        r[0],
        r[1],
        r[2],
        r[3] or "",
        json.loads(r[4] or "{}"),
        list(r[5] or []),
        r[6] or "",
        r[7],
        list(r[8] or []),
        int(r[9] or 0),
        r[10],
        r[11],
    )


def upsert_digest(
    con: duckdb.DuckDBPyConnection, rec: DigestRecord, stories: Sequence[tuple[str, list[str], int]]
) -> None:
    """Save (or rebuild) a day's digest and its stories. `sent_at` of an already sent day is kept."""
    cols = (
        "day",
        "timezone",
        "created_at",
        "subject",
        "counts",
        "story_ids",
        "archive_path",
        "message_id",
        "recipients",
        "attempts",
        "sent_at",
        "last_error",
    )
    values = (
        rec.day,
        rec.timezone,
        rec.created_at,
        rec.subject,
        json.dumps(rec.counts, sort_keys=True),
        rec.story_ids,
        rec.archive_path,
        rec.message_id,
        rec.recipients,
        rec.attempts,
        rec.sent_at,
        rec.last_error,
    )
    keep = {"sent_at", "attempts", "day"}
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keep)
    insert_rows(con, "digests", cols, [values], on_conflict=f"ON CONFLICT (day) DO UPDATE SET {updates}")
    con.execute("DELETE FROM digest_stories WHERE day = ?", [rec.day])
    insert_rows(
        con,
        "digest_stories",
        ("day", "story_id", "relation_keys", "coverage_count"),
        [(rec.day, sid, keys, n) for sid, keys, n in stories],
    )


def mark_digest_attempt(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    sent_at: datetime | None,
    error: str | None,
    recipients: Sequence[str],
    message_id: str | None,
) -> None:
    """Record one delivery attempt: `sent_at` only once the server accepted the message."""
    con.execute(
        "UPDATE digests SET attempts = attempts + 1, sent_at = coalesce(?, sent_at), last_error = ?, "
        "recipients = ?, message_id = coalesce(?, message_id) WHERE day = ?",
        [sent_at, error, list(recipients), message_id, day],
    )
