"""The daily digest: which stories go in (`select_digest`) and how they read (`render_digest`). Pure.

The store fills the input dataclasses (`StoryItem`, `SentStory`, `SourceHealth`); this module decides and
renders, and `newswatch.mailer` builds and sends the email. Nothing here does I/O except reading the
Jinja2 templates.

Selection, for a digest day D in the configured timezone:

* a story is one cluster (`story_id`); several `StoryItem` of one cluster are merged: the best-scored
  article represents it, the others join its coverage;
* it goes in when it carries a topic label and was first seen during D, or when it was sent in an
  earlier digest and has since *developed*: more coverage **and** a relation key (partner pair, model
  name) that no earlier digest showed — then it is marked "update" with what is new;
* a story already sent and not developed stays out;
* evidence whose relation key was never seen before D is flagged "new" (a first sighting);
* ranking: top topic score + 0.05 per other outlet (at most 6 counted); ties: more outlets, earlier
  first sighting, story id. Stories with both topic labels are shown once, in a first "both" section.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2

from newswatch.summary import summarize

TOPICS: tuple[str, ...] = ("ai_partnership", "inhouse_model")
TOPIC_NAMES: dict[str, str] = {"ai_partnership": "AI partnership", "inhouse_model": "In-house model"}
COUNT_NAMES: dict[str, tuple[str, str]] = {  # label -> (one, many), for the header line
    "ai_partnership": ("AI partnership", "AI partnerships"),
    "inhouse_model": ("in-house model", "in-house models"),
}
SECTION_TITLES: dict[str, str] = {
    "both": "Partnership and in-house model",
    "ai_partnership": "AI partnerships",
    "inhouse_model": "In-house models",
}
TOPIC_COLORS: dict[str, tuple[str, str]] = {  # label -> (text, background)
    "ai_partnership": ("#1e40af", "#dbeafe"),
    "inhouse_model": ("#6b21a8", "#f3e8ff"),
}
DEFAULT_COLOR = ("#374151", "#e5e7eb")
COVERAGE_BONUS = 0.05  # added to the score per other outlet ...
COVERAGE_BONUS_CAP = 6  # ... for at most this many outlets
SILENCE_FACTOR = 2.0  # a source silent for more than this many usual gaps is listed at the foot
SUBJECT_MAX = 140
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------- input: filled by the store


@dataclass(frozen=True)
class Coverage:
    """Another outlet's article about the same story."""

    source: str
    title: str
    url: str
    lang: str
    published_at: datetime | None


@dataclass(frozen=True)
class StoryItem:
    """One story (or one article of it: items sharing a `story_id` are merged) as the store sees it."""

    story_id: str
    article_id: str
    title: str
    url: str
    source: str
    lang: str
    published_at: datetime | None
    first_seen_at: datetime  # when the story was first seen (UTC, aware)
    text: str
    labels: tuple[str, ...]
    scores: dict[str, float]
    evidence: tuple[str, ...]  # ready lines: "Microsoft ↔ OpenAI · investment", "Microsoft · MAI-1"
    relation_keys: frozenset[str]  # "pair:microsoft|openai", "model:microsoft|mai-1"
    coverage: tuple[Coverage, ...] = ()  # other outlets


@dataclass(frozen=True)
class SentStory:
    """A story as an earlier digest sent it (see `sent_stories`)."""

    story_id: str
    day: date
    relation_keys: frozenset[str]
    coverage_count: int


@dataclass(frozen=True)
class SourceHealth:
    """One source's day: polls that failed and succeeded, and how long since it last yielded an article."""

    source: str
    failures_today: int
    successes_today: int
    last_error: str | None
    silent_for: timedelta | None
    usual_gap: timedelta | None


# ---------------------------------------------------------------- output: what the templates read


@dataclass(frozen=True)
class EvidenceLine:
    text: str
    new: bool  # carries a relation key never seen before the digest day


@dataclass(frozen=True)
class Outlet:
    source: str
    title: str
    href: str | None  # None when the URL is not http(s): shown as text
    lang: str
    published: str  # local time, "" when unknown


@dataclass(frozen=True)
class Badge:
    label: str
    text: str
    fg: str
    bg: str


