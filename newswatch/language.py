"""Language of an article's text: langdetect, seeded, with the page's declared language as a tie-breaker.

The detection is langdetect 1.0.9's own (its 55 profiles, its n-gram normalisation, its 7 seeded trials
of random n-gram draws until convergence), replayed faster but bit for bit: on the same sample (the first
2,000 characters) this module returns the probabilities langdetect's `Detector` (seed 0) returns, to the
last bit. Only the cost changed, on the hot path of ingestion (one call per article):

- the profiles are one numpy matrix (n-gram x language) instead of 87,598 Python lists;
- the n-grams of a word are computed once per distinct word (a bounded cache), not once per character;
- the seeded random stream is drawn in bulk and replayed exactly as `random.Random(0).gauss()` and
  `.choice()` would consume it;
- a trial multiplies the five n-gram rows between two convergence checks in one numpy call, in
  langdetect's order, and normalises with Python's `sum`, as langdetect does.

Measured on the 2-core dev machine (CPU time, one pass in a fresh process, word cache empty at the start)
over 1,258 articles of known language (tests/quality data, story pairs, the seeds, the 240 corpus pages;
median 1,100 characters): 4.4 ms per article with langdetect's `Detector`, 1.1 ms now (4x); titles alone
3.6 -> 1.0 ms, first sentences 2.8 -> 0.8 ms. Profiles load in 0.16 s (0.28 s), take ~60 MB (65 MB);
the word cache adds up to ~8 MB. Over 4,299 texts in 15 languages (those articles, 1,740 titles, 808
first sentences, 493 feed items) no output and no probability changed. Evaluated and left out (each
saves 0.1-0.4 ms but gives up the equality): a 1,000-character sample (same labels here, other
probabilities), 5 or 3 trials (9 and 11 titles newly wrong, 2 and 4 fixed), stopping once the first 3
or 4 trials agree (1 and 0 labels changed here). tests/unit/test_language_exact.py pins the equality
with langdetect itself.
"""

from __future__ import annotations

import json
import math
import operator
import os
import random
import re
import threading
from array import array
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import numpy.typing as npt
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.utils.ngram import NGram

from newswatch.extract import normalize_lang

UNDETERMINED = "und"
SAMPLE_CHARS = 2000  # langdetect converges long before this; more only costs time
MIN_LETTERS = 40  # below this, any answer is a guess
CONFIDENT = 0.8  # under this top probability, html_lang then hint may break the tie
SEED = 0  # langdetect is random by design; seeded, it is deterministic

DetectorFactory.seed = SEED  # for any code that uses langdetect's own detect()

_N_TRIAL = 7  # Detector.n_trial
_MAX_TEXT_LENGTH = 10000  # Detector.max_text_length
_BLOCK = 5  # Detector._detect_block checks convergence every 5 updates
_MAX_BLOCKS = Detector.ITERATION_LIMIT // _BLOCK + 1  # checks at i = 0, 5, ..., ITERATION_LIMIT
_CHUNK_BLOCKS = 12  # blocks gathered at once; 70% of trials converge within 12
_TWOPI = 2.0 * math.pi  # random.TWOPI
_WORD_CACHE = 1 << 15  # distinct words whose n-grams are kept (about 8 MB when full)
_ROW = np.dtype(np.intc)  # profile rows, packed as array("i") packs them

_ASCII_LETTERS = bytes(range(ord("A"), ord("z") + 1))  # Detector.cleaning_text's 'A' <= ch <= 'z'
_NON_LATIN_LEADS = bytes(range(0xCC, 0x100))  # UTF-8 lead bytes of code points >= U+0300
_DROP_ASCII_LETTERS = re.compile("[A-z]+")
_SPACE_RUN = re.compile(" {2,}")
# The characters NGram.normalize turns into a space (tests/unit/test_language_exact.py checks it): ASCII
# non-letters, four Latin-1 signs, General Punctuation. Everything else is part of a word.
_WORD = re.compile("[^\x00-\x40\x5b-\x60\x7b-\x7f\xa0\xab\xb0\xbb\u2000-\u206f]+")


@dataclass(frozen=True)
class _Profiles:
    langs: tuple[str, ...]  # in DetectorFactory.load_profile's order (os.listdir)
    rows: dict[str, int]  # n-gram -> row of `probs`
    probs: npt.NDArray[np.float64]  # (n-grams, languages): DetectorFactory.word_lang_prob_map


