"""trafilatura made faster without changing what it extracts: its pruning XPaths in Python, a C-level
element-class lookup for the trees it parses, no copy of a tree its fast pass never reads, and jusText's
all-language stoplist gathered once and never lowercased again (`install_stoplist`). `install()` does
all four (newswatch.extract calls it on import); each part checks it matches the pinned trafilatura
before touching anything.

**Pruning.** trafilatura 2.3.1 removes page furniture (comment threads, share bars, menus, hidden
blocks...) with XPath expressions that test `@id` and `@class` against regular expressions through
EXSLT's `re:test`. lxml runs each `re:test` as a Python callback, per element and per test: on the
bench's news pages these expressions took ~6 of the ~22 ms of an extraction (docs/bench.md). Here each
of them is a Python predicate over the same elements, using the very regular expressions read from
the expression (so a changed token list in trafilatura is followed), put in place of the XPath object
in trafilatura's own lists: trafilatura calls it as it calls an XPath (`expr(tree)` -> the matching
elements, in document order). An expression is replaced only when its text, with the regular
expressions left out, is exactly the one written for here; any other (another trafilatura release)
keeps its XPath. XPath details reproduced: `re:test(@a|@b, p)` tests only the attribute that comes
first in the element's source order (the string value of a node-set is its first node's); a missing
attribute is the empty string; `.//*` is the descendants of the context element, not itself.

**Element classes.** `lxml.html` gives every element proxy its class through a Python callback
(`HtmlElementClassLookup.lookup`), ~2,000 calls per page; the same mapping (form, input, select,
textarea and label get their own classes, every other element `HtmlElement`, comments
`HtmlComment`...) as lxml's C-level namespace lookup saves ~1.5 ms a page. Set on trafilatura's own
parser only (the one that parses every page), after checking it still uses lxml.html's default lookup.

tests/unit/test_trafilatura_fast.py compares both with the originals: the elements each expression
selects on every tree trafilatura prunes while extracting the shared corpus and on generated markup,
and the class of every element of the corpus pages.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlElementClassLookup,
    HtmlEntity,
    HtmlProcessingInstruction,
)

Predicate = Callable[[HtmlElement], bool]
Patterns = list["_Memo"]
_LITERAL = re.compile(r"re:test\(\s*(@[\w|@-]+)\s*,\s*'([^']*)'\s*\)")
_SPACES = re.compile(r"\s+")
_BLOCKS = ("div", "item", "list", "p", "section", "span")


def _first(el: HtmlElement, a: str, va: str | None, b: str, vb: str | None) -> str:
    """The string value of `@a|@b`, given `va` and `vb` (their values, None when missing): the
    attribute of the two that comes first on the element."""
    if va is None:
        return vb or ""
    if vb is None:
        return va
    for key in el.attrib:  # both present: source order decides
        if key == a:
            return va
        if key == b:
            break
    return vb


@dataclass(frozen=True)
class _Form:
    """One expression as written for here: its text with the `re:test` patterns replaced by `{}`, the
    element names it selects (None: any element), and its predicate given the compiled patterns."""

    template: str
    tags: tuple[str, ...] | None
    predicate: Callable[[Patterns], Predicate]


def _raw_tree_infinite_scroll(p: Patterns) -> Predicate:
    def test(el: HtmlElement) -> bool:
        i, c = el.get("id") or "", el.get("class") or ""
        return bool(
            (p[0].search(i) or p[1].search(c))
            and (el.find(".//h1") is None or p[2].search(i) or p[3].search(c))
        )

    return test


def _raw_tree_share_buttons(p: Patterns) -> Predicate:
    return lambda el: "elementor-share-buttons" in (el.get("class") or "")


def _comments_and_lists(p: Patterns) -> Predicate:
    def test(el: HtmlElement) -> bool:
        i, c = el.get("id") or "", el.get("class") or ""
        return bool(
            (p[0].search(i) or p[1].search(c))
            and (el.tag not in ("ol", "ul") or p[2].search(i) or p[3].search(c))
        )

    return test


def _comments(p: Patterns) -> Predicate:
    return lambda el: bool(p[0].search(el.get("id") or "") or p[1].search(el.get("class") or ""))


def _overall_discard(p: Patterns) -> Predicate:
    def test(el: HtmlElement) -> bool:
        get = el.get
        i, c = get("id"), get("class")
        if (i is not None or c is not None) and (
            p[0].search(_first(el, "id", i, "class", c))
            or (i is not None and p[1].search(i))
            or (c is not None and p[2].search(c))
        ):
            return True
        return (
            get("data-lp-replacement-content") is not None
            or "nav" in (get("role") or "").replace("N", "n")
            or "MostPopularStories" in (get("data-component") or "")
        )

    return test


def _overall_hidden(p: Patterns) -> Predicate:
    def test(el: HtmlElement) -> bool:
        get = el.get
        i, c, style = get("id"), get("class"), get("style")
        if i is None and c is None and style is None:  # most elements: only the last test can hold
            return get("aria-hidden") == "true"
        id_class = _first(el, "id", i, "class", c)
        id_style = _first(el, "id", i, "style", style)
        return bool(
            c == "comments-title"
            or id_class.startswith("reply-")
            or p[0].search(id_style)
            or (style is not None and ("display:none" in style or "display: none" in style))
            or (i is not None and p[1].search(i))
            or (c is not None and p[2].search(c))
            or get("aria-hidden") == "true"
        )

    return test


def _teaser(p: Patterns) -> Predicate:
    return lambda el: (
        "teaser" in (el.get("id") or "").replace("T", "t")
        or "teaser" in (el.get("class") or "").replace("T", "t")
    )


def _precision(p: Patterns) -> Predicate:
    def test(el: HtmlElement) -> bool:
        first = _first(el, "id", el.get("id"), "class", el.get("class"))
        return bool(p[0].search(first) or p[1].search(first) or "border" in (el.get("style") or ""))

    return test


def _caption(p: Patterns) -> Predicate:
    return lambda el: "caption" in (el.get("id") or "") or "caption" in (el.get("class") or "")


_FORMS = {
    "RAW_TREE_PRUNE_XPATH": {
        0: _Form(
            ".//*[self::div or self::section or self::aside][ re:test(@id, {}) or re:test(@class, {})]"
            "[ not(.//h1) or re:test(@id, {}) or re:test(@class, {})]",
            ("div", "section", "aside"),
            _raw_tree_infinite_scroll,
        ),
        1: _Form(
            ".//*[self::div or self::section or self::aside][contains(@class, 'elementor-share-buttons')]",
            ("div", "section", "aside"),
            _raw_tree_share_buttons,
        ),
    },
    "REMOVE_COMMENTS_AND_LISTS_XPATH": {
        0: _Form(
            ".//*[self::div or self::list or self::section or self::details or self::ol or self::ul]"
            "[ re:test(@id, {}) or re:test(@class, {})][ not(self::ol or self::ul) or re:test(@id, {})"
            " or re:test(@class, {})]",
            ("div", "list", "section", "details", "ol", "ul"),
            _comments_and_lists,
        ),
    },
    "REMOVE_COMMENTS_XPATH": {
        0: _Form(
            ".//*[self::div or self::list or self::section or self::details][ re:test(@id, {}) or"
            " re:test(@class, {})]",
            ("div", "list", "section", "details"),
            _comments,
        ),
    },
    "OVERALL_DISCARD_XPATH": {
        0: _Form(
            ".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
            "[ @data-lp-replacement-content or contains(translate(@role, 'N', 'n'), 'nav') or"
            " contains(@data-component, 'MostPopularStories') or re:test(@id|@class, {}) or"
            " re:test(@id, {}) or re:test(@class, {})]",
            _BLOCKS,
            _overall_discard,
        ),
        1: _Form(
            ".//*[@class='comments-title' or starts-with(@id|@class, 'reply-') or re:test(@id|@style, {})"
            " or contains(@style, 'display:none') or contains(@style, 'display: none') or"
            " re:test(@id, {}) or re:test(@class, {}) or @aria-hidden='true']",
            None,
            _overall_hidden,
        ),
    },
    "TEASER_DISCARD_XPATH": {
        0: _Form(
            ".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
            "[ contains(translate(@id, 'T', 't'), 'teaser') or contains(translate(@class, 'T', 't'),"
            " 'teaser')]",
            _BLOCKS,
            _teaser,
        ),
    },
    "PRECISION_DISCARD_XPATH": {
        1: _Form(
            ".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
            "[ re:test(@id|@class, {}) or re:test(@id|@class, {}) or contains(@style, 'border')]",
            _BLOCKS,
            _precision,
        ),
    },
    "DISCARD_IMAGE_ELEMENTS": {
        0: _Form(
            ".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
            "[ contains(@id, 'caption') or contains(@class, 'caption')]",
            _BLOCKS,
            _caption,
        ),
    },
}


class _Memo:
    """A compiled pattern whose `search` answers found or not, remembered per string: a page repeats
    its few class names on hundreds of elements, and a site its templates from page to page."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.search: Callable[[str], bool] = lru_cache(maxsize=8192)(self._search)

    def _search(self, value: str) -> bool:
        return self.pattern.search(value) is not None


