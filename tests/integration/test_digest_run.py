"""The digest end to end: seeds ingested today → digest built, archived, sent once to a real SMTP server."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from newswatch.config import Config, load_config
from newswatch.digest_run import local_today, run_digest
from newswatch.pipeline import PollSession
from newswatch.store import Store, open_store
from tests.helpers import ROOT, query, write_config
from tests.smtp_server import Recorder, free_port


def _config(tmp_path: Path, port: int) -> Config:
    return load_config(
        write_config(
            tmp_path / "sources.yaml",
            [{"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")}],
            digest={
                "timezone": "Europe/Paris",
                "from": "Veille IA <newswatch@example.org>",
                "to": ["analyst@example.org"],
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            },
        )
    )


@pytest.fixture
def ingested(tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    db = tmp_path / "news.duckdb"
    store = open_store(db)
    cfg = _config(tmp_path, 25)
    with PollSession(cfg, store) as session, ThreadPoolExecutor(2) as pool:
        list(pool.map(session.poll_source, [s.name for s in cfg.sources]))
    yield store, db


def _received(rec: Recorder) -> list[EmailMessage]:
    return [email.message_from_bytes(m, policy=email.policy.default) for m in rec.messages]  # type: ignore[misc]


def test_seed_digest_is_sent_once_with_both_topics_and_evidence(
    tmp_path: Path, ingested: tuple[Store, Path], serve: Any
) -> None:
    store, db = ingested
    rec = Recorder()
    port = serve(rec)
    cfg = _config(tmp_path, port)
    today = local_today("Europe/Paris", datetime.now(UTC))

    result = run_digest(store, cfg, db, day=today, send=True, password=None)
    assert result.status == "sent" and result.stories == 2
    assert result.counts == {"ai_partnership": 2, "inhouse_model": 2}
    [msg] = _received(rec)
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "Microsoft ↔ OpenAI" in body
        assert "MAI-1" in body or "Phi" in body
        assert "OpenAI n’était qu’une première étape" in body  # a French title, intact
    assert "partnership and in-house model" in text.lower()

    folder = db.parent / "digests"
    for ext in ("html", "txt", "eml"):
        assert (folder / f"{today.isoformat()}.{ext}").stat().st_size > 500
    [(sent_at, attempts, story_ids)] = query(db, "SELECT sent_at, attempts, story_ids FROM digests")
    assert sent_at is not None and attempts == 1 and len(story_ids) == 2

    again = run_digest(store, cfg, db, day=today, send=True)
    assert again.status == "already_sent" and len(rec.messages) == 1

    forced = run_digest(store, cfg, db, day=today, send=True, force=True)
    assert forced.status == "sent" and len(rec.messages) == 2
    first, second = _received(rec)
    assert first["Message-ID"] != second["Message-ID"]


def test_a_down_server_is_recorded_then_a_later_send_succeeds(
    tmp_path: Path, ingested: tuple[Store, Path], serve: Any
) -> None:
    store, db = ingested
    down = _config(tmp_path, free_port())  # nothing listens there
    today = local_today("Europe/Paris", datetime.now(UTC))
    failed = run_digest(store, down, db, day=today, send=True, attempts=2, backoff_s=0.01)
    assert failed.status == "failed" and failed.error and "\n" not in failed.error
    [(sent_at, attempts, error)] = query(db, "SELECT sent_at, attempts, last_error FROM digests")
    assert sent_at is None and attempts == 1 and error
    assert (db.parent / "digests" / f"{today.isoformat()}.eml").exists()  # the archive is never lost

    rec = Recorder()
    ok = run_digest(store, _config(tmp_path, serve(rec)), db, day=today, send=True)
    assert ok.status == "sent" and len(rec.messages) == 1
    [(sent_at, error)] = query(db, "SELECT sent_at, last_error FROM digests")
    assert sent_at is not None and error is None


def test_an_empty_day_sends_a_note_or_nothing(tmp_path: Path, serve: Any) -> None:
    db = tmp_path / "empty.duckdb"
    store = open_store(db)
    rec = Recorder()
    cfg = _config(tmp_path, serve(rec))
    day = datetime(2020, 1, 1, tzinfo=UTC).date()
    assert run_digest(store, cfg, db, day=day, send=True).status == "sent"
    assert "Nothing matched" in _received(rec)[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    skip = cfg.model_copy(update={"digest": cfg.digest.model_copy(update={"empty": "skip"})})
    assert run_digest(store, skip, db, day=day.replace(day=2), send=True).status == "skipped_empty"
    assert len(rec.messages) == 1
