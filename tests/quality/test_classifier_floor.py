"""Classifier quality floors (house rule 9: quality is a number in the repo, lowered only on purpose).

labelled.jsonl is the set the rules were first tuned on. heldout.jsonl was written before any rule, and
blind.jsonl by someone who never saw the rules; both served as development sets for the generalising rules of
classifier 1.1 (organisations outside the gazetteer, epithets, deal phrasings, own-model frames, new model
names, background and contrast), so their floors guard against regressions, they are no longer unseen.
blind2.jsonl was written by someone who never saw the rules and has never been used to tune them: its floor
is set below the score measured when it was first run, the honest estimate on unseen articles.
Run with -s to see the per-language tables.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from newswatch.classify import default_classifier
from newswatch.evaluate import EvalReport, evaluate, load_records, render_report

DATA = Path(__file__).resolve().parent / "data"
LABELS = ("ai_partnership", "inhouse_model")
LANGS = ("en", "fr", "de", "es", "it", "pt")

# Pinned floors (classifier 1.1.0). Measured when pinned: labelled 0.989 / 0.989, held-out 1.000 / 1.000,
# blind 1.000 / 1.000 (classifier 1.0.0: 0.984 / 0.989, 0.923 / 0.903, 0.870 / 0.926).
LABELLED_FLOOR = {"ai_partnership": 0.95, "inhouse_model": 0.95}
HELDOUT_FLOOR = {"ai_partnership": 0.95, "inhouse_model": 0.93}
BLIND_FLOOR = {"ai_partnership": 0.95, "inhouse_model": 0.95}
# blind2, never tuned on: 0.911 / 0.939 (micro 0.925) with 1.1.0, 0.888 micro with 1.0.0.
BLIND2_FLOOR = {"ai_partnership": 0.88, "inhouse_model": 0.9}
LANGUAGE_FLOOR = 0.9  # micro F1 of every language, labelled and blind sets


def _report(name: str) -> EvalReport:
    path = DATA / name
    with path.open(encoding="utf-8") as fh:
        records = load_records(fh, origin=str(path))
    report = evaluate(records, default_classifier())
    print(f"\n{name}\n{render_report(report, show_mistakes=True)}")
    return report


@pytest.fixture(scope="module")
def labelled() -> EvalReport:
    return _report("labelled.jsonl")


@pytest.fixture(scope="module")
def heldout() -> EvalReport:
    return _report("heldout.jsonl")


@pytest.fixture(scope="module")
def blind() -> EvalReport:
    return _report("blind.jsonl")


@pytest.fixture(scope="module")
def blind2() -> EvalReport:
    return _report("blind2.jsonl")


@pytest.mark.parametrize("label", LABELS)
def test_labelled_f1_floor(labelled: EvalReport, label: str) -> None:
    assert labelled.per_label[label].f1 >= LABELLED_FLOOR[label], render_report(labelled, show_mistakes=True)


@pytest.mark.parametrize("label", LABELS)
def test_heldout_f1_floor(heldout: EvalReport, label: str) -> None:
    assert heldout.per_label[label].f1 >= HELDOUT_FLOOR[label], render_report(heldout, show_mistakes=True)


@pytest.mark.parametrize("label", LABELS)
def test_blind_f1_floor(blind: EvalReport, label: str) -> None:
    assert blind.per_label[label].f1 >= BLIND_FLOOR[label], render_report(blind, show_mistakes=True)


@pytest.mark.parametrize("label", LABELS)
def test_blind2_f1_floor(blind2: EvalReport, label: str) -> None:
    assert blind2.per_label[label].f1 >= BLIND2_FLOOR[label], render_report(blind2, show_mistakes=True)


@pytest.mark.parametrize("name", ["labelled", "blind"])
def test_every_language_is_measured(name: str, labelled: EvalReport, blind: EvalReport) -> None:
    report = labelled if name == "labelled" else blind
    assert set(LANGS) <= set(report.per_lang)
    for lang in LANGS:
        f1 = report.per_lang_micro[lang].f1
        assert f1 >= LANGUAGE_FLOOR, f"{name} {lang}: {f1:.3f}"


def test_blind_negatives_stay_negative(blind: EvalReport) -> None:
    """Not one article labelled neither (66 of them, 55 hard negatives) gets a label."""
    negatives = {r["id"] for r in _lines("blind.jsonl") if not r["labels"]}
    fired = sorted({rid for rid, _label, kind, _score in blind.mistakes if kind == "FP" and rid in negatives})
    assert not fired, fired


def _lines(name: str) -> list[dict[str, object]]:
    return [
        json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.mark.parametrize("name", ["labelled.jsonl", "heldout.jsonl", "blind.jsonl", "blind2.jsonl"])
def test_dataset_shape(name: str) -> None:
    """The sets stay what the guideline (data/README.md) says: six languages, real-length articles, many
    hard negatives, every line with id, lang, title, text, labels and note."""
    rows = _lines(name)
    assert len({r["id"] for r in rows}) == len(rows)
    langs = Counter(str(r["lang"]) for r in rows)
    assert set(langs) == set(LANGS)
    assert min(langs.values()) >= (30 if name == "labelled.jsonl" else 9)
    negatives = [r for r in rows if not r["labels"]]
    assert len(negatives) >= (1 / 3 if name.startswith("blind") else 0.4) * len(rows)  # blind: 66 of 180
    hard = [
        r
        for r in negatives
        if any(w in str(r["note"]).lower() for w in ("hard", "difficile", "difícil", "harte"))
    ]
    assert len(hard) >= 2 / 3 * len(negatives)
    for r in rows:
        assert set(r) == {"id", "lang", "title", "text", "labels", "note"}
        labels = r["labels"]
        assert isinstance(labels, list) and set(labels) <= set(LABELS), r["id"]
        assert 120 <= len(str(r["text"]).split()) <= 400, r["id"]
    if name == "labelled.jsonl":
        assert len(rows) >= 250


@pytest.mark.parametrize("name", ["heldout.jsonl", "blind.jsonl", "blind2.jsonl"])
def test_sets_do_not_overlap_labelled(name: str) -> None:
    labelled = {(r["title"], r["text"]) for r in _lines("labelled.jsonl")}
    assert not [r["id"] for r in _lines(name) if (r["title"], r["text"]) in labelled]
