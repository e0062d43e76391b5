"""The only module that speaks HTTP: a polite, bounded, SSRF-aware fetcher whose every answer is a value.

`Fetcher.fetch(url)` never raises. It returns a `FetchResult` whose `outcome` says what happened
(`OK`, `NOT_MODIFIED`, `TIMEOUT`, `TOO_LARGE`, `BLOCKED`, ...) and whose `error` is one line naming the URL.

What it guarantees:

- One shared `httpx.Client`, safe to call from many threads; at most `concurrency` requests in flight
  overall and `per_host` per host (slots are held per request, not while waiting for Retry-After).
- Every request carries the configured User-Agent; timeouts for connect and each read, plus a total
  deadline per `fetch()` enforced on every socket operation (a server that drips a byte at a time, in the
  body or in the headers, is cut off).
- The size cap applies to the *decoded* body: gzip/deflate are decoded here, in bounded steps, so a
  decompression bomb stops at the cap without inflating in memory.
- Redirects are followed here, one hop at a time, each hop checked again: http(s) only, no loops, at most
  `max_redirects`. Links found in feeds and pages (`trusted=False`) may not reach loopback, private,
  link-local, multicast, reserved or unspecified addresses unless `allow_private_networks`; the address
  that was checked is the address connected to (no DNS rebinding between check and connect). A host's
  addresses are looked up once a minute, not once a page (each use is still vetted).
- Conditional GET (ETag / Last-Modified), Retry-After on 429 (and 503), robots.txt on request.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from ssl import SSLContext
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from newswatch.config import FetchConfig
from newswatch.model import FetchResult, Outcome

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]

ROBOTS_TOKEN = "newswatch"  # the product token matched against robots.txt User-agent lines
ROBOTS_MAX_BYTES = 500_000  # robots.txt files beyond this are treated as absent (allow)
MAX_RETRIES = 2  # retries after a 429/503 with an acceptable Retry-After
DNS_CACHE_S = 60.0  # a host's addresses are looked up again after this (one lookup per host per poll)
MAX_ERROR_CHARS = 300
ACCEPT_ENCODING = "gzip, deflate"  # only what we decode ourselves, with a bound

_SCHEMES = frozenset({"http", "https"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_URL_CHARS = 160
_STEP = 256 * 1024  # most bytes one inflate step may produce

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# --------------------------------------------------------------------------- address policy


def is_public_address(ip: str) -> bool:
    """True when `ip` is a globally routable unicast address (and so fine for an untrusted link).

    False for loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT), documentation
    ranges, and for IPv6 forms that embed such an IPv4 address (mapped, 6to4, NAT64). False for non-IPs.
    """
    try:
        addr = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return False
    return all(_is_public(a) for a in _with_embedded(addr))


def _with_embedded(addr: IPAddress) -> list[IPAddress]:
    if isinstance(addr, ipaddress.IPv4Address):
        return [addr]
    if addr.ipv4_mapped is not None:
        return [addr.ipv4_mapped]
    if addr in _NAT64:  # DNS64 networks hand these out for IPv4-only hosts: judge the IPv4 inside
        return [ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)]
    found: list[IPAddress] = [addr]
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    return found


def _is_public(addr: IPAddress) -> bool:
    if not addr.is_global:
        return False
    special = (
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )
    if isinstance(addr, ipaddress.IPv6Address):
        special = special or addr.is_site_local
    return not special


def resolve_host(host: str, port: int) -> list[str]:
    """The default resolver: every address `socket.getaddrinfo` gives for host:port, in its order."""
    answers: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0])
        if address not in answers:
            answers.append(address)
    return answers


def check_url_allowed(url: str, *, allow_private: bool, resolve: Resolver = resolve_host) -> str | None:
    """None if `url` may be fetched as an untrusted link, else the one-line reason it may not.

    Only http and https pass. Unless `allow_private`, the host is resolved and refused if ANY answer is
    not a public address (see `is_public_address`); a host that does not resolve is refused too.
    """
    try:
        parsed = _parse_http_url(url, bad_scheme=Outcome.BLOCKED)
        if not allow_private:
            _vet_addresses(parsed, allow_private=False, resolve=resolve)
    except _Stop as stop:
        return stop.error
    return None


# --------------------------------------------------------------------------- small helpers


class _Stop(Exception):
    """Internal: ends a fetch with this outcome. Never leaves the module."""

    def __init__(
        self,
        outcome: Outcome,
        error: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(error)
        self.outcome = outcome
        self.error = _one_line(error)
        self.status = status
        self.retry_after = retry_after


class _UnvettedConnectError(Exception):
    """Internal: the transport was asked to connect to a host whose addresses were not checked."""


def _one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _short(url: str | httpx.URL) -> str:
    text = str(url)
    return text if len(text) <= _URL_CHARS else text[: _URL_CHARS - 1] + "…"


def _describe(exc: BaseException) -> str:
    return _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _host_of(url: httpx.URL) -> str:
    """The host as the transport sees it: ASCII (IDNA), lower case, IPv6 without brackets."""
    return url.raw_host.decode("ascii")


def _port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _parse_http_url(url: str, *, bad_scheme: Outcome) -> httpx.URL:
    """An http(s) URL with a host, or _Stop(bad_scheme) for other schemes, _Stop(ERROR) when malformed."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError as exc:
        raise _Stop(Outcome.ERROR, f"invalid URL {_short(url)}: {exc}") from None
    if scheme not in _SCHEMES:
        what = f"{scheme}:" if scheme else "a URL without scheme"
        raise _Stop(bad_scheme, f"not an http(s) URL ({what}): {_short(url)}")
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise _Stop(Outcome.ERROR, f"invalid URL {_short(url)}: {exc}") from None
    if not parsed.raw_host:
        raise _Stop(Outcome.ERROR, f"invalid URL {_short(url)}: no host")
    return parsed


