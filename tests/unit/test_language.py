"""detect_language on the corpus pages (their INDEX gives the language of the content) and edge cases."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from newswatch.extract import extract_article
from newswatch.extract_pool import extract_many
from newswatch.language import detect_language, detect_language_candidates


def test_every_corpus_page_gets_its_language(corpus: Path) -> None:
    index = json.loads((corpus / "pages" / "INDEX.json").read_text(encoding="utf-8"))
    jobs = [(p["path"], (corpus / "pages" / p["path"]).read_bytes(), p["url"]) for p in index["pages"]]
    extracted_pages = extract_many(jobs, workers=2, page_timeout=60, recycle_after=100)
    wrong = []
    for page in index["pages"]:
        extracted = extracted_pages[page["path"]]
        got = detect_language(extracted.text or "", html_lang=extracted.lang)
        if got != page["language"]:
            wrong.append((page["path"], page["language"], got))
    assert len(index["pages"]) == 59
    assert wrong == []


def test_page_declaring_fr_but_written_in_english_is_en(corpus: Path) -> None:
    path = corpus / "pages" / "trafilatura" / "tests" / "eval" / "sibenlab.blogspot.com.privacy.html"
    extracted = extract_article(path.read_bytes())
    assert extracted.lang == "fr"  # what the page declares
    assert detect_language(extracted.text or "", html_lang=extracted.lang, hint="fr") == "en"


def test_chinese_is_zh_not_zh_cn() -> None:
    text = (
        "武汉的声音：有英勇的你，才有英雄的城！新华社武汉电，疫情发生以来，武汉人民顾全大局，众志成城，展现了英雄城市的担当。"
        * 2
    )
    assert detect_language(text) == "zh"


def test_short_or_letterless_text_is_und() -> None:
    assert detect_language("") == "und"
    assert detect_language("Microsoft et OpenAI", html_lang="fr") == "und"  # < 40 letters
    assert detect_language("12345 67890 " * 20) == "und"
    assert detect_language("!!! ??? ... 2024-05-28 " * 10, hint="en") == "und"


def test_html_lang_then_hint_break_a_tie() -> None:
    """French mixed with Spanish: langdetect hesitates; the declared language decides if it is listed."""
    text = "Le président a dit que la crisis política continúa en Madrid y Paris aujourd hui."
    candidates = detect_language_candidates(text)
    assert candidates and candidates[0][1] < 0.8, candidates  # the premise: an unsure detection
    listed = [code for code, _ in candidates]
    assert len(listed) >= 2
    runner_up = listed[1]
    assert detect_language(text, html_lang=runner_up) == runner_up
    assert detect_language(text, hint=runner_up) == runner_up
    assert detect_language(text, html_lang="ja") == listed[0]  # not a candidate: ignored
    assert detect_language(text, html_lang=f"{runner_up.upper()}-XX") == runner_up


def test_confident_detection_ignores_the_declared_language() -> None:
    text = "The quick brown fox jumps over the lazy dog while the analysts discuss the partnership. " * 3
    assert detect_language(text, html_lang="fr", hint="de") == "en"


def test_only_the_first_2000_characters_count() -> None:
    english = "Microsoft is investing billions in OpenAI while building its own models. " * 30
    german = "Die Bundesregierung hat am Mittwoch beschlossen, die Steuern zu senken. " * 200
    assert len(english) > 2000
    assert detect_language(english + german) == "en"


def test_deterministic_and_thread_safe() -> None:
    text = "El presidente anunció hoy un acuerdo con la empresa para construir centros de datos."
    first = detect_language_candidates(text)
    results: list[list[tuple[str, float]]] = []

    def run() -> None:
        for _ in range(20):
            results.append(detect_language_candidates(text))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and all(r == first for r in results)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Microsoft finance OpenAI tout en construisant ses propres modèles d'intelligence artificielle.",
            "fr",
        ),
        (
            "Microsoft financia a OpenAI mientras construye sus propios modelos de inteligencia artificial.",
            "es",
        ),
        (
            "Microsoft finanziert OpenAI und baut gleichzeitig eigene Modelle für künstliche Intelligenz.",
            "de",
        ),
        ("Microsoft is funding OpenAI while building its own artificial intelligence models.", "en"),
        ("Microsoft finanzia OpenAI mentre costruisce i propri modelli di intelligenza artificiale.", "it"),
        (
            "A Microsoft financia a OpenAI enquanto constrói os seus próprios modelos de inteligência "
            "artificial.",
            "pt",
        ),
    ],
)
def test_short_sentences(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_forty_letters_is_the_threshold() -> None:
    forty = "Le gouvernement annonce une réforme des impôts"
    assert sum(ch.isalpha() for ch in forty) == 40
    assert detect_language(forty) == "fr"
    assert detect_language(forty[:-1]) == "und"  # 39 letters
    assert detect_language(forty[:-1], html_lang="fr", hint="fr") == "und"


def test_html_lang_comes_before_the_hint() -> None:
    text = "Le président a dit que la crisis política continúa en Madrid y Paris aujourd hui."
    listed = [code for code, _ in detect_language_candidates(text)]
    assert listed[:3] == ["fr", "ca", "es"] and detect_language(text) == "fr"
    assert detect_language(text, html_lang="es", hint="ca") == "es"
    assert detect_language(text, html_lang="ja", hint="ca") == "ca"  # html_lang not listed: the hint
    assert detect_language(text, html_lang=None, hint="de") == "fr"  # neither listed: langdetect's best
