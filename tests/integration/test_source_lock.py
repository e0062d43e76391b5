"""Two polls of the same source at the same moment (two runs, or a run beside `serve`): the second
waits for the first, then starts from the state it left, so no page is fetched or stored twice."""

from __future__ import annotations

import threading
from pathlib import Path

from bench.corpus import load_benchmark_pages, rss_feed
from bench.replay import ReplayServer
from newswatch.config import load_config
from newswatch.model import Outcome, SourceReport
from newswatch.pipeline import PollSession
from newswatch.source_lock import hold_source_lock, lock_path
from newswatch.store import open_store
from tests.helpers import query, write_config


def test_two_sessions_polling_one_source_fetch_each_page_once(tmp_path: Path, corpus: Path) -> None:
    pages = load_benchmark_pages(limit=6)
    with ReplayServer() as srv:
        items = [(srv.add(f"/news/{p.id[:12]}.html", p.html), f"Story {i}") for i, p in enumerate(pages)]
        feed = srv.add("/feed.xml", rss_feed(items, title="t"), "application/rss+xml; charset=utf-8")
        cfg = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "kind": "feed", "url": feed}],
            allow_private_networks=True,
        )
        db = tmp_path / "news.duckdb"
        config, store = load_config(cfg), open_store(db)
        start = threading.Barrier(2)
        reports: list[SourceReport] = []

        def poll() -> None:
            with PollSession(config, store) as session:
                start.wait()
                reports.append(session.poll_source("wire"))

        threads = [threading.Thread(target=poll) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

        assert sorted(r.outcome for r in reports) == sorted([Outcome.OK, Outcome.NOT_MODIFIED]), reports
        assert sum(r.new_articles for r in reports) == len(pages)
        assert srv.page_hits("/news/") == len(pages)  # each page fetched once, by the first poll
        assert srv.hits["/feed.xml"] == 2 and srv.not_modified["/feed.xml"] == 1
    assert query(db, "SELECT count(*) FROM articles") == [(len(pages),)]
    assert lock_path(db, "wire").exists()


def test_the_lock_is_per_source_and_released_at_exit(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    with hold_source_lock(db, "a") as waited_a, hold_source_lock(db, "b") as waited_b:
        assert not waited_a and not waited_b  # other sources do not wait
        with hold_source_lock(db, "a", wait_s=0.3) as waited:
            assert waited  # held by the block above: waited 0.3 s, then went on (with a warning)
    with hold_source_lock(db, "a", wait_s=0.3) as waited:
        assert not waited  # released
