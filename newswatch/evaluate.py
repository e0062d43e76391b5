"""Classify JSON lines and measure the classifier against labelled lines. Pure: text in, text or values out.

Input lines: {"id": ..., "title": ..., "text": ...[, "lang": ...][, "labels": [...]]}.
`classify_jsonl` answers every line, with an "error" instead of labels when the line cannot be read.
`evaluate` scores lines that carry "labels": precision, recall and F1 per label, overall (micro) and per
language (the "lang" field, else the detected language).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from newswatch.classify import Classification, Classifier
from newswatch.errors import NewswatchError


class RecordError(NewswatchError):
    """A labelled file has a line that cannot be evaluated."""


@dataclass(frozen=True)
class EvalRecord:
    id: str
    title: str
    text: str
    labels: tuple[str, ...]
    lang: str | None = None


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, gold: bool, predicted: bool) -> None:
        if gold and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1


@dataclass
class EvalReport:
    labels: tuple[str, ...]
    per_label: dict[str, Scores]
    micro: Scores
    per_lang: dict[str, dict[str, Scores]]  # lang -> label -> scores
    per_lang_micro: dict[str, Scores]
    articles: int
    articles_by_lang: dict[str, int]
    mistakes: list[tuple[str, str, str, float]] = field(default_factory=list)  # (id, label, "FP"|"FN", score)

    @property
    def min_f1(self) -> float:
        """The lowest per-label F1 over the labels the gold data uses: what a floor is checked against."""
        used = [label for label in self.labels if self.per_label[label].support]
        return min((self.per_label[label].f1 for label in used), default=0.0)


# --- classify ------------------------------------------------------------------------------------------


def classification_to_json(record_id: Any, c: Classification) -> dict[str, Any]:
    return {
        "id": record_id,
        "labels": list(c.labels),
        "scores": c.scores,
        "evidence": [{"label": e.label, "sentence": e.sentence, "terms": list(e.terms)} for e in c.evidence],
        "relations": [
            {"label": r.label, "orgs": list(r.orgs), "kind": r.kind, "model": r.model} for r in c.relations
        ],
        "version": c.version,
    }


def _error(record_id: Any, line_no: int, message: str) -> str:
    return json.dumps({"id": record_id, "line": line_no, "error": message}, ensure_ascii=False)


def classify_jsonl(lines: Iterable[str], classifier: Classifier) -> Iterator[str]:
    """One JSON line out per non-blank line in; a line that cannot be classified gets {"id", "error"}."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield _error(None, n, f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(raw, dict):
            yield _error(None, n, f"expected a JSON object, got {type(raw).__name__}")
            continue
        record_id = raw.get("id")
        problem = _field_problem(raw)
        if problem:
            yield _error(record_id, n, problem)
            continue
        try:
            c = classifier.classify(raw.get("title") or "", raw["text"], raw.get("lang"))
        except Exception as exc:  # a classifier bug must not stop the stream
            yield _error(record_id, n, f"classification failed: {type(exc).__name__}: {exc}")
            continue
        yield json.dumps(classification_to_json(record_id, c), ensure_ascii=False)


def _field_problem(raw: Mapping[str, Any]) -> str | None:
    if "text" not in raw:
        return "missing field 'text'"
    if not isinstance(raw["text"], str):
        return "'text' must be a string"
    if raw.get("title") is not None and not isinstance(raw["title"], str):
        return "'title' must be a string"
    lang = raw.get("lang")
    if lang is not None and not isinstance(lang, str):
        return "'lang' must be a string"
    return None


# --- evaluate ------------------------------------------------------------------------------------------


