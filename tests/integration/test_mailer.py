"""The SMTP door against a real aiosmtpd server on 127.0.0.1: structure, headers, retries, login, TLS."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import ipaddress
import re
import socket
import ssl
import subprocess
import threading
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from newswatch.config import SmtpConfig
from newswatch.digest import Coverage, StoryItem, render_digest, select_digest
from newswatch.errors import MailError
from newswatch.mailer import PartialDeliveryError, build_message, send_message
from tests.smtp_server import Recorder, free_port

HOST = "127.0.0.1"
DAY = date(2024, 11, 5)
TITLE = "Microsoft travaillerait sur des modèles aussi performants que ceux d’OpenAI « MAI »"
PASSWORD = (
    "s3cr3t-Pässwörd!"  # non-ASCII: smtplib cannot log in with it, the mailer sends AUTH PLAIN in UTF-8
)
ASCII_PASSWORD = "plain-ascii-s3cret"


def digest_message(recipients: tuple[str, ...] = ("analyst@example.org",)) -> EmailMessage:
    item = StoryItem(
        story_id="s1",
        article_id="a1",
        title=TITLE,
        url="https://www.lesnumeriques.com/ia/microsoft-mai.html",
        source="lesnumeriques",
        lang="fr",
        published_at=datetime(2024, 11, 5, 7, 42, tzinfo=UTC),
        first_seen_at=datetime(2024, 11, 5, 7, 50, tzinfo=UTC),
        text=(
            "Le média The Information rapporte que Microsoft travaille sur ses propres grands modèles. "
            "Les modèles de cette famille, baptisée « MAI », pourraient remplacer ceux d’OpenAI. "
            "Microsoft propose déjà des modèles plus petits, appelés « Phi »."
        ),
        labels=("ai_partnership", "inhouse_model"),
        scores={"ai_partnership": 0.9, "inhouse_model": 0.95},
        evidence=("Microsoft ↔ OpenAI · investment", "Microsoft · MAI"),
        relation_keys=frozenset({"pair:microsoft|openai", "model:microsoft|mai"}),
        coverage=(Coverage("Reuters", "Microsoft builds MAI", "https://reuters.example/mai", "en", None),),
    )
    d = select_digest(DAY, "Europe/Paris", [item], [], frozenset({"pair:microsoft|openai"}), [], 40)
    html, text = render_digest(d)
    return build_message(
        d,
        html,
        text,
        "Veille IA <newswatch@example.org>",
        list(recipients),
        datetime(2024, 11, 6, 6, tzinfo=UTC),
    )


def config(port: int, security: str = "none", username: str | None = None) -> SmtpConfig:
    return SmtpConfig(host=HOST, port=port, security=security, username=username, timeout=5)  # type: ignore[arg-type]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ---------------------------------------------------------------- delivery and structure


def test_the_received_message_is_multipart_alternative_utf8_with_proper_headers(serve: Any) -> None:
    rec = Recorder()
    port = serve(rec)
    send_message(digest_message(), config(port), None)
    (raw,) = rec.messages
    assert rec.rcpts == [["analyst@example.org"]]
    head = raw.split(b"\r\n\r\n", 1)[0]
    found = re.search(rb"(?:^|\r\n)Subject: (.*?)\r\n(?![ \t])", head, re.DOTALL)
    assert found is not None
    assert b"=?utf-8?" in found.group(1)  # the accented subject travels as encoded words
    head.decode("ascii")  # and every header is 7-bit
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert TITLE in str(msg["Subject"])
    assert str(msg["From"]) == "Veille IA <newswatch@example.org>"
    assert str(msg["To"]) == "analyst@example.org"
    assert str(msg["Message-ID"]).startswith("<newswatch-digest-2024-11-05-")
    assert msg["Date"].datetime == datetime(2024, 11, 6, 6, tzinfo=dt.UTC)
    text, html = (p.get_content() for p in parts)
    for body in (text, html):
        assert TITLE in " ".join(body.split())  # the text part wraps long lines
        assert "Microsoft ↔ OpenAI · investment" in body and "Microsoft · MAI" in body
        assert "Reuters" in body
    assert 'href="https://www.lesnumeriques.com/ia/microsoft-mai.html"' in html


def test_a_recipient_refused_at_rcpt_is_reported_without_resending_to_the_others(serve: Any) -> None:
    rec = Recorder(refuse_rcpt="nobody")
    port = serve(rec)
    with pytest.raises(PartialDeliveryError) as err:
        send_message(digest_message(("analyst@example.org", "nobody@example.org")), config(port), None)
    assert rec.rcpts == [["analyst@example.org"]]  # delivered once, to the one accepted
    assert set(err.value.refused) == {"nobody@example.org"}
    assert "1 of 2 recipients" in str(err.value)


# ---------------------------------------------------------------- retries


def test_a_server_that_is_down_is_retried_with_backoff_then_fails_in_one_line() -> None:
    port = free_port()  # nothing listens there
    sleeps = Sleeps()
    with pytest.raises(MailError) as err:
        send_message(digest_message(), config(port), None, attempts=3, backoff_s=1.0, sleep=sleeps)
    assert sleeps == [1.0, 2.0]  # three attempts, exponential backoff between them
    message = str(err.value)
    assert "\n" not in message
    assert f"{HOST}:{port}" in message and "3 attempts" in message and "refused" in message


def test_a_451_is_retried_and_the_message_is_delivered_once(serve: Any) -> None:
    rec = Recorder(replies=["451 4.3.0 try again later"])
    port = serve(rec)
    sleeps = Sleeps()
    send_message(digest_message(), config(port), None, sleep=sleeps)
    assert rec.data_calls == 2
    assert len(rec.messages) == 1
    assert sleeps == [1.0]


def test_a_server_that_keeps_answering_4xx_is_tried_attempts_times(serve: Any) -> None:
    rec = Recorder(replies=["452 4.3.1 out of storage"] * 5)
    port = serve(rec)
    with pytest.raises(MailError, match="452"):
        send_message(digest_message(), config(port), None, attempts=3, sleep=Sleeps())
    assert rec.data_calls == 3 and rec.messages == []


def test_a_5xx_refusal_is_not_retried(serve: Any) -> None:
    rec = Recorder(replies=["554 5.7.1 message rejected as spam"] * 5)
    port = serve(rec)
    sleeps = Sleeps()
    with pytest.raises(MailError) as err:
        send_message(digest_message(), config(port), None, attempts=5, sleep=sleeps)
    assert rec.data_calls <= 2 and sleeps == [] and rec.data_calls == 1
    assert "554" in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------- login


class Authenticator:
    """Accepts one user and password; a failed login echoes the password back, as a careless server might."""

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        if auth_data.login == b"newswatch" and auth_data.password in (
            PASSWORD.encode(),
            ASCII_PASSWORD.encode(),
        ):
            return AuthResult(success=True)
        echo = auth_data.password.decode("utf-8", "replace")
        b64 = base64.b64encode(auth_data.password).decode()
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {echo} ({b64})")


@pytest.mark.parametrize("password", [PASSWORD, ASCII_PASSWORD])
def test_login_over_plain_text_delivers(serve: Any, password: str) -> None:
    rec = Recorder()
    port = serve(rec, authenticator=Authenticator(), auth_require_tls=False)
    send_message(digest_message(), config(port, username="newswatch"), password)
    assert rec.authenticated == [True] and len(rec.messages) == 1


@pytest.mark.parametrize("wrong", ["wr0ng-Pässwörd", "wrong-ascii-password"])
def test_a_refused_login_fails_once_and_never_shows_the_password(serve: Any, wrong: str) -> None:
    rec = Recorder()
    port = serve(rec, authenticator=Authenticator(), auth_require_tls=False)
    sleeps = Sleeps()
    with pytest.raises(MailError) as err:
        send_message(digest_message(), config(port, username="newswatch"), wrong, sleep=sleeps)
    message = str(err.value)
    assert "535" in message and "login refused" in message
    assert wrong not in message and base64.b64encode(wrong.encode()).decode() not in message
    assert "***" in message  # the server did echo it: masked
    assert sleeps == [] and rec.messages == []


def test_a_username_without_a_password_says_what_to_set() -> None:
    with pytest.raises(MailError, match="NEWSWATCH_SMTP_PASSWORD"):
        send_message(digest_message(), config(free_port(), username="newswatch"), None)


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return _openssl_certificate(cert, key)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newswatch test")])
    now = datetime.now(UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


def _openssl_certificate(cert: Path, key: Path) -> tuple[Path, Path]:
    try:
        san = f"subjectAltName=IP:{HOST},DNS:localhost"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=newswatch",
                "-addext",
                san,
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        pytest.skip("neither the cryptography package nor the openssl command is available")
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def test_starttls_with_a_trusted_certificate_delivers_over_tls(
    serve: Any, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    rec = Recorder()
    port = serve(
        rec,
        tls_context=server_context(cert, key),
        require_starttls=True,
        authenticator=Authenticator(),
    )
    client = ssl.create_default_context(cafile=str(cert))
    send_message(digest_message(), config(port, "starttls", username="newswatch"), PASSWORD, context=client)
    assert rec.tls == [True] and rec.authenticated == [True]


def test_starttls_refuses_an_untrusted_certificate_without_retrying(
    serve: Any, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    rec = Recorder()
    port = serve(rec, tls_context=server_context(cert, key), require_starttls=True)
    sleeps = Sleeps()
    with pytest.raises(MailError, match="certificate") as err:
        send_message(digest_message(), config(port, "starttls"), None, sleep=sleeps)
    assert sleeps == [] and rec.messages == []
    assert "\n" not in str(err.value)


def test_starttls_against_a_server_without_it_fails_instead_of_sending_in_clear(serve: Any) -> None:
    rec = Recorder()
    port = serve(rec)
    with pytest.raises(MailError, match="STARTTLS"):
        send_message(digest_message(), config(port, "starttls"), None, sleep=Sleeps())
    assert rec.messages == []


def test_implicit_tls_delivers(serve: Any, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    rec = Recorder()
    port = serve(rec, ssl_context=server_context(cert, key))
    send_message(
        digest_message(), config(port, "ssl"), None, context=ssl.create_default_context(cafile=str(cert))
    )
    assert len(rec.messages) == 1


def test_a_server_that_never_answers_times_out_and_is_retried() -> None:
    """A listener that accepts but never greets: each attempt times out, then MailError."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except TimeoutError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        smtp = SmtpConfig(host=HOST, port=port, security="none", timeout=0.3)
        with pytest.raises(MailError, match="timed out"):
            send_message(digest_message(), smtp, None, attempts=2, sleep=Sleeps())
    finally:
        stop.set()
        t.join(5)
        for conn in accepted:
            conn.close()
        listener.close()
    assert len(accepted) == 2
