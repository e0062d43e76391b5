"""Story features: what articles about one event share across outlets, wording and languages (pure).

An article is reduced to language-independent evidence: named entities (capitalised names not at
sentence start, acronyms, CamelCase, model names with digits such as GPT-4o or MAI-1), normalised
numbers ("10 milliards de dollars" and "$10 billion" are both 1e+10; "3,75 %" and "3.75%" are both
3.75%) and title tokens. `story_similarity` compares two such summaries; `story_keys` gives the
blocking keys a store indexes so that a new article finds its candidate stories with one indexed
lookup. See docs/dedupe.md for the rules and the measured quality.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Any, NamedTuple

FEATURES_VERSION = 1

# --- stoplists -----------------------------------------------------------------------------------

_DAYS_MONTHS = """
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december lundi mardi mercredi jeudi vendredi samedi dimanche janvier fevrier mars
avril mai juin juillet aout septembre octobre novembre decembre montag dienstag mittwoch donnerstag freitag
samstag sonntag januar februar marz juni juli oktober dezember lunes martes miercoles jueves viernes sabado
domingo enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre lunedi
martedi mercoledi giovedi venerdi sabato domenica gennaio febbraio aprile maggio giugno luglio settembre
ottobre dicembre segunda terca quarta quinta sexta janeiro fevereiro marco maio junho julho setembro outubro
novembro dezembro
"""
# Capitalised at a sentence start, in titles, or as common words that are not names.
_FUNCTION_WORDS = """
the a an this that these those it its he she we they i you his her their our my in on at for with by from of
to as but and or if when while after before under over about according during since until into than then
there here what which who whom why how all also only more most some many much other such one two three
yes no not now so still yet just even because though although however meanwhile instead last next first
mr mrs ms dr sir president chief ceo cfo cto chairman minister prime governor judge director founder
le la les l un une des du de d ce cet cette ces il elle ils elles on nous vous je tu son sa ses leur leurs
selon pour avec dans sur par mais et ou si quand apres avant depuis lors entre contre chez sans sous vers
aussi ainsi alors deja encore enfin puis donc car comme tout tous toute toutes m mme mm pdg monsieur madame
au aux en y ne pas plus moins tres bien c qu que qui quoi dont ou ni
der die das den dem des ein eine einer eines einem einen er es wir ihr im am an auf aus bei mit nach seit
von vor zu zum zur fur uber und oder aber wenn wie laut auch dazu damit bislang zudem demnach doch noch nun
so schon nur nicht kein keine sein seine ihre ihren dieser diese dieses jeder jede jedes man herr frau chef
als um bis durch gegen ohne beim vom ins ab ob dass weil da dort hier heute gestern morgen jetzt
el los las lo unos unas del al en con por para segun pero y o si cuando tras este esta estos estas ese esa
su sus nuestro como mas muy tambien ya hoy ayer sin sobre entre hasta desde donde
il lo gli i uno della dello dei degli delle nel nella nei negli nelle sul sulla con per su secondo ma e se
dopo questo questa questi queste quello quella anche come piu gia oggi ieri tra fra dal dalla dai
o os as um uma do da dos das no na nos nas em com por para segundo mas ou se quando apos este esta estes
neste nesta isso isto ele ela eles elas seu sua seus suas tambem ja hoje ontem pelo pela pelos pelas ao aos
"""
# Acronyms and words too common in the news to tell stories apart, plus nationalities.
_GENERIC = """
ai ia ki ceo pdg us usa u.s eu ue uk api gpu gpus cpu pc ipo etf cfo cto coo vp hr it tv pr ok pm am faq
llm llms ia ceo inc co corp corporation ltd llc plc ag sa spa gmbh se nv bv group groupe gruppe grupo gruppo
company compagnie unternehmen empresa azienda companhia news press report reports update breaking live
american british chinese french german european spanish italian japanese dutch canadian indian korean
brazilian swiss austrian israeli saudi emirati russian ukrainian african asian western eastern
americain americaine francais francaise allemand allemande europeen europeenne chinois chinoise
amerikanische amerikanischen franzosische franzosischen deutsche deutschen europaische europaischen
chinesische chinesischen estadounidense frances francesa aleman alemana europeo europea chino china
americano americana francese tedesco tedesca europeo europea cinese americano americana alemao alema
frances francesa chines chinesa europeu europeia
"""
# Frequent capitalised German common nouns of news text (German capitalises every noun).
_GERMAN_NOUNS = """
milliarde milliarden million millionen prozent prozentpunkte euro dollar jahr jahre jahren jahres monat
monate monaten woche wochen tag tage tagen zeit ende anfang beginn mitte unternehmen konzern konzerns firma
firmen start-up startup gruppe sparte tochter chef chefin konzernchef vorstand vorstandschef aufsichtsrat
mitarbeiter beschaftigte kunden kunde nutzer anleger investor investoren aktie aktien aktionar anteil anteile
anteilseigner beteiligung markt markte umsatz gewinn verlust preis preise kosten geld finanzierung
finanzierungsrunde runde bewertung milliardenbewertung deal vertrag vereinbarung partnerschaft partner
zusammenarbeit kooperation angebot nachfrage wachstum entwicklung entwickler forschung technik technologie
modell modelle modellen sprachmodell sprachmodelle ki-modell ki-modelle daten rechenzentrum rechenzentren
rechenkapazitat kapazitat chip chips grafikprozessoren software plattform dienst dienste cloud netz internet
suchmaschine browser chatbot chatbots assistent system systeme version versionen generation zugang zugriff
regierung minister ministerin bundesregierung behorden behorde gericht klage streit kritik kritiker
beobachter experten analysten fachleute volkswirte okonomen sprecher sprecherin bericht berichten angaben
informationen mitteilung schritt ziel zukunft welt land lander stadt region staat staaten usa europa
frage fragen antwort antworten problem probleme grund grunde fall falle teil rolle bedeutung zahl zahlen
hintergrund vergangenheit gegenwart richtung seite weg hand blick rund prozentpunkten leitzins leitzinsen
zinsen inflation notenbank zentralbank bank banken sparer kreditnehmer verbraucher menschen leute
"""


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


_STOP = _words(_DAYS_MONTHS) | _words(_FUNCTION_WORDS) | _words(_GENERIC)
_GERMAN_STOP = _words(_GERMAN_NOUNS)
# Endings of German common nouns (and of the role nouns put before names: "Konzernchef Satya Nadella").
_GERMAN_NOUN_SUFFIXES = (
    "ung",
    "ungen",
    "heit",
    "heiten",
    "keit",
    "keiten",
    "schaft",
    "schaften",
    "tat",
    "taten",
    "ionen",
    "ismus",
    "nisse",
    "chen",
    "lein",
    "tum",
    "chef",
    "chefin",
    "konzern",
    "gruppe",
    "tochter",
    "sparte",
    "portal",
    "dienst",
    "plattform",
    "modell",
    "modelle",
    "partner",
    "handler",
    "hersteller",
    "entwickler",
    "anbieter",
    "betreiber",
    "investor",
    "investoren",
    "fonds",
    "bericht",
    "zentrum",
    "markt",
    "geschaft",
    "sprecher",
    "sprecherin",
    "kunden",
    "nutzer",
    "mitarbeiter",
    "netz",
    "netzwerk",
    "system",
    "systeme",
    "technik",
    "technologie",
    "software",
    "chips",
    "prozessoren",
    "grunder",
    "grunderin",
    "konferenz",
    "gesetz",
    "verfahren",
    "programm",
    "projekt",
    "minister",
    "ministerin",
    "prasident",
    "prasidentin",
)
_GERMAN_DETERMINERS = _words(
    "der die das den dem des ein eine einer eines einem einen kein keine keinen seine seiner seinen "
    "ihre ihrer ihren dieser diese dieses diesem diesen jeder jede jedes neue neuen neuer zum zur vom beim "
    "im am ins"
)
# Language-specific acronyms of the same institution, to one form.
_ALIASES = {
    "ezb": "ecb",
    "bce": "ecb",
    "fmi": "imf",
    "iwf": "imf",
    "otan": "nato",
    "onu": "un",
    "uno": "un",
    "oms": "who",
    "eeuu": "usa",
    "eua": "usa",
    "ue": "eu",
    "bns": "snb",
    "bdf": "banque de france",
}
_NAME_SHAPE = re.compile(r"^[^\W\d_][\w.&+]*$")
_ELISION = re.compile(r"^(?:l|d|qu|j|n|s|c|m|t|dell|all|dall|nell|sull|un|quell|nell|coll)['’](?=\w)", re.I)
_POSSESSIVE = re.compile(r"['’]s?$")
_SENTENCE_END = re.compile(r"[.!?…:;]['\"”’»)\]]*$")
_OPENERS = "\"'“‘«„([{¿¡—–-"
_CLOSERS = "\"'”’»)]},.;:!?…—–-"

# --- numbers ---------------------------------------------------------------------------------------

_NUMBER_WORDS: dict[str, float] = {}
for _lang_words in (
    "a=1 one=1 two=2 three=3 four=4 five=5 six=6 seven=7 eight=8 nine=9 ten=10 eleven=11 twelve=12 "
    "fifteen=15 twenty=20 thirty=30 forty=40 fifty=50 hundred=100",
    "un=1 une=1 deux=2 trois=3 quatre=4 cinq=5 six=6 sept=7 huit=8 neuf=9 dix=10 onze=11 douze=12 "
    "quinze=15 vingt=20 trente=30 quarante=40 cinquante=50 cent=100",
    "ein=1 eine=1 einer=1 einem=1 zwei=2 drei=3 vier=4 funf=5 sechs=6 sieben=7 acht=8 neun=9 zehn=10 elf=11 "
    "zwolf=12 funfzehn=15 zwanzig=20 dreissig=30 vierzig=40 funfzig=50 hundert=100",
    "uno=1 una=1 dos=2 tres=3 cuatro=4 cinco=5 seis=6 siete=7 ocho=8 nueve=9 diez=10 once=11 doce=12 "
    "quince=15 veinte=20 treinta=30 cuarenta=40 cincuenta=50 cien=100",
    "due=2 tre=3 quattro=4 cinque=5 sei=6 sette=7 otto=8 nove=9 dieci=10 undici=11 dodici=12 quindici=15 "
    "venti=20 trenta=30 quaranta=40 cinquanta=50 cento=100",
    "um=1 uma=1 dois=2 duas=2 tres=3 quatro=4 cinco=5 seis=6 sete=7 oito=8 nove=9 dez=10 onze=11 doze=12 "
    "quinze=15 vinte=20 trinta=30 quarenta=40 cinquenta=50 cem=100",
):
    for _pair in _lang_words.split():
        _w, _v = _pair.split("=")
        _NUMBER_WORDS[_w] = float(_v)

# (regex, multiplier); "billion" depends on the language and is handled apart. Longest forms first.
_SCALES: list[tuple[str, float]] = [
    (r"mil\s+millones|mil\s+milh[õo]es", 1e9),
    (r"trillions?|trilh[õo]es|trilh[ãa]o|billones|bill[óo]n|billionen|bilioni|bilione|tn", 1e12),
    (r"milliards?|milliarden|milliarde|mrd\.?|mds?|miliardi|miliardo|mld|bilh[õo]es|bilh[ãa]o|bn|bln", 1e9),
    (r"billions?|billion", -1.0),
    (r"millions?|millionen|mio\.?|millones|mill[óo]n|milioni|milione|mln|milh[õo]es|milh[ãa]o|mn", 1e6),
    (r"thousands?|tausend|mille|mila|mil", 1e3),
]
_ATTACHED = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "t": 1e12, "tn": 1e12}
_LONG_BILLION = frozenset({"fr", "de", "es", "it", "nl", "pl"})  # where "billion" means 10**12
_CURRENCY = (
    r"dollars?|d[óo]lares|dollari|dollaro|us-dollar|euros?|reais|real|pounds?"
    r"|livres?|sterling|yuan|yen|francs?"
)
_PERCENT = r"%|per\s?cent|percent|pour\s?cent|prozent|por\s?ciento|per\s?cento|por\s?cento"
_UNITS = {"gw": r"gigawatts?|gigavatios?|gw", "param": r"param[eè]t(?:er|re|ro|ri|ros)s?|par[âa]metros"}
_NUM_CORE = r"\d{1,3}(?:[ .,']\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"


def _trie_pattern(words: list[str]) -> str:
    """An alternation of `words` as a prefix tree ("c(?:ent|inq)"): the regex engine tries a handful of
    letters at each word start instead of every word."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and "" not in node else f"(?:{'|'.join(branches)})"
        return f"{body}?" if "" in node else body

    return emit(tree)


