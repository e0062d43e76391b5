"""The schema, as numbered migrations applied in order on open. Never edit a released migration: add one."""

from __future__ import annotations

from typing import Final

import duckdb

MIGRATIONS: Final[tuple[tuple[int, str, str], ...]] = (
    (
        1,
        "core tables",
        """
        CREATE TABLE sources (
            name VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            location VARCHAR,                 -- url for feed/page, path for folder
            etag VARCHAR,
            last_modified VARCHAR,
            body_hash VARCHAR,                -- sha256 of the last body parsed (stale-validator skip)
            last_polled_at TIMESTAMPTZ,
            last_success_at TIMESTAMPTZ,
            last_outcome VARCHAR,
            last_error VARCHAR,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failure_weight DOUBLE NOT NULL DEFAULT 0,
            interval_s DOUBLE,                -- the interval in force (adapted when interval: auto)
            next_due_at TIMESTAMPTZ
        );
        CREATE SEQUENCE fetch_ids START 1;
        CREATE TABLE fetches (
            id BIGINT PRIMARY KEY DEFAULT nextval('fetch_ids'),
            run_id VARCHAR,
            source VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,            -- 'source': a poll of a feed/page/folder; 'page': a failed page
            url VARCHAR,
            started_at TIMESTAMPTZ NOT NULL,
            outcome VARCHAR NOT NULL,
            status INTEGER,
            error VARCHAR,
            elapsed_s DOUBLE,
            entries INTEGER,
            new_articles INTEGER,
            updated_articles INTEGER,
            failed_pages INTEGER
        );
        CREATE INDEX fetches_source_time ON fetches (source, started_at);
        CREATE TABLE articles (
            id VARCHAR PRIMARY KEY,           -- derived from canonical_url
            url VARCHAR NOT NULL,             -- the URL it was found at
            canonical_url VARCHAR NOT NULL,
            source VARCHAR NOT NULL,          -- the source that first brought it
            title VARCHAR,
            author VARCHAR,
            published_at TIMESTAMPTZ,
            fetched_at TIMESTAMPTZ NOT NULL,  -- first stored
            changed_at TIMESTAMPTZ,           -- last time its text changed (NULL: never)
            feed_updated_at TIMESTAMPTZ,      -- the feed's own <updated> for the entry
            lang VARCHAR NOT NULL,
            text VARCHAR,
            summary VARCHAR,
            site_name VARCHAR,
            guid VARCHAR,
            extraction VARCHAR NOT NULL,      -- ok | feed_only | text
            content_hash VARCHAR NOT NULL,
            word_count INTEGER,
            cluster_id VARCHAR,               -- near-duplicate cluster (= id of its original)
            duplicate_of VARCHAR,             -- NULL for originals
            story_id VARCHAR,                 -- same story, any wording or language
            minhash BLOB,
            story_features VARCHAR            -- JSON, for story matching
        );
        CREATE INDEX articles_hash ON articles (content_hash);
        CREATE INDEX articles_story ON articles (story_id);
        CREATE TABLE article_bands (
            band_key BIGINT NOT NULL,
            article_id VARCHAR NOT NULL
        );
        CREATE INDEX article_bands_key ON article_bands (band_key);
        CREATE TABLE story_keys (
            story_key VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            seen_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX story_keys_key ON story_keys (story_key);
        CREATE TABLE article_sightings (  -- every source that carried an article (for coverage)
            article_id VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            seen_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (article_id, source)
        );
        CREATE TABLE labels (
            article_id VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            score DOUBLE NOT NULL,
            evidence VARCHAR,                 -- JSON list of {sentence, terms}
            classifier_version VARCHAR NOT NULL,
            classified_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (article_id, label)
        );
        CREATE TABLE relations (
            article_id VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            orgs VARCHAR[] NOT NULL,
            kind VARCHAR,
            model VARCHAR,
            relation_key VARCHAR NOT NULL,    -- e.g. pair:microsoft|openai, model:microsoft|mai-1
            classifier_version VARCHAR NOT NULL
        );
        CREATE TABLE classifications (     -- one row per article: what version classified it, all scores
            article_id VARCHAR PRIMARY KEY,
            classifier_version VARCHAR NOT NULL,
            scores VARCHAR NOT NULL,         -- JSON {label: score}
            classified_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE digests (
            day DATE PRIMARY KEY,
            timezone VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            subject VARCHAR,
            counts VARCHAR,                   -- JSON {label: n}
            story_ids VARCHAR[],
            archive_path VARCHAR,
            message_id VARCHAR,
            recipients VARCHAR[],
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at TIMESTAMPTZ,
            last_error VARCHAR
        );
        CREATE TABLE digest_stories (
            day DATE NOT NULL,
            story_id VARCHAR NOT NULL,
            relation_keys VARCHAR[],
            coverage_count INTEGER,
            PRIMARY KEY (day, story_id)
        );
        """,
    ),
    (
        2,
        "analyst views",
        """
        CREATE VIEW stories AS
        WITH members AS (
            SELECT a.*, coalesce(a.story_id, a.id) AS sid FROM articles a
        ),
        ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY sid
                ORDER BY (duplicate_of IS NULL) DESC, fetched_at, coalesce(word_count, 0) DESC, id
            ) AS rn
            FROM members
        )
        SELECT
            sid AS story_id,
            max(CASE WHEN rn = 1 THEN id END) AS article_id,
            max(CASE WHEN rn = 1 THEN title END) AS title,
            max(CASE WHEN rn = 1 THEN canonical_url END) AS url,
            max(CASE WHEN rn = 1 THEN source END) AS source,
            min(fetched_at) AS first_seen,
            max(fetched_at) AS last_seen,
            min(published_at) AS first_published,
            count(*) AS members,
            count(*) FILTER (WHERE duplicate_of IS NULL) AS originals,
            list(DISTINCT source ORDER BY source) AS sources,
            list(DISTINCT lang ORDER BY lang) AS languages
        FROM ranked
        GROUP BY sid;

        CREATE VIEW article_labels AS
        SELECT a.id, a.title, a.source, a.lang, a.published_at, a.fetched_at, a.canonical_url,
               l.label, l.score, l.evidence, l.classifier_version
        FROM articles a JOIN labels l ON l.article_id = a.id;

        CREATE VIEW source_health AS
        SELECT
            s.name AS source, s.kind, s.location, s.last_polled_at, s.last_success_at, s.last_outcome,
            s.last_error, s.consecutive_failures, s.failure_weight, s.interval_s, s.next_due_at,
            (SELECT count(*) FROM articles a
              WHERE a.source = s.name AND a.fetched_at >= now() - INTERVAL 7 DAY) AS articles_7d,
            (SELECT count(*) FROM fetches f
              WHERE f.source = s.name AND f.kind = 'source' AND f.started_at >= now() - INTERVAL 1 DAY
                AND f.outcome NOT IN ('ok', 'not_modified')) AS failures_24h
        FROM sources s;
        """,
    ),
)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the schema up to date inside one transaction per migration. Returns the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[int] = []
    for version, name, sql in MIGRATIONS:
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0
