"""flows.runtime runs real Prefect flows quietly and records them, with a fresh PREFECT_HOME.

Each probe is a separate Python process, as `newswatch run` is: the temporary API server, its
SQLite database, the logs and the task runs are all real. Timings are printed, never asserted
(speed is measured in bench/).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flows.runtime import QUIET_ENV, SERVER_LOG_NAME, SERVER_STATE_NAME

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    from flows.runtime import prefect_runtime

    with prefect_runtime():
        from prefect import flow, get_run_logger, task
        from prefect.artifacts import create_markdown_artifact

        @task
        def add_one(x: int) -> int:
            get_run_logger().info("adding one to %s", x)
            return x + 1

        @task
        def double(x: int) -> int:
            create_markdown_artifact("# doubled", key="doubled")
            return x * 2

        @flow(name="runtime-probe")
        def probe() -> int:
            return double(add_one(1))

        result = probe()
    print(f"RESULT={result} SECONDS={time.perf_counter() - t0:.2f}")
    """
)

SERVE = textwrap.dedent(
    """
    import sys
    from flows.runtime import local_api_server

    with local_api_server(port=0, ui=False) as url:
        print("URL", url, flush=True)
        sys.stdin.read()
    """
)

NOISE = re.compile(
    r"Traceback|database is locked|telemetry|Name or service not known|name resolution"
    r"|Starting temporary server|\| (INFO|WARNING|ERROR|CRITICAL) ",
    re.IGNORECASE,
)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k not in QUIET_ENV}
    env["PREFECT_HOME"] = str(home)
    return env


def _run_probe(tmp_path: Path, home: Path) -> tuple[str, float]:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=REPO,
        env=_clean_env(home),
        capture_output=True,
        text=True,
        timeout=180,
    )
    wall = time.perf_counter() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return output, wall


def _assert_quiet(output: str) -> None:
    noisy = [line for line in output.splitlines() if NOISE.search(line)]
    assert noisy == [], output
    assert re.fullmatch(r"RESULT=4 SECONDS=[\d.]+\s*", output), output


def _recorded_runs(home: Path) -> list[tuple[str, str, int, int, int]]:
    """(state, task states, task runs, log lines, artifacts) of every runtime-probe flow run."""
    with sqlite3.connect(home / "prefect.db") as con:
        return con.execute(
            """
            SELECT fr.state_type,
                   (SELECT group_concat(DISTINCT t.state_type) FROM task_run t WHERE t.flow_run_id = fr.id),
                   (SELECT count(*) FROM task_run t WHERE t.flow_run_id = fr.id),
                   (SELECT count(*) FROM log l WHERE l.flow_run_id = fr.id),
                   (SELECT count(*) FROM artifact a WHERE a.flow_run_id = fr.id)
            FROM flow_run fr JOIN flow f ON f.id = fr.flow_id
            WHERE f.name = 'runtime-probe' ORDER BY fr.created
            """
        ).fetchall()


@pytest.mark.slow
def test_flow_runs_quietly_and_is_recorded_cold_then_warm(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    cold_output, cold = _run_probe(tmp_path, home)
    warm_output, warm = _run_probe(tmp_path, home)
    print(f"\nprefect runtime probe: cold home {cold:.2f}s, warm home {warm:.2f}s (wall, per process)")

    _assert_quiet(cold_output)
    _assert_quiet(warm_output)
    runs = _recorded_runs(home)
    # INFO run logs stayed off the terminal but reached the API: the UI shows them.
    assert len(runs) == 2
    for state, task_states, task_runs, logs, artifacts in runs:
        assert (state, task_states, task_runs, artifacts) == ("COMPLETED", "COMPLETED", 2, 1)
        assert logs >= 3
    # Each process started (and stopped) its own temporary server, whose output went to the log.
    assert (home / SERVER_LOG_NAME).read_text().count("starts the API") == 2
    assert not (home / SERVER_STATE_NAME).exists()


@pytest.mark.slow
def test_run_reuses_the_long_lived_server_of_serve(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=REPO,
        env=_clean_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("URL http://127.0.0.1:"), first
        assert (home / SERVER_STATE_NAME).is_file()

        output, wall = _run_probe(tmp_path, home)
        print(f"\nprefect runtime probe against a running local server: {wall:.2f}s")
        _assert_quiet(output)
        assert _recorded_runs(home)[0][:3] == ("COMPLETED", "COMPLETED", 2)
        # No temporary server was started: only the long-lived one wrote its start line.
        assert (home / SERVER_LOG_NAME).read_text().count("starts the API") == 1
    finally:
        _, err = server.communicate(input="", timeout=60)
    assert server.returncode == 0, err
    assert not NOISE.search(err), err
    assert not (home / SERVER_STATE_NAME).exists()


CONFIGURE = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from flows.runtime import configure_prefect

    configure_prefect(home=Path(sys.argv[1]))
    first = dict(os.environ)
    configure_prefect(home=Path(sys.argv[1]))
    assert "prefect" not in sys.modules, "configure_prefect imported prefect"
    print(json.dumps({"same": first == dict(os.environ), "env": first}))
    """
)


def test_configure_prefect_keeps_user_settings_and_is_idempotent(tmp_path: Path) -> None:
    env = _clean_env(tmp_path / "ignored")
    del env["PREFECT_HOME"]
    env["DO_NOT_TRACK"] = "0"
    env["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "DEBUG"
    proc = subprocess.run(
        [sys.executable, "-c", CONFIGURE, str(tmp_path / "home")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["same"] is True
    configured = report["env"]
    assert configured["PREFECT_HOME"] == str((tmp_path / "home").resolve())
    assert configured["DO_NOT_TRACK"] == "0"
    assert configured["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "DEBUG"
    assert configured["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert "PREFECT_API_URL" not in configured