# A number word is matched whole (a non-word character must follow), so at most one word fits at a
# place and the order of the alternation does not matter: a prefix tree matches exactly like a list.
_NUMWORD_RE = _trie_pattern(list(_NUMBER_WORDS))
_SCALE_RE = "|".join(f"(?:{pattern})" for pattern, _ in _SCALES)
_SCALE_PATTERNS = [(re.compile(pattern), mult) for pattern, mult in _SCALES]
_GIGAWATTS = re.compile(_UNITS["gw"], re.I)
_NUMBER_RE = re.compile(
    rf"""
    (?<![\w.,\-/])
    (?P<cur>us\$|r\$|a\$|c\$|\$|€|£|¥|usd\s?|eur\s?)?
    (?:(?P<num>{_NUM_CORE})(?P<att>k|mn|m|bn|b|tn|t)?|(?P<word>{_NUMWORD_RE}))
    (?![\w])(?:-(?=[a-z]))?
    (?:\s?(?P<scale>{_SCALE_RE})(?![\w]))?
    (?:\s?(?:de\s|d['’]|di\s|of\s)?(?P<cur2>{_CURRENCY}|\$|€)(?![\w]))?
    (?:\s?(?P<pct>{_PERCENT})(?![\w]))?
    (?:\s?(?:de\s|d['’]|di\s)?(?P<unit>{_UNITS["gw"]}|{_UNITS["param"]})(?![\w]))?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _fold(text: str) -> str:
    """Casefold and strip accents: the form every key is compared in."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def _parse_decimal(raw: str, lang: str | None) -> float | None:
    s = raw.replace(" ", "").replace("'", "")
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if dec == "," else ",", "").replace(dec, ".")
    elif "," in s:
        groups = s.split(",")
        thousands = all(len(g) == 3 for g in groups[1:]) and (lang in (None, "en") or len(groups) > 2)
        s = s.replace(",", "") if thousands else s.replace(",", ".")
    elif "." in s:
        groups = s.split(".")
        thousands = all(len(g) == 3 for g in groups[1:]) and (lang not in (None, "en") or len(groups) > 2)
        s = s.replace(".", "") if thousands else s
    try:
        return float(s)
    except ValueError:
        return None