def _vet_addresses(
    url: httpx.URL, *, allow_private: bool, resolve: Resolver, timeout: float | None = None
) -> list[str]:
    """Resolve the URL's host (within `timeout` seconds); refuse it unless every address is public or
    private ones are allowed."""
    host = _host_of(url)
    try:
        answers = _resolve_within(resolve, host, _port_of(url), timeout, url)
    except (OSError, UnicodeError, ValueError) as exc:
        raise _Stop(Outcome.DNS_ERROR, f"cannot resolve host {host} ({exc})") from None
    if not answers:
        raise _Stop(Outcome.DNS_ERROR, f"cannot resolve host {host} (no addresses)")
    if not allow_private:
        for address in answers:
            if not is_public_address(address):
                raise _Stop(
                    Outcome.BLOCKED,
                    f"blocked: {host} resolves to non-public address {address} "
                    f"(allow_private_networks is off): {_short(url)}",
                )
    return answers


def _resolve_within(
    resolve: Resolver, host: str, port: int, timeout: float | None, url: httpx.URL
) -> list[str]:
    """`resolve(host, port)` given at most `timeout` seconds. getaddrinfo has no timeout of its own: a
    tarpitting name server would otherwise hold a fetch thread far beyond the total deadline. The lookup
    thread is left to finish on its own (it holds nothing)."""
    if timeout is None:
        return [str(a) for a in resolve(host, port)]
    box: dict[str, list[str] | BaseException] = {}

    def lookup() -> None:
        try:
            box["answers"] = [str(a) for a in resolve(host, port)]
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=lookup, name="newswatch-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Stop(Outcome.TIMEOUT, f"DNS lookup of {host} took longer than {timeout:g}s: {_short(url)}")
    error = box.get("error")
    if isinstance(error, BaseException):
        raise error
    answers = box["answers"]
    assert isinstance(answers, list)
    return answers


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. None if absent/unreadable."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --------------------------------------------------------------------------- bounded decoding


class _Decoder:
    """Content-Encoding decoder that yields its output in steps of at most _STEP bytes."""

    def decode(self, data: bytes) -> Iterator[bytes]:
        yield data


class _ZlibDecoder(_Decoder):
    def __init__(self, encoding: str) -> None:
        self._gzip = encoding == "gzip"
        self._wbits = 16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(self._wbits)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        while True:
            chunk = self._step(data)
            if chunk:
                yield chunk
            if len(chunk) == _STEP:  # output full: more may wait in the unconsumed tail or in zlib's state
                data = self._inflate.unconsumed_tail
                continue
            rest = self._inflate.unused_data
            # a gzip body may hold several members; anything else after the end is ignored
            if not (self._gzip and self._inflate.eof and rest[:2] == b"\x1f\x8b"):
                return
            self._inflate = zlib.decompressobj(self._wbits)
            data = rest

    def _step(self, data: bytes) -> bytes:
        try:
            return self._inflate.decompress(data, _STEP)
        except zlib.error:
            if self._gzip or self._started:
                raise
            # "deflate" is sometimes sent raw, without the zlib header
            self._wbits = -zlib.MAX_WBITS
            self._inflate = zlib.decompressobj(self._wbits)
            return self._inflate.decompress(data, _STEP)
        finally:
            self._started = True


