"""Language of an article's text: langdetect, seeded, with the page's declared language as a tie-breaker."""

from __future__ import annotations

import threading

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from newswatch.extract import normalize_lang

UNDETERMINED = "und"
SAMPLE_CHARS = 2000  # langdetect converges long before this; more only costs time
MIN_LETTERS = 40  # below this, any answer is a guess
CONFIDENT = 0.8  # under this top probability, html_lang then hint may break the tie

DetectorFactory.seed = 0  # langdetect is random by design; seeded, it is deterministic

_factory_lock = threading.Lock()
_factory: DetectorFactory | None = None


def _get_factory() -> DetectorFactory:
    """langdetect's profiles, loaded once (about 0.5 s) and read-only afterwards; safe across threads."""
    global _factory
    with _factory_lock:
        if _factory is None:
            factory = DetectorFactory()
            factory.load_profile(PROFILES_DIRECTORY)
            factory.set_seed(0)
            _factory = factory
        return _factory


def _normalize_code(code: str) -> str:
    """langdetect's 'zh-cn' / 'zh-tw' -> 'zh'; everything else is already two letters."""
    return code.split("-")[0].lower()


def detect_language_candidates(text: str) -> list[tuple[str, float]]:
    """(code, probability) best first, from the first ~2,000 characters; [] when undetectable."""
    sample = text.strip()[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return []
    detector = _get_factory().create()
    detector.append(sample)
    try:
        found = detector.get_probabilities()
    except LangDetectException:
        return []
    merged: dict[str, float] = {}
    for item in found:
        code = _normalize_code(str(item.lang))
        merged[code] = merged.get(code, 0.0) + float(item.prob)
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
