"""Killed processes and concurrent runs against one database, with the real `newswatch run`.

Crash consistency: `newswatch run` ingesting 60 benchmark pages (6 feeds × 10, served by bench/replay.py)
is killed with SIGKILL at seeded random moments between 0.5 s and the length of an uninterrupted run. After
every kill the store must open, hold no partial or duplicated article, and every source's batch must be
all there or not at all; the kills are chained (a rerun can be killed too), and each chain ends with an
uninterrupted rerun whose articles must equal an uninterrupted run's.

Concurrency: two `newswatch run` started at the same moment on the same database both succeed, with no
duplicate, while an analyst's read-only queries (library and CLI) run against the file all along.

All runs share one local Prefect API (PREFECT_API_URL), as under `newswatch serve`, so a run costs its
work, not a server start (tests/integration/test_prefect_runtime.py covers runs that start their own).
The SIGKILL test is marked slow (about five
minutes: 20 kills and their reruns, each a real `newswatch run`); NEWSWATCH_CRASH_KILLS=5 for a quick look.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.corpus import load_benchmark_pages, rss_feed
from bench.replay import ReplayServer
from newswatch.cli import main
from newswatch.store import open_store
from newswatch.store.query import run_query
from tests.helpers import clean_env, write_config
from tests.reliability.harness import assert_store_consistent
from tests.reliability.reporting import FaultFactory

FEEDS, PER_FEED = 6, 10
KILLS = int(os.environ.get("NEWSWATCH_CRASH_KILLS", "20"))
SEED = 20261121
NEWSWATCH = Path(sys.executable).with_name("newswatch")
ArticleSet = set[tuple[str, str, str, str, tuple[str, ...]]]


@dataclass
class Site:
    config: Path
    home: Path  # PREFECT_HOME


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[Site]:
    pages = load_benchmark_pages(limit=FEEDS * PER_FEED)
    if len(pages) < FEEDS * PER_FEED:
        pytest.skip("benchmark pages absent")
    folder = tmp_path_factory.mktemp("crash")
    with ReplayServer() as srv:
        sources = []
        for k in range(FEEDS):
            chunk = pages[k * PER_FEED : (k + 1) * PER_FEED]
            items = [(srv.add(f"/feed{k}/{p.id}.html", p.html), p.id[:8]) for p in chunk]
            feed = srv.add(f"/feed{k}.xml", rss_feed(items, title=f"feed{k}"), "application/rss+xml")
            sources.append({"name": f"feed{k}", "kind": "feed", "url": feed})
        config = write_config(
            folder / "sources.yaml", sources, allow_private_networks=True, extract={"workers": 2}
        )
        yield Site(config, folder / "prefect-home")


@pytest.fixture(scope="module")
def shared_api(site: Site) -> Iterator[str]:
    """One local Prefect API for the crash trials: a run then costs its work, not a server start."""
    from flows.runtime import start_local_api

    api = start_local_api(home=site.home, temporary=True)
    try:
        api.wait_ready()
        yield api.url
    finally:
        api.stop()


def _env(site: Site, api_url: str | None) -> dict[str, str]:
    env = clean_env()
    env["PREFECT_HOME"] = str(site.home)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def start_run(site: Site, db: Path, api_url: str | None) -> subprocess.Popen[str]:
    """`newswatch run` as a user starts it, in its own process group (so leftovers can be cleaned up)."""
    return subprocess.Popen(
        [str(NEWSWATCH), "run", "--config", str(site.config), "--db", str(db)],
        env=_env(site, api_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL what is left of the run's process group (extraction workers, fork server)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        kill_group(proc)
    return proc.returncode, out, err


def article_set(db: Path) -> ArticleSet:
    rows = run_query(
        db,
        "SELECT a.canonical_url, a.content_hash, a.lang, a.extraction, "
        "       coalesce(list(l.label ORDER BY l.label) FILTER (WHERE l.label IS NOT NULL), []) "
        "FROM articles a LEFT JOIN labels l ON l.article_id = a.id GROUP BY ALL",
    ).rows
    return {(str(u), str(h), str(lang), str(x), tuple(labels)) for u, h, lang, x, labels in rows}


def assert_batches_whole(db: Path) -> None:
    """A source either landed its whole batch (state row, 10 sightings, its fetch row) or nothing at all."""
    states = dict(run_query(db, "SELECT name, last_outcome FROM sources").rows)
    seen = dict(run_query(db, "SELECT source, count(*) FROM article_sightings GROUP BY source").rows)
    fetched = dict(
        run_query(db, "SELECT source, count(*) FROM fetches WHERE kind = 'source' GROUP BY source").rows
    )
    for k in range(FEEDS):
        name = f"feed{k}"
        if name in states:
            errors = run_query(
                db, f"SELECT error FROM fetches WHERE source = '{name}' AND error IS NOT NULL"
            ).rows
            assert states[name] in ("ok", "not_modified"), (name, states[name], errors)
            assert seen.get(name) == PER_FEED, (name, seen)
            assert fetched.get(name, 0) >= 1
        else:
            assert name not in seen and name not in fetched, (name, seen, fetched)


@dataclass(frozen=True)
class Baseline:
    articles: ArticleSet
    seconds: float  # an uninterrupted run, start to exit
    db_at: float  # when it created the database file (Prefect's start-up comes before)
    writes: tuple[float, float]  # when its first and last source batches were committed


@pytest.fixture(scope="module")
def baseline(site: Site, shared_api: str, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """An uninterrupted run: its articles, how long it took, when the database appeared."""
    db = tmp_path_factory.mktemp("baseline") / "news.duckdb"
    wall = datetime.now(UTC)
    started = time.monotonic()
    proc = start_run(site, db, shared_api)
    db_at = None
    while proc.poll() is None:
        if db_at is None and db.exists():
            db_at = time.monotonic() - started
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    code, out, err = finish(proc)
    assert code == 0 and db_at is not None, (out, err)
    articles = article_set(db)
    assert len(articles) == FEEDS * PER_FEED
    assert_store_consistent(db)
    done = run_query(
        db,
        "SELECT started_at + to_microseconds(CAST(elapsed_s * 1e6 AS BIGINT)) "
        "FROM fetches WHERE kind = 'source'",
    ).rows
    offsets = sorted((when - wall).total_seconds() for (when,) in done)
    return Baseline(articles, elapsed, db_at, (offsets[0], offsets[-1]))


@dataclass
class Trial:
    chain: int
    delay: float
    killed: bool
    sources_landed: int = 0


def kill_moments(rnd: random.Random, base: Baseline) -> Iterator[float]:
    """Seeded delays in [0.5 s, a whole run]: a quarter anywhere, a quarter once the database exists
    (before it, a kill only meets Prefect starting up), half around the commits of the sources' batches
    (the uninterrupted run's write window, ± 1 s), where a kill can land inside a transaction."""
    first, last = base.writes
    while True:
        pick = rnd.random()
        low, high = (
            (0.5, base.seconds)
            if pick < 0.25
            else (base.db_at, base.seconds)
            if pick < 0.5
            else (first - 1.0, last + 1.0)
        )
        yield min(max(rnd.uniform(low, high), 0.5), base.seconds)


def run_and_kill(site: Site, api: str, db: Path, delay: float) -> bool:
    """Start `newswatch run`, SIGKILL it after `delay` seconds; False if it finished first."""
    proc = start_run(site, db, api)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)  # the run itself, mid-flight
        proc.wait()
        return True
    finally:
        kill_group(proc)
        proc.communicate()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(
    site: Site, shared_api: str, baseline: Baseline, tmp_path: Path, fault: FaultFactory
) -> None:
    expected = baseline.articles
    moments = kill_moments(random.Random(SEED), baseline)
    trials: list[Trial] = []
    chain = 0
    while sum(t.killed for t in trials) < KILLS:
        chain += 1
        assert chain <= 3 * KILLS, "runs keep finishing before the kill"
        db = tmp_path / f"chain{chain}" / "news.duckdb"
        for _ in range(4):  # up to four killed runs in a row on the same database (a rerun can die too)
            trial = Trial(chain, delay := next(moments), run_and_kill(site, shared_api, db, delay))
            trials.append(trial)
            if db.exists():
                open_store(db)  # opens (and migrates, if the kill fell inside a migration)
                assert_store_consistent(db)
                assert_batches_whole(db)
                got = article_set(db)
                assert got <= expected, got - expected  # nothing half-made, nothing different
                trial.sources_landed = len(run_query(db, "SELECT name FROM sources").rows)
            if not trial.killed or sum(t.killed for t in trials) >= KILLS:
                break
        code, out, err = finish(start_run(site, db, shared_api))  # the rerun, uninterrupted
        assert code == 0, (out, err)
        assert_store_consistent(db)
        assert article_set(db) == expected

    kills = [t for t in trials if t.killed]
    spread = {
        "before any source landed": sum(t.sources_landed == 0 for t in kills),
        "with some sources landed": sum(0 < t.sources_landed < FEEDS for t in kills),
        "after all sources landed": sum(t.sources_landed == FEEDS for t in kills),
    }
    row = fault(
        f"SIGKILL of `newswatch run` at {len(kills)} random moments (0.5-{baseline.seconds:.0f} s)",
        "run",
        "store opens, nothing partial",
    )
    when = ", ".join(f"{n} {k}" for k, n in spread.items())
    when += f"; {len(trials) - len(kills)} runs finished before their kill moment"
    row.saw(
        "ok",
        f"store opened after every kill, nothing partial; every rerun equal to an uninterrupted "
        f"run ({len(expected)} articles); {len(kills)} kills, {chain} chains: {when}",
    )
    assert len(kills) >= KILLS
    assert max(t.delay for t in kills) - min(t.delay for t in kills) > baseline.seconds / 3  # spread out