@dataclass(frozen=True)
class Update:
    since: date  # the last digest that sent the story
    new_evidence: tuple[str, ...]
    new_outlets: int


@dataclass(frozen=True)
class DigestEntry:
    story_id: str
    article_id: str
    title: str
    href: str | None  # the article link, None when not http(s)
    source: str
    lang: str
    published: str  # "3 Jun 2024, 14:05 CEST", or "seen 14:05 CEST" without a publication time
    first_seen_at: datetime
    labels: tuple[str, ...]
    badges: tuple[Badge, ...]
    scores: dict[str, float]
    rank: float
    summary: str
    evidence: tuple[EvidenceLine, ...]
    outlets: tuple[Outlet, ...]
    relation_keys: frozenset[str]
    coverage_count: int  # articles in the story (this one included)
    first_sightings: tuple[str, ...]  # evidence (or key) never seen before the day
    update: Update | None = None

    @property
    def is_new(self) -> bool:
        return bool(self.first_sightings)

    @property
    def why(self) -> str:
        """One line: the topic scores and the coverage that put this story in."""
        parts = [f"{TOPIC_NAMES.get(lb, _humanise(lb))} {self.scores.get(lb, 0.0):.2f}" for lb in self.labels]
        n = len(self.outlets)
        if n:
            parts.append(f"{n + 1} outlets")
        return " · ".join(parts)


@dataclass(frozen=True)
class DigestSection:
    key: str  # "both" or a topic label
    title: str
    entries: tuple[DigestEntry, ...]


@dataclass(frozen=True)
class SourceAlert:
    source: str
    reason: str


@dataclass(frozen=True)
class Digest:
    day: date
    timezone: str
    sections: tuple[DigestSection, ...]
    counts: dict[str, int]  # topic label -> stories carrying it (a both-label story counts for both)
    story_ids: tuple[str, ...]
    failing_sources: tuple[SourceAlert, ...]
    empty: bool
    subject: str
    title: str = ""  # "Monday 3 June 2024"
    updates: int = 0
    omitted: int = 0  # stories that matched but fell past max_stories
    topic_names: dict[str, str] = field(default_factory=lambda: dict(TOPIC_NAMES))

    @property
    def headline(self) -> str:
        """'5 stories · 4 AI partnerships · 3 in-house models · 1 update' ('' when empty)."""
        if self.empty:
            return ""
        parts = [_plural(len(self.story_ids), "story", "stories")]
        for t, n in self.counts.items():
            one, many = COUNT_NAMES.get(t, (self.topic_names.get(t, t), self.topic_names.get(t, t)))
            parts.append(_plural(n, one, many))
        if self.updates:
            parts.append(_plural(self.updates, "update", "updates"))
        return " · ".join(parts)

    @property
    def entries(self) -> tuple[DigestEntry, ...]:
        return tuple(e for s in self.sections for e in s.entries)


# ---------------------------------------------------------------- small pure helpers


