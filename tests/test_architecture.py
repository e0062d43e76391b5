"""House rule 2: one door per outside system. Checked on the source, so it cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted([*ROOT.joinpath("newswatch").rglob("*.py"), *ROOT.joinpath("flows").rglob("*.py")])

# module prefix -> the only places allowed to import it
DOORS = {
    "duckdb": ("newswatch/store/",),
    "prefect": ("flows/",),
    "httpx": ("newswatch/fetch.py",),
    "requests": ("newswatch/fetch.py",),
    "urllib.request": ("newswatch/fetch.py",),
    "http.client": ("newswatch/fetch.py",),
    "smtplib": ("newswatch/mailer.py",),
    "aiosmtpd": (),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_code_was_found() -> None:
    assert len(CODE) > 10


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_one_door_per_outside_system(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    for name in _imports(path):
        for door, allowed in DOORS.items():
            if name == door or name.startswith(door + "."):
                assert rel.startswith(allowed) if allowed else False, (
                    f"{rel} imports {name}: only {allowed} may"
                )


def test_flows_hold_no_sql_or_parsing() -> None:
    """Flows wire; the library decides: no SQL strings, HTML or feed parsing in flows/."""
    for path in ROOT.joinpath("flows").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for marker in ("SELECT ", "INSERT ", "feedparser", "trafilatura", "<html"):
            assert marker not in text, f"{path.name} contains {marker!r}"
