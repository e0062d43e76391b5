"""The classifier's generalising rules, one family at a time, each in several languages.

The articles are short and made up (unknown companies on purpose: the gazetteer does not know them), so
each test shows one rule at work: organisations recognised outside the gazetteer, epithets, cue families
for deals phrased as extensions, joint labs, anchor customers and funding rounds, own-model cues that
describe someone else's use of a model, launches of new model names, and background or contrast mentions.
"""

from __future__ import annotations

import pytest

from newswatch.classify import Classification, default_classifier


def _classify(title: str, text: str, lang: str) -> Classification:
    return default_classifier().classify(title, text, lang)


def _pair_orgs(c: Classification) -> set[str]:
    return {o for r in c.relations if r.label == "ai_partnership" for o in r.orgs}


# --- organisations outside the gazetteer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "text", "org"),
    [
        (  # a corporate suffix
            "en",
            "Harbor Music Group licenses its catalogue to Anthropic",
            "Harbor Music Group has signed a licensing agreement with Anthropic that lets the AI developer "
            "train its models on the label's recordings. The deal covers 40,000 songs. Harbor Music said "
            "artists could opt out.",
            "Harbor Music Group",
        ),
        (  # introduced by an org noun, German word order
            "de",
            "Rechenzentrum: Nordkraft AG vermietet Kapazität an OpenAI",
            "Die Nordkraft AG hat mit OpenAI einen Vertrag über Rechenkapazität in ihrem neuen "
            "Rechenzentrum in "
            "Schleswig-Holstein geschlossen. OpenAI wird als Hauptabnehmer auftreten und dort KI-Modelle "
            "trainieren. Die Anlage soll 2027 in Betrieb gehen.",
            "Nordkraft AG",
        ),
        (  # a prefix
            "es",
            "Grupo Vértice integrará los modelos de Google en sus hoteles",
            "Grupo Vértice ha firmado un acuerdo con Google Cloud para integrar los modelos Gemini en la "
            "atención "
            "al cliente de sus 80 hoteles. La cadena usará la inteligencia artificial de la tecnológica "
            "para "
            "responder reservas en doce idiomas.",
            "Grupo Vértice",
        ),
        (  # an org noun with a complement: "le groupe de presse X"
            "fr",
            "Le groupe Lumen Médias s'allie à Mistral AI",
            "Le groupe de presse Lumen Médias a signé un accord de licence avec Mistral AI : la start-up "
            "parisienne pourra utiliser les archives du groupe pour son assistant Le Chat. L'accord "
            "court sur "
            "trois ans.",
            "Lumen Médias",
        ),
        (  # a bank named in title and lead
            "it",
            "Banca Aurora porta Claude agli sportelli",
            "Banca Aurora ha siglato un accordo con Anthropic per adottare i modelli Claude nei servizi ai "
            "clienti. La banca userà l'assistente di intelligenza artificiale della società americana in "
            "300 "
            "filiali.",
            "Banca Aurora",
        ),
        (  # a funding round: the lead investor and the startup both unknown
            "pt",
            "Rede Solar Capital investe em startup de IA",
            "A Rede Solar Capital liderou uma rodada de investimento de 30 milhões de reais na startup "
            "paulistana Cortex Labs, que desenvolve modelos de inteligência artificial para hospitais. "
            "Também "
            "participaram da rodada a gestora Vale Ventures e o Itaú.",
            "Cortex Labs",
        ),
    ],
)
def test_partners_outside_the_gazetteer(lang: str, title: str, text: str, org: str) -> None:
    c = _classify(title, text, lang)
    assert "ai_partnership" in c.labels, c.scores
    assert org in _pair_orgs(c), c.relations


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "en",
            "Fabrikam Group posts record profit",
            "Fabrikam Group reported a record quarterly profit on Tuesday, helped by strong demand for its "
            "industrial pumps. The company said it would raise its dividend. Fabrikam also signed a supply "
            "agreement with Northwind Logistics, a trucking company. Its chief executive said the group "
            "was "
            "studying artificial intelligence but had no plans yet.",
        ),
        (
            "pt",
            "Startup de logística capta R$ 50 milhões",
            "A startup de logística RotaFácil captou 50 milhões de reais numa rodada liderada pela gestora "
            "Horizonte Capital. O dinheiro será usado para abrir novos armazéns no Nordeste. A empresa "
            "não usa "
            "inteligência artificial, disse o fundador.",
        ),
        (
            "en",
            "Startup Vireo Labs raises $40m for drone batteries",
            "Vireo Labs, a startup that makes batteries for delivery drones, has raised $40m in a round "
            "led by "
            "Granite Ventures. The company will use the money to build a factory in Ohio. Vireo Labs "
            "said it "
            "was not working on artificial intelligence.",
        ),
        (
            "fr",
            "La CNIL inflige une amende à une start-up d'IA",
            "La CNIL a infligé une amende de 2 millions d'euros à la société Visiona SAS, une start-up qui "
            "développe des outils de reconnaissance faciale par intelligence artificielle. Le régulateur "
            "reproche "
            "à l'entreprise d'avoir collecté des photos sans consentement. Visiona SAS a annoncé faire "
            "appel.",
        ),
        (
            "it",
            "Maxi-multa del Garante a una società di chatbot",
            "Il Garante della privacy ha multato la società Lumina Srl per 5 milioni di euro: il chatbot "
            "dell'azienda raccoglieva dati di minori senza verifiche. La società ha annunciato ricorso al "
            "tribunale.",
        ),
    ],
)
def test_deals_without_ai_and_fines_stay_negative(lang: str, title: str, text: str) -> None:
    c = _classify(title, text, lang)
    assert c.labels == (), (c.scores, c.evidence)


