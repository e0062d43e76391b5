"""`make bench` in small (N = 50): the harness runs every scenario end to end and writes every figure.

Nothing about time is asserted (speed is a number in bench/, never a timed test): only that each key
is there, that the values are sane, and the counts the benchmark relies on (every page stored, a warm
run fetching no page again, the grown store holding its history plus the new articles).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.run import TARGETS, BenchOptions, render_table, run_bench, save_results

N = 50
HISTORY = 500


@pytest.mark.slow
def test_quick_bench_produces_every_figure(tmp_path: Path, corpus: Path) -> None:
    result = run_bench(
        BenchOptions(
            n=N,
            history=HISTORY,
            empty_repeats=1,
            classify_rounds=1,
            workdir=tmp_path / "work",
            log=lambda _: None,
        )
    )
    for key in TARGETS:
        value = result[key]
        assert isinstance(value, int | float) and math.isfinite(value), (key, value)
    assert result["empty_s"] > 0 and result["bare_s"] > 0 and result["peak_rss_mb"] > 0
    assert result["empty_cold_s"] > 0  # no server up: each run starts its own
    # ratios of time differences are numbers (checked above), not asserted: with N = 50 and one empty run
    # the noise of a loaded machine can make any of them small or even negative
    assert result["cold_s"] > 0 and result["grown_s"] > 0 and result["warm_s"] > 0
    assert result["classify_articles_per_s"] > 0
    assert set(result["met"]) == set(TARGETS)

    counts = result["counts"]
    assert counts["pages"] == N
    assert counts["cold_pages_fetched"] == N
    assert counts["cold_articles"] == N
    assert counts["warm_pages_fetched"] == 0
    assert counts["warm_feed_not_modified"] == 1
    assert counts["warm_articles"] == N
    assert counts["grown_history"] == HISTORY
    assert counts["grown_new_articles"] == N
    assert counts["grown_pages_fetched"] == N

    machine = result["machine"]
    assert machine["cores"] >= 1 and machine["python"].count(".") == 2
    assert machine["versions"]["prefect"] and machine["versions"]["trafilatura"]
    for name in ("empty_first", "cold", "warm", "grown", "empty_cold_0"):
        scenario = result["scenarios"][name]
        assert scenario["wall_s"] > 0 and scenario["peak_rss_mb"] > 0 and scenario["processes"] >= 1

    table = render_table(result)
    assert "cold_over_bare" in table and "peak_rss_mb" in table
    paths = save_results(result, tmp_path / "results")
    assert [p.name for p in paths] == ["latest.json", f"{result['date'][:10]}.json"]
    assert json.loads(paths[0].read_text())["counts"] == counts
    assert not (tmp_path / "work" / "prefect" / "newswatch-api.json").exists()  # no server left behind
