"""parse_listing_page on a hand-made listing page and on real pages of the corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from newswatch.pages import css_to_xpath, is_article_url, parse_listing_page, validate_selector
from newswatch.urls import site_of

LISTING = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tech news | Example Times</title></head>
<body>
<header>
  <a href="/">Home</a> <a href="/about">About us</a> <a href="/tag/ai">AI</a>
  <a href="/category/business">Business</a> <a href="/login?next=/">Log in</a>
  <a href="https://twitter.com/exampletimes">Twitter</a> <a href="mailto:desk@example.com">Mail</a>
  <a href="javascript:void(0)">Menu</a> <a href="#top">Top</a>
</header>
<main>
  <div class="river">
    <article class="card">
      <a href="/2024/05/28/microsoft-builds-mai-1-model"><img src="/img/mai.jpg" alt=""></a>
      <h2 class="headline"><a href="/2024/05/28/microsoft-builds-mai-1-model">
        Microsoft builds MAI-1 to rival OpenAI</a></h2>
      <a class="byline" href="/author/jane-doe">Jane Doe</a>
    </article>
    <article class="card">
      <h2 class="headline"><a href="https://www.example.com/tech/openai-and-apple-sign-a-deal-for-siri?utm_source=home">
        OpenAI and Apple sign a deal</a></h2>
    </article>
    <article class="card">
      <h2 class="headline"><a href="https://news.example.com/world/story/1234567">A numbered story</a></h2>
    </article>
    <article class="card sponsored">
      <h2 class="headline"><a href="https://ads.other.net/promo-for-a-thing-you-want">Sponsored</a></h2>
    </article>
    <article class="card">
      <h2 class="headline">
        <a href="anthropic-raises-money-from-amazon-again.html">Anthropic raises money</a></h2>
    </article>
  </div>
  <a href="/tech/page/2">Older posts</a> <a href="/tech?page=3">Page 3</a>
  <a href="/files/annual-report-2023-final-version.pdf">Report (PDF)</a>
  <a href="/privacy-policy">Privacy</a> <a href="/newsletter/sign-up-for-our-daily-briefing">Newsletter</a>
  <a href="/2024/05/">May 2024 archive</a>
</main>
<footer><a href="/terms-of-service-and-conditions-of-use">Terms</a> <a href="/contact">Contact</a></footer>
</body></html>
"""
PAGE_URL = "https://www.example.com/tech/"


def test_listing_page_yields_article_links_in_page_order() -> None:
    discovery = parse_listing_page(LISTING.encode(), PAGE_URL)
    assert discovery.error is None
    assert discovery.title == "Tech news | Example Times"
    assert [(e.url, e.title) for e in discovery.entries] == [
        (
            "https://www.example.com/2024/05/28/microsoft-builds-mai-1-model",
            "Microsoft builds MAI-1 to rival OpenAI",
        ),
        (
            "https://www.example.com/tech/openai-and-apple-sign-a-deal-for-siri?utm_source=home",
            "OpenAI and Apple sign a deal",
        ),
        ("https://news.example.com/world/story/1234567", "A numbered story"),
        (
            "https://www.example.com/tech/anthropic-raises-money-from-amazon-again.html",
            "Anthropic raises money",
        ),
    ]


def test_selector_chooses_the_links_and_keeps_the_site_rule() -> None:
    discovery = parse_listing_page(LISTING.encode(), PAGE_URL, selector="article.card h2.headline a")
    urls = [e.url for e in discovery.entries]
    assert len(urls) == 4  # the sponsored link is off-site
    assert "https://ads.other.net/promo-for-a-thing-you-want" not in urls
    # a selector that hits a container takes the links inside it, heuristics aside (here: the byline)
    cards = parse_listing_page(LISTING.encode(), PAGE_URL, selector=".river > article.card")
    assert "https://www.example.com/author/jane-doe" in [e.url for e in cards.entries]


def test_link_pattern_replaces_the_heuristic() -> None:
    discovery = parse_listing_page(LISTING.encode(), PAGE_URL, link_pattern=r"/(?:tag|author)/")
    assert [e.url for e in discovery.entries] == [
        "https://www.example.com/tag/ai",
        "https://www.example.com/author/jane-doe",
    ]


def test_bad_selector_or_pattern_is_an_error_not_a_crash() -> None:
    assert parse_listing_page(LISTING.encode(), PAGE_URL, selector="a:hover").error == (
        "bad selector 'a:hover': unsupported syntax at ':hover'"
    )
    error = parse_listing_page(LISTING.encode(), PAGE_URL, link_pattern="(").error
    assert error and error.startswith("bad link_pattern '(':")


