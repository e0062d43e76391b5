"""A failing source backs off (its next-due time moves out), shows in the health view, then recovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.replay import ReplayServer
from newswatch.config import load_config
from newswatch.health import render_health
from newswatch.pipeline import PollSession
from newswatch.store import open_store
from tests.helpers import query, write_config

FEED = (
    b"<rss version='2.0'><channel><title>t</title><item><title>Microsoft and OpenAI</title>"
    b"<link>https://example.org/a</link><description>Microsoft invests in OpenAI.</description>"
    b"</item></channel></rss>"
)


def test_failures_push_next_due_out_then_success_resets(tmp_path: Path) -> None:
    clock = [datetime(2026, 11, 22, 8, 0, tzinfo=UTC)]
    db = tmp_path / "n.duckdb"
    with ReplayServer() as srv:
        url = srv.add("/feed.xml", b"down", "text/plain", status=503)
        cfg = load_config(
            write_config(
                tmp_path / "s.yaml", [{"name": "flaky", "kind": "feed", "url": url, "interval": "10m"}]
            )
        )
        store = open_store(db)
        gaps = []
        for _ in range(3):
            with PollSession(cfg, store, now=lambda: clock[0]) as s:
                assert s.select_sources(only_due=True), "a failing source must stay scheduled"
                report = s.poll_source("flaky")
            assert report.outcome.value == "http_error"
            [(due, failures)] = query(db, "SELECT next_due_at, consecutive_failures FROM sources")
            gaps.append(due - clock[0])
            with PollSession(cfg, store, now=lambda: clock[0]) as s:
                assert s.select_sources(only_due=True) == []  # backed off: not due yet
            clock[0] = due
        assert failures == 3 and gaps[0] < gaps[1] < gaps[2] and gaps[0] > timedelta(minutes=10)
        health = render_health(store, cfg, now=clock[0])
        assert "flaky" in health and "HTTP 503" in health
        [(f24,)] = query(db, "SELECT failures_24h FROM source_health WHERE source = 'flaky'")
        assert f24 == 3

        srv.add("/feed.xml", FEED, "application/rss+xml")
        with PollSession(cfg, store, now=lambda: clock[0]) as s:
            assert s.poll_source("flaky").outcome.value == "ok"
        [(due, failures, err)] = query(
            db, "SELECT next_due_at, consecutive_failures, last_error FROM sources"
        )
        assert failures == 0 and err is None and due - clock[0] == timedelta(minutes=10)
