"""ExtractPool / extract_many: real worker processes, real timeouts, real crashes.

Hangs and crashes cannot be provoked on demand in trafilatura, so these tests hand the pool a real
top-level function of this module (picklable, run in the workers) that sleeps, dies or raises when the
"page" tells it to.
"""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from newswatch.extract import extract_article
from newswatch.extract_pool import ExtractPool, extract_many
from newswatch.model import Extracted


def scripted_extract(html: bytes, url: str | None) -> Extracted:
    """A stand-in extraction driven by the page body: hang, die, segv, raise, pid, or echo."""
    command = html.decode()
    if command == "hang":
        time.sleep(120)
    elif command == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    elif command == "segv":
        ctypes.string_at(0)
    elif command == "raise":
        raise RuntimeError("boom")
    elif command == "pid":
        return Extracted(text=str(os.getpid()))
    elif command.startswith("sleep:"):
        time.sleep(float(command.split(":")[1]))
    return Extracted(text=command.upper(), title=url)


def _run(pages: Sequence[tuple[str, bytes, str | None]], **kw: object) -> dict[str, Extracted]:
    options: dict[str, object] = {"workers": 2, "page_timeout": 10.0, "recycle_after": 100}
    options.update(kw)
    return extract_many(pages, extract_fn=scripted_extract, **options)  # type: ignore[arg-type]


def test_real_extraction_matches_in_process(corpus: Path) -> None:
    root = corpus / "article-extraction-benchmark"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:6]
    pages = [
        (k, gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes()), truth[k]["url"]) for k in keys
    ]
    pooled = extract_many(pages, workers=2, page_timeout=60, recycle_after=2)
    assert list(pooled) == keys
    for key, html, url in pages:
        assert pooled[key] == extract_article(html, url)


def test_a_hanging_page_times_out_and_the_rest_go_on() -> None:
    pages = [("a", b"a", "u1"), ("h", b"hang", None), ("b", b"b", None), ("c", b"c", None), ("d", b"d", None)]
    started = time.monotonic()
    results = _run(pages, page_timeout=3.0)  # room for a fresh worker's start on a loaded machine
    elapsed = time.monotonic() - started
    assert results["h"] == Extracted(text=None, error="extraction timed out after 3s")
    assert [results[k].text for k in "abcd"] == ["A", "B", "C", "D"]
    assert results["a"].title == "u1"
    assert elapsed < 20, elapsed


def test_a_worker_that_dies_costs_only_its_page() -> None:
    pages = [("k", b"die", None), ("s", b"segv", None), *[(str(i), f"p{i}".encode(), None) for i in range(6)]]
    results = _run(pages)
    assert results["k"].text is None and results["k"].error == "extraction worker died (signal SIGKILL)"
    assert results["s"].text is None and results["s"].error == "extraction worker died (signal SIGSEGV)"
    assert [results[str(i)].text for i in range(6)] == [f"P{i}" for i in range(6)]


def test_an_exception_is_an_error_and_the_worker_lives_on() -> None:
    with ExtractPool(workers=1, page_timeout=10, recycle_after=100, extract_fn=scripted_extract) as pool:
        first = pool.extract([("p1", b"pid", None)])["p1"].text
        failed = pool.extract([("x", b"raise", None)])["x"]
        second = pool.extract([("p2", b"pid", None)])["p2"].text
    assert failed == Extracted(text=None, error="extraction failed: RuntimeError: boom")
    assert first == second  # same worker process
    with pytest.raises(ProcessLookupError):  # closed: the worker is gone (and reaped)
        os.kill(int(first or 0), 0)


def test_workers_are_recycled_and_reused() -> None:
    with ExtractPool(workers=1, page_timeout=10, recycle_after=2, extract_fn=scripted_extract) as pool:
        pids = [pool.extract([(f"p{i}", b"pid", None)])[f"p{i}"].text for i in range(6)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4] == pids[5]
    with ExtractPool(workers=2, page_timeout=10, recycle_after=1000, extract_fn=scripted_extract) as pool:
        seen = {
            r.text
            for _ in range(3)
            for r in pool.extract([(str(i), b"pid", None) for i in range(8)]).values()
        }
    assert 1 <= len(seen) <= 2  # never more processes than workers, kept across calls


def test_concurrent_callers_each_get_their_own_results() -> None:
    out: dict[int, dict[str, Extracted]] = {}
    with ExtractPool(workers=2, page_timeout=10, recycle_after=100, extract_fn=scripted_extract) as pool:

        def call(n: int) -> None:
            out[n] = pool.extract([(f"{n}-{i}", f"t{n}{i}".encode(), None) for i in range(5)])

        threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for n in range(4):
        assert {k: v.text for k, v in out[n].items()} == {f"{n}-{i}": f"T{n}{i}" for i in range(5)}


def test_duplicate_keys_empty_batches_and_close() -> None:
    pool = ExtractPool(workers=0, page_timeout=10, recycle_after=100, extract_fn=scripted_extract)
    assert pool.size == (os.cpu_count() or 1)
    assert pool.extract([]) == {}
    assert {k: v.text for k, v in pool.extract([("a", b"x", None), ("a", b"y", None)]).items()} == {"a": "X"}
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.extract([("a", b"x", None)])