def test_max_links_and_base_href() -> None:
    links = "".join(f'<a href="story-number-{i}-of-many">s{i}</a>' for i in range(10))
    body = f'<html><head><base href="https://example.org/news/"></head><body>{links}</body></html>'.encode()
    discovery = parse_listing_page(body, "https://example.org/", max_links=3)
    assert [e.url for e in discovery.entries] == [
        f"https://example.org/news/story-number-{i}-of-many" for i in range(3)
    ]
    assert discovery.warning == "page has 10 article links; kept the first 3"


def test_empty_and_non_html() -> None:
    assert parse_listing_page(b"", PAGE_URL).error == "empty body"
    assert parse_listing_page(b"<html><body><p>no links</p></body></html>", PAGE_URL).entries == ()


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://www.theguardian.com/us-news/2018/jan/31/donald-trump-state-of-the-union", True),
        ("https://www.heise.de/newsticker/meldung/Lithium-aus-dem-Schredder-4451133.html", True),
        ("https://www.lemonde.fr/pixels/article/2024/05/28/microsoft-et-openai_6235.html", True),
        ("https://lapresse.tn/48107/arrestation-dun-terroriste-condamne-a-36-ans-de-prison/", True),
        ("https://blog.example.org/microsoft-veut-se-passer-d-openai", True),
        ("https://www.example.com/", False),
        ("https://www.example.com/tech", False),
        ("https://www.example.com/qui-sommes-nous", False),
        ("https://www.example.com/tag/openai", False),
        ("https://www.example.com/author/jane-doe-smith-jones", False),
        ("https://www.example.com/blog/page/2", False),
        ("https://www.example.com/2024/05/28/story-slug-here?page=2", False),
        ("https://www.example.com/2018/06/", False),
        ("https://www.example.com/images/a-big-picture-of-it.jpg", False),
        ("https://www.example.com/politique-de-confidentialite-du-site", False),
        ("https://plus.example.com/conectar?backURL=https%3A%2F%2Fexample.com%2Fa-b-c-d", False),
    ],
)
def test_is_article_url(url: str, article: bool) -> None:
    assert is_article_url(url) is article


def test_css_subset() -> None:
    doc = lxml_html.fromstring(
        '<div id="main"><ul><li class="x y"><a href="/a" data-k="news-1">A</a></li>'
        '<li class="x"><a href="/b" rel="next prev">B</a></li></ul><p><a href="/c">C</a></p></div>'
    )

    def texts(selector: str) -> list[str]:
        return [e.text_content() for e in doc.xpath(css_to_xpath(selector))]

    assert texts("div#main > ul li.x.y a") == ["A"]
    assert texts("li.x > a, p a") == ["A", "B", "C"]
    assert texts("a[data-k^=news]") == ["A"]
    assert texts("a[rel~='prev']") == ["B"]
    assert texts("a[href$='c']") == ["C"]
    assert texts("#main > a") == []
    for bad in ("a + b", "a >", ", a", "li:first-child", ""):
        with pytest.raises(ValueError):
            css_to_xpath(bad)
        with pytest.raises(ValueError):
            validate_selector(bad)
    validate_selector("article h2 > a[href*='/news/']")


def test_corpus_pages_related_links(corpus: Path) -> None:
    """Real article pages: their related-article links come out, their navigation does not."""
    index = json.loads((corpus / "pages" / "INDEX.json").read_text(encoding="utf-8"))
    by_name = {Path(p["path"]).name: p for p in index["pages"]}
    page = by_name["infobae.com-ucrania.html"]
    discovery = parse_listing_page((corpus / "pages" / page["path"]).read_bytes(), page["url"])
    urls = [e.url or "" for e in discovery.entries]
    assert (
        "https://www.infobae.com/america/mundo/2022/05/03/cobra-impulso-la-idea-de-procesar-a-vladimir-putin-en-un-"
        "nuevo-juicio-de-nuremberg/" in urls
    )
    assert "https://www.infobae.com/ultimas-noticias-america/" not in urls
    assert page["url"] not in urls  # the page itself is not a link to follow
    assert all(u.startswith("https://www.infobae.com/") for u in urls)
    assert len(urls) == len(set(urls)) >= 10
    # a page with links in its body text on a blog host: its own archive is not an article
    blog = by_name["sibenlab.blogspot.com.privacy.html"]
    assert parse_listing_page((corpus / "pages" / blog["path"]).read_bytes(), blog["url"]).entries == ()


def test_benchmark_pages_never_crash_and_stay_on_site(corpus: Path) -> None:
    root = corpus / "article-extraction-benchmark"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    found = 0
    for key in sorted(truth)[:40]:
        url = truth[key]["url"]
        discovery = parse_listing_page(gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()), url)
        assert discovery.error is None, url
        assert all(site_of(e.url or "") == site_of(url) for e in discovery.entries), url
        found += len(discovery.entries)
    assert found > 200
