"""When each source is next due: its interval, backoff after failures, adaptive intervals (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from newswatch.model import Outcome
from newswatch.store.fetches import SourceState

BACKOFF_CAP_S = 86_400.0  # a failing source is retried at least once a day, never dropped
AUTO_MIN_S = 300.0
AUTO_MAX_S = 6 * 3600.0

# How much one failure of each kind pushes a source back: transient trouble counts half.
_TRANSIENT = {Outcome.TIMEOUT, Outcome.CONNECT_ERROR, Outcome.RATE_LIMITED, Outcome.DNS_ERROR}
_SUCCESS = {Outcome.OK, Outcome.NOT_MODIFIED}


def failure_weight(outcome: Outcome, status: int | None) -> float:
    """0 for a success; 0.5 for a timeout, a refused connection, a 429 or a 5xx; 1 for the rest."""
    if outcome in _SUCCESS:
        return 0.0
    if outcome in _TRANSIENT or (outcome is Outcome.HTTP_ERROR and status is not None and status >= 500):
        return 0.5
    return 1.0


def adapt_interval(current_s: float, *, new_articles: int, entries: int, labelled: int) -> float:
    """interval: auto — shorter when polls bring new (especially labelled) articles, longer when not."""
    if labelled > 0:
        factor = 0.5
    elif new_articles > 0 and new_articles >= max(1, entries // 4):
        factor = 0.75
    elif new_articles > 0:
        factor = 1.0
    else:
        factor = 1.5
    return min(AUTO_MAX_S, max(AUTO_MIN_S, current_s * factor))


def next_state(
    prev: SourceState | None,
    *,
    name: str,
    now: datetime,
    outcome: Outcome,
    status: int | None,
    error: str | None,
    interval_s: float,
    auto: bool,
    new_articles: int = 0,
    entries: int = 0,
    labelled: int = 0,
    etag: str | None = None,
    last_modified: str | None = None,
    body_hash: str | None = None,
) -> SourceState:
    """The source's state after one poll; `interval_s` is the configured (or default) interval."""
    prev = prev or SourceState(name=name)
    weight = failure_weight(outcome, status)
    if weight == 0.0:
        current = prev.interval_s if (auto and prev.interval_s) else interval_s
        if auto:
            current = adapt_interval(current, new_articles=new_articles, entries=entries, labelled=labelled)
        return replace(
            prev,
            etag=etag if outcome is Outcome.OK else (etag or prev.etag),
            last_modified=last_modified if outcome is Outcome.OK else (last_modified or prev.last_modified),
            body_hash=body_hash or prev.body_hash,
            last_polled_at=now,
            last_success_at=now,
            last_outcome=str(outcome),
            last_error=None,
            consecutive_failures=0,
            failure_weight=0.0,
            interval_s=current,
            next_due_at=now + timedelta(seconds=current),
        )
    total = prev.failure_weight + weight
    base = prev.interval_s if (auto and prev.interval_s) else interval_s
    delay = min(BACKOFF_CAP_S, base * (2.0**total))
    return replace(
        prev,
        last_polled_at=now,
        last_outcome=str(outcome),
        last_error=error,
        consecutive_failures=prev.consecutive_failures + 1,
        failure_weight=total,
        interval_s=base,
        next_due_at=now + timedelta(seconds=delay),
    )


def is_due(state: SourceState | None, now: datetime) -> bool:
    return state is None or state.next_due_at is None or state.next_due_at <= now


def poll_tick_s(intervals: list[float | str | None], default_s: float, minimum_s: float = 10.0) -> float:
    """How often the served `poll-sources` deployment wakes up: the shortest interval in force.

    Each wake-up polls only the sources that are due (`--due`), so every source keeps its own interval.
    """
    values = [default_s]
    for value in intervals:
        if value == "auto":
            values.append(AUTO_MIN_S)
        elif isinstance(value, int | float):
            values.append(float(value))
    return max(minimum_s, min(values))


def daily_cron(send_at: str) -> str:
    """'07:00' -> '0 7 * * *'."""
    hour, minute = (int(x) for x in send_at.split(":"))
    return f"{minute} {hour} * * *"
