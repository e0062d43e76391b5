"""Turn store rows into the digest's input values (pure): one `StoryItem` per story, source health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newswatch.digest import Coverage, SentStory, SourceHealth, StoryItem
from newswatch.store.digests import HealthDayRow, StoryMemberRow

DEAL_KINDS = {
    "investment": "investment",
    "cloud": "cloud/compute",
    "compute": "cloud/compute",
    "licensing": "licensing",
    "integration": "integration",
    "tension": "tension",
    "end": "end",
}


def evidence_line(label: str, orgs: Sequence[str], kind: str | None, model: str | None) -> str:
    """'Microsoft ↔ OpenAI · investment' for a partnership; 'Microsoft · MAI-1' for an in-house model."""
    if label == "inhouse_model" or model:
        who = " ↔ ".join(orgs) if orgs else "?"
        return f"{who} · {model or 'own models'}"
    line = " ↔ ".join(orgs) if orgs else label
    return f"{line} · {DEAL_KINDS.get(kind or '', kind)}" if kind else line


def _rank_member(m: StoryMemberRow) -> tuple[float, bool, datetime, str]:
    return (-max(m.labels.values(), default=0.0), m.duplicate_of is not None, m.fetched_at, m.article_id)


def build_story_items(members: Sequence[StoryMemberRow]) -> list[StoryItem]:
    """One item per story that carries a label: its best labelled article, with the rest as coverage."""
    by_story: dict[str, list[StoryMemberRow]] = {}
    for m in members:
        by_story.setdefault(m.story_id, []).append(m)
    items = []
    for story_id in sorted(by_story):
        group = by_story[story_id]
        labelled = [m for m in group if m.labels]
        if not labelled:
            continue
        rep = min(labelled, key=_rank_member)
        scores: dict[str, float] = {}
        for m in labelled:
            for label, score in m.labels.items():
                scores[label] = max(score, scores.get(label, 0.0))
        evidence: list[str] = []
        keys: set[str] = set()
        for m in sorted(labelled, key=_rank_member):
            for label, orgs, kind, model, key in m.relations:
                line = evidence_line(label, orgs, kind, model)
                if line not in evidence:
                    evidence.append(line)
                keys.add(key)
        seen_urls = {rep.url}
        coverage = []
        for m in sorted(group, key=lambda m: (m.fetched_at, m.article_id)):
            if m.url in seen_urls:
                continue
            seen_urls.add(m.url)
            coverage.append(Coverage(m.source, m.title, m.url, m.lang, m.published_at))
        items.append(
            StoryItem(
                story_id=story_id,
                article_id=rep.article_id,
                title=rep.title,
                url=rep.url,
                source=rep.source,
                lang=rep.lang,
                published_at=rep.published_at,
                first_seen_at=min(m.fetched_at for m in group),
                text=rep.text,
                labels=tuple(sorted(scores)),
                scores=scores,
                evidence=tuple(evidence),
                relation_keys=frozenset(keys),
                coverage=tuple(coverage),
            )
        )
    return items


def build_sent(rows: Sequence[tuple[str, object, list[str], int]]) -> list[SentStory]:
    return [SentStory(sid, day, frozenset(keys), n) for sid, day, keys, n in rows]  # type: ignore[arg-type]


def build_health(rows: Sequence[HealthDayRow], end: datetime) -> list[SourceHealth]:
    return [
        SourceHealth(
            source=r.source,
            failures_today=r.failures,
            successes_today=r.successes,
            last_error=r.last_error,
            silent_for=(end - r.last_new_at) if r.last_new_at else None,
            usual_gap=r.usual_gap,
        )
        for r in rows
    ]
