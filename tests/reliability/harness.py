"""Run one poll the way the flow does (a PollSession, sources on a thread pool) and check the store after.

`assert_store_consistent` is the "nothing half-written" check every reliability test ends with: no article
without its classification, no label, relation, band, story key or sighting without its article, no
duplicate of a missing original, no canonical URL stored twice, and every `fetches` row a clear one-liner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newswatch.config import Config, parse_config
from newswatch.extract import extract_article
from newswatch.extract_pool import ExtractFn
from newswatch.fetch import Resolver
from newswatch.model import Outcome, SourceReport
from newswatch.pipeline import PollSession
from newswatch.store import open_store
from newswatch.store.query import run_query

SOURCE_THREADS = 4  # as flows/poll_sources.py

FAST_FETCH: dict[str, Any] = {
    "connect_timeout": 1,
    "read_timeout": 0.5,
    "total_timeout": 1.0,
    "max_bytes": 1_000_000,
    "max_retry_after": 1,
    "per_host": 4,
    "concurrency": 8,
}
FAST_EXTRACT: dict[str, Any] = {"workers": 2, "page_timeout": 10}


def everything_local(host: str, port: int) -> list[str]:
    """Every host name is this machine: lets a test have several distinct 'sites' on 127.0.0.1."""
    return ["127.0.0.1"]


def make_config(sources: list[dict[str, Any]], **extra: Any) -> Config:
    fetch = {**FAST_FETCH, **extra.pop("fetch", {})}
    extract = {**FAST_EXTRACT, **extra.pop("extract", {})}
    raw = {"allow_private_networks": True, "sources": sources, "fetch": fetch, "extract": extract, **extra}
    return parse_config(raw, origin="test-config")


@dataclass
class Poll:
    db: Path
    reports: dict[str, SourceReport]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return run_query(self.db, sql).rows

    def source_fetch(self, source: str) -> tuple[str, int | None, str | None]:
        """(outcome, status, error) of the latest source-level row of `source`."""
        rows = self.rows(
            f"SELECT outcome, status, error FROM fetches WHERE kind = 'source' AND source = '{source}' "
            "ORDER BY id DESC LIMIT 1"
        )
        assert rows, f"no fetches row for source {source}"
        outcome, status, error = rows[0]
        return str(outcome), status, error

    def page_fetches(self, source: str) -> list[tuple[str, str, str | None]]:
        """(url, outcome, error) of every page-level row of `source`."""
        return [
            (str(u), str(o), e)
            for u, o, e in self.rows(
                "SELECT url, outcome, error FROM fetches "
                f"WHERE kind = 'page' AND source = '{source}' ORDER BY id"
            )
        ]

    def articles(self, source: str) -> list[tuple[str, str, str]]:
        """(url, title, extraction) of the articles `source` brought, by URL."""
        return [
            (str(u), str(t), str(x))
            for u, t, x in self.rows(
                f"SELECT url, title, extraction FROM articles WHERE source = '{source}' ORDER BY url"
            )
        ]


def run_poll(
    config: Config,
    db: Path,
    *,
    names: Sequence[str] = (),
    extract_fn: ExtractFn = extract_article,
    resolve: Resolver | None = everything_local,
    session_hook: Callable[[PollSession], None] | None = None,
) -> Poll:
    """One poll of all (or the named) sources, sources in parallel as the flow runs them."""
    store = open_store(db)
    with PollSession(config, store, extract_fn=extract_fn, resolve=resolve) as session:
        if session_hook is not None:
            session_hook(session)
        chosen = [s.name for s in session.select_sources(names)]
        with ThreadPoolExecutor(max_workers=SOURCE_THREADS) as pool:
            reports = list(pool.map(session.poll_source, chosen))
    return Poll(db, {r.source: r for r in reports})


_ORPHANS = {
    "article without classification": "SELECT a.id FROM articles a ANTI JOIN classifications c "
    "ON c.article_id = a.id",
    "classification without article": "SELECT c.article_id FROM classifications c ANTI JOIN articles a "
    "ON a.id = c.article_id",
    "label without article": "SELECT l.article_id FROM labels l ANTI JOIN articles a ON a.id = l.article_id",
    "label without classification": "SELECT l.article_id FROM labels l ANTI JOIN classifications c "
    "ON c.article_id = l.article_id",
    "relation without article": "SELECT r.article_id FROM relations r ANTI JOIN articles a "
    "ON a.id = r.article_id",
    "band without article": "SELECT b.article_id FROM article_bands b ANTI JOIN articles a "
    "ON a.id = b.article_id",
    "story key without article": "SELECT k.article_id FROM story_keys k ANTI JOIN articles a "
    "ON a.id = k.article_id",
    "sighting without article": "SELECT s.article_id FROM article_sightings s ANTI JOIN articles a "
    "ON a.id = s.article_id",
    "duplicate of a missing article": "SELECT a.id FROM articles a WHERE a.duplicate_of IS NOT NULL "
    "AND a.duplicate_of NOT IN (SELECT id FROM articles)",
    "canonical URL stored twice": "SELECT canonical_url FROM articles GROUP BY canonical_url "
    "HAVING count(*) > 1",
    "article without text or title": "SELECT id FROM articles WHERE coalesce(title, '') = '' "
    "AND coalesce(text, '') = ''",
    "article with a non-http URL": "SELECT id FROM articles WHERE NOT (url ILIKE 'http://%' "
    "OR url ILIKE 'https://%') OR NOT (canonical_url ILIKE 'http://%' OR canonical_url ILIKE 'https://%')",
    "fetch with a multi-line error": "SELECT id FROM fetches WHERE error LIKE '%' || chr(10) || '%' "
    "OR error LIKE '%' || chr(13) || '%' OR length(error) > 400",
    "failed fetch without an error": "SELECT id FROM fetches WHERE outcome NOT IN ('ok', 'not_modified') "
    "AND coalesce(error, '') = ''",
}


def assert_store_consistent(db: Path) -> None:
    """Nothing half-written: see the module docstring. One read-only query (one connection)."""
    outcomes = ", ".join(f"'{o}'" for o in Outcome)
    checks = {
        **_ORPHANS,
        "fetch with an unknown outcome": f"SELECT id FROM fetches WHERE outcome NOT IN ({outcomes})",
        "fetch of an unknown kind": "SELECT id FROM fetches WHERE kind NOT IN ('source', 'page')",
    }
    sql = " UNION ALL ".join(
        f"SELECT '{what}' AS problem, CAST(x AS VARCHAR) AS example FROM ({q}) AS t(x)"
        for what, q in checks.items()
    )
    problems = run_query(db, sql).rows
    assert not problems, problems[:10]
