"""The `daily-digest` flow: build, archive and send one day's digest; logic in `newswatch.digest_run`."""

from __future__ import annotations

from flows.runtime import configure_prefect

configure_prefect()

from datetime import UTC, date, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from newswatch.config import load_config  # noqa: E402
from newswatch.digest_run import DigestResult, previous_day, run_digest  # noqa: E402
from newswatch.store import open_store  # noqa: E402


@task(name="build-and-send-digest", cache_policy=NO_CACHE)
def build_and_send(config_path: str, db_path: str, day: date, send: bool, force: bool) -> DigestResult:
    return run_digest(
        open_store(db_path), load_config(config_path), Path(db_path), day=day, send=send, force=force
    )


@flow(name="daily-digest", log_prints=False)
def daily_digest(
    config_path: str, db_path: str, day: date | None = None, send: bool = True, force: bool = False
) -> DigestResult:
    """Without `day`, the last complete day in the digest timezone (what a morning schedule wants)."""
    if day is None:
        day = previous_day(load_config(config_path).digest.timezone, datetime.now(UTC))
    result = build_and_send(config_path, db_path, day, send, force)
    create_markdown_artifact(
        f"# newswatch digest {result.day}: {result.status}\n\n```\n{result.text}\n```", key="daily-digest"
    )
    return result
