"""Story features: numbers, entities, similarity, blocking keys, JSON."""

from __future__ import annotations

import json

import pytest

from newswatch.stories import (
    StoryFeatures,
    extract_numbers,
    extract_story_features,
    features_from_json,
    features_to_json,
    normalize_entity,
    story_keys,
    story_similarity,
)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("$10 billion", "en", "1e+10"),
        ("10 milliards de dollars", "fr", "1e+10"),
        ("10 Milliarden US-Dollar", "de", "1e+10"),
        ("10.000 millones de dólares", "es", "1e+10"),
        ("diez mil millones de dólares", "es", "1e+10"),
        ("10 miliardi di dollari", "it", "1e+10"),
        ("US$ 10 bilhões", "pt", "1e+10"),
        ("$10bn", "en", "1e+10"),
        ("€15 million", "en", "1.5e+07"),
        ("15 millions d'euros", "fr", "1.5e+07"),
        ("3,75 %", "fr", "3.75%"),
        ("3.75%", "en", "3.75%"),
        ("3,75 Prozent", "de", "3.75%"),
        ("elf Prozent", "de", "11%"),
        ("zehn Gigawatt", "de", "10gw"),
        ("10 GW", "en", "10gw"),
        ("6 gigavatios", "es", "6gw"),
        ("a 500B-parameter model", "en", "5e+11"),
        ("500 milliards de paramètres", "fr", "5e+11"),
        ("3,3 billones de tokens", "es", "3.3e+12"),  # Spanish billón is 10**12
        ("3.3 trillion tokens", "en", "3.3e+12"),
        ("un billion d'euros", "fr", "1e+12"),  # so is the French billion
        ("eine Billion Euro", "de", "1e+12"),
        ("rund einer Milliarde Dollar", "de", "1e+09"),
        ("a billion users", "en", "1e+09"),
        ("10,000 jobs", "en", "1e+04"),
        ("10 000 postes", "fr", "1e+04"),
        ("10 mil funcionários", "pt", "1e+04"),
        ("1.500 Euro", "de", "1.5e+03"),
        ("1,5 milliard", "fr", "1.5e+09"),
        ("$4tn", "en", "4e+12"),
    ],
)
def test_numbers_normalise_across_languages(text: str, lang: str, expected: str) -> None:
    assert extract_numbers(text, lang) == {expected}


@pytest.mark.parametrize(
    "text", ["in 2019 and 2024", "GPT-4, Phi-3 and the H100", "an 8-year-old", "a 5m swim", "on May 6", ""]
)
def test_numbers_skip_years_model_names_and_small_counts(text: str) -> None:
    assert extract_numbers(text, "en") == frozenset()


def test_normalize_entity() -> None:
    assert normalize_entity("GPT-4o") == normalize_entity("GPT 4o") == "gpt4o"
    assert normalize_entity("Llama 3.1") == "llama3.1"
    assert normalize_entity("Karén Simonyan") == "karen simonyan"
    assert normalize_entity("Straße") == "strasse"


def test_entities_are_language_independent_names() -> None:
    f = extract_story_features(
        "Microsoft développe MAI-1 pour concurrencer OpenAI",
        "Selon The Information, le groupe de Redmond entraîne MAI-1. Le projet de Microsoft est piloté par "
        "Mustafa Suleyman, "
        "recruté en mars. Lundi, l'entreprise, qui a investi dans OpenAI et publié Phi-3, n'a pas commenté. "
        "Les modèles d'OpenAI tournent sur Azure.",
        "fr",
    )
    assert {"mai1", "openai", "phi3", "mustafa suleyman", "suleyman", "redmond", "azure"} <= f.entities
    assert {"mai1", "phi3", "openai"} <= f.strong
    assert "mustafa suleyman" in f.names
    # sentence starts, articles, months and days are not names
    assert not {"le", "les", "lundi", "mars", "selon", "the"} & f.entities
    assert {"mai1", "openai", "microsoft"} <= f.salient


def test_german_common_nouns_are_not_entities() -> None:
    f = extract_story_features(
        "Amazon steckt weitere vier Milliarden Dollar in Anthropic",
        "Der Onlinehändler Amazon erhöht seine Beteiligung an dem Start-up Anthropic um 4 Milliarden Dollar. "
        "Die Unternehmen vereinbarten eine Partnerschaft: Anthropic nutzt die Chips von Amazon Web Services. "
        "Konzernchef Andy Jassy sprach von einer Zusammenarbeit. Auch Microsoft ist im Rennen, doch "
        "Microsofts Partner OpenAI reagierte nicht.",
        "de",
    )
    assert {"amazon", "anthropic", "andy jassy", "amazon web services", "openai", "microsoft"} <= f.entities
    assert (
        not {"milliarden", "beteiligung", "unternehmen", "partnerschaft", "zusammenarbeit", "dollar"}
        & f.entities
    )
    assert "konzernchef andy jassy" not in f.entities
    assert "microsofts" not in f.entities  # genitive folded into the name
    assert f.numbers == {"4e+09"}


