"""Batched inserts: multi-row VALUES statements in chunks, never a statement per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

_MAX_PARAMS = 20_000


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    on_conflict: str = "",
) -> None:
    """INSERT rows in chunks of one statement each. `on_conflict` is appended verbatim (trusted SQL)."""
    if not rows:
        return
    width = len(columns)
    per_chunk = max(1, _MAX_PARAMS // width)
    placeholder = "(" + ", ".join("?" * width) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        params: list[Any] = []
        for row in chunk:
            if len(row) != width:
                raise ValueError(f"{table}: row has {len(row)} values for {width} columns")
            params.extend(row)
        con.execute(head + ", ".join([placeholder] * len(chunk)) + (" " + on_conflict if on_conflict else ""),
                    params)
