"""`newswatch query`: analysts' SQL on a read-only connection, printed as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from newswatch.errors import QueryError
from newswatch.store.connection import DEFAULT_WAIT_S, connect_with_wait


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def run_query(path: Path, sql: str, *, wait_s: float = DEFAULT_WAIT_S) -> QueryResult:
    """Run `sql` read-only. Writes are refused by DuckDB itself; errors come back as one clean line."""
    if not path.exists():
        raise QueryError(f"{path}: no database here yet (run `newswatch run` first, or pass --db)")
    con = connect_with_wait(path, read_only=True, wait_s=wait_s)
    try:
        # read-only covers the database; this covers the rest: no COPY TO/EXPORT into files, no reading
        # local files (read_csv('/etc/...')), no ATTACH, no extensions (httpfs) — and it cannot be re-enabled.
        # The price: a query cannot spill to disk, so one needing more than DuckDB's memory limit fails.
        con.execute("SET enable_external_access = false")
        cur = con.execute(sql)
        desc = cur.description or []
        rows = cur.fetchall() if desc else []
        return QueryResult(tuple(d[0] for d in desc), rows)
    except duckdb.Error as exc:
        msg = " ".join(str(exc).split())
        raise QueryError(f"query failed: {msg[:400]}") from None
    finally:
        con.close()


def _cell(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    if isinstance(v, list | tuple):
        return [_cell(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _cell(x) for k, x in v.items()}
    return v


def _text(v: Any, width: int) -> str:
    if v is None:
        s = "NULL"
    elif isinstance(v, list | tuple | dict):
        s = json.dumps(_cell(v), ensure_ascii=False)
    else:
        s = str(_cell(v))
    s = " ".join(s.split())
    return s if len(s) <= width else s[: width - 1] + "…"


def render_table(r: QueryResult, max_width: int = 60) -> str:
    if not r.columns:
        return "(no result set)"
    cells = [[_text(v, max_width) for v in row] for row in r.rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(r.columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(r.columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([line.rstrip(), rule, *body, f"({len(r.rows)} row{'s' if len(r.rows) != 1 else ''})"])


def render_csv(r: QueryResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(r.columns)
    for row in r.rows:
        w.writerow(
            [
                json.dumps(_cell(v), ensure_ascii=False) if isinstance(v, list | dict) else _cell(v)
                for v in row
            ]
        )
    return buf.getvalue().rstrip("\n")


def render_json(r: QueryResult) -> str:
    return "\n".join(
        json.dumps(dict(zip(r.columns, (_cell(v) for v in row), strict=True)), ensure_ascii=False)
        for row in r.rows
    )


def render_result(r: QueryResult, fmt: str) -> str:
    renderers = {"table": render_table, "csv": render_csv, "json": render_json}
    return renderers[fmt](r)
