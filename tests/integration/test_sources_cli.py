"""`newswatch sources` import/export/check and health, through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.replay import ReplayServer
from newswatch.cli import main
from newswatch.config import load_config
from newswatch.opml import parse_opml, render_opml
from tests.helpers import ROOT, write_config

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
  <outline text="AI">
    <outline text="Ars Technica AI" type="rss" xmlUrl="https://arstechnica.com/ai/feed/"/>
    <outline text="Num\xc3\xa9rama" type="rss" xmlUrl="https://www.numerama.com/feed/" language="fr-FR"/>
    <outline text="No feed here" type="link" htmlUrl="https://example.org/"/>
  </outline>
  <outline text="Ars Technica AI" type="rss" xmlUrl="https://arstechnica.com/ai/feed/"/>
</body></opml>"""


def test_import_appends_new_feeds_keeping_comments_then_export_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(
        "# my sources\nsources:\n  - name: numerama  # French\n    kind: feed\n"
        "    url: https://www.numerama.com/feed/\n",
        encoding="utf-8",
    )
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(OPML)
    assert main(["sources", "import", str(opml), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "added 1" in out and "ars-technica-ai" in out
    text = cfg.read_text(encoding="utf-8")
    assert "# my sources" in text and "# French" in text
    config = load_config(cfg)
    assert [s.name for s in config.sources] == ["numerama", "ars-technica-ai"]

    assert main(["sources", "import", str(opml), "--config", str(cfg)]) == 0  # idempotent
    assert "added 0" in capsys.readouterr().out and load_config(cfg).sources == config.sources

    assert main(["sources", "export", "--config", str(cfg)]) == 0
    exported = parse_opml(capsys.readouterr().out.encode())
    assert [f.xml_url for f in exported] == [s.url for s in config.sources]


def test_import_rejects_what_is_not_opml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "s.yaml", [])
    bad = tmp_path / "x.opml"
    bad.write_text("<html><body>nope</body></html>")
    assert main(["sources", "import", str(bad), "--config", str(cfg)]) == 2
    assert "not OPML" in capsys.readouterr().err


def test_render_opml_escapes_and_skips_folders() -> None:
    cfg = load_config(ROOT / "sources.yaml")
    xml = render_opml(cfg.sources)
    assert "seeds" not in xml and xml.count("<outline") == len(cfg.sources) - 1
    assert len(parse_opml(xml.encode())) == sum(1 for s in cfg.sources if s.kind == "feed")


def test_check_tries_each_source_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReplayServer() as srv:
        ok = srv.add(
            "/feed.xml",
            b"<rss version='2.0'><channel><title>t</title><item><title>A</title>"
            b"<link>https://example.org/a</link></item></channel></rss>",
            "application/rss+xml",
        )
        cfg = write_config(
            tmp_path / "s.yaml",
            [
                {"name": "good", "kind": "feed", "url": ok},
                {"name": "gone", "kind": "feed", "url": srv.url("/missing.xml")},
            ],
        )
        code = main(["sources", "check", "--config", str(cfg), "--db", str(tmp_path / "n.duckdb")])
    out = capsys.readouterr().out
    assert code == 1
    assert "ok      good" in out and "1 entries" in out
    assert "FAILED  gone" in out and "HTTP 404" in out
    assert not (tmp_path / "n.duckdb").exists()
