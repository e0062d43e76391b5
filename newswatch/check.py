"""`newswatch sources check`: try each source once, store nothing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from newswatch.config import Config, SourceConfig
from newswatch.feeds import parse_feed
from newswatch.fetch import Fetcher
from newswatch.folders import load_folder
from newswatch.model import Discovery, Outcome, SourceReport
from newswatch.pages import parse_listing_page


def _discover(
    config: Config, source: SourceConfig, fetcher: Fetcher
) -> tuple[Outcome, Discovery | None, str | None]:
    if source.kind == "folder":
        path = config.resolve(source.path or "")
        if not path.is_dir():
            return Outcome.NOT_FOUND, None, f"folder not found: {path}"
        return Outcome.OK, load_folder(path), None
    assert source.url
    fetched = fetcher.fetch(source.url, trusted=True)
    if not fetched.ok:
        return fetched.outcome, None, fetched.error
    base = fetched.final_url or fetched.url
    if source.kind == "feed":
        return Outcome.OK, parse_feed(fetched.body, base_url=base, content_type=fetched.content_type), None
    return (
        Outcome.OK,
        parse_listing_page(fetched.body, base, selector=source.selector, link_pattern=source.link_pattern),
        None,
    )


def check_source(config: Config, source: SourceConfig, fetcher: Fetcher) -> SourceReport:
    started = time.monotonic()
    outcome, discovery, error = _discover(config, source, fetcher)
    if discovery is not None and discovery.error:
        outcome, error = Outcome.PARSE_ERROR, discovery.error
    report = SourceReport(
        source=source.name, outcome=outcome, error=error, entries=len(discovery.entries) if discovery else 0
    )
    if discovery is not None and discovery.warning and not error:
        report.error = discovery.warning
    report.elapsed_s = time.monotonic() - started
    return report


def check_sources(config: Config) -> list[SourceReport]:
    """Fetch and parse every enabled source once, concurrently; nothing is written anywhere."""
    sources = [s for s in config.sources if s.enabled]
    with (
        Fetcher(config.fetch, allow_private_networks=config.allow_private_networks) as fetcher,
        ThreadPoolExecutor(max_workers=min(8, max(1, len(sources)))) as pool,
    ):
        return list(pool.map(lambda s: check_source(config, s, fetcher), sources))


def render_check(reports: list[SourceReport]) -> str:
    ok = sum(1 for r in reports if r.outcome is Outcome.OK)
    width = max((len(r.source) for r in reports), default=0)
    lines = [f"{len(reports)} sources tried: {ok} ok, {len(reports) - ok} failed (nothing was stored)"]
    for r in sorted(reports, key=lambda r: (r.outcome is Outcome.OK, r.source)):
        if r.outcome is Outcome.OK:
            detail = f"{r.entries} entries" + (f" · warning: {r.error}" if r.error else "")
            lines.append(f"  ok      {r.source:<{width}}  {detail}")
        else:
            lines.append(f"  FAILED  {r.source:<{width}}  {r.outcome}: {r.error or ''}")
    return "\n".join(lines)
