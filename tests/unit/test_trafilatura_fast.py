"""newswatch.trafilatura_fast changes trafilatura's speed, never its output: each Python expression
selects exactly the elements of the XPath it replaces (on every tree trafilatura prunes while
extracting the shared corpus, and on generated markup), and the C-level lookup gives every element the
class lxml.html's own lookup gives it."""

from __future__ import annotations

import collections
import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trafilatura.core
import trafilatura.external
import trafilatura.htmlprocessing
import trafilatura.main_extractor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.html import HtmlElement, HtmlElementClassLookup, HTMLParser
from trafilatura import bare_extraction, xpaths
from trafilatura.utils import HTML_PARSER

from newswatch import trafilatura_fast
from newswatch.extract import parse_html_tree
from newswatch.trafilatura_fast import PythonXPath

REPLACED = [(name, index) for name, forms in trafilatura_fast._FORMS.items() for index in forms]


def _corpus_pages(corpus: Path) -> list[bytes]:
    """The 181 pages of the extraction benchmark (gzipped there) and the 59 non-English pages."""
    bench = sorted((corpus / "article-extraction-benchmark" / "html").glob("*.html.gz"))
    other = sorted((corpus / "pages").rglob("*.html"))
    assert len(bench) > 150 and len(other) > 50
    return [gzip.decompress(p.read_bytes()) for p in bench] + [p.read_bytes() for p in other]


def _same(a: list[HtmlElement], b: list[HtmlElement]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def test_every_expression_is_replaced_for_the_pinned_trafilatura() -> None:
    """The speed-up is in effect (trafilatura is pinned in pyproject.toml): a newer trafilatura whose
    expressions differ would keep its own, and this test says so."""
    for name, index in REPLACED:
        expr = getattr(xpaths, name)[index]
        assert isinstance(expr, PythonXPath), f"{name}[{index}] kept its XPath"
        assert expr.path == expr.original.path


def test_another_expression_is_left_alone() -> None:
    changed = etree.XPath(
        ".//*[self::div][re:test(@id, 'x') or @class='y']", namespaces={"re": xpaths.REGEXP_NS}
    )
    assert trafilatura_fast.translate("REMOVE_COMMENTS_XPATH", 0, changed) is None
    assert trafilatura_fast.translate("NOT_A_LIST", 0, changed) is None


def test_install_is_idempotent() -> None:
    before = {name: list(getattr(xpaths, name)) for name in trafilatura_fast._FORMS}
    trafilatura_fast.install()
    after = {name: list(getattr(xpaths, name)) for name in trafilatura_fast._FORMS}
    assert all(_same(before[n], after[n]) for n in before)  # nothing wrapped twice


class _Comparing:
    """Stands in for one replaced expression: runs the Python version and the XPath on the same tree,
    records any difference, hands trafilatura the XPath's answer."""

    def __init__(self, fast: PythonXPath, name: str, seen: collections.Counter[str], bad: list[str]) -> None:
        self.fast, self.name, self.seen, self.bad = fast, name, seen, bad

    def __call__(self, tree: HtmlElement) -> list[HtmlElement]:
        expected = self.fast.original(tree)
        got = self.fast(tree)
        self.seen[self.name] += 1
        self.seen[self.name + " matched"] += bool(expected)
        if not _same(expected, got):
            self.bad.append(f"{self.name}: XPath {len(expected)} elements, Python {len(got)}")
        return list(expected)


@pytest.fixture
def comparing(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[collections.Counter[str], list[str]]]:
    seen: collections.Counter[str] = collections.Counter()
    bad: list[str] = []
    names = {
        id(expr): f"{name}[{i}]"
        for name in trafilatura_fast._FORMS
        for i, expr in enumerate(getattr(xpaths, name))
    }
    prune = trafilatura.htmlprocessing.prune_unwanted_nodes

    def checked(
        tree: HtmlElement, nodelist: list[Callable[..., list[HtmlElement]]], with_backup: bool = False
    ) -> HtmlElement:
        wrapped = [
            _Comparing(e, names[id(e)], seen, bad) if isinstance(e, PythonXPath) else e for e in nodelist
        ]
        return prune(tree, wrapped, with_backup)

    for module in (trafilatura.core, trafilatura.main_extractor, trafilatura.external):
        monkeypatch.setattr(module, "prune_unwanted_nodes", checked)
    yield seen, bad


def test_same_elements_on_every_tree_pruned_in_the_corpus(
    corpus: Path, comparing: tuple[collections.Counter[str], list[str]]
) -> None:
    """Every page of the shared corpus through trafilatura's full run (fast pass, readability and jusText
    comparison, recall retry) as newswatch calls it; every fourth also with comments kept and in
    balanced and recall modes, which prune other trees."""
    seen, bad = comparing
    for i, html in enumerate(_corpus_pages(corpus)):
        tree = parse_html_tree(html)
        if tree is None:
            continue
        modes = [(True, False, False)]  # (favor_precision, favor_recall, include_comments)
        if i % 4 == 0:
            modes += [(False, False, True), (False, True, False)]
        for precision, recall, comments in modes:
            bare_extraction(
                tree,
                fast=False,
                favor_precision=precision,
                favor_recall=recall,
                include_comments=comments,
                include_tables=True,
                with_metadata=False,
            )
    assert not bad, bad[:10]
    for name, index in REPLACED:
        assert seen[f"{name}[{index}]"] > 100, f"{name}[{index}] was not exercised"
    # the corpus makes the busy ones match, not only miss
    for name in (
        "OVERALL_DISCARD_XPATH[0]",
        "OVERALL_DISCARD_XPATH[1]",
        "REMOVE_COMMENTS_AND_LISTS_XPATH[0]",
    ):
        assert seen[f"{name} matched"] > 50, (name, seen[f"{name} matched"])


_TOKENS = [
    "comment",
    "Comment",
    "commentary",
    "comol",
    "disqus_thread",
    "dsq-comments",
    "post-comments",
    "mvp-post-add-box",
    "mvp-post-add-wrap",
    "infinite-scroll",
    "infinitescroll",
    "elementor-share-buttons",
    "cookie",
    "share",
    "Share",
    "shar",
    "social",
    "nav",
    "Nav",
    "NAV",
    "menu",
    "navbar",
    "ad",
    "ad-",
    "-ad-",
    "widget",
    "footer",
    "related",
    "elated",
    "meta",
    "tags",
    "hidden",
    "hide-",
    "hide",
    "-reply-",
    "reply-",
    "comments-title",
    "display:none",
    "display: none",
    "teaser",
    "Teaser",
    "TEASER",
    "caption",
    "bottom",
    "link",
    "border",
    "true",
    "false",
    "MostPopularStories",
    "main",
    "content",
    "x",
]
_ATTRIBUTES = ["id", "class", "style", "role", "aria-hidden", "data-component", "data-lp-replacement-content"]
_TAGS = [
    "div",
    "section",
    "aside",
    "span",
    "p",
    "ul",
    "ol",
    "li",
    "details",
    "list",
    "item",
    "header",
    "h1",
    "a",
]

_values = st.lists(st.sampled_from(_TOKENS), max_size=3).flatmap(
    lambda words: st.sampled_from(["", " ", "-", "_"]).map(lambda sep: sep.join(words))
)
_attrs = st.lists(st.tuples(st.sampled_from(_ATTRIBUTES), _values), max_size=4, unique_by=lambda a: a[0])


@st.composite
def _markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4 if depth < 3 else 1))):
        tag = draw(st.sampled_from(_TAGS))
        attrs = "".join(f' {k}="{v}"' for k, v in draw(_attrs))
        inner = draw(_markup(depth + 1)) if depth < 3 and draw(st.booleans()) else "text"
        parts.append(f"<{tag}{attrs}>{inner}</{tag}>")
    return "".join(parts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_markup())
