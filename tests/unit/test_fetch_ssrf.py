"""The address policy and header parsing of newswatch.fetch, without any network (resolvers are injected)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from newswatch.fetch import check_url_allowed, is_public_address, parse_retry_after


@pytest.mark.parametrize(
    "ip",
    [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "2002:5db8:d822::1",  # 6to4 wrapping 93.184.216.34
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "::ffff:8.8.8.8",
    ],
)
def test_public_addresses(ip: str) -> None:
    assert is_public_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "fec0::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2001:db8::1",  # documentation
        "not an address",
        "",
    ],
)
def test_non_public_addresses(ip: str) -> None:
    assert not is_public_address(ip)


def resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


DNS = resolver(
    {
        "news.example": ["93.184.216.34"],
        "mixed.example": ["93.184.216.34", "10.1.2.3"],
        "v6.example": ["2606:4700:4700::1111", "::1"],
        "localhost": ["127.0.0.1", "::1"],
    }
)


def test_public_host_is_allowed() -> None:
    assert check_url_allowed("https://news.example/a?b=1", allow_private=False, resolve=DNS) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://mixed.example/", "10.1.2.3"),  # ANY private answer is enough
        ("http://v6.example/", "::1"),
        ("http://localhost:8080/admin", "127.0.0.1"),
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://[::1]:9000/", "::1"),
    ],
)
def test_private_answers_are_refused(url: str, fragment: str) -> None:
    literal = resolver({"127.0.0.1": ["127.0.0.1"], "::1": ["::1"]})

    def both(host: str, port: int) -> list[str]:
        try:
            return DNS(host, port)
        except socket.gaierror:
            return literal(host, port)

    reason = check_url_allowed(url, allow_private=False, resolve=both)
    assert reason is not None and fragment in reason and "\n" not in reason
    assert check_url_allowed(url, allow_private=True, resolve=both) is None


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://news.example/x", "javascript:alert(1)", "data:text/html,x", "//x/y"]
)
def test_only_http_and_https(url: str) -> None:
    for allow_private in (False, True):
        reason = check_url_allowed(url, allow_private=allow_private, resolve=DNS)
        assert reason is not None and "http(s)" in reason


def test_unresolvable_host_is_refused() -> None:
    reason = check_url_allowed("http://nonexistent.invalid/", allow_private=False, resolve=DNS)
    assert reason is not None and "cannot resolve host nonexistent.invalid" in reason


def test_resolver_gets_host_and_default_port() -> None:
    asked: list[tuple[str, int]] = []

    def record(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.216.34"]

    check_url_allowed("https://News.Example/x", allow_private=False, resolve=record)
    check_url_allowed("http://news.example:8080/x", allow_private=False, resolve=record)
    check_url_allowed("http://bücher.example/x", allow_private=False, resolve=record)
    assert asked == [("news.example", 443), ("news.example", 8080), ("xn--bcher-kva.example", 80)]


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0  # in the past: now
    assert parse_retry_after(None, now=now) is None
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None