def test_a_person_is_not_an_organisation() -> None:
    c = _classify(
        "Sugar Music concede il suo catalogo in licenza a Udio",
        "Sugar Music, la storica etichetta milanese guidata da Filippo Sugar, ha firmato un accordo di "
        "licenza "
        "con Udio, la piattaforma che genera canzoni con l'intelligenza artificiale. «Chi crea la musica "
        "deve "
        "essere pagato», ha dichiarato Filippo Sugar. Udio potrà usare il catalogo.",
        "it",
    )
    assert "ai_partnership" in c.labels, c.scores
    assert _pair_orgs(c) >= {"Sugar Music", "Udio"}
    assert not any("Filippo" in o for r in c.relations for o in r.orgs)


# --- epithets and the two parties


@pytest.mark.parametrize(
    ("lang", "title", "text", "orgs"),
    [
        (  # "the operator" is the subject, "the San Francisco start-up" the AI developer named before
            "en",
            "Orbit Telecom to bundle Perplexity",
            "Orbit Telecom customers will get a year of Perplexity Pro for free. The operator signed a "
            "distribution agreement with the San Francisco start-up, its first in Europe. Orbit Telecom "
            "will "
            "also use the AI search engine in its customer app.",
            {"Orbit Telecom", "Perplexity"},
        ),
        (
            "fr",
            "Bouygues Telecom glisse l'assistant Claude dans ses forfaits",
            "Les abonnés de Bouygues Telecom pourront utiliser la version payante de Claude, l'assistant "
            "d'Anthropic. L'opérateur a officialisé lundi un accord de distribution avec la start-up "
            "californienne, une première pour celle-ci en France.",
            {"Bouygues", "Anthropic"},
        ),
        (  # "Beide Unternehmen": the two named last
            "de",
            "Allianz setzt auf Anthropic",
            "Der Versicherer Allianz führt den KI-Assistenten Claude von Anthropic für alle Mitarbeiter "
            "ein. Der "
            "Münchner Konzern hat dazu eine Vereinbarung mit dem Start-up aus San Francisco "
            "unterzeichnet. Beide "
            "Unternehmen wollen zudem gemeinsam KI-Agenten für die Schadenbearbeitung entwickeln.",
            {"Allianz", "Anthropic"},
        ),
    ],
)
def test_epithets_resolve_to_the_parties(lang: str, title: str, text: str, orgs: set[str]) -> None:
    c = _classify(title, text, lang)
    assert "ai_partnership" in c.labels, c.scores
    assert orgs <= _pair_orgs(c), c.relations


