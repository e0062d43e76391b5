"""Load and validate `sources.yaml` once, at start, into typed models.

Errors name the file, the source and the field, e.g.
``sources.yaml: sources[3] (name 'heise'): url: Field required``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newswatch.errors import ConfigError

DEFAULT_CONFIG = "sources.yaml"
DEFAULT_DB = "storage/news.duckdb"
MIN_INTERVAL_S = 10

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """'30m' -> 1800.0; '10s', '2h', '1d', or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 10m, 2h or 1d")
    if isinstance(value, int | float):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 2h, 1d)")
    return float(m.group(1)) * _UNIT_S[(m.group(2) or "s").lower()]


def _interval(value: Any) -> float | Literal["auto"] | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    seconds = parse_duration(value)
    if seconds < MIN_INTERVAL_S:
        raise ValueError(f"interval must be at least {MIN_INTERVAL_S}s, got {value!r}")
    return seconds


Interval = Annotated[float | Literal["auto"] | None, BeforeValidator(_interval)]
Seconds = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SourceConfig(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["feed", "page", "folder"]
    url: str | None = None
    path: str | None = None
    lang: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    interval: Interval = None
    selector: str | None = None  # page: CSS selector for article links
    link_pattern: str | None = None  # page: regex an article URL must match
    enabled: bool = True
    max_articles: int | None = Field(default=None, ge=1)  # per poll

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v, re.IGNORECASE):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @model_validator(mode="after")
    def _where(self) -> SourceConfig:
        if self.kind in ("feed", "page") and not self.url:
            raise ValueError(f"a {self.kind} source needs url")
        if self.kind == "folder" and not self.path:
            raise ValueError("a folder source needs path")
        if self.kind == "folder" and self.url:
            raise ValueError("a folder source takes path, not url")
        if self.kind != "page" and (self.selector or self.link_pattern):
            raise ValueError("selector and link_pattern apply to page sources only")
        return self


class SmtpConfig(_Strict):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    timeout: Seconds = 30.0


class DigestConfig(_Strict):
    timezone: str = "UTC"
    send_at: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    from_: str = Field(default="newswatch@localhost", alias="from")
    to: list[str] = Field(default_factory=list)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    empty: Literal["note", "skip"] = "note"  # what an empty day sends
    max_stories: int = Field(default=40, ge=1)
    templates: str | None = None  # a folder whose templates override the shipped ones
    archive: str | None = None  # default: a digests/ folder beside the database

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {v!r}") from exc
        return v


class FetchConfig(_Strict):
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch; news monitoring bot)"
    connect_timeout: Seconds = 10.0
    read_timeout: Seconds = 20.0
    total_timeout: Seconds = 60.0  # a slow drip is cut off here
    max_bytes: int = Field(default=5_000_000, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    per_host: int = Field(default=2, ge=1, le=16)  # concurrent requests to one host
    concurrency: int = Field(default=8, ge=1, le=64)  # concurrent requests overall
    max_retry_after: Seconds = 30.0  # longest Retry-After we wait for within a run
    respect_robots: bool = True


class ExtractConfig(_Strict):
    workers: int = Field(default=0, ge=0)  # 0: one per core
    page_timeout: Seconds = 20.0  # a page whose extraction runs longer is cut off
    recycle_after: int = Field(default=200, ge=1)  # pages per worker before it is replaced
    min_text_chars: int = Field(default=200, ge=0)


class DedupeConfig(_Strict):
    near_threshold: float = Field(default=0.8, gt=0, le=1)  # Jaccard over word shingles
    shingle_words: int = Field(default=5, ge=1, le=10)
    story_window: Seconds = 3 * 86400.0  # articles further apart are not the same story
    story_threshold: float = Field(default=0.5, gt=0, le=1)


class Config(_Strict):
    allow_private_networks: bool = False
    default_interval: Seconds = 1800.0
    sources: list[SourceConfig] = Field(default_factory=list)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    extract: ExtractConfig = Field(default_factory=ExtractConfig)
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig)
    topics: str | None = None  # a topics file replacing the shipped one
    base_dir: str = Field(default=".", exclude=True)  # folder of the config file; relative paths resolve here

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice")
            seen.add(s.name)
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r} (known: {', '.join(s.name for s in self.sources)})")

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p


def config_path(cli_value: str | None = None) -> Path:
    return Path(cli_value or os.environ.get("NEWSWATCH_CONFIG") or DEFAULT_CONFIG)


def db_path(cli_value: str | None = None) -> Path:
    return Path(cli_value or os.environ.get("NEWSWATCH_DB") or DEFAULT_DB)


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """'sources[3] (name 'heise'): url' from a pydantic error location."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]" if parts else f"[{key}]"
            try:
                node = node[key]
            except (IndexError, KeyError, TypeError):
                node = None
            if isinstance(node, dict) and "name" in node:
                parts[-1] += f" (name {node['name']!r})"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    head = parts[:-1]
    return (".".join(head) + ": " if head else "") + (parts[-1] if parts else "")


def parse_config(raw: Any, origin: str = DEFAULT_CONFIG, base_dir: str = ".") -> Config:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return Config.model_validate({**raw, "base_dir": base_dir})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
            # drop pydantic's internal union branch names
            loc = tuple(x for x in loc if x not in ("float", "literal['auto']", "none", "str"))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"{origin}: {_where(loc, raw)}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def load_config(path: str | Path | None = None) -> Config:
    p = config_path(str(path) if path else None)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found (pass --config or set NEWSWATCH_CONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config: {exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{p}:{where}: invalid YAML: {problem}") from None
    return parse_config(raw, origin=str(p), base_dir=str(p.parent))
