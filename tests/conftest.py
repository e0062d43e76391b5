"""Shared fixtures. Prefect's test harness is session-scoped (one temporary API for the whole run), with
PREFECT_HOME inside the test tmp dir so nothing touches the user's Prefect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A run's temporary Prefect server lingers 15 minutes by default (for the next run): not after tests. The
# tests of lingering set it themselves; subprocesses get it from tests.helpers.quiet_env.
os.environ["NEWSWATCH_PREFECT_LINGER"] = "0"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from flows.runtime import configure_prefect

    configure_prefect(home=home)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# a real SMTP server on 127.0.0.1 for any test that asks for `serve`
from tests.smtp_server import serve  # noqa: E402, F401


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No Prefect server outlives the tests: stop any a test's run left lingering in its tmp home."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    from flows.runtime import SERVER_STATE_NAME, stop_lingering_api

    for state in Path(factory.getbasetemp()).rglob(SERVER_STATE_NAME):
        stop_lingering_api(state.parent)
