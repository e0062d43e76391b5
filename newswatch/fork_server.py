"""The multiprocessing context of the extraction workers, and starting its fork server ahead of need.

Kept apart from newswatch.extract_pool so that a caller can start the fork server without importing
what the workers run (trafilatura, numpy...): the fork server imports those itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext, SpawnContext

log = logging.getLogger("newswatch.fork_server")

# Imported once by the fork server, so that a new worker is a cheap fork. Each worker still re-runs the
# parent's main script as __mp_main__ (CPython 3.11's forkserver never preloads __main__, although it
# is listed), so the modules the `newswatch` console script imports are preloaded too: a fresh worker
# then costs ~10 ms instead of ~150 ms. newswatch.worker_preload also loads langdetect's profiles
# (~0.3 s a worker otherwise). A name that does not import is skipped by the server.
PRELOAD = ["__main__", "newswatch.extract_pool", "newswatch.worker_preload", "newswatch.cli"]


def worker_context() -> ForkServerContext | SpawnContext:
    """forkserver where the platform has it (Linux, macOS), spawn elsewhere."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx: ForkServerContext = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)  # only takes effect if the fork server is not running yet
        return ctx
    return multiprocessing.get_context("spawn")


def start_early() -> threading.Thread | None:
    """Start the fork server now, in a background thread, and return that thread (None where workers
    are spawned, not forked).

    The server's imports (trafilatura, numpy, langdetect's profiles: ~1 s of CPU) then run on another
    core while the caller does something else (`newswatch run` boots Prefect and reads the feeds),
    instead of after the first new entries are found, with every page waiting for them. A run with
    nothing new pays that second of CPU on an otherwise idle core; the server is one process for the
    life of the caller, whoever starts it. A failure here is only logged: the pool starts the server
    again on first use and reports there.
    """
    if not isinstance(worker_context(), ForkServerContext):
        return None

    def start() -> None:
        try:
            forkserver.ensure_running()
        except Exception:
            log.debug("starting the fork server early failed", exc_info=True)

    thread = threading.Thread(target=start, name="newswatch-forkserver", daemon=True)
    thread.start()
    return thread