def test_version_numbers_join_their_names_but_amounts_do_not() -> None:
    f = extract_story_features(
        "", "Meta released Llama 3.1 and Google shipped Gemini 2.0 Flash on iOS 18.", "en"
    )
    assert {"llama3.1", "gemini2.0", "ios18"} <= f.strong
    g = extract_story_features("", "Plus tard, Microsoft 10 milliards de dollars investis.", "fr")
    assert "microsoft10" not in g.entities


def _pair(lang_a: str, lang_b: str) -> tuple[StoryFeatures, StoryFeatures]:
    en = extract_story_features(
        "Nvidia to invest up to $100 billion in OpenAI",
        "Nvidia will invest up to $100 billion in OpenAI as the ChatGPT maker deploys at least 10 gigawatts "
        "of Nvidia systems, the companies said. The first $10 billion comes when the first gigawatt is "
        "deployed on the Vera Rubin platform in 2026. Jensen Huang spoke alongside Sam Altman.",
        lang_a,
    )
    fr = extract_story_features(
        "Nvidia va investir jusqu'à 100 milliards de dollars dans OpenAI",
        "Nvidia investira jusqu'à 100 milliards de dollars dans OpenAI, qui déploiera au moins 10 gigawatts "
        "de systèmes Nvidia. Un premier versement de 10 milliards de dollars interviendra avec la plateforme "
        "Vera Rubin en 2026, a expliqué Jensen Huang aux côtés de Sam Altman.",
        lang_b,
    )
    return en, fr


def test_similarity_cross_language_same_announcement() -> None:
    en, fr = _pair("en", "fr")
    assert {"1e+11", "1e+10", "10gw"} <= en.numbers & fr.numbers
    assert {"nvidia", "openai", "vera rubin", "jensen huang", "sam altman"} <= en.entities & fr.entities
    s = story_similarity(en, fr)
    assert s >= 0.7
    assert s == story_similarity(fr, en)
    assert set(story_keys(en)) & set(story_keys(fr))


def test_similarity_bounds_and_unrelated() -> None:
    en, _ = _pair("en", "fr")
    assert story_similarity(en, en) >= 0.95
    other = extract_story_features(
        "Real Madrid win the Champions League",
        "Real Madrid beat Borussia Dortmund 2-0 at Wembley, with goals by Dani Carvajal and Vinícius Júnior.",
        "en",
    )
    assert story_similarity(en, other) < 0.1
    empty = extract_story_features("", "", None)
    assert story_similarity(empty, empty) == 0.0
    assert story_similarity(en, empty) == 0.0
    assert story_keys(empty) == []


def test_story_keys_are_sorted_bounded_and_deterministic() -> None:
    en, _ = _pair("en", "fr")
    keys = story_keys(en)
    assert keys == sorted(keys) == story_keys(extract_story_features(*_pair_inputs()))
    assert 0 < len(keys) <= 40
    assert all(k[:2] in ("e:", "n:", "p:") for k in keys)
    assert "n:1e+11" in keys and "e:vera rubin" in keys
    assert len(story_keys(en, max_keys=5)) == 5


def _pair_inputs() -> tuple[str, str, str]:
    return (
        "Nvidia to invest up to $100 billion in OpenAI",
        "Nvidia will invest up to $100 billion in OpenAI as the ChatGPT maker deploys at least 10 gigawatts "
        "of Nvidia systems, the companies said. The first $10 billion comes when the first gigawatt is "
        "deployed on the Vera Rubin platform in 2026. Jensen Huang spoke alongside Sam Altman.",
        "en",
    )


def test_features_json_round_trip() -> None:
    en, fr = _pair("en", "fr")
    data = features_to_json(en)
    assert json.loads(data)["v"] == 1
    back = features_from_json(data)
    assert back == en
    assert story_similarity(back, features_from_json(features_to_json(fr))) == story_similarity(en, fr)
    assert features_to_json(back) == data  # stable text: sorted keys and values
    minimal = features_from_json('{"entities": ["openai"], "future_field": 1}')
    assert minimal.entities == {"openai"} and minimal.numbers == frozenset() and minimal.lang is None
    with pytest.raises(ValueError):
        features_from_json("[1, 2]")


def test_extraction_never_raises_on_odd_input() -> None:
    for title, text in [
        ("", ""),
        ("   ", "\n\n"),
        ("'", "« » — – … 1,2,3 ,,, ..."),
        ("X" * 300, "A. B. C. " * 50),
    ]:
        f = extract_story_features(title, text, None)
        assert isinstance(features_to_json(f), str)
        story_keys(f)


def test_turkish_dotless_i_is_no_number_word() -> None:
    """ "sıx" matches the number-word pattern case-insensitively (ı folds like i) but is no number: it
    used to raise KeyError and fail the whole source."""
    assert extract_numbers("Şirket sıx percent büyüdü") == frozenset()
    assert extract_numbers("six percent") == frozenset({"6%"})
