"""parse_feed on the 40 real feeds of the corpus, and on small hand-made feeds for the edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.feeds import parse_feed, unwrap_redirect

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _manifest(corpus: Path) -> list[dict[str, object]]:
    return list(json.loads((corpus / "feeds" / "MANIFEST.json").read_text(encoding="utf-8")))


def _feed(corpus: Path, name: str) -> bytes:
    return (corpus / "feeds" / name).read_bytes()


def test_every_corpus_feed_yields_entries_or_a_clear_error(corpus: Path) -> None:
    records = _manifest(corpus)
    assert len(records) == 40
    for record in records:
        name = str(record["file"])
        discovery = parse_feed(_feed(corpus, name), now=NOW)
        if record["items_or_entries"] == 0:
            assert discovery.entries == ()
            assert discovery.error and "\n" not in discovery.error, name
            continue
        assert discovery.error is None, (name, discovery.error)
        assert len(discovery.entries) >= 1, name
        for entry in discovery.entries:
            assert entry.url is None or entry.url.startswith(("http://", "https://")), (name, entry.url)
            assert entry.url or entry.summary, name
            for when in (entry.published_at, entry.updated_at):
                assert when is None or (when.tzinfo is not None and when.utcoffset() == UTC.utcoffset(when))


def test_entry_counts_match_the_manifest(corpus: Path) -> None:
    # Two feeds hold entries that carry nothing: dropped, and said so in the warning.
    dropped = {
        "pcmag.com-dvorak_en_rss2_illegally-nested.xml": 10,  # the nested empty <item />s
        "le-cercle-psy.scienceshumaines.com_fr_rss2_iso-8859-1_no-xml-decl.xml": 1,  # an empty <item>
    }
    for record in _manifest(corpus):
        name = str(record["file"])
        discovery = parse_feed(_feed(corpus, name), now=NOW)
        expected = int(str(record["items_or_entries"])) - dropped.get(name, 0)
        assert len(discovery.entries) == expected, name
        if name in dropped:
            assert discovery.warning and f"dropped {dropped[name]} entries" in discovery.warning


def test_truncated_reuters_feed_is_an_xml_error(corpus: Path) -> None:
    discovery = parse_feed(_feed(corpus, "reuters.com-mostread_en_rss2_invalid.xml"))
    assert discovery.entries == ()
    assert discovery.error == "XML error at line 19: no element found"
    assert discovery.title == "Reuters: Most Read Articles"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (
            "golem.de_de_rss2_iso-8859-1.xml",
            "Machine Learning: Von KI erstelltes Porträt für 432.500 US.Dollar versteigert",
        ),
        ("oren.ru_ru_rss2_windows-1251.xml", "В Бузулуке главные стройплощадки – детсад и Ледовый дворец"),
        ("liberal.gr_el_rss2_iso-8859-7.xml", "«Πορτραίτα καραντίνας» για έμπνευση από τη συλλογή Φέλιου"),
        ("jn.pt_pt_rss2_iso-8859-1.xml", "Mãe de utente é a nova presidente da Raríssimas"),
        (
            "noticias.uol.com.br_pt_rss_iso-8859-1_no-xml-decl.xml",
            "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno",
        ),
        (
            "le-cercle-psy.scienceshumaines.com_fr_rss2_iso-8859-1_no-xml-decl.xml",
            "Psychologue à domicile : de la clinique à l'état brut",
        ),
        (
            "reporterre.net_fr_rss2.xml",
            "Europe : vers un « affaiblissement historique » des normes écologiques ?",
        ),
    ],
)
def test_odd_encodings_decode_correctly(corpus: Path, name: str, title: str) -> None:
    titles = [
        " ".join((e.title or "").replace("\xa0", " ").split())
        for e in parse_feed(_feed(corpus, name)).entries
    ]
    assert title in titles


def test_http_content_type(corpus: Path) -> None:
    golem = _feed(corpus, "golem.de_de_rss2_iso-8859-1.xml")
    for content_type in (
        "text/xml",
        "application/rss+xml",
        "text/html",
        "application/xml; charset=ISO-8859-1",
    ):
        discovery = parse_feed(golem, content_type=content_type)
        assert discovery.warning is None and len(discovery.entries) == 40, content_type
    # an HTTP charset that the body contradicts: decoded by the declaration, and said
    wrong = parse_feed(golem, content_type="text/xml; charset=utf-8")
    assert "Porträt" in " ".join(e.title or "" for e in wrong.entries)
    assert wrong.warning and wrong.warning.startswith("encoding:")
    # no declaration, Latin-1 bytes, and the server says so: clean
    uol = _feed(corpus, "noticias.uol.com.br_pt_rss_iso-8859-1_no-xml-decl.xml")
    told = parse_feed(uol, content_type="application/rss+xml; charset=iso-8859-1")
    assert told.warning is None and "simulações" in (told.entries[0].title or "")


def test_latin1_without_declaration_is_decoded_with_a_warning(corpus: Path) -> None:
    discovery = parse_feed(_feed(corpus, "noticias.uol.com.br_pt_rss_iso-8859-1_no-xml-decl.xml"))
    assert len(discovery.entries) == 15
    assert discovery.warning and discovery.warning.startswith("encoding:")


def test_whitespace_before_the_xml_declaration_is_not_an_error(corpus: Path) -> None:
    for name in (
        "androidauthority.com_en_rss2_malformed.xml",
        "techcrunch.com_en_rss2_content-encoded_leading-newline.xml",
    ):
        discovery = parse_feed(_feed(corpus, name))
        assert discovery.error is None and discovery.warning is None, name
    tc = parse_feed(_feed(corpus, "techcrunch.com_en_rss2_content-encoded_leading-newline.xml"))
    first = tc.entries[0]
    assert first.title == "Angie’s List Sets Price Range IPO At $11 To $13 Per Share; Valued At Over $600M"
    # FeedBurner's origLink, not the feedproxy redirect
    assert (
        first.url
        == "http://techcrunch.com/2011/11/02/angies-list-prices-ipo-at-11-to-13-per-share-valued-at-over-600m/"
    )
    assert first.content_html and "<p>" in first.content_html
    assert first.author == "Leena Rao"
    assert first.published_at == datetime(2011, 11, 2, 17, 25, 27, tzinfo=UTC)


def test_google_alerts_links_are_unwrapped_and_titles_lose_their_markup(corpus: Path) -> None:
    discovery = parse_feed(_feed(corpus, "google.com-alerts_en_atom.xml"))
    assert len(discovery.entries) == 20
    first = discovery.entries[0]
    assert first.url == (
        "https://www.aglobalmarketresearch.com/report-offers-prediction-of-automotive-slack-market-by-top-key-"
        "players-like-haldex-meritor-bendix-mei-wabco-accuride-stemco-tbk-febi-aydinsan/"
    )
    assert first.title and first.title.startswith("Report offers Prediction of Automotive Slack Market")
    assert all("google.com" not in (e.url or "") for e in discovery.entries)
    assert all("<b>" not in (e.title or "") for e in discovery.entries)


def test_atom_inside_xhtml_and_relative_links(corpus: Path) -> None:
    avian = parse_feed(_feed(corpus, "tablix.org-avian_en_atom_wrapped-in-xhtml.xml"))
    assert len(avian.entries) == 10
    assert avian.entries[0].url == "http://www.tablix.org/~avian/blog/archives/2014/07/down_time/"
    # TPM links are relative: resolved against the URL we fetched from, else the feed's own link
    tpm = _feed(corpus, "talkingpointsmemo.com_en_atom.xml")
    path = "/livewire/hannity-announces-fox-hired-sebastian-gorka-national-security-strategist"
    assert parse_feed(tpm).entries[0].url == "http://talkingpointsmemo.com" + path
    fetched = parse_feed(tpm, base_url="https://talkingpointsmemo.com/feed/all")
    assert fetched.entries[0].url == "https://talkingpointsmemo.com" + path
    assert fetched.entries[0].content_html is not None
    assert fetched.entries[0].lang == "en"


def test_alternate_html_link_wins_over_an_enclosure(corpus: Path) -> None:
    entry = parse_feed(_feed(corpus, "dday.it_it_atom.xml")).entries[0]
    assert entry.url == (
        "https://www.dday.it/redazione/52184/alexa-ufficiale-parla-e-pensa-come-una-persona-e-sara-gratis-con-prime"
    )
    assert entry.author == "Roberto Pezzali"
    assert entry.lang == "it"


def test_entry_without_link_but_with_content_is_kept(corpus: Path) -> None:
    entry = parse_feed(_feed(corpus, "dival.es-personal_es_rss091_iso-8859-1.xml")).entries[0]
    assert entry.url is None
    assert entry.summary and entry.summary.startswith("Publicado el 14-05-2021")
    assert entry.lang == "es"


def test_languages_are_two_letters(corpus: Path) -> None:
    langs = {
        "nbcnewyork.com_en_rss2.xml": "en",  # en_US
        "ilmessaggero.it-mondo_it_rss2_no-xml-decl_mojibake.xml": "it",  # IT-it
        "aif.ru_ru_rss2.xml": "ru",  # ru-RU
        "news.orf.at_de_rss1-rdf.xml": "de",  # dc:language
    }
    for name, lang in langs.items():
        assert {e.lang for e in parse_feed(_feed(corpus, name)).entries} == {lang}, name


# --- hand-made feeds: the rules, one by one -----------------------------------------------------------


def _rss(items: str, channel_extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://example.org/</link>{channel_extra}{items}</channel></rss>"
    ).encode()


def test_unsafe_and_relative_links() -> None:
    body = _rss(
        "<item><title>a</title><link>/news/a-relative-story</link></item>"
        "<item><title>b</title><link>javascript:alert(1)</link></item>"
        "<item><title>c</title><link>data:text/html,hi</link><description>has text</description></item>"
    )
    entries = parse_feed(body, base_url="https://example.org/feed.xml").entries
    assert [e.url for e in entries] == ["https://example.org/news/a-relative-story", None]
    assert entries[1].summary == "has text"


def test_dates_far_future_and_before_1990_are_dropped() -> None:
    body = _rss(
        "<item><link>https://example.org/1</link><pubDate>Wed, 31 Dec 2025 10:00:00 +0200</pubDate></item>"
        "<item><link>https://example.org/2</link><pubDate>Tue, 06 Jan 2026 10:00:00 GMT</pubDate></item>"
        "<item><link>https://example.org/3</link><pubDate>Mon, 01 Jan 1979 10:00:00 GMT</pubDate></item>"
    )
    entries = parse_feed(body, now=NOW).entries
    assert entries[0].published_at == datetime(2025, 12, 31, 8, 0, tzinfo=UTC)
    assert entries[1].published_at is None  # five days ahead of NOW
    assert entries[2].published_at is None
    assert parse_feed(body).entries[1].published_at == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)  # no now: kept


def test_duplicates_keep_the_first_and_cap_warns() -> None:
    items = "".join(
        f"<item><guid>g{i % 5}</guid><link>https://example.org/s/{i}</link><title>n{i}</title></item>"
        for i in range(10)
    )
    discovery = parse_feed(_rss(items))
    assert [e.title for e in discovery.entries] == ["n0", "n1", "n2", "n3", "n4"]
    capped = parse_feed(_rss(items), max_entries=3)
    assert len(capped.entries) == 3
    assert capped.warning == "feed has 5 entries; kept the first 3"


def test_titles_and_summaries_are_plain_text() -> None:
    body = _rss(
        "<item><title>AT&amp;T &amp; &lt;b&gt;Apple&lt;/b&gt; sign a deal</title>"
        "<link>https://example.org/x</link>"
        "<description>&lt;p&gt;First&lt;/p&gt;&lt;p&gt;second &amp;amp; third&lt;/p&gt;"
        "&lt;script&gt;bad()&lt;/script&gt;"
        "</description></item>"
    )
    entry = parse_feed(body).entries[0]
    assert entry.title == "AT&T & Apple sign a deal"
    assert entry.summary == "First second & third"


def test_short_content_is_not_content_html() -> None:
    long_html = "<p>" + "word " * 200 + "</p>"
    body = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>T</title>"
        f"<item><link>https://example.org/long</link><content:encoded><![CDATA[{long_html}]]></content:encoded></item>"
        "<item><link>https://example.org/short</link><content:encoded><![CDATA[<p>teaser</p>]]></content:encoded></item>"
        "</channel></rss>"
    ).encode()
    long_entry, short_entry = parse_feed(body).entries
    assert long_entry.content_html and long_entry.content_html.count("word") == 200
    assert short_entry.content_html is None and short_entry.summary == "teaser"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "empty body"),
        (b"  \n\t ", "empty body"),
        (
            b"<!DOCTYPE html><html><head><title>x</title></head><body><p>hello</p></body></html>",
            "not a feed: looks like HTML",
        ),
        (b'{"items": []}', "not a feed"),
    ],
)
def test_non_feeds_give_one_line_errors(body: bytes, error: str) -> None:
    discovery = parse_feed(body)
    assert discovery.entries == ()
    assert discovery.error is not None and discovery.error.startswith(error)
    assert "\n" not in discovery.error


def test_broken_xml_names_the_line() -> None:
    discovery = parse_feed(
        b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel><title>x</b></channel></rss>'
    )
    assert discovery.entries == ()
    assert discovery.error == "XML error at line 3: mismatched tag"


def test_broken_xml_that_still_yields_entries_warns() -> None:
    body = _rss(
        "<item><title>ok</title><link>https://example.org/a-b-c</link></item><item><title>x</b></item>"
    )
    discovery = parse_feed(body)
    assert [e.url for e in discovery.entries] == ["https://example.org/a-b-c"]
    assert discovery.warning and discovery.warning.startswith("XML error at line 1: mismatched tag")


def test_an_empty_but_valid_feed_is_not_an_error() -> None:
    discovery = parse_feed(_rss(""))
    assert discovery.entries == () and discovery.error is None and discovery.title == "T"


def test_feedparser_never_sees_a_url_or_a_path(tmp_path: Path) -> None:
    """A body that is itself a URL or a path must be parsed as (non-)XML, not fetched or opened."""
    target = tmp_path / "feed.xml"
    target.write_bytes(_rss("<item><link>https://example.org/from-disk</link></item>"))
    assert parse_feed(str(target).encode()).entries == ()
    assert parse_feed(b"http://127.0.0.1:9/feed.xml").entries == ()


def test_unwrap_redirect() -> None:
    wrapped = "https://www.google.com/url?rct=j&sa=t&url=https://example.org/story-a-b&ct=ga"
    assert unwrap_redirect(wrapped) == "https://example.org/story-a-b"
    assert unwrap_redirect("https://www.google.com/url?q=javascript:alert(1)") == (
        "https://www.google.com/url?q=javascript:alert(1)"
    )
    assert (
        unwrap_redirect("https://example.org/url?url=https://x.org/")
        == "https://example.org/url?url=https://x.org/"
    )
