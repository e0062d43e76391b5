"""The poll-sources flow under Prefect's test harness: good and broken sources side by side."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.corpus import load_benchmark_pages, rss_feed
from bench.replay import ReplayServer
from newswatch.model import Outcome
from tests.helpers import ROOT, query, write_config


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield int(s.getsockname()[1])
    s.close()


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        yield srv


def test_flow_ingests_good_sources_and_records_broken_ones(
    prefect_harness: None, tmp_path: Path, corpus: Path, replay: ReplayServer, silent_port: int
) -> None:
    from flows.poll_sources import poll_sources

    pages = load_benchmark_pages(limit=3)
    items = [(replay.add(f"/a/{p.id}.html", p.html), p.id[:8]) for p in pages]
    good = replay.add("/feed.xml", rss_feed(items), "application/rss+xml")
    error = replay.add("/error.xml", b"oops", "text/plain", status=500)
    huge = replay.add("/huge.xml", b"<rss>" + b"x" * 400_000 + b"</rss>", "application/rss+xml")
    cfg = write_config(
        tmp_path / "sources.yaml",
        [
            {"name": "good", "kind": "feed", "url": good},
            {"name": "error", "kind": "feed", "url": error},
            {"name": "slow", "kind": "feed", "url": f"http://127.0.0.1:{silent_port}/feed"},
            {"name": "huge", "kind": "feed", "url": huge},
            {"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")},
            {"name": "missing", "kind": "folder", "path": str(tmp_path / "nope")},
        ],
        allow_private_networks=True,
        fetch={"read_timeout": 1, "total_timeout": 2, "max_bytes": 200_000},
    )
    db = tmp_path / "news.duckdb"
    summary = poll_sources(str(cfg), str(db))

    by_source = {r.source: r for r in summary.reports}
    assert by_source["good"].outcome is Outcome.OK and by_source["good"].new_articles == 3
    assert by_source["seeds"].new_articles == 2
    assert by_source["error"].outcome is Outcome.HTTP_ERROR and "500" in (by_source["error"].error or "")
    assert by_source["slow"].outcome is Outcome.TIMEOUT
    assert by_source["huge"].outcome is Outcome.TOO_LARGE
    assert by_source["missing"].outcome is Outcome.NOT_FOUND

    rows = dict(query(db, "SELECT source, outcome FROM fetches WHERE kind = 'source'"))
    assert rows == {
        "good": "ok",
        "error": "http_error",
        "slow": "timeout",
        "huge": "too_large",
        "seeds": "ok",
        "missing": "not_found",
    }
    errors = query(db, "SELECT error FROM fetches WHERE outcome <> 'ok'")
    assert all(e and "\n" not in e for (e,) in errors)
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 5

    # the seed articles: French, both labels
    seeds = query(
        db,
        "SELECT a.lang, list(l.label ORDER BY l.label) FROM articles a "
        "JOIN labels l ON l.article_id = a.id WHERE a.source = 'seeds' GROUP BY a.id, a.lang",
    )
    assert len(seeds) == 2
    for lang, labels in seeds:
        assert lang == "fr" and labels == ["ai_partnership", "inhouse_model"]

    # idempotent: a second run changes nothing
    again = poll_sources(str(cfg), str(db))
    assert sum(r.new_articles for r in again.reports) == 0
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 5
    assert {r.source: r.outcome for r in again.reports}["good"] is Outcome.NOT_MODIFIED


def test_labels_come_from_the_workers_or_from_the_users_topics_file(
    prefect_harness: None, tmp_path: Path
) -> None:
    """With the shipped topics the extraction workers label the articles; with a topics file of the
    user's own, this process labels them with it (its version carries the file's digest). Both give the
    seeds their two labels."""
    from flows.poll_sources import poll_sources
    from newswatch.classify import CLASSIFIER_VERSION

    own_topics = tmp_path / "my-topics.yaml"
    own_topics.write_text((ROOT / "newswatch" / "data" / "topics.yaml").read_text(encoding="utf-8"))
    seeds = [{"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")}]
    versions = {}
    for name, extra in (("shipped", {}), ("own", {"topics": str(own_topics)})):
        cfg = write_config(tmp_path / f"{name}.yaml", seeds, **extra)
        db = tmp_path / f"{name}.duckdb"
        assert poll_sources(str(cfg), str(db)).new_articles == 2
        labels = query(db, "SELECT list(label ORDER BY label) FROM labels GROUP BY article_id")
        assert sorted(labels) == [(["ai_partnership", "inhouse_model"],)] * 2
        versions[name] = {v for (v,) in query(db, "SELECT DISTINCT classifier_version FROM classifications")}
    assert versions["shipped"] == {CLASSIFIER_VERSION}
    (own,) = versions["own"]
    assert own.startswith(f"{CLASSIFIER_VERSION}+") and own != CLASSIFIER_VERSION


def test_a_page_that_failed_for_now_is_not_analysed_and_the_workers_label_the_rest(
    tmp_path: Path, corpus: Path, replay: ReplayServer
) -> None:
    """Of a feed's pages, one answers 503: it is not stored (tried again next poll) and nothing is
    built from it in this process; the others are labelled by the extraction workers, so this process
    never compiles the shipped classifier (~1 s of CPU held against the run's interpreter lock)."""
    from newswatch.classify import default_classifier
    from newswatch.config import load_config
    from newswatch.pipeline import PollSession
    from newswatch.store import open_store

    pages = load_benchmark_pages(limit=3)
    items = [(replay.add(f"/a/{p.id}.html", p.html), p.id[:8]) for p in pages]
    items.append((replay.add("/a/busy.html", b"try later", "text/html", status=503), "busy"))
    feed = replay.add("/feed.xml", rss_feed(items), "application/rss+xml")
    cfg = write_config(
        tmp_path / "sources.yaml", [{"name": "f", "kind": "feed", "url": feed}], allow_private_networks=True
    )
    default_classifier.cache_clear()
    db = tmp_path / "news.duckdb"
    with PollSession(load_config(cfg), open_store(db)) as session:
        report = session.poll_source("f")
    assert report.new_articles == 3 and report.failed_pages == 1
    assert default_classifier.cache_info().currsize == 0
    assert query(db, "SELECT count(*) FROM classifications")[0][0] == 3
