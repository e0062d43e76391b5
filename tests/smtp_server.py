"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with a handler that records what it accepted."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it accepted; `replies` scripts the answers to DATA."""

    replies: list[str] = field(default_factory=list)
    refuse_rcpt: str | None = None  # local part refused with 550 at RCPT
    data_calls: int = 0
    messages: list[bytes] = field(default_factory=list)
    rcpts: list[list[str]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    authenticated: list[bool | None] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_rcpt and address.startswith(self.refuse_rcpt + "@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply.startswith("250"):
            self.messages.append(envelope.original_content or envelope.content)
            self.rcpts.append(list(envelope.rcpt_tos))
            self.tls.append(session.ssl is not None)
            self.authenticated.append(session.authenticated)
        return reply


@pytest.fixture
def serve() -> Iterator[Any]:
    controllers: list[Controller] = []

    def start(handler: Recorder, **kwargs: Any) -> int:
        port = free_port()
        c = Controller(handler, hostname=HOST, port=port, **kwargs)
        c.start()
        controllers.append(c)
        return port

    yield start
    for c in controllers:
        c.stop()