_profiles_lock = threading.Lock()
_profiles: _Profiles | None = None


def _get_profiles() -> _Profiles:
    """langdetect's profiles, loaded once (about 0.3 s, 40 MB) and read-only afterwards."""
    global _profiles
    with _profiles_lock:
        if _profiles is None:
            _profiles = _load_profiles(PROFILES_DIRECTORY)
        return _profiles


def _load_profiles(directory: str) -> _Profiles:
    """DetectorFactory.load_profile + add_profile, into one matrix: the same languages, order and values."""
    langs: list[str] = []
    rows: dict[str, int] = {}
    cell_rows: list[int] = []
    cell_cols: list[int] = []
    cell_values: list[float] = []
    for filename in os.listdir(directory):
        path = os.path.join(directory, filename)
        if filename.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            profile = json.load(f)
        column = len(langs)
        langs.append(str(profile["name"]))
        n_words: list[int] = profile["n_words"]
        for gram, count in profile["freq"].items():
            if 1 <= len(gram) <= NGram.N_GRAM:
                cell_rows.append(rows.setdefault(gram, len(rows)))
                cell_cols.append(column)
                cell_values.append(1.0 * count / n_words[len(gram) - 1])
    probs = np.zeros((len(rows), len(langs)))
    probs[cell_rows, cell_cols] = cell_values
    probs.flags.writeable = False
    return _Profiles(tuple(langs), rows, probs)


def _normalize_code(code: str) -> str:
    """langdetect's 'zh-cn' / 'zh-tw' -> 'zh'; everything else is already two letters."""
    return code.split("-")[0].lower()


def _has_letters(text: str, count: int) -> bool:
    """At least `count` alphabetic characters (stops counting there)."""
    for ch in text:
        if ch.isalpha():
            count -= 1
            if count == 0:
                return True
    return count <= 0


def _clean_text(text: str) -> str:
    """Detector.append then Detector.cleaning_text, with the same result, skipping what cannot apply."""
    text = Detector.URL_RE.sub(" ", text)
    if "@" in text:
        text = Detector.MAIL_RE.sub(" ", text)
    if any(mark in text for mark in NGram.DMARK_CLASS):
        text = NGram.normalize_vi(text)
    text = text[:_MAX_TEXT_LENGTH]
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    encoded = text.encode("utf-8", "surrogatepass")
    latin = len(encoded) - len(encoded.translate(None, _ASCII_LETTERS))
    if latin * 2 < len(text) - latin:  # else it cannot be under the non-Latin count
        non_latin = len(encoded) - len(encoded.translate(None, _NON_LATIN_LEADS))
        if latin * 2 < non_latin:
            text = _DROP_ASCII_LETTERS.sub("", text)
    return text


class _NormalizedChars(dict[int, str]):
    """NGram.normalize of each character met, for str.translate."""

    def __missing__(self, code: int) -> str:
        normalized: str = NGram.normalize(chr(code))
        self[code] = normalized
        return normalized


_NORMALIZED = _NormalizedChars()


def _word_grams(word: str, closed: bool) -> list[str]:
    """The n-grams NGram yields through a word (and at the space that ends it, if `closed`), in order.

    NGram keeps the last three characters since the preceding space, so the grams ending at the j-th
    character are word[j], ' word'[j:j+2] and, from the second character on, ' word'[j-1:j+2]; at the
    closing space, ' word'[-1:] + ' ' and ' word'[-2:] + ' '. Inside a run of capitals (two in a row,
    until a non-capital) it yields nothing.
    """
    normalized = word.translate(_NORMALIZED)
    padded = " " + normalized
    rest = normalized[1:]
    if not rest.islower() and any(map(str.isupper, rest)):  # perhaps two capitals in a row
        grams = _grams_outside_capitals(normalized)
    else:
        pairs = list(map(operator.add, padded, normalized))  # pairs[j] = padded[j : j + 2]
        triples = map(operator.add, padded, pairs[1:])  # padded[j : j + 3]
        grams = [normalized[0], pairs[0], *chain.from_iterable(zip(rest, pairs[1:], triples, strict=True))]
    if closed:
        end = padded[-2:] + " "
        grams += (end[-2:], end)
    return grams