def test_two_runs_at_once_and_an_analyst_querying_all_along(
    site: Site,
    shared_api: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault: FaultFactory,
) -> None:
    db = tmp_path / "news.duckdb"
    open_store(db)  # an empty store, so the analyst has a file to query from the start
    runs = [start_run(site, db, shared_api) for _ in range(2)]
    counts: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def analyst() -> None:
        while not stop.is_set():
            try:
                counts.append(int(run_query(db, "SELECT count(*) FROM articles", wait_s=120).rows[0][0]))
            except Exception as exc:  # any failure is a finding
                errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.1)

    reader = threading.Thread(target=analyst, daemon=True)
    reader.start()
    cli_codes = []
    try:
        while any(p.poll() is None for p in runs):
            cli_codes.append(main(["query", "--db", str(db), "SELECT count(*) AS n FROM articles"]))
            time.sleep(0.5)
        results = [finish(p) for p in runs]
    finally:
        stop.set()
        reader.join(10)
        for p in runs:
            kill_group(p)
    err = capsys.readouterr().err

    for code, run_out, run_err in results:
        assert code == 0, (run_out, run_err[-3000:])
    assert errors == [] and err == "", (errors, err)
    assert cli_codes and set(cli_codes) == {0}
    assert counts and counts == sorted(counts), counts  # never a glimpse of a half-written or undone state
    assert_store_consistent(db)  # among others: no canonical URL twice
    assert_batches_whole(db)
    assert len(article_set(db)) == FEEDS * PER_FEED
    per_source = run_query(
        db, "SELECT source, count(*) FROM fetches WHERE kind = 'source' GROUP BY source"
    ).rows
    assert sorted(per_source) == [(f"feed{k}", 2) for k in range(FEEDS)]
    new = sorted(
        run_query(
            db, "SELECT run_id, sum(new_articles) FROM fetches WHERE kind = 'source' GROUP BY run_id"
        ).rows,
        key=lambda r: r[1],
    )
    assert sum(n for _, n in new) == FEEDS * PER_FEED  # split between the two runs, none twice
    row = fault("two `newswatch run` at once on one database + analyst queries", "run", "both ok, no dup")
    row.saw(
        "ok",
        f"new articles per run {[int(n) for _, n in new]}; {len(counts)} reads + {len(cli_codes)} "
        "`newswatch query` during the runs, all answered, counts never went down",
    )
