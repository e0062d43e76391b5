"""Topics as data: the classifier's organisations, model families, cue lexicons and labels, validated once.

The shipped file is `newswatch/data/topics.yaml`. A user file replaces it, or extends it with
`extends: default` (its organisations, models, cue groups, negatives and topics are added to the shipped
ones; an entry with the same name or label replaces the shipped entry). Errors name the file and the field,
e.g. ``topics.yaml: topics[2] (label 'chip_deal'): cues: unknown cue group 'chip'``.

Term syntax used by cue groups, negatives and the lexicon (all case-insensitive unless marked):
  word*          any ending (invest* -> invest, investment, investiert, investimento)
  *word          any beginning (*partnerschaft -> KI-Partnerschaft, Partnerschaft)
  a ... b        up to three words between a and b
  (a|b)          alternatives; (a )? optional
  =Term          case-sensitive (=AI, =KI, =IA)
  re:REGEX       a raw regular expression, used as is (case-insensitive)
Spaces and hyphens between words are interchangeable; ' matches ’ too.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newswatch.errors import ConfigError

DEFAULT_TOPICS = "newswatch/data/topics.yaml"
LexiconKey = Literal[
    "ai_terms",
    "model_nouns",
    "model_words",
    "negation",
    "examples",
    "rivals",
    "anaphora",
    "attribution",
    "naming",
    "org_nouns",
    "startup_nouns",
    "pair_anaphora",
    "contrast",
    "usage_frames",
    "usage_frames_after",
    "purpose_frames",
    "new_model",
]
_LANG = r"^[a-z]{2}$"


class TopicsError(ConfigError):
    """A topics file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


class OrgSpec(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)  # case-sensitive literals
    patterns: list[str] = Field(default_factory=list)  # case-sensitive regexes
    ai: bool = False  # an AI developer: its mention puts a sentence in AI context
    media: bool = False  # a news organisation: ignored right after "according to", "selon", ...

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        return [_check_regex(p) for p in v]

    @model_validator(mode="after")
    def _something(self) -> OrgSpec:
        if not self.aliases and not self.patterns:
            raise ValueError(f"organisation {self.name!r} needs at least one alias or pattern")
        return self


class ModelSpec(_Strict):
    name: str = Field(min_length=1)
    org: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        return [_check_regex(p) for p in v]

    @model_validator(mode="after")
    def _something(self) -> ModelSpec:
        if not self.aliases and not self.patterns:
            raise ValueError(f"model {self.name!r} needs at least one alias or pattern")
        return self


Terms = dict[str, list[str]]


def _check_terms(v: Terms) -> Terms:
    for lang, items in v.items():
        if not re.match(_LANG, lang):
            raise ValueError(f"{lang!r} is not a two-letter language code")
        for t in items:
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"{lang}: empty term")
            term_regex(t)  # raises ValueError on a bad term
    return v


class CueGroup(_Strict):
    kind: str | None = None  # the relation kind this cue signals (pair topics)
    weight: float = Field(gt=0, le=1)
    needs_model: bool = False  # counts only in a sentence that mentions a model
    negatable: bool = True  # a negation just before the cue ("no", "pas", "kein"...) cancels most of it
    # own: the cue says the model is the actor's ("its own models"); someone else's access to them or use of
    # them ("access to its own models", "per addestrare i propri modelli") counts much less
    own: bool = False
    terms: Terms

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: Terms) -> Terms:
        return _check_terms(v)


class NegativeGroup(_Strict):
    factor: float = Field(default=0.5, ge=0, le=1)  # multiplies evidence in the same sentence
    title_factor: float = Field(default=1.0, ge=0, le=1)  # multiplies the score when only the title has it
    terms: Terms

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: Terms) -> Terms:
        return _check_terms(v)


class TopicSpec(_Strict):
    label: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    rule: Literal["pair", "single", "any"]
    require_ai: bool = True
    cues: list[str] = Field(min_length=1)
    negatives: list[str] = Field(default_factory=list)
    threshold: float = Field(default=0.5, gt=0, le=1)
    joint_subject: float = Field(default=0.0, ge=0, le=1)  # pair: weight of "X and Y <verb>..." openings


