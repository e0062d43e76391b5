"""Sources' state (validators, health, schedule) and the `fetches` log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from newswatch.model import FetchRecord
from newswatch.store.rows import insert_rows


@dataclass(frozen=True)
class SourceState:
    name: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    failure_weight: float = 0.0
    interval_s: float | None = None
    next_due_at: datetime | None = None


_STATE_COLS = (
    "name",
    "etag",
    "last_modified",
    "body_hash",
    "last_polled_at",
    "last_success_at",
    "last_outcome",
    "last_error",
    "consecutive_failures",
    "failure_weight",
    "interval_s",
    "next_due_at",
)


def get_source_states(con: duckdb.DuckDBPyConnection) -> dict[str, SourceState]:
    rows = con.execute(f"SELECT {', '.join(_STATE_COLS)} FROM sources").fetchall()
    return {r[0]: SourceState(*r) for r in rows}


def upsert_source_state(
    con: duckdb.DuckDBPyConnection, kind: str, location: str | None, s: SourceState
) -> None:
    cols = ("kind", "location", *_STATE_COLS)
    values = (kind, location, *(getattr(s, c) for c in _STATE_COLS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "name")
    insert_rows(con, "sources", cols, [values], on_conflict=f"ON CONFLICT (name) DO UPDATE SET {updates}")


_FETCH_COLS = (
    "run_id",
    "source",
    "kind",
    "url",
    "started_at",
    "outcome",
    "status",
    "error",
    "elapsed_s",
    "entries",
    "new_articles",
    "updated_articles",
    "failed_pages",
)


def insert_fetches(
    con: duckdb.DuckDBPyConnection, run_id: str, kind: str, records: Sequence[FetchRecord]
) -> None:
    rows = [
        (
            run_id,
            r.source,
            kind,
            r.url,
            r.started_at,
            str(r.outcome),
            r.status,
            r.error,
            r.elapsed_s,
            r.entries,
            r.new_articles,
            r.updated_articles,
            r.failed_pages,
        )
        for r in records
    ]
    insert_rows(con, "fetches", _FETCH_COLS, rows)
