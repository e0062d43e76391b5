"""Small helpers shared by tests: run the real CLI in a subprocess, write configs, read the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from newswatch.store.query import run_query

ROOT = Path(__file__).resolve().parents[1]


def write_config(path: Path, sources: list[dict[str, Any]], **extra: Any) -> Path:
    path.write_text(yaml.safe_dump({"sources": sources, **extra}, sort_keys=False), encoding="utf-8")
    return path


def run_cli(
    args: list[str],
    *,
    home: Path,
    timeout: float = 300,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`newswatch ARGS` as a user runs it: a fresh process, its own PREFECT_HOME, output captured."""
    full_env = clean_env()
    full_env.update({"PREFECT_HOME": str(home), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "newswatch.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd or ROOT,
        check=False,
    )


def clean_env() -> dict[str, str]:
    """This process's environment without PREFECT_* and NEWSWATCH_* settings, and with no lingering
    Prefect server (a run's temporary server would otherwise stay up 15 minutes after the test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSWATCH_"))}
    env["NEWSWATCH_PREFECT_LINGER"] = "0"
    return env


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    return run_query(db, sql).rows
