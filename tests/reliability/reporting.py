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


def normalise(text: str | None, limit: int = 200) -> str:
    """An outcome line fit for a table: ports hidden, one line, pipes escaped, shortened."""
    s = " ".join(_TMP.sub("…/", _PORT.sub(r"\1", text or "")).split()).replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


SECTIONS = {  # test file -> heading, in report order
    "test_fault_matrix.py": "Hostile servers, feeds and pages",
    "test_ssrf.py": "Network safety (SSRF)",
    "test_content_safety.py": "Content safety",
    "test_crash.py": "Killed processes and concurrent runs",
}


def render_table(rows: dict[tuple[str, str], FaultRow]) -> str:
    """One table per test file (see SECTIONS), rows numbered across tables."""
    by_file: dict[str, list[FaultRow]] = {}
    for (nodeid, _), row in rows.items():
        by_file.setdefault(nodeid.split("::", 1)[0].rsplit("/", 1)[-1], []).append(row)
    order = [f for f in SECTIONS if f in by_file] + sorted(f for f in by_file if f not in SECTIONS)
    out: list[str] = []
    n = 0
    for name in order:
        out += [
            f"### {SECTIONS.get(name, name)}",
            "",
            "| # | level | fault | outcome recorded | result |",
            "|---|---|---|---|---|",
        ]
        for r in by_file[name]:
            n += 1
            verdict = {True: "pass", False: "FAIL", None: "not run"}[r.passed]
            out.append(f"| {n} | {r.level} | {r.fault} | {r.outcome or '(' + r.expected + ')'} | {verdict} |")
        out.append("")
    return "\n".join(out).rstrip()


def render_fuzz(counts: Counter[str]) -> str:
    lines = ["| fuzz test | inputs |", "|---|---|"]
    lines += [f"| {name} | {n:,} |" for name, n in sorted(counts.items())]
    lines.append(f"| **total** | **{sum(counts.values()):,}** |")
    return "\n".join(lines)
