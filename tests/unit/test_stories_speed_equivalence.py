"""Story features pinned exactly: the fast paths of newswatch/stories.py (cached word classification,
plain-word skipping, the prefix-tree number regex) must not change a single feature.

The expected values were produced by the straightforward implementation before the speed-up. A
change here is a change of behaviour: make it on purpose, bump FEATURES_VERSION and update the pins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from newswatch.stories import (
    _NUMBER_WORDS,
    StoryFeatures,
    extract_numbers,
    extract_story_features,
    features_to_json,
)

STORY_PAIRS = Path(__file__).resolve().parents[1] / "quality" / "data" / "story_pairs.jsonl"

CASES: dict[str, tuple[tuple[str, str, str | None], dict[str, Any]]] = {
    # Title Case headline; possessive, quotes, model names, CamelCase, acronym aliases, versions,
    # a number that is an amount and not a version ("Microsoft 10 billion"), hyphenated names.
    "en_title_case": (
        (
            "Microsoft Trains Its Own Model, MAI-1, To Rival OpenAI And Google",
            "Microsoft's MAI-1 rivals GPT-4o, OpenAI said on Monday. The ECB and the EZB were not involved.\n"
            '"We trained it on H100 chips," said Mustafa Suleyman, who joined from Inflection AI. Meta '
            "released Llama 3.1 and Apple shipped iOS 18 on the iPhone; xAI rents TPUs from Google Cloud.\n"
            "Microsoft 10 billion later, the U.S. market saw a $10bn deal, shares 3.75% up, 10 GW, 10,000 "
            "jobs in 2024 and a 5m swim. (Satya Nadella) — Google DeepMind, OpenAI-backed Anthropic.",
            "en",
        ),
        {
            "entities": [
                "anthropic",
                "apple",
                "cloud",
                "deepmind",
                "ecb",
                "google",
                "google cloud",
                "google deepmind",
                "gpt4o",
                "gw",
                "h100",
                "inflection",
                "ios",
                "ios18",
                "iphone",
                "llama",
                "llama3.1",
                "mai1",
                "mustafa",
                "mustafa suleyman",
                "nadella",
                "openai",
                "openaibacked anthropic",
                "satya nadella",
                "suleyman",
                "tpu",
                "xai",
            ],
            "lang": "en",
            "names": [
                "google cloud",
                "google deepmind",
                "microsoft trains",
                "mustafa suleyman",
                "openaibacked anthropic",
                "own model",
                "rival openai",
                "satya nadella",
            ],
            "numbers": ["10gw", "1e+04", "1e+10", "3.75%"],
            "salient": ["ecb", "google", "mai1", "openai"],
            "strong": [
                "deepmind",
                "gpt4o",
                "h100",
                "ios",
                "ios18",
                "iphone",
                "llama3.1",
                "mai1",
                "openai",
                "xai",
            ],
            "title_tokens": ["google", "mai1", "micros", "model", "openai", "own", "rival", "trains"],
        },
    ),
    # Elisions (l', d’), guillemets, a French billion (10**12), "3,75 %", acronym aliases (BCE, FMI).
    "fr_elisions_quotes": (
        (
            "Microsoft investit 10 milliards de dollars dans l'OpenAI de Sam Altman",
            "Selon Reuters, l'entreprise de Redmond a investi 10 milliards de dollars dans OpenAI. « Le PDG "
            "Satya Nadella l'a confirmé », d’après Les Échos. Un billion d'euros ? Non : 3,75 % du capital "
            "d'OpenAI. Lundi, la BCE et le FMI ont commenté. Microsoft 10 milliards de plus pour Phi-3.",
            "fr",
        ),
        {
            "entities": [
                "altman",
                "ecb",
                "echos",
                "imf",
                "nadella",
                "openai",
                "phi3",
                "redmond",
                "reuters",
                "sam",
                "sam altman",
                "satya",
                "satya nadella",
            ],
            "lang": "fr",
            "names": ["sam altman", "satya nadella"],
            "numbers": ["1e+10", "1e+12", "3.75%"],
            "salient": ["altman", "openai", "sam", "sam altman"],
            "strong": ["openai", "phi3"],
            "title_tokens": ["10", "altman", "dollar", "invest", "micros", "millia", "openai", "sam"],
        },
    ),
    # German: capitalised common nouns, determiners, role nouns before names, the genitive
    # ("Microsofts"), hyphenated compounds, "1.500 Euro", "3,75 Prozent", "zehn Gigawatt".
    "de_nouns_genitive": (
        (
            "Amazon steckt weitere vier Milliarden Dollar in Anthropic",
            "Der Onlinehändler Amazon erhöht seine Beteiligung an dem Start-up Anthropic um 4 Milliarden "
            "Dollar. Die Unternehmen vereinbarten eine Partnerschaft: Anthropic nutzt die Chips von Amazon "
            "Web Services und Nvidia-Grafikprozessoren. Konzernchef Andy Jassy sprach von 1.500 Euro, 3,75 "
            "Prozent und zehn Gigawatt. Weitere Schritte folgen, sagte der Chipkonzern Nvidia. Auch "
            "Microsoft ist im Rennen, doch Microsofts Partner OpenAI reagierte nicht. Die EZB und der IWF "
            "schwiegen.",
            "de",
        ),
        {
            "entities": [
                "amazon",
                "amazon web services",
                "andy",
                "andy jassy",
                "anthropic",
                "ecb",
                "gigawatt",
                "imf",
                "jassy",
                "microsoft",
                "nvidia",
                "openai",
                "schritte",
                "services",
                "web",
            ],
            "lang": "de",
            "names": ["amazon web services", "andy jassy"],
            "numbers": ["1.5e+03", "10gw", "3.75%", "4e+09"],
            "salient": ["amazon", "anthropic", "microsoft", "nvidia"],
            "strong": ["openai"],
            "title_tokens": ["amazon", "anthro", "dollar", "millia", "steckt", "vier", "weiter"],
        },
    ),
    # Spanish, Italian and Portuguese amounts; version names ("Gemini 2.0", "iOS 18").
    "es_it_pt_versions": (
        (
            "Google lanza Gemini 2.0 Flash",
            "Google invertirá 10.000 millones de dólares; Gemini 2.0 Flash llega a iOS 18. Il gruppo Mistral "
            "AI raccoglie 600 milioni di euro. A Petrobras anunciou US$ 10 bilhões com a Nvidia.",
            "es",
        ),
        {
            "entities": ["flash", "gemini2.0", "ios", "ios18", "mistral", "nvidia", "petrobras"],
            "lang": "es",
            "names": [],
            "numbers": ["1e+10", "6e+08"],
            "salient": ["flash", "gemini2.0"],
            "strong": ["gemini2.0", "ios", "ios18"],
            "title_tokens": ["2.0", "flash", "gemini", "google", "lanza"],
        },
    ),
    # No language; tokens that are only punctuation, empty lines, symbols inside names, plural acronyms.
    "no_lang_odd_punctuation": (
        (
            "«OpenAI» — GPT-5?",
            "— OpenAI ¿lanza GPT-5? «Sam Altman» dijo: ‘nada’.\n\n...\nThe DE-CIX (Frankfurt) and COVID-19; "
            "A.I. at AT&T, S&P 500 and C++ in the 1990s; TPUs, CEOs, AIs.",
            None,
        ),
        {
            "entities": [
                "a.i",
                "altman",
                "at&t",
                "c++",
                "cix",
                "covid19",
                "frankfurt",
                "gpt5",
                "openai",
                "s&p",
                "sam altman",
                "tpu",
            ],
            "lang": None,
            "names": ["sam altman"],
            "numbers": [],
            "salient": ["gpt5", "openai"],
            "strong": ["covid19", "gpt5", "openai"],
            "title_tokens": ["gpt5", "openai"],
        },
    ),
}

# sha256 of features_to_json, one line per text of story_pairs.jsonl (sides a then b, each with its own
# language and then forced to German), measured before the speed-up.
STORY_PAIRS_DIGEST = "8e872c02ab4aeb43e0b43bacc030cc5e051605eb7061eef695dc071de09871f5"


def _as_lists(f: StoryFeatures) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in dataclasses.asdict(f).items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_features_are_pinned(name: str) -> None:
    (title, text, lang), expected = CASES[name]
    assert _as_lists(extract_story_features(title, text, lang)) == expected


def test_story_pairs_features_are_pinned() -> None:
    digest = hashlib.sha256()
    for line in STORY_PAIRS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for side in (row["a"], row["b"]):
            for lang in (side["lang"], "de"):
                f = extract_story_features(side["title"], side["text"], lang)
                digest.update(features_to_json(f).encode() + b"\n")
    assert digest.hexdigest() == STORY_PAIRS_DIGEST


@pytest.mark.parametrize("word", sorted(_NUMBER_WORDS))
def test_every_number_word_is_read(word: str) -> None:
    """The number words are matched through a prefix tree: each one, in any case, must still match."""
    expected = {f"{_NUMBER_WORDS[word] * 1e9:.3g}"}
    assert extract_numbers(f"{word} milliards", "fr") == expected
    assert extract_numbers(f"bis {word.upper()} Milliarden.", "de") == expected
    assert extract_numbers(f"{word}x milliards", "fr") == frozenset()  # only whole words


def test_text_is_normalised_before_reading_numbers() -> None:
    assert extract_numbers("１０ milliards de dollars", "fr") == {"1e+10"}
    assert extract_story_features("", "Ｎｖｉｄｉａ: ＄１０ billion", "en").numbers == {"1e+10"}