# --- cue families: extended deals, joint labs, anchor customers, funding rounds


@pytest.mark.parametrize(
    ("lang", "title", "text", "kind"),
    [
        (
            "es",
            "Telefónica amplía su alianza con Microsoft",
            "Telefónica ha ampliado el acuerdo que la une con Microsoft para llevar los modelos de "
            "OpenAI de "
            "Azure a sus clientes empresariales.",
            None,
        ),
        (
            "it",
            "Fastweb rafforza la collaborazione con Mistral AI",
            "Fastweb ha rinnovato e rafforzato la collaborazione con Mistral AI: l'operatore ospiterà i "
            "modelli "
            "della startup francese e li offrirà alle imprese italiane.",
            None,
        ),
        (
            "fr",
            "Orange et Mistral AI approfondissent leur partenariat",
            "Orange et Mistral AI ont décidé d'étendre leur collaboration : l'opérateur déploiera les "
            "modèles de "
            "la start-up française auprès de ses clients et les hébergera dans son cloud souverain. Les "
            "deux "
            "entreprises créent aussi un laboratoire commun à Paris.",
            None,
        ),
        (
            "en",
            "Vantage Data Centers lands OpenAI as anchor tenant in Texas",
            "OpenAI has agreed to lease a new 1.2-gigawatt campus that Vantage Data Centers is building "
            "in Texas, "
            "becoming its anchor tenant. The site will host Nvidia chips used to train OpenAI's next "
            "models.",
            "cloud_compute",
        ),
        (
            "pt",
            "OpenAI negocia uso de megacampus de data centers",
            "A OpenAI está em negociações avançadas com a Atlântico Data Centers para se tornar a "
            "principal "
            "cliente do campus que a empresa planeja no Ceará. A criadora do ChatGPT avalia reservar "
            "parte da "
            "capacidade para os seus modelos de inteligência artificial.",
            "cloud_compute",
        ),
        (
            "de",
            "Start-up Lumina KI sammelt 50 Millionen Euro ein",
            "Das Münchner Start-up Lumina KI, das Sprachmodelle für Anwaltskanzleien entwickelt, hat in "
            "einer "
            "Finanzierungsrunde 50 Millionen Euro eingesammelt. Angeführt wird die Runde von Lightspeed, "
            "auch SAP "
            "beteiligt sich. Das Geld soll in die Expansion fließen.",
            "investment",
        ),
    ],
)
def test_deal_cue_families(lang: str, title: str, text: str, kind: str | None) -> None:
    c = _classify(title, text, lang)
    assert "ai_partnership" in c.labels, c.scores
    if kind:
        assert any(r.kind == kind for r in c.relations if r.label == "ai_partnership"), c.relations


def test_an_operating_system_is_not_a_negative_for_deals() -> None:
    c = _classify(
        "Mercedes setzt auf Gemini",
        "Mercedes-Benz vertieft die Zusammenarbeit mit Google: Der Autobauer wird das KI-Modell Gemini "
        "in das "
        "Betriebssystem MB.OS integrieren.",
        "de",
    )
    assert "ai_partnership" in c.labels, c.scores


