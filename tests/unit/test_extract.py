"""extract_article and decode_html: metadata, charsets, failures as values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.extract import absolute_http_url, decode_html, extract_article, normalize_lang

PARAGRAPHS = "".join(
    f"<p>Paragraph {i}: Microsoft and OpenAI extended their partnership while Microsoft trains its own "
    f"models, a strategy analysts describe as hedging against a single supplier of frontier models.</p>"
    for i in range(6)
)


def _page(head: str = "", lang: str = 'lang="en-GB"', body: str = PARAGRAPHS) -> str:
    return (
        f"<!DOCTYPE html><html {lang}><head><meta charset='utf-8'>"
        f"<title>Deal news - Example</title>{head}</head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Deal news</h1>{body}</article>"
        "<footer>© Example 2024 · Privacy</footer></body></html>"
    )


def test_metadata() -> None:
    head = (
        '<link rel="canonical" href="/2024/05/28/deal-news">'
        '<meta property="article:published_time" content="2024-05-28T10:00:00+02:00">'
        '<meta name="author" content="Jane Doe">'
        '<meta property="og:site_name" content="Example Times">'
    )
    ex = extract_article(_page(head).encode(), "https://www.example.com/news/deal?utm_source=x")
    assert ex.error is None
    assert ex.text and "Paragraph 0: Microsoft and OpenAI" in ex.text and "Paragraph 5" in ex.text
    assert "Privacy" not in ex.text and "Home" not in ex.text
    assert ex.title == "Deal news"
    assert ex.author == "Jane Doe"
    assert ex.site_name == "Example Times"
    assert ex.lang == "en"
    assert ex.canonical_url == "https://www.example.com/2024/05/28/deal-news"
    assert ex.published_at == datetime(2024, 5, 28, 8, 0, tzinfo=UTC)


def test_copyright_year_is_not_a_date() -> None:
    ex = extract_article(_page(), "https://www.example.com/a")
    assert ex.text and ex.published_at is None


def test_canonical_must_be_http_and_date_falls_back_to_trafilatura() -> None:
    head = '<link rel="canonical" href="javascript:alert(1)"><meta name="dcterms.date" content="2023-02-01">'
    ex = extract_article(_page(head, lang=""), "https://www.example.com/a")
    assert ex.canonical_url is None
    assert ex.lang is None
    assert ex.published_at == datetime(2023, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "empty page"),
        (b"   \n ", "empty page"),
        (
            b"<html><head><title>t</title></head><body><img src='a.png'></body></html>",
            "no article text found",
        ),
    ],
)
def test_failures_are_values(body: bytes, error: str) -> None:
    ex = extract_article(body, "https://example.com/")
    assert ex.text is None and ex.error == error


def test_binary_content_is_refused() -> None:
    assert extract_article(bytes(range(256)) * 50).error == "not HTML: binary content"
    assert (
        extract_article(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01").error == "not HTML: binary content"
    )


def test_fragments_and_plain_text_are_wrapped() -> None:
    """Feed content:encoded is a fragment; a single <p> is one trafilatura would reject unwrapped."""
    sentence = "Microsoft and OpenAI extended their partnership while Microsoft trains its own models. "
    assert extract_article(f"<p>{sentence * 5}</p>".encode()).text == (sentence * 5).strip()
    assert extract_article((sentence * 5).encode()).text == (sentence * 5).strip()


def test_decode_html_charsets() -> None:
    text = "Élysée: « l’accord » coûte 10 €"
    latin_text = text.replace("’", "").replace("€", "")
    latin = f'<html><head><meta charset="iso-8859-1"></head><body>{latin_text}</body></html>'
    assert "Élysée" in decode_html(latin.encode("latin-1"))
    cp1251 = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>'
    assert "Новости" in decode_html((cp1251 + "<body>Новости</body></html>").encode("cp1251"))
    # a page that says latin-1 but is UTF-8 (mislabelled): UTF-8 wins
    mislabelled = f'<html><head><meta charset="iso-8859-1"></head><body>{text}</body></html>'
    assert text in decode_html(mislabelled.encode("utf-8"))
    # BOM wins over the declaration
    assert text in decode_html(b"\xef\xbb\xbf" + mislabelled.encode("utf-8"))
    assert "Élysée" in decode_html(b"\xff\xfe" + "<p>Élysée</p>".encode("utf-16-le"))
    utf16_page = b"\xff\xfe" + _page().encode("utf-16-le")
    assert (extract_article(utf16_page).text or "").count("Paragraph") == 6
    # undeclared and not UTF-8: windows-1252
    assert "coûte 10 €" in decode_html(f"<p>{text}</p>".encode("cp1252"))
    # an XML declaration counts
    assert "Ελλάδα" in decode_html(
        '<?xml version="1.0" encoding="iso-8859-7"?><p>Ελλάδα</p>'.encode("iso-8859-7")
    )
    # unknown label: ignored
    assert "ok" in decode_html(b'<meta charset="x-nonsense"><p>ok</p>')


def test_latin1_corpus_page(corpus: Path) -> None:
    index = json.loads((corpus / "pages" / "INDEX.json").read_text(encoding="utf-8"))
    page = next(p for p in index["pages"] if p["path"].endswith("badische-zeitung.de-Wohnungssuche.html"))
    ex = extract_article((corpus / "pages" / page["path"]).read_bytes(), page["url"])
    assert ex.title == "Viele Studierende sind noch verzweifelt auf Wohnungssuche in Freiburg"
    assert ex.text and "fürs Studium nach Freiburg" in ex.text and "\ufffd" not in ex.text


def test_str_input_with_an_encoding_declaration() -> None:
    page = '<?xml version="1.0" encoding="utf-8"?>' + _page()
    ex = extract_article(page, "https://example.com/x")
    assert ex.text and "Paragraph 0" in ex.text and ex.lang == "en"


def test_helpers() -> None:
    assert (
        normalize_lang("fr-FR") == "fr" and normalize_lang("en_US") == "en" and normalize_lang("DE") == "de"
    )
    assert normalize_lang("x") is None and normalize_lang("") is None and normalize_lang("123") is None
    assert absolute_http_url("../b#frag", "https://e.org/a/c") == "https://e.org/b"
    assert absolute_http_url("HTTPS://E.org/x") == "https://E.org/x"
    assert absolute_http_url("mailto:a@b.c") is None and absolute_http_url("//cdn.e.org/x") is None
    assert absolute_http_url("//cdn.e.org/x", "https://e.org/") == "https://cdn.e.org/x"


def test_the_page_date_is_searched_only_when_the_feed_has_none() -> None:
    """analyse_page skips the page's date (~1 ms) when the feed gave one, which wins anyway."""
    from newswatch.analyse import PageJob, analyse_page
    from newswatch.config import DedupeConfig
    from newswatch.model import Entry

    head = '<meta property="article:published_time" content="2024-05-28T10:00:00+02:00">'
    html = _page(head).encode()
    fed = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    url = "https://www.example.com/news/deal"
    now = datetime(2024, 6, 2, tzinfo=UTC)
    dated = analyse_page(
        PageJob(Entry(url=url, title="t", published_at=fed), html, url, "s", now, DedupeConfig())
    )
    undated = analyse_page(PageJob(Entry(url=url, title="t"), html, url, "s", now, DedupeConfig()))
    assert dated.extracted is not None and dated.extracted.published_at is None
    assert dated.prepared is not None and dated.prepared.article.published_at == fed
    assert undated.prepared is not None
    assert undated.prepared.article.published_at == datetime(2024, 5, 28, 8, 0, tzinfo=UTC)
    assert extract_article(html, url).published_at == datetime(2024, 5, 28, 8, 0, tzinfo=UTC)
