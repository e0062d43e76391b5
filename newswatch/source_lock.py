"""One poll of a source at a time, across processes: two `newswatch run` (or a manual run beside
`newswatch serve`) that reach the same source wait for each other instead of both fetching and
extracting its new pages. Correctness never depended on it (every write is idempotent); this saves the
duplicated work.

The lock is an advisory `flock` on a small file beside the database (`<db>.locks/<hash of the
source name>.lock`): the kernel releases it when its holder exits, even on SIGKILL, so no stale lock
outlives a crash. Where `flock` does not exist, or the lock file cannot be made, polls are not
serialised (the previous behaviour).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("newswatch.source_lock")

DEFAULT_WAIT_S = 600.0  # the longest a poll waits for another one of the same source
_RETRY_S = 0.1


def lock_path(db_path: Path, source: str) -> Path:
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    return db_path.with_name(db_path.name + ".locks") / f"{digest}.lock"


@contextlib.contextmanager
def hold_source_lock(db_path: Path, source: str, *, wait_s: float = DEFAULT_WAIT_S) -> Iterator[bool]:
    """Hold the source's lock for the block; yield True when another poll of it had to be waited for
    (its results are then in the store: re-read the source's state). After `wait_s` the block runs
    anyway, with a warning: a poll stuck that long must not stop this one."""
    fd = _open(lock_path(db_path, source))
    if fd is None:
        yield False
        return
    try:
        waited = _acquire(fd, source, wait_s)
        yield waited
    finally:
        os.close(fd)  # releases the lock


def _open(path: Path) -> int | None:
    if fcntl is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        log.warning("cannot create the poll lock %s (%s); polling without it", path, exc)
        return None


def _acquire(fd: int, source: str, wait_s: float) -> bool:
    assert fcntl is not None
    deadline = time.monotonic() + wait_s
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return waited
        except BlockingIOError:
            if not waited:
                log.info("source %s is being polled by another run; waiting for it", source)
            waited = True
            if time.monotonic() >= deadline:
                log.warning("source %s: locked by another run for %gs; polling anyway", source, wait_s)
                return waited
            time.sleep(_RETRY_S)
