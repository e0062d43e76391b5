"""Build, archive and (optionally) send one day's digest, exactly once per day.

Order of events, so nothing is lost and nothing is sent twice:
1. the digest is built from the store and archived (`.html`, `.txt`, `.eml`) and its row written;
2. with `send`, the message goes to the SMTP server (retried with backoff by the mailer);
3. `sent_at` is written only after the server accepted it. A second send of a sent day does nothing
   unless forced; a forced resend carries a new Message-ID revision.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from newswatch.config import Config
from newswatch.digest import Digest, day_bounds, render_digest, select_digest, sent_stories, should_send
from newswatch.digest_inputs import build_health, build_sent, build_story_items
from newswatch.errors import MailError
from newswatch.mailer import PartialDeliveryError, build_message, send_message
from newswatch.store import Store
from newswatch.store.digests import (
    DigestRecord,
    get_digest,
    get_known_relation_keys,
    get_sent_stories,
    get_source_day_health,
    get_story_members,
    mark_digest_attempt,
    upsert_digest,
)

PASSWORD_ENV = "NEWSWATCH_SMTP_PASSWORD"


@dataclass
class DigestResult:
    day: date
    status: str  # built | sent | already_sent | skipped_empty | failed
    subject: str = ""
    stories: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    error: str | None = None
    text: str = ""  # the plain-text digest (for the Prefect artifact)


def local_today(tz: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def previous_day(tz: str, now: datetime) -> date:
    """The last complete day in `tz`: what the scheduled morning digest covers."""
    return local_today(tz, now) - timedelta(days=1)


def archive_dir(config: Config, db_path: Path) -> Path:
    return config.resolve(config.digest.archive) if config.digest.archive else db_path.parent / "digests"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_digest(store: Store, config: Config, day: date) -> Digest:
    tz = config.digest.timezone
    start, end = day_bounds(day, tz)
    with store.read() as con:
        members = get_story_members(con, start, end)
        sent = get_sent_stories(con, day)
        known = get_known_relation_keys(con, start)
        health = get_source_day_health(con, [s.name for s in config.sources if s.enabled], start, end)
    return select_digest(
        day,
        tz,
        build_story_items(members),
        build_sent(sent),
        known,
        build_health(health, end),
        config.digest.max_stories,
    )


def run_digest(
    store: Store,
    config: Config,
    db_path: Path,
    *,
    day: date,
    send: bool,
    force: bool = False,
    now: datetime | None = None,
    password: str | None = None,
    attempts: int = 3,
    backoff_s: float = 2.0,
) -> DigestResult:
    """Build and archive the digest of `day`; with `send`, deliver it unless it was already sent."""
    now = now or datetime.now(UTC)
    with store.read() as con:
        previous = get_digest(con, day)
    if send and previous is not None and previous.sent_at is not None and not force:
        return DigestResult(day, "already_sent", previous.subject, len(previous.story_ids), previous.counts)

    digest = build_digest(store, config, day)
    html, text = render_digest(
        digest, config.resolve(config.digest.templates) if config.digest.templates else None
    )
    revision = previous.attempts if (force and previous is not None and previous.sent_at is not None) else 0
    recipients = list(config.digest.to)
    folder = archive_dir(config, db_path)
    stem = day.isoformat()
    paths = {"html": folder / f"{stem}.html", "txt": folder / f"{stem}.txt", "eml": folder / f"{stem}.eml"}
    _write_atomic(paths["html"], html.encode("utf-8"))
    _write_atomic(paths["txt"], text.encode("utf-8"))
    msg = None
    if recipients:
        msg = build_message(digest, html, text, config.digest.from_, recipients, now, revision=revision)
        _write_atomic(paths["eml"], msg.as_bytes())
    record = DigestRecord(
        day=day,
        timezone=config.digest.timezone,
        created_at=now,
        subject=digest.subject,
        counts=dict(digest.counts),
        story_ids=list(digest.story_ids),
        archive_path=str(paths["html"]),
        message_id=msg["Message-ID"] if msg is not None else None,
        recipients=recipients,
    )
    with store.write() as con:
        upsert_digest(
            con,
            record,
            [(s.story_id, sorted(s.relation_keys), s.coverage_count) for s in sent_stories(digest)],
        )
    result = DigestResult(
        day,
        "built",
        digest.subject,
        len(digest.story_ids),
        dict(digest.counts),
        {k: p for k, p in paths.items() if p.exists()},
        text=text,
    )
    if not send:
        return result
    if not should_send(digest, config.digest.empty):
        result.status = "skipped_empty"
        return result
    if msg is None:
        raise MailError("no recipients: set digest.to in the config")
    password = password if password is not None else os.environ.get(PASSWORD_ENV)
    try:
        send_message(msg, config.digest.smtp, password, attempts=attempts, backoff_s=backoff_s)
    except PartialDeliveryError as exc:
        # some recipients have it: a retry would send it twice to them, so the day counts as sent
        with store.write() as con:
            mark_digest_attempt(
                con,
                day,
                sent_at=datetime.now(UTC),
                error=str(exc),
                recipients=recipients,
                message_id=msg["Message-ID"],
            )
        result.status, result.error = "sent", str(exc)
        return result
    except MailError as exc:
        with store.write() as con:
            mark_digest_attempt(
                con, day, sent_at=None, error=str(exc), recipients=recipients, message_id=msg["Message-ID"]
            )
        result.status, result.error = "failed", str(exc)
        return result
    with store.write() as con:
        mark_digest_attempt(
            con,
            day,
            sent_at=datetime.now(UTC),
            error=None,
            recipients=recipients,
            message_id=msg["Message-ID"],
        )
    result.status = "sent"
    return result
