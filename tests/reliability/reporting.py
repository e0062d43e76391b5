"""What the reliability suite reports: one row per fault (fault → outcome), and the fuzz example counts.

Tests fill these through the `fault` fixture (tests/reliability/conftest.py) and `count_example`; the
conftest prints the table at the end of the run and writes REPORT.md when the whole folder ran.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

_PORT = re.compile(r"(//(?:\[[^\]]*\]|[^/:\s]+)|\b127\.0\.0\.1):\d+")
_TMP = re.compile(r"/tmp/\S*/")


@dataclass
class FaultRow:
    fault: str
    level: str  # feed | page | run
    expected: str
    outcome: str = ""
    passed: bool | None = None


ROWS: dict[tuple[str, str], FaultRow] = {}  # by (test node id, fault), in run order
FUZZ_EXAMPLES: Counter[str] = Counter()  # fuzz test name -> generated inputs actually run


@dataclass
class FaultRecorder:
    row: FaultRow

    def saw(self, outcome: str, error: str | None = None) -> None:
        """What the store recorded: `outcome`, and its one-line error when there is one."""
        if error:
            error = error.removeprefix(f"{outcome}: ")
        self.row.outcome = normalise(f"{outcome}: {error}" if error else outcome)


FaultFactory = Callable[[str, str, str], FaultRecorder]


def count_example(test: str) -> None:
    FUZZ_EXAMPLES[test] += 1


def normalise(text: str | None, limit: int = 140) -> str:
    """An outcome line fit for a table: ports hidden, one line, pipes escaped, shortened."""
    s = " ".join(_TMP.sub("…/", _PORT.sub(r"\1", text or "")).split()).replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_table(rows: list[FaultRow]) -> str:
    lines = ["| # | level | fault | outcome recorded | result |", "|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        verdict = {True: "pass", False: "FAIL", None: "not run"}[r.passed]
        lines.append(f"| {i} | {r.level} | {r.fault} | {r.outcome or '(' + r.expected + ')'} | {verdict} |")
    return "\n".join(lines)


def render_fuzz(counts: Counter[str]) -> str:
    lines = ["| fuzz test | inputs |", "|---|---|"]
    lines += [f"| {name} | {n:,} |" for name, n in sorted(counts.items())]
    lines.append(f"| **total** | **{sum(counts.values()):,}** |")
    return "\n".join(lines)
