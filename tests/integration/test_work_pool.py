"""The grown-up path: `prefect deploy --all` from prefect.yaml to a process work pool, and a worker that
runs a poll from it — against a real local Prefect server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.runtime import local_api_server
from tests.helpers import ROOT, query, write_config


@pytest.mark.slow
def test_deploy_all_to_a_process_pool_and_a_worker_runs_a_poll(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    db = tmp_path / "news.duckdb"
    cfg = write_config(
        tmp_path / "sources.yaml", [{"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")}]
    )
    with local_api_server(home=home, port=0, ui=False) as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
            "PREFECT_API_URL": url,
            "PREFECT_HOME": str(home),
            "NEWSWATCH_DIR": str(ROOT),
        }

        def prefect(*args: str) -> str:
            r = subprocess.run(
                [sys.executable, "-m", "prefect", *args],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert r.returncode == 0, r.stdout + r.stderr
            return r.stdout

        prefect("work-pool", "create", "newswatch", "--type", "process")
        prefect("deploy", "--all")
        listed = prefect("deployment", "ls")
        assert "poll-sources/poll-sources" in listed and "daily-digest/daily-digest" in listed
        prefect(
            "deployment",
            "run",
            "poll-sources/poll-sources",
            "--param",
            f"config_path={cfg}",
            "--param",
            f"db_path={db}",
            "--param",
            "only_due=false",
        )
        prefect("worker", "start", "--pool", "newswatch", "--run-once")
    assert query(db, "SELECT count(*) FROM articles WHERE source = 'seeds'")[0][0] == 2
