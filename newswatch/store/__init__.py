"""The only package that speaks SQL. Open with `open_store(path)`: the schema is migrated on open.

Connections are short-lived: one per write transaction (so an analyst can open the file read-only
between writes), serialised inside the process, with a bounded wait for other processes.
"""

from __future__ import annotations

from pathlib import Path

from newswatch.errors import StoreError
from newswatch.store.connection import DEFAULT_WAIT_S, Connector
from newswatch.store.schema import apply_migrations


class Store(Connector):
    """A DuckDB file with the newswatch schema."""


def open_store(path: str | Path, *, wait_s: float = DEFAULT_WAIT_S) -> Store:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{p}: cannot create the folder for the database: {exc.strerror}") from None
    if p.exists() and p.is_dir():
        raise StoreError(f"{p}: is a folder, not a database file (pass --db FILE)")
    store = Store(p, wait_s=wait_s)
    with store.read() as con:
        try:
            apply_migrations(con)
        except Exception as exc:
            msg = " ".join(str(exc).split())[:300]
            raise StoreError(f"{p}: cannot migrate the schema: {msg}") from None
    return store


__all__ = ["Store", "open_store"]