def _scale_of(word: str, lang: str | None) -> float:
    low = _fold(word)
    for pattern, mult in _SCALE_PATTERNS:
        if pattern.fullmatch(low):
            if mult < 0:
                return 1e12 if lang in _LONG_BILLION else 1e9
            return mult
    return 1.0


def _large_count(value: float, num: str | None) -> bool:
    """A bare number worth keeping: 1,000 and up, and not a year."""
    year = value.is_integer() and 1900 <= value <= 2100 and bool(num) and str(num).isdigit()
    return value >= 1000 and not year


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def extract_numbers(text: str, lang: str | None = None) -> frozenset[str]:
    """Amounts, percentages, gigawatts and large counts as language-independent keys.

    "$10 billion", "10 milliards de dollars", "10.000 millones de dólares" -> "1e+10"; "3,75 %" and
    "3.75 Prozent" -> "3.75%"; "10 GW", "zehn Gigawatt" -> "10gw". Bare numbers count only from 1,000 up
    and never as years (1900-2100); small numbers need a scale, a currency, a percent sign or a unit.
    """
    return _extract_numbers_nfkc(unicodedata.normalize("NFKC", text), lang)


def _extract_numbers_nfkc(text: str, lang: str | None) -> frozenset[str]:
    """`extract_numbers` of a text already in NFKC form."""
    out: set[str] = set()
    for m in _NUMBER_RE.finditer(text):
        word, num = m.group("word"), m.group("num")
        if word is not None:
            folded = _fold(word)
            # the regex matches case-insensitively, so a Turkish dotless ı ("sıx") can match "six" and
            # fold to a word that is no number word
            value: float | None = _NUMBER_WORDS.get(folded)
            if not (m.group("scale") or m.group("pct") or m.group("unit")):
                continue  # "one", "un": only with a scale, a percent sign or a unit
            if folded == "a" and not m.group("scale"):
                continue
        else:
            value = _parse_decimal(num, lang)
        if value is None:
            continue
        att = (m.group("att") or "").lower()
        scale = m.group("scale")
        has_cur = bool(m.group("cur") or m.group("cur2"))
        if att and not (has_cur or scale or att in ("b", "bn", "tn") or m.group("unit")):
            continue  # "5m" of distance, "3t" of weight: not money
        if att:
            value *= _ATTACHED[att]
        if scale:
            value *= _scale_of(scale, lang)
        if m.group("pct"):
            out.add(_fmt(value) + "%")
        elif m.group("unit") and _GIGAWATTS.fullmatch(m.group("unit")):
            out.add(_fmt(value) + "gw")
        elif att or scale or has_cur or _large_count(value, num):
            out.add(_fmt(value))
    return frozenset(out)