def clean_line(value: str | None, limit: int | None = None) -> str:
    """One line of display text: control/format characters (bidi overrides too) and line breaks become
    spaces, runs of spaces collapse, optionally cut at `limit` characters with an ellipsis."""
    if not value:
        return ""
    chars = [
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co") else ch
        for ch in unicodedata.normalize("NFC", value)
    ]
    text = _SPACES.sub(" ", "".join(chars)).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def http_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL without spaces or control characters, else None."""
    if not url:
        return None
    url = url.strip()
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or parts.netloc.startswith("@"):
        return None
    return url


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of `day` in timezone `tz`, as UTC-aware datetimes (23 or 25 hours on DST days)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def format_day(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_local(dt: datetime, tz: str) -> str:
    """'3 Jun 2024, 14:05 CEST' in `tz` (naive datetimes are taken as UTC)."""
    local = _aware(dt).astimezone(ZoneInfo(tz))
    month = _MONTHS[local.month - 1][:3]
    return f"{local.day} {month} {local.year}, {local:%H:%M} {local.tzname() or ''}".strip()


def format_duration(td: timedelta) -> str:
    """'3 days', '5 h', '40 min'."""
    s = td.total_seconds()
    if s >= 2 * 86400:
        return f"{round(s / 86400)} days"
    if s >= 2 * 3600:
        return f"{round(s / 3600)} h"
    return f"{max(1, round(s / 60))} min"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _humanise(label: str) -> str:
    return label.replace("_", " ").strip().capitalize()


def _key_names(key: str) -> list[str]:
    """'pair:microsoft|openai' -> ['microsoft', 'openai']."""
    _, _, body = key.partition(":")
    return [n.strip() for n in (body or key).split("|") if n.strip()]


def _norm(text: str) -> str:
    return _SPACES.sub(" ", re.sub(r"[-_‐-―]", " ", text.casefold()))


def _names_key(line: str, key: str) -> bool:
    """True when the evidence `line` names everything in the relation `key`."""
    names = [_norm(n) for n in _key_names(key)]
    return bool(names) and all(n in _norm(line) for n in names)


def _evidence_for_key(key: str, evidence: Sequence[str]) -> str:
    """The evidence line that names everything in `key`, or a line made from the key itself."""
    for line in evidence:
        if _names_key(line, key):
            return line
    kind = key.partition(":")[0]
    raw = _key_names(key)
    return " ↔ ".join(raw) if kind == "pair" else " · ".join(raw) if raw else key


# ---------------------------------------------------------------- selection


@dataclass(frozen=True)
class _Story:
    item: StoryItem  # the representative article
    first_seen_at: datetime
    labels: tuple[str, ...]
    scores: dict[str, float]
    evidence: tuple[str, ...]
    relation_keys: frozenset[str]
    coverage: tuple[Coverage, ...]


def _ordered_union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for group in groups:
        for x in group:
            out.setdefault(x, None)
    return tuple(out)


def _top_score(scores: dict[str, float], labels: Iterable[str]) -> float:
    return max((scores.get(lb, 0.0) for lb in labels), default=0.0)


def _merge(items: Sequence[StoryItem], topics: Sequence[str]) -> _Story:
    """One story from its articles: the best-scored one represents it, the others are coverage."""
    ordered = sorted(
        items, key=lambda i: (-_top_score(i.scores, topics), _aware(i.first_seen_at), i.article_id)
    )
    rep = ordered[0]
    scores: dict[str, float] = {}
    for it in ordered:
        for label, score in it.scores.items():
            scores[label] = max(score, scores.get(label, score))
    coverage: dict[str, Coverage] = {}
    for it in ordered[1:]:
        coverage.setdefault(it.url, Coverage(it.source, it.title, it.url, it.lang, it.published_at))
    for it in ordered:
        for c in it.coverage:
            coverage.setdefault(c.url, c)
    coverage.pop(rep.url, None)
    labels = _ordered_union(it.labels for it in ordered)
    return _Story(
        item=rep,
        first_seen_at=min(_aware(it.first_seen_at) for it in ordered),
        labels=tuple(t for t in topics if t in labels) + tuple(lb for lb in labels if lb not in topics),
        scores=scores,
        evidence=_ordered_union(it.evidence for it in ordered),
        relation_keys=frozenset().union(*(it.relation_keys for it in ordered)),
        coverage=tuple(coverage.values()),
    )


def _outlets(story: _Story, tz: str) -> tuple[Outlet, ...]:
    """Other outlets, one per source (its earliest article), the story's own source left out."""

    def key(c: Coverage) -> tuple[int, datetime, str, str]:
        when = _aware(c.published_at) if c.published_at else datetime.max.replace(tzinfo=UTC)
        return (0 if c.published_at else 1, when, clean_line(c.source).casefold(), c.url)

    own = clean_line(story.item.source).casefold()
    seen: set[str] = set()
    out: list[Outlet] = []
    for c in sorted(story.coverage, key=key):
        name = clean_line(c.source, 80) or "?"
        if name.casefold() in seen or name.casefold() == own:
            continue
        seen.add(name.casefold())
        published = format_local(c.published_at, tz) if c.published_at else ""
        out.append(Outlet(name, clean_line(c.title, 200), http_url(c.url), clean_line(c.lang, 8), published))
    return tuple(out)


