"""The classifier on the seed articles, on new model names, on hard negatives, and driven by topics files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newswatch.classify import (
    CLASSIFIER_VERSION,
    Classification,
    Classifier,
    default_classifier,
    load_topics,
    split_sentences,
)
from newswatch.evaluate import classify_jsonl, evaluate, load_records, render_report
from newswatch.extract import extract_article
from newswatch.topics import TopicsError

ROOT = Path(__file__).resolve().parents[2]
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
REPO_SEEDS = ROOT / "seeds"


def _classify(title: str, text: str, lang: str | None = None) -> Classification:
    return default_classifier().classify(title, text, lang)


def _seed_texts() -> list[tuple[str, str, str]]:
    """(name, title, text) of the seed articles: the shared .txt copies, else the repo's HTML copies."""
    seeds = []
    for path in sorted(SHARED_SEEDS.glob("*.txt")) if SHARED_SEEDS.is_dir() else []:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        seeds.append((path.name, lines[0].strip(), "\n".join(lines[1:])))
    if not seeds:
        for path in sorted(REPO_SEEDS.glob("*.html")) if REPO_SEEDS.is_dir() else []:
            extracted = extract_article(path.read_bytes())
            seeds.append((path.name, extracted.title or "", extracted.text or ""))
    if not seeds:
        pytest.skip("no seed articles (../shared/seeds/*.txt or seeds/*.html)")
    return seeds


# --- the seeds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1])
def test_seed_gets_both_labels_with_evidence(index: int) -> None:
    seeds = _seed_texts()
    if index >= len(seeds):
        pytest.skip("fewer than two seeds")
    name, title, text = seeds[index]
    c = _classify(title, text, "fr")
    assert set(c.labels) == {"ai_partnership", "inhouse_model"}, (name, c.scores)
    partnership_terms = {t for e in c.evidence if e.label == "ai_partnership" for t in e.terms}
    assert {"Microsoft", "OpenAI"} <= partnership_terms
    inhouse_terms = " ".join(t for e in c.evidence if e.label == "inhouse_model" for t in e.terms)
    models = " ".join(r.model or "" for r in c.relations if r.label == "inhouse_model")
    assert "Microsoft" in inhouse_terms
    assert any(m in inhouse_terms + " " + models for m in ("MAI", "Phi"))


@pytest.mark.parametrize("index", [0, 1])
def test_seed_relations(index: int) -> None:
    seeds = _seed_texts()
    if index >= len(seeds):
        pytest.skip("fewer than two seeds")
    _name, title, text = seeds[index]
    c = _classify(title, text, "fr")
    pairs = [r for r in c.relations if r.label == "ai_partnership"]
    assert pairs[0].orgs == ("Microsoft", "OpenAI")
    assert pairs[0].kind in {"investment", "tension"}
    builds = [r for r in c.relations if r.label == "inhouse_model" and r.orgs == ("Microsoft",)]
    assert builds and {r.model for r in builds} & {"MAI", "MAI-1", "Phi", "Phi-3", "Phi-2"}


def test_seeds_without_language_hint_give_the_same_labels() -> None:
    for _name, title, text in _seed_texts():
        assert set(_classify(title, text, None).labels) == set(_classify(title, text, "fr").labels)