class Topics(_Strict):
    version: str = "custom"
    languages: list[str] = Field(default_factory=lambda: ["en", "fr", "de", "es", "it", "pt"])
    organisations: list[OrgSpec] = Field(default_factory=list)
    models: list[ModelSpec] = Field(default_factory=list)
    cues: dict[str, CueGroup] = Field(default_factory=dict)
    negatives: dict[str, NegativeGroup] = Field(default_factory=dict)
    lexicon: dict[LexiconKey, Terms] = Field(default_factory=dict)
    topics: list[TopicSpec] = Field(min_length=1)
    digest: str = ""  # a fingerprint of the content, set by parse_topics
    origin: str = ""  # the file it came from, set by parse_topics

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        for lang in v:
            if not re.match(_LANG, lang):
                raise ValueError(f"{lang!r} is not a two-letter language code")
        return v

    @field_validator("lexicon")
    @classmethod
    def _lexicon(cls, v: dict[str, Terms]) -> dict[str, Terms]:
        for terms in v.values():
            _check_terms(terms)
        return v

    @model_validator(mode="after")
    def _references(self) -> Topics:
        orgs = {o.name for o in self.organisations}
        for i, m in enumerate(self.models):
            if m.org not in orgs:
                raise ValueError(f"models[{i}] (name {m.name!r}): org {m.org!r} is not a listed organisation")
        labels: set[str] = set()
        for i, t in enumerate(self.topics):
            where = f"topics[{i}] (label {t.label!r})"
            if t.label in labels:
                raise ValueError(f"{where}: label {t.label!r} is used twice")
            labels.add(t.label)
            for c in t.cues:
                if c not in self.cues:
                    raise ValueError(
                        f"{where}: cues: unknown cue group {c!r} (known: {', '.join(sorted(self.cues))})"
                    )
            for n in t.negatives:
                if n not in self.negatives:
                    known = ", ".join(sorted(self.negatives)) or "none"
                    raise ValueError(f"{where}: negatives: unknown negative group {n!r} (known: {known})")
        return self


# --- term syntax -> regex --------------------------------------------------------------------------------

WORD_SEP = r"[\s\-]+"  # between the words of a term: spaces and hyphens are interchangeable
_GAP_SEP = r"[\s\-,:]+"
_GAP = r"(?:[^\s.!?;]+[\s\-,:]+){0,3}?"
_APOS = "['’]"


@dataclass(frozen=True)
class TermParts:
    """A term as a literal prefix (for the trie) and the regex for the rest."""

    prefix: str  # literal text the match starts with ("" when the term starts with something else)
    rest: str  # regex source for what follows the prefix
    head: bool  # must start at a word boundary
    case_sensitive: bool

    @property
    def lead_words(self) -> tuple[str, ...]:
        """The prefix, then the literal words that follow it, each after a WORD_SEP ("in house model*" ->
        ("in", "house", "model")): text matching the term starts with them, with separators between."""
        words = [self.prefix]
        rest = self.rest
        while rest.startswith(WORD_SEP):
            i = len(WORD_SEP)
            j = i
            while j < len(rest) and rest[j].isalnum():
                j += 1
            if j < len(rest) and rest[j] in "?*+{":
                j -= 1  # a quantifier applies to the last character
            if j <= i:
                break
            words.append(rest[i:j])
            rest = rest[j:]
        return tuple(words)

    @property
    def regex(self) -> str:
        body = re.escape(self.prefix) + self.rest
        if self.case_sensitive:
            body = f"(?-i:{body})"
        return (r"(?<!\w)" if self.head else "") + f"(?:{body})"