def _badges(labels: Sequence[str]) -> tuple[Badge, ...]:
    out = []
    for lb in labels:
        fg, bg = TOPIC_COLORS.get(lb, DEFAULT_COLOR)
        out.append(Badge(lb, TOPIC_NAMES.get(lb, _humanise(lb)), fg, bg))
    return tuple(out)


def _entry(story: _Story, tz: str, known: frozenset[str], update: Update | None, rank: float) -> DigestEntry:
    it = story.item
    new_keys = sorted(story.relation_keys - known)
    sightings = _ordered_union([[clean_line(_evidence_for_key(k, story.evidence), 160) for k in new_keys]])
    evidence = tuple(
        EvidenceLine(line, any(_names_key(line, k) for k in new_keys))
        for line in (clean_line(e, 160) for e in story.evidence)
        if line
    )
    if it.published_at is not None:
        published = format_local(it.published_at, tz)
    else:
        published = "seen " + format_local(story.first_seen_at, tz).split(", ", 1)[-1]
    coverage_count = 1 + len({c.url for c in story.coverage})
    return DigestEntry(
        story_id=it.story_id,
        article_id=it.article_id,
        title=clean_line(it.title, 300) or "(untitled)",
        href=http_url(it.url),
        source=clean_line(it.source, 80),
        lang=clean_line(it.lang, 8).upper(),
        published=published,
        first_seen_at=story.first_seen_at,
        labels=story.labels,
        badges=_badges(story.labels),
        scores=dict(story.scores),
        rank=rank,
        summary=clean_line(summarize(it.text, it.lang, 3, title=it.title)),
        evidence=evidence,
        outlets=_outlets(story, tz),
        relation_keys=story.relation_keys,
        coverage_count=coverage_count,
        first_sightings=sightings,
        update=update,
    )


def _development(story: _Story, earlier: Sequence[SentStory]) -> Update | Literal[False] | None:
    """None: never sent; False: sent and not developed (stays out); an Update: sent, developed since."""
    if not earlier:
        return None
    sent_keys = frozenset().union(*(s.relation_keys for s in earlier))
    sent_coverage = max(s.coverage_count for s in earlier)
    coverage_now = 1 + len({c.url for c in story.coverage})
    new_keys = sorted(story.relation_keys - sent_keys)
    if not new_keys or coverage_now <= sent_coverage:
        return False
    return Update(
        since=max(s.day for s in earlier),
        new_evidence=_ordered_union(
            [[clean_line(_evidence_for_key(k, story.evidence), 160) for k in new_keys]]
        ),
        new_outlets=coverage_now - sent_coverage,
    )


def _rank(story: _Story, topics: Sequence[str]) -> float:
    outlets = len({clean_line(c.source).casefold() for c in story.coverage})
    return _top_score(story.scores, topics) + COVERAGE_BONUS * min(outlets, COVERAGE_BONUS_CAP)


def _alerts(health: Sequence[SourceHealth]) -> tuple[SourceAlert, ...]:
    out = []
    for h in sorted(health, key=lambda h: h.source):
        if h.failures_today > 0 and h.successes_today == 0:
            tries = "1 attempt" if h.failures_today == 1 else f"{h.failures_today} attempts"
            error = clean_line(h.last_error, 160)
            out.append(
                SourceAlert(
                    clean_line(h.source, 80), f"failed all day ({tries})" + (f": {error}" if error else "")
                )
            )
        elif (
            h.silent_for is not None
            and h.usual_gap is not None
            and h.usual_gap.total_seconds() > 0
            and h.silent_for > h.usual_gap * SILENCE_FACTOR
        ):
            reason = f"silent for {format_duration(h.silent_for)} (usually {format_duration(h.usual_gap)})"
            out.append(SourceAlert(clean_line(h.source, 80), reason))
    return tuple(out)


def _subject(day: date, entries: Sequence[DigestEntry]) -> str:
    if not entries:
        return f"newswatch {day.isoformat()}: nothing matched"
    n = len(entries)
    head = f"newswatch {day.isoformat()}: {n} {'story' if n == 1 else 'stories'} — "
    return head + clean_line(entries[0].title, max(20, SUBJECT_MAX - len(head)))


