"""A stand-in extraction for the extraction workers, kept in a module of its own: a worker imports the
module of the function it runs, and this one must import fast (the fault matrix builds megabytes of
hostile bodies at import time)."""

from __future__ import annotations

import os
import signal
import time

from newswatch.extract import extract_article
from newswatch.model import Extracted


def scripted_extract(html: bytes, url: str | None) -> Extracted:
    """Real extraction, except for pages that ask to hang forever or to kill their worker."""
    if b"HANG-FOREVER" in html:
        time.sleep(600)
    if b"KILL-MY-WORKER" in html:
        os.kill(os.getpid(), signal.SIGKILL)
    return extract_article(html, url)
