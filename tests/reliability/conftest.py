"""The reliability report: each fault test records (fault, outcome); the run ends with the table.

The table is printed in pytest's terminal summary (visible with -q, no -s needed) and, when the whole
tests/reliability folder ran without deselection, written to tests/reliability/REPORT.md.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from tests.reliability.reporting import (
    FUZZ_EXAMPLES,
    ROWS,
    FaultFactory,
    FaultRecorder,
    FaultRow,
    render_fuzz,
    render_table,
)

HERE = Path(__file__).resolve().parent
REPORT = HERE / "REPORT.md"
_deselected: list[int] = []


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> FaultFactory:
    """`fault(name, level, expected)` registers a row of the report for this test and returns its recorder
    (`.saw(outcome, error)`). A test may register several rows; they pass or fail with the test."""

    def start(name: str, level: str, expected: str) -> FaultRecorder:
        row = ROWS.setdefault((request.node.nodeid, name), FaultRow(name, level, expected))
        return FaultRecorder(row)

    return start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped or not (report.when == "call" or report.failed):
        return
    for (nodeid, _), row in ROWS.items():
        if nodeid == item.nodeid:
            row.passed = report.passed if row.passed is not False else False


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.append(len(items))


def _whole_folder_ran(config: pytest.Config) -> bool:
    if sum(_deselected) or config.option.keyword or config.option.markexpr:
        return False
    root = Path(config.rootpath)
    for arg in config.args:
        target = (root / arg.split("::", 1)[0]).resolve()
        if target == HERE or HERE.is_relative_to(target):
            return True
    return False


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    rows = list(ROWS.values())
    if not rows and not FUZZ_EXAMPLES:
        return
    terminalreporter.section("reliability: fault → outcome")
    if rows:
        terminalreporter.write_line(render_table(ROWS))
    if FUZZ_EXAMPLES:
        terminalreporter.write_line("")
        terminalreporter.write_line(render_fuzz(FUZZ_EXAMPLES))
    if _whole_folder_ran(config) and rows:
        passed = sum(1 for r in rows if r.passed)
        text = [
            "# Reliability report",
            "",
            "Written by `make reliability` (pytest tests/reliability); do not edit by hand.",
            f"{len(rows)} faults, {passed} handled as expected.",
            "",
            render_table(ROWS),
            "",
        ]
        if FUZZ_EXAMPLES:
            text += ["## Fuzzing", "", render_fuzz(FUZZ_EXAMPLES), ""]
        REPORT.write_text("\n".join(text), encoding="utf-8")
        terminalreporter.write_line(f"written to {REPORT.relative_to(Path(config.rootpath))}")
