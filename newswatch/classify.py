"""Label articles `ai_partnership` / `inhouse_model` (and user topics) with a score, evidence and relations.

Pure and explainable: a gazetteer of organisations and model families, cue lexicons per language, and
sentence-level rules, all compiled once from the topics file (`newswatch/data/topics.yaml`).

How a label is decided (details in docs/classify.md):
  1. The title and the text are split into sentences once; each compiled regex runs once over the text.
     Organisations are the gazetteer's, plus names the text treats as organisations (a corporate suffix or
     prefix, an org noun before or after them, a recurring party of a deal), plus epithets ("the startup",
     "der Konzern", "both companies") resolved to the organisation named before them.
  2. A sentence is evidence for a topic when it holds one of the topic's cues and the rule is met:
     pair   - two distinct organisations in the sentence or its neighbours, at least one in the sentence
              (or one known organisation and a named partner after "with/avec/mit/con/com..." );
     single - an organisation (or a known model family's owner) in the sentence or its neighbours;
     any    - the cue alone;
     with require_ai, an AI signal (AI term, AI developer, model mention) in the sentence or next to it.
     Cue groups marked needs_model count only in a sentence that mentions a model.
  3. Its weight is the cue's weight, raised in the title and the lead, lowered when the partner or the AI
     signal is only in a neighbouring sentence, when the cue is negated, when the organisations are a list
     of examples or rivals, when a negative cue (lawsuit, regulation, review...) shares the sentence, or
     when the sentence compares several vendors' models; parties outside the gazetteer weigh less; an
     own-model cue that is someone else's use of a model ("to train its own models" in a licensing deal)
     counts little; an organisation launching a new model name or "a new language model" counts more; a
     party named once, late, or after "unlike / a diferencia de" is background.
  4. The score is the strongest evidence plus a share of the rest; a negative-topic title (a review, a
     lawsuit...) without evidence of its own damps it. At or over the topic's threshold, the label is given.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from newswatch.topics import (
    DEFAULT_TOPICS,
    WORD_SEP,
    CueGroup,
    LexiconKey,
    TermParts,
    Topics,
    TopicsError,
    TopicSpec,
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
    "split_sentences",
]

CLASSIFIER_VERSION = "1.1.1"  # bump when the rules here or the shipped topics file change

TITLE_BOOST = 1.5
LEAD_BOOST = 1.15
LEAD_SENTENCES = 3
DOC_MODEL_SENTENCES = 6  # a new model name the first sentences call a model counts as a model everywhere
NEIGHBOUR_FACTOR = 0.7  # the partner organisation is only in a neighbouring sentence
NAMED_PARTNER_FACTOR = 0.75  # the partner is a capitalised name, not a known organisation
NO_ORG_FACTOR = 0.65  # single rule without any organisation around
NAMED_SUBJECT_FACTOR = 0.85  # single rule whose organisation is a capitalised name outside the gazetteer
COMPARISON_FACTOR = 0.45  # a sentence naming models of three or more vendors (a comparison)
EXAMPLES_FACTOR = 0.4  # the organisations are a list of examples ("such as Google, Meta and Amazon")
LIST_FACTOR = 0.8  # three or more organisations listed one after another
MODEL_ONLY_FACTOR = 0.8  # a partner known only through one of its models ("uses GPT-4")
GENERIC_FACTOR = 0.85  # a party that is a name outside the gazetteer ("Nscale", "Grupo Godó")
EPITHET_FACTOR = 0.92  # a party referred to by an epithet ("la start-up californienne")
WEAK_PARTIES_FACTOR = 0.7  # the least two such parties weigh
AI_NEARBY_FACTOR = 0.75  # the AI signal is only in a neighbouring sentence (or, for the lead, the title)
BACKGROUND_FACTOR = 0.8  # evidence late in the article whose parties the title and lead never name
CONTRAST_FACTOR = 0.5  # the parties come after "unlike", "a diferencia de", "even after"
NEGATED_FACTOR = 0.15  # "will not build its own model", "kein eigenes Sprachmodell"
NOT_OWNER_FACTOR = 0.5  # a model cue next to someone else's model ("invests in X, maker of Claude")
IN_DEAL_FACTOR = 0.6  # a model cue inside a sentence that is about a deal
DEAL_CUE_WEIGHT = 0.4  # a pair cue this strong makes a sentence "about a deal" (and may reach a neighbour)
OWNER_BONUS = 1.25  # the subject launches or builds a model family it owns ("Meta releases Llama 3")
NEW_MODEL_BONUS = 1.5  # an organisation launches a new name or "a new language model" after the verb
USAGE_FRAME_FACTOR = 0.3  # "access to its own models", "per addestrare i propri modelli" in a licensing deal
SECOND_CUE_SHARE = 0.25  # how much a second, different cue group in the same sentence adds
SUPPORT_SHARE = 0.6  # how much the other evidence adds to the strongest one
GENERIC_KIND_SHARE = 0.3  # "alliance" (no particular kind) names a relation only when nothing else does
MAX_SENTENCE_WEIGHT = 0.95
MAX_EVIDENCE = 5  # per label
MAX_RELATIONS = 3  # per label
MAX_SENTENCE_CHARS = 400
NEGATION_CHARS = 40  # how far before a cue a negation is looked for
LIST_GAP = re.compile(r"^\s*(?:,|;|/|,?\s*(?:and|or|et|ou|und|oder|y|o|e|ou))?\s*$", re.IGNORECASE)
JOINT_GAP = re.compile(r"^\s*(?:and|&|et|und|y|e|i)\s*$|^\s?[-–—/]\s?$", re.IGNORECASE)
JOINT_LEAD = re.compile(
    r"^\W{0,3}(?:(?:the|la|le|les|l'|l’|der|die|das|el|los|las|il|lo|o|a|os|as)\s+)?$", re.I
)


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

_BOUNDARY = re.compile(r"[.!?…][\"»”’)\]]*\s+|\s*\n\s*")
_SENTENCE_START = re.compile(r"[\"«“‘(\[¿¡-]?\s?[A-ZÀ-ÖØ-ÞĀ-Ž0-9]")
_NO_SPLIT_AFTER = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Inc|Corp|Ltd|Co|Jr|Sr|vs|No|Nr|Sen|Gov|Rep|approx|ca|bzw|z\.B|u\.a|"
    r"etc|Mme|Sra?|Dott|Gen|Lt|Col|Mt))\.$"
)


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, shifted by `offset`. Abbreviations do not split."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        newline = "\n" in m.group(0)
        if not newline and not _SENTENCE_START.match(text, m.end()):
            continue
        cut = m.start() + 1 if text[m.start()] in ".!?…" else m.start()  # the full stop stays
        if not newline and _NO_SPLIT_AFTER.search(text, max(start, cut - 12), cut):
            continue
        if not text[start:cut].isspace() and cut > start:
            spans.append((offset + start, offset + cut))
        start = m.end()
    if text[start:].strip():
        spans.append((offset + start, offset + len(text)))
    return spans


@dataclass(slots=True)
class _Sentence:
    start: int
    end: int
    seg: int  # 0 title, 1 body
    pos: int  # index within its segment
    orgs: dict[str, int] = field(default_factory=dict)  # canonical org -> first position
    surfaces: dict[str, str] = field(default_factory=dict)  # canonical org -> first surface
    mentions: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, org), models included
    via_model_only: set[str] = field(default_factory=set)  # orgs named only through one of their models
    models: list[tuple[int, str, str, str]] = field(default_factory=list)  # (pos, family, org, surface)
    cues: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # group -> (pos, surface)
    negs: set[str] = field(default_factory=set)
    ai: bool = False
    model_noun: bool = False
    model_word: bool = False
    unknown_models: list[str] = field(default_factory=list)  # filled when a model cue needs them
    generic: set[str] = field(default_factory=set)  # orgs outside the gazetteer ("Nscale", "Grupo Godó")
    weak: set[str] = field(default_factory=set)  # orgs only referred to here ("the startup", "beide Firmen")
    contrast: int = -1  # where "unlike / a diferencia de / even after" stands, if it does
    deal_near: bool = False  # a strong deal cue in this sentence or a neighbour

    def has_model(self, doc_ai: bool = False) -> bool:
        """A model is mentioned: a known family, a model noun ('language model'), a new name, or the plain
        word 'model' in a sentence (or, with doc_ai, an article) about AI."""
        return (
            bool(self.models)
            or self.model_noun
            or bool(self.unknown_models)
            or (self.model_word and (self.ai or doc_ai))
        )


# --- compiled lexicons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexicon:
    """Everything language-dependent, compiled for one set of languages."""

    scanner: _Scanner  # keys: cue groups "c\x00name", negatives "n\x00name", lexicon "l\x00key"
    attribution: re.Pattern[str] | None
    naming: re.Pattern[str] | None
    negation: re.Pattern[str] | None
    examples: re.Pattern[str] | None
    rivals: re.Pattern[str] | None
    anaphora: re.Pattern[str] | None
    model_terms: re.Pattern[str] | None  # model words and nouns, to tell a model from a name
    org_nouns: re.Pattern[str] | None  # "company", "start-up", "Konzern": what introduces or stands for one
    org_noun_tails: re.Pattern[str] | None  # compound endings ("Industriekonzern"); whole words: the scanner
    startup_nouns: re.Pattern[str] | None  # "start-up", "lab": an epithet for an AI developer
    pair_anaphora: re.Pattern[str] | None  # "both companies", "les deux entreprises"
    usage_before: re.Pattern[str] | None  # "access to | use of" right before an own-model cue
    purpose_before: re.Pattern[str] | None  # "to train | per addestrare" right before an own-model cue
    usage_after: re.Pattern[str] | None  # "... zu trainieren" right after an own-model cue
    new_model: re.Pattern[str] | None  # "a new language model", "la nueva versión de su modelo"
    german: bool  # German capitalises common nouns: names need more care


_SEP_MARK = "\x00"  # in a trie key: the separator between a term's words (WORD_SEP)


def _trie_regex(
    items: Sequence[tuple[TermParts, str]], ignorecase: bool, lookahead: bool = False
) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex for many terms: literal prefixes merged into a trie (so each position costs a few character
    tests instead of one test per term), odd terms tried after it. Returns it and group name -> key.
    `lookahead`: the regex matches empty, before the term it finds (the groups still tell which)."""
    folded: dict[str, object] = {}  # case-insensitive prefixes (when ignorecase)
    exact: dict[str, object] = {}  # case-sensitive prefixes
    misc: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    for n, (parts, key) in enumerate(items):
        g = f"g{n}"
        names[g] = key
        if not (parts.prefix and parts.head):
            misc.append((parts.regex, g))
            continue
        fold = ignorecase and not parts.case_sensitive
        node = folded if fold else exact
        for ch in parts.prefix.lower() if fold else parts.prefix:
            node = node.setdefault(ch, {})  # type: ignore[assignment]
        leaves = node.setdefault("", [])
        assert isinstance(leaves, list)
        leaves.append((parts.rest, g))

    def emit(node: dict[str, object]) -> str:
        alts = [
            (WORD_SEP if ch == _SEP_MARK else re.escape(ch)) + emit(child)
            for ch, child in sorted(node.items())
            if ch and isinstance(child, dict)
        ]
        leaves = node.get("", [])
        assert isinstance(leaves, list)
        alts += [f"(?P<{g}>{rest})" for rest, g in sorted(leaves, key=lambda lv: -len(lv[0]))]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    tries = []
    if folded:
        tries.append(emit(folded))
    if exact:
        tries.append(f"(?-i:{emit(exact)})" if ignorecase else emit(exact))
    sources = [r"(?<!\w)(?:" + "|".join(tries) + ")"] if tries else []
    sources += [f"(?P<{g}>{regex})" for regex, g in sorted(misc, key=lambda m: -len(m[0]))]
    flags = re.IGNORECASE if ignorecase else 0
    source = "|".join(sources) or "(?!x)x"
    return re.compile(f"(?={source})" if lookahead else source, flags), names