def test_same_elements_on_generated_markup(body: str) -> None:
    tree = parse_html_tree(f"<html><body><article>{body}</article></body></html>")
    assert tree is not None
    for name, index in REPLACED:
        fast = getattr(xpaths, name)[index]
        assert isinstance(fast, PythonXPath)
        for context in (tree, *tree.iter("div", "article")):  # trafilatura also prunes subtrees
            assert _same(fast.original(context), fast(context)), (name, index, body)


def test_first_of_two_attributes_follows_the_source_order() -> None:
    """`re:test(@id|@class, ...)` reads whichever comes first in the tag, as XPath does."""
    expr = xpaths.OVERALL_DISCARD_XPATH[0]
    tree = parse_html_tree(
        '<html><body><div class="cookie" id="a">x</div><div id="a" class="cookie">y</div></body></html>'
    )
    assert tree is not None
    assert [el.text for el in expr(tree)] == [el.text for el in expr.original(tree)] == ["x"]


def test_element_classes_are_lxml_htmls(corpus: Path) -> None:
    """Every element of every corpus page, and the form controls lxml.html gives classes of their own,
    get the class lxml.html's Python lookup gives them."""
    reference = HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    pages = _corpus_pages(corpus)[::3]
    forms = (
        b"<html><body><form><label>a</label><input name=q><select><option>1</select>"
        b"<textarea></textarea></form></body></html>"
    )
    for html in [*pages, forms]:
        fast = etree.fromstring(html, HTML_PARSER)
        slow = etree.fromstring(html, reference)
        assert [type(e) for e in fast.iter()] == [type(e) for e in slow.iter()]
    classes = {type(e).__name__ for e in etree.fromstring(forms, HTML_PARSER).iter()}
    assert {"FormElement", "InputElement", "SelectElement", "TextareaElement", "LabelElement"} <= classes


def test_trafilaturas_parser_makes_no_python_lookup_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []
    original = HtmlElementClassLookup.lookup

    def counting(*args: object) -> object:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(HtmlElementClassLookup, "lookup", counting)
    html = b"<html><body><div><p>a</p><form><input></form></div></body></html>"
    assert len(list(etree.fromstring(html, HTML_PARSER).iter())) > 5
    assert not calls
    reference = HTMLParser()  # the check can fail: lxml.html's own parser calls it for every element
    assert len(list(etree.fromstring(html, reference).iter())) > 5
    assert calls