# --- entities --------------------------------------------------------------------------------------

_QUOTE_OPENERS = '"“«„¿¡—–'  # an opening quote or dialogue dash starts a sentence
_STRONG, _ACRONYM, _PLAIN = 0, 1, 2  # kinds of entity pieces (see `_Word.pieces`)
_VERSION = re.compile(r"\d{1,2}(?:\.\d{1,2})?[a-z]?")


class _Word(NamedTuple):
    """What a word's core says on its own, whatever its neighbours (computed once per distinct core)."""

    plain: bool  # an ordinary lowercase word: never part of a name
    pieces: tuple[tuple[int, str], ...]  # (kind, key) to count; _PLAIN keys go by sentence position
    name_word: bool  # capitalised, not a stopword, no digit: may be part of a multi-word name
    germanic: bool  # a name word that looks like a German common noun ("Konzernchef")
    version_head: bool  # a name that a version number may follow ("Llama 3.1")
    determiner: bool  # German "der", "eine", ...: the next word is after a determiner


class _Token(NamedTuple):
    """One whitespace-separated token on its own: its core and the punctuation around it."""

    core: str  # the word without surrounding punctuation, elision or possessive
    word: _Word | None  # None when only punctuation is left
    quote_start: bool  # opens with a quote or dash: starts a sentence
    opens: bool  # punctuation before the word
    closes: bool  # punctuation after the word
    ends_sentence: bool  # the next token starts a sentence


_PLAIN_WORD = _Word(True, (), False, False, False, False)
_PLAIN_DETERMINER = _Word(True, (), False, False, False, True)

# (core, word, starts_sentence, break_before, break_after, after_determiner): one word of the text in
# its place. A break (punctuation) before or after a word ends a name run there.
_Chunk = tuple[str, _Word, bool, bool, bool, bool]


