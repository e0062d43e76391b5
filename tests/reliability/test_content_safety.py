"""Content safety end to end: what hostile feeds and pages put in the store cannot script the digest, add
links other than http(s), or inject mail headers; `newswatch query` cannot write; the SMTP password never
shows up in logs, the database, the archive or an error message."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from newswatch.cli import main
from newswatch.config import Config
from newswatch.digest_run import local_today, run_digest
from newswatch.pipeline import PollSession
from newswatch.store import open_store
from newswatch.store.query import run_query
from tests.helpers import ROOT
from tests.reliability.harness import assert_store_consistent, everything_local, make_config
from tests.reliability.hostile import HostileServer, Item, respond, rss
from tests.reliability.reporting import FaultFactory
from tests.smtp_server import Recorder
from tests.smtp_server import serve as serve  # a fixture

RSS = "application/rss+xml"
LABELLED = ROOT / "tests" / "quality" / "data" / "labelled.jsonl"
FORBIDDEN_TAGS = {
    "script",
    "img",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "base",
    "link",
    "video",
    "audio",
    "source",
    "frame",
    "frameset",
}
PASSWORD = "Tr0ub4dor&3-s3cr3t-Pässwörd"


def _labelled(record_id: str) -> dict[str, Any]:
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        record: dict[str, Any] = json.loads(line)
        if record["id"] == record_id:
            return record
    raise LookupError(record_id)


def _hostile_page(title_html: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title_html}</title></head><body>"
        f"<article><h1>{title_html}</h1>{paragraphs}"
        "<p>Also: &lt;img src=x onerror=alert(2)&gt; and "
        '&lt;a href="javascript:alert(3)"&gt;click&lt;/a&gt;, '
        "a right-to-left override \u202egnp.exe and a bell \x07 character.</p>"
        "<script>alert('inline script')</script><a href='javascript:alert(4)'>a javascript link</a>"
        "<iframe src='http://127.0.0.1:1/evil'></iframe></article></body></html>"
    ).encode()


# --------------------------------------------------------------------------- hostile feed → digest


def _digest_config(feed: str, smtp_port: int, **digest: Any) -> Config:
    return make_config(
        [{"name": "hostile", "kind": "feed", "url": feed}],
        digest={
            "timezone": "UTC",
            "from": "Veille IA <newswatch@example.org>",
            "to": ["analyst@example.org"],
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", **digest},
        },
    )


def _ingest(config: Config, db: Path) -> None:
    store = open_store(db)
    with PollSession(config, store, resolve=everything_local) as session, ThreadPoolExecutor(2) as pool:
        list(pool.map(session.poll_source, [s.name for s in config.sources]))


@pytest.fixture
def hostile_feed() -> Iterator[str]:
    """A feed whose titles, summaries and pages carry markup, scripts, javascript: links, header injections
    and control characters; one page is gone (404) so the feed's own title and summary are what is kept."""
    a, b = _labelled("lb-en-006"), _labelled("lb-en-036")
    with HostileServer() as srv:
        page = srv.route(
            "/news/microsoft-loosens-its-reliance-on-openai.html",
            respond(
                200,
                _hostile_page(
                    "Microsoft loosens its reliance on OpenAI &lt;script&gt;alert(1)&lt;/script&gt;&#13;&#10;"
                    "Bcc: victim@evil.example",
                    a["text"],
                ),
            ),
        )
        gone = srv.route("/news/meta-buys-half-of-scale-ai-story.html", respond(404))
        items = [
            Item(link=page, title="ignored: the page's own title wins"),
            Item(
                link=gone,
                title='Meta &lt;script&gt;alert(5)&lt;/script&gt; "buys" 49% of Scale AI'
                "\r\nBcc: victim@evil.example"
                "\u202e\x0b",
                description=b["text"] + " <a href='javascript:alert(6)'>more</a>",
            ),
        ]
        yield srv.route("/feed.xml", respond(200, rss(items).encode(), RSS))