def test_a_pattern_matching_the_empty_string_keeps_the_xpath() -> None:
    """The predicates skip the regular expressions for an element without the attribute, which is
    only right while no pattern matches the empty string."""
    path = xpaths.REMOVE_COMMENTS_XPATH[0].path
    _, patterns = trafilatura_fast.split_expression(path)
    changed = etree.XPath(path.replace(patterns[1], "x|"), namespaces={"re": xpaths.REGEXP_NS})
    assert trafilatura_fast.translate("REMOVE_COMMENTS_XPATH", 0, changed) is None
    assert trafilatura_fast.translate("REMOVE_COMMENTS_XPATH", 0, xpaths.REMOVE_COMMENTS_XPATH[0].original)


def test_the_lean_fast_pass_extracts_the_same_text(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast pass without its unread copy gives the text and the tree it gave with it, page for page."""
    lean = trafilatura.core._prepare_tree
    assert getattr(lean, "newswatch_lean", False), "the lean fast pass is not installed"

    def extract_all() -> list[tuple[str, str]]:
        out = []
        for html in _corpus_pages(corpus):
            doc = bare_extraction(
                parse_html_tree(html),
                fast=True,
                favor_precision=True,
                include_comments=False,
                include_tables=True,
                with_metadata=False,
            )
            body = getattr(doc, "body", None)
            text = getattr(doc, "text", None) or ""
            out.append((text, etree.tostring(body, encoding="unicode") if body is not None else ""))
        return out

    fast = extract_all()
    monkeypatch.setattr(trafilatura.core, "_prepare_tree", getattr(lean, "original"))  # noqa: B009
    assert extract_all() == fast
    assert sum(1 for text, _ in fast if len(text) > 500) > 150


def test_a_changed_string_literal_keeps_the_xpath() -> None:
    """Whitespace is collapsed outside quotes only: 'display:  none' is not 'display: none'."""
    original = xpaths.OVERALL_DISCARD_XPATH[1].original
    assert trafilatura_fast.translate("OVERALL_DISCARD_XPATH", 1, original) is not None
    changed = etree.XPath(
        original.path.replace("'display: none'", "'display:  none'"), namespaces={"re": xpaths.REGEXP_NS}
    )
    assert changed.path != original.path
    assert trafilatura_fast.translate("OVERALL_DISCARD_XPATH", 1, changed) is None
    spaced = etree.XPath(original.path.replace(" or ", "\n   or "), namespaces={"re": xpaths.REGEXP_NS})
    assert trafilatura_fast.translate("OVERALL_DISCARD_XPATH", 1, spaced) is not None


def test_the_stoplist_is_the_union_jusText_would_make() -> None:
    import justext.core
    from justext.utils import get_stoplist, get_stoplists

    words = trafilatura_fast.all_languages_stoplist()
    assert isinstance(words, trafilatura_fast.Stoplist)
    assert trafilatura.external.JT_STOPLIST is words  # where trafilatura looks for it
    assert trafilatura.external.jt_stoplist_init() is words  # gathered once per process
    union = tuple({w for language in get_stoplists() for w in get_stoplist(language)})  # trafilatura's own
    original = justext.core.define_stoplist.original  # type: ignore[attr-defined]
    assert original(union) == words and len(words) > 100_000
    assert justext.core.define_stoplist(words) is words  # passed through, not lowercased again
    assert justext.core.define_stoplist(("The", "and")) == frozenset({"the", "and"})  # others as before


def test_jusText_classifies_the_corpus_alike_with_the_stoplist(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trafilatura's jusText fallback, with no language given (the all-language stoplist), on every
    corpus page: the same paragraphs kept with the passed-through Stoplist as with jusText's own
    lowercasing of trafilatura's own tuple."""
    import justext.core

    lean = justext.core.define_stoplist
    assert getattr(lean, "newswatch_lean", False), "the stoplist is not installed"

    def justext_all() -> list[str]:
        out = []
        for html in _corpus_pages(corpus)[::3]:
            tree = parse_html_tree(html)
            if tree is not None:
                body = trafilatura.external.try_justext(tree, None, None)
                out.append(etree.tostring(body, encoding="unicode"))
        return out

    fast = justext_all()
    monkeypatch.setattr(justext.core, "define_stoplist", getattr(lean, "original"))  # noqa: B009
    monkeypatch.setattr(trafilatura.external, "JT_STOPLIST", None)
    monkeypatch.setattr(
        trafilatura.external,
        "jt_stoplist_init",
        trafilatura_fast.all_languages_stoplist.original,  # type: ignore[attr-defined]
    )
    assert justext_all() == fast
    assert type(trafilatura.external.JT_STOPLIST) is tuple  # the comparison ran on trafilatura's own
    assert sum(1 for body in fast if len(body) > 1000) > 40
