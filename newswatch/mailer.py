"""The only module that speaks SMTP: build the digest email (pure) and send it (smtplib, with retries).

`build_message` turns a rendered digest into a multipart/alternative `EmailMessage` (text/plain then
text/html, UTF-8, quoted-printable), with a Message-ID that is the same for the same day, sender domain
and recipients, so a resend after a crash can be recognised by the receiving side. Every header value is
made one line first: a title with a newline cannot add a header.

`send_message` delivers it: security none | starttls | ssl, optional login (the password is an argument;
this module never reads the environment), retries with exponential backoff on transient failures
(refused or dropped connections, timeouts, 4xx replies) and none on permanent ones (5xx, TLS or login
problems). Failures raise `MailError` with one line that names the server and never the password.
"""

from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, getaddresses, parseaddr

from newswatch.config import SmtpConfig
from newswatch.digest import Digest, clean_line
from newswatch.errors import MailError

MAX_ERROR_CHARS = 300
_DOMAIN = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


class PartialDeliveryError(MailError):
    """The server accepted the message for some recipients and refused the others (not retried: the
    accepted ones would get it twice). `refused` maps each refused address to the server's reply."""

    def __init__(self, message: str, refused: dict[str, str]) -> None:
        super().__init__(message)
        self.refused = refused


class _Transient(Exception):
    """A failure worth another attempt."""


class _Permanent(Exception):
    """A failure that another attempt will not fix."""


# ---------------------------------------------------------------- building


def _address(value: str, what: str) -> tuple[str, str]:
    """(display name, addr) of one address; MailError when it is not a plausible address."""
    name, addr = parseaddr(clean_line(value))
    local, _, domain = addr.rpartition("@")
    if not local or not domain or any(ch.isspace() or ch in '<>",' for ch in addr):
        raise MailError(
            f"{what}: {clean_line(value, 80)!r} is not an email address (fix digest.from / digest.to)"
        )
    return clean_line(name), addr


def message_id(day: str, sender: str, recipients: Sequence[str], revision: int = 0) -> str:
    """'<newswatch-digest-2024-06-03-1a2b3c4d5e6f@example.org>': the same for the same day, sender and
    recipients, so a resend of the same digest carries the same id. A deliberate resend (`--force`) passes
    revision 1, 2, ...: some providers silently drop a second message with an id they have seen."""
    _, addr = parseaddr(sender)
    domain = addr.rpartition("@")[2].strip().lower()
    if not _DOMAIN.match(domain):
        domain = "newswatch.invalid"
    digest = hashlib.sha256("\n".join([day, addr.lower(), *sorted(r.lower() for r in recipients)]).encode())
    suffix = f"-r{revision}" if revision > 0 else ""
    return f"<newswatch-digest-{day}-{digest.hexdigest()[:12]}{suffix}@{domain}>"


def build_message(
    d: Digest,
    html: str,
    text: str,
    sender: str,
    recipients: Sequence[str],
    now: datetime,
    *,
    revision: int = 0,
) -> EmailMessage:
    """The digest email: multipart/alternative, text/plain then text/html, both UTF-8.

    `revision` > 0 marks a deliberate resend with its own Message-ID (see `message_id`)."""
    if not recipients:
        raise MailError("no recipients: set digest.to in the config")
    from_name, from_addr = _address(sender, "digest.from")
    to = [_address(r, "digest.to") for r in recipients]
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = clean_line(d.subject, 200) or f"newswatch {d.day.isoformat()}"
    msg["From"] = _format_address(from_name, from_addr)
    msg["To"] = ", ".join(_format_address(n, a) for n, a in to)
    msg["Date"] = format_datetime((now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC))
    msg["Message-ID"] = message_id(d.day.isoformat(), from_addr, [a for _, a in to], revision)
    msg["X-Newswatch-Digest"] = d.day.isoformat()
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_text_body(text), subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _format_address(name: str, addr: str) -> str:
    if not name:
        return addr
    try:
        return str(Address(display_name=name, addr_spec=addr))
    except (ValueError, IndexError):
        return formataddr((name, addr))


