"""Values that travel between the stages. Plain frozen dataclasses: no behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newswatch.stories import StoryFeatures


class Outcome(StrEnum):
    """What became of one fetch. Every fetch ends in exactly one of these (a row in `fetches`)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"  # 304, or a body whose hash equals the stored one
    HTTP_ERROR = "http_error"  # 4xx/5xx other than 429
    RATE_LIMITED = "rate_limited"  # 429 (Retry-After honoured then given up)
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"  # body over the size cap (also a decompression bomb)
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"  # refused, reset, TLS failure
    REDIRECT_ERROR = "redirect_error"  # loop, too many, or to a non-http(s) scheme
    BLOCKED = "blocked"  # refused by us: private network address, bad scheme
    ROBOTS = "robots_disallowed"
    PARSE_ERROR = "parse_error"  # fetched fine, but not a feed/page we can read
    NOT_FOUND = "not_found"  # folder source whose path does not exist
    ERROR = "error"  # anything else, with its one-line reason


@dataclass(frozen=True)
class FetchResult:
    """The answer to one HTTP request, success or failure, as a value."""

    url: str  # what was asked for
    outcome: Outcome
    final_url: str | None = None  # after redirects
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # one line: what went wrong and where
    elapsed_s: float = 0.0
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass(frozen=True)
class Entry:
    """One item discovered in a source: a feed entry, a link on a listing page, or a local file.

    `html` or `text` is set when the item already carries the article itself (local files);
    otherwise the page at `url` is fetched and extracted.
    """

    url: str | None
    title: str | None = None
    summary: str | None = None  # feed summary/content as plain text
    author: str | None = None
    published_at: datetime | None = None  # UTC, aware
    updated_at: datetime | None = None  # UTC, aware
    guid: str | None = None
    lang: str | None = None  # a hint from the feed or the file
    html: bytes | None = None
    text: str | None = None
    content_html: str | None = None  # full article HTML carried by the feed (content:encoded)


@dataclass(frozen=True)
class Discovery:
    """What a source yielded: its entries, and a one-line note when parsing was not clean."""

    entries: tuple[Entry, ...]
    error: str | None = None  # set when nothing could be read (then entries is empty)
    warning: str | None = None  # set when the input was broken but still yielded entries
    title: str | None = None  # the feed's or page's own title


@dataclass(frozen=True)
class Extracted:
    """What extraction got out of one HTML page."""

    text: str | None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    site_name: str | None = None
    lang: str | None = None  # <html lang>, normalised to a 2-letter code
    canonical_url: str | None = None  # <link rel=canonical>
    error: str | None = None


@dataclass(frozen=True)
class Article:
    """One article ready to store. `id` derives from `canonical_url`, so writes are idempotent."""

    id: str
    url: str
    canonical_url: str
    source: str
    title: str
    text: str
    lang: str
    fetched_at: datetime
    content_hash: str
    author: str | None = None
    published_at: datetime | None = None
    site_name: str | None = None
    guid: str | None = None
    extraction: str = "ok"  # ok | feed_only (extraction failed, kept what the feed gave) | text
    summary: str | None = None
    updated_at: datetime | None = None  # the feed's own updated date, when it gave one


@dataclass(frozen=True)
class FetchRecord:
    """One row of `fetches`: one source, one poll."""

    source: str
    url: str | None
    started_at: datetime
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    entries: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    failed_pages: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass
class SourceReport:
    """What one poll of one source did, for the run summary."""

    source: str
    outcome: Outcome
    error: str | None = None
    entries: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    skipped_known: int = 0
    failed_pages: int = 0
    new_by_lang: dict[str, int] = field(default_factory=dict)
    page_errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Candidate:
    """An earlier article that may be a duplicate or the same story: what the store gives the dedupe
    decision (`newswatch.clustering.decide`)."""

    id: str
    cluster_id: str | None
    story_id: str | None
    duplicate_of: str | None
    minhash: bytes | None
    story_features: str | None
    published_at: datetime | None
    fetched_at: datetime
    # the features already decoded, for an article of the batch being written (the store gives JSON)
    features: StoryFeatures | None = field(default=None, compare=False, repr=False)
