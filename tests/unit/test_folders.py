"""load_folder on real files in tmp_path, and on the project's seeds/ folder (the offline demo corpus)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.extract import extract_article
from newswatch.folders import load_folder, pseudo_url

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
XATAKA_URL = (
    "https://www.xataka.fr/intelligence-artificielle/laccord-de-microsoft-avec-openai-netait-quune-premiere-"
    "etape-ce-quils-veulent-probablement-cest-sen-debarrasser"
)
DEVELOPPEZ_URL = (
    "https://intelligence-artificielle.developpez.com/actu/369842/"
    "Microsoft-travaillerait-sur-des-modeles-aussi-performants-que-ceux-d-OpenAI/"
)

PAGE = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>
<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"""


def _page(title: str, head: str = "", lang: str = "en", text: str = "Some words.") -> bytes:
    return PAGE.format(title=title, head=head, lang=lang, text=text).encode()


def _rss(*links: str) -> bytes:
    items = "".join(f"<item><title>item {i}</title><link>{u}</link></item>" for i, u in enumerate(links))
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()
    )


def test_missing_folder_and_file_instead_of_folder(tmp_path: Path) -> None:
    missing = load_folder(tmp_path / "nope")
    assert missing.entries == () and missing.error == f"folder not found: {tmp_path / 'nope'}"
    (tmp_path / "file.txt").write_text("x")
    assert load_folder(tmp_path / "file.txt").error == f"not a folder: {tmp_path / 'file.txt'}"


def test_html_urls_canonical_then_og_then_pseudo(tmp_path: Path) -> None:
    folder = tmp_path / "press"
    folder.mkdir()
    (folder / "b.html").write_bytes(_page("B", '<link rel="canonical" href="https://example.org/b-story">'))
    (folder / "a.htm").write_bytes(
        _page("A", '<meta property="og:url" content="https://example.org/a-story">')
    )
    (folder / "c page.html").write_bytes(
        _page("C", '<link rel="canonical" href="javascript:alert(1)">', lang="fr")
    )
    (folder / "notes.md").write_text("ignored")
    (folder / ".hidden.html").write_bytes(_page("hidden"))
    (folder / "sub").mkdir()
    (folder / "sub" / "d.html").write_bytes(_page("D"))
    discovery = load_folder(folder)
    assert discovery.error is None and discovery.warning is None and discovery.title == "press"
    assert [(e.url, e.title, e.lang) for e in discovery.entries] == [
        ("https://example.org/a-story", "A", "en"),
        ("https://example.org/b-story", "B", "en"),
        ("https://local.invalid/press/c%20page.html", "C", "fr"),
    ]
    assert all(e.html and e.html.startswith(b"<!DOCTYPE html>") for e in discovery.entries)
    assert pseudo_url("press", "c page.html") == "https://local.invalid/press/c%20page.html"


def test_text_files_title_is_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("\n\n  Title line  \nBody one.\nBody two.\n", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes("Café crème\nDéjà vu.".encode("cp1252"))
    (tmp_path / "empty.txt").write_text("   \n")
    discovery = load_folder(tmp_path)
    by_title = {e.title: e for e in discovery.entries}
    assert by_title["Title line"].text == "Body one.\nBody two."
    assert by_title["Title line"].url == f"https://local.invalid/{tmp_path.name}/note.txt"
    assert by_title["Café crème"].text == "Déjà vu."
    assert discovery.warning == "empty.txt: empty text file"


def test_feed_entries_get_the_html_of_matching_files(tmp_path: Path) -> None:
    (tmp_path / "one.html").write_bytes(
        _page("One", '<link rel="canonical" href="https://example.org/one-story">')
    )
    (tmp_path / "two.html").write_bytes(
        _page("Two", '<link rel="canonical" href="https://example.org/two-story">')
    )
    (tmp_path / "feed.xml").write_bytes(
        _rss("http://www.example.org/one-story/", "https://example.org/elsewhere")
    )
    discovery = load_folder(tmp_path)
    urls = [(e.url, e.html is not None) for e in discovery.entries]
    # feed.xml sorts first: its two entries, the first with one.html attached; then two.html alone
    assert urls == [
        ("http://www.example.org/one-story/", True),
        ("https://example.org/elsewhere", False),
        ("https://example.org/two-story", True),
    ]
    assert discovery.entries[0].title == "item 0"


def test_broken_feed_and_unreadable_file_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "bad.rss").write_bytes(b"<html><body>oops</body></html>")
    (tmp_path / "ok.txt").write_text("Fine\ntext")
    locked = tmp_path / "locked.html"
    locked.write_bytes(_page("L"))
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read a mode-000 file (root)")
        discovery = load_folder(tmp_path)
    finally:
        locked.chmod(0o644)
    assert [e.title for e in discovery.entries] == ["Fine"]
    assert (
        discovery.warning
        == "bad.rss: not a feed: looks like HTML; could not read locked.html: Permission denied"
    )