# --- own-model cues that describe someone else's use of a model


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "it",
            "Il Corriere del Nord apre l'archivio a Mistral AI",
            "Il Corriere del Nord ha siglato un accordo di licenza con Mistral AI che consentirà alla "
            "società "
            "francese di utilizzare gli articoli del quotidiano per addestrare i propri modelli.",
        ),
        (
            "es",
            "El Diario del Norte cede su archivo a OpenAI",
            "El Diario del Norte ha firmado un acuerdo de licencia con OpenAI para que la empresa de Sam "
            "Altman "
            "pueda usar su archivo histórico para entrenar sus propios modelos. El acuerdo incluye un "
            "pago anual.",
        ),
        (
            "fr",
            "Le Journal de l'Est ouvre ses archives à Anthropic",
            "Le Journal de l'Est a conclu un accord avec Anthropic, qui aura accès aux archives du "
            "quotidien pour "
            "entraîner ses propres modèles. En échange, la rédaction disposera de Claude.",
        ),
        (
            "de",
            "Verlag Nordlicht lizenziert Archiv an Mistral AI",
            "Der Verlag Nordlicht hat eine Lizenzvereinbarung mit Mistral AI geschlossen. Das Pariser "
            "Start-up "
            "darf die Artikel nutzen, um seine eigenen Modelle zu trainieren.",
        ),
        (
            "en",
            "Anthropic cuts off a rival's access to Claude",
            "Anthropic has revoked OpenAI's access to its own models through the API, saying the rival "
            "broke its "
            "terms of service. The two companies had an agreement for mutual testing.",
        ),
    ],
)
def test_own_models_in_a_deal_frame_are_not_inhouse(lang: str, title: str, text: str) -> None:
    c = _classify(title, text, lang)
    assert "inhouse_model" not in c.labels, (c.scores, c.evidence)
    assert "ai_partnership" in c.labels, c.scores


def test_own_models_outside_a_deal_frame_still_count() -> None:
    c = _classify(
        "Contoso Bank builds its own language model",
        "Contoso Bank has trained its own large language model on 20 years of customer letters, the lender "
        "said. The model, called Ledger-13B, runs on the bank's own servers.",
        "en",
    )
    assert c.labels == ("inhouse_model",), c.scores


# --- launches of new model names


@pytest.mark.parametrize(
    ("lang", "title", "text", "model"),
    [
        (
            "en",
            "Sakana AI releases Koi 3",
            "Sakana AI has released Koi 3, the latest version of its Japanese language model, trained on 4 "
            "trillion tokens. The weights are published under an open licence.",
            "Koi 3",
        ),
        (  # a lab outside the gazetteer
            "it",
            "Il laboratorio Nautilus presenta Tritone 2",
            "Il laboratorio romano Nautilus ha presentato Tritone 2, un nuovo modello linguistico "
            "addestrato su "
            "testi in italiano. Il modello sarà disponibile per la pubblica amministrazione.",
            "Tritone 2",
        ),
        (
            "pt",
            "Maritaca AI lança Sabiá-4",
            "A Maritaca AI lançou o Sabiá-4, a nova geração do seu modelo de linguagem treinado em "
            "português. A "
            "empresa afirma que o modelo supera concorrentes maiores.",
            "Sabiá-4",
        ),
        (  # a bare code name, called a model in apposition
            "es",
            "DeepSeek presenta V4 y vuelve a sacudir el sector",
            "La empresa china DeepSeek ha lanzado V4, la nueva versión de su modelo de inteligencia "
            "artificial, "
            "que iguala a los sistemas más avanzados en programación. Como sus predecesores, V4 se "
            "publica con "
            "pesos abiertos.",
            "V4",
        ),
        (  # "a new language model" with no name and no "own"
            "de",
            "Aleph Alpha stellt kompaktes Modell für Behörden vor",
            "Das Heidelberger KI-Unternehmen Aleph Alpha hat ein neues Sprachmodell vorgestellt, das auf "
            "die "
            "Verwaltung zugeschnitten ist. Es wurde mit Gesetzestexten trainiert.",
            None,
        ),
    ],
)
def test_launches_of_new_models(lang: str, title: str, text: str, model: str | None) -> None:
    c = _classify(title, text, lang)
    assert "inhouse_model" in c.labels, c.scores
    if model:
        assert model in {r.model for r in c.relations if r.label == "inhouse_model"}, c.relations


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "es",
            "Renault presenta el nuevo Clio con asistente de inteligencia artificial",
            "Renault ha presentado el nuevo Clio, un modelo que incorpora un asistente de inteligencia "
            "artificial. El modelo llegará a los concesionarios en primavera.",
        ),
        (
            "de",
            "Autobauer präsentiert neues Modell",
            "Der Autobauer Volkswagen hat in Wolfsburg ein neues Modell vorgestellt, den ID.Polo. Das "
            "Fahrzeug "
            "hat einen Sprachassistenten mit künstlicher Intelligenz an Bord.",
        ),
        (
            "en",
            "Nvidia unveils Rubin chips",
            "Nvidia has unveiled Rubin, its next generation of AI chips, which the company says trains "
            "large "
            "language models three times faster. The chips will ship next year to cloud providers.",
        ),
        (
            "en",
            "The best AI models of the year, ranked",
            "Our reviewers tested the latest models from OpenAI, Google, Anthropic and Meta. Google "
            "released "
            "Gemini 3 in November; Anthropic launched Claude 5 a month later. In our tests, Claude 5 "
            "scored "
            "highest on coding.",
        ),
    ],
)
def test_launches_that_are_not_inhouse_models(lang: str, title: str, text: str) -> None:
    c = _classify(title, text, lang)
    assert "inhouse_model" not in c.labels, (c.scores, c.evidence)


