"""Label articles `ai_partnership` / `inhouse_model` (and user topics) with a score, evidence and relations.

Pure and explainable: a gazetteer of organisations and model families, cue lexicons per language, and
sentence-level rules, all compiled once from the topics file (`newswatch/data/topics.yaml`).

How a label is decided (see docs/classify.md):
  1. The title and the text are split into sentences once; every regex runs once over the whole text.
  2. A sentence is evidence for a topic when it holds one of the topic's cues and the rule is met:
     pair   - two distinct organisations in the sentence or its neighbours, at least one in the sentence
              (or one known organisation and a named partner right next to a deal cue);
     single - an organisation (or a known model family's owner) in the sentence or its neighbours;
     any    - the cue alone;
     and, with require_ai, an AI signal nearby (an AI term, an AI developer, a model mention).
     Cue groups marked needs_model count only in a sentence that mentions a model.
  3. Its weight is the cue's weight, raised in the title (x1.5) and the lead (x1.15), lowered when the
     partner is only in a neighbouring sentence, when a negative cue (lawsuit, regulation, review...) is in
     the same sentence, or when the sentence compares several vendors' models.
  4. The score is a noisy-OR of the sentence weights; a negative cue in the title that the title's own
     evidence does not outweigh damps it. Over the topic's threshold, the label is given.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from newswatch.topics import (
    DEFAULT_TOPICS,
    CueGroup,
    Topics,
    TopicSpec,
    TermParts,
    TopicsError,
    alias_parts,
    load_topics,
    pattern_parts,
    term_parts,
)

__all__ = [
    "CLASSIFIER_VERSION",
    "Classification",
    "Classifier",
    "Evidence",
    "Relation",
    "Topics",
    "TopicsError",
    "default_classifier",
    "load_topics",
]

CLASSIFIER_VERSION = "1.0.0"  # bump when the rules here or the shipped topics file change

TITLE_BOOST = 1.5
LEAD_BOOST = 1.15
LEAD_SENTENCES = 3
NEIGHBOUR_FACTOR = 0.7  # the partner organisation only in a neighbouring sentence
NAMED_PARTNER_FACTOR = 0.6  # the partner is a capitalised name, not a known organisation
NO_ORG_FACTOR = 0.65  # single rule without any organisation around
COMPARISON_FACTOR = 0.45  # a sentence naming models of three or more vendors (a comparison)
SECOND_CUE_SHARE = 0.25  # how much a second, different cue group in the same sentence adds
MAX_SENTENCE_WEIGHT = 0.95
MAX_EVIDENCE = 5  # per label
MAX_RELATIONS = 3  # per label
MAX_SENTENCE_CHARS = 400


@dataclass(frozen=True)
class Evidence:
    label: str
    sentence: str
    terms: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Relation:
    label: str
    orgs: tuple[str, ...]
    kind: str | None
    model: str | None


@dataclass(frozen=True)
class Classification:
    labels: tuple[str, ...]
    scores: dict[str, float]
    evidence: tuple[Evidence, ...]
    relations: tuple[Relation, ...]
    version: str


# --- sentences -----------------------------------------------------------------------------------------

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"»”’)\]]*\s+(?=[\"«“‘(\[¿¡-]?\s?[A-ZÀ-ÖØ-ÞĀ-Ž0-9])|\s*\n\s*")
_NO_SPLIT_AFTER = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Inc|Corp|Ltd|Co|Jr|Sr|vs|No|Nr|Sen|Gov|Rep|approx|ca|bzw|z\.B|u\.a|etc|M|Mme|Sra?|Dott))\.$"
)


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, shifted by `offset`. Abbreviations do not split."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        piece = text[start : m.start()]
        if "\n" not in m.group(0) and _NO_SPLIT_AFTER.search(piece):
            continue
        if piece.strip():
            spans.append((offset + start, offset + m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((offset + start, offset + len(text)))
    return spans


@dataclass
class _Sentence:
    start: int
    end: int
    seg: int  # 0 title, 1 body
    pos: int  # index within its segment
    orgs: dict[str, int] = field(default_factory=dict)  # canonical org -> first position
    surfaces: dict[str, str] = field(default_factory=dict)  # canonical org -> first surface
    models: list[tuple[int, str, str, str]] = field(default_factory=list)  # (pos, family, org, surface)
    cues: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # group -> (pos, surface)
    negs: set[str] = field(default_factory=set)
    ai: bool = False
    model_noun: bool = False
    model_word: bool = False
    unknown_models: list[str] = field(default_factory=list)

    def has_model(self) -> bool:
        return bool(self.models) or self.model_noun or bool(self.unknown_models) or (self.model_word and self.ai)


# --- compiled lexicons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexicon:
    """Everything language-dependent, compiled for one set of languages."""

    cues: re.Pattern[str]
    cue_names: dict[str, tuple[str, str]]  # regex group -> (cue group, term)
    negs: re.Pattern[str] | None
    neg_names: dict[str, str]  # regex group -> negative group
    ai: re.Pattern[str] | None
    model_nouns: re.Pattern[str] | None
    model_words: re.Pattern[str] | None
    attribution: re.Pattern[str] | None
    naming: re.Pattern[str] | None


def _trie_regex(items: Sequence[tuple[TermParts, str]], ignorecase: bool) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex for many terms: literal prefixes merged into a trie (so each position costs a few character
    tests instead of one test per term), odd terms tried after it. Returns it and group name -> key."""
    root: dict[str, object] = {}
    misc: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    for n, (parts, key) in enumerate(items):
        g = f"g{n}"
        names[g] = key
        if parts.prefix and parts.head and (ignorecase != parts.case_sensitive or not ignorecase):
            node = root
            for ch in parts.prefix.lower() if ignorecase else parts.prefix:
                node = node.setdefault(ch, {})  # type: ignore[assignment]
            leaves = node.setdefault("", [])
            assert isinstance(leaves, list)
            leaves.append((parts.rest, g))
        else:
            misc.append((parts.regex, g))

    def emit(node: dict[str, object]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch and isinstance(child, dict)]
        leaves = node.get("", [])
        assert isinstance(leaves, list)
        alts += [f"(?P<{g}>{rest})" for rest, g in sorted(leaves, key=lambda lv: -len(lv[0]))]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    sources = [r"(?<!\w)" + emit(root)] if root else []
    sources += [f"(?P<{g}>{regex})" for regex, g in sorted(misc, key=lambda m: -len(m[0]))]
    flags = re.IGNORECASE if ignorecase else 0
    return re.compile("|".join(sources) or "(?!x)x", flags), names