def _expand_leading_group(term: str, regex: bool) -> list[str]:
    """'(a|b) rest' -> ['a rest', 'b rest'] ('(...)?' adds 'rest'), so that each starts with a literal."""
    opener = "(?:" if regex else "("
    if not term.startswith(opener):
        return [term]
    depth, i, cuts = 0, 0, []
    while i < len(term):
        ch = term[i]
        if ch == "\\" and regex:
            i += 2
            continue
        if ch == "[" and regex:
            return [term]  # a character class: leave the term alone
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        elif ch == "|" and depth == 1:
            cuts.append(i)
        i += 1
    if depth != 0 or i >= len(term):
        return [term]
    inner_start = len(opener)
    bounds = [inner_start - 1, *cuts, i]
    alts = [term[a + 1 : b] for a, b in itertools.pairwise(bounds)]
    rest = term[i + 1 :]
    optional = rest.startswith("?")
    if optional:
        rest = rest[1:]
    if rest[:1] in ("*", "+", "{"):
        return [term]
    out = [a + rest for a in alts] + ([rest.lstrip()] if optional and rest.strip() else [])
    return [x for t in out for x in _expand_leading_group(t, regex)]


def _regex_parts(src: str) -> TermParts:
    """A raw regex as (literal prefix, rest); a leading \\b or literal text means 'at a word start'."""
    head = src.startswith("\\b")
    if head:
        src = src[2:]
    i = 0
    while i < len(src) and (src[i].isalnum() or src[i] in " '’"):
        i += 1
    if i < len(src) and src[i] in "?*{+" and i > 0:
        i -= 1
    prefix = src[:i]
    return TermParts(prefix, f"(?:{src[i:]})", head or bool(prefix), False)


def term_parts(term: str) -> list[TermParts]:
    """Parse one term of the mini syntax (see the module doc); a leading group gives several parts."""
    return list(_parsed_term(term))


@lru_cache(maxsize=16384)
def _parsed_term(term: str) -> tuple[TermParts, ...]:
    """term_parts, once per distinct term (a classifier compiles the same terms for several languages)."""
    return tuple(_parse_term(term))


def _parse_term(term: str) -> list[TermParts]:
    term = term.strip()
    if term.startswith("re:"):
        src = _check_regex(term[3:])
        if src.startswith("\\b"):
            return [_regex_parts("\\b" + alt) for alt in _expand_leading_group(src[2:], regex=True)]
        return [_regex_parts(alt) for alt in _expand_leading_group(src, regex=True)]
    case_sensitive = term.startswith("=")
    if case_sensitive:
        term = term[1:]
    if not term:
        raise ValueError("empty term")
    if term.count("(") != term.count(")"):
        raise ValueError(f"unbalanced parentheses in term {term!r}")
    return [_term_parts(t, case_sensitive) for t in _expand_leading_group(term, regex=False)]


def _term_parts(term: str, case_sensitive: bool) -> TermParts:
    prefix_chars: list[str] = []
    i = 0
    while i < len(term) and (term[i].isalnum() or term[i] in ".&+/"):
        prefix_chars.append(term[i])
        i += 1
    out: list[str] = []
    depth = 0
    while i < len(term):
        ch = term[i]
        if term.startswith(" ... ", i):
            out.append(_GAP_SEP + _GAP)
            i += 5
            continue
        if ch in " -":
            j = i
            while j < len(term) and term[j] in " -":
                j += 1
            out.append(WORD_SEP)
            i = j
            continue
        if ch == "*":
            out.append(r"\w*")
        elif ch == "(":
            depth += 1
            out.append("(?:")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in term {term!r}")
            out.append(")")
        elif ch == "|" and depth > 0:
            out.append("|")
        elif ch == "?" and i > 0 and term[i - 1] == ")":
            out.append("?")
        elif ch in "'’":
            out.append(_APOS)
        else:
            out.append(re.escape(ch))
        i += 1
    if depth:
        raise ValueError(f"unbalanced '(' in term {term!r}")
    tail = "" if term.endswith("*") else r"(?!\w)"
    parts = TermParts("".join(prefix_chars), "".join(out) + tail, not term.startswith("*"), case_sensitive)
    _check_regex(parts.regex)
    return parts


def term_regex(term: str) -> str:
    """One term of the mini syntax as a regex source (used with re.IGNORECASE)."""
    return "|".join(p.regex for p in term_parts(term))


