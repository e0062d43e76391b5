"""Extraction on all cores, with a per-page time limit that holds even when a page hangs the parser.

`ExtractPool` keeps worker processes alive between calls (a poll session extracts many batches) and
runs each page in one of them: `extract` gives each page's `Extracted`; `stream` takes `(key, PageJob)`
tasks as the caller produces them and gives each result as soon as it is done, having run the whole of
`newswatch.analyse.analyse_page` in the worker (extraction, the article, its language, fingerprints and
labels), so that the per-page work after extraction uses every core too:

- workers come from the multiprocessing "forkserver" context: the pipeline runs in threads, and
  forking a threaded process is unsafe; the fork server is a clean single-threaded process that
  imports trafilatura once (preload), so a new worker costs a fork, not an interpreter start
  ("spawn" pays ~0.3 s of imports for every worker and every recycling);
- a page that runs longer than `page_timeout` gets `Extracted(text=None, error="extraction timed out
  after 20s")`; its worker is killed and replaced, the other pages go on;
- a worker that dies (segfault, SIGKILL, out of memory) costs only the page it held;
- a worker is replaced after `recycle_after` pages, to give back memory lxml keeps;
- calls are serialised (a lock): each batch or stream already uses every worker; a stream hands a
  worker its next task as soon as it is free, so no worker waits for a batch's slowest page.

Small batches are not special-cased: they too go through the pool, so the time limit always holds;
the pool starts on first use and later batches pay nothing for it (see docs/discover.md for timings).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from newswatch.analyse import Analysed, ExtractFn, PageJob, analyse_page
from newswatch.extract import extract_article
from newswatch.fork_server import worker_context
from newswatch.model import Extracted

log = logging.getLogger("newswatch.extract_pool")

Page = tuple[str, bytes, str | None]  # (key, html, url)
Job = tuple[str, PageJob]  # (key, what to analyse)
# What a worker sends back for a key; the pool itself answers with an Extracted error when a worker runs
# out of time or dies.
Result = Extracted | Analysed
__all__ = ["Analysed", "ExtractFn", "ExtractPool", "Job", "Page", "PageJob", "Result", "extract_many"]

_STOP_GRACE_S = 2.0
_MAX_FAILED_SENDS = 3


def _worker_main(conn: Connection, fn: ExtractFn) -> None:
    """Worker loop: (key, html, url) in, (key, Extracted) out, or (key, PageJob) in, (key, Analysed) out,
    until None or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        key, *payload = task
        try:
            result: Result = (
                analyse_page(payload[0], fn).without_page_text() if len(payload) == 1 else fn(*payload)
            )
        except Exception as exc:
            result = Extracted(text=None, error=f"extraction failed: {type(exc).__name__}: {exc}"[:300])
        try:
            conn.send((key, result))
        except (EOFError, OSError):
            return


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    done: int = 0
    key: str | None = None  # the page it holds, if any
    deadline: float = 0.0


