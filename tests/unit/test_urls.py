"""URL identity: canonical form, rel=canonical / GUID choice, ids, sites."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.urls import article_id, canonicalize_url, choose_canonical, host_of, site_of

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "article-extraction-benchmark"


@lru_cache(maxsize=1)
def _ground_truth() -> dict[str, Any]:
    path = CORPUS / "ground-truth.json"
    if not path.exists():
        pytest.skip(f"corpus not found at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM:443/a/b/?b=2&a=1#top", "https://example.com/a/b?a=1&b=2"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/x?utm_source=tw&utm_medium=social&id=7", "https://example.com/x?id=7"),
        ("https://example.com/x?fbclid=abc&gclid=1&mc_cid=2&mc_eid=3&ref=home", "https://example.com/x"),
        ("https://example.com/x?UTM_Campaign=Y&xtor=RSS-1", "https://example.com/x"),
        ("https://example.com/news/story/amp/", "https://example.com/news/story"),
        ("https://example.com/amp/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
        ("https://example.com/news/story?outputType=amp", "https://example.com/news/story"),
        ("https://amp.example.com/news/story", "https://example.com/news/story"),
        ("https://m.example.co.uk/news/story", "https://example.co.uk/news/story"),
        ("https://mobile.example.com/news/story", "https://example.com/news/story"),
        ("https://www-example-com.cdn.ampproject.org/c/s/www.example.com/a/b", "https://example.com/a/b"),
        ("https://www.google.com/amp/s/amp.example.com/a/b.amp.html", "https://example.com/a/b.html"),
        ("https://example.com/caf%c3%a9/%7euser", "https://example.com/caf%C3%A9/~user"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://example.com/a?q=a+b&r=%2B", "https://example.com/a?q=a%20b&r=%2B"),
        ("https://user:pw@Example.com/a", "https://example.com/a"),
        ("//example.com/a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        # aliases are stripped only above the registrable domain
        ("https://www.co.uk/a", "https://www.co.uk/a"),
        ("https://m.com/a", "https://m.com/a"),
        ("https://amp.dev/about", "https://amp.dev/about"),
    ],
)
def test_canonicalize_url_examples(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


JUNK = [
    "",
    "   ",
    "not a url",
    "mailto:someone@example.org",
    "javascript:void(0)",
    "http://",
    "https://[::1",
    "http://exa mple.com/%zz",
    "ftp://x.org/a",
]


@pytest.mark.parametrize("junk", JUNK)
def test_canonicalize_url_never_raises_on_junk(junk: str) -> None:
    out = canonicalize_url(junk)
    assert isinstance(out, str)
    assert canonicalize_url(out) == out


def test_meaningful_query_and_path_are_kept() -> None:
    a = canonicalize_url("https://example.com/news_view.html?idx=8576&page=1")
    b = canonicalize_url("https://example.com/news_view.html?idx=8723&page=1")
    assert a != b
    assert canonicalize_url("https://example.com/a") != canonicalize_url("https://example.com/b")
    assert canonicalize_url("https://news.example.com/a") != canonicalize_url("https://example.com/a")


def _variants(url: str) -> list[str]:
    """The same page as feeds, newsletters and social shares hand it out."""
    sep = "&" if "?" in url else "?"
    upper_host = url.replace("://", "://", 1)
    scheme, rest = upper_host.split("://", 1)
    host, _, path = rest.partition("/")
    www = host[4:] if host.startswith("www.") else "www." + host
    return [
        url,
        f"{url}{sep}utm_source=newsletter&utm_medium=email&utm_campaign=daily",
        f"{url}{sep}fbclid=IwAR0abc123",
        f"{url}{sep}gclid=xyz&mc_cid=1a2b&mc_eid=3c4d",
        f"{url}#comments",
        f"{scheme.upper()}://{host.upper()}/{path}",
        f"{scheme}://{www}/{path}",
        f"{scheme}://{host}:{443 if scheme == 'https' else 80}/{path}",
    ]


def test_real_urls_with_tracking_canonicalise_to_one() -> None:
    gt = _ground_truth()
    canon_of: dict[str, str] = {}
    for item in gt.values():
        url = item["url"]
        forms = {canonicalize_url(v) for v in _variants(url)}
        assert len(forms) == 1, (url, forms)
        ids = {article_id(v) for v in _variants(url)}
        assert len(ids) == 1
        canon_of[url] = forms.pop()
    # ... and no two different articles of the benchmark collapse into one
    assert len(set(canon_of.values())) == len(canon_of)
    assert len({article_id(c) for c in canon_of.values()}) == len(canon_of)


def test_article_id_is_stable_hex_and_scheme_blind() -> None:
    aid = article_id("https://example.com/a")
    assert len(aid) == 16
    int(aid, 16)
    assert aid == article_id("http://www.example.com/a/?utm_source=x")
    assert aid != article_id("https://example.com/b")
    # pinned: ids are stored; changing the derivation orphans every stored article
    assert (
        article_id("https://example.com/a")
        == hashlib.sha256(b"example.com/a").hexdigest()[:16]
        == "036cbe16b0015b0a"
    )


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://news.bbc.co.uk/x", "bbc.co.uk"),
        ("https://www.folha.uol.com.br/x", "uol.com.br"),
        ("https://www.smh.com.au/x", "smh.com.au"),
        ("https://blog.example.com/x", "example.com"),
        ("https://example.com", "example.com"),
        ("https://www.lemonde.fr/pixels/article/x.html", "lemonde.fr"),
        ("https://www.elpais.com.co/x", "elpais.com.co"),
        ("https://a.b.nikkei.co.jp/x", "nikkei.co.jp"),
        ("https://someone.github.io/post", "someone.github.io"),
        ("http://127.0.0.1:8000/a", "127.0.0.1"),
        ("http://localhost:8000/a", "localhost"),
        ("heise.de", "heise.de"),
        ("www.heise.de", "heise.de"),
    ],
)
def test_site_of(url: str, site: str) -> None:
    assert site_of(url) == site


def test_host_of() -> None:
    assert host_of("https://WWW.Example.com.:8443/a") == "www.example.com"
    assert host_of("not a url") == ""
    assert host_of("//cdn.example.com/x") == "cdn.example.com"


def test_choose_canonical_prefers_same_site_link_canonical() -> None:
    url = "https://www.example.com/story-123?utm_source=rss"
    assert (
        choose_canonical(url, "https://example.com/news/story-123", None)
        == "https://example.com/news/story-123"
    )
    assert choose_canonical(url, "/news/story-123", None) == "https://example.com/news/story-123"
    # same registrable site, other host: still the publisher's own choice
    assert (
        choose_canonical(url, "https://edition.example.com/s/123", None)
        == "https://edition.example.com/s/123"
    )


def test_choose_canonical_rejects_untrustworthy_link_canonical() -> None:
    url = "https://example.com/story-123"
    assert choose_canonical(url, "https://other.org/story-123", None) == url  # another site
    assert choose_canonical(url, "https://example.com/", None) == url  # a template's home page
    assert choose_canonical(url, "mailto:x@example.com", None) == url
    assert choose_canonical(url, "  ", None) == url
    assert choose_canonical("https://example.com/", "https://example.com/", None) == "https://example.com/"


def test_choose_canonical_amp_page_points_to_the_article() -> None:
    amp = "https://example.com/news/story/amp"
    assert choose_canonical(amp, "https://example.com/news/story", None) == "https://example.com/news/story"
    cache = "https://example-com.cdn.ampproject.org/c/s/example.com/news/story"
    assert choose_canonical(cache, "https://example.com/news/story", None) == "https://example.com/news/story"


def test_choose_canonical_uses_guid_only_behind_a_proxy() -> None:
    guid = "https://blog.example.com/2024/05/story"
    proxy = "https://feedproxy.google.com/~r/example/~3/abc/story"
    assert choose_canonical(proxy, None, guid) == guid
    assert choose_canonical("", None, guid) == guid
    # a publisher URL is kept over a shortlink GUID, so a page source finds the same identity
    assert choose_canonical(guid, None, "https://blog.example.com/?p=123") == guid
    # GUIDs that are not permalinks are ignored
    assert choose_canonical(proxy, None, "tag:example.com,2024:123") == canonicalize_url(proxy)
    assert choose_canonical(proxy, None, "urn:uuid:1234") == canonicalize_url(proxy)
    # rel=canonical still beats the GUID
    assert choose_canonical(proxy, "https://example.com/x", guid) == "https://example.com/x"


def test_choose_canonical_result_is_canonical() -> None:
    out = choose_canonical(
        "https://www.example.com/a?utm_source=x", "https://WWW.example.com/a/?fbclid=1", None
    )
    assert out == "https://example.com/a"
    assert canonicalize_url(out) == out


_hosts = st.sampled_from(
    [
        "example.com",
        "www.Example.COM",
        "m.news.example.co.uk",
        "amp.site.org",
        "127.0.0.1",
        "xn--mnchen-3ya.de",
        "münchen.de",
        "[::1]",
        "a",
        "www.co.uk",
        "cdn.ampproject.org",
    ]
)
_segment = st.one_of(
    st.sampled_from(["amp", "AMP", "a.amp.html", "x.amp", "", ".", "..", "%2F", "%7e", "a%20b", "caf%C3%A9"]),
    st.text(min_size=0, max_size=8),
)
_param = st.tuples(
    st.one_of(
        st.sampled_from(["utm_source", "amp", "ref", "id", "q", "outputType", "Page"]), st.text(max_size=5)
    ),
    st.one_of(st.sampled_from(["", "1", "amp", "a+b", "%2B", "%26", "x=y"]), st.text(max_size=5)),
)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp", ""]))
    host = draw(_hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":x"]))
    path = "/".join(draw(st.lists(_segment, max_size=5)))
    params = draw(st.lists(_param, max_size=4))
    query = "&".join(f"{k}={v}" if v else k for k, v in params)
    frag = draw(st.sampled_from(["", "#x", "#!/a"]))
    prefix = f"{scheme}://" if scheme else draw(st.sampled_from(["", "//"]))
    return f"{prefix}{host}{port}/{path}" + (f"?{query}" if query else "") + frag


@settings(max_examples=300, deadline=None)
@given(_urls())
def test_canonicalize_url_is_idempotent(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once
    assert article_id(url) == article_id(once)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_canonicalize_url_is_idempotent_on_any_text(text: str) -> None:
    once = canonicalize_url(text)
    assert canonicalize_url(once) == once
    assert isinstance(site_of(text), str)
    assert isinstance(host_of(text), str)
    assert isinstance(choose_canonical(text, text, text), str)
