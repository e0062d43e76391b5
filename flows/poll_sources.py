"""The `poll-sources` flow: one task per source, all logic in `newswatch.pipeline`."""

from __future__ import annotations

from flows.runtime import configure_prefect

configure_prefect()

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from newswatch.config import load_config  # noqa: E402
from newswatch.model import SourceReport  # noqa: E402
from newswatch.pipeline import PollSession, RunSummary  # noqa: E402
from newswatch.report import render_run_markdown  # noqa: E402
from newswatch.store import open_store  # noqa: E402

SOURCE_CONCURRENCY = 4


@task(name="poll-source", task_run_name="poll {name}", cache_policy=NO_CACHE)
def poll_source(session: PollSession, name: str) -> SourceReport:
    return session.poll_source(name)


@flow(
    name="poll-sources",
    # Prefect 3.8 annotates task_runner as TaskRunner[PrefectFuture[Any]] (invariant), which its own
    # ThreadPoolTaskRunner (a TaskRunner[PrefectConcurrentFuture[R]]) does not satisfy for mypy
    task_runner=ThreadPoolTaskRunner(max_workers=SOURCE_CONCURRENCY),  # type: ignore[arg-type]
    log_prints=False,
)
def poll_sources(
    config_path: str, db_path: str, sources: list[str] | None = None, only_due: bool = False
) -> RunSummary:
    config = load_config(config_path)
    store = open_store(db_path)
    with PollSession(config, store, run_id=str(flow_run.get_id() or "")) as session:
        names = [s.name for s in session.select_sources(sources or (), only_due=only_due)]
        futures = [poll_source.submit(session, name) for name in names]
        summary = RunSummary(session.run_id, [f.result() for f in futures])
    create_markdown_artifact(render_run_markdown(summary.reports), key="poll-summary")
    return summary
