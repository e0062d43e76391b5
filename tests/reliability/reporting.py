"""What the reliability suite reports: one row per fault (fault → outcome), and the fuzz example counts.

Tests fill these through the `fault` fixture (tests/reliability/conftest.py) and `count_example`; the
conftest prints the table at the end of the run and writes REPORT.md when the whole folder ran.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_PORT = re.compile(r"(127\.0\.0\.1|localhost|[a-z0-9-]+\.test):\d+")


@dataclass
class FaultRow:
    fault: str
    level: str  # feed | page | run
    expected: str
    outcome: str = ""
    passed: bool | None = None


ROWS: dict[str, FaultRow] = {}  # by test node id, in run order
FUZZ_EXAMPLES: Counter[str] = Counter()  # fuzz test name -> generated inputs actually run


def count_example(test: str) -> None:
    FUZZ_EXAMPLES[test] += 1


def normalise(text: str | None, limit: int = 140) -> str:
    """An outcome line fit for a table: ports hidden, one line, pipes escaped, shortened."""
    s = " ".join(_PORT.sub(r"\1", text or "").split()).replace("|", "\\|")
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