def test_unreadable_file_is_a_warning_even_as_root(tmp_path: Path) -> None:
    """/proc/self/mem is a regular file that no one can read from offset 0 (EIO), root included."""
    if not Path("/proc/self/mem").is_file():
        pytest.skip("no /proc")
    (tmp_path / "ok.txt").write_text("Fine\ntext")
    (tmp_path / "broken.html").symlink_to("/proc/self/mem")
    (tmp_path / "dangling.html").symlink_to(tmp_path / "gone.html")  # not a file: skipped
    (tmp_path / "dir.html").mkdir()  # a folder named like a page: skipped
    discovery = load_folder(tmp_path)
    assert [e.title for e in discovery.entries] == ["Fine"]
    assert discovery.warning == "could not read broken.html: Input/output error"


# --- the project's seeds/ ---------------------------------------------------------------------------


def test_seeds_folder_yields_the_two_articles_with_their_html() -> None:
    if not SEEDS.is_dir():
        pytest.skip("seeds/ is absent")
    discovery = load_folder(SEEDS)
    assert discovery.error is None and discovery.warning is None
    assert [e.url for e in discovery.entries] == [DEVELOPPEZ_URL, XATAKA_URL]
    assert all(e.html is not None and e.lang == "fr" for e in discovery.entries)
    assert discovery.entries[0].published_at == datetime(2025, 3, 10, 9, 15, tzinfo=UTC)
    assert discovery.entries[1].published_at == datetime(2024, 5, 28, 6, 30, tzinfo=UTC)


def test_seed_articles_extract_in_full() -> None:
    if not SEEDS.is_dir():
        pytest.skip("seeds/ is absent")
    xataka, developpez = (
        extract_article((SEEDS / name).read_bytes(), url)
        for name, url in (
            ("xataka-microsoft-openai.html", XATAKA_URL),
            ("developpez-microsoft-mai.html", DEVELOPPEZ_URL),
        )
    )
    assert xataka.error is None and xataka.text
    assert xataka.title == (
        "L’accord de Microsoft avec OpenAI n’était qu’une première étape. "
        "Ce qu’ils veulent (probablement), c’est s’en débarrasser"
    )
    assert xataka.canonical_url == XATAKA_URL and xataka.lang == "fr" and xataka.site_name == "Xataka"
    assert xataka.published_at == datetime(2024, 5, 28, 6, 30, tzinfo=UTC)
    for sentence in (
        "L’énorme investissement de Redmond a permis de dynamiser sa plateforme d’IA",
        "Microsoft a déjà son premier concurrent GPT-4 appelé MAI-1 (MicrosoftAI)",
        "Ce chemin a déjà commencé avec le Phi-3, un modèle capable de fonctionner sur des appareils mobiles",
        "Si tout va aussi vite que le reste de l’IA avance, peut-être pas grand-chose.",
    ):
        assert sentence in xataka.text
    assert "Newsletter" not in xataka.text and "Mentions légales" not in xataka.text

    assert developpez.error is None and developpez.text
    assert developpez.title == "Microsoft travaillerait sur des modèles aussi performants que ceux d'OpenAI"
    assert developpez.canonical_url == DEVELOPPEZ_URL and developpez.lang == "fr"
    assert developpez.published_at == datetime(2025, 3, 10, 9, 15, tzinfo=UTC)
    for sentence in (
        "Les modèles de cette famille, baptisée « MAI », pourraient être utilisés",
        "Microsoft propose déjà un ensemble de modèles plus petits, appelés « Phi »",
        "Rupture entre Microsoft et OpenAI : quels impacts sur les deux entreprises ?",
    ):
        assert sentence in developpez.text


def test_seed_articles_match_the_shared_seed_texts() -> None:
    """The pages carry the seed texts faithfully: every body line of the .txt is in the page."""
    shared = SEEDS.parent.parent / "shared" / "seeds"
    if not SEEDS.is_dir() or not shared.is_dir():
        pytest.skip("seeds/ or ../shared/seeds is absent")
    pages = {p.name: p.read_text(encoding="utf-8").replace("&#x27;", "'") for p in SEEDS.glob("*.html")}
    for txt in sorted(shared.glob("*.txt")):
        lines = [ln.strip(" •") for ln in txt.read_text(encoding="utf-8").splitlines() if ln.strip(" •-")]
        page = next(p for p in pages.values() if lines[0] in p)
        missing = [ln for ln in lines if ln not in page and ln.split(" | ")[-1] not in page]
        assert missing == [], (txt.name, missing[:2])


def test_seeds_can_be_copied_and_still_load(tmp_path: Path) -> None:
    if not SEEDS.is_dir():
        pytest.skip("seeds/ is absent")
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    assert [e.url for e in load_folder(copy).entries] == [DEVELOPPEZ_URL, XATAKA_URL]