# --- positives in other words and languages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "text", "orgs", "kind"),
    [
        (
            "en",
            "Nvidia takes a stake in Mistral AI",
            "Nvidia has taken a minority stake in Mistral AI, the Paris "
            "start-up that trains large language models, as part of a funding round.",
            {"Nvidia", "Mistral AI"},
            "investment",
        ),
        (
            "de",
            "Telekom und Perplexity bauen KI-Assistenten",
            "Die Deutsche Telekom hat mit Perplexity eine "
            "Vereinbarung unterzeichnet: der KI-Assistent des Start-ups wird in das Smartphone der Telekom "
            "integriert.",
            {"Deutsche Telekom", "Perplexity"},
            None,
        ),
        (
            "es",
            "OpenAI usará la nube de Oracle",
            "OpenAI ha firmado un contrato con Oracle para obtener capacidad "
            "de cómputo adicional con la que entrenar sus modelos de inteligencia artificial.",
            {"OpenAI", "Oracle"},
            "cloud_compute",
        ),
        (
            "it",
            "Contoso Media concede in licenza il suo archivio a Anthropic",
            "Contoso Media ha firmato un "
            "accordo di licenza con Anthropic: l'archivio del gruppo servirà ad addestrare i modelli Claude.",
            {"Anthropic", "Contoso Media"},
            "licensing",
        ),
        (
            "pt",
            "Microsoft e OpenAI renegociam o acordo",
            "A Microsoft e a OpenAI renegociaram o acordo que liga "
            "as duas empresas de inteligência artificial, pondo fim à exclusividade da nuvem Azure.",
            {"Microsoft", "OpenAI"},
            "tension",
        ),
    ],
)
def test_partnerships_in_other_words(
    lang: str, title: str, text: str, orgs: set[str], kind: str | None
) -> None:
    c = _classify(title, text, lang)
    assert "ai_partnership" in c.labels, c.scores
    relation = next(r for r in c.relations if r.label == "ai_partnership")
    assert set(relation.orgs) == orgs
    if kind:
        assert relation.kind == kind


def test_new_model_names_are_captured() -> None:
    c = _classify(
        "Acme Bank unveils Kestrel 2, a language model it trained from scratch",
        "Acme Bank said it had trained Kestrel 2, a 13-billion-parameter model, entirely in-house "
        "to reduce its reliance on outside AI vendors.",
        "en",
    )
    assert "inhouse_model" in c.labels
    assert any(r.model == "Kestrel 2" and r.orgs == ("Acme Bank",) for r in c.relations)
    sized = _classify(
        "Hugging Face releases Zephyr-7B", "Hugging Face released Zephyr-7B, an open model.", "en"
    )
    assert any(r.model == "Zephyr-7B" for r in sized.relations)


def test_inhouse_model_in_german_with_an_unknown_company() -> None:
    c = _classify(
        "Lufthansa setzt auf eigenes KI-Modell",
        "Die Lufthansa Group hat ein eigenes Sprachmodell namens Kranich-13B entwickelt, um weniger abhängig "
        "von OpenAI zu sein.",
        "de",
    )
    assert c.labels == ("inhouse_model",)
    assert c.relations[0].orgs == ("Lufthansa Group",) and c.relations[0].model == "Kranich-13B"


# --- hard negatives -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "en",
            "EU rules for general-purpose AI models take effect",
            "Providers such as OpenAI, Anthropic and "
            "Mistral must now publish training summaries under the AI Act. Regulators will fine "
            "companies that fail to comply.",
        ),
        (
            "en",
            "US tightens AI chip export rules",
            "The Commerce Department now requires a licence to export "
            "Nvidia's H20 chips to China, where Alibaba and Tencent had ordered them.",
        ),
        (
            "fr",
            "Classement : quel chatbot répond le mieux ?",
            "Nous avons comparé ChatGPT, Claude, Gemini et "
            "Le Chat sur 100 questions. Claude arrive en tête du classement, devant GPT-4o et Gemini.",
        ),
        (
            "de",
            "Galaxy S25 im Test",
            "Das Galaxy S25 überzeugt mit Akkulaufzeit. Die KI-Funktionen basieren auf "
            "Googles Gemini. Fazit: ein gutes Telefon für 899 Euro.",
        ),
        (
            "es",
            "El New York Times demanda a OpenAI y Microsoft",
            "El diario acusa a OpenAI y a Microsoft de "
            "usar millones de artículos para entrenar ChatGPT sin licencia. El juez decidirá en el juicio.",
        ),
        (
            "it",
            "Microsoft completa l'acquisizione di Activision Blizzard",
            "Microsoft ha chiuso l'acquisizione "
            "di Activision Blizzard per 69 miliardi di dollari, la più grande della storia dei videogiochi.",
        ),
        (
            "pt",
            "Google apresenta seu próprio chip TPU de sétima geração",
            "O Google apresentou o Ironwood, "
            "processador projetado internamente para os seus data centers de inteligência artificial.",
        ),
        (
            "en",
            "Students turn to chatbots for homework",
            "More than half of pupils used ChatGPT, made by the "
            "Microsoft-backed OpenAI, for schoolwork last month, a survey found.",
        ),
        (
            "en",
            "SAP rules out building its own model",
            "SAP will not develop its own large language model, its "
            "chief executive said. SAP will not train a model from scratch.",
        ),
    ],
)
def test_hard_negatives(lang: str, title: str, text: str) -> None:
    c = _classify(title, text, lang)
    assert c.labels == (), (c.scores, c.evidence)