@lru_cache(maxsize=1 << 13)
def _token(raw: str) -> _Token:
    """Split a token into its core and the punctuation around it (cached: tokens repeat)."""
    opens = raw[0] in _OPENERS
    closes = raw[-1] in _CLOSERS
    core = raw.strip(_OPENERS).rstrip(_CLOSERS)
    if "'" in core or "’" in core:  # elision, possessive
        core = _ELISION.sub("", core)
        core = _POSSESSIVE.sub("", core) if not core.isupper() else core.rstrip("'’")
    ends_sentence = closes and bool(_SENTENCE_END.search(raw))
    word = _word(core) if core else None
    return _Token(core, word, opens and raw[0] in _QUOTE_OPENERS, opens, closes, ends_sentence)


@lru_cache(maxsize=1 << 13)
def _word(core: str) -> _Word:
    """Classify a word's core once: plain word, entity pieces, name word, German noun, version head."""
    determiner = core.lower() in _GERMAN_DETERMINERS
    if core.isalpha() and core.islower():  # the common case: an ordinary word
        return _PLAIN_DETERMINER if determiner else _PLAIN_WORD
    head = normalize_entity(core)
    strong = _is_strong(core)
    name_word = _is_capitalised(core) and head not in _STOP and not _has_digit(core) and len(head) > 1
    germanic = name_word and _germanic_common_noun(head)
    return _Word(False, _entity_pieces(core, strong), name_word, germanic, name_word or strong, determiner)


def _chunks(text: str, german: bool = False) -> tuple[list[_Chunk], list[int]]:
    """The words of the text with their sentence and punctuation context, line by line, and the
    positions of those that are not plain lowercase words (the only ones that can name something)."""
    chunks: list[_Chunk] = []
    marked: list[int] = []
    after_det = False  # German: the previous word is a determiner
    for line in text.splitlines():
        new_sentence = True
        for raw in line.split():
            if raw.isalpha() and raw.islower():  # the common case: an ordinary word, no punctuation
                # (a chunk's word is never asked whether it is a determiner: `after_det` carries that)
                chunks.append((raw, _PLAIN_WORD, new_sentence, new_sentence, False, after_det))
                after_det = german and raw in _GERMAN_DETERMINERS
                new_sentence = False
                continue
            core, word, quote_start, opens, closes, ends_sentence = _token(raw)
            if word is not None:
                if not word.plain:
                    marked.append(len(chunks))
                starts = new_sentence or quote_start
                chunks.append((core, word, starts, starts or opens, closes, after_det))
                after_det = german and word.determiner
            new_sentence = ends_sentence
    return chunks, marked


def _has_digit(s: str) -> bool:
    return not s.isalpha() and any(c.isdigit() for c in s)


def _is_strong(core: str) -> bool:
    """Model names with digits (GPT-4o, MAI-1, H100), CamelCase (OpenAI, xAI, iPhone): names anywhere."""
    if not core[0].isalpha():
        return False  # "10th", "3,5": numbers, ordinals, units
    if _has_digit(core):
        return True  # a letter first, then a digit
    if "-" in core:
        return False
    letters = core if core.isalpha() else "".join(c for c in core if c.isalpha())
    if letters[1:].islower():
        return False  # "Microsoft": no capital after the first letter (the common case)
    inner_upper = any(c.isupper() for c in letters[1:])
    return inner_upper and any(c.islower() for c in letters) and not _is_acronym(core)


def _is_acronym(core: str) -> bool:
    """ECB, ASML, TPUs (a plural acronym)."""
    letters = core if core.isalpha() else "".join(c for c in core if c.isalpha())
    if len(letters) >= 3 and letters[-1] == "s":
        letters = letters[:-1]
    if len(letters) < 2 or letters[1:].islower():
        return False  # "Microsoft": a lowercase letter (the common case)
    return all(c.isupper() for c in letters) and not _has_digit(core)


def _acronym_key(piece: str) -> str:
    key = normalize_entity(piece)
    if piece.endswith("s") and not piece.isupper():
        key = key[:-1]
    return _ALIASES.get(key, key)


def _is_capitalised(core: str) -> bool:
    return core[0].isupper()


_SPACES = re.compile(r"\s+")
_SPACE_IN_VERSION = re.compile(r"(?<=[a-z]) (?=\d)|(?<=\d) (?=[a-z])")


@lru_cache(maxsize=65536)
def normalize_entity(name: str) -> str:
    """The comparison form of a name: folded, hyphens and apostrophes dropped, digits glued to letters."""
    s = _fold(name).replace("-", "").replace("'", "").replace("’", "").replace("‐", "")
    if " " not in s and s.isprintable():
        return s  # no whitespace at all (the common case): nothing to collapse or glue
    s = _SPACES.sub(" ", s).strip()
    return _SPACE_IN_VERSION.sub("", s)


