"""`newswatch run` end to end over the 181 real pages of the extraction benchmark, served on loopback
behind an RSS feed: every page stored, text quality pinned, and a second run fetches nothing again."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus import load_benchmark_pages, rss_feed, token_f1
from bench.replay import ReplayServer
from tests.helpers import query, run_cli, write_config

F1_FLOOR = 0.95  # plain trafilatura 2.3.1 with favor_precision: 0.957 on these pages


@pytest.mark.slow
def test_run_stores_all_benchmark_pages_with_quality_text(tmp_path: Path, corpus: Path) -> None:
    pages = load_benchmark_pages()
    assert len(pages) == 181
    db = tmp_path / "news.duckdb"
    home = tmp_path / "prefect"
    with ReplayServer() as srv:
        items = [(srv.add(f"/a/{p.id}.html", p.html), p.id[:12]) for p in pages]
        feed = srv.add("/feed.xml", rss_feed(items), "application/rss+xml; charset=utf-8")
        cfg = write_config(
            tmp_path / "sources.yaml",
            [{"name": "bench", "kind": "feed", "url": feed}],
            allow_private_networks=True,
        )

        first = run_cli(["run", "--config", str(cfg), "--db", str(db)], home=home)
        assert first.returncode == 0, first.stderr
        assert "181 new articles" in first.stdout, first.stdout
        noise = first.stdout + first.stderr
        for bad in ("Traceback", "database is locked", "telemetry"):
            assert bad not in noise, noise

        rows = query(db, "SELECT url, text FROM articles")
        assert len(rows) == 181
        truth = {srv.url(f"/a/{p.id}.html"): p.truth or "" for p in pages}
        scores = [token_f1(text or "", truth[url]) for url, text in rows]
        mean = sum(scores) / len(scores)
        print(f"mean token F1 of stored text over {len(scores)} pages: {mean:.4f}")
        assert mean >= F1_FLOOR

        page_hits = srv.page_hits("/a/")
        second = run_cli(["run", "--config", str(cfg), "--db", str(db)], home=home)
        assert second.returncode == 0, second.stderr
        assert srv.page_hits("/a/") == page_hits, "a stored article page was fetched again"
        assert srv.not_modified["/feed.xml"] == 1, "the feed was not fetched conditionally"
        assert query(db, "SELECT count(*) FROM articles")[0][0] == 181
        outcomes = query(db, "SELECT outcome FROM fetches WHERE kind = 'source' ORDER BY id")
        assert [o for (o,) in outcomes] == ["ok", "not_modified"]
