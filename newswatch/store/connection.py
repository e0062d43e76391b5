"""Opening the DuckDB file: one writer at a time across processes, a bounded wait, clear errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newswatch.errors import StoreBusyError, StoreError

DEFAULT_WAIT_S = 120.0
# DuckDB's default is 80% of the machine's memory, which it fills with cached columns and index nodes of
# a large store (a poll into 100,000 articles: ~750 MB). The pipeline's short transactions do not need
# the cache: with this limit the same poll peaks at ~450 MB, in the same time; beyond it DuckDB spills.
PIPELINE_MEMORY_LIMIT = "256MB"
_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


def _is_lock_error(exc: BaseException) -> bool:
    return any(m in str(exc) for m in _LOCK_MARKERS)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def connect_with_wait(
    path: Path, *, read_only: bool, wait_s: float, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Connect, waiting (bounded) while another process holds the file. Raises StoreBusyError/StoreError."""
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute("SET TimeZone = 'UTC'")
            if memory_limit:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            return con
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"{path}: cannot open database: {_one_line(exc)}") from None
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"{path}: database busy: another process held it for more than {wait_s:.0f}s"
                ) from None
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)


class Connector:
    """Opens short-lived connections to one file; serialises this process's writers with a lock."""

    def __init__(self, path: Path, *, wait_s: float = DEFAULT_WAIT_S) -> None:
        self.path = path
        self.wait_s = wait_s
        self._lock = threading.RLock()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection inside one transaction: committed on success, rolled back on error."""
        with self._lock:
            con = connect_with_wait(
                self.path, read_only=False, wait_s=self.wait_s, memory_limit=PIPELINE_MEMORY_LIMIT
            )
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reads by this process (read-write mode: DuckDB allows one mode per process)."""
        with self._lock:
            con = connect_with_wait(
                self.path, read_only=False, wait_s=self.wait_s, memory_limit=PIPELINE_MEMORY_LIMIT
            )
            try:
                yield con
            finally:
                con.close()
