"""`newswatch serve` as a user runs it: a subprocess with a 10-second poll interval against a local feed,
scheduled polls land articles once, the served digest is sent once, SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import load_benchmark_pages, rss_feed
from bench.replay import ReplayServer
from flows.runtime import find_local_api
from newswatch.digest_run import local_today
from newswatch.errors import QueryError
from tests.helpers import ROOT, clean_env, query, write_config
from tests.smtp_server import Recorder


def _wait(what: str, check: Any, timeout: float, proc: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve died: {proc.communicate()[0]}"
        try:
            value = check()
        except QueryError:  # no database yet
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def _prefect(args: list[str], api: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
def test_serve_polls_on_schedule_sends_one_digest_and_stops_on_sigterm(
    tmp_path: Path, corpus: Path, serve: Any
) -> None:
    rec = Recorder()
    smtp_port = serve(rec)
    home, db = tmp_path / "prefect", tmp_path / "news.duckdb"
    with ReplayServer() as feed_srv:
        pages = load_benchmark_pages(limit=4)
        feed = feed_srv.add(
            "/feed.xml",
            rss_feed([(feed_srv.add(f"/a/{p.id}.html", p.html), p.id[:8]) for p in pages]),
            "application/rss+xml",
        )
        cfg = write_config(
            tmp_path / "sources.yaml",
            [
                {"name": "local", "kind": "feed", "url": feed, "interval": "10s"},
                {"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds"), "interval": "10s"},
            ],
            allow_private_networks=True,
            default_interval="10s",
            digest={
                "timezone": "Europe/Paris",
                "to": ["analyst@example.org"],
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
            },
        )
        env = clean_env()
        proc = subprocess.Popen(
            [sys.executable, "-m", "newswatch.cli", "serve", "--config", str(cfg), "--db", str(db)],
            env={**env, "PREFECT_HOME": str(home)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            polls = "SELECT count(*) FROM fetches WHERE kind = 'source' AND source = 'local'"
            _wait("two scheduled polls", lambda: query(db, polls)[0][0] >= 2, 150, proc)
            assert query(db, "SELECT count(*), count(DISTINCT id) FROM articles") == [(6, 6)]
            assert feed_srv.page_hits("/a/") == 4  # each page fetched once, however many polls

            api = _wait("the local API", lambda: find_local_api(home), 30, proc)
            day = local_today("Europe/Paris", datetime.now(UTC)).isoformat()
            for _ in range(2):  # the served digest deployment, run twice for the same day
                run = _prefect(
                    [
                        "deployment",
                        "run",
                        "daily-digest/daily-digest",
                        "--param",
                        f"day={day}",
                        "--watch",
                        "--watch-timeout",
                        "150",
                    ],
                    api,
                    home,
                )
                assert run.returncode == 0, run.stdout + run.stderr
            assert len(rec.messages) == 1, "the digest was sent twice"
            [(attempts, sent_at)] = query(db, "SELECT attempts, sent_at FROM digests")
            assert attempts == 1 and sent_at is not None
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
        (tmp_path / "serve.log").write_text(out)  # kept for diagnosis
        print(out)
        assert proc.returncode == 0, out
        assert "newswatch serve: stopped" in out
        assert "Traceback" not in out, out
