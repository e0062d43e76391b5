"""The digest: selection by day, one entry per story, ranking, memory across days, rendering, escaping."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.digest import (
    Coverage,
    Digest,
    SentStory,
    SourceHealth,
    StoryItem,
    day_bounds,
    http_url,
    render_digest,
    select_digest,
    sent_stories,
    should_send,
)
from newswatch.mailer import build_message
from newswatch.summary import split_sentences, summarize

PARIS = "Europe/Paris"
DAY = date(2024, 6, 3)
BOTH = ("ai_partnership", "inhouse_model")
SEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"

FR_TEXT = (
    "Le média The Information rapporte que Microsoft travaille sur ses propres grands modèles de langage. "
    "M. Nadella veut réduire la dépendance de l’entreprise à l’égard d’OpenAI, selon le rapport. "
    "Les modèles de cette famille, baptisée « MAI », pourraient remplacer ceux d’OpenAI dans Copilot. "
    "Microsoft propose déjà des modèles plus petits, appelés « Phi », qu’il a développés lui-même. "
    "Le partenariat entre Microsoft et OpenAI reste complexe."
)


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def story(
    sid: str,
    *,
    title: str | None = None,
    labels: tuple[str, ...] = ("ai_partnership",),
    score: float = 0.8,
    seen: datetime | None = None,
    keys: frozenset[str] = frozenset({"pair:microsoft|openai"}),
    evidence: tuple[str, ...] = ("Microsoft ↔ OpenAI · investment",),
    coverage: tuple[Coverage, ...] = (),
    url: str | None = None,
    source: str = "lesnumeriques",
    text: str = FR_TEXT,
    article_id: str | None = None,
) -> StoryItem:
    return StoryItem(
        story_id=sid,
        article_id=article_id or f"a-{sid}",
        title=title or f"Histoire {sid}",
        url=url or f"https://example.org/{sid}",
        source=source,
        lang="fr",
        published_at=utc(DAY, 7, 42),
        first_seen_at=seen or utc(DAY, 8),
        text=text,
        labels=labels,
        scores=dict.fromkeys(labels, score),
        evidence=evidence,
        relation_keys=keys,
        coverage=coverage,
    )


def outlet(name: str, n: int = 0) -> Coverage:
    return Coverage(
        name, f"Title {name}", f"https://{name.lower().replace(' ', '')}.example/{n}", "en", utc(DAY, 9)
    )


def select(
    stories: Sequence[StoryItem],
    sent: Sequence[SentStory] = (),
    known: frozenset[str] = frozenset({"pair:microsoft|openai"}),
    health: Sequence[SourceHealth] = (),
    max_stories: int = 40,
    day: date = DAY,
) -> Digest:
    return select_digest(day, PARIS, stories, sent, known, health, max_stories)


# ---------------------------------------------------------------- the day


def test_day_bounds_are_utc_and_follow_dst() -> None:
    assert day_bounds(DAY, PARIS) == (utc(date(2024, 6, 2), 22), utc(DAY, 22))
    start, end = day_bounds(date(2024, 3, 31), PARIS)  # spring forward: a 23-hour day
    assert end - start == timedelta(hours=23)
    assert start.tzinfo is not None and start.utcoffset() == timedelta(0)


def test_an_article_at_2330_utc_belongs_to_the_next_paris_day() -> None:
    late = story("late", seen=datetime(2024, 6, 2, 23, 30, tzinfo=UTC))  # 01:30 in Paris on June 3
    early = story("early", seen=datetime(2024, 6, 2, 21, 30, tzinfo=UTC))  # 23:30 in Paris on June 2
    assert select([late, early]).story_ids == ("late",)
    assert select([late, early], day=date(2024, 6, 2)).story_ids == ("early",)


def test_published_time_is_shown_in_the_digest_timezone() -> None:
    d = select([story("s1")])
    assert d.entries[0].published == "3 Jun 2024, 09:42 CEST"


def test_stories_without_a_topic_label_stay_out() -> None:
    d = select([story("s1", labels=("other_topic",)), story("s2")])
    assert d.story_ids == ("s2",)


# ---------------------------------------------------------------- one entry per story, sections, ranking


def test_a_story_with_both_labels_is_shown_once_with_both_badges() -> None:
    d = select([story("both", labels=BOTH, url="https://example.org/unique-both"), story("p")])
    assert d.story_ids.count("both") == 1
    assert [s.key for s in d.sections] == ["both", "ai_partnership"]
    assert [b.label for b in d.sections[0].entries[0].badges] == list(BOTH)
    assert d.counts == {"ai_partnership": 2, "inhouse_model": 1}
    html, text = render_digest(d)
    assert html.count('href="https://example.org/unique-both"') == 1
    assert text.count("https://example.org/unique-both") == 1


def test_articles_of_one_story_are_merged_into_one_entry_with_the_others_as_coverage() -> None:
    a = story("s", article_id="a1", score=0.7, source="Le Monde", url="https://lemonde.example/1")
    b = story("s", article_id="a2", score=0.9, source="Reuters", url="https://reuters.example/1")
    d = select([a, b])
    (e,) = d.entries
    assert e.article_id == "a2"  # the best-scored article represents the story
    assert [o.source for o in e.outlets] == ["Le Monde"]
    assert e.coverage_count == 2


def test_outlets_are_one_per_source_and_exclude_the_story_own_source() -> None:
    cov = (outlet("Reuters", 1), outlet("Reuters", 2), outlet("lesnumeriques", 3), outlet("Les Echos"))
    (e,) = select([story("s", coverage=cov)]).entries
    assert [o.source for o in e.outlets] == ["Les Echos", "Reuters"]  # by publication time, then name


def test_ranking_by_score_then_coverage() -> None:
    low = story("low", score=0.70)
    high = story("high", score=0.90)
    covered = story("covered", score=0.80, coverage=tuple(outlet(f"Outlet {i}") for i in range(4)))
    d = select([low, high, covered])
    assert d.story_ids == ("covered", "high", "low")  # 0.80 + 4 × 0.05 beats 0.90
    assert d.entries[0].why.endswith("5 outlets")


def test_max_stories_keeps_the_best_and_says_how_many_were_left_out() -> None:
    d = select([story(f"s{i}", score=0.5 + i / 100) for i in range(5)], max_stories=2)
    assert d.story_ids == ("s4", "s3")
    assert d.omitted == 3
    assert "3 more stories matched" in render_digest(d)[1]


# ---------------------------------------------------------------- memory across days


def test_a_story_sent_earlier_and_not_developed_is_not_sent_again() -> None:
    s = story("s", seen=utc(DAY, 8))
    sent = [SentStory("s", DAY - timedelta(days=1), frozenset({"pair:microsoft|openai"}), 1)]
    assert select([s], sent=sent).empty


def test_a_developed_story_comes_back_as_an_update_with_what_is_new() -> None:
    yesterday = DAY - timedelta(days=1)
    s = story(
        "s",
        seen=utc(yesterday, 8),  # first seen yesterday: only its development brings it back
        keys=frozenset({"pair:microsoft|openai", "pair:microsoft|mistral ai"}),
        evidence=("Microsoft ↔ OpenAI · investment", "Microsoft ↔ Mistral AI · investment"),
        coverage=(outlet("Reuters"), outlet("Les Echos")),
    )
    sent = [SentStory("s", yesterday, frozenset({"pair:microsoft|openai"}), 1)]
    d = select([s], sent=sent, known=frozenset({"pair:microsoft|openai", "pair:microsoft|mistral ai"}))
    (e,) = d.entries
    assert e.update is not None
    assert e.update.since == yesterday
    assert e.update.new_evidence == ("Microsoft ↔ Mistral AI · investment",)
    assert e.update.new_outlets == 2
    assert d.updates == 1
    html, text = render_digest(d)
    assert "Update" in html and "Microsoft ↔ Mistral AI · investment" in html
    assert (
        "UPDATE, new since Sunday 2 June 2024: Microsoft ↔ Mistral AI · investment; 2 more articles" in text
    )


def test_new_evidence_without_new_coverage_is_not_an_update() -> None:
    s = story("s", keys=frozenset({"pair:microsoft|openai", "model:microsoft|mai-1"}))
    sent = [SentStory("s", DAY - timedelta(days=2), frozenset({"pair:microsoft|openai"}), 1)]
    assert select([s], sent=sent).empty


def test_a_record_of_the_same_day_does_not_hide_the_story_when_the_digest_is_rebuilt() -> None:
    s = story("s")
    d = select([s])
    assert select([s], sent=sent_stories(d)).story_ids == ("s",)
    assert sent_stories(d) == (SentStory("s", DAY, frozenset({"pair:microsoft|openai"}), 1),)


def test_first_sighting_of_a_model_name_is_flagged_new() -> None:
    s = story(
        "s",
        labels=BOTH,
        keys=frozenset({"pair:microsoft|openai", "model:microsoft|mai-1"}),
        evidence=("Microsoft ↔ OpenAI · investment", "Microsoft · MAI-1"),
    )
    (e,) = select([s]).entries
    assert e.is_new and e.first_sightings == ("Microsoft · MAI-1",)
    assert [(ev.text, ev.new) for ev in e.evidence] == [
        ("Microsoft ↔ OpenAI · investment", False),
        ("Microsoft · MAI-1", True),
    ]
    (known,) = select([s], known=s.relation_keys).entries
    assert not known.is_new
    html, text = render_digest(select([s]))
    assert "Microsoft · MAI-1 (new)" in text and ">New<" in html


# ---------------------------------------------------------------- sources, empty days


def test_sources_that_failed_all_day_or_went_silent_are_listed() -> None:
    health = [
        SourceHealth("down", 5, 0, "connect_error: connection refused\nat line 2", None, None),
        SourceHealth("flaky", 2, 10, "timeout", None, None),
        SourceHealth("quiet", 0, 48, None, timedelta(days=3), timedelta(hours=6)),
        SourceHealth("normal", 0, 48, None, timedelta(hours=5), timedelta(hours=6)),
    ]
    d = select([story("s")], health=health)
    assert [(a.source, a.reason) for a in d.failing_sources] == [
        ("down", "failed all day (5 attempts): connect_error: connection refused at line 2"),
        ("quiet", "silent for 3 days (usually 6 h)"),
    ]
    html, text = render_digest(d)
    assert "Sources with problems" in html and "quiet: silent for 3 days" in text


def test_an_empty_day_renders_a_short_note_or_is_skipped() -> None:
    health = [SourceHealth("down", 3, 0, "dns_error", None, None)]
    d = select([], health=health)
    assert d.empty and d.subject == "newswatch 2024-06-03: nothing matched"
    html, text = render_digest(d)
    assert "Nothing matched today." in html and "Nothing matched today." in text
    assert "down: failed all day" in text
    assert should_send(d, "note") and not should_send(d, "skip")
    assert should_send(select([story("s")]), "skip")


# ---------------------------------------------------------------- rendering: escaping, UTF-8, overrides


HOSTILE_TITLE = (
    "<script>alert('x')</script> Microsoft\r\nBcc: victim@example.org\n<img src=x onerror=alert(1)>"
)


def _hostile_digest() -> Digest:
    s = story(
        "evil",
        title=HOSTILE_TITLE,
        url="javascript:alert(document.cookie)",
        source="<b>evil</b>",
        text="<script>alert(1)</script> Un texte normal avec une phrase assez longue pour le résumé ici.",
        evidence=("Microsoft ↔ <i>OpenAI</i> · investment",),
        coverage=(
            Coverage("Data", "t", "data:text/html;base64,PHNjcmlwdD4=", "en", None),
            Coverage("Spaced", "t", "https://ok.example/a b", "en", None),
            Coverage("Good", "t", "https://good.example/x?a=1&b=2", "en", None),
        ),
    )
    return select([s])


def test_hostile_content_is_escaped_in_html() -> None:
    html, _ = render_digest(_hostile_digest())
    assert "<script>" not in html and "<img" not in html and "<b>evil" not in html and "<i>OpenAI" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;evil&lt;/b&gt;" in html
    assert "javascript:" not in html  # the link is dropped, the title stays as text
    assert "data:text" not in html
    assert 'href="https://ok.example/a b"' not in html
    assert 'href="https://good.example/x?a=1&amp;b=2"' in html


def test_hostile_content_is_harmless_in_text_and_headers() -> None:
    d = _hostile_digest()
    _, text = render_digest(d)
    assert not any(line.startswith("Bcc:") for line in text.splitlines())
    assert "javascript:" not in text and "data:text" not in text
    assert "\r" not in text
    assert "\n" not in d.subject and "\r" not in d.subject
    html, text = render_digest(d)
    msg = build_message(d, html, text, "newswatch@example.org", ["analyst@example.org"], utc(DAY, 5))
    raw = msg.as_bytes()
    assert not any(line.startswith(b"Bcc:") for line in raw.splitlines())
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed.get_all("To") == ["analyst@example.org"]
    assert "Bcc: victim@example.org" in str(parsed["Subject"])  # kept as harmless text, on one line


def test_http_url_accepts_only_http_and_https() -> None:
    assert http_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert http_url(" HTTP://example.org ") == "HTTP://example.org"
    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:x",
        "data:text/html,x",
        "ftp://x.org",
        "//x.org",
        "",
        None,
        "https://",
        "https://x.org/\nSet-Cookie: a",
        "mailto:a@b.c",
    ):
        assert http_url(bad) is None, bad


def test_french_accents_and_quotes_survive_html_text_and_subject() -> None:
    title = "Mistral AI s’allie à Microsoft : « une première étape » pour l’Europe"
    d = select([story("fr", title=title)])
    html, text = render_digest(d)
    assert "Mistral AI s’allie à Microsoft : « une première étape » pour l’Europe" in html
    assert title in text
    assert "Le média The Information rapporte" in text
    msg = build_message(
        d, html, text, "Veille IA <newswatch@example.org>", ["analyst@example.org"], utc(DAY, 5)
    )
    raw = msg.as_bytes()
    raw.decode("ascii")  # the wire form is 7-bit: encoded words and quoted-printable
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert title[:40] in str(parsed["Subject"])
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().count(title) == 1


def test_templates_folder_overrides_the_shipped_templates(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text(
        "CUSTOM {{ d.title }} {{ d.entries[0].title }}\n", encoding="utf-8"
    )
    html, text = render_digest(select([story("s", title="<b>À la une</b>")]), tmp_path)
    assert text == "CUSTOM Monday 3 June 2024 <b>À la une</b>\n"  # text is not escaped
    assert "&lt;b&gt;À la une&lt;/b&gt;" in html  # the shipped HTML template still applies


def test_user_html_template_is_autoescaped_too(tmp_path: Path) -> None:
    (tmp_path / "digest.html.j2").write_text("<p>{{ d.entries[0].title }}</p>", encoding="utf-8")
    html, _ = render_digest(select([story("s", title="<script>x</script>")]), tmp_path)
    assert html == "<p>&lt;script&gt;x&lt;/script&gt;</p>"


def test_html_layout_is_fluid_and_table_based() -> None:
    html, _ = render_digest(select([story("s")]))
    assert "max-width:640px" in html and 'role="presentation"' in html and 'charset="utf-8"' in html
    assert 'name="viewport"' in html


# ---------------------------------------------------------------- message


def test_message_is_multipart_alternative_text_then_html_with_a_stable_message_id() -> None:
    d = select([story("s")])
    html, text = render_digest(d)
    m1 = build_message(
        d, html, text, "newswatch@example.org", ["a@example.org", "b@example.org"], utc(DAY, 5)
    )
    m2 = build_message(
        d, html, text, "newswatch@example.org", ["b@example.org", "a@example.org"], utc(DAY, 6)
    )
    assert m1.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in m1.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in m1.iter_parts())
    assert m1["Message-ID"] == m2["Message-ID"]
    assert str(m1["Message-ID"]).endswith("@example.org>")
    forced = build_message(
        d, html, text, "newswatch@example.org", ["a@example.org", "b@example.org"], utc(DAY, 6), revision=1
    )
    assert forced["Message-ID"] != m1["Message-ID"]
    other_day = select([story("s")], day=DAY + timedelta(days=1))
    assert (
        build_message(other_day, html, text, "newswatch@example.org", ["a@example.org"], utc(DAY, 5))[
            "Message-ID"
        ]
        != m1["Message-ID"]
    )


# ---------------------------------------------------------------- summary


def test_summary_is_two_or_three_sentences_in_order() -> None:
    s = summarize(FR_TEXT, "fr")
    n = len(split_sentences(s))
    assert 2 <= n <= 3
    assert s.startswith("Le média The Information rapporte")
    assert summarize(FR_TEXT, "fr") == s  # deterministic


def test_summary_keeps_abbreviations_whole_and_skips_the_repeated_title() -> None:
    assert "M. Nadella veut réduire la dépendance de l’entreprise à l’égard d’OpenAI, selon le rapport." in (
        split_sentences(FR_TEXT)
    )
    title = "Microsoft travaille sur ses propres modèles"
    s = summarize(f"{title}\n{title}\n{FR_TEXT}", "fr", title=title)
    assert title not in s


def test_summary_of_nothing_is_empty() -> None:
    assert summarize("", "fr") == "" and summarize("   \n", "en") == ""


def test_summary_of_the_seed_articles_reads_well() -> None:
    files = sorted(SEEDS.glob("*.txt"))
    if not files:
        pytest.skip("shared/seeds is absent")
    for f in files:
        text = f.read_text(encoding="utf-8")
        title = text.strip().splitlines()[0]
        s = summarize(text, "fr", title=title)
        assert 2 <= len(split_sentences(s)) <= 3, s
        assert 80 < len(s) <= 700
        assert title not in s
