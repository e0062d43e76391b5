"""Extractive summary: the two or three sentences of an article that say the most. Pure and deterministic.

The article is cut into sentences (line breaks and sentence punctuation, with the usual abbreviations of
English, French and German kept whole), each sentence is scored by how many of the article's frequent
content words it carries plus a bonus for coming early (news puts the gist first), headline-like lines
without closing punctuation are demoted, near-repeats are skipped, and the chosen sentences come back in
their original order.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

MAX_CHARS = 420  # stop adding sentences past this many characters (two sentences are always allowed)
MAX_SENTENCE_CHARS = 300  # a longer sentence is cut at a word boundary with an ellipsis
MIN_SENTENCE_CHARS = 25  # shorter fragments are never chosen
_SCAN_SENTENCES = 60  # only the first sentences are considered: the gist of a news story is near the top


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _wordset(
        "the a an and or but if of to in on at by for with from into about as is are was were be been being "
        "has have had do does did this that these those it its it's they them their there here which who "
        "whom whose what when where why how not no nor so than too very can could will would should may "
        "might must shall also just more most other some such only own same then once our we you your he "
        "she his her him i me my said says according new one two after before over under while all any"
    ),
    "fr": _wordset(
        "le la les un une des du de d l et ou mais si à au aux en dans sur par pour avec sans sous entre "
        "est sont était été être a ont avait avoir fait ce cet cette ces il elle ils elles on nous vous je "
        "tu se sa son ses leur leurs lui qui que qu quoi dont où ne pas plus moins très aussi comme ainsi "
        "donc car or ni y tout tous toute toutes autre autres même selon déjà encore lors après avant "
        "depuis pendant chez vers c s n m j mon ma mes notre nos votre vos"
    ),
    "de": _wordset(
        "der die das den dem des ein eine einer eines einem einen und oder aber wenn von zu im in am an "
        "auf für mit aus bei nach über unter vor ist sind war waren sein hat haben hatte wird werden wurde "
        "es er sie wir ihr ich nicht kein keine auch noch nur so wie als dass sich zum zur um"
    ),
    "es": _wordset(
        "el la los las un una unos unas y o pero si de del a al en por para con sin sobre entre es son "
        "era fue ser ha han había que quien cual como más menos muy también ya se su sus lo le les no"
    ),
}
_ALL_STOPWORDS: frozenset[str] = frozenset().union(*_STOPWORDS.values())

# Words after which a full stop does not end the sentence (casefolded, without the dot).
_ABBREVIATIONS = _wordset(
    "m mm mme mmes mlle dr drs mr mrs ms prof st sr jr inc ltd co corp no nr vs etc e.g i.e cf fig p pp "
    "av apr jan feb mar jun jul aug sep sept oct nov dec env ca bzw usw z.b d.h u.a hr frau"
)

_BOUNDARY = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
_BULLET = re.compile(r"^\s*(?:[-•*·–—]+|\d+[.)])\s*")
_SPACE = re.compile(r"\s+")
_CLOSED = re.compile(r"[.!?…][\"'»”’)\]]*$")


@dataclass(frozen=True)
class _Sentence:
    index: int
    text: str
    words: frozenset[str]
    closed: bool  # ends with sentence punctuation, or was a bullet (a real statement, not a headline)


def _clean(text: str) -> str:
    """Drop control and format characters (keeping line breaks), normalise to NFC."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append("\n" if ch in "\r\u2028\u2029\x0b\x0c\x85" else " ")
        else:
            out.append(ch)
    return "".join(out)