def load_records(lines: Iterable[str], origin: str = "<input>") -> list[EvalRecord]:
    """The labelled lines of a JSONL file; lines without "labels" are skipped. Errors name file and line."""
    records: list[EvalRecord] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecordError(f"{origin}:{n}: not JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(raw, dict):
            raise RecordError(f"{origin}:{n}: expected a JSON object")
        if "labels" not in raw:
            continue
        problem = _field_problem(raw)
        labels = raw["labels"]
        if problem is None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
            problem = "'labels' must be a list of strings"
        if problem:
            raise RecordError(f"{origin}:{n}: {problem}")
        records.append(
            EvalRecord(
                str(raw.get("id", n)), raw.get("title") or "", raw["text"], tuple(labels), raw.get("lang")
            )
        )
    return records


def _as_record(r: EvalRecord | Mapping[str, Any]) -> EvalRecord:
    if isinstance(r, EvalRecord):
        return r
    return EvalRecord(
        str(r.get("id", "")), r.get("title") or "", r["text"], tuple(r.get("labels") or ()), r.get("lang")
    )


def _language_of(record: EvalRecord) -> str:
    if record.lang:
        return record.lang
    try:
        from newswatch.language import detect_language
    except ImportError:  # pragma: no cover - the language stage ships with the package
        return "und"
    return detect_language(f"{record.title}\n{record.text}")


def evaluate(records: Iterable[EvalRecord | Mapping[str, Any]], classifier: Classifier) -> EvalReport:
    """Precision, recall and F1 per label, micro-averaged, and per language."""
    labels = tuple(t.label for t in classifier.topics.topics)
    per_label = {label: Scores() for label in labels}
    micro = Scores()
    per_lang: dict[str, dict[str, Scores]] = {}
    per_lang_micro: dict[str, Scores] = {}
    by_lang: dict[str, int] = {}
    mistakes: list[tuple[str, str, str, float]] = []
    articles = 0
    for item in records:
        record = _as_record(item)
        lang = _language_of(record)
        c = classifier.classify(record.title, record.text, record.lang or lang)
        articles += 1
        by_lang[lang] = by_lang.get(lang, 0) + 1
        lang_scores = per_lang.setdefault(lang, {label: Scores() for label in labels})
        lang_micro = per_lang_micro.setdefault(lang, Scores())
        for label in labels:
            gold, predicted = label in record.labels, label in c.labels
            for scores in (per_label[label], micro, lang_scores[label], lang_micro):
                scores.add(gold, predicted)
            if gold != predicted:
                mistakes.append((record.id, label, "FN" if gold else "FP", c.scores.get(label, 0.0)))
    return EvalReport(
        labels=labels,
        per_label=per_label,
        micro=micro,
        per_lang=dict(sorted(per_lang.items())),
        per_lang_micro=dict(sorted(per_lang_micro.items())),
        articles=articles,
        articles_by_lang=dict(sorted(by_lang.items())),
        mistakes=mistakes,
    )


def render_report(report: EvalReport, show_mistakes: bool = False) -> str:
    """A plain-text table: per label, overall, then per language."""
    head = f"{'':<22}{'P':>7}{'R':>7}{'F1':>7}{'TP':>6}{'FP':>6}{'FN':>6}"

    def row(name: str, s: Scores) -> str:
        return f"{name:<22}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{s.tp:>6}{s.fp:>6}{s.fn:>6}"

    lines = [f"{report.articles} labelled articles", head]
    lines += [row(label, report.per_label[label]) for label in report.labels]
    lines.append(row("overall (micro)", report.micro))
    lines.append("")
    lines.append("per language")
    lines.append(head)
    for lang, scores in report.per_lang.items():
        for label in report.labels:
            lines.append(row(f"{lang} {label}", scores[label]))
        lines.append(row(f"{lang} micro (n={report.articles_by_lang[lang]})", report.per_lang_micro[lang]))
    lines.append("")
    lines.append(f"lowest per-label F1: {report.min_f1:.3f}")
    if show_mistakes and report.mistakes:
        lines.append("")
        lines.append("mistakes")
        lines += [f"  {kind} {label:<16} {score:.3f}  {rid}" for rid, label, kind, score in report.mistakes]
    return "\n".join(lines)
