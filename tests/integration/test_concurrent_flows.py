"""The poll and digest flows at the same moment on one database file: both succeed, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import load_benchmark_pages, rss_feed
from bench.replay import ReplayServer
from newswatch.digest_run import local_today
from tests.helpers import ROOT, query, run_cli, write_config
from tests.smtp_server import Recorder


def _config(tmp_path: Path, feed: str, smtp_port: int) -> Path:
    return write_config(
        tmp_path / "sources.yaml",
        [
            {"name": "local", "kind": "feed", "url": feed},
            {"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")},
        ],
        allow_private_networks=True,
        digest={
            "timezone": "Europe/Paris",
            "to": ["analyst@example.org"],
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
        },
    )


def test_poll_and_digest_flows_run_concurrently(
    prefect_harness: None, tmp_path: Path, corpus: Path, serve: Any
) -> None:
    from flows.daily_digest import daily_digest
    from flows.poll_sources import poll_sources

    rec = Recorder()
    db = tmp_path / "news.duckdb"
    with ReplayServer() as srv:
        pages = load_benchmark_pages(limit=20)
        feed = srv.add(
            "/feed.xml",
            rss_feed([(srv.add(f"/a/{p.id}.html", p.html), p.id[:8]) for p in pages]),
            "application/rss+xml",
        )
        cfg = str(_config(tmp_path, feed, serve(rec)))
        poll_sources(cfg, str(db), ["seeds"])  # something to send
        today = local_today("Europe/Paris", datetime.now(UTC))
        with ThreadPoolExecutor(2) as pool:
            poll = pool.submit(poll_sources, cfg, str(db), ["local"])
            digest = pool.submit(daily_digest, cfg, str(db), today, True)
            summary, result = poll.result(timeout=300), digest.result(timeout=300)
    assert summary.reports[0].new_articles == 20
    assert result.status == "sent" and len(rec.messages) == 1
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 22


def test_run_and_digest_processes_at_the_same_moment(tmp_path: Path, corpus: Path, serve: Any) -> None:
    """Two processes: DuckDB lets one write at a time; the other waits (bounded), neither crashes."""
    rec = Recorder()
    db = tmp_path / "news.duckdb"
    home = tmp_path / "prefect"
    with ReplayServer() as srv:
        pages = load_benchmark_pages(limit=30)
        feed = srv.add(
            "/feed.xml",
            rss_feed([(srv.add(f"/a/{p.id}.html", p.html), p.id[:8]) for p in pages]),
            "application/rss+xml",
        )
        cfg = _config(tmp_path, feed, serve(rec))
        assert (
            run_cli(["run", "--config", str(cfg), "--db", str(db), "--source", "seeds"], home=home).returncode
            == 0
        )
        env_args: dict[str, Any] = {"capture_output": True, "text": True, "cwd": ROOT, "timeout": 300}
        run = subprocess.Popen(
            [sys.executable, "-m", "newswatch.cli", "run", "--config", str(cfg), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={"PREFECT_HOME": str(home), "PATH": "/usr/bin:/bin", "NEWSWATCH_PREFECT_LINGER": "0"},
        )
        digest = subprocess.run(
            [
                sys.executable,
                "-m",
                "newswatch.cli",
                "digest",
                "--send",
                "--config",
                str(cfg),
                "--db",
                str(db),
            ],
            check=False,
            **env_args,
        )
        out, err = run.communicate(timeout=300)
    assert digest.returncode == 0, digest.stderr
    assert run.returncode == 0, err
    assert "Traceback" not in out + err + digest.stderr
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 32
    assert len(rec.messages) == 1