def _germanic_common_noun(key: str) -> bool:
    return key in _GERMAN_STOP or (len(key) > 5 and key.endswith(_GERMAN_NOUN_SUFFIXES))


@dataclass(frozen=True)
class _Entities:
    strong: frozenset[str]  # model names with digits, CamelCase
    names: frozenset[str]  # multi-word names
    counts: Counter[str]  # every entity (all kinds) with its number of mentions


@dataclass
class _Tally:
    strong: Counter[str] = field(default_factory=Counter)
    acronyms: Counter[str] = field(default_factory=Counter)
    plain_mid: Counter[str] = field(default_factory=Counter)  # capitalised inside a sentence: a name
    plain_start: Counter[str] = field(default_factory=Counter)  # capitalised at a sentence start: maybe
    plain_det: Counter[str] = field(default_factory=Counter)  # German, after "der", "eine": maybe a noun
    runs: list[list[tuple[str, bool, bool]]] = field(default_factory=list)  # (word, after det, starts)


def _split_hyphenated(core: str) -> list[str]:
    """'Nvidia-Grafikprozessoren' -> both parts; names with digits ('GPT-4o') stay whole."""
    if "-" not in core or _has_digit(core):
        return [core]
    return [p for p in core.split("-") if p]


def _entity_pieces(core: str, strong: bool) -> tuple[tuple[int, str], ...]:
    """The entities a word names, in counting order: the whole word when strong (`strong` is
    `_is_strong(core)`), then each part of a hyphenated word as a strong name, an acronym or a
    capitalised (_PLAIN) word."""
    pieces: list[tuple[int, str]] = []
    if strong:
        pieces.append((_STRONG, normalize_entity(core)))
    for piece in _split_hyphenated(core):
        key = normalize_entity(piece)
        if not _NAME_SHAPE.match(key) or key in _STOP or len(key) < 2:
            continue
        if strong if piece is core else _is_strong(piece):
            if piece is not core:
                pieces.append((_STRONG, key))
        elif _is_acronym(piece):
            akey = _acronym_key(piece)
            if akey not in _STOP:
                pieces.append((_ACRONYM, akey))
        elif _is_capitalised(piece) and not _has_digit(piece):
            pieces.append((_PLAIN, key))
    return tuple(pieces)


def _count_pieces(pieces: tuple[tuple[int, str], ...], starts: bool, after_det: bool, tally: _Tally) -> None:
    """Count a word's entity pieces; a capitalised word goes by where it stands in its sentence."""
    for kind, key in pieces:
        if kind == _STRONG:
            tally.strong[key] += 1
        elif kind == _ACRONYM:
            tally.acronyms[key] += 1
        elif starts:
            tally.plain_start[key] += 1
        elif after_det:
            tally.plain_det[key] += 1
        else:
            tally.plain_mid[key] += 1


def _is_scale_word(word: str) -> bool:
    """'milliards', 'billion', 'Mio.': a word that scales the number before it."""
    low = _fold(word)
    return any(pattern.fullmatch(low) for pattern, _ in _SCALE_PATTERNS)


def _version_name(chunks: list[_Chunk], i: int) -> str | None:
    """'Llama 3.1', 'Gemini 2.0', 'iOS 18': a name with the version number that follows it."""
    if i + 1 >= len(chunks):
        return None
    core, _, _, _, break_after, _ = chunks[i]
    nxt, _, _, break_before, _, _ = chunks[i + 1]
    if break_after or break_before or not _VERSION.fullmatch(nxt):
        return None
    if i + 2 < len(chunks) and _is_scale_word(chunks[i + 2][0]):
        return None  # "Microsoft 10 milliards": an amount, not a version
    return normalize_entity(f"{core}{nxt}")


def _tally_chunks(chunks: list[_Chunk], marked: list[int], lang: str | None) -> _Tally:
    """Count the entities of the marked (not plain) chunks and collect runs of name words; a plain
    word between two marked chunks ends a run."""
    german = lang == "de"
    tally = _Tally()
    run: list[tuple[str, bool, bool]] = []

    def close_run() -> None:
        if len(run) >= 2:
            tally.runs.append(list(run))
        run.clear()

    previous = -1
    for i in marked:
        core, word, starts, break_before, break_after, after_det = chunks[i]
        if i > previous + 1:  # plain words in between
            close_run()
        previous = i
        _count_pieces(word.pieces, starts, after_det, tally)
        name_word = word.name_word
        german_noun = german and word.germanic
        if break_before or not name_word or german_noun:
            close_run()
        if name_word and not german_noun:
            run.append((core, after_det, starts))
        if break_after:
            close_run()
        if word.version_head:
            version = _version_name(chunks, i)
            if version:
                tally.strong[version] += 1
    close_run()
    return tally


