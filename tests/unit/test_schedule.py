from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newswatch.model import Outcome
from newswatch.schedule import AUTO_MAX_S, AUTO_MIN_S, BACKOFF_CAP_S, failure_weight, is_due, next_state

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _poll(prev, outcome, status=None, **kw):  # type: ignore[no-untyped-def]
    return next_state(
        prev,
        name="s",
        now=NOW,
        outcome=outcome,
        status=status,
        error=kw.pop("error", None),
        interval_s=kw.pop("interval_s", 600.0),
        auto=kw.pop("auto", False),
        **kw,
    )


def test_success_sets_next_due_at_interval_and_keeps_validators() -> None:
    s = _poll(None, Outcome.OK, 200, etag='"v1"', last_modified="Sun, 22 Nov 2026 07:00:00 GMT")
    assert s.next_due_at == NOW + timedelta(seconds=600) and s.etag == '"v1"'
    s2 = _poll(s, Outcome.NOT_MODIFIED, 304)
    assert s2.etag == '"v1"' and s2.consecutive_failures == 0


def test_failures_back_off_weighted_and_capped_then_success_resets() -> None:
    s = None
    dues = []
    for _ in range(3):
        s = _poll(s, Outcome.HTTP_ERROR, 404, error="HTTP 404")
        dues.append(s.next_due_at)
    assert s is not None and s.consecutive_failures == 3 and s.last_error == "HTTP 404"
    assert dues[0] < dues[1] < dues[2]
    t = None
    for _ in range(3):
        t = _poll(t, Outcome.TIMEOUT)
    assert t is not None and t.next_due_at is not None and s.next_due_at is not None
    assert t.next_due_at < s.next_due_at  # a timeout counts less than a 404
    for _ in range(40):
        s = _poll(s, Outcome.PARSE_ERROR)
    assert s.next_due_at == NOW + timedelta(seconds=BACKOFF_CAP_S)  # never dropped: retried daily
    s = _poll(s, Outcome.OK, 200)
    assert s.consecutive_failures == 0 and s.next_due_at == NOW + timedelta(seconds=600)


def test_failure_weights() -> None:
    assert failure_weight(Outcome.OK, 200) == 0
    assert failure_weight(Outcome.HTTP_ERROR, 503) < failure_weight(Outcome.HTTP_ERROR, 404)
    assert failure_weight(Outcome.TIMEOUT, None) < failure_weight(Outcome.PARSE_ERROR, None)


def test_auto_interval_adapts_within_bounds() -> None:
    s = _poll(None, Outcome.OK, 200, auto=True, interval_s=1800.0, new_articles=0, entries=20)
    assert s.interval_s == 2700.0
    busy = _poll(s, Outcome.OK, 200, auto=True, interval_s=1800.0, new_articles=10, entries=20)
    relevant = _poll(
        s, Outcome.OK, 200, auto=True, interval_s=1800.0, new_articles=10, entries=20, labelled=2
    )
    assert relevant.interval_s is not None and busy.interval_s is not None
    assert relevant.interval_s < busy.interval_s < 2700.0
    for _ in range(30):
        s = _poll(s, Outcome.OK, 200, auto=True, new_articles=0, entries=20)
    assert s.interval_s == AUTO_MAX_S
    for _ in range(30):
        s = _poll(s, Outcome.OK, 200, auto=True, new_articles=5, entries=5, labelled=1)
    assert s.interval_s == AUTO_MIN_S


def test_is_due() -> None:
    assert is_due(None, NOW)
    s = _poll(None, Outcome.OK, 200)
    assert not is_due(s, NOW) and is_due(s, NOW + timedelta(seconds=601))