def _text_body(text: str) -> str:
    """Line breaks normalised and no other control characters (tabs kept)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or (ch >= " " and ch != "\x7f"))


# ---------------------------------------------------------------- sending


def send_message(
    msg: EmailMessage,
    smtp: SmtpConfig,
    password: str | None,
    *,
    attempts: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    context: ssl.SSLContext | None = None,
) -> None:
    """Deliver `msg` through the server in `smtp`, retrying transient failures.

    Waits backoff_s, 2*backoff_s, 4*backoff_s, ... between attempts. `context` verifies the server's TLS
    certificate (default: the system's trust store). Raises MailError (one line, no password).
    """
    if smtp.username and not password:
        raise MailError(
            f"smtp.username is {smtp.username!r} but no password was given (set NEWSWATCH_SMTP_PASSWORD)"
        )
    where = f"{smtp.host}:{smtp.port} ({smtp.security})"
    attempts = max(1, attempts)
    last = "unknown error"
    for attempt in range(1, attempts + 1):
        try:
            _deliver_once(msg, smtp, password, context)
            return
        except PartialDeliveryError:
            raise
        except _Permanent as exc:
            raise MailError(
                _one_line(f"SMTP {where} refused the digest: {exc}", password, smtp.username)
            ) from None
        except _Transient as exc:
            last = str(exc)
        if attempt < attempts:
            sleep(backoff_s * 2 ** (attempt - 1))
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    raise MailError(
        _one_line(
            f"could not deliver the digest via SMTP {where} after {tries}: {last}", password, smtp.username
        )
    )


def _deliver_once(
    msg: EmailMessage, smtp: SmtpConfig, password: str | None, context: ssl.SSLContext | None
) -> None:
    """One connection, one delivery. Raises _Transient, _Permanent or PartialDeliveryError."""
    ctx = context or ssl.create_default_context()
    helo = _helo_name(msg)
    client: smtplib.SMTP | None = None
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, local_hostname=helo, timeout=smtp.timeout, context=ctx
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, local_hostname=helo, timeout=smtp.timeout)
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=ctx)
            client.ehlo()
        if smtp.username and password:
            _login(client, smtp.username, password)
        refused = client.send_message(msg)
        if refused:
            raise _partial(msg, refused)
    except (PartialDeliveryError, _Transient, _Permanent):
        raise
    except Exception as exc:
        _classify(exc)
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """smtplib's login for ASCII credentials; AUTH PLAIN in UTF-8 (RFC 4616) otherwise, which smtplib
    cannot send."""
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    client.ehlo_or_helo_if_needed()
    if "plain" not in client.esmtp_features.get("auth", "").lower().split():
        raise _Permanent("a non-ASCII username or password needs AUTH PLAIN, which the server does not offer")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, reply)


def _partial(msg: EmailMessage, refused: dict[str, tuple[int, bytes]]) -> PartialDeliveryError:
    replies = {addr: f"{code} {_decode(text)}" for addr, (code, text) in refused.items()}
    total = len(getaddresses([str(v) for v in msg.get_all("To", [])]))
    listing = "; ".join(f"{a}: {r}" for a, r in sorted(replies.items()))
    return PartialDeliveryError(
        _one_line(
            f"digest delivered to {total - len(refused)} of {total} recipients; refused: {listing}", None
        ),
        replies,
    )


def _classify(exc: Exception) -> None:
    """Re-raise `exc` as _Transient or _Permanent, with a short reason."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        reason = "all recipients refused: " + "; ".join(
            f"{addr}: {code} {_decode(text)}" for addr, (code, text) in sorted(exc.recipients.items())
        )
        raise (_Transient if codes and all(400 <= c < 500 for c in codes) else _Permanent)(reason)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        raise _Permanent(f"the server does not support it: {exc}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        raise _Permanent(
            f"login refused: {exc.smtp_code} {_decode(exc.smtp_error)} (check smtp.username and the password)"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
        raise (_Transient if 400 <= exc.smtp_code < 500 or exc.smtp_code == -1 else _Permanent)(reply)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        raise _Transient(f"connection closed by the server ({exc or 'no reason given'})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        raise _Permanent(f"TLS certificate not trusted: {exc.verify_message or exc.reason}")
    if isinstance(exc, ssl.SSLError):
        raise _Permanent(f"TLS failed: {exc.reason or exc}")
    if isinstance(exc, socket.gaierror):
        raise _Transient(f"host not found ({exc.strerror or exc})")
    if isinstance(exc, TimeoutError | socket.timeout):
        raise _Transient("timed out")
    if isinstance(exc, ConnectionRefusedError):
        raise _Transient("connection refused")
    if isinstance(exc, OSError):
        raise _Transient(exc.strerror or type(exc).__name__)
    if isinstance(exc, smtplib.SMTPException):
        raise _Permanent(str(exc) or type(exc).__name__)
    raise exc


def _helo_name(msg: EmailMessage) -> str:
    """The sender's domain (no DNS lookup of our own host name, which can hang without a network)."""
    domain = parseaddr(str(msg.get("From", "")))[1].rpartition("@")[2]
    return domain if _DOMAIN.match(domain) else "localhost"


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _one_line(text: str, password: str | None, username: str | None = None) -> str:
    """One line of at most MAX_ERROR_CHARS, with the password (plain, or base64 as AUTH LOGIN and AUTH
    PLAIN send it) masked."""
    return _mask(clean_line(_mask(text, password, username), MAX_ERROR_CHARS), password, username)


def _mask(text: str, password: str | None, username: str | None) -> str:
    if not password:
        return text
    secrets = {
        password,
        clean_line(password),
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"\0{username or ''}\0{password}".encode()).decode(),
    }
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
