"""Everything done to one new page that depends only on that page, in one pure call (run by the
extraction workers, on every core): extract its text and metadata, combine them with what the feed
said (`build_article`: text choice, language, content hash) and fingerprint the result for dedupe and
story clustering (`prepare_article`: MinHash, LSH bands, story features and keys) and, when asked,
label it with the shipped topics (`default_classifier`: compiled once, in the workers' fork server).

What needs the store (the candidates, the decision) stays with the caller: a worker holds no database
connection. So does labelling with a user's own topics file: the caller compiles it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from newswatch.assemble import build_article
from newswatch.classify import Classification, default_classifier
from newswatch.clustering import Prepared, prepare_article
from newswatch.config import DedupeConfig
from newswatch.extract import extract_article
from newswatch.model import Entry, Extracted

ExtractFn = Callable[[bytes, str | None], Extracted]


@dataclass(frozen=True)
class PageJob:
    """One page to analyse, with what the caller knows about it."""

    entry: Entry
    html: bytes | None  # the page, or the feed's own article HTML; None: the entry's text or summary only
    url: str | None  # where the HTML came from (after redirects), for relative links and the canonical URL
    source: str
    fetched_at: datetime
    dedupe: DedupeConfig
    final_url: str | None = None  # the page's URL after redirects, when the page itself was fetched
    source_lang: str | None = None
    min_text_chars: int = 200
    classify: bool = False  # label the article with the shipped topics (`default_classifier`)


@dataclass(frozen=True)
class Analysed:
    """What became of a page: its extraction (None when there was no HTML) and the article with its
    fingerprints (None when there is nothing worth storing)."""

    extracted: Extracted | None
    prepared: Prepared | None
    classification: Classification | None = None  # when the job asked for it and there is an article

    @property
    def error(self) -> str | None:
        return self.extracted.error if self.extracted is not None else None

    def without_page_text(self) -> Analysed:
        """The same, minus the extraction's text and metadata (the article has what it kept; the error
        stays): what a worker sends back, so the page's text is neither pickled nor held twice."""
        if self.extracted is None or self.prepared is None:
            return self
        return replace(self, extracted=Extracted(text=None, error=self.extracted.error))


def analyse_page(job: PageJob, extract_fn: ExtractFn = extract_article) -> Analysed:
    """Extract (when there is HTML), build the article, fingerprint it. Extraction failures are values
    (`Extracted.error`): the article is then built from what the feed gave, if anything."""
    extracted = _extract(job, extract_fn)
    article = build_article(
        job.entry,
        extracted,
        source=job.source,
        fetched_at=job.fetched_at,
        final_url=job.final_url,
        source_lang=job.source_lang,
        min_text_chars=job.min_text_chars,
    )
    if article is None:
        return Analysed(extracted, None)
    labels = None
    if job.classify:
        labels = default_classifier().classify(article.title, article.text, article.lang)
    return Analysed(extracted, prepare_article(article, job.dedupe), labels)


def _extract(job: PageJob, extract_fn: ExtractFn) -> Extracted | None:
    if job.html is None:
        return None
    if extract_fn is extract_article and job.entry.published_at is not None:
        # the feed's date wins over the page's (build_article): no search for the page's
        return extract_article(job.html, job.url, page_date=False)
    return extract_fn(job.html, job.url)