def select_digest(
    day: date,
    tz: str,
    stories: Sequence[StoryItem],
    sent: Sequence[SentStory],
    known_relation_keys: frozenset[str],
    health: Sequence[SourceHealth],
    max_stories: int,
    *,
    topics: Sequence[str] = TOPICS,
) -> Digest:
    """The digest of `day` (in timezone `tz`): see the module docstring for the rules."""
    start, end = day_bounds(day, tz)
    by_story: dict[str, list[StoryItem]] = {}
    for item in stories:
        if any(lb in topics for lb in item.labels):
            by_story.setdefault(item.story_id, []).append(item)
    sent_by_story: dict[str, list[SentStory]] = {}
    for s in sent:
        if s.day < day:
            sent_by_story.setdefault(s.story_id, []).append(s)

    picked: list[tuple[_Story, Update | None, float]] = []
    for story_id in sorted(by_story):
        story = _merge(by_story[story_id], topics)
        development = _development(story, sent_by_story.get(story_id, []))
        if development is False:
            continue
        if development is None and not (start <= story.first_seen_at < end):
            continue
        picked.append((story, development, _rank(story, topics)))

    picked.sort(key=lambda p: (-p[2], -len(p[0].coverage), p[0].first_seen_at, p[0].item.story_id))
    shown = picked[: max(0, max_stories)]
    entries = [_entry(s, tz, known_relation_keys, upd, rank) for s, upd, rank in shown]
    sections = _sections(entries, topics)
    ordered = [e for sec in sections for e in sec.entries]
    return Digest(
        day=day,
        timezone=tz,
        sections=sections,
        counts={t: sum(1 for e in ordered if t in e.labels) for t in topics},
        story_ids=tuple(e.story_id for e in ordered),
        failing_sources=_alerts(health),
        empty=not ordered,
        subject=_subject(day, entries),
        title=format_day(day),
        updates=sum(1 for e in ordered if e.update is not None),
        omitted=len(picked) - len(shown),
        topic_names={t: TOPIC_NAMES.get(t, _humanise(t)) for t in topics},
    )


def _sections(entries: Sequence[DigestEntry], topics: Sequence[str]) -> tuple[DigestSection, ...]:
    """A 'both' section for stories with two or more topics, then one per topic; each story once."""
    both = [e for e in entries if sum(1 for t in topics if t in e.labels) >= 2]
    rest = [e for e in entries if e not in both]
    sections = []
    if both:
        title = SECTION_TITLES["both"] if tuple(topics) == TOPICS else "Several topics"
        sections.append(DigestSection("both", title, tuple(both)))
    for t in topics:
        mine = tuple(e for e in rest if t in e.labels)
        if mine:
            sections.append(DigestSection(t, SECTION_TITLES.get(t, _humanise(t) + "s"), mine))
    return tuple(sections)


def sent_stories(d: Digest) -> tuple[SentStory, ...]:
    """What to remember of a sent digest (one row per story), for the next days' `select_digest`."""
    return tuple(SentStory(e.story_id, d.day, e.relation_keys, e.coverage_count) for e in d.entries)


def should_send(d: Digest, empty: Literal["note", "skip"]) -> bool:
    """False for an empty digest when the config says `empty: skip`."""
    return not (d.empty and empty == "skip")


# ---------------------------------------------------------------- rendering


def _environment(templates_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["http_url"] = http_url
    env.filters["clean_line"] = clean_line
    return env


def render_digest(d: Digest, templates_dir: Path | None = None) -> tuple[str, str]:
    """(html, text) of the digest. Templates in `templates_dir` take precedence over the shipped ones."""
    env = _environment(templates_dir)
    context = {
        "d": d,
        "colors": TOPIC_COLORS,
        "default_color": DEFAULT_COLOR,
        "format_day": format_day,
    }
    html = env.get_template(HTML_TEMPLATE).render(context)
    text = env.get_template(TEXT_TEMPLATE).render(context)
    return html, _tidy_text(text)


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    out: list[str] = []
    for ln in lines:
        if not ln and (not out or not out[-1]):
            continue
        out.append(ln)
    return "\n".join(out).strip("\n") + "\n"