class PythonXPath:
    """Called like the `lxml.etree.XPath` it stands for: `expr(tree)` -> matching descendants of `tree`
    in document order. `path` is the original expression's text; `original` the XPath itself."""

    def __init__(self, original: etree.XPath, form: _Form, patterns: Sequence[str]) -> None:
        self.original = original
        self.path = original.path
        self._tags: tuple[object, ...] = form.tags if form.tags is not None else (etree.Element,)
        self._test = form.predicate([_Memo(re.compile(p)) for p in patterns])

    def __call__(self, tree: HtmlElement) -> list[HtmlElement]:
        test = self._test
        return [el for el in tree.iterdescendants(*self._tags) if test(el)]

    def __repr__(self) -> str:
        return f"PythonXPath({' '.join(self.path.split())[:60]!r}…)"


def split_expression(path: str) -> tuple[str, list[str]]:
    """An expression's text with its `re:test` patterns replaced by `{}` and the whitespace outside
    quotes collapsed (string literals are kept as they are), and the patterns in order."""
    patterns = [m.group(2) for m in _LITERAL.finditer(path)]
    template = _LITERAL.sub(lambda m: f"re:test({m.group(1)}, {{}})", path)
    parts = template.split("'")  # even parts are outside quotes
    flat = "'".join(_SPACES.sub(" ", part) if i % 2 == 0 else part for i, part in enumerate(parts))
    return flat.strip(), patterns