def _unconfirmed_start(word: tuple[str, bool, bool], tally: _Tally) -> bool:
    """A word at a sentence start never seen capitalised inside a sentence."""
    return word[2] and normalize_entity(word[0]) not in tally.plain_mid


def _extract_entities(text: str, lang: str | None = None) -> _Entities:
    german = lang == "de"
    tally = _tally_chunks(*_chunks(text, german), lang)
    names: Counter[str] = Counter()
    for words in tally.runs:
        # German: "der Chipkonzern Nvidia" and "Weitere Schritte" at a sentence start are not names
        while german and words and (words[0][1] or _unconfirmed_start(words[0], tally)):
            words.pop(0)
        if len(words) >= 2:
            names[normalize_entity(" ".join(word for word, _, _ in words))] += 1
    plain: Counter[str] = Counter()
    for key, n in tally.plain_mid.items():  # a sentence-initial word counts once seen inside a sentence
        if not (german and _germanic_common_noun(key)):
            plain[key] += n + tally.plain_start.get(key, 0) + tally.plain_det.get(key, 0)
    if german:  # genitive: Microsofts -> microsoft
        for key in list(plain):
            if key.endswith("s") and (key[:-1] in plain or key[:-1] in tally.strong):
                plain[key[:-1]] += plain.pop(key)
    counts: Counter[str] = Counter()
    for c in (tally.strong, names, tally.acronyms, plain):
        counts.update(c)
    return _Entities(frozenset(tally.strong), frozenset(names), counts)


# --- features --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryFeatures:
    """What an article offers for story matching. All strings are folded, comparable across languages."""

    entities: frozenset[str]  # every name found (union of the kinds below)
    numbers: frozenset[str]  # normalised amounts, percentages, capacities
    title_tokens: frozenset[str]  # title words (folded, 6-letter stems), stopwords removed
    strong: frozenset[str] = frozenset()  # model names with digits, CamelCase: distinctive
    names: frozenset[str] = frozenset()  # multi-word names ("mustafa suleyman", "vera rubin")
    salient: frozenset[str] = frozenset()  # entities of the title or named at least twice
    lang: str | None = None


def _title_words(title: str) -> list[str]:
    """The title's words in comparison form, stopwords and short words removed."""
    out: list[str] = []
    for raw in title.split():
        core = _POSSESSIVE.sub("", _ELISION.sub("", raw.strip(_OPENERS).rstrip(_CLOSERS)))
        key = normalize_entity(core).strip("$€£¥") if core else ""
        if key and key not in _STOP and (len(key) >= 3 or _has_digit(key)):
            out.append(key)
    return out


def _title_tokens(title: str) -> frozenset[str]:
    """Title words cut to 6 letters, a crude stem that also meets cognates (invest-, partne-)."""
    return frozenset(w if _has_digit(w) else w[:6] for w in _title_words(title))


def _sentence_case(title: str) -> bool:
    """True unless most longer words of the title are capitalised (English Title Case)."""
    words = [w for w in re.findall(r"[^\W\d_]{4,}", title) if _fold(w) not in _STOP]
    return not words or sum(w[0].isupper() for w in words) / len(words) < 0.6


def extract_story_features(title: str, text: str, lang: str | None = None) -> StoryFeatures:
    """Entities, numbers and title tokens of one article. `lang` (2 letters) sharpens number parsing
    ("1.500" is 1500 in German, 1.5 in English; "billion" is 10**12 in French) and German nouns."""
    lang = (lang or "").lower()[:2] or None
    title = unicodedata.normalize("NFKC", title or "")
    text = unicodedata.normalize("NFKC", text or "")
    body = _extract_entities(text, lang)
    head = _extract_entities(title, lang)
    title_keys = _title_tokens(title)
    # An English headline may capitalise every word: then trust only distinctive forms or names the body
    # confirms. A sentence-case headline (most languages) names things by capitalising them.
    known = body.counts.keys()
    trusted = head.counts.keys() if _sentence_case(title) else known
    title_entities = set(head.strong) | {k for k in head.counts if k in trusted}
    title_entities |= {w for w in _title_words(title) if w in known}
    entities = frozenset(known) | title_entities
    salient = frozenset(title_entities | {k for k, n in body.counts.items() if n >= 2})
    numbers = _extract_numbers_nfkc(text, lang) | _extract_numbers_nfkc(title, lang)
    return StoryFeatures(
        entities=entities,
        numbers=numbers,
        title_tokens=title_keys,
        strong=frozenset(body.strong | head.strong),
        names=frozenset(body.names | head.names),
        salient=salient,
        lang=lang,
    )


# --- similarity ------------------------------------------------------------------------------------


def _weight(key: str, f: StoryFeatures) -> float:
    if key in f.strong:
        return 3.0
    if key in f.names:
        return 2.0
    return 1.0