class ExtractPool:
    """A reusable pool of extraction workers. Thread-safe; `close()` (or `with`) stops the workers."""

    def __init__(
        self,
        *,
        workers: int = 0,
        page_timeout: float = 20.0,
        recycle_after: int = 200,
        extract_fn: ExtractFn = extract_article,
    ) -> None:
        self.size = workers if workers > 0 else (os.cpu_count() or 1)
        self.page_timeout = page_timeout
        self.recycle_after = max(1, recycle_after)
        self._fn = extract_fn
        self._ctx = worker_context()
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> ExtractPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extract(self, pages: Sequence[Page]) -> dict[str, Extracted]:
        """key -> Extracted for every page (a repeated key is extracted once)."""
        results = self._run_all(pages)
        return {key: r if isinstance(r, Extracted) else _unexpected(r) for key, r in results.items()}

    def stream(self, tasks: Iterable[Page | Job]) -> Iterator[tuple[str, Result]]:
        """(key, result) for every task, in the order they finish (a repeated key is done once): an
        `Extracted` for a page, an `Analysed` for a job, or an `Extracted` error when the task ran out of
        time or its worker died.

        A task is taken from `tasks` only when a worker is free for it, so the producer may hand out
        pages as they become ready (fetched): the workers never wait for a batch's slowest page before
        starting on the next one. The pool is held until the stream ends or is closed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("ExtractPool is closed")
            pending = _Pending(tasks)
            busy: list[_Worker] = []
            try:
                yield from self._dispatch(pending, busy)
                while busy:
                    self._wait(busy)
                    finished: list[tuple[str, Result]] = []
                    for worker in list(busy):
                        outcome = self._collect(worker)
                        if outcome is None:
                            continue
                        busy.remove(worker)
                        self._release(worker, healthy=outcome[1].error is None or not _is_fatal(outcome[1]))
                        finished.append(outcome)
                    yield from self._dispatch(pending, busy)  # the freed workers get their next page first
                    yield from finished
            finally:  # interrupted (Ctrl-C, or the consumer stopped): no worker is left running a page
                for worker in busy:
                    self._stop(worker, kill=True)

    def _run_all(self, tasks: Sequence[Page] | Sequence[Job]) -> dict[str, Result]:
        results = dict(self.stream(tasks))
        return {key: results[key] for key in dict.fromkeys(t[0] for t in tasks)}

    def start(self) -> None:
        """Start the workers now (the fork server imports and loads what they need first, ~1 s), so
        that the first batch finds them ready; a no-op when they run already."""
        with self._lock:
            if self._closed:
                return
            while len(self._idle) < self.size:
                self._idle.append(self._start())

    def release(self) -> None:
        """Stop the idle workers (they start again on demand): their memory is not held while the caller
        does something big without them, such as writing a large batch."""
        with self._lock:
            workers, self._idle = self._idle, []
        for w in workers:
            self._stop(w)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._idle = self._idle, []
        for w in workers:
            self._stop(w)

    # -- scheduling ---------------------------------------------------------------------------------

    def _dispatch(self, pending: _Pending, busy: list[_Worker]) -> Iterator[tuple[str, Result]]:
        """Hand tasks to idle (or new) workers until every worker is busy or no task is ready; yields an
        error result for each task left when workers will not start."""
        failed_sends = 0
        while len(busy) < self.size:
            task = pending.take()
            if task is None:
                return
            worker = self._idle.pop() if self._idle else self._start()
            if self._send(worker, task):
                busy.append(worker)
                failed_sends = 0
                continue
            failed_sends += 1  # the worker was dead before it got the task: the task is not to blame
            pending.give_back(task)
            if failed_sends >= _MAX_FAILED_SENDS:
                for left in pending.drain():
                    yield left[0], Extracted(text=None, error="extraction workers do not start")
                return

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_worker_main, args=(child, self._fn), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _send(self, worker: _Worker, task: Page | Job) -> bool:
        key = task[0]
        try:
            worker.conn.send(task)
        except (OSError, EOFError, ValueError):
            self._stop(worker, kill=True)
            return False
        worker.key, worker.deadline = key, time.monotonic() + self.page_timeout
        return True

    def _wait(self, busy: list[_Worker]) -> None:
        if not busy:
            return
        timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        wait(handles, timeout=timeout)

    def _collect(self, worker: _Worker) -> tuple[str, Result] | None:
        """The worker's result, or an error result if it died or ran out of time; None while it works."""
        assert worker.key is not None
        key = worker.key
        try:
            if worker.conn.poll():
                got_key, result = worker.conn.recv()
                if got_key == key and isinstance(result, Extracted | Analysed):
                    return key, result
                return key, Extracted(text=None, error="extraction worker answered out of turn")
        except (EOFError, OSError):
            pass
        else:
            if worker.process.is_alive() and time.monotonic() < worker.deadline:
                return None
            if worker.process.is_alive():
                log.warning("extraction of %s timed out after %gs; worker killed", key, self.page_timeout)
                return key, _timed_out(self.page_timeout)
        worker.process.join(0.5)
        reason = _exit_reason(worker.process)
        log.warning("extraction worker died (%s) on %s; replaced", reason, key)
        return key, Extracted(text=None, error=f"extraction worker died ({reason})")

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        worker.key = None
        worker.done += 1
        if healthy and worker.process.is_alive() and worker.done < self.recycle_after:
            self._idle.append(worker)
        else:
            self._stop(worker, kill=not healthy)

    def _stop(self, worker: _Worker, *, kill: bool = False) -> None:
        """Ask an idle worker to exit; kill one that is stuck, or that does not exit in time."""
        if not kill and worker.process.is_alive():
            with contextlib.suppress(OSError, EOFError, ValueError):
                worker.conn.send(None)
            worker.process.join(_STOP_GRACE_S)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(_STOP_GRACE_S)
        worker.conn.close()
        with contextlib.suppress(ValueError):
            worker.process.close()


class _Pending:
    """The tasks not handed out yet: any given back (their worker was dead) first, then the producer's,
    each key once."""

    def __init__(self, tasks: Iterable[Page | Job]) -> None:
        self._back: deque[Page | Job] = deque()
        self._source = iter(tasks)
        self._seen: set[str] = set()

    def take(self) -> Page | Job | None:
        if self._back:
            return self._back.popleft()
        for task in self._source:
            if task[0] not in self._seen:
                self._seen.add(task[0])
                return task
        return None

    def give_back(self, task: Page | Job) -> None:
        self._back.appendleft(task)

    def drain(self) -> list[Page | Job]:
        left = []
        while (task := self.take()) is not None:
            left.append(task)
        return left


def _unexpected(result: Result) -> Extracted:
    return Extracted(text=None, error=f"extraction worker answered with a {type(result).__name__}")


def _timed_out(seconds: float) -> Extracted:
    return Extracted(text=None, error=f"extraction timed out after {seconds:g}s")


def _is_fatal(result: Result) -> bool:
    """Timeouts and deaths end the worker; an ordinary extraction error does not."""
    error = result.error or ""
    return error.startswith(("extraction timed out", "extraction worker"))


def _exit_reason(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "no exit code"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def extract_many(
    pages: Sequence[Page],
    *,
    workers: int,
    page_timeout: float,
    recycle_after: int,
    extract_fn: ExtractFn = extract_article,
) -> dict[str, Extracted]:
    """One batch through a pool made for it: (key, html, url) -> {key: Extracted}."""
    with ExtractPool(
        workers=workers, page_timeout=page_timeout, recycle_after=recycle_after, extract_fn=extract_fn
    ) as pool:
        return pool.extract(pages)