def translate(name: str, index: int, expr: object) -> PythonXPath | None:
    """The Python version of trafilatura's `name[index]`, or None when its text is not the one written
    for here (or it is not an XPath at all)."""
    form = _FORMS.get(name, {}).get(index)
    if form is None or not isinstance(expr, etree.XPath):
        return None
    template, patterns = split_expression(expr.path)
    if template != form.template or any(re.search(p, "") for p in patterns):
        return None  # another expression; or a pattern matching a missing attribute, which the
        # predicates skip testing
    return PythonXPath(expr, form, patterns)


def install() -> list[str]:
    """The speed-ups (idempotent): the names of the expressions replaced, "element lookup" when
    trafilatura's parser got the C-level lookup, "lean fast pass" when its fast pass stopped copying
    a tree it never reads, "stoplist" when jusText passes the all-language stoplist through."""
    replaced = install_pruning()
    if install_element_lookup():
        replaced.append("element lookup")
    if install_lean_fast_pass():
        replaced.append("lean fast pass")
    if install_stoplist():
        replaced.append("stoplist")
    return replaced


class Stoplist(frozenset[str]):
    """A jusText stoplist whose words are lowercase already: jusText's `define_stoplist` returns it as
    it is instead of lowercasing it into a new frozenset."""


def install_stoplist() -> bool:
    """jusText (trafilatura's second fallback, on one page in ~30 here) gets, when the page's language is
    not given, the union of its 100 stoplists: 154,484 words that trafilatura gathers on first use in
    each process (~0.1 s, again in every recycled worker) and that jusText lowercases into a new
    frozenset on every call (~4.5 ms). Here the union is gathered once (`all_languages_stoplist`, which
    the workers' fork server calls) as a `Stoplist`, and jusText's `define_stoplist` passes a Stoplist
    through: the same words, the same classification. Idempotent; False when either library does not
    have the functions read here."""
    from justext import core as justext_core
    from trafilatura import external

    if getattr(justext_core.define_stoplist, "newswatch_lean", False):
        return True
    original = getattr(justext_core, "define_stoplist", None)
    if not callable(original) or not callable(getattr(external, "jt_stoplist_init", None)):
        return False

    def define_stoplist(stoplist: Any) -> frozenset[str]:
        return stoplist if isinstance(stoplist, Stoplist) else original(stoplist)

    define_stoplist.newswatch_lean = True  # type: ignore[attr-defined]
    define_stoplist.original = original  # type: ignore[attr-defined]
    all_languages_stoplist.original = external.jt_stoplist_init  # type: ignore[attr-defined]
    justext_core.define_stoplist = define_stoplist
    # trafilatura's call for it, on first use
    external.jt_stoplist_init = all_languages_stoplist  # type: ignore[assignment]
    return True