def _grams_outside_capitals(normalized: str) -> list[str]:
    """NGram.add_char's walk through one word, for the rare words with two capitals in a row."""
    grams: list[str] = []
    window = " "
    capital = False
    for ch in normalized:
        last = window[-1]
        window = (window if len(window) < NGram.N_GRAM else window[1:]) + ch
        capital = (capital or last.isupper()) if ch.isupper() else False
        if not capital:
            grams.extend(window[-n:] for n in range(1, len(window) + 1))
    return grams


def _pack_rows(grams: list[str]) -> bytes:
    """The profile rows of the grams that have one, as native int32 bytes."""
    found = map(_get_profiles().rows.get, grams)
    return array("i", [row for row in found if row is not None]).tobytes()


@lru_cache(maxsize=_WORD_CACHE)
def _word_rows(word: str) -> bytes:
    """The rows a word followed by a space contributes (its n-grams do not depend on what came before)."""
    return _pack_rows(_word_grams(word, closed=True))


def _extract_rows(text: str) -> npt.NDArray[np.intc]:
    """Detector._extract_ngrams, as profile rows, in the same order."""
    words = _WORD.findall(text)
    if not words:
        return np.empty(0, dtype=_ROW)
    unclosed = b""  # the last word, when the text ends inside it (no closing space)
    if _WORD.fullmatch(text[-1]):
        unclosed = _pack_rows(_word_grams(words.pop(), closed=False))
    return np.frombuffer(b"".join(map(_word_rows, words)) + unclosed, dtype=_ROW)