def _plain(terms: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted(set(terms))
    if not unique:
        return None
    return _trie_regex([(p, t) for t in unique for p in term_parts(t)], ignorecase=True)[0]


def _compile_lexicon(topics: Topics, langs: frozenset[str]) -> _Lexicon:
    cue_items: list[tuple[TermParts, str]] = []
    cue_keys: dict[str, tuple[str, str]] = {}
    for group, spec in topics.cues.items():
        for lang, terms in spec.terms.items():
            if lang in langs:
                for t in terms:
                    key = f"{group}\x00{t}"
                    cue_keys[key] = (group, t)
                    cue_items.extend((p, key) for p in term_parts(t))
    cues, cue_groups = _trie_regex(cue_items, ignorecase=True)
    neg_items = [
        (p, name)
        for name, spec in topics.negatives.items()
        for lang, terms in spec.terms.items()
        if lang in langs
        for t in terms
        for p in term_parts(t)
    ]
    negs, neg_names = _trie_regex(neg_items, ignorecase=True) if neg_items else (None, {})

    def lex(key: str) -> re.Pattern[str] | None:
        table = topics.lexicon.get(key, {})  # type: ignore[call-overload]
        return _plain(t for lang, terms in table.items() if lang in langs for t in terms)

    return _Lexicon(
        cues=cues,
        cue_names={g: cue_keys[k] for g, k in cue_groups.items()},
        negs=negs,
        neg_names=neg_names,
        ai=lex("ai_terms"),
        model_nouns=lex("model_nouns"),
        model_words=lex("model_words"),
        attribution=lex("attribution"),
        naming=lex("naming"),
    )


# --- unknown names -------------------------------------------------------------------------------------

_NAME = r"[A-Z][A-Za-z]*[a-z][A-Za-z]*|[A-Z]{2,}[a-z]*"
_VERSIONED = re.compile(
    rf"(?<![\w-])((?:{_NAME})(?:[ -](?:{_NAME}))?)[ -]?(\d{{1,2}}(?:\.\d{{1,2}})?(?:[ -]?\d{{0,4}}[BM])?|\d{{1,4}}(?:\.\d)?[BM])(?![\w.])"
)
_NAMED = re.compile(rf"\s*[«\"“‘']?\s*((?:{_NAME})(?:[-.]?\w+)?(?:[ -](?:[A-Z0-9][\w.]*)){{0,2}})")
_NOT_MODELS = frozenset(
    """Windows Pixel Galaxy Xbox PlayStation Switch Surface Series Model Phase Tier Level Step Stage Article Section
    Chapter Title Formula Ligue Serie Top COVID Covid Version Day Week Group Class Type Category Figure Table Round
    Game Season Episode Part Vol Volume Number No Nr Route Highway Terminal Gate Platform Line Channel Grade Gen
    Generation Mark Mk Apollo Falcon Starship Airbus Boeing Euro Agenda Vision Plan Act Pillar Stufe Klasse Saison
    Temporada Jornada Giornata Rodada Capítulo Capitolo Kapitel Ley Legge Lei Loi Artikel Artículo Articolo Artigo
    Die Der Das The Les Los Las Gli Os As Una Uno Une Ein Eine A An""".split()
)


def _unknown_models(sentence: str, lexicon: _Lexicon) -> list[str]:
    found: list[str] = []
    for m in _VERSIONED.finditer(sentence):
        name = m.group(1).split()[0].split("-")[0]
        if name not in _NOT_MODELS:
            found.append(m.group(0).strip())
    if lexicon.naming is not None:
        for m in lexicon.naming.finditer(sentence):
            n = _NAMED.match(sentence, m.end())
            if n and n.group(1).split()[0] not in _NOT_MODELS:
                found.append(n.group(1).rstrip(".,;:»”\"'"))
    return found


_CAPITALISED = re.compile(
    r"(?<![\w'’])((?:[A-Z][\w&.'’-]*|[0-9]+[A-Z][\w]*)(?:\s+(?:(?:de|del|da|do|dos|des|di|du|von|van|&|and|e|y|und|et)\s+)?"
    r"[A-Z][\w&.'’-]*){0,3})"
)
_PARTNER_LINK = re.compile(
    r"(?:\b(?:with|avec|mit|con|com|to|à|by|par|von|por|da|de|between|entre|tra|zwischen|and|et|und|y|e)\s+$)",
    re.IGNORECASE,
)


def _named_partner(text: str, sentence: _Sentence, known: set[str]) -> str | None:
    """A capitalised name linked to a deal by 'with/avec/mit/con/com...' or starting the sentence."""
    body = text[sentence.start : sentence.end]
    for m in _CAPITALISED.finditer(body):
        name = m.group(1).rstrip(".,'’-")
        first = name.split()[0]
        if first in _NOT_MODELS or first in _STOP_CAPS or len(name) < 2 or name in known:
            continue
        if any(name.startswith(k) or k.startswith(name) for k in known):
            continue
        before = body[max(0, m.start() - 12) : m.start()]
        if m.start() == 0 or _PARTNER_LINK.search(before):
            return name
    return None


_STOP_CAPS = frozenset(
    """The A An In On At For By With From Under After Before As It Its This That These Those He She They We I You
    Le La Les Un Une Des Du De En Au Aux Dans Pour Par Sur Avec Selon Il Elle Ils Elles Ce Cette Ces Son Sa Ses Leur
    Der Die Das Den Dem Des Ein Eine Einen Im Am Zum Zur Mit Nach Von Bei Für Auf Laut Er Sie Es Wir
    El Los Las Una Unos Del Al En Con Por Para Según Su Sus Este Esta Estos
    Il Lo Gli Le Uno Nel Nella Della Dei Degli Con Per Secondo Suo Sua
    O Os As Um Uma No Na Nos Nas Do Da Dos Das Em Com Para Segundo Seu Sua
    January February March April May June July August September October November December Monday Tuesday Wednesday
    Thursday Friday Saturday Sunday US UK EU U.S. Europe China India Japan Brussels Paris London Washington Germany
    France Spain Italy Portugal Brazil Texas California Beijing AI IA KI CEO""".split()
)


# --- the classifier ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entity:
    org: str
    model: str | None  # model family name
    ai: bool
    media: bool


class Classifier:
    """Compiled once from Topics; `classify` is then cheap and pure."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.version = (
            CLASSIFIER_VERSION if topics.origin == DEFAULT_TOPICS else f"{CLASSIFIER_VERSION}+{topics.digest}"
        )
        items: list[tuple[TermParts, str]] = []
        self._entities: dict[str, _Entity] = {}
        org_specs = {o.name: o for o in topics.organisations}
        # model families first (they carry their owner); the trie prefers the longest literal anyway
        for m in topics.models:
            owner = org_specs[m.org]
            ent = _Entity(m.org, m.name, owner.ai, False)
            for i, a in enumerate(m.aliases):
                self._entities[key := f"m\x00{m.name}\x00{i}"] = ent
                items.append((alias_parts(a), key))
            for i, p in enumerate(m.patterns):
                self._entities[key := f"mp\x00{m.name}\x00{i}"] = ent
                items.extend((part, key) for part in pattern_parts(p))
        for o in topics.organisations:
            ent = _Entity(o.name, None, o.ai, o.media)
            for i, a in enumerate(o.aliases):
                self._entities[key := f"o\x00{o.name}\x00{i}"] = ent
                items.append((alias_parts(a), key))
            for i, p in enumerate(o.patterns):
                self._entities[key := f"op\x00{o.name}\x00{i}"] = ent
                items.extend((part, key) for part in pattern_parts(p))
        self._entity_re, self._entity_groups = _trie_regex(items, ignorecase=False)
        self._all_langs = frozenset(topics.languages)
        self._lexicons: dict[frozenset[str], _Lexicon] = {}
        for lang in topics.languages:
            self._lexicon_for(lang)
        self._lexicon_for(None)

    # -- public ------------------------------------------------------------------------------------------

    def classify(self, title: str, text: str, lang: str | None = None) -> Classification:
        title = (title or "").strip()
        text = text or ""
        full = f"{title}\n\n{text}" if title else text
        body_offset = len(title) + 2 if title else 0
        lexicon = self._lexicon_for(lang)
        sentences = self._sentences(full, title, body_offset)
        self._annotate(full, sentences, lexicon)
        subject = self._subject(sentences)
        labels: list[str] = []
        scores: dict[str, float] = {}
        evidence: list[Evidence] = []
        relations: list[Relation] = []
        for topic in self.topics.topics:
            found = self._evidence_for(topic, full, sentences, lexicon, subject)
            score = self._score(topic, sentences, found)
            scores[topic.label] = round(score, 3)
            if score >= topic.threshold:
                labels.append(topic.label)
            found.sort(key=lambda f: -f.weight)
            evidence.extend(
                Evidence(topic.label, _clip(full[f.sentence.start : f.sentence.end]), f.terms, round(f.weight, 3))
                for f in found[:MAX_EVIDENCE]
            )
            relations.extend(self._relations(topic, found))
        return Classification(tuple(labels), scores, tuple(evidence), tuple(relations), self.version)

    # -- compilation helpers ------------------------------------------------------------------------------

    def _lexicon_for(self, lang: str | None) -> _Lexicon:
        langs = frozenset({lang, "en"}) if lang in self._all_langs else self._all_langs
        lex = self._lexicons.get(langs)
        if lex is None:
            lex = self._lexicons[langs] = _compile_lexicon(self.topics, langs)
        return lex

    # -- annotation ---------------------------------------------------------------------------------------

    @staticmethod
    def _sentences(full: str, title: str, body_offset: int) -> list[_Sentence]:
        out: list[_Sentence] = []
        if title:
            out.append(_Sentence(0, len(title), 0, 0))
        for i, (s, e) in enumerate(split_sentences(full[body_offset:], body_offset)):
            out.append(_Sentence(s, e, 1, i))
        return out

    def _annotate(self, full: str, sentences: list[_Sentence], lex: _Lexicon) -> None:
        starts = [s.start for s in sentences]

        def at(pos: int) -> _Sentence | None:
            i = bisect_right(starts, pos) - 1
            return sentences[i] if i >= 0 and pos < sentences[i].end else None

        for m in self._entity_re.finditer(full):
            s = at(m.start())
            if s is None:
                continue
            ent = self._entities[self._entity_groups[m.lastgroup or ""]]
            if ent.media and lex.attribution is not None:
                before = full[max(s.start, m.start() - 32) : m.start()]
                if lex.attribution.search(before):
                    continue
            if ent.org not in s.orgs:
                s.orgs[ent.org] = m.start()
                s.surfaces[ent.org] = m.group(0)
            if ent.model is not None:
                s.models.append((m.start(), ent.model, ent.org, m.group(0)))
            if ent.ai:
                s.ai = True
        for m in lex.cues.finditer(full):
            s = at(m.start())
            if s is not None:
                group, _term = lex.cue_names[m.lastgroup or ""]
                s.cues.setdefault(group, []).append((m.start(), m.group(0)))
        if lex.negs is not None:
            for m in lex.negs.finditer(full):
                s = at(m.start())
                if s is not None:
                    s.negs.add(lex.neg_names[m.lastgroup or ""])
        for pattern, attr in ((lex.ai, "ai"), (lex.model_nouns, "model_noun"), (lex.model_words, "model_word")):
            if pattern is None:
                continue
            for m in pattern.finditer(full):
                s = at(m.start())
                if s is not None:
                    setattr(s, attr, True)
        for s in sentences:
            if s.models:
                s.ai = True
            if s.model_noun or s.model_word or any(g in s.cues for g in ("own_model",)):
                s.unknown_models = _unknown_models(full[s.start : s.end], lex)

    @staticmethod
    def _subject(sentences: list[_Sentence]) -> str | None:
        """The article's main organisation: the first one the title names, else the most named one."""
        if sentences and sentences[0].seg == 0 and sentences[0].orgs:
            return min(sentences[0].orgs.items(), key=lambda kv: kv[1])[0]
        counts: dict[str, int] = defaultdict(int)
        for s in sentences:
            for o in s.orgs:
                counts[o] += 1
        if not counts:
            return None
        return max(sorted(counts), key=lambda o: counts[o])

    # -- evidence -----------------------------------------------------------------------------------------

    def _window(self, sentences: list[_Sentence], i: int) -> list[_Sentence]:
        s = sentences[i]
        out = [s]
        for j in (i - 1, i + 1):
            if 0 <= j < len(sentences) and sentences[j].seg == s.seg:
                out.append(sentences[j])
        return out

    def _evidence_for(
        self, topic: TopicSpec, full: str, sentences: list[_Sentence], lex: _Lexicon, subject: str | None
    ) -> list[_Found]:
        groups = {g: self.topics.cues[g] for g in topic.cues}
        negatives = {n: self.topics.negatives[n] for n in topic.negatives}
        found: list[_Found] = []
        for i, s in enumerate(sentences):
            hits = [(g, hs) for g, hs in s.cues.items() if g in groups and (s.has_model() or not groups[g].needs_model)]
            if not hits:
                continue
            window = self._window(sentences, i)
            if topic.require_ai and not any(w.ai or w.model_noun or w.models for w in window):
                continue
            placed = self._place(topic, s, window, full, subject)
            if placed is None:
                continue
            orgs, factor, partner = placed
            weight = _combine(sorted((groups[g].weight for g, _ in hits), reverse=True))
            weight *= factor * (TITLE_BOOST if s.seg == 0 else LEAD_BOOST if s.pos < LEAD_SENTENCES else 1.0)
            damp = min((negatives[n].factor for n in s.negs if n in negatives), default=1.0)
            if len({org for _p, _f, org, _s in s.models}) >= 3:
                damp = min(damp, COMPARISON_FACTOR)
            weight = min(MAX_SENTENCE_WEIGHT, weight * damp)
            kinds: dict[str, float] = defaultdict(float)
            for g, _hs in hits:
                if groups[g].kind:
                    kinds[groups[g].kind or ""] += groups[g].weight
            terms = _terms(s, window, orgs, hits, partner)
            found.append(_Found(s, weight, orgs, terms, dict(kinds), _models_near(s, window)))
        return found

    def _place(
        self, topic: TopicSpec, s: _Sentence, window: list[_Sentence], full: str, subject: str | None
    ) -> tuple[list[str], float, str | None] | None:
        """The organisations a sentence's evidence is about, a proximity factor, and a named partner if any."""
        here = _ordered(s.orgs)
        around = _ordered({o: p for w in window for o, p in w.orgs.items()})
        if topic.rule == "any":
            return here or around, 1.0, None
        if topic.rule == "single":
            owners = [org for _p, _f, org, _s in sorted(s.models)]
            if here or owners:
                return _dedupe(here + owners), 1.0, None
            if around:
                return around, NEIGHBOUR_FACTOR + 0.15, None
            return ([subject] if subject else []), NO_ORG_FACTOR, None
        # pair
        if not here:
            return None
        if len(here) >= 2:
            return _dedupe(here + around), 1.0, None
        if len(around) >= 2:
            return _dedupe(here + around), NEIGHBOUR_FACTOR, None
        partner = _named_partner(full, s, set(s.surfaces.values()) | set(here))
        if partner:
            return here + [partner], NAMED_PARTNER_FACTOR, partner
        return None

    def _score(self, topic: TopicSpec, sentences: list[_Sentence], found: list[_Found]) -> float:
        if not found:
            return 0.0
        miss = 1.0
        for f in found:
            miss *= 1.0 - f.weight
        score = 1.0 - miss
        if sentences and sentences[0].seg == 0 and not any(f.sentence.seg == 0 for f in found):
            # a negative-topic title (lawsuit, regulation, review...) without its own evidence
            title_negs = [n for n in sentences[0].negs if n in topic.negatives]
            if title_negs:
                return score * min(self.topics.negatives[n].title_factor for n in title_negs)
        return score

    # -- relations ----------------------------------------------------------------------------------------

    def _relations(self, topic: TopicSpec, found: list[_Found]) -> list[Relation]:
        if not found:
            return []
        if topic.rule == "pair":
            return _pair_relations(topic.label, found)
        return _model_relations(topic.label, found)


@dataclass
class _Found:
    sentence: _Sentence
    weight: float
    orgs: list[str]
    terms: tuple[str, ...]
    kinds: dict[str, float]
    models: list[tuple[str, str]]  # (org, surface)


def _combine(weights: list[float]) -> float:
    if not weights:
        return 0.0
    return min(MAX_SENTENCE_WEIGHT, weights[0] + SECOND_CUE_SHARE * sum(weights[1:2]))


def _ordered(orgs: dict[str, int]) -> list[str]:
    return [o for o, _p in sorted(orgs.items(), key=lambda kv: kv[1])]


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _clip(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= MAX_SENTENCE_CHARS else sentence[: MAX_SENTENCE_CHARS - 1].rstrip() + "…"


def _models_near(s: _Sentence, window: list[_Sentence]) -> list[tuple[str, str]]:
    out = [(org, surface) for _p, _f, org, surface in sorted(s.models)]
    out += [("", name) for name in s.unknown_models]
    if not out:
        for w in window:
            out += [(org, surface) for _p, _f, org, surface in sorted(w.models)]
    return out


def _terms(
    s: _Sentence, window: list[_Sentence], orgs: list[str], hits: list[tuple[str, list[tuple[int, str]]]],
    partner: str | None,
) -> tuple[str, ...]:
    out: list[str] = list(orgs)
    out += [surface for _p, _f, _o, surface in sorted(s.models)]
    out += s.unknown_models
    out += [surface.strip() for _g, hs in hits for _p, surface in hs]
    if partner and partner not in out:
        out.append(partner)
    return tuple(_dedupe(t for t in out if t))


def _pair_relations(label: str, found: list[_Found]) -> list[Relation]:
    credit: dict[tuple[str, str], float] = defaultdict(float)
    kinds: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    first: dict[str, int] = {}
    for f in found:
        here = [o for o in f.orgs if o in f.sentence.orgs] or f.orgs[:1]
        for o in f.orgs:
            first.setdefault(o, f.sentence.start * 10_000 + f.sentence.orgs.get(o, 0))
        for a in here:
            for b in f.orgs:
                if a == b:
                    continue
                key = (a, b) if a < b else (b, a)
                credit[key] += f.weight
                for k, w in f.kinds.items():
                    kinds[key][k] += w * f.weight * (0.6 if k == "alliance" else 1.0)
    if not credit:
        return []
    best = max(credit.values())
    out: list[Relation] = []
    for key, c in sorted(credit.items(), key=lambda kv: (-kv[1], kv[0])):
        if c < 0.3 * best or len(out) >= MAX_RELATIONS:
            break
        ks = kinds.get(key) or {}
        kind = max(sorted(ks), key=lambda k: ks[k]) if ks else None
        orgs = tuple(sorted(key, key=lambda o: first.get(o, math.inf)))
        out.append(Relation(label, orgs, kind, None))
    return out


def _model_relations(label: str, found: list[_Found]) -> list[Relation]:
    credit: dict[tuple[str, str | None], float] = defaultdict(float)
    for f in found:
        org = f.orgs[0] if f.orgs else ""
        models = [(o or org, m) for o, m in f.models]
        owned = [(o, m) for o, m in models if o == org] or models
        if owned:
            for o, m in owned[:2]:
                credit[(o, m)] += f.weight
        else:
            credit[(org, None)] += f.weight * 0.5
    best = max(credit.values())
    out: list[Relation] = []
    seen: set[tuple[str, str]] = set()
    for (org, model), c in sorted(credit.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or "")):
        if c < 0.25 * best or len(out) >= MAX_RELATIONS:
            break
        k = (org, (model or "").lower())
        if k in seen:
            continue
        seen.add(k)
        out.append(Relation(label, (org,) if org else (), None, model))
    return out


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """The classifier for the shipped topics, compiled once per process."""
    return Classifier(load_topics(None))


def classify_texts(items: Iterable[tuple[str, str, str | None]], classifier: Classifier) -> Iterator[Classification]:
    """Classify (title, text, lang) items with one compiled classifier."""
    for title, text, lang in items:
        yield classifier.classify(title, text, lang)


def load_classifier(path: Path | None = None) -> Classifier:
    return default_classifier() if path is None else Classifier(load_topics(path))
