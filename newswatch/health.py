"""`newswatch sources`: a health table of every configured source (pure rendering over store rows)."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.config import Config
from newswatch.store import Store
from newswatch.store.health import HealthRow, get_source_health


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    s = (now - when).total_seconds()
    if s < 0:
        return "in " + _span(-s)
    return _span(s) + " ago"


def _span(s: float) -> str:
    if s < 90:
        return f"{s:.0f}s"
    if s < 5400:
        return f"{s / 60:.0f}m"
    if s < 172800:
        return f"{s / 3600:.0f}h"
    return f"{s / 86400:.0f}d"


def render_health_rows(config: Config, rows: dict[str, HealthRow], now: datetime) -> str:
    header = (
        "source",
        "kind",
        "last success",
        "last poll",
        "failures",
        "next due",
        "7d articles",
        "last error",
    )
    table: list[tuple[str, ...]] = [header]
    for s in config.sources:
        h = rows.get(s.name)
        if h is None:
            table.append(
                (s.name, s.kind, "never", "never", "0", "now", "0", "" if s.enabled else "(disabled)")
            )
            continue
        due = "now" if h.next_due_at is None or h.next_due_at <= now else _ago(h.next_due_at, now)
        err = " ".join((h.last_error or "").split())
        table.append(
            (
                s.name,
                s.kind,
                _ago(h.last_success_at, now),
                f"{_ago(h.last_polled_at, now)} ({h.last_outcome})",
                str(h.consecutive_failures),
                due,
                str(h.articles_7d),
                err[:80] + ("…" if len(err) > 80 else ""),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table)


def render_health(store: Store, config: Config, now: datetime | None = None) -> str:
    with store.read() as con:
        rows = get_source_health(con)
    return render_health_rows(config, rows, now or datetime.now(UTC))