class _RandomStream:
    """The 32-bit outputs of random.Random(seed), drawn in bulk, consumed as Detector's Random would be."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self.words = np.empty(0, dtype=np.uint32)
        self.pos = 0  # outputs consumed so far
        self._gauss_next: float | None = None

    def draw(self, end: int) -> None:
        """Have the outputs up to at least `end` (drawn once, in order)."""
        if end > len(self.words):
            count = max(end - len(self.words), len(self.words), 1024)
            # getrandbits(32 * n) packs n outputs, the first one in the least significant 32 bits
            raw = self._random.getrandbits(32 * count).to_bytes(4 * count, "little")
            self.words = np.concatenate((self.words, np.frombuffer(raw, dtype="<u4")))

    def _uniform(self) -> float:
        """random.random(): 53 bits from two outputs."""
        self.draw(self.pos + 2)
        a, b = self.words[self.pos : self.pos + 2].tolist()
        self.pos += 2
        return ((a >> 5) * 67108864.0 + (b >> 6)) * (1.0 / 9007199254740992.0)

    def gauss(self) -> float:
        """random.gauss(0.0, 1.0), with its cached second value."""
        z = self._gauss_next
        self._gauss_next = None
        if z is None:
            x2pi = self._uniform() * _TWOPI
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self._uniform()))
            z = math.cos(x2pi) * g2rad
            self._gauss_next = math.sin(x2pi) * g2rad
        return 0.0 + z * 1.0


class _Choices:
    """random.choice over a sequence of length n: one output per try, its k high bits, retried while >= n."""

    def __init__(self, stream: _RandomStream, n: int) -> None:
        self._stream = stream
        self._n = n
        self._shift = 32 - n.bit_length()
        self._scanned = 0  # outputs looked at
        self._positions = np.empty(0, dtype=np.intp)  # of the outputs that are a choice
        self._values = np.empty(0, dtype=np.intp)
        self._next = 0  # index in _positions of the first choice at or after the stream's position

    def sync(self) -> None:
        """Catch up with the stream after someone else (gauss) drew from it."""
        self.peek(0, 1)
        self._next = int(self._positions.searchsorted(self._stream.pos))

    def peek(self, first: int, count: int) -> npt.NDArray[np.intp]:
        """The next choices first .. first+count-1; the stream does not move."""
        while len(self._positions) < self._next + first + count:
            stream = self._stream
            scanned = self._scanned
            stream.draw(scanned + 2 * (first + count) + 256)
            tries = (stream.words[scanned:] >> self._shift).astype(np.intp)
            hits = np.flatnonzero(tries < self._n)
            self._positions = np.concatenate((self._positions, hits + scanned))
            self._values = np.concatenate((self._values, tries[hits]))
            self._scanned = len(stream.words)
        start = self._next + first
        return self._values[start : start + count]

    def consume(self, count: int) -> None:
        """Move the stream past the next `count` choices."""
        self._next += count
        self._stream.pos = int(self._positions[self._next - 1]) + 1


def _run_trial(
    prob: npt.NDArray[np.float64], weight: float, rows: npt.NDArray[np.intc], choices: _Choices
) -> None:
    """One trial of Detector._detect_block, in place on `prob` (which ends normalised).

    langdetect multiplies `prob` by (weight + P(gram | lang)) for one random n-gram at a time and checks
    convergence (normalising) after the first and then after every fifth. Here a block of five is one
    (6, languages) array: `prob` then the five factors; np.multiply.reduce multiplies them in that
    order, so the floats are langdetect's.
    """
    probs = _get_profiles().probs
    n_langs = len(prob)
    conv = Detector.CONV_THRESHOLD
    prob *= probs[rows[choices.peek(0, 1)[0]]] + weight
    values = prob.tolist()
    total = sum(values)  # Detector._normalize_prob: Python's sum, in language order
    prob /= total
    top = max(values)
    lead = values.index(top)
    drawn = 1
    if top / total > conv:
        choices.consume(drawn)
        return
    blocks = 1
    while True:
        count = min(_CHUNK_BLOCKS, _MAX_BLOCKS - blocks)
        work = np.empty((count + 1, _BLOCK + 1, n_langs))
        factors = probs[rows[choices.peek(drawn, _BLOCK * count)]]
        factors += weight
        work[:count, 1:] = factors.reshape(count, _BLOCK, n_langs)
        work[0, 0] = prob
        for b in range(count):
            nxt = work[b + 1, 0]
            np.multiply.reduce(work[b], axis=0, out=nxt)
            values = nxt.tolist()
            total = sum(values)
            nxt /= total
            drawn += _BLOCK
            blocks += 1
            # converged when max(values) / total > conv; the leading language's share decides cheaply
            # when it is over conv (then so is the max) or over 1e-4 (then no share can reach conv)
            share = values[lead] / total
            if share <= 1e-4:
                top = max(values)
                lead = values.index(top)
                share = top / total
            if share > conv or blocks == _MAX_BLOCKS:
                prob[:] = nxt
                choices.consume(drawn)
                return
        prob[:] = work[count, 0]


def _detect_probabilities(rows: npt.NDArray[np.intc]) -> list[tuple[str, float]]:
    """Detector._detect_block + get_probabilities: (lang, probability) over PROB_THRESHOLD."""
    langs = _get_profiles().langs
    stream = _RandomStream(SEED)
    choices = _Choices(stream, len(rows))
    langprob = np.zeros(len(langs))
    for _ in range(_N_TRIAL):
        alpha = Detector.ALPHA_DEFAULT + stream.gauss() * Detector.ALPHA_WIDTH
        choices.sync()
        prob = np.full(len(langs), 1.0 / len(langs))
        _run_trial(prob, alpha / Detector.BASE_FREQ, rows, choices)
        langprob += prob / _N_TRIAL
    found = zip(langs, langprob.tolist(), strict=True)
    return [(lang, p) for lang, p in found if p > Detector.PROB_THRESHOLD]


def detect_language_candidates(text: str) -> list[tuple[str, float]]:
    """(code, probability) best first, from the first ~2,000 characters; [] when undetectable."""
    sample = text.strip()[:SAMPLE_CHARS]
    if not _has_letters(sample, MIN_LETTERS):
        return []
    rows = _extract_rows(_clean_text(sample))
    if not len(rows):
        return []
    merged: dict[str, float] = {}
    for lang, p in _detect_probabilities(rows):
        code = _normalize_code(lang)
        merged[code] = merged.get(code, 0.0) + p
    return sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))


def detect_language(text: str, html_lang: str | None = None, hint: str | None = None) -> str:
    """A 2-letter code, or 'und' when the text is too short (< ~40 letters) or undetectable.

    When langdetect is unsure (top probability < 0.8), the page's declared language, then the
    source's hint, win if langdetect lists them among its candidates. A declared language that the
    text contradicts (an English page declaring `lang="fr"`) does not override a confident detection.
    """
    candidates = detect_language_candidates(text)
    if not candidates:
        return UNDETERMINED
    best, probability = candidates[0]
    if probability < CONFIDENT:
        listed = {code for code, _ in candidates}
        for preferred in (normalize_lang(html_lang), normalize_lang(hint)):
            if preferred and preferred in listed:
                return preferred
    return best
