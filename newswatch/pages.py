"""Listing-page discovery: a section or home page's HTML in, its article links out (pure).

Three ways to choose links, from most to least explicit:

- `link_pattern` (a regex searched in the absolute URL): every http(s) link that matches, on any site;
- `selector` (CSS, the subset below): the links inside the selected elements, on the page's own site;
- neither: the page's own site and an article-like URL (see `is_article_url`).

lxml's cssselect needs the `cssselect` package, which is not installed; `css_to_xpath` translates
this subset itself: type (`a`, `*`), `.class`, `#id`, `[attr]`, `[attr=v]`, `[attr~=v]`, `[attr^=v]`,
`[attr$=v]`, `[attr*=v]`, `[attr|=v]`, the descendant (space) and child (`>`) combinators, and `,`
groups. Anything else (pseudo-classes, `+`, `~`) is refused with a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from newswatch.extract import absolute_http_url, parse_html_tree
from newswatch.model import Discovery, Entry
from newswatch.urls import site_of

MAX_LINKS = 200
TITLE_MAX_CHARS = 300
SLUG_MIN_WORDS = 4  # 'qui-sommes-nous', 'art-et-creation' are sections; headlines run longer

# Path segments that name a listing, a person, a legal page or the site's machinery, never an article.
_NOT_ARTICLE_SEGMENTS = frozenset(
    {
        "tag",
        "tags",
        "tagged",
        "topic",
        "topics",
        "category",
        "categories",
        "categorie",
        "categoria",
        "categorias",
        "rubrique",
        "rubriques",
        "section",
        "sections",
        "author",
        "authors",
        "auteur",
        "auteurs",
        "autor",
        "autores",
        "autoren",
        "redaktion",
        "profile",
        "profiles",
        "user",
        "users",
        "member",
        "members",
        "login",
        "logout",
        "signin",
        "sign-in",
        "signup",
        "sign-up",
        "register",
        "account",
        "accounts",
        "subscribe",
        "subscription",
        "subscriptions",
        "newsletter",
        "newsletters",
        "abo",
        "abonnement",
        "about",
        "about-us",
        "contact",
        "contact-us",
        "kontakt",
        "impressum",
        "imprint",
        "privacy",
        "privacy-policy",
        "datenschutz",
        "cookies",
        "cookie-policy",
        "terms",
        "legal",
        "mentions-legales",
        "aviso-legal",
        "search",
        "suche",
        "recherche",
        "buscar",
        "feed",
        "feeds",
        "rss",
        "atom",
        "static",
        "assets",
        "wp-content",
        "wp-admin",
        "wp-json",
        "wp-login.php",
        "cdn-cgi",
        "page",
        "shop",
        "store",
        "careers",
        "help",
        "faq",
        "sitemap",
        "advertise",
        "advertising",
        "cart",
        "checkout",
        "qui-sommes-nous",
        "a-propos",
        "nous-contacter",
        "connexion",
        "conectar",
        "ingresar",
        "anmelden",
        "abonnieren",
        "suscripcion",
        "suscribete",
        "cgu",
        "cgv",
    }
)
# Words that, inside the last path segment, mark a legal, account or service page.
_SERVICE_WORDS = re.compile(
    r"privacy|privacidad|confidentialit|datenschutz|cookie|terms|terminos|condiciones|conditions-generales"
    r"|mentions-legales|impressum|newsletter|login|signin|signup|subscri|suscri|abonne|contact"
)
_ASSET_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".svg",
    ".ico",
    ".bmp",
    ".tif",
    ".tiff",
    ".avif",
    ".css",
    ".js",
    ".mjs",
    ".json",
    ".xml",
    ".rss",
    ".atom",
    ".pdf",
    ".zip",
    ".gz",
    ".tgz",
    ".rar",
    ".7z",
    ".mp3",
    ".mp4",
    ".m4a",
    ".wav",
    ".ogg",
    ".webm",
    ".mov",
    ".avi",
    ".woff",
    ".woff2",
    ".ttf",
    ".eot",
    ".txt",
    ".csv",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".apk",
    ".exe",
    ".dmg",
)
_LISTING_PREFIX = re.compile(r"^(?:tags?|topics?|category|categories|author|auteur|autor)[_-]")
_PAGINATION_KEYS = frozenset({"page", "p", "pg", "paged", "start", "offset"})
_DATE_IN_PATH = re.compile(r"/(?:19|20)\d{2}[/-](?:0?[1-9]|1[0-2]|[a-z]{3})(?:[/-]|$)|(?:19|20)\d{6}")
_NUMERIC_ID = re.compile(r"(?:^|[^0-9])\d{5,}(?:[^0-9]|$)")
_SLUG_WORD = re.compile(r"[^\W_]+")
_PAGE_PATH = re.compile(r"/page/\d+/?$")


def parse_listing_page(
    body: bytes,
    page_url: str,
    selector: str | None = None,
    link_pattern: str | None = None,
    max_links: int = MAX_LINKS,
) -> Discovery:
    """Article links found on a listing page, de-duplicated, in page order, anchor text as title hint."""
    try:
        pattern = re.compile(link_pattern) if link_pattern else None
    except re.error as exc:
        return Discovery(entries=(), error=f"bad link_pattern {link_pattern!r}: {exc}")
    try:
        xpath = css_to_xpath(selector) if selector else None
    except ValueError as exc:
        return Discovery(entries=(), error=f"bad selector {selector!r}: {exc}")
    tree = parse_html_tree(body)
    if tree is None:
        return Discovery(entries=(), error="empty body" if not body.strip() else "not HTML")
    base = _base_url(tree, page_url)
    links = _collect_links(_anchors(tree, xpath), base, page_url, pattern, selected=xpath is not None)
    warning = None
    if len(links) > max_links:
        warning = f"page has {len(links)} article links; kept the first {max_links}"
        links = links[:max_links]
    entries = tuple(Entry(url=link.url, title=link.title) for link in links)
    return Discovery(entries=entries, warning=warning, title=_page_title(tree))


@dataclass
class _Link:
    url: str
    title: str | None


def _collect_links(
    anchors: Iterator[HtmlElement],
    base: str,
    page_url: str,
    pattern: re.Pattern[str] | None,
    *,
    selected: bool,
) -> list[_Link]:
    site = site_of(page_url)
    found: dict[str, _Link] = {}
    for anchor in anchors:
        url = absolute_http_url(anchor.get("href") or "", base)
        if url is None or _same_page(url, page_url) or not _wanted(url, site, pattern, selected=selected):
            continue
        title = _anchor_text(anchor)
        if url not in found:
            found[url] = _Link(url, title)
        elif title and len(title) > len(found[url].title or ""):
            found[url].title = title  # an image link first, the headline link later: keep the headline
    return list(found.values())


def _wanted(url: str, site: str, pattern: re.Pattern[str] | None, *, selected: bool) -> bool:
    if pattern is not None:
        return pattern.search(url) is not None
    if not _same_site(url, site) or _is_asset(url):
        return False
    return selected or is_article_url(url)


def _same_page(url: str, page_url: str) -> bool:
    """The page itself, or a variant of it (`?view=print`, `#comments`): not a link to another article."""
    a, b = urlsplit(url), urlsplit(page_url)
    return (a.hostname, a.path.rstrip("/")) == (b.hostname, b.path.rstrip("/"))


def _anchors(tree: HtmlElement, xpath: str | None) -> Iterator[HtmlElement]:
    """`<a href>` elements in document order: all of them, or those in/under the selected elements."""
    if xpath is None:
        yield from tree.iter("a")
        return
    seen: set[HtmlElement] = set()
    for element in tree.xpath(xpath):
        if not isinstance(element, HtmlElement):
            continue
        candidates = [element] if element.tag == "a" else list(element.iter("a"))
        if element.tag != "a" and not candidates:
            candidates = [a for a in element.iterancestors("a")][:1]  # selector hit a headline inside <a>
        for anchor in candidates:
            if anchor not in seen and anchor.get("href"):
                seen.add(anchor)
                yield anchor


def _anchor_text(anchor: HtmlElement) -> str | None:
    text = " ".join(str(anchor.text_content()).split())
    if not text:
        text = " ".join((anchor.get("title") or "").split())
    if not text:
        alts = [img.get("alt") or "" for img in anchor.iter("img")]
        text = " ".join(" ".join(alts).split())
    return text[:TITLE_MAX_CHARS] or None


def _page_title(tree: HtmlElement) -> str | None:
    for title in tree.iter("title"):
        text = " ".join(str(title.text_content()).split())
        if text:
            return text
    return None


def _base_url(tree: HtmlElement, page_url: str) -> str:
    for base in tree.iter("base"):
        if href := absolute_http_url(base.get("href") or "", page_url):
            return href
    return page_url


def _same_site(url: str, site: str) -> bool:
    return site_of(url) == site


def _is_asset(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(tuple(_ASSET_SUFFIXES))


def is_article_url(url: str) -> bool:
    """Does this URL look like one article rather than a listing, a person, a legal page or an asset?

    No: the home page, a path segment naming a tag/category/author/login/about/privacy/search/feed/
    static asset/archive, pagination (`/page/2`, `?page=2`), a file asset. Yes: a date in the path,
    a numeric id of 5+ digits, or a slug of 4+ words (hyphens or underscores).
    """
    parts = urlsplit(url)
    path = parts.path
    segments = [s for s in path.lower().split("/") if s]
    if not segments or _is_asset(url) or _PAGE_PATH.search(path):
        return False
    if any(s in _NOT_ARTICLE_SEGMENTS or _LISTING_PREFIX.match(s) for s in segments):
        return False
    if '"' in url or "\\" in url:
        return False  # a broken href (escaped quotes from a script template)
    if _SERVICE_WORDS.search(segments[-1]) or "http" in parts.query.lower():
        return False  # legal/account pages; login and share links that carry a return URL
    if _PAGINATION_KEYS & set(parse_qs(parts.query)):
        return False
    if segments[-1].isdigit() and _DATE_IN_PATH.search(path + "/"):
        return False  # a date archive: /2018/06/
    if _DATE_IN_PATH.search(path) or _NUMERIC_ID.search(path) or _NUMERIC_ID.search(parts.query):
        return True
    return any(_is_slug(s) for s in segments)


def _is_slug(segment: str) -> bool:
    stem = re.sub(r"\.(?:s?html?|php|aspx?|jsp)$", "", segment)
    if "-" not in stem and "_" not in stem:
        return False
    words = [w for w in _SLUG_WORD.findall(stem) if not w.isdigit()]
    return len(words) >= SLUG_MIN_WORDS


# --- a small CSS selector subset, translated to XPath -------------------------------------------------

_CSS_TOKEN = re.compile(
    r"""\s*(?P<child>>)\s*
    |\s*(?P<comma>,)\s*
    |(?P<space>\s+)
    |(?P<tag>\*|[A-Za-z][\w-]*)
    |\.(?P<cls>-?[A-Za-z_][\w-]*)
    |\#(?P<id>[\w-]+)
    |\[\s*(?P<attr>[A-Za-z_][\w:.-]*)\s*
        (?:(?P<op>[~^$*|]?=)\s*(?P<val>"[^"]*"|'[^']*'|[^\]\s"']+)\s*)?\]""",
    re.X,
)


def css_to_xpath(selector: str) -> str:
    """Translate the supported CSS subset to an XPath expression; ValueError says what is not supported."""
    text = selector.strip()
    if not text:
        raise ValueError("empty selector")
    groups: list[str] = []
    steps: list[str] = []
    compound: list[str] = []  # [type, predicate, ...]
    axis, dangling, pos = "//", False, 0
    while pos < len(text):
        m = _CSS_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unsupported syntax at {text[pos : pos + 20]!r}")
        pos = m.end()
        kind = "attr" if m.lastgroup in ("op", "val") else str(m.lastgroup)
        if kind in ("child", "comma", "space"):
            if compound:
                steps.append(axis + _compound_xpath(compound))
                compound = []
            elif dangling or not steps:
                raise ValueError(f"misplaced {m.group(kind).strip() or 'space'!r}")
            if kind == "comma":
                groups.append("".join(steps))
                steps = []
            axis, dangling = ("/" if kind == "child" else "//"), True
        elif kind == "tag":
            if compound:
                raise ValueError(f"type selector {m.group('tag')!r} must come first")
            compound, dangling = [m.group("tag").lower()], False
        else:
            compound = (compound or ["*"]) + [_predicate(m)]
            dangling = False
    if compound:
        steps.append(axis + _compound_xpath(compound))
    elif dangling:
        raise ValueError("selector ends with a combinator")
    groups.append("".join(steps))
    return " | ".join(groups)


def _compound_xpath(compound: list[str]) -> str:
    return compound[0] + "".join(f"[{p}]" for p in compound[1:])


def _predicate(m: re.Match[str]) -> str:
    if m.group("cls") is not None:
        return _has_word("@class", m.group("cls"))
    if m.group("id") is not None:
        return f"@id={_xpath_literal(m.group('id'))}"
    attr, op, raw = m.group("attr"), m.group("op"), m.group("val")
    if op is None:
        return f"@{attr}"
    value = raw[1:-1] if raw[0] in "\"'" else raw
    literal = _xpath_literal(value)
    at = f"@{attr}"
    return {
        "=": f"{at}={literal}",
        "~=": _has_word(at, value),
        "^=": f"starts-with({at}, {literal})",
        "$=": f"substring({at}, string-length({at}) - string-length({literal}) + 1) = {literal}",
        "*=": f"contains({at}, {literal})",
        "|=": f"({at}={literal} or starts-with({at}, concat({literal}, '-')))",
    }[op]


def _has_word(attr: str, word: str) -> str:
    return f"contains(concat(' ', normalize-space({attr}), ' '), {_xpath_literal(' ' + word + ' ')})"


def _xpath_literal(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError("a value cannot contain both kinds of quotes")


def validate_selector(selector: str) -> None:
    """Raise ValueError when `selector` is outside the subset or does not compile (for config checks)."""
    etree.XPath(css_to_xpath(selector))