def test_empty_article() -> None:
    c = _classify("", "")
    assert c.labels == () and c.evidence == () and c.relations == ()
    assert set(c.scores) == {"ai_partnership", "inhouse_model"}


def test_classification_is_deterministic_and_versioned() -> None:
    title, text = (
        "Amazon invests $4bn in Anthropic",
        "Amazon will invest $4 billion in Anthropic, the AI lab.",
    )
    a, b = _classify(title, text, "en"), _classify(title, text, "en")
    assert a == b
    assert a.version == default_classifier().version == CLASSIFIER_VERSION


def test_scores_and_evidence_are_bounded() -> None:
    _name, title, text = _seed_texts()[0]
    c = _classify(title, text, "fr")
    assert all(0.0 <= s <= 1.0 for s in c.scores.values())
    assert all(0.0 < e.weight <= 1.0 and e.sentence and e.terms for e in c.evidence)


def test_split_sentences_keeps_abbreviations() -> None:
    text = "M. Nadella a parlé. Microsoft investit. U.S. rules apply. Third one!"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "M. Nadella a parlé.",
        "Microsoft investit.",
        "U.S. rules apply.",
        "Third one!",
    ]


# --- topics files -----------------------------------------------------------------------------------------


def test_shipped_topics_load() -> None:
    topics = load_topics()
    assert [t.label for t in topics.topics] == ["ai_partnership", "inhouse_model"]
    assert {"en", "fr", "de", "es", "it", "pt"} <= set(topics.languages)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "topics:\n  - {label: x, rule: pair, cues: [nope]}\n",
            "topics[0] (label 'x'): cues: unknown cue group",
        ),
        (
            "cues:\n  c: {weight: 2, terms: {en: [a]}}\ntopics:\n  - {label: x, rule: any, cues: [c]}\n",
            "cues.c.weight",
        ),
        (
            "organisations:\n  - {name: A, patterns: ['(']}\ntopics: []\n",
            "organisations[0] (name 'A').patterns",
        ),
        (
            "models:\n  - {name: M, org: Nobody, aliases: [M1]}\n"
            "cues:\n  c: {weight: 0.5, terms: {en: [a]}}\n"
            "topics:\n  - {label: x, rule: any, cues: [c]}\n",
            "org 'Nobody' is not a listed organisation",
        ),
        (
            "cues:\n  c: {weight: 0.5, terms: {english: [a]}}\n"
            "topics:\n  - {label: x, rule: any, cues: [c]}\n",
            "'english' is not a two-letter language code",
        ),
        ("topics:\n  - {label: X!, rule: pair, cues: []}\n", "topics[0] (label 'X!').label"),
        ("colour: blue\ntopics:\n  - {label: x, rule: any, cues: [c]}\n", "colour: unknown key"),
        ("topics: [unclosed\n", "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_topics_errors_name_the_file_and_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path / "my-topics.yaml", body)
    with pytest.raises(TopicsError) as err:
        load_topics(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_missing_topics_file(tmp_path: Path) -> None:
    with pytest.raises(TopicsError, match="topics file not found"):
        load_topics(tmp_path / "absent.yaml")


USER_TOPIC = """
extends: default
organisations:
  - {name: Cerebras, ai: true, aliases: [Cerebras]}
  - {name: Acme Robotics, aliases: [Acme Robotics, Acme]}
cues:
  chip_supply:
    kind: chips
    weight: 0.6
    terms:
      en: ["suppl* ... (chips|accelerators|wafers)", "order* ... (chips|accelerators)"]
      fr: ["fourni* ... puces", "command* ... puces"]
topics:
  - label: ai_chip_supply
    description: An organisation buys or supplies AI chips from or to another.
    rule: pair
    require_ai: false
    cues: [chip_supply]
    threshold: 0.5
"""


def test_a_user_topic_and_company_work_without_code(tmp_path: Path) -> None:
    topics = load_topics(_write(tmp_path / "topics.yaml", USER_TOPIC))
    classifier = Classifier(topics)
    assert [t.label for t in topics.topics] == ["ai_partnership", "inhouse_model", "ai_chip_supply"]
    assert classifier.version.startswith(CLASSIFIER_VERSION + "+")
    c = classifier.classify(
        "Cerebras to supply chips to Acme Robotics",
        "Cerebras will supply wafer-scale chips to Acme Robotics under a three-year contract.",
        "en",
    )
    assert "ai_chip_supply" in c.labels
    assert any(
        r.label == "ai_chip_supply" and set(r.orgs) == {"Cerebras", "Acme Robotics"} for r in c.relations
    )
    assert "ai_chip_supply" not in default_classifier().classify(c.evidence[0].sentence, "", "en").labels


def test_a_replacing_topics_file(tmp_path: Path) -> None:
    body = """
version: "mine-1"
languages: [en]
organisations:
  - {name: Globex, aliases: [Globex]}
cues:
  recall: {weight: 0.7, terms: {en: [recall*, "pull* ... from (shelves|stores)"]}}
topics:
  - {label: product_recall, rule: single, require_ai: false, cues: [recall]}
"""
    classifier = Classifier(load_topics(_write(tmp_path / "t.yaml", body)))
    c = classifier.classify(
        "Globex recalls 2 million kettles", "Globex is recalling kettles after fires.", "en"
    )
    assert c.labels == ("product_recall",)
    assert c.relations[0].orgs == ("Globex",)


# --- JSON lines and evaluation ------------------------------------------------------------------------------


def test_classify_jsonl_answers_every_line() -> None:
    lines = [
        json.dumps(
            {
                "id": "a",
                "title": "Microsoft invests in OpenAI",
                "text": "Microsoft will invest $10bn in OpenAI, the maker of ChatGPT.",
                "lang": "en",
            }
        ),
        "not json",
        json.dumps({"id": "b"}),
        json.dumps([1, 2]),
        json.dumps({"id": "c", "text": "x", "lang": 5}),
        "",
        json.dumps({"id": 7, "text": "Nothing to see."}),
    ]
    out = [json.loads(x) for x in classify_jsonl(lines, default_classifier())]
    assert [o.get("id") for o in out] == ["a", None, "b", None, "c", 7]
    assert out[0]["labels"] == ["ai_partnership"]
    assert set(out[0]) >= {"id", "labels", "scores", "evidence", "relations"}
    assert {"label", "sentence", "terms"} <= set(out[0]["evidence"][0])
    assert out[0]["relations"][0] == {
        "label": "ai_partnership",
        "orgs": ["Microsoft", "OpenAI"],
        "kind": "investment",
        "model": None,
    }
    assert all("error" in o for o in out[1:5])
    assert out[5]["labels"] == []


def test_evaluate_and_render() -> None:
    records = load_records(
        [
            json.dumps(
                {
                    "id": "p",
                    "lang": "en",
                    "title": "Amazon invests in Anthropic",
                    "text": "Amazon will invest $4 billion in Anthropic, the AI start-up.",
                    "labels": ["ai_partnership"],
                }
            ),
            json.dumps(
                {
                    "id": "n",
                    "lang": "fr",
                    "title": "Tempête en Bretagne",
                    "text": "Des rafales à 200 km/h ont frappé la Bretagne.",
                    "labels": [],
                }
            ),
            json.dumps({"id": "u", "title": "unlabelled", "text": "skipped"}),
        ],
        origin="mem.jsonl",
    )
    assert [r.id for r in records] == ["p", "n"]
    report = evaluate(records, default_classifier())
    assert report.per_label["ai_partnership"].f1 == 1.0
    assert report.min_f1 == 1.0  # inhouse_model has no gold positive: not part of the floor
    assert set(report.per_lang) == {"en", "fr"}
    table = render_report(report)
    assert "ai_partnership" in table and "per language" in table and "fr micro" in table


def test_load_records_names_the_bad_line() -> None:
    with pytest.raises(Exception, match=r"data\.jsonl:2: 'labels' must be a list of strings"):
        load_records(
            ['{"id": 1, "text": "a", "labels": []}', '{"id": 2, "text": "b", "labels": "x"}'],
            origin="data.jsonl",
        )