# --- background and contrast


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (  # one late background sentence about an investment
            "en",
            "Amazon readies Nova 3 as it seeks to stand on its own",
            "Amazon is preparing to release the third generation of its Nova models. The company's AGI "
            "team has "
            "been training the system for a year on Trainium chips. The model will power the Alexa "
            "assistant. "
            "Amazon has invested $8bn in Anthropic and relies on its Claude models, but executives want a "
            "first-party alternative. Nova models are already used internally.",
        ),
        (  # a contrast
            "en",
            "Contoso Bank builds its own language model",
            "Contoso Bank has trained its own large language model on customer letters, the lender said. "
            "Staff "
            "use it to draft replies. Unlike rival Fabrikam, which signed a deal with OpenAI last year, "
            "Contoso "
            "wants to keep its data in-house.",
        ),
        (
            "fr",
            "La Poste dévoile son propre modèle de langage",
            "Le groupe La Poste a présenté son propre modèle de langage, entraîné sur ses données "
            "internes. Le "
            "modèle servira aux conseillers. Contrairement à la SNCF, qui a choisi les modèles de "
            "Mistral AI, La "
            "Poste a tout conçu en interne.",
        ),
        (
            "es",
            "Banco Sabadell desarrolla su propio modelo de lenguaje",
            "Banco Sabadell ha desarrollado un modelo de lenguaje propio, entrenado con datos internos. Lo "
            "utilizan 4.000 empleados. La apuesta por un desarrollo propio contrasta con la de BBVA, que "
            "ha "
            "optado por desplegar las herramientas de OpenAI entre su plantilla.",
        ),
    ],
)
def test_background_and_contrast_mentions_are_not_the_story(lang: str, title: str, text: str) -> None:
    c = _classify(title, text, lang)
    assert c.labels == ("inhouse_model",), (c.scores, c.evidence)


def test_the_same_deal_in_the_lead_is_the_story() -> None:
    c = _classify(
        "Amazon deepens its bet on Anthropic",
        "Amazon has invested a further $4bn in Anthropic, which will train its models on Amazon's Trainium "
        "chips. The two companies also extended their cloud agreement.",
        "en",
    )
    assert "ai_partnership" in c.labels, c.scores