def _decoder_for(content_encoding: str | None, url: httpx.URL) -> _Decoder:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [{"x-gzip": "gzip"}.get(c, c) for c in codings if c and c != "identity"]
    if not codings:
        return _Decoder()
    if len(codings) == 1 and codings[0] in ("gzip", "deflate"):
        return _ZlibDecoder(codings[0])
    raise _Stop(Outcome.ERROR, f"unsupported Content-Encoding {content_encoding!r} from {_short(url)}")


# --------------------------------------------------------------------------- transport plumbing


@dataclasses.dataclass
class _Hop:
    """What the transport needs to know about the request the current thread is making."""

    deadline: float  # time.monotonic() after which every socket operation fails
    pinned: dict[str, list[str]]  # host -> the checked addresses to connect to


def _clamp(hop: _Hop | None, timeout: float | None, exc_type: type[Exception]) -> float | None:
    if hop is None:
        return timeout
    remaining = hop.deadline - time.monotonic()
    if remaining <= 0:
        raise exc_type("total deadline exceeded")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read/write/TLS step ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, hop_of: Callable[[], _Hop | None]) -> None:
        self._inner = inner
        self._hop_of = hop_of

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(self._hop_of(), timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(self._hop_of(), timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(self._hop_of(), timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._hop_of)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects only to the addresses the fetcher checked for this request's host."""

    def __init__(self, hop_of: Callable[[], _Hop | None]) -> None:
        self._inner = httpcore.SyncBackend()
        self._hop_of = hop_of

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        hop = self._hop_of()
        addresses = hop.pinned.get(host) if hop else None
        if not addresses:
            raise _UnvettedConnectError(f"refusing to connect to unchecked host {host}")
        failure: Exception | None = None
        for address in addresses:
            try:
                limit = _clamp(hop, timeout, httpcore.ConnectTimeout)
                stream = self._inner.connect_tcp(address, port, limit, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._hop_of)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise _UnvettedConnectError("unix sockets are not used by newswatch")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's transport with our network backend (httpx 0.28 has no public knob for it)."""

    def __init__(self, backend: httpcore.NetworkBackend, concurrency: int) -> None:
        limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency)
        super().__init__(limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def _build_client(settings: FetchConfig, transport: httpx.BaseTransport) -> httpx.Client:
    """The shared client: default headers and timeouts for every request, owner of the connection pool."""
    return httpx.Client(
        transport=transport,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"},
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ),
        follow_redirects=False,
        trust_env=False,  # no proxies or .netrc from the environment: they would bypass the address checks
    )


# --------------------------------------------------------------------------- the fetcher


@dataclasses.dataclass
class _Chain:
    """State of one fetch() across its redirect hops and retries."""

    origin: str
    budget: float  # seconds of request time left (waiting for a slot or a Retry-After is not counted)
    etag: str | None
    last_modified: str | None
    max_bytes: int
    cookies: httpx.Cookies = dataclasses.field(default_factory=httpx.Cookies)


@dataclasses.dataclass(frozen=True)
class _Reply:
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes


class Fetcher:
    """Fetch URLs politely and safely; `fetch()` is thread-safe and never raises."""

    def __init__(
        self,
        settings: FetchConfig,
        *,
        allow_private_networks: bool = False,
        resolve: Resolver | None = None,
    ) -> None:
        self._settings = settings
        self._allow_private = allow_private_networks
        self._resolve: Resolver = resolve or resolve_host
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all_slots = threading.BoundedSemaphore(settings.concurrency)
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._dns: dict[tuple[str, int], tuple[list[str], float]] = {}  # (host, port) -> answers, expiry
        self._robots_locks: dict[str, threading.Lock] = {}
        self._transport = _PinnedTransport(_PinnedBackend(self._current_hop), settings.concurrency)
        self._client = _build_client(settings, self._transport)

    # -- public

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        trusted: bool = False,
        check_robots: bool = False,
    ) -> FetchResult:
        """GET `url`. `trusted`: a configured source (may be on a private network). Never raises."""
        started = time.monotonic()
        chain = _Chain(url, self._settings.total_timeout, etag, last_modified, self._settings.max_bytes)
        try:
            result = self._fetch_chain(chain, trusted=trusted, check_robots=check_robots)
        except Exception as exc:  # the contract: every outcome is a value
            log.exception("unexpected error fetching %s", url)
            result = FetchResult(url=url, outcome=Outcome.ERROR, error=_describe(exc))
        result = dataclasses.replace(result, elapsed_s=round(time.monotonic() - started, 4))
        log.debug("fetched %s: %s %s in %.3fs", url, result.outcome, result.status or "", result.elapsed_s)
        return result

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- one fetch: hops, redirects, retries

    def _fetch_chain(self, chain: _Chain, *, trusted: bool, check_robots: bool) -> FetchResult:
        try:
            target = _parse_http_url(chain.origin, bad_scheme=Outcome.BLOCKED)
        except _Stop as stop:
            return _failure(chain.origin, None, stop)
        check_robots = check_robots and self._settings.respect_robots
        origin_host = _host_of(target)
        seen = {self._visit_key(target, chain)}
        hops = retries = 0
        while True:
            try:
                reply = self._fetch_hop(target, chain, trusted=trusted, check_robots=check_robots)
                if reply.status in _REDIRECT_STATUSES:
                    hops += 1
                    target = self._next_hop(target, reply, chain, hops=hops, seen=seen)
                    trusted = trusted and _host_of(target) == origin_host  # trust ends where the host changes
                    continue
                wait = self._retry_wait(target, reply, retries)
                if wait is not None:
                    retries += 1
                    log.info("HTTP %s from %s: retrying in %.1fs", reply.status, _short(target), wait)
                    time.sleep(wait)
                    continue
                return self._final_result(chain, target, reply)
            except _Stop as stop:
                return _failure(chain.origin, str(target), stop)

    def _fetch_hop(self, target: httpx.URL, chain: _Chain, *, trusted: bool, check_robots: bool) -> _Reply:
        cached = self._cached_answers(target)
        addresses = _vet_addresses(
            target,
            allow_private=trusted or self._allow_private,
            resolve=self._resolve_and_remember if cached is None else (lambda _host, _port: cached),
            timeout=None
            if cached is not None
            else min(self._settings.connect_timeout, max(chain.budget, 0.001)),
        )
        if check_robots and not self._robots_allow(target, trusted=trusted):
            raise _Stop(Outcome.ROBOTS, f"disallowed by robots.txt for {ROBOTS_TOKEN}: {_short(target)}")
        return self._exchange(target, chain, addresses)

    def _cached_answers(self, target: httpx.URL) -> list[str] | None:
        """The addresses a lookup of the target's host gave less than DNS_CACHE_S ago (every use is vetted
        again: the cache holds answers, not verdicts)."""
        key = (_host_of(target), _port_of(target))
        with self._lock:
            hit = self._dns.get(key)
            if hit is not None and hit[1] > time.monotonic():
                return hit[0]
        return None

    def _resolve_and_remember(self, host: str, port: int) -> list[str]:
        answers = [str(a) for a in self._resolve(host, port)]
        if answers:
            with self._lock:
                self._dns[(host, port)] = (answers, time.monotonic() + DNS_CACHE_S)
        return answers

    def _next_hop(
        self, current: httpx.URL, reply: _Reply, chain: _Chain, *, hops: int, seen: set[tuple[str, str]]
    ) -> httpx.URL:
        location = reply.headers.get("location", "").strip()
        if not location:
            raise _Stop(
                Outcome.REDIRECT_ERROR,
                f"HTTP {reply.status} without a Location header from {_short(current)}",
                status=reply.status,
            )
        if hops > self._settings.max_redirects:
            raise _Stop(
                Outcome.REDIRECT_ERROR,
                f"more than {self._settings.max_redirects} redirects from {_short(chain.origin)}",
                status=reply.status,
            )
        try:
            wanted = urljoin(str(current), location)
            target = _parse_http_url(wanted, bad_scheme=Outcome.REDIRECT_ERROR)
        except ValueError as exc:  # urljoin on a malformed Location, e.g. "http://[oops"
            raise _Stop(
                Outcome.REDIRECT_ERROR,
                f"redirect from {_short(current)} to malformed Location {location[:_URL_CHARS]!r}: {exc}",
                status=reply.status,
            ) from None
        except _Stop as stop:
            raise _Stop(
                Outcome.REDIRECT_ERROR,
                f"redirect from {_short(current)} refused: {stop.error}",
                status=reply.status,
            ) from None
        key = self._visit_key(target, chain)
        if key in seen:
            raise _Stop(
                Outcome.REDIRECT_ERROR,
                f"redirect loop: {_short(target)} again, from {_short(current)}",
                status=reply.status,
            )
        seen.add(key)
        return target

    @staticmethod
    def _visit_key(url: httpx.URL, chain: _Chain) -> tuple[str, str]:
        """A URL plus the cookies we hold: A -> B (sets a cookie) -> A is a consent dance, not a loop."""
        cookies = sorted(f"{c.domain}{c.path}{c.name}={c.value}" for c in chain.cookies.jar)
        return str(url.copy_with(fragment=None)), "; ".join(cookies)

    def _retry_wait(self, target: httpx.URL, reply: _Reply, retries: int) -> float | None:
        """Seconds to wait before asking again, None to give up (429, or 503 with a Retry-After)."""
        header = reply.headers.get("retry-after")
        if reply.status != 429 and not (reply.status == 503 and header is not None):
            return None
        wait = parse_retry_after(header)
        limit = self._settings.max_retry_after
        if wait is not None and wait <= limit and retries < MAX_RETRIES:
            return wait
        outcome = Outcome.RATE_LIMITED if reply.status == 429 else Outcome.HTTP_ERROR
        why = (
            "no usable Retry-After"
            if wait is None
            else f"Retry-After {wait:g}s is over the {limit:g}s we wait"
            if wait > limit
            else f"still refused after {retries} retries"
        )
        raise _Stop(
            outcome,
            f"HTTP {reply.status} {reply.reason} from {_short(target)}; {why}",
            status=reply.status,
            retry_after=wait,
        )

    def _final_result(self, chain: _Chain, target: httpx.URL, reply: _Reply) -> FetchResult:
        headers = reply.headers
        if reply.status == 304:
            return FetchResult(
                url=chain.origin,
                outcome=Outcome.NOT_MODIFIED,
                final_url=str(target),
                status=304,
                etag=headers.get("etag") or chain.etag,
                last_modified=headers.get("last-modified") or chain.last_modified,
            )
        if not 200 <= reply.status < 300:
            raise _Stop(
                Outcome.HTTP_ERROR,
                f"HTTP {reply.status} {reply.reason} from {_short(target)}",
                status=reply.status,
            )
        return FetchResult(
            url=chain.origin,
            outcome=Outcome.OK,
            final_url=str(target),
            status=reply.status,
            body=reply.body,
            content_type=headers.get("content-type"),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
        )

    # -- one request/response exchange

    def _exchange(self, target: httpx.URL, chain: _Chain, addresses: list[str]) -> _Reply:
        if chain.budget <= 0:
            raise _Stop(Outcome.TIMEOUT, self._deadline_message(target))
        headers: dict[str, str] = {}
        if chain.etag:
            headers["If-None-Match"] = chain.etag
        if chain.last_modified:
            headers["If-Modified-Since"] = chain.last_modified
        host = _host_of(target)
        with self._slots(host):
            start = time.monotonic()
            deadline = start + chain.budget
            self._local.hop = _Hop(deadline=deadline, pinned={host: addresses})
            try:
                return self._send(target, chain, headers, deadline)
            except httpx.TimeoutException as exc:
                raise _Stop(Outcome.TIMEOUT, self._timeout_message(target, exc, deadline)) from None
            except (httpx.HTTPError, _UnvettedConnectError) as exc:
                raise _transport_stop(target, exc) from None
            finally:
                self._local.hop = None
                chain.budget -= time.monotonic() - start

    def _send(self, target: httpx.URL, chain: _Chain, headers: dict[str, str], deadline: float) -> _Reply:
        if self._client.is_closed:
            raise _Stop(Outcome.ERROR, f"Fetcher is closed: {_short(target)}")
        request = self._client.build_request("GET", target, headers=headers)
        chain.cookies.set_cookie_header(request)
        # Straight to the transport: Client.send would parse a Location header (and may raise on one like
        # javascript:...) before we see it; redirects are ours to follow, one checked hop at a time.
        response = self._transport.handle_request(request)
        response.request = request
        try:
            chain.cookies.extract_cookies(response)
            status = response.status_code
            body = b""
            if 200 <= status < 300:
                body = self._read_body(response, target, chain.max_bytes, deadline)
            return _Reply(status, response.reason_phrase, response.headers, body)
        finally:
            response.close()

    def _read_body(self, response: httpx.Response, target: httpx.URL, cap: int, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise _Stop(
                Outcome.TOO_LARGE,
                f"Content-Length {declared} is over the {cap}-byte cap: {_short(target)}",
                status=response.status_code,
            )
        decoder = _decoder_for(response.headers.get("content-encoding"), target)
        parts: list[bytes] = []
        size = 0
        try:
            for raw in response.iter_raw():
                if time.monotonic() > deadline:
                    raise _Stop(Outcome.TIMEOUT, self._deadline_message(target), status=response.status_code)
                for chunk in decoder.decode(raw):
                    size += len(chunk)
                    if size > cap:
                        raise _Stop(
                            Outcome.TOO_LARGE,
                            f"body over the {cap}-byte cap (decoded): {_short(target)}",
                            status=response.status_code,
                        )
                    parts.append(chunk)
        except zlib.error as exc:
            raise _Stop(
                Outcome.ERROR,
                f"cannot decode {response.headers.get('content-encoding')} body from {_short(target)}: {exc}",
                status=response.status_code,
            ) from None
        return b"".join(parts)

    def _timeout_message(self, target: httpx.URL, exc: httpx.TimeoutException, deadline: float) -> str:
        if time.monotonic() >= deadline - 0.005:
            return self._deadline_message(target)
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connect timeout ({self._settings.connect_timeout:g}s) to {_short(target)}"
        if isinstance(exc, httpx.PoolTimeout):
            return f"no free connection within {self._settings.connect_timeout:g}s for {_short(target)}"
        return f"read timeout ({self._settings.read_timeout:g}s) from {_short(target)}"

    def _deadline_message(self, target: httpx.URL) -> str:
        return f"total deadline of {self._settings.total_timeout:g}s exceeded fetching {_short(target)}"

    # -- concurrency

    def _current_hop(self) -> _Hop | None:
        hop: _Hop | None = getattr(self._local, "hop", None)
        return hop

    @contextmanager
    def _slots(self, host: str) -> Iterator[None]:
        """Hold one of the host's slots, then one of the global ones (always in that order)."""
        with self._lock:
            host_slots = self._host_slots.get(host)
            if host_slots is None:
                host_slots = self._host_slots[host] = threading.BoundedSemaphore(self._settings.per_host)
        with host_slots, self._all_slots:
            yield

    # -- robots.txt

    def _robots_allow(self, target: httpx.URL, *, trusted: bool) -> bool:
        key = f"{target.scheme}://{target.netloc.decode('ascii')}"
        with self._lock:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:  # one robots.txt request per host at a time, and only once per Fetcher
            if key not in self._robots:
                self._robots[key] = self._fetch_robots(key, trusted=trusted)
            rules = self._robots[key]
        return rules is None or rules.can_fetch(ROBOTS_TOKEN, str(target))

    def _fetch_robots(self, site: str, *, trusted: bool) -> RobotFileParser | None:
        """The parsed robots.txt, or None (everything allowed) when there is none we can read."""
        url = f"{site}/robots.txt"
        budget = self._settings.total_timeout
        chain = _Chain(url, budget, None, None, min(self._settings.max_bytes, ROBOTS_MAX_BYTES))
        result = self._fetch_chain(chain, trusted=trusted, check_robots=False)
        if result.outcome is not Outcome.OK:
            log.info("robots.txt %s: %s (%s); treating as allow-all", url, result.outcome, result.error)
            return None
        rules = RobotFileParser(url)
        rules.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return rules


def _failure(url: str, final_url: str | None, stop: _Stop) -> FetchResult:
    return FetchResult(
        url=url,
        outcome=stop.outcome,
        final_url=final_url,
        status=stop.status,
        error=stop.error,
        retry_after_s=stop.retry_after,
    )


def _transport_stop(target: httpx.URL, exc: Exception) -> _Stop:
    """Map a transport exception (other than timeouts) to an outcome with a one-line reason."""
    where = _short(target)
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, _UnvettedConnectError):
        return _Stop(Outcome.BLOCKED, f"blocked: {detail}: {where}")
    if isinstance(exc, httpx.ConnectError):
        return _Stop(Outcome.CONNECT_ERROR, f"cannot connect to {where}: {detail}")
    if isinstance(exc, httpx.NetworkError):
        return _Stop(Outcome.CONNECT_ERROR, f"connection lost with {where}: {detail}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return _Stop(Outcome.CONNECT_ERROR, f"broken HTTP response from {where}: {detail}")
    return _Stop(Outcome.ERROR, f"{type(exc).__name__} fetching {where}: {detail}")
