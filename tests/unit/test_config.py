from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.config import load_config, parse_config, parse_duration
from newswatch.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_is_valid_and_broad() -> None:
    cfg = load_config(ROOT / "sources.yaml")
    kinds = [s.kind for s in cfg.sources]
    langs = {s.lang for s in cfg.sources if s.kind != "folder"}
    assert len([k for k in kinds if k != "folder"]) >= 15
    assert kinds.count("page") >= 2
    assert {"en", "fr", "de", "es"} <= langs
    seeds = cfg.source("seeds")
    assert seeds.kind == "folder" and cfg.resolve(seeds.path or "").is_dir()


@pytest.mark.parametrize(
    ("value", "seconds"), [("30m", 1800), ("10s", 10), ("2h", 7200), ("1d", 86400), (45, 45), ("1.5h", 5400)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def _error(raw: object) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, origin="cfg.yaml")
    return str(exc.value)


def test_errors_name_file_source_and_field() -> None:
    msg = _error(
        {
            "sources": [
                {"name": "ok", "kind": "feed", "url": "https://a.org/f"},
                {"name": "heise", "kind": "feed", "url": "ftp://heise.de"},
            ]
        }
    )
    assert msg == "cfg.yaml: sources[1] (name 'heise'): url: 'ftp://heise.de' is not an http(s) URL"


def test_unknown_keys_are_rejected_at_every_level() -> None:
    assert "sources[0] (name 'a'): colour: unknown key" in _error(
        {"sources": [{"name": "a", "kind": "feed", "url": "https://a.org", "colour": "red"}]}
    )
    assert "cfg.yaml: digest.smtp: pasword: unknown key" in _error({"digest": {"smtp": {"pasword": "x"}}})
    assert "cfg.yaml: sourcse: unknown key" in _error({"sourcse": []})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"name": "a", "kind": "feed"}, "a feed source needs url"),
        ({"name": "a", "kind": "folder"}, "a folder source needs path"),
        (
            {"name": "a", "kind": "rss", "url": "https://a.org"},
            "kind: Input should be 'feed', 'page' or 'folder'",
        ),
        ({"name": "a", "kind": "feed", "url": "https://a.org", "interval": "5s"}, "at least 10s"),
        ({"name": "a", "kind": "feed", "url": "https://a.org", "interval": "soon"}, "is not a duration"),
        ({"name": "a b", "kind": "feed", "url": "https://a.org"}, "name: String should match pattern"),
    ],
)
def test_source_errors(source: dict[str, object], expected: str) -> None:
    assert expected in _error({"sources": [source]})


def test_duplicate_names_and_bad_timezone() -> None:
    src = {"name": "x", "kind": "feed", "url": "https://a.org"}
    assert "source name 'x' is used twice" in _error({"sources": [src, src]})
    assert "digest: timezone: unknown timezone 'Mars/Base'" in _error({"digest": {"timezone": "Mars/Base"}})


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("sources:\n  - name: a\n    kind: [feed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.yaml: line \d+, column \d+: invalid YAML"):
        load_config(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_auto_interval_and_defaults() -> None:
    cfg = parse_config(
        {"sources": [{"name": "a", "kind": "feed", "url": "https://a.org", "interval": "auto"}]}
    )
    assert cfg.sources[0].interval == "auto"
    assert cfg.digest.timezone == "UTC" and cfg.fetch.max_bytes > 0