def _plain(terms: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted(set(terms))
    if not unique:
        return None
    return _trie_regex([(p, t) for t in unique for p in term_parts(t)], ignorecase=True)[0]


class _Verifier:
    """The terms of one key that share a literal prefix, as one anchored regex, compiled on first use: a
    classifier holds ~9,000 of them, and compiling all of them up front cost most of its ~2 s build,
    while the articles of a run reach only the prefixes they contain."""

    __slots__ = ("_compiled", "flags", "key", "source")

    def __init__(self, key: str, source: str, flags: int) -> None:
        self.key, self.source, self.flags = key, source, flags
        self._compiled: re.Pattern[str] | None = None

    def pattern(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:  # two threads may both compile it: the same pattern, harmless
            compiled = self._compiled = re.compile(self.source, self.flags)
        return compiled


class _Scanner:
    """Finds every (start, end, key) where a term of some key matches, overlaps across keys included, in
    about one regex pass: a trie of the terms' leading literal words spots candidate word starts, then only
    the terms that can match there are tried, anchored. Terms without a literal prefix are scanned apart.

    The trie runs on the leading words, not just the first: "in house model" and "in talks" make the word
    "in" a candidate only where "house" or "talks" follows, so the function words many terms begin with
    ("de", "in", "the", "a") stop costing a verifier call each. It looks ahead rather than consumes, so a
    candidate never hides one that starts at a later word inside it."""

    def __init__(self, items: Sequence[tuple[TermParts, str]]) -> None:
        self._keys = {key: _split_key(key) for _parts, key in items}
        by_key: dict[tuple[bool, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        leads: dict[tuple[bool, str, str], set[str]] = defaultdict(set)  # (cs, prefix, key) -> leads
        misc: dict[str, list[str]] = defaultdict(list)
        for parts, key in items:
            if parts.prefix and parts.head:
                cs = parts.case_sensitive
                prefix = parts.prefix if cs else parts.prefix.lower()
                by_key[(cs, prefix)][key].append(re.escape(prefix) + parts.rest)
                lead = _SEP_MARK.join(parts.lead_words)
                leads[(cs, prefix, key)].add(lead if cs else lead.lower())
            else:
                misc[key].append(parts.regex)
        self._detectors: list[tuple[bool, re.Pattern[str], dict[str, tuple[_Verifier, ...]]]] = []
        for cs in (False, True):
            prefixes = sorted(p for c, p in by_key if c == cs)
            if not prefixes:
                continue
            compiled: dict[str, tuple[tuple[_Verifier, frozenset[str]], ...]] = {}
            for q in prefixes:
                compiled[q] = tuple(
                    (
                        _Verifier(
                            key,
                            "|".join(f"(?:{x})" for x in sorted(sources, key=len, reverse=True)),
                            flags=0 if cs else re.IGNORECASE,
                        ),
                        frozenset(leads[(cs, q, key)]),
                    )
                    for key, sources in by_key[(cs, q)].items()
                )
            all_leads = sorted({lead for (c, _q, _k), ls in leads.items() if c == cs for lead in ls})
            # the case-insensitive detector runs, case-sensitively and faster, over the lowercased text
            detector, names = _trie_regex(  # zero-width: every word start is looked at
                [(TermParts(lead, "", True, True), lead) for lead in all_leads],
                ignorecase=False,
                lookahead=True,
            )
            verify: dict[str, tuple[_Verifier, ...]] = {}
            for g, lead in names.items():
                # the longest lead matching at a position is found; every term whose lead is a prefix of it
                # may match there (the leads matching one position form a chain), and no other term can
                verify[g] = tuple(
                    v
                    for q in _prefixes_of(lead, compiled)
                    for v, its_leads in compiled[q]
                    if any(lead.startswith(x) for x in its_leads)
                )
            self._detectors.append((cs, detector, verify))
        self._misc = tuple(
            (key, re.compile("|".join(f"(?:{x})" for x in sources), re.IGNORECASE))
            for key, sources in misc.items()
        )

    def scan(self, text: str) -> Iterable[tuple[int, int, tuple[str, str]]]:
        """(start, end, key) of every term found; a key is a pair: ("c", "invest"), ("l", "ai_terms")..."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a rare character that lowercases to two: keep offsets exact
            lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
        for cs, detector, verify in self._detectors:
            for d in detector.finditer(text if cs else lowered):
                pos = d.start()
                for verifier in verify[d.lastgroup or ""]:
                    m = verifier.pattern().match(text, pos)
                    if m is not None:
                        yield pos, m.end(), self._keys[verifier.key]
        for key, pattern in self._misc:
            for m in pattern.finditer(text):
                yield m.start(), m.end(), self._keys[key]


def _prefixes_of(p: str, known: Mapping[str, object]) -> list[str]:
    return [p[:i] for i in range(1, len(p) + 1) if p[:i] in known]


def _lexicon_terms(topics: Topics, key: LexiconKey, langs: frozenset[str]) -> list[str]:
    return [t for lang, terms in topics.lexicon.get(key, {}).items() if lang in langs for t in terms]


def _scanner_items(topics: Topics, langs: frozenset[str]) -> list[tuple[TermParts, str]]:
    """The terms one scan looks for, keyed cue group, negative or lexicon key (see `_Lexicon.scanner`)."""
    items: list[tuple[TermParts, str]] = []
    for group, spec in topics.cues.items():
        items += [
            (p, f"c\x00{group}")
            for lang, ts in spec.terms.items()
            if lang in langs
            for t in ts
            for p in term_parts(t)
        ]
    for name, neg in topics.negatives.items():
        items += [
            (p, f"n\x00{name}")
            for lang, ts in neg.terms.items()
            if lang in langs
            for t in ts
            for p in term_parts(t)
        ]
    keys: tuple[LexiconKey, ...] = (
        "ai_terms",
        "model_nouns",
        "model_words",
        "org_nouns",
        "pair_anaphora",
        "contrast",
    )
    for key in keys:
        terms = [t for t in _lexicon_terms(topics, key, langs) if not t.startswith("*")]
        items += [(p, f"l\x00{key}") for t in terms for p in term_parts(t)]
    return items


def _compile_lexicon(topics: Topics, langs: frozenset[str]) -> _Lexicon:
    return _Lexicon(
        scanner=_Scanner(_scanner_items(topics, langs)),
        attribution=_plain(_lexicon_terms(topics, "attribution", langs)),
        naming=_plain(_lexicon_terms(topics, "naming", langs)),
        negation=_plain(_lexicon_terms(topics, "negation", langs)),
        examples=_plain(_lexicon_terms(topics, "examples", langs)),
        rivals=_plain(_lexicon_terms(topics, "rivals", langs)),
        anaphora=_plain(_lexicon_terms(topics, "anaphora", langs)),
        model_terms=_plain(
            _lexicon_terms(topics, "model_words", langs) + _lexicon_terms(topics, "model_nouns", langs)
        ),
        org_nouns=_plain(_lexicon_terms(topics, "org_nouns", langs)),
        org_noun_tails=_tails(t for t in _lexicon_terms(topics, "org_nouns", langs) if t.startswith("*")),
        startup_nouns=_plain(_lexicon_terms(topics, "startup_nouns", langs)),
        pair_anaphora=_plain(_lexicon_terms(topics, "pair_anaphora", langs)),
        usage_before=_framed(_lexicon_terms(topics, "usage_frames", langs), before=True),
        purpose_before=_framed(_lexicon_terms(topics, "purpose_frames", langs), before=True),
        usage_after=_framed(_lexicon_terms(topics, "usage_frames_after", langs), before=False),
        new_model=_plain(_lexicon_terms(topics, "new_model", langs)),
        german="de" in langs,
    )


def _tails(terms: Iterable[str]) -> re.Pattern[str] | None:
    """'*konzern' terms as a plain search for the ending (a leading wildcard is tried at every position)."""
    ends = sorted({re.escape(t.lstrip("*").rstrip("*")) for t in terms}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(e.lower() for e in ends) + r")(?!\w)") if ends else None


def _org_noun_spans(full: str, lex: _Lexicon, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where an org noun stands: whole words (found by the scanner), and compounds ending in one."""
    spans: set[tuple[int, int]] = set(words)
    if lex.org_noun_tails is not None:
        for m in lex.org_noun_tails.finditer(full.lower() if len(full.lower()) == len(full) else full):
            a = m.start()
            while a > 0 and (full[a - 1].isalnum() or full[a - 1] == "-"):
                a -= 1
            spans.add((a, m.end()))
    return sorted(spans)


_FRAME_GAP = r"(?:[\s'’]+[^\s'’.,;:!?]{1,6}){0,2}"  # at most two short words (articles, contractions)


def _framed(terms: Iterable[str], before: bool) -> re.Pattern[str] | None:
    """Frame terms that must sit right before (or right after) a cue, with at most two short words between."""
    plain = _plain(terms)
    if plain is None:
        return None
    if before:
        return re.compile(f"(?:{plain.pattern}){_FRAME_GAP}[\\s'’]*$", re.IGNORECASE)
    return re.compile(f"^{_FRAME_GAP}[\\s'’]*(?:{plain.pattern})", re.IGNORECASE)


# --- names that are not in the gazetteer -----------------------------------------------------------------

_NAME = r"[A-Z][A-Za-z]*[a-z][A-Za-z]*|[A-Z]{2,}[a-z]*"
_VERSIONED = re.compile(
    rf"(?<![\w-])((?:{_NAME})(?:[ -](?:{_NAME}))?)[ -]?"
    r"(\d{1,2}(?:\.\d{1,2})?(?:[ -]?\d{0,4}[BM])?|\d{1,4}(?:\.\d)?[BM])(?![\w.])"
)
_FAMILY = re.compile(
    rf"(?<![\w-])((?:{_NAME}))[ -](?:models?|family|LLMs?|Modell\w*|Sprachmodell\w*)\b"
    rf"|\b(?:modèles?|modelos?|modell[io]|famille|família|familia|famiglia)\s+((?:{_NAME}))(?![\w-])"
)
_CODE = re.compile(r"(?<![\w.-])([A-Z]{1,3}\d{1,2}(?:\.\d)?)(?![\w.])")
_NAMED = re.compile(rf"\s*[«\"“‘']?\s*((?:{_NAME})(?:[-.]?\w+)?(?:[ -](?:[A-Z0-9][\w.]*)){{0,2}})")
_NOT_NAMES_TEXT = """
Windows Pixel Galaxy Xbox PlayStation Switch Surface Series Model Phase Tier Level Step Stage Article
Section Chapter Title Formula Ligue Serie Top COVID Covid Version Day Week Group Class Type Category
Figure Table Round Game Season Episode Part Vol Volume Number No Nr Route Highway Terminal Gate Platform
Line Channel Grade Gen Generation Mark Mk Apollo Falcon Starship Airbus Boeing Euro Agenda Vision Plan
Act Pillar Stufe Klasse Saison Temporada Jornada Giornata Rodada Capítulo Capitolo Kapitel Ley Legge Lei
Loi Artikel Artículo Articolo Artigo Die Der Das The Les Los Las Gli Os As Una Uno Une Ein Eine A An In
On At For By With From Under After Before As It Its This That These Those He She They We I You Le La Un
Des Du De En Au Aux Dans Pour Par Sur Avec Selon Il Elle Ils Elles Ce Cette Ces Son Sa Ses Leur Den Dem
Einen Im Am Zum Zur Mit Nach Von Bei Für Auf Laut Er Sie Es Wir El Unos Del Al Con Por Para Según Su Sus
Este Esta Estos Lo Nel Nella Della Dei Degli Per Secondo Suo Sua O Um Uma Na Nos Nas Do Da Dos Das Em Com
Seu January February March April May June July August September October November December Monday Tuesday
Wednesday Thursday Friday Saturday Sunday US UK EU Europe China India Japan Brussels Paris London
Washington Germany France Spain Italy Portugal Brazil Texas California Beijing AI IA KI CEO But And Et
Und Y E Mais Aber Pero Ma Mas However Also Apache MIT GPL CC BSD Italia Deutschland España Espanha
Francia Frankreich Brasil Estados États Alemania Germania Spagna Europa Norwegen Madrid Roma Rome Milano
Milan Berlin München Munich Lisboa Lisbon Barcelona Londres Londra Bruxelles Brüssel Bruselas Haye Hague
Tokyo Tokio Seoul Singapore Taiwan Canada Canadá Mexico México Januar Februar März Juni Juli Oktober
Dezember San Santa Chinese Japanese Korean Indian American European British German French Italian Spanish
Portuguese Brazilian Canadian Emirati Saudi Israeli Russian Taiwanese Dutch Swiss Swedish Norwegian
Finnish Danish Irish Polish Western Asian African
"""
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


_NOT_FAMILIES_TEXT = """
Language Foundation Reasoning Frontier Open Small Large Business Data Pricing Operating Revenue Role
Mixture KI AI IA Sprachmodell Grundlagenmodell Basismodell Large Own Deep New Top Image Video Speech
Text Voice Code
"""
_NOT_FAMILIES = frozenset(_NOT_FAMILIES_TEXT.split())


def _unknown_models(sentence: str, lexicon: _Lexicon, model_word: bool) -> list[str]:
    """Model names the gazetteer does not know: a capitalised name with a size (Zephyr-7B), or, in a
    sentence that says 'model', with a version (Kestrel 2) or after 'called/baptisé/genannt/llamado...'."""
    found: list[str] = []
    for m in _VERSIONED.finditer(sentence):
        sized = m.group(2)[-1:] in ("B", "M")
        if (sized or model_word) and re.split(r"[ -]", m.group(1))[0] not in _NOT_NAMES:
            found.append(m.group(0).strip())
    if not model_word:
        return _dedupe(found)
    for m in _FAMILY.finditer(sentence):
        name = m.group(1) or m.group(2)
        if name not in _NOT_NAMES and name not in _NOT_FAMILIES:
            found.append(name)
    if lexicon.model_terms is not None:
        for m in _CODE.finditer(sentence):  # "V4, la nueva versión de su modelo", "the R2 model"
            head = re.split(r"[.;:!?]", sentence[m.end() : m.end() + 70])[0]
            apposition = re.match(r"\s*(?:,|[-–—]\s)", head) is not None
            if (apposition and lexicon.model_terms.search(head)) or lexicon.model_terms.match(head, 1):
                found.append(m.group(1))
    if lexicon.naming is not None:
        for m in lexicon.naming.finditer(sentence):
            n = _NAMED.match(sentence, m.end())
            if n and re.split(r"[ -]", n.group(1))[0] not in _NOT_NAMES:
                found.append(n.group(1).rstrip(".,;:»”\"'"))
    return _dedupe(found)


_CAPITALISED = re.compile(
    r"(?<![\w'’])((?:[A-Z][\w&.'’-]*|[0-9]+[A-Z]\w*)(?:\s+(?:(?:de|del|da|do|dos|des|di|du|von|van|&)\s+)?"
    r"[A-Z][\w&.'’-]*){0,3})"
)

_PARTNER_AT = re.compile(
    r"\b(?:with|avec|mit|con|com|between|entre|zwischen|tra)\s+"
    r"(?:(?:the|la|le|les|l'|der|die|dem|el|los|il|lo|o|a|os|as)\s+)?(?=[A-Z0-9])"
)


def _named_partner(body: str, known: set[str], lex: _Lexicon | None = None) -> str | None:
    """A capitalised name right after 'with/avec/mit/con/com/between...': a partner outside the gazetteer (not
    the modifier of an org noun: "with the San Francisco start-up")."""
    for link in _PARTNER_AT.finditer(body):
        m = _CAPITALISED.match(body, link.end())
        if m is None:
            continue
        name = m.group(1).rstrip(".,'’-")
        if len(name) < 2 or name.split()[0] in _NOT_NAMES or name in known:
            continue
        following = body[m.end() : m.end() + 24].split()[:1]
        if (
            lex is not None
            and lex.org_nouns is not None
            and following
            and lex.org_nouns.fullmatch(following[0])
        ):
            continue
        if any(name.startswith(k) or k.startswith(name) for k in known):
            continue
        return name
    return None


_SUBJECT = re.compile(
    r"^\W*(?i:(?:the|la|le|les|l'|l’|der|die|das|el|los|las|il|lo|o|a|os|as)\s+)?(?:[a-zà-ÿ-]+\s+){0,2}?"
    r"((?:[A-Z][\w&.'’-]*)(?:\s+(?:(?:de|del|da|do|di|du|von)\s+)?(?:[ld]['’])?[A-Z][\w&.'’-]*){0,3})"
)


def _named_subject(body: str, full: str, title: str, lex: _Lexicon) -> str | None:
    """The capitalised name a sentence opens with ("La malagueña Freepik ha presentado..."), if it is not a
    common word (German capitalises nouns) and the title names it or the article names it twice."""
    m = _SUBJECT.match(body)
    if not m:
        return None
    name = m.group(1).rstrip(".,'’-")
    first = name.split()[0]
    if len(name) < 2 or first in _NOT_NAMES:
        return None
    if lex.model_terms is not None and lex.model_terms.fullmatch(first):
        return None
    if not _words_in(first, title) and _count_words(first, full) < 2:
        return None
    return name


def _count_words(word: str, text: str, at_most: int = 2) -> int:
    """How many times `word` stands as a whole word in `text` (counting stops at `at_most`)."""
    n, i = 0, text.find(word)
    while i >= 0 and n < at_most:
        j = i + len(word)
        if (i == 0 or not _is_word_char(text[i - 1])) and (j == len(text) or not _is_word_char(text[j])):
            n += 1
        i = text.find(word, i + 1)
    return n


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _words_in(word: str, text: str) -> bool:
    return word in text and _count_words(word, text, 1) > 0


# --- organisations outside the gazetteer ------------------------------------------------------------------

_UP = "A-ZÀ-ÖØ-Þ"
_CAP = rf"[{_UP}][\w&'’-]*(?:\.[\w&'’-]+)*\.?"  # "Fal.ai", "S.p.A."; a final full stop ends the name
_LINKED = r"(?:de|del|da|do|dos|das|di|du|des)"  # "Banco do Brasil", "Diario del Norte"
_GNAME = rf"{_CAP}(?:(?<!\.)\s(?:\d{{1,4}}\s)?{_CAP}|(?<!\.)\s{_LINKED}\s{_CAP}){{0,3}}"
_INTRO = re.compile(rf"((?:\s+[a-zà-ÿ][\w'’-]*){{0,3}})\s+({_GNAME})")  # org noun [adjectives] Name
_APPOS = re.compile(rf"(?<![\w'’-])({_GNAME})\s*,\s*((?:[\w'’-]+\s+){{0,3}}|[\w]+['’])$")  # Name, a noun
_SUFFIXED = re.compile(rf"(?<![\w'’-])(?:({_CAP})\s)?({_CAP})\s$")  # the one or two words before a suffix
_PREFIX_TAIL = re.compile(rf"(?:(?<!\.)\s(?:{_LINKED}\s)?(?:\d{{1,4}}\s)?{_CAP}){{1,3}}")  # after "Grupo"

_WORDS_TEXT = {
    "suffixes": """AG SE SA S.A. SAS SpA S.p.A. GmbH Inc Inc. Corp Corp. Corporation Ltd Ltd. Limited plc PLC
        LLC NV N.V. BV AB ASA Oyj KGaA Group Groupe Grupo Gruppe Gruppo Holding Holdings Labs Lab
        Bank Banco Banca Music Records Media Capital Partners Ventures Technologies Technology
        Systems Software Robotics Networks Telecom Energy Motors Studios Entertainment Analytics
        Insurance Airlines Industries Semiconductor Bancorp Investments Electric""",
    "prefixes": """Grupo Gruppo Groupe Gruppe Banco Banca Banque Caixa Caisse Instituto Istituto Fundación
        Fundação Fondazione""",
    "connectors": "de del da do dos das di du des",
    "complements": "de di da do del della des du",  # "groupe de presse X", "società di consulenza X"
    # not adjectives between an org noun and its name ("l'entreprise de Xavier Niel", "guidata da X")
    "function": """of by for with from in on at to and or the a an that which who whose de du des d par pour
        avec sur dans en à au aux et ou qui que dont le la les l un une von vom mit für bei zu zum
        zur durch und oder der die das den dem des ein eine por para con del al y o el los las una
        da di dal della delle dei degli per su e che il lo gli com em pelo pela dos das no na nos
        nas os as um uma ao""",
    "prepositions": "mit with avec con com für for pour para per by par por von from zu to in en em im bei "
    "auf on sur su",
    "determiners": "the a an la le l les un une el los las una uno il lo gli o os as um uma der die das ein "
    "eine",
    "relative": "die der das dem den des the la le el il lo a o que qui che which who that dont cuyo cuya",
    # a determiner and up to three words before an org noun make an epithet ("the San Francisco start-up")
    "epithet determiners": """the this that its la le cette ce cet du au der die das dem den des dieser
        diese dieses diesem diesen zum zur vom beim im el esta este dicha dicho del al il lo questa questo
        della dello dalla dal alla nella nel sulla sul a o essa esse da do na no pela pelo à ao""",
}
_ORG_SUFFIXES = frozenset(_WORDS_TEXT["suffixes"].split())
_ORG_PREFIXES = frozenset(_WORDS_TEXT["prefixes"].split())
_CONNECTORS = frozenset(_WORDS_TEXT["connectors"].split())
_COMPLEMENT = frozenset(_WORDS_TEXT["complements"].split())
_FUNCTION = frozenset(_WORDS_TEXT["function"].split())
_PREPOSITIONS = frozenset(_WORDS_TEXT["prepositions"].split())
_DETERMINERS = frozenset(_WORDS_TEXT["determiners"].split())
_RELATIVE = frozenset(_WORDS_TEXT["relative"].split())
_DATA_CENTRES = ("Data Centers", "Data Centres", "Data Center")
_ORG_SUFFIX_RE = re.compile(
    r"(?<=\s)(?:"
    + "|".join(re.escape(x) for x in sorted(_ORG_SUFFIXES, key=len, reverse=True))
    + r"|Data Cent(?:er|re)s?)(?![\w-])"
)
_AFFIXES = (  # scanned with the gazetteer, in the same pass: keys "affix\x00suffix", "affix\x00prefix"
    [(TermParts(w, r"(?![\w-])", True, True), "affix\x00suffix") for w in (*_ORG_SUFFIXES, *_DATA_CENTRES)]
    + [(TermParts(w, r"(?=\s)", True, True), "affix\x00prefix") for w in _ORG_PREFIXES]
)
_EPITHET_DETERMINERS = frozenset(_WORDS_TEXT["epithet determiners"].split())
_ELIDED = re.compile(r"(?<![\w'’])(?:l|dell|dall|all|nell)['’]$", re.IGNORECASE)  # "l'entreprise"
_PUNCTUATION = frozenset(".,;:!?")
_NOUN_ENDINGS = (
    "ung",
    "heit",
    "keit",
    "schaft",
    "tion",
    "ität",
    "nis",
    "tum",
    "ismus",
    "chen",
    "en",
)  # German
_ROLE = re.compile(  # a role right before a name: a person
    r"(?:CEO|chief|founder|president|chairman|director|PDG|directeur|fondateur|président|Chef\w*|Gründer|Vorstand\w*|"
    r"presidente|fundador\w*|consejer\w*|amministrat\w*|fondat\w*|diretor\w*|ministr\w*|minister\w*)\W*$",
    re.IGNORECASE,
)


def _clean_name(name: str, lex: _Lexicon) -> str | None:
    """A candidate organisation name, trimmed of possessives, leading common words and stray connectors."""
    name = re.sub(r"['’]s?$", "", name.rstrip(".,;:'’-"))
    if re.search(r"\w['’]s\s", name):
        return None  # "Google's Vertex AI": a product of a named organisation
    words = name.split()
    if words and words[0].lower() in _FUNCTION and words[0].lower() not in _RELATIVE:
        return None  # "Aux États-Unis", "Na Europa": a place or a time, not a name

    def org_noun(word: str) -> bool:
        return lex.org_nouns is not None and lex.org_nouns.fullmatch(word) is not None

    while (
        len(words) > 1
        and words[0] not in _ORG_PREFIXES
        and (words[0] in _NOT_NAMES or org_noun(words[0]))
        and not (org_noun(words[0]) and words[1] in _CONNECTORS)
    ):
        words = words[1:]
    if words and words[0] not in _ORG_PREFIXES and not org_noun(words[0]):
        for i, w in enumerate(words):
            if w in _CONNECTORS:
                words = words[:i]
                break
    words = [w for w in words[:4]]
    while words and (words[-1] in _CONNECTORS or words[-1].isdigit()):
        words.pop()
    if not words:
        return None
    name = " ".join(words)
    first = words[0]
    if len(name) < 2 or first in _NOT_NAMES or name.isdigit() or not first[0].isupper():
        return None
    if lex.model_terms is not None and lex.model_terms.fullmatch(first):
        return None
    if lex.org_nouns is not None and lex.org_nouns.fullmatch(name):
        return None
    return name


def _looks_like_noun(name: str, full: str, lex: _Lexicon) -> bool:
    """A single word that is probably a common noun: written lowercase elsewhere, or, in German (which
    capitalises its nouns), with a noun ending."""
    if " " in name or any(ch.isdigit() for ch in name) or sum(ch.isupper() for ch in name) > 1:
        return False
    low = name.lower()
    if lex.german and low.endswith(_NOUN_ENDINGS) and len(name) > 4:
        return True
    return _count_words(low, full, 1) > 0


_PLURAL_MODELS = ("models", "modelle", "modèles", "modelos", "modelli", "llms", "chatbots", "assistants")
_ROLE_WORD = re.compile(
    r"\b(?:CEO|chief|founder|co-founder|president|chairman|director|PDG|directeur|fondat\w*|présid\w*|Chef\w*|Gründer\w*|"
    r"Vorstand\w*|presidente|fundador\w*|consejer\w*|amministrat\w*|diretor\w*|ministr\w*|spokes\w*|porte-parole|"
    r"Sprecher\w*|portavoz|portavoce|analyst\w*|analista)\b",
    re.IGNORECASE,
)
_PRODUCT_WORDS = re.compile(
    r"(?:l['’])?(?:IA|AI|KI|assistant\w*|Assistent\w*|asistente\w*|assistente\w*|chatbot\w*)$"
)


def _name_word(word: str, full: str, lex: _Lexicon) -> bool:
    """A capitalised word that can be part of a name (not "Die", "KI-Start-up", "Risikokapitalfonds")."""
    if word in _NOT_NAMES or re.search(r"-[a-zß-ÿ]", word) or _looks_like_noun(word, full, lex):
        return False
    return lex.org_nouns is None or not lex.org_nouns.fullmatch(word)


_WORD_BEFORE = re.compile(rf"([{_UP}][a-zà-ÿ]+)\s+$")  # a capitalised word right before a position
_COMMA = re.compile(r"\s*,\s*")


def _occurrences(word: str, text: str) -> Iterable[int]:
    """Where `word` stands as a whole word in `text` (not inside a longer word or a hyphenated one)."""
    i = text.find(word)
    while i >= 0:
        j = i + len(word)
        if (i == 0 or not (_is_word_char(text[i - 1]) or text[i - 1] == "-")) and (
            j == len(text) or not _is_word_char(text[j])
        ):
            yield i
        i = text.find(word, i + 1)


def _surname(name: str, full: str, lex: _Lexicon) -> bool:
    """A single word that the article also writes after a first name ("Elon Musk ... Musk said"), not after a
    noun ("der Versicherer Allianz")."""
    if " " in name:
        return False
    for i in _occurrences(name, full):
        m = _WORD_BEFORE.search(full, max(0, i - 24), i)
        if m is None:
            continue
        first = m.group(1)
        if (
            len(first) <= 10
            and first not in _ORG_PREFIXES
            and _name_word(first, full, lex)
            and first[-2:] != "er"
        ):
            return True
    return False


def _epithet_start(full: str, lo: int, start: int) -> int | None:
    """Where the determiner of an epithet starts: "the San Francisco | start-up", "l'|entreprise", "der
    Münchner | Konzern" (a determiner, then at most three words that are neither function words nor
    punctuated), or None."""
    window = full[lo:start]
    if window.endswith(("'", "’")):
        m = _ELIDED.search(window)
        return lo + m.start() if m else None
    if not window or not window[-1].isspace():
        return None
    tokens = list(_TOKEN.finditer(window))[-4:]
    for k in range(len(tokens) - 1, -1, -1):
        word = tokens[k].group()
        if _PUNCTUATION.intersection(word):
            return None
        if word.lower() in _EPITHET_DETERMINERS:
            return lo + tokens[k].start()
        if word.lower() in _FUNCTION or len(tokens) - k > 3:
            return None
    return None


_TOKEN = re.compile(r"\S+")


def _appositive_ok(between: str) -> bool:
    """The words between "Name," and an org noun are a determiner and adjectives ("la storica", "uma das
    maiores"), not a relative clause ("die das") or a role ("director de la")."""
    words = [w.lower().strip("'’") for w in between.split()]
    i = 0
    while i < len(words) and words[i] in _FUNCTION and words[i] not in _PREPOSITIONS:
        i += 1
    if any(w in _FUNCTION for w in words[i:]) or (i >= 2 and words[0] in _RELATIVE and words[1] in _RELATIVE):
        return False
    return _ROLE_WORD.search(between) is None


def _is_product(name: str, full: str, lex: _Lexicon) -> bool:
    """The article calls the name a model or an assistant ("Lucie, l'IA française", "Hibiki, un modèle")."""
    for i in _occurrences(name, full):
        m = _COMMA.match(full, i + len(name))
        if m is None:
            continue
        words = [w.strip(".,;:»”\"'’") for w in full[m.end() : m.end() + 60].split()[:4]]
        while words and words[0].lower() in _DETERMINERS:
            words = words[1:]
        # the head of the apposition, not a relative clause ("X, que desenvolve modelos")
        for word in words[:2]:
            if word.lower().endswith(_PLURAL_MODELS):
                break  # "Lumina, das Sprachmodelle entwickelt": what the company makes
            if _PRODUCT_WORDS.match(word) or (
                lex.model_terms is not None and lex.model_terms.fullmatch(word)
            ):
                return True
            if word.lower() in _FUNCTION:
                break
    return False


# --- the classifier ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entity:
    org: str
    model: str | None  # model family name
    ai: bool
    media: bool


@dataclass
class _Found:
    sentence: _Sentence
    weight: float
    orgs: list[str]
    terms: tuple[str, ...]
    kinds: dict[str, float]
    models: list[tuple[str, str, str]]  # (owner org or "", family or the new name, surface)


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
        for m in topics.models:
            ent = _Entity(m.org, m.name, org_specs[m.org].ai, False)
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
        self._entity_re, self._entity_groups = _trie_regex(items + _AFFIXES, ignorecase=False)
        self._deal_groups = {
            g
            for t in topics.topics
            if t.rule == "pair"
            for g in t.cues
            if topics.cues[g].weight >= DEAL_CUE_WEIGHT
        }
        self._model_groups = {g for g, spec in topics.cues.items() if spec.needs_model}
        self._all_langs = frozenset(topics.languages)
        self._ai_orgs = frozenset(o.name for o in topics.organisations if o.ai)
        self._lexicons: dict[frozenset[str], _Lexicon] = {}
        for lang in topics.languages:
            self._lexicon_for(lang)
        self._lexicon_for(None)

    # -- public ------------------------------------------------------------------------------------------

    def classify(self, title: str, text: str, lang: str | None = None) -> Classification:
        title = " ".join((title or "").split())
        text = text or ""
        full = f"{title}\n\n{text}" if title else text
        body_offset = len(title) + 2 if title else 0
        if lang not in self._all_langs:  # no hint: a clear function-word majority, or every lexicon
            lang = guess_language(full, self._all_langs) if full else None
        lexicon = self._lexicon_for(lang)
        sentences = _sentences(full, title, body_offset)
        self._annotate(full, sentences, lexicon, lang)
        subject = _subject(sentences) or _named_subject(title, full, title, lexicon)
        labels: list[str] = []
        scores: dict[str, float] = {}
        evidence: list[Evidence] = []
        relations: list[Relation] = []
        for topic in self.topics.topics:
            found = self._evidence_for(topic, full, sentences, lexicon, subject)
            score = self._score(topic, sentences, found)
            scores[topic.label] = round(score, 3)
            if score < topic.threshold:
                continue  # evidence and relations are given for the labels given
            labels.append(topic.label)
            found.sort(key=lambda f: (-f.weight, f.sentence.start))
            evidence.extend(
                Evidence(
                    topic.label, _clip(full[f.sentence.start : f.sentence.end]), f.terms, round(f.weight, 3)
                )
                for f in found[:MAX_EVIDENCE]
            )
            if topic.rule == "pair":
                relations.extend(_pair_relations(topic.label, found))
            else:
                relations.extend(_model_relations(topic.label, found, sentences))
        return Classification(tuple(labels), scores, tuple(evidence), tuple(relations), self.version)

    # -- annotation ---------------------------------------------------------------------------------------

    def _lexicon_for(self, lang: str | None, text: str = "") -> _Lexicon:
        if lang not in self._all_langs and text:
            lang = guess_language(text, self._all_langs)  # no hint: a clear function-word majority, or all
        langs = frozenset({lang, "en"}) if lang in self._all_langs else self._all_langs
        lex = self._lexicons.get(langs)
        if lex is None:
            lex = self._lexicons[langs] = _compile_lexicon(self.topics, langs)
        return lex

    def _annotate(
        self, full: str, sentences: list[_Sentence], lex: _Lexicon, lang: str | None = None
    ) -> None:
        starts = [s.start for s in sentences]

        def at(pos: int) -> _Sentence | None:
            i = bisect_right(starts, pos) - 1
            return sentences[i] if i >= 0 and pos < sentences[i].end else None

        taken: list[tuple[int, int]] = []
        affixes: list[tuple[int, int, str]] = []
        for m in self._entity_re.finditer(full):
            key = self._entity_groups[m.lastgroup or ""]
            if key.startswith("affix\x00"):
                affixes.append((m.start(), m.end(), key[6:]))
                continue
            s = at(m.start())
            if s is None:
                continue
            ent = self._entities[key]
            taken.append((m.start(), m.end()))
            before = full[max(s.start, m.start() - 32) : m.start()]
            if ent.media and lex.attribution is not None and lex.attribution.search(before):
                continue  # "according to Bloomberg": a source, not a party
            if ent.org not in s.orgs:
                s.orgs[ent.org] = m.start()
                s.surfaces[ent.org] = m.group(0)
                if ent.model is not None:
                    s.via_model_only.add(ent.org)
            elif ent.model is None:
                s.via_model_only.discard(ent.org)
            s.mentions.append((m.start(), m.end(), ent.org))
            if ent.model is not None:
                s.models.append((m.start(), ent.model, ent.org, m.group(0)))
            if ent.ai:
                s.ai = True
        nouns: list[tuple[int, int]] = []
        pairs: list[tuple[int, int, str]] = []
        for start, end, (kind, name) in lex.scanner.scan(full):
            s = at(start)
            if s is None:
                continue
            if kind == "c":
                s.cues.setdefault(name, []).append((start, full[start:end]))
            elif kind == "n":
                s.negs.add(name)
            elif name == "ai_terms":
                s.ai = True
            elif name == "model_nouns":
                s.model_noun = True
            elif name == "model_words":
                s.model_word = True
            elif name == "org_nouns":
                nouns.append((start, end))
            elif name == "contrast":
                s.contrast = start if s.contrast < 0 else min(s.contrast, start)
            else:
                pairs.append((start, end, "two"))
        named: dict[int, list[str]] = {}  # sentence start -> new model names in it, once asked for

        def names_in(s: _Sentence) -> list[str]:
            if s.start not in named:
                named[s.start] = _unknown_models(full[s.start : s.end], lex, True)
            return named[s.start]

        doc: list[list[str]] = []

        def doc_models() -> list[str]:  # new model names the title and lead announce, once asked for
            if not doc:
                head = [s for s in sentences if s.seg == 0 or s.pos < DOC_MODEL_SENTENCES]
                ai_model = [s for s in head if s.model_noun or (s.model_word and s.ai)]  # not a car model
                doc.append(_dedupe(n for s in ai_model for n in names_in(s)))
            return doc[0]

        for s in sentences:
            if s.models:
                s.ai = True
        epithets = (
            self._annotate_generic(full, sentences, lex, at, taken, lang, doc_models, nouns, affixes) + pairs
        )
        self._resolve_references(full, sentences, lex, at, sorted(epithets))
        deal = [not self._deal_groups.isdisjoint(s.cues) for s in sentences]
        for i, s in enumerate(sentences):
            near = deal[i] or any(
                deal[j] and sentences[j].seg == s.seg for j in (i - 1, i + 1) if 0 <= j < len(sentences)
            )
            s.deal_near = near
        for s in sentences:
            if s.cues and not self._model_groups.isdisjoint(s.cues):
                text = full[s.start : s.end]
                s.unknown_models = (
                    names_in(s) if s.model_noun or s.model_word else _unknown_models(text, lex, False)
                )
                if not s.unknown_models and not s.models:  # a new name the article calls a model elsewhere
                    s.unknown_models = [n for n in doc_models() if _words_in(n, text)][:3]

    def _annotate_generic(
        self,
        full: str,
        sentences: list[_Sentence],
        lex: _Lexicon,
        at: Callable[[int], _Sentence | None],
        taken: list[tuple[int, int]],
        lang: str | None,
        doc_models: Callable[[], list[str]],
        nouns: list[tuple[int, int]],
        affixes: list[tuple[int, int, str]],
    ) -> list[tuple[int, int, str]]:
        """Organisations the gazetteer does not know, recognised by how the text treats them: a corporate
        suffix or prefix ("NatWest Group", "Grupo Godó"), an org noun before or after them ("das britische
        Unternehmen Nscale", "Suno, plataforma americana"), or a name that is a deal's party and recurs. Their
        mentions are added to the sentences (marked generic). Returns the epithets found on the way."""
        cands: dict[str, set[str]] = defaultdict(set)
        epithets: list[tuple[int, int, str]] = []
        for start, end in _org_noun_spans(full, lex, nouns):
            s = at(start)
            if s is None:
                continue
            if lang != "de" and full[start].isupper() and start > s.start + 3:
                continue  # "Agencia Tributaria", "Banco Central": the noun is part of a name
            self._org_noun_context(full, s, start, end, lex, lang, cands, epithets)
        for start, end, kind in affixes:
            if kind == "prefix":  # "Grupo Godó", "Banco de Portugal"
                tail = _PREFIX_TAIL.match(full, end)
                if tail is not None:
                    cands[full[start : tail.end()]].add("prefix")
                continue
            s = at(start)
            if s is None or start == s.start or not full[start - 1].isspace():
                continue
            bm = _SUFFIXED.search(full, max(s.start, start - 48), start)
            if bm is None:
                continue
            head = bm.group(2)
            if bm.group(1) and _name_word(bm.group(1), full, lex):
                head = f"{bm.group(1)} {head}"  # "Lloyds Banking Group", not "Hamburger Otto Group"
            cands[f"{head} {full[start:end]}"].add("suffix")
        title = _title(full, sentences)
        for s in sentences:
            if s.seg == 0 or self._deal_groups.isdisjoint(s.cues):
                continue
            text = full[s.start : s.end]
            partner = _named_partner(text, set(), lex)
            if partner:
                cands[partner].add("partner")
            if lang == "de" and re.match(r"\W*(?:der|die|das|den|dem|des)\s", text, re.IGNORECASE):
                continue  # "Der Vertrag sieht vor": German capitalises its nouns
            opener_end = min([s.end, *(p for p, _e, _o in s.mentions)])
            if opener_end - s.start < 4:
                continue  # the sentence opens with a known organisation, or with no name
            opener = _named_subject(full[s.start : opener_end], full, title, lex)
            if opener:
                cands[opener].add("opener")
        accepted = self._accept_generic(cands, full, title, lex, doc_models)
        if accepted:
            self._add_generic_mentions(full, accepted, at, taken, lex)
        return sorted(epithets)

    def _org_noun_context(
        self,
        full: str,
        s: _Sentence,
        start: int,
        end: int,
        lex: _Lexicon,
        lang: str | None,
        cands: dict[str, set[str]],
        epithets: list[tuple[int, int, str]],
    ) -> None:
        """An org noun introduces a name ("the startup Parloa"), stands in apposition to one ("Suno,
        plataforma americana"), or stands for one already named ("la start-up californienne": an epithet)."""
        im = _INTRO.match(full, end, s.end)
        if im is not None:
            between = [w.lower() for w in im.group(1).split()]
            adjectives_after = lang not in ("en", "de")  # "la start-up française Mistral"
            if between and between[0] in _COMPLEMENT and len(between) >= 2:
                between = between[1:]  # "le groupe de presse Lumen Médias", not "l'entreprise de Xavier Niel"
            if (
                (not between or adjectives_after)
                and len(between) <= 2
                and not any(w in _FUNCTION for w in between)
            ):
                cands[im.group(2)].add("intro")
                return
        comma = full.rfind(",", max(s.start, start - 80), start)
        am = _APPOS.search(full, max(s.start, start - 80), start) if comma >= 0 else None
        possessive = full[end : end + 2] in ("'s", "’s")  # "X, the company's founder"
        if am is not None and not possessive and _appositive_ok(am.group(2)):
            cands[am.group(1)].add("appos" if am.start() > s.start + 2 else "appos_start")
            return
        at = _epithet_start(full, max(s.start, start - 48), start)
        if at is not None:
            young = lex.startup_nouns is not None and lex.startup_nouns.fullmatch(full[start:end])
            epithets.append((at, end, "lab" if young else "one"))

    def _accept_generic(
        self,
        cands: dict[str, set[str]],
        full: str,
        title: str,
        lex: _Lexicon,
        doc_models: Callable[[], list[str]],
    ) -> dict[str, str]:
        """surface -> canonical name, for the candidates that pass the name tests."""
        accepted: dict[str, str] = {}
        for raw, reasons in sorted(cands.items(), key=lambda kv: -len(kv[0])):
            name = _clean_name(raw, lex)
            if name is None or name in accepted or self._names_known(raw):
                continue  # a known organisation or model, or a name holding one ("Abteilung Microsoft AI")
            words = name.split()
            formal = bool(reasons & {"suffix", "prefix"})
            if formal and (len(words) < 2 or not (words[0] in _ORG_PREFIXES or _ORG_SUFFIX_RE.search(name))):
                formal = False
                reasons = reasons - {"suffix", "prefix"}
            if not formal and (_looks_like_noun(name, full, lex) or re.search(r"[^\W\d]\d|\d[^\W\d]", name)):
                continue  # a common noun, or a product code ("Graviton4", "GB200")
            while len(words) > 1 and words[0] not in _ORG_PREFIXES and not _name_word(words[0], full, lex):
                words = words[1:]  # "Supercomputers Dojo", "Pensionsfonds PSP Investments"
            if len(words) > 2 and words[0].endswith("er") and words[0] not in _ORG_PREFIXES:
                words = words[1:]  # "Hamburger Otto Group"
            name = " ".join(words)
            if (
                name in accepted
                or (formal and (len(words) < 2 or name in _ORG_SUFFIXES))
                or name in _ORG_SUFFIXES
            ):
                continue
            if not reasons & {"suffix", "prefix", "intro", "appos"} and _count_words(name, full) < 2:
                continue
            if not formal and _surname(name, full, lex):
                continue  # "Mustafa Suleyman ... Suleyman said": a person
            first = full.find(name)
            if first > 0 and _ROLE.search(full[max(0, first - 24) : first]):
                continue  # "chief executive Filippo Sugar": a person
            if any(name in d or d in name for d in doc_models()) or _is_product(name, full, lex):
                continue  # a model or a product, not its maker
            accepted[name] = name
            if formal:
                core = " ".join(
                    words[1:] if words[0] in _ORG_PREFIXES else _ORG_SUFFIX_RE.sub("", name).split()
                )
                if (
                    len(core) >= 3
                    and core.split()[0] not in _NOT_NAMES
                    and not _looks_like_noun(core, full, lex)
                ):
                    accepted.setdefault(core, name)
        canonical = sorted(set(accepted.values()), key=len, reverse=True)
        for surface, name in accepted.items():  # "Lloyds" and "Lloyds Banking Group" are one organisation
            longer = [c for c in canonical if c.startswith(name + " ")]
            if longer:
                accepted[surface] = longer[0]
        return accepted

    def _names_known(self, text: str) -> bool:
        """The text holds a gazetteer organisation or model ("Abteilung Microsoft AI", "Le Monde")."""
        return any(
            not self._entity_groups[m.lastgroup or ""].startswith("affix")
            for m in self._entity_re.finditer(text)
        )

    def _add_generic_mentions(
        self,
        full: str,
        accepted: dict[str, str],
        at: Callable[[int], _Sentence | None],
        taken: list[tuple[int, int]],
        lex: _Lexicon,
    ) -> None:
        names = sorted(accepted, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?:['’]s)?(?!\w)")
        for m in pattern.finditer(full):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            s = at(m.start())
            if s is None:
                continue
            prev = re.search(r"([A-ZÀ-ÖØ-Þ][\w-]*)\s+$", full[max(s.start, m.start() - 30) : m.start()])
            if prev is not None and prev.group(1) not in _NOT_NAMES and _name_word(prev.group(1), full, lex):
                continue  # "Filippo Sugar" is not "Sugar Music" (but "das Start-up Lumina" is Lumina)
            surface = re.sub(r"['’]s$", "", m.group(0))
            org = accepted.get(surface, surface)
            if org not in s.orgs:
                s.orgs[org] = m.start()
                s.surfaces[org] = surface
                s.generic.add(org)
            s.mentions.append((m.start(), m.end(), org))

    def _resolve_references(
        self,
        full: str,
        sentences: list[_Sentence],
        lex: _Lexicon,
        at: Callable[[int], _Sentence | None],
        epithets: list[tuple[int, int, str]],
    ) -> None:
        """'la start-up californienne' -> the organisation named last before it (the article's subject when it
        opens a sentence); 'both companies' -> the last two named. Added as weak mentions."""
        if not epithets:
            return
        subject = _subject(sentences)
        index = {id(s): i for i, s in enumerate(sentences)}
        generic = {o for s in sentences for o in s.generic}
        for start, end, kind in epithets:
            s = at(start)
            if s is None:
                continue
            i = index[id(s)]
            here = sorted(m for m in s.mentions if m[1] <= start)
            inner = {o for p, _e, o in s.mentions if start <= p < end}
            # "L'opérateur a signé avec la start-up": two epithets in one sentence are two organisations
            recent = [o for _p, _e, o in reversed(here) if o not in s.weak]
            for j in range(i - 1, max(-1, i - 4), -1):
                w = sentences[j]
                if w.seg != s.seg and not (s.seg == 1 and s.pos < LEAD_SENTENCES):
                    break
                recent += [o for _p, _e, o in sorted(w.mentions, reverse=True)]
            recent = [o for o in _dedupe(recent) if o not in inner]
            if kind == "two":
                targets = recent[:2] if len(recent) >= 2 else []
                recent = []
            if kind == "lab":  # "the startup", "le laboratoire": an AI developer or an unknown name
                young = [o for o in recent if o in self._ai_orgs or o in generic]
                recent = young or recent
            if kind == "two":
                pass
            elif not here and start - s.start <= 40 and subject and (kind == "one" or subject in recent[:1]):
                targets = [subject]  # an epithet opening a sentence: the article's subject
            else:
                targets = recent[:1]
            for org in targets:
                if org not in s.orgs:
                    s.orgs[org] = start
                    s.surfaces[org] = full[start:end]
                    s.weak.add(org)
                    if org in generic:
                        s.generic.add(org)
                s.mentions.append((start, end, org))
                if org in self._ai_orgs:
                    s.ai = True

    # -- evidence -----------------------------------------------------------------------------------------

    def _evidence_for(
        self, topic: TopicSpec, full: str, sentences: list[_Sentence], lex: _Lexicon, subject: str | None
    ) -> list[_Found]:
        groups = {g: self.topics.cues[g] for g in topic.cues}
        negatives = {n: self.topics.negatives[n] for n in topic.negatives}
        found: list[_Found] = []
        doc_ai = any(s.ai or s.model_noun for s in sentences)
        title = _title(full, sentences)
        if topic.rule == "pair" and topic.joint_subject > 0:
            groups[_JOINT] = CueGroup(kind="alliance", weight=topic.joint_subject, terms={})
        for i, s in enumerate(sentences):
            has_model = s.has_model(doc_ai)
            hits = [
                (g, hs)
                for g, hs in s.cues.items()
                if g in groups and (has_model or not groups[g].needs_model)
            ]
            if _JOINT in groups and len(s.orgs) >= 2:
                joint = _joint_mention(s, full)
                if joint is not None:
                    hits.append((_JOINT, [joint]))
            if not hits or (topic.rule == "pair" and not s.orgs):
                continue  # a deal needs a party named (or referred to) in the sentence itself
            window = _window(sentences, i)
            factor = 1.0
            if topic.require_ai and not (s.ai or s.model_noun):
                if s.seg == 1 and s.pos < LEAD_SENTENCES:
                    context = [*window, sentences[0]]  # the lead takes its AI context from the title...
                elif s.seg == 0:
                    context = [w for w in sentences[1 : 1 + LEAD_SENTENCES - 1] if w.seg == 1]  # ...and back
                else:
                    context = window
                nearby = any(w.ai or w.model_noun for w in context)
                if not nearby and not (topic.rule != "pair" and doc_ai and has_model):
                    continue
                factor *= AI_NEARBY_FACTOR
            strong = any(groups[g].weight >= DEAL_CUE_WEIGHT for g, _hs in hits)
            cue_pos = min(p for _g, hs in hits for p, _t in hs)
            placed = self._place(topic, s, window, full, subject, lex, strong, cue_pos, title)
            if placed is None:
                continue
            orgs, place_factor, partner = placed
            factor *= place_factor
            weights = sorted(
                (self._hit_weight(groups[g], g, hs, s, full, lex, topic) for g, hs in hits), reverse=True
            )
            weight = _combine(weights) * factor
            weight *= TITLE_BOOST if s.seg == 0 else LEAD_BOOST if s.pos < LEAD_SENTENCES else 1.0
            damp = min((negatives[n].factor for n in s.negs if n in negatives), default=1.0)
            if len({org for _p, _f, org, _s in s.models}) >= 3 and _compares(s, orgs, hits):
                damp = min(damp, COMPARISON_FACTOR)
            weight = min(MAX_SENTENCE_WEIGHT, weight * damp)
            if weight <= 0.01:
                continue
            kinds: dict[str, float] = defaultdict(float)
            for g, _hs in hits:
                kind = groups[g].kind
                if kind:
                    kinds[kind] += groups[g].weight
            found.append(
                _Found(s, weight, orgs, _terms(s, orgs, hits, partner), dict(kinds), _models_near(s, window))
            )
        _weigh_prominence(topic, found, sentences, subject)
        return [f for f in found if f.weight > 0.01]

    def _hit_weight(
        self,
        spec: CueGroup,
        group: str,
        hits: list[tuple[int, str]],
        s: _Sentence,
        full: str,
        lex: _Lexicon,
        topic: TopicSpec,
    ) -> float:
        weight = spec.weight
        if spec.negatable and lex.negation is not None:
            negated = all(lex.negation.search(full[max(s.start, p - NEGATION_CHARS) : p]) for p, _t in hits)
            if negated:
                weight *= NEGATED_FACTOR
        if (
            spec.own
            and topic.rule != "pair"
            and all(self._used_by_others(s, p, t, full, lex) for p, t in hits)
        ):
            weight *= USAGE_FRAME_FACTOR
        if spec.needs_model and topic.rule != "pair":
            owners = {org for _p, _f, org, _s in s.models}
            first = min(s.mentions)[2] if s.mentions else None
            if owners and first not in owners and not s.unknown_models:
                weight *= NOT_OWNER_FACTOR
            elif owners and min(s.mentions)[0] < hits[0][0]:
                weight *= OWNER_BONUS
            if not spec.own and (first in owners or not owners) and _launches_new(s, hits[0][0], full, lex):
                weight *= NEW_MODEL_BONUS  # "IBM has released Granite 5", "ha lanciato ... la nuova versione"
            if not self._deal_groups.isdisjoint(s.cues):
                weight *= IN_DEAL_FACTOR
        return weight

    def _used_by_others(self, s: _Sentence, pos: int, surface: str, full: str, lex: _Lexicon) -> bool:
        """An own-model cue that is the object of someone else's access or use ("l'accesso ai propri modelli",
        "revenue from the use of its own models"), or, in a sentence about a deal, what the deal is for
        ("to train its own models" on licensed content)."""
        before = full[max(s.start, pos - 48) : pos]
        if lex.usage_before is not None and lex.usage_before.search(before):
            return True
        if not (s.deal_near or len(set(s.orgs) - s.weak) >= 2):
            return False
        if lex.purpose_before is not None and lex.purpose_before.search(before):
            return True
        after = full[pos + len(surface) : min(s.end, pos + len(surface) + 48)]
        return lex.usage_after is not None and lex.usage_after.search(after) is not None

    def _place(
        self,
        topic: TopicSpec,
        s: _Sentence,
        window: list[_Sentence],
        full: str,
        subject: str | None,
        lex: _Lexicon,
        strong: bool,
        cue_pos: int,
        title: str,
    ) -> tuple[list[str], float, str | None] | None:
        """The organisations a sentence's evidence is about, a proximity factor, a named partner if any."""
        here = _ordered(s.orgs)
        around = _ordered(
            {o: p for w in window for o, p in w.orgs.items() if w is s or o not in w.via_model_only}
        )
        if topic.rule == "any":
            return here or around, 1.0, None
        if topic.rule == "single":
            actors = _actors(s, cue_pos, full, lex, subject, title)
            if actors:
                return actors, 1.0, None
            if subject:  # "The model was trained on...": the article's subject
                return [subject], NEIGHBOUR_FACTOR + 0.15, None
            if around:
                return around, NEIGHBOUR_FACTOR + 0.15, None
            return [], NO_ORG_FACTOR, None
        # pair: rivals ("to rival Google and OpenAI", "beats models from Meta") are not partners, and a
        # company and its own unit ("Google" and "Google DeepMind") are one party
        rivals = _rivals(s, full, lex)
        rivals |= _units(here + around)
        if rivals:
            here = [o for o in here if o not in rivals]
            around = [o for o in around if o not in rivals]
        if not here:
            return None
        factor = 1.0
        if len(here) >= 2:
            orgs = _dedupe(here + around)
            if len([o for o in here if o not in s.via_model_only]) < 2:
                factor *= MODEL_ONLY_FACTOR
            listed = _list_factor(s, full, lex)
            if listed == LIST_FACTOR and any(
                g in s.cues and self.topics.cues[g].kind == "investment" for g in topic.cues
            ):
                listed = 1.0  # the investors of a round are a list by nature
            factor *= listed * _named_factor(s, here)
            return orgs, factor, None
        if len(around) >= 2 and strong and not (set(here) & s.weak):
            return _dedupe(here + around), NEIGHBOUR_FACTOR * _named_factor(s, here), None
        known = set(s.surfaces.values()) | set(here)
        partner = _named_partner(full[s.start : s.end], known, lex)
        if partner is None and min(s.mentions)[0] > cue_pos - 200:
            opener = _named_subject(full[s.start : min(s.mentions)[0]], full, title, lex)
            if opener and not any(opener.startswith(k) or k.startswith(opener) for k in known):
                partner = opener  # "Contoso Media licenses its archive to Anthropic"
        if partner:
            return [*here, partner], NAMED_PARTNER_FACTOR, partner
        return None

    def _score(self, topic: TopicSpec, sentences: list[_Sentence], found: list[_Found]) -> float:
        if not found:
            return 0.0
        weights = sorted((f.weight for f in found), reverse=True)
        miss = 1.0
        for w in weights[1:]:
            miss *= 1.0 - w
        score = weights[0] + (1.0 - weights[0]) * SUPPORT_SHARE * (1.0 - miss)
        if sentences and sentences[0].seg == 0 and not any(f.sentence.seg == 0 for f in found):
            # a negative-topic title (a lawsuit, a regulation, a review...) without evidence of its own
            title_negs = [n for n in sentences[0].negs if n in topic.negatives]
            if title_negs:
                score *= min(self.topics.negatives[n].title_factor for n in title_negs)
        return score


# --- helpers -------------------------------------------------------------------------------------------

_FUNCTION_WORDS = {
    "en": "the and of to in is that for with was on are by this from",
    "fr": "le la les des et est une dans pour qui sur au aux avec du",
    "de": "der die das und ist nicht mit ein eine den dem für auf zu",
    "es": "el los las del y en que por con una para se es al",
    "it": "il della di che e per con una gli sono nel alla dei le",
    "pt": "o os da do das dos em que uma para com não ao pela é",
}
_FUNCTION_SETS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")


def guess_language(text: str, candidates: frozenset[str]) -> str | None:
    """A language whose function words clearly dominate the first 400 words, or None when unsure (then the
    classifier uses every lexicon). Cheap on purpose: it only narrows the lexicons, it does not label."""
    words = _WORD.findall(text[:6000].lower())
    if len(words) < 400 and len(text) > 6000:
        words = _WORD.findall(text.lower())
    seen = Counter(words[:400])
    counts = {lang: sum(seen[w] for w in words) for lang, words in _FUNCTION_SETS.items()}
    ranked = sorted(((c, lang) for lang, c in counts.items() if lang in candidates), reverse=True)
    if len(ranked) < 2 or ranked[0][0] < 20 or ranked[0][0] < 2 * ranked[1][0]:
        return None
    return ranked[0][1]


def _sentences(full: str, title: str, body_offset: int) -> list[_Sentence]:
    out: list[_Sentence] = []
    if title:
        out.append(_Sentence(0, len(title), 0, 0))
    for i, (s, e) in enumerate(split_sentences(full[body_offset:], body_offset)):
        out.append(_Sentence(s, e, 1, i))
    return out


def _subject(sentences: list[_Sentence]) -> str | None:
    """The article's main organisation: the first one the title names (None when the title names none)."""
    if sentences and sentences[0].seg == 0 and sentences[0].orgs:
        return min(sentences[0].orgs.items(), key=lambda kv: kv[1])[0]
    return None


def _window(sentences: list[_Sentence], i: int) -> list[_Sentence]:
    s = sentences[i]
    return [s] + [
        sentences[j] for j in (i - 1, i + 1) if 0 <= j < len(sentences) and sentences[j].seg == s.seg
    ]


def _list_factor(s: _Sentence, full: str, lex: _Lexicon) -> float:
    """Organisations named one after another ("Google, Meta and Amazon") are rarely a deal's parties; after
    "such as/comme/wie/como/come" or "rivals" they are examples. A list that is the counterpart of an
    organisation named before it ("Meta signed deals with ... among them AWS, Nvidia, Dell") is kept."""
    mentions = sorted(s.mentions)
    if not mentions:
        return 1.0
    runs: list[list[tuple[int, int, str]]] = [[mentions[0]]]
    for prev, cur in itertools.pairwise(mentions):
        if cur[2] != prev[2] and LIST_GAP.match(full[prev[1] : cur[0]]):
            runs[-1].append(cur)
        else:
            runs.append([cur])
    run = max(runs, key=lambda r: len({m[2] for m in r}))
    members = {m[2] for m in run}
    if len(members) < 3:
        return 1.0
    if any(m[0] < run[0][0] and m[2] not in members for m in mentions):
        return 1.0  # someone outside the list, before it: the list is the other side of the deal
    start = run[0][0]
    if lex.examples is not None and lex.examples.search(full[max(s.start, start - 40) : start]):
        return EXAMPLES_FACTOR
    return LIST_FACTOR


_JOINT = "\x00joint"  # the virtual cue group of a joint subject


def _joint_mention(s: _Sentence, full: str) -> tuple[int, str] | None:
    """Two organisations acting together: "Telekom und Nvidia bauen...", "the Microsoft–OpenAI pact"."""
    mentions = sorted(s.mentions)
    for (a0, a1, oa), (b0, b1, ob) in itertools.pairwise(mentions):
        if oa == ob:
            continue
        gap = full[a1:b0]
        if re.fullmatch(r"\s?[-–—/]\s?", gap) or (
            JOINT_GAP.match(gap) and JOINT_LEAD.match(full[s.start : a0])
        ):
            return a0, full[a0:b1]
    return None


def _split_key(key: str) -> tuple[str, str]:
    kind, _sep, name = key.partition("\x00")
    return kind, name


def _units(orgs: list[str]) -> set[str]:
    """The organisations that are a unit of another one named ("Google DeepMind" next to "Google")."""
    named = set(orgs)
    return {o for o in named if " " in o and any(o[:i] in named for i, ch in enumerate(o) if ch == " ")}


def _named_factor(s: _Sentence, orgs: list[str]) -> float:
    """Parties known to the gazetteer are the strongest evidence; a name recognised only by its shape, or an
    epithet ("the startup") resolved to an earlier name, is weaker."""
    weights = sorted(
        (
            (GENERIC_FACTOR if o in s.generic else 1.0) * (EPITHET_FACTOR if o in s.weak else 1.0)
            for o in orgs
        ),
        reverse=True,
    )
    return max(WEAK_PARTIES_FACTOR, weights[0] * weights[1]) if len(weights) >= 2 else 1.0


def _rivals(s: _Sentence, full: str, lex: _Lexicon) -> set[str]:
    """Organisations named after 'rival/compete with/than/beats/concurrent/Konkurrent/frente a...', and the
    ones listed right after them."""
    if lex.rivals is None or not s.mentions:
        return set()
    out: set[str] = set()
    mentions = sorted(s.mentions)
    in_list = False
    for k, (m0, _m1, org) in enumerate(mentions):
        if lex.rivals.search(full[max(s.start, m0 - 36) : m0]):
            out.add(org)
            in_list = True
        elif in_list and k > 0 and LIST_GAP.match(full[mentions[k - 1][1] : m0]):
            out.add(org)
        else:
            in_list = False
    first = mentions[0]
    if first[2] in out and not lex.rivals.search(full[s.start : first[0]]):
        out.discard(first[2])  # the sentence's subject is not its own rival
    return out


def _weigh_prominence(
    topic: TopicSpec, found: list[_Found], sentences: list[_Sentence], subject: str | None
) -> None:
    """A story's own deal is in its title or lead, or comes back; a party named once, late, is background
    ("Amazon, which has invested $8bn in Anthropic, ..."). A party after "unlike / a diferencia de / even
    after" is a contrast. Both weigh less."""
    prominent = {o for s in sentences if s.seg == 0 or s.pos < LEAD_SENTENCES for o in s.orgs}
    for f in found:
        s = f.sentence
        parties = [o for o in f.orgs if o in s.orgs and o != subject]
        if topic.rule != "pair":
            parties = parties[:1] if f.orgs and f.orgs[0] != subject else []
        if not parties:
            continue
        if s.seg == 1 and s.pos >= LEAD_SENTENCES and not any(o in prominent for o in parties):
            elsewhere = any(o in g.sentence.orgs for g in found if g is not f for o in parties)
            if not elsewhere:
                f.weight *= BACKGROUND_FACTOR
        c = s.contrast
        if (
            c >= 0
            and all(s.orgs[o] > c for o in parties)
            and (subject is None or s.orgs.get(subject, -1) < c)
        ):
            f.weight *= CONTRAST_FACTOR


def _launches_new(s: _Sentence, cue_pos: int, full: str, lex: _Lexicon) -> bool:
    """An organisation named before a launch or build verb, and a new model after it: a new name ("IBM has
    released Granite 5", "DeepSeek ha lanzado V4") or "a new language model" ("hat ein neues Sprachmodell
    vorgestellt")."""
    if not s.mentions or min(s.mentions)[0] > cue_pos or not (s.ai or s.model_noun):
        return False  # "Renault presenta el nuevo modelo Clio" is a car: the sentence must be about AI
    after = full[min(s.mentions)[1] : min(s.end, cue_pos + 90)]  # the object may come before a final verb
    if any(_words_in(name, after) for name in s.unknown_models):
        return True
    # "a new language model", not "el nuevo Clio, un modelo que incorpora un asistente de IA" (a car)
    return s.model_noun and lex.new_model is not None and lex.new_model.search(after) is not None


def _compares(s: _Sentence, orgs: list[str], hits: list[tuple[str, list[tuple[int, str]]]]) -> bool:
    """A sentence naming three vendors' models compares them, unless the actor's cue comes before the others'
    models ("Mistral releases Small 3, on par with Llama 3.3 and GPT-4o mini")."""
    first_cue = min(p for _g, hs in hits for p, _t in hs)
    actor = orgs[0] if orgs else None
    return any(p < first_cue and org != actor for p, _f, org, _s in s.models)


def _title(full: str, sentences: list[_Sentence]) -> str:
    return full[: sentences[0].end] if sentences and sentences[0].seg == 0 else ""


def _actors(
    s: _Sentence, cue_pos: int, full: str, lex: _Lexicon, subject: str | None, title: str
) -> list[str]:
    """Who a single-organisation cue is about: an anaphoric opener ("the company", "l'entreprise") means the
    article's subject; else the organisation named closest before the cue, then the others; rivals last."""
    mentions = sorted(s.mentions)
    opener_end = min(mentions[0][0] if mentions else cue_pos, cue_pos, s.start + 40)
    if subject and lex.anaphora is not None and lex.anaphora.search(full[s.start : opener_end]):
        lead = [subject]
    else:
        lead = []
    rivals = _rivals(s, full, lex)
    if lex.attribution is not None:  # "according to Anthropic, OpenAI's staff...": a source, not an actor
        rivals |= {
            org for m0, _m1, org in mentions if lex.attribution.search(full[max(s.start, m0 - 16) : m0])
        }
    for p, _t in s.cues.get("dependence", []):  # "less dependent on OpenAI": the provider, not the builder
        rivals |= {org for m0, _m1, org in mentions if p < m0 <= p + 48}
    before = [
        org for p, _e, org in sorted(mentions, key=lambda m: -m[0]) if p < cue_pos and org not in rivals
    ]
    if not lead and not before:
        named = _named_subject(full[s.start : cue_pos], full, title, lex)
        if named:
            before = [named]
    after = [org for p, _e, org in mentions if p >= cue_pos and org not in rivals]
    owners = [org for _p, _f, org, _s in sorted(s.models) if org not in rivals]
    return _dedupe(lead + before + after + owners)


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
    return (
        sentence if len(sentence) <= MAX_SENTENCE_CHARS else sentence[: MAX_SENTENCE_CHARS - 1].rstrip() + "…"
    )


def _models_near(s: _Sentence, window: list[_Sentence]) -> list[tuple[str, str, str]]:
    """Models named in the sentence (new names included), then in its neighbours."""
    out = [(org, family, surface) for _p, family, org, surface in sorted(s.models)]
    known = {surface for _o, _f, surface in out}
    out += [("", name, name) for name in s.unknown_models if not any(k in name or name in k for k in known)]
    for w in window[1:]:
        out += [(org, family, surface) for _p, family, org, surface in sorted(w.models)]
    return out


def _terms(
    s: _Sentence, orgs: list[str], hits: list[tuple[str, list[tuple[int, str]]]], partner: str | None
) -> tuple[str, ...]:
    out: list[str] = list(orgs)
    out += [surface for _p, _f, _o, surface in sorted(s.models)]
    out += s.unknown_models
    out += [" ".join(surface.split()) for _g, hs in hits for _p, surface in hs]
    if partner:
        out.append(partner)
    return tuple(_dedupe(t for t in out if t))


def _pair_relations(label: str, found: list[_Found]) -> list[Relation]:
    credit: dict[tuple[str, str], float] = defaultdict(float)
    kinds: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    first: dict[str, int] = {}
    for f in sorted(found, key=lambda f: f.sentence.start):
        for o in f.orgs:
            first.setdefault(o, f.sentence.start * 10_000 + f.sentence.orgs.get(o, 9_999))
        here = [o for o in f.orgs if o in f.sentence.orgs] or f.orgs[:1]
        for a in here:
            for b in f.orgs:
                if a == b:
                    continue
                key = (a, b) if a < b else (b, a)
                credit[key] += f.weight / (1 if b in f.sentence.orgs else 2)
                for k, w in f.kinds.items():
                    kinds[key][k] += w * f.weight * (GENERIC_KIND_SHARE if k == "alliance" else 1.0)
    if not credit:
        return []
    best = max(credit.values())
    out: list[Relation] = []
    for key, c in sorted(credit.items(), key=lambda kv: (-kv[1], kv[0])):
        if c < 0.35 * best or len(out) >= MAX_RELATIONS:
            break
        ks = kinds.get(key) or {}
        kind = max(sorted(ks), key=lambda k: ks[k]) if ks else None
        out.append(Relation(label, tuple(sorted(key, key=lambda o: first.get(o, 1 << 62))), kind, None))
    return out


def _model_relations(label: str, found: list[_Found], sentences: list[_Sentence]) -> list[Relation]:
    """Who builds which model: the organisations the evidence is about (its actor, weighted), each with its
    model families named in or next to the evidence, else elsewhere in the article, and new model names."""
    credit: dict[str, float] = defaultdict(float)
    named: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))  # org -> family -> credit
    surfaces: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # family -> surface -> count
    for s in sentences:
        for _p, family, _owner, surface in s.models:
            surfaces[family][surface] += 1
    alias: dict[str, str] = {}  # first word -> name kept: "Lufthansa Group" and "Lufthansa" are one actor
    for f in found:
        org = f.orgs[0] if f.orgs else ""
        org = alias.setdefault(org.split()[0] if org else "", org)
        credit[org] += f.weight
        for owner, family, surface in f.models:
            if owner in ("", org) or (owner and f.orgs and owner == f.orgs[0]):
                named[org][family] += f.weight
                surfaces[family][surface] += 0  # new names are their own family
    owned: dict[str, list[str]] = defaultdict(list)  # org -> families, by first mention
    for s in sentences:
        for _p, family, owner, _surface in sorted(s.models):
            if family not in owned[owner]:
                owned[owner].append(family)
    best = max(credit.values())
    out: list[Relation] = []
    for org, c in sorted(credit.items(), key=lambda kv: (-kv[1], kv[0])):
        if c < 0.25 * best or len(out) >= MAX_RELATIONS:
            break
        families = sorted(named[org], key=lambda fam: -named[org][fam]) or owned.get(org, [])[:1]
        room = max(1, MAX_RELATIONS - len(out) - (1 if len(credit) > 1 else 0))
        models: list[str | None] = [_best_surface(fam, surfaces[fam]) for fam in families[:room]] or [None]
        out.extend(Relation(label, (org,) if org else (), None, m) for m in models)
    return out[:MAX_RELATIONS]


def _best_surface(family: str, counts: dict[str, int]) -> str:
    """The name to show for a model family: its most specific (longest) surface, e.g. "MAI-1" over "MAI"."""
    if not counts:
        return family
    return max(sorted(counts), key=lambda m: (len(m), counts[m]))


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """The classifier for the shipped topics, compiled once per process."""
    return Classifier(load_topics(None))