def test_start_then_release_stops_the_idle_workers_and_they_come_back_on_demand() -> None:
    with ExtractPool(workers=2, page_timeout=10, recycle_after=100, extract_fn=scripted_extract) as pool:
        pool.start()  # both workers up before any page
        before = {r.text for r in pool.extract([(str(i), b"pid", None) for i in range(6)]).values()}
        pool.release()
        for pid in before:
            with pytest.raises(ProcessLookupError):  # stopped and reaped
                os.kill(int(pid or 0), 0)
        after = {r.text for r in pool.extract([(str(i), b"pid", None) for i in range(6)]).values()}
    assert len(before) == 2 and after and not (after & before)


def test_analyse_runs_the_whole_page_job_in_a_worker() -> None:
    """A PageJob comes back as an Analysed: the extraction, the article and its fingerprints."""
    from datetime import UTC, datetime

    from newswatch.analyse import Analysed, PageJob
    from newswatch.classify import default_classifier
    from newswatch.config import DedupeConfig
    from newswatch.model import Entry

    html = (
        b"<html lang='en'><head><title>Acme signs a deal</title></head><body><article>"
        + b"".join(
            f"<p>Acme Corp signed agreement number {i} with Example AI to host model family {i} in "
            f"its data centre {i * 7} from the spring, the companies said on day {i}.</p>".encode()
            for i in range(30)
        )
        + b"</article></body></html>"
    )
    entry = Entry(url="https://news.example/acme", title="Acme signs a deal with Example AI")
    job = PageJob(entry=entry, html=html, url=entry.url, source="s", fetched_at=datetime.now(UTC),
                  dedupe=DedupeConfig())  # fmt: skip
    with ExtractPool(workers=1, page_timeout=30, recycle_after=100) as pool:
        (key, result), *rest = pool.stream([("k", replace(job, classify=True))])
        ((_, unlabelled),) = pool.stream([("u", job)])
    assert key == "k" and not rest
    assert isinstance(result, Analysed) and result.error is None
    assert result.prepared is not None and result.prepared.article.lang == "en"
    article = result.prepared.article
    assert "Acme Corp signed" in article.text
    assert result.prepared.signature is not None and len(result.prepared.band_keys) > 0
    # labelled in the worker with the shipped topics, as this process would label it
    assert result.classification == default_classifier().classify(article.title, article.text, article.lang)
    assert isinstance(unlabelled, Analysed) and unlabelled.classification is None
    # the page's extracted text does not travel back (the article has it)
    assert result.extracted is not None and result.extracted.text is None


def test_stream_takes_tasks_as_workers_free_up_and_answers_as_they_finish() -> None:
    """A stream pulls a task only when a worker is free for it, and a slow task holds back no other:
    what the pipeline relies on to feed pages as they are fetched, across chunk boundaries."""
    answered: list[str] = []
    pulled_after: dict[str, int] = {}  # task -> answers received when it was pulled

    def tasks() -> Iterator[tuple[str, bytes, str | None]]:
        for key, body in [("slow", b"sleep:3"), *((k, k.encode()) for k in "abcdef")]:
            pulled_after[key] = len(answered)
            yield key, body, None

    with ExtractPool(workers=2, page_timeout=30, recycle_after=100, extract_fn=scripted_extract) as pool:
        pool.start()
        for key, result in pool.stream(tasks()):
            answered.append(key)
            assert isinstance(result, Extracted) and result.error is None
    assert answered[-1] == "slow" and sorted(answered[:-1]) == list("abcdef")
    assert pulled_after["slow"] == pulled_after["a"] == 0  # one task per free worker at the start...
    # ...then one per answer, handed to the freed worker before that answer reaches the consumer
    assert [pulled_after[k] for k in "bcdef"] == [0, 1, 2, 3, 4]


def test_the_fork_server_can_be_started_ahead_of_the_pool() -> None:
    """newswatch.fork_server.start_early (what `newswatch run` calls as it begins) leaves a fork server
    running with newswatch's preload, before any pool exists: checked in a fresh interpreter, where no
    earlier test can have started one."""
    import subprocess
    import sys

    script = (
        "import os, sys\n"
        "from newswatch.fork_server import start_early\n"
        "t = start_early(); t.join(120)\n"
        "kids = []\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        stat = open(f'/proc/{pid}/stat').read(); cmd = open(f'/proc/{pid}/cmdline', 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    if int(stat.rsplit(')', 1)[1].split()[1]) == os.getpid():\n"
        "        kids.append(cmd.decode(errors='replace'))\n"
        "print(sum('multiprocessing.forkserver' in c and 'newswatch.worker_preload' in c for c in kids))\n"
        "print('newswatch.extract' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=True
    )
    servers, imported_extraction = out.stdout.split()
    assert servers == "1"
    assert imported_extraction == "False"  # the caller does not import what the workers run
