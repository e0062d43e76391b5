"""NEWSWATCH_PREFECT_LINGER: a run leaves its temporary Prefect API server up for the next run, which
records there instead of starting its own, and the server stops by itself once idle that long."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flows.runtime import (
    DEFAULT_LINGER_S,
    LINGER_ENV,
    QUIET_ENV,
    SERVER_LOG_NAME,
    SERVER_STATE_NAME,
    find_local_api,
    stop_lingering_api,
)

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    from flows.runtime import prefect_runtime

    with prefect_runtime() as url:
        from prefect import flow, task

        @task
        def one() -> int:
            return 1

        @flow(name="linger-probe")
        def probe() -> int:
            return one() + 1

        print(f"RESULT={probe()} URL={url}")
    """
)


def _run(home: Path, linger: str | None) -> str:
    """One process running a flow; `linger` None: the environment variable unset (the default)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "NEWSWATCH_")) and k not in QUIET_ENV
    }
    env.update({"PREFECT_HOME": str(home), **({LINGER_ENV: linger} if linger is not None else {})})
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "RESULT=2 URL=http://127.0.0.1:" in proc.stdout, proc.stdout
    return proc.stdout.split("URL=", 1)[1].strip()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_a_lingering_server_is_reused_then_stops_when_idle(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    first = _run(home, "4")
    state = json.loads((home / SERVER_STATE_NAME).read_text())
    pid = int(state["pid"])
    try:
        assert state["url"] == first and state["linger"] == 4
        assert _alive(pid), "the server did not stay up after the run"

        second = _run(home, "4")
        assert second == first, "the second run did not reuse the lingering server"
        assert (home / SERVER_LOG_NAME).read_text().count("starts the API") == 1

        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(pid), "the idle server did not stop by itself"
        assert not (home / SERVER_STATE_NAME).exists()
    finally:
        if _alive(pid):
            os.kill(pid, 15)


@pytest.mark.slow
def test_stop_lingering_api_stops_it_and_without_linger_nothing_stays(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    _run(home, "600")
    pid = int(json.loads((home / SERVER_STATE_NAME).read_text())["pid"])
    assert stop_lingering_api(home) is True
    assert not _alive(pid)
    assert not (home / SERVER_STATE_NAME).exists()
    assert stop_lingering_api(home) is False

    _run(home, "0")
    assert not (home / SERVER_STATE_NAME).exists()
    assert (home / SERVER_LOG_NAME).read_text().count("starts the API") == 2


@pytest.mark.slow
def test_by_default_the_server_lingers_and_a_server_of_another_prefect_is_not_reused(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    url = _run(home, None)
    path = home / SERVER_STATE_NAME
    state = json.loads(path.read_text())
    pid = int(state["pid"])
    try:
        assert state["linger"] == DEFAULT_LINGER_S == 900
        assert find_local_api(home) == url
        path.write_text(json.dumps({**state, "prefect": "0.0.1"}))  # as if Prefect was upgraded since
        assert find_local_api(home) is None
    finally:
        path.write_text(json.dumps(state))
        stop_lingering_api(home)
    assert not _alive(pid)
