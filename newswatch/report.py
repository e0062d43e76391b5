"""Render a poll run's summary for the terminal and for the Prefect UI (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from newswatch.model import Outcome, SourceReport

_LABEL = {Outcome.OK: "ok", Outcome.NOT_MODIFIED: "not modified"}


def _langs(counts: dict[str, int]) -> str:
    return ", ".join(f"{lang} {n}" for lang, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _detail(r: SourceReport) -> str:
    if r.outcome is Outcome.NOT_MODIFIED:
        return "unchanged since last poll"
    if r.outcome is not Outcome.OK:
        return f"{r.outcome}: {r.error or ''}".rstrip(": ")
    parts = [
        f"{r.entries} entries",
        f"{r.new_articles} new" + (f" ({_langs(r.new_by_lang)})" if r.new_by_lang else ""),
    ]
    if r.updated_articles:
        parts.append(f"{r.updated_articles} updated")
    if r.skipped_known:
        parts.append(f"{r.skipped_known} already stored")
    if r.failed_pages:
        parts.append(
            f"{r.failed_pages} pages failed (first: {r.page_errors[0]})"
            if r.page_errors
            else f"{r.failed_pages} pages failed"
        )
    if r.error:
        parts.append(f"warning: {r.error}")
    return " · ".join(parts)


def render_run_summary(reports: Sequence[SourceReport], *, elapsed_s: float | None = None) -> str:
    counts = Counter(_LABEL.get(r.outcome, "failed") for r in reports)
    new = sum(r.new_articles for r in reports)
    by_lang: Counter[str] = Counter()
    for r in reports:
        by_lang.update(r.new_by_lang)
    head = (
        f"{len(reports)} source{'s' if len(reports) != 1 else ''}: {counts['ok']} ok, "
        f"{counts['not modified']} not modified, {counts['failed']} failed · {new} new article"
        f"{'s' if new != 1 else ''}"
        + (f" ({_langs(dict(by_lang))})" if by_lang else "")
        + (f" · {elapsed_s:.1f}s" if elapsed_s is not None else "")
    )
    width = max((len(r.source) for r in reports), default=0)
    lines = [head]
    order = sorted(reports, key=lambda r: (r.outcome in (Outcome.OK, Outcome.NOT_MODIFIED), r.source))
    for r in order:
        status = _LABEL.get(r.outcome, "FAILED")
        lines.append(f"  {status:<12} {r.source:<{width}}  {_detail(r)}")
    return "\n".join(lines)


def render_run_markdown(reports: Sequence[SourceReport]) -> str:
    """The same summary as a markdown table, for the Prefect run artifact."""
    rows = ["| source | outcome | entries | new | updated | detail |", "|---|---|---|---|---|---|"]
    for r in sorted(reports, key=lambda r: r.source):
        detail = _detail(r).replace("|", "\\|")
        rows.append(
            f"| {r.source} | {r.outcome} | {r.entries} | {r.new_articles} | {r.updated_articles} | {detail} |"
        )
    return "# newswatch poll\n\n" + render_run_summary(reports).split("\n", 1)[0] + "\n\n" + "\n".join(rows)