class _Audit(HTMLParser):
    """Every tag, attribute name and link target of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                self.links.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_a_hostile_feed_cannot_script_the_digest_or_inject_mail_headers(
    hostile_feed: str, tmp_path: Path, serve: Any, fault: FaultFactory
) -> None:
    rec = fault("hostile titles, summaries and pages → digest email", "digest", "escaped, sent once")
    smtp = Recorder()
    port = serve(smtp)
    config = _digest_config(hostile_feed, port)
    db = tmp_path / "news.duckdb"
    _ingest(config, db)
    assert_store_consistent(db)
    titles = [t for (t,) in run_query(db, "SELECT title FROM articles ORDER BY title").rows]
    assert len(titles) == 2 and all("\n" not in t and "\r" not in t for t in titles)

    day = local_today("UTC", datetime.now(UTC))
    result = run_digest(open_store(db), config, db, day=day, send=True, password=None)
    assert result.status == "sent" and result.stories == 2, result
    [raw] = smtp.messages
    assert smtp.rcpts == [["analyst@example.org"]]  # no Bcc smuggled into the envelope

    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # 7-bit headers
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    names = {k.lower() for k in msg}
    assert "bcc" not in names and "cc" not in names
    assert names <= {
        "subject",
        "from",
        "to",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "auto-submitted",
        "x-auto-response-suppress",
        "precedence",
        "list-id",
        "x-mailer",
        "reply-to",
        "x-newswatch-digest",
    }, names
    subject = str(msg["Subject"])
    assert "\n" not in subject and "\r" not in subject and "\u202e" not in subject
    assert "<script>" in subject or "Microsoft loosens" in subject  # shown as text, not dropped silently

    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    audit = _Audit()
    audit.feed(html)
    assert not audit.tags & FORBIDDEN_TAGS, audit.tags & FORBIDDEN_TAGS
    assert not [a for a in audit.attributes if a.startswith("on")]
    assert audit.links and all(link.startswith(("http://", "https://")) for link in audit.links), audit.links
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title's markup is there, escaped
    assert "javascript:" not in " ".join(audit.links) and "<script" not in html.lower()
    for body in (html, text):
        assert "\u202e" not in body and "\x07" not in body and "\x0b" not in body
    assert "Microsoft loosens its reliance on OpenAI <script>alert(1)</script>" in " ".join(text.split())
    rec.saw(
        "sent",
        f"{result.stories} stories; tags {sorted(audit.tags)[:6]}…; no script, no on*, http(s) links only",
    )


# --------------------------------------------------------------------------- newswatch query is read-only


@pytest.fixture
def seeded_db(tmp_path: Path) -> Path:
    config = make_config([{"name": "seeds", "kind": "folder", "path": str(ROOT / "seeds")}])
    db = tmp_path / "news.duckdb"
    _ingest(config, db)
    return db


WRITES = [
    "DELETE FROM articles",
    "UPDATE articles SET title = 'pwned'",
    "INSERT INTO labels VALUES ('x', 'y', 1, NULL, 'v', now())",
    "DROP TABLE articles",
    "CREATE TABLE evil (a INT)",
    "ALTER TABLE articles ADD COLUMN evil INT",
    "SELECT 1; DELETE FROM articles",
    "CHECKPOINT; DELETE FROM fetches",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "COPY articles TO '{tmp}/leak.csv'",
    "EXPORT DATABASE '{tmp}/export'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "INSTALL httpfs",
    "SET enable_external_access = true",
]


def test_query_cannot_write_and_fails_in_one_line(
    seeded_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: FaultFactory
) -> None:
    rec = fault(
        f"newswatch query with {len(WRITES)} kinds of write / file access", "query", "refused, one line"
    )
    before = run_query(seeded_db, "SELECT count(*), min(title) FROM articles").rows
    refusals = {}
    for sql in WRITES:
        code = main(["query", "--db", str(seeded_db), sql.format(tmp=tmp_path)])
        out, err = capsys.readouterr()
        refusals[sql] = err.strip()
        assert code == 1, (sql, out, err)
        assert out == "" and err.count("\n") == 1 and err.startswith("newswatch: query failed: "), (sql, err)
        assert "Traceback" not in err
    assert run_query(seeded_db, "SELECT count(*), min(title) FROM articles").rows == before
    # nothing but what the seeding poll made: the database, its WAL and its per-source poll locks
    made = ("news.duckdb", "news.duckdb.wal", "news.duckdb.locks")
    assert not [p.name for p in tmp_path.iterdir() if p.name not in made]
    assert (
        main(["query", "--db", str(seeded_db), "SELECT count(*) AS n FROM articles", "--format", "json"]) == 0
    )
    assert capsys.readouterr().out.strip() == '{"n": 2}'
    # a syntax error and a missing database are one clean line too
    assert main(["query", "--db", str(seeded_db), "SELEC nonsense FROM"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "syntax error" in err.lower()
    assert main(["query", "--db", str(tmp_path / "nope.duckdb"), "SELECT 1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no database here yet" in err
    rec.saw("refused", refusals["COPY articles TO '{tmp}/leak.csv'"])


# --------------------------------------------------------------------------- the SMTP password stays secret


class _EchoingAuthenticator:
    """Refuses every login and echoes the password back in its reply, as a careless server might."""

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        echo = auth_data.password.decode("utf-8", "replace")
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {echo}")


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, secret.encode("utf-16-le"), base64.b64encode(raw), base64.b64encode(b"\0newswatch\0" + raw)]


def test_the_smtp_password_never_leaks(
    seeded_db: Path,
    tmp_path: Path,
    serve: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    fault: FaultFactory,
) -> None:
    rec = fault("SMTP login refused, server echoes the password", "digest", "failed, password nowhere")
    port = serve(Recorder(), authenticator=_EchoingAuthenticator(), auth_require_tls=False)
    config_file = tmp_path / "sources.yaml"
    config_file.write_text(
        "sources:\n  - {name: seeds, kind: folder, path: " + json.dumps(str(ROOT / "seeds")) + "}\n"
        "digest:\n  timezone: UTC\n  to: [analyst@example.org]\n"
        f"  smtp: {{host: 127.0.0.1, port: {port}, security: none, username: newswatch}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSWATCH_SMTP_PASSWORD", PASSWORD)
    caplog.set_level(logging.DEBUG)
    code = main(["digest", "--config", str(config_file), "--db", str(seeded_db), "--send"])
    out, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "535" in err and "not sent" in err, err
    rec.saw("failed", err.strip())

    ours = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")
    )  # not the server's
    places: dict[str, bytes] = {"stdout": out.encode(), "stderr": err.encode(), "logs": ours.encode()}
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            places[str(path.relative_to(tmp_path))] = path.read_bytes()
    assert any(name.startswith("digests/") for name in places)  # the archive was written
    for where, data in places.items():
        for form in _forms(PASSWORD):
            assert form not in data, (where, form)
    # the database, read back: no column of any table holds it (bytes alone could be compressed)
    tables = [t for (t,) in run_query(seeded_db, "SELECT table_name FROM information_schema.tables").rows]
    for table in tables:
        hits = run_query(seeded_db, f"SELECT count(*) FROM {table} t WHERE t::VARCHAR LIKE '%s3cr3t%'").rows
        assert hits == [(0,)], table
    [(last_error,)] = run_query(seeded_db, "SELECT last_error FROM digests").rows
    assert last_error and "535" in last_error and "s3cr3t" not in last_error
