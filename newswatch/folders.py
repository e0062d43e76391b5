"""Folder discovery: the files of a local folder in, a `Discovery` out (reads files; no network).

What each file becomes (files sorted by name; subfolders, hidden files and other extensions are skipped):

- `.html` / `.htm`: one entry carrying the page bytes (`Entry.html`). Its URL is the page's
  `<link rel=canonical>`, else its `og:url`, else the pseudo URL
  `https://local.invalid/<folder-name>/<file-name>` (`.invalid` is reserved: it never resolves, and
  the URL stays the same wherever the folder lives, so re-ingesting the folder is idempotent).
- `.xml` / `.rss` / `.atom`: a feed, parsed with `parse_feed`; its entries are yielded. An entry whose
  URL is the URL of an HTML file of the folder gets that file's bytes attached (no network needed),
  and that HTML file is then not yielded a second time.
- `.txt`: one entry carrying the text (`Entry.text`); its first non-empty line is the title and the
  rest is the text. URL: the pseudo URL.

An unreadable file, or a feed that does not parse, is a warning; a missing folder is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlsplit

from newswatch.extract import (
    extract_canonical_url,
    extract_html_lang,
    extract_og_url,
    extract_published_at,
    parse_html_tree,
)
from newswatch.feeds import parse_feed
from newswatch.model import Discovery, Entry

PSEUDO_HOST = "local.invalid"
HTML_SUFFIXES = (".html", ".htm")
FEED_SUFFIXES = (".xml", ".rss", ".atom")
TEXT_SUFFIXES = (".txt",)


@dataclass
class _Loaded:
    """One file, read and turned into entries (HTML: one entry; feed: many; text: one)."""

    path: Path
    kind: str  # html | feed | text
    entries: list[Entry]


def load_folder(path: Path) -> Discovery:
    """Entries for the article files of a folder (see the module docstring for the rules)."""
    path = Path(path)
    if not path.exists():
        return Discovery(entries=(), error=f"folder not found: {path}")
    if not path.is_dir():
        return Discovery(entries=(), error=f"not a folder: {path}")
    try:
        files = sorted(
            (p for p in path.iterdir() if not p.name.startswith(".") and _kind(p) and p.is_file()),
            key=lambda p: p.name,
        )
    except OSError as exc:
        return Discovery(entries=(), error=f"cannot list folder {path}: {exc.strerror or exc}")
    problems: list[str] = []
    loaded = [item for f in files if (item := _load_file(f, path.name, problems)) is not None]
    entries = _merge(loaded)
    return Discovery(entries=tuple(entries), warning="; ".join(problems) or None, title=path.name)


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in FEED_SUFFIXES:
        return "feed"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return None


def pseudo_url(folder_name: str, file_name: str) -> str:
    """The stable URL of a local file that names none itself."""
    return f"https://{PSEUDO_HOST}/{quote(folder_name)}/{quote(file_name)}"


def _load_file(path: Path, folder_name: str, problems: list[str]) -> _Loaded | None:
    kind = _kind(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(f"could not read {path.name}: {exc.strerror or exc}")
        return None
    if kind == "html":
        return _Loaded(path, "html", [_html_entry(data, pseudo_url(folder_name, path.name))])
    if kind == "text":
        entry = _text_entry(data, pseudo_url(folder_name, path.name))
        if entry is None:
            problems.append(f"{path.name}: empty text file")
            return None
        return _Loaded(path, "text", [entry])
    discovery = parse_feed(data)
    if discovery.error:
        problems.append(f"{path.name}: {discovery.error}")
    elif discovery.warning:
        problems.append(f"{path.name}: {discovery.warning}")
    return _Loaded(path, "feed", list(discovery.entries))


def _html_entry(data: bytes, fallback_url: str) -> Entry:
    tree = parse_html_tree(data)
    if tree is None:
        return Entry(url=fallback_url, html=data)
    url = extract_canonical_url(tree) or extract_og_url(tree) or fallback_url
    titles = tree.xpath("//meta[@property='og:title']/@content | //title/text()")
    title = next((" ".join(str(t).split()) for t in titles if str(t).strip()), None)
    return Entry(
        url=url,
        title=title,
        published_at=extract_published_at(tree),
        lang=extract_html_lang(tree),
        html=data,
    )


def _text_entry(data: bytes, url: str) -> Entry | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.strip().splitlines()
    if not lines:
        return None
    title = " ".join(lines[0].split())
    body = "\n".join(lines[1:]).strip()
    return Entry(url=url, title=title, text=body or title)


def _url_key(url: str | None) -> str | None:
    """URLs that differ only by scheme, letter case of the host, `www.` or a trailing slash match."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{parts.path.rstrip('/')}{query}"


def _merge(loaded: list[_Loaded]) -> list[Entry]:
    """Feed entries get the bytes of the HTML file with their URL; such files are not yielded again."""
    html_by_key: dict[str, Entry] = {}
    for item in loaded:
        if item.kind == "html" and (key := _url_key(item.entries[0].url)):
            html_by_key.setdefault(key, item.entries[0])
    claimed = {
        key
        for item in loaded
        if item.kind == "feed"
        for entry in item.entries
        if (key := _url_key(entry.url)) in html_by_key
    }
    out: list[Entry] = []
    seen: set[str] = set()
    for item in loaded:
        for entry in item.entries:
            key = _url_key(entry.url)
            if item.kind == "html" and key in claimed:
                continue
            if key and key in seen:
                continue
            if item.kind == "feed" and key in html_by_key:
                page = html_by_key[key]
                entry = replace(
                    entry, html=page.html, lang=entry.lang or page.lang, title=entry.title or page.title
                )
            if key:
                seen.add(key)
            out.append(entry)
    return out