def _is_abbreviation(chunk: str) -> bool:
    """True when the text before a full stop ends in an abbreviation or an initial (``M.``, ``J.``)."""
    tail = chunk.rstrip()
    if not tail.endswith("."):
        return False
    last = tail[:-1].rsplit(None, 1)[-1] if tail[:-1].strip() else ""
    last = last.lstrip("(«\"'“‘")
    if len(last) == 1 and last.isalpha():
        return True
    return last.casefold() in _ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, in order: every line break ends one, and so does sentence punctuation."""
    return [s for s, _ in _split(text)]


def _split(text: str) -> list[tuple[str, bool]]:
    """(sentence, came from a bullet line) pairs."""
    sentences: list[tuple[str, bool]] = []
    for raw_line in _clean(text).splitlines():
        bullet = bool(_BULLET.match(raw_line)) and not raw_line.strip()[:1].isdigit()
        line = _SPACE.sub(" ", _BULLET.sub("", raw_line)).strip()
        if not line:
            continue
        start = 0
        for m in _BOUNDARY.finditer(line):
            end = m.end()
            piece = line[start:end]
            nxt = line[end : end + 1]
            if _is_abbreviation(line[start : m.start() + 1]) and m.group().startswith("."):
                continue
            if nxt and nxt.islower():  # "etc. and", "1.5 m. de" — not a sentence start
                continue
            sentences.append((piece.strip(), bullet))
            start = end
        if start < len(line):
            sentences.append((line[start:].strip(), bullet))
    return [(s, b) for s, b in sentences if s]


def _content_words(sentence: str, stop: frozenset[str]) -> frozenset[str]:
    return frozenset(
        w for w in (m.group().casefold() for m in _WORD.finditer(sentence)) if len(w) > 2 and w not in stop
    )


def _shorten(sentence: str, limit: int = MAX_SENTENCE_CHARS) -> str:
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:–— ")
    return cut + "…"


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Near-repeat: most of the smaller word set is in the other one."""
    if not a or not b:
        return a == b
    return len(a & b) / min(len(a), len(b)) > 0.7


def _repeats_title(words: frozenset[str], title_words: frozenset[str]) -> bool:
    """The sentence is mostly the headline again (a lead that restates it and adds to it is kept)."""
    return bool(words and title_words) and len(words & title_words) / len(words) > 0.7


def _scored(sentences: list[_Sentence]) -> list[tuple[float, _Sentence]]:
    freq: Counter[str] = Counter()
    for s in sentences:
        freq.update(s.words)
    top = max(freq.values(), default=1)
    weights = [
        sum(freq[w] / top for w in s.words if freq[w] > 1) / (len(s.words) ** 0.5 or 1.0) for s in sentences
    ]
    best = max(weights, default=0.0) or 1.0
    scored = []
    for s, weight in zip(sentences, weights, strict=True):
        if not s.words:
            continue
        position = 1.0 / (1.0 + s.index / 4.0)
        score = 0.5 * weight / best + 0.5 * position
        if not s.closed:
            score *= 0.35
        if len(s.text) < MIN_SENTENCE_CHARS * 2:
            score *= 0.7
        scored.append((score, s))
    scored.sort(key=lambda p: (-p[0], p[1].index))
    return scored


def summarize(text: str, lang: str, max_sentences: int = 3, *, title: str | None = None) -> str:
    """Two or three sentences of `text` (original order, joined by spaces); '' when there is nothing.

    `lang` picks the stopword list (en, fr, de, es; others use all of them). Sentences that repeat
    `title` are left out. At most `max_sentences`, and no third sentence past ``MAX_CHARS``.
    """
    if max_sentences < 1 or not text or not text.strip():
        return ""
    stop = _STOPWORDS.get((lang or "").lower()[:2], _ALL_STOPWORDS)
    title_words = _content_words(title, stop) if title else frozenset()
    seen: list[frozenset[str]] = []
    candidates: list[_Sentence] = []
    for raw, bullet in _split(text)[:_SCAN_SENTENCES]:
        if len(raw) < MIN_SENTENCE_CHARS:
            continue
        words = _content_words(raw, stop)
        if _repeats_title(words, title_words) or any(_similar(words, w) for w in seen):
            continue
        seen.append(words)
        closed = bool(_CLOSED.search(raw))
        if bullet and not closed:  # a bullet point is a statement: close it so the summary reads on
            raw = raw.rstrip(" :;,") + "."
        candidates.append(_Sentence(len(candidates), raw, words, bullet or closed))
    chosen: list[_Sentence] = []
    total = 0
    for _, s in _scored(candidates):
        if len(chosen) >= max_sentences:
            break
        text_len = len(_shorten(s.text))
        if len(chosen) >= 2 and total + text_len > MAX_CHARS:
            continue
        chosen.append(s)
        total += text_len + 1
    return " ".join(_shorten(s.text) for s in sorted(chosen, key=lambda s: s.index))