def _weighted_overlap(a: StoryFeatures, b: StoryFeatures) -> float:
    """Shared entities over both sides' entities, each weighted by `_weight` (a shared one by the larger
    of its two weights); counted with set operations: the same sums, without a call per entity."""
    shared = a.entities & b.entities
    if not shared:
        return 0.0
    wa = _total_weight(a.entities, a.strong, a.names)
    wb = _total_weight(b.entities, b.strong, b.names)
    ws = _total_weight(shared, a.strong | b.strong, a.names | b.names)
    return ws / math.sqrt(wa * wb)


def _total_weight(keys: frozenset[str], strong: frozenset[str], names: frozenset[str]) -> float:
    """sum(3 if k in strong else 2 if k in names else 1 for k in keys)."""
    in_strong = keys & strong
    return float(len(keys) + 2 * len(in_strong) + len((keys & names) - in_strong))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def _shared_evidence(a: StoryFeatures, b: StoryFeatures) -> float:
    """How much specific evidence the two share, in absolute terms (long articles share more names)."""
    total = 0.0
    for k in a.entities & b.entities:
        if k in a.strong or k in b.strong or k in a.names or k in b.names:
            total += 1.5
        else:
            total += 0.5
    total += 1.0 * len(a.numbers & b.numbers) + 0.5 * len(a.title_tokens & b.title_tokens)
    return total


def story_similarity(a: StoryFeatures, b: StoryFeatures) -> float:
    """How likely two articles report the same event, in [0, 1]. Symmetric; time is the caller's job.

    80% relative overlap (weighted entities, numbers, title tokens and salient entities, each
    normalised by the sizes of both sides) and 20% absolute shared evidence, which saturates
    (1 - exp(-evidence / 4)), so long articles that share many specific names are not diluted.
    """
    ent = _weighted_overlap(a, b)
    num = _overlap(a.numbers, b.numbers)
    title = _overlap(a.title_tokens, b.title_tokens)
    sal = _overlap(a.salient, b.salient)
    relative = min(1.0, 1.6 * (0.35 * ent + 0.25 * num + 0.2 * title + 0.2 * sal))
    absolute = 1.0 - math.exp(-_shared_evidence(a, b) / 4.0)
    return max(0.0, min(1.0, 0.8 * relative + 0.2 * absolute))


# --- blocking keys ---------------------------------------------------------------------------------


def _number_key(n: str) -> bool:
    """Percentages, capacities and amounts from 100,000 up: specific enough to block on alone."""
    if n.endswith(("%", "gw")):
        return True
    try:
        return float(n) >= 1e5
    except ValueError:
        return False


def story_keys(f: StoryFeatures, *, max_keys: int = 40) -> list[str]:
    """Blocking keys a store indexes: a new article's candidate stories are those sharing any key
    within the story window (one indexed lookup, no scan over history).

    `p:a|b`: pairs among the six most distinctive salient entities, so common names only match
    together with another; `e:x`: a model name, CamelCase or multi-word name alone; `n:x`: a
    percentage, capacity or amount of 100,000 or more. Salient keys come first; at most `max_keys`.
    """
    ranked = sorted(f.salient or f.entities, key=lambda k: (-_weight(k, f), k))[:6]
    pairs = [f"p:{x}|{y}" for x, y in combinations(sorted(ranked), 2)]
    distinctive = f.strong | f.names
    salient_names = sorted(f"e:{k}" for k in distinctive & f.salient)
    numbers = sorted(f"n:{n}" for n in f.numbers if _number_key(n))
    other_names = sorted(f"e:{k}" for k in distinctive - f.salient)
    keys: list[str] = []
    for key in [*pairs, *salient_names, *numbers, *other_names]:
        if key not in keys:
            keys.append(key)
    return sorted(keys[:max_keys])


# --- JSON ------------------------------------------------------------------------------------------


def features_to_json(f: StoryFeatures) -> str:
    """Compact, sorted, versioned JSON for a VARCHAR/JSON column."""
    data: dict[str, Any] = {
        "v": FEATURES_VERSION,
        "entities": sorted(f.entities),
        "numbers": sorted(f.numbers),
        "title_tokens": sorted(f.title_tokens),
        "strong": sorted(f.strong),
        "names": sorted(f.names),
        "salient": sorted(f.salient),
        "lang": f.lang,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def features_from_json(data: str) -> StoryFeatures:
    """The inverse of `features_to_json`; unknown keys are ignored, missing ones are empty."""
    raw = json.loads(data)
    if not isinstance(raw, dict):
        raise ValueError("story features must be a JSON object")

    def fs(name: str) -> frozenset[str]:
        value = raw.get(name) or []
        return frozenset(str(x) for x in value)

    lang = raw.get("lang")
    return StoryFeatures(
        entities=fs("entities"),
        numbers=fs("numbers"),
        title_tokens=fs("title_tokens"),
        strong=fs("strong"),
        names=fs("names"),
        salient=fs("salient"),
        lang=str(lang) if lang else None,
    )
