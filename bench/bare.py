"""The reference: serial `trafilatura.extract` over pages already in memory, in a process of its own.

    python -m bench.bare PAGES.pickle   -> prints {"wall_s": ..., "cpu_s": ...}

A process of its own so that trafilatura is the library as installed: newswatch.extract, once imported,
speeds trafilatura up in place (newswatch/trafilatura_fast.py), and the bench process imports it.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path


def measure(pages: list[bytes]) -> tuple[float, float]:
    """(wall, CPU) seconds of `trafilatura.extract` over the pages, after a warm-up on three of them."""
    import trafilatura

    if "newswatch.trafilatura_fast" in sys.modules:
        raise RuntimeError("bare trafilatura was asked for, newswatch's speed-ups are loaded")
    for html in pages[:3]:
        trafilatura.extract(html)  # imports and caches outside the timing
    started, cpu = time.perf_counter(), time.process_time()
    for html in pages:
        trafilatura.extract(html)
    return time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str]) -> int:
    pages = pickle.loads(Path(argv[0]).read_bytes())
    wall, cpu = measure(pages)
    print(json.dumps({"wall_s": wall, "cpu_s": cpu}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
