"""`newswatch serve`: the two deployments on their schedules, served until SIGINT/SIGTERM.

- `poll-sources/poll-sources` wakes up at the shortest configured interval and polls the sources that
  are due (each keeps its own interval and backoff); at most one run at a time (a new one is cancelled
  while another is running).
- `daily-digest/daily-digest` runs at `digest.send_at` in `digest.timezone` and sends the previous day.

Without PREFECT_API_URL a local Prefect server (scheduler, UI on http://127.0.0.1:4200) runs for as long
as `serve` does; with it, the deployments are served against that API.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from flows.runtime import local_api_server


def serve_deployments(config_path: str, db_path: str, *, verbose: bool = False) -> None:
    from newswatch.config import load_config
    from newswatch.schedule import daily_cron, poll_tick_s

    config = load_config(config_path)
    config_abs, db_abs = str(Path(config_path).resolve()), str(Path(db_path).resolve())
    with local_api_server(verbose=verbose):
        _GracefulRunner = _graceful_runner_class()
        from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
        from prefect.schedules import Cron, Interval

        from flows.daily_digest import daily_digest
        from flows.poll_sources import poll_sources

        tick = poll_tick_s([s.interval for s in config.sources if s.enabled], config.default_interval)
        poll = poll_sources.to_deployment(
            name="poll-sources",
            schedules=[Interval(tick)],
            parameters={"config_path": config_abs, "db_path": db_abs, "only_due": True},
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
            description="Poll the sources that are due; store new articles.",
        )
        digest = daily_digest.to_deployment(
            name="daily-digest",
            schedules=[Cron(daily_cron(config.digest.send_at), timezone=config.digest.timezone)],
            parameters={"config_path": config_abs, "db_path": db_abs, "send": True},
            concurrency_limit=1,
            description="Build, archive and email the previous day's digest (once per day).",
        )
        runner = _GracefulRunner(name="newswatch")
        for deployment in (poll, digest):
            runner.add_deployment(deployment)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(runner.start())  # returns after SIGTERM


def _graceful_runner_class() -> type:
    from prefect.runner import Runner

    class GracefulRunner(Runner):
        """Prefect 3.8's SIGTERM handler exits from inside the event loop without awaiting its stop: runs in
        flight stay Pending and keep the deployment's concurrency slot. This one stops the runner properly."""

        def handle_sigterm(self, *args: object, **kwargs: object) -> None:
            loop = self._loop
            if loop is None:
                raise KeyboardInterrupt
            loop.call_soon_threadsafe(lambda: loop.create_task(self.astop()))

    return GracefulRunner
