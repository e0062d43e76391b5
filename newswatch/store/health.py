"""Per-source health, from the `source_health` view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class HealthRow:
    source: str
    kind: str
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    consecutive_failures: int
    interval_s: float | None
    next_due_at: datetime | None
    articles_7d: int
    failures_24h: int


def get_source_health(con: duckdb.DuckDBPyConnection) -> dict[str, HealthRow]:
    rows = con.execute(
        "SELECT source, kind, last_polled_at, last_success_at, last_outcome, last_error, "
        "consecutive_failures, interval_s, next_due_at, articles_7d, failures_24h FROM source_health"
    ).fetchall()
    return {r[0]: HealthRow(*r) for r in rows}