def alias_parts(alias: str) -> TermParts:
    """A case-sensitive literal alias, matched as whole words; a genitive 's' (Microsofts) is allowed."""
    words = alias.split()
    first, others = words[0], words[1:]
    rest = "".join(r"\s+" + re.escape(w) for w in others).replace("'", _APOS).replace("’", _APOS)
    prefix = first
    if "'" in first or "’" in first:
        prefix, _sep, tail = first.replace("’", "'").partition("'")
        rest = _APOS + re.escape(tail) + rest
    if len(alias) >= 4 and alias[-1].isalpha():
        rest += "s?"
    return TermParts(prefix, rest + r"(?!\w)", True, True)


def pattern_parts(pattern: str) -> list[TermParts]:
    """A case-sensitive regex pattern, whole words; its leading literal text becomes the trie prefix."""
    out: list[TermParts] = []
    for alt in _expand_leading_group(pattern, regex=True):
        i = 0
        while i < len(alt) and (alt[i].isalnum() or alt[i] in " -"):
            i += 1
        if i < len(alt) and alt[i] in "?*{+" and i > 0:
            i -= 1  # a quantifier applies to the last character: keep it in the regex part
        out.append(TermParts(alt[:i], f"(?:{alt[i:]})" + r"(?!\w)", True, True))
    return out


# --- loading ---------------------------------------------------------------------------------------------


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """'topics[2] (label 'x'): cues' from a pydantic error location."""
    parts: list[str] = []
    node = raw
    for i, key in enumerate(loc):
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]" if parts else f"[{key}]"
            node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            if isinstance(node, dict) and i < len(loc) - 1:
                for k in ("label", "name"):
                    if k in node:
                        parts[-1] += f" ({k} {node[k]!r})"
                        break
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extends: default`: the user's entries added to the shipped ones, same name/label replacing."""
    out = dict(base)
    for key, ident in (("organisations", "name"), ("models", "name"), ("topics", "label")):
        mine = list(extra.get(key) or [])
        names = {e.get(ident) for e in mine if isinstance(e, dict)}
        out[key] = [e for e in base.get(key, []) if e.get(ident) not in names] + mine
    for key in ("cues", "negatives", "lexicon"):
        out[key] = {**(base.get(key) or {}), **(extra.get(key) or {})}
    for key in ("version", "languages"):
        if key in extra:
            out[key] = extra[key]
    return out


# libyaml when PyYAML was built with it (the wheels are): 10x faster on the 70 KB default topics file,
# the same values and the same dump (hence the same digest) as the pure-Python safe loader and dumper.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YamlDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def parse_topics(raw: Any, origin: str = DEFAULT_TOPICS) -> Topics:
    if not isinstance(raw, dict):
        raise TopicsError(f"{origin}: expected a mapping at the top level, got {type(raw).__name__}")
    raw = dict(raw)
    extends = raw.pop("extends", None)
    if extends is not None:
        if extends != "default":
            raise TopicsError(f"{origin}: extends: only 'default' is supported, got {extends!r}")
        raw = _merge(_read_default_raw(), raw)
    try:
        topics = Topics.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            where = _where(tuple(err["loc"]), raw)
            lines.append(f"{origin}: {where + ': ' if where else ''}{msg}")
        raise TopicsError("\n".join(lines)) from None
    dumped = yaml.dump(raw, Dumper=_YamlDumper, sort_keys=True, allow_unicode=True)
    digest = hashlib.sha256(dumped.encode()).hexdigest()[:10]
    return topics.model_copy(update={"digest": digest, "origin": origin})


def _read_yaml(text: str, origin: str) -> Any:
    try:
        return yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TopicsError(f"{origin}:{where} invalid YAML: {problem}") from None


def _read_default_raw() -> dict[str, Any]:
    text = resources.files("newswatch").joinpath("data", "topics.yaml").read_text(encoding="utf-8")
    raw = _read_yaml(text, DEFAULT_TOPICS)
    assert isinstance(raw, dict)
    return raw


def load_topics(path: Path | None = None) -> Topics:
    """The shipped topics, or the file at `path` (it replaces them, or extends them: `extends: default`)."""
    if path is None:
        return parse_topics(_read_default_raw(), DEFAULT_TOPICS)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopicsError(f"{path}: topics file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TopicsError(f"{path}: cannot read topics file: {exc}") from None
    return parse_topics(_read_yaml(text, str(path)), str(path))