def all_languages_stoplist() -> frozenset[str]:
    """The union of jusText's stoplists, gathered by trafilatura's own `jt_stoplist_init`, lowercased as
    jusText would (they are lowercase already), kept where trafilatura looks for it."""
    from trafilatura import external

    words = external.JT_STOPLIST
    if not isinstance(words, Stoplist):
        gather = getattr(all_languages_stoplist, "original", external.jt_stoplist_init)
        words = Stoplist(w.lower() for w in gather())
        external.JT_STOPLIST = words  # type: ignore[assignment]
    return words


# trafilatura/core.py of trafilatura 2.3.1, read for install_lean_fast_pass: any other file, no change
_CORE_SHA256 = "a123aa052752d3dd1d5a1177ad37f03574456d08df1bcd2ec87971cf3f077825"


def install_lean_fast_pass() -> bool:
    """trafilatura's `_prepare_tree` cleans a copy of the page and keeps a second copy of the cleaned
    tree, before its tags are converted, for the external extractors (readability, jusText) and for
    forum pages with comments kept. In a fast pass without comments nothing reads that second copy
    (trafilatura/core.py 2.3.1: `_extract_and_compare` uses it only when not fast, the forum path only
    with comments, the recall retry passes its own options on): it is not made there (~0.5 ms a
    page). Done only when trafilatura/core.py is byte for byte the file this was read from."""
    from trafilatura import core

    if getattr(core._prepare_tree, "newswatch_lean", False):
        return True
    if hashlib.sha256(Path(core.__file__).read_bytes()).hexdigest() != _CORE_SHA256:
        return False
    original = core._prepare_tree
    tree_cleaning, convert_tags = core.tree_cleaning, core.convert_tags

    def prepare_tree(tree: HtmlElement, options: Any, url: str | None) -> tuple[HtmlElement, Any]:
        if options.fast and not options.comments:
            return convert_tags(tree_cleaning(copy(tree), options), options, url), None
        return original(tree, options, url)

    prepare_tree.newswatch_lean = True  # type: ignore[attr-defined]
    prepare_tree.original = original  # type: ignore[attr-defined]
    core._prepare_tree = prepare_tree
    return True


def html_element_lookup() -> etree.ElementNamespaceClassLookup:
    """lxml.html's element classes, looked up in C: the tag name (no namespace) picks FormElement,
    InputElement... from lxml.html's own table, anything else is HtmlElement; comments, processing
    instructions and entities get lxml.html's classes."""
    lookup = etree.ElementNamespaceClassLookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
        )
    )
    lookup.get_namespace(None).update(HtmlElementClassLookup._default_element_classes)
    return lookup


def install_element_lookup() -> bool:
    """Give trafilatura's HTML parser the C-level lookup, if it is lxml.html's parser as expected."""
    from lxml.html import HTMLParser
    from trafilatura import utils

    parser = getattr(utils, "HTML_PARSER", None)
    if not isinstance(parser, HTMLParser) or any(
        name.lower() != name for name in HtmlElementClassLookup._default_element_classes
    ):
        return False
    parser.set_element_class_lookup(html_element_lookup())
    return True


def install_pruning() -> list[str]:
    """Put the Python versions in place in trafilatura's lists (idempotent); the names replaced."""
    from trafilatura import xpaths

    replaced = []
    for name, forms in _FORMS.items():
        exprs = getattr(xpaths, name, None)
        if not isinstance(exprs, list):
            continue
        for index in forms:
            if index < len(exprs) and (fast := translate(name, index, exprs[index])) is not None:
                exprs[index] = fast
                replaced.append(f"{name}[{index}]")
    return replaced


def originals(name: str) -> list[etree.XPath]:
    """trafilatura's own expressions for `name`, whether or not `install()` has replaced them."""
    from trafilatura import xpaths

    return [e.original if isinstance(e, PythonXPath) else e for e in getattr(xpaths, name)]
