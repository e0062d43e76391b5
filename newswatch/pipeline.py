"""Plain-Python composition of the stages: what the Prefect flow calls, one source at a time.

A poll of one source: fetch (conditional GET, body-hash skip) → discover entries → skip the articles
already stored → fetch the new pages (polite, concurrent) → extract, assemble and fingerprint (process
pool, every core) → classify → one write transaction. A failure anywhere becomes the source's outcome,
recorded in `fetches`; it never stops the other sources.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from queue import SimpleQueue

from newswatch.analyse import Analysed, PageJob, analyse_page
from newswatch.assemble import entry_key
from newswatch.classify import Classification, Classifier
from newswatch.clustering import Prepared
from newswatch.config import Config, SourceConfig
from newswatch.extract import extract_article
from newswatch.extract_pool import ExtractFn, ExtractPool, Job, Result
from newswatch.feeds import parse_feed
from newswatch.fetch import Fetcher, Resolver
from newswatch.folders import load_folder
from newswatch.model import Discovery, Entry, FetchRecord, FetchResult, Outcome, SourceReport
from newswatch.pages import parse_listing_page
from newswatch.persist import Sighting, WriteResult, write_batch
from newswatch.reclassify import classifier_for
from newswatch.schedule import is_due, next_state
from newswatch.source_lock import hold_source_lock
from newswatch.store import Store
from newswatch.store.articles import KnownArticle, get_known_articles
from newswatch.store.fetches import SourceState, get_source_states
from newswatch.urls import canonicalize_url

log = logging.getLogger("newswatch.pipeline")

# Pages per chunk, per worker: how far fetching runs ahead of the workers (two chunks), and how many pages
# come back to the caller at a time. The workers themselves get pages one by one, across chunks.
_CHUNK_PER_WORKER = 16
# After a source with more new pages than this, the idle extraction workers are stopped before its write
# (they start again, in ~10 ms each, for the next source that has new pages).
_RELEASE_WORKERS_AFTER = 100

# A page that fails like this will not come back: keep the article with what the feed gave.
_PERMANENT_PAGE_FAILURES = {Outcome.HTTP_ERROR, Outcome.TOO_LARGE, Outcome.ROBOTS, Outcome.REDIRECT_ERROR}
# A page that fails like this may well answer next time: not stored, and the feed is re-read next poll.
_TRANSIENT_PAGE_FAILURES = {Outcome.TIMEOUT, Outcome.CONNECT_ERROR, Outcome.RATE_LIMITED, Outcome.DNS_ERROR}


def is_transient(f: FetchResult) -> bool:
    """A failure worth trying again next poll: a timeout, a dropped connection, a 429, a 5xx."""
    return f.outcome in _TRANSIENT_PAGE_FAILURES or (
        f.outcome is Outcome.HTTP_ERROR and (f.status or 0) >= 500
    )


def _with_unkeyed_note(warning: str | None, entries: Sequence[Entry]) -> str | None:
    """The discovery's warning, plus a note of the entries that have text but neither an http(s) link
    (none, or a javascript:/data:/file: one, dropped by discovery) nor a URL GUID: nothing identifies
    them across polls, so they cannot be stored (they are skipped, not lost silently)."""
    unkeyed = sum(1 for e in entries if entry_key(e) is None)
    if not unkeyed:
        return warning
    note = f"skipped {unkeyed} entr{'y' if unkeyed == 1 else 'ies'} without an http(s) link or URL GUID"
    return f"{warning}; {note}" if warning else note


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_line(text: str, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass
class _Page:
    entry: Entry
    key: str
    fetched: FetchResult | None = None
    html: bytes | None = None
    analysed: Analysed | None = None
    from_page: bool = False  # extracted from the page (or local file) itself, not the feed's HTML


def _is_usable(p: _Page) -> bool:
    """False for a page that failed for now (not stored: tried again next poll) or was refused; a page
    gone for good (404, too large...) is kept with what the feed gave, if the feed gave a title."""
    f = p.fetched
    if f is None or f.ok:
        return True
    return f.outcome in _PERMANENT_PAGE_FAILURES and not is_transient(f) and bool(p.entry.title)


@dataclass
class RunSummary:
    run_id: str
    reports: list[SourceReport] = field(default_factory=list)

    @property
    def new_articles(self) -> int:
        return sum(r.new_articles for r in self.reports)

    @property
    def failed(self) -> list[SourceReport]:
        return [r for r in self.reports if r.outcome not in (Outcome.OK, Outcome.NOT_MODIFIED)]


class PollSession:
    """Shared resources of one poll run: the HTTP client, the extraction pool, the classifier."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        run_id: str | None = None,
        now: Callable[[], datetime] = utcnow,
        classifier: Classifier | None = None,
        extract_fn: ExtractFn = extract_article,
        resolve: Resolver | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.run_id = run_id or uuid.uuid4().hex
        self.now = now
        # With the shipped topics, the workers label the articles (their fork server compiled the rules
        # once, ~0.8 s of CPU): this process builds a classifier only if it must label a page itself
        # (its worker timed out). A user's own topics file is loaded here, now, so that a broken one fails
        # the run at start; this process then labels, and builds its classifier in the background as the
        # first new pages go to the workers.
        self._labels_in_workers = classifier is None and not config.topics
        self._classifier = classifier or (classifier_for(config) if config.topics else None)
        self._classifier_lock = threading.Lock()
        self._start_lock = threading.Lock()  # not the classifier's: that one is held while it is built
        self._started: set[str] = set()  # what _in_background_once has started
        self.fetcher = Fetcher(
            config.fetch, allow_private_networks=config.allow_private_networks, resolve=resolve
        )
        self.extractor = ExtractPool(
            workers=config.extract.workers,
            page_timeout=config.extract.page_timeout,
            recycle_after=config.extract.recycle_after,
            extract_fn=extract_fn,
        )
        self._page_threads = ThreadPoolExecutor(
            max_workers=config.fetch.concurrency, thread_name_prefix="newswatch-fetch"
        )
        self._states_lock = threading.Lock()
        with store.read() as con:
            self._states: dict[str, SourceState] = get_source_states(con)

    def __enter__(self) -> PollSession:
        return self

    @property
    def classifier(self) -> Classifier:
        with self._classifier_lock:
            if self._classifier is None:
                self._classifier = classifier_for(self.config)
            return self._classifier

    def _prepare_for_new_pages(self) -> None:
        """Start the extraction workers in a thread, once: they are up when the first pages are fetched."""
        self._in_background_once("workers", self.extractor.start)

    def _build_classifier_soon(self) -> None:
        """Build the classifier in a thread, once, as the first pages go to the workers: it is needed
        when their results come back. Not earlier: its ~1 s of CPU holds this process's interpreter
        lock, and before the first pages are out it would hold back reading the feed and fetching them
        while the workers wait."""
        self._in_background_once("classifier", lambda: self.classifier)

    def _in_background_once(self, name: str, work: Callable[[], object]) -> None:
        """`work` in a daemon thread, the first time `name` is asked for. A failure is only logged: the
        caller that needs the result does the work again, and reports the failure there."""
        with self._start_lock:
            if name in self._started:
                return
            self._started.add(name)

        def run() -> None:
            try:
                work()
            except Exception:
                log.debug("%s in the background failed", name, exc_info=True)

        threading.Thread(target=run, name=f"newswatch-{name}", daemon=True).start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._page_threads.shutdown(wait=True, cancel_futures=True)
        self.extractor.close()
        self.fetcher.close()

    # -- which sources ---------------------------------------------------------------------------

    def select_sources(self, names: Sequence[str] = (), *, only_due: bool = False) -> list[SourceConfig]:
        chosen = (
            [self.config.source(n) for n in names] if names else [s for s in self.config.sources if s.enabled]
        )
        if only_due:
            now = self.now()
            chosen = [s for s in chosen if is_due(self._states.get(s.name), now)]
        return chosen

    # -- one source ------------------------------------------------------------------------------

    def poll_source(self, name: str) -> SourceReport:
        """Poll one source; never raises: whatever goes wrong is its outcome, recorded in `fetches`.

        One poll of a source at a time across processes (`newswatch.source_lock`): a run that finds
        another one polling the same source waits, then starts from the state that one left (its
        validators: the feed then answers 304, no page is fetched twice)."""
        source = self.config.source(name)
        started = self.now()
        try:
            with hold_source_lock(self.store.path, name) as waited:
                if waited:
                    self._reload_state(name)
                return self._poll(source, started)
        except Exception as exc:  # a bug or an unforeseen failure: record it, keep the run going
            log.exception("source %s failed", name)
            error = one_line(f"{type(exc).__name__}: {exc}")
            return self._record_failure(source, started, Outcome.ERROR, None, error)

    def _reload_state(self, name: str) -> None:
        with self.store.read() as con:
            state = get_source_states(con).get(name)
        with self._states_lock:
            if state is not None:
                self._states[name] = state

    def _poll(self, source: SourceConfig, started: datetime) -> SourceReport:
        state = self._states.get(source.name)
        fetched: FetchResult | None = None
        body_hash: str | None = None
        if source.kind == "folder":
            path = self.config.resolve(source.path or "")
            if not path.is_dir():
                return self._record_failure(
                    source, started, Outcome.NOT_FOUND, None, f"folder not found: {path}"
                )
            discovery = load_folder(path)
            location = str(path)
        else:
            assert source.url
            location = source.url
            fetched = self.fetcher.fetch(
                source.url,
                etag=state.etag if state else None,
                last_modified=state.last_modified if state else None,
                trusted=True,
            )
            if fetched.outcome is Outcome.NOT_MODIFIED:
                return self._record_unchanged(source, started, fetched)
            if not fetched.ok:
                return self._record_failure(
                    source,
                    started,
                    fetched.outcome,
                    fetched.status,
                    fetched.error or str(fetched.outcome),
                    fetched,
                )
            body_hash = hashlib.sha256(fetched.body).hexdigest()
            if state is not None and state.body_hash == body_hash:
                return self._record_unchanged(source, started, fetched)
            discovery = self._discover(source, fetched)
        if discovery.error:
            return self._record_failure(
                source,
                started,
                Outcome.PARSE_ERROR,
                fetched.status if fetched else None,
                one_line(f"{location}: {discovery.error}"),
                fetched,
            )
        return self._ingest(source, started, discovery, fetched, body_hash, location)

    def _discover(self, source: SourceConfig, fetched: FetchResult) -> Discovery:
        base = fetched.final_url or fetched.url
        if source.kind == "feed":
            return parse_feed(fetched.body, base_url=base, content_type=fetched.content_type, now=self.now())
        return parse_listing_page(
            fetched.body, base, selector=source.selector, link_pattern=source.link_pattern
        )

    # -- entries to articles ---------------------------------------------------------------------

    def _todo(
        self, source: SourceConfig, entries: Sequence[Entry]
    ) -> tuple[list[_Page], int, list[Sighting]]:
        """The entries whose page must be fetched: not stored yet, or updated since (per the feed)."""
        keyed = [(e, entry_key(e)) for e in entries]
        keys = [k for _, k in keyed if k]
        urls = [canonicalize_url(e.url) for e, k in keyed if k and e.url]
        with self.store.read() as con:
            known: dict[str, KnownArticle] = get_known_articles(con, keys, urls)
        todo: list[_Page] = []
        skipped = 0
        sightings: list[Sighting] = []
        seen: set[str] = set()
        for entry, key in keyed:
            if not key or key in seen:
                continue
            seen.add(key)
            hit = known.get(key) or (known.get(canonicalize_url(entry.url)) if entry.url else None)
            updated = (
                hit is not None
                and entry.updated_at is not None
                and hit.feed_updated_at is not None
                and entry.updated_at > hit.feed_updated_at
            )
            if hit is not None and not updated:
                skipped += 1
                if entry.url:
                    sightings.append(Sighting(hit.id, canonicalize_url(entry.url)))
                continue
            todo.append(_Page(entry, key))
        if source.max_articles is not None:
            todo = todo[: source.max_articles]
        return todo, skipped, sightings

    def _fetch_page(self, p: _Page) -> None:
        if p.entry.html is not None or p.entry.text is not None:
            p.html = p.entry.html
            return
        assert p.entry.url
        robots = self.config.fetch.respect_robots
        p.fetched = self.fetcher.fetch(p.entry.url, trusted=False, check_robots=robots)
        if p.fetched.ok:
            p.html = p.fetched.body

    def _job(self, p: _Page, source: SourceConfig, now: datetime) -> PageJob:
        final = p.fetched.final_url if (p.fetched and p.fetched.ok) else None
        html, url = p.html, final or p.entry.url
        if html is None and p.entry.content_html:  # no page (a failure kept for good): the feed's HTML
            html, url = p.entry.content_html.encode("utf-8"), p.entry.url
        return PageJob(
            entry=p.entry,
            html=html,
            url=url,
            source=source.name,
            fetched_at=now,
            dedupe=self.config.dedupe,
            final_url=final,
            source_lang=source.lang,
            min_text_chars=self.config.extract.min_text_chars,
            classify=self._labels_in_workers,
        )

    def _analysed(self, p: _Page, result: Result | None, source: SourceConfig, now: datetime) -> Analysed:
        """A worker's result; when the worker ran out of time or died, the article is built here from
        what the feed gave, with the extraction error recorded."""
        if isinstance(result, Analysed):
            return result
        job = replace(self._job(p, source, now), html=None)
        return replace(analyse_page(job), extracted=result)  # with its labels, when the job asked for them

    def _pipelined(
        self, pages: Sequence[_Page], source: SourceConfig, now: datetime
    ) -> Iterator[list[_Page]]:
        """The pages, fetched and (the usable ones) analysed (`newswatch.analyse`: extracted, assembled,
        fingerprinted on every core), chunk by chunk and in order, with the stages overlapping: pages are
        fetched up to two chunks ahead of the workers; each goes to the next free worker as soon as it is
        fetched, across chunk boundaries (no worker waits for a chunk's slowest page or fetch); a chunk
        comes back as soon as all its pages are done, while the workers go on with the next (the caller
        keeps its articles and labels, when this process labels them)."""
        size = _CHUNK_PER_WORKER * self.extractor.size
        chunks = [list(pages[i : i + size]) for i in range(0, len(pages), size)]
        fetching: list[dict[Future[None], _Page]] = []
        done: SimpleQueue[list[_Page] | BaseException] = SimpleQueue()
        stop = threading.Event()

        def fetch(k: int) -> None:
            if k < len(chunks):
                fetching.append({self._page_threads.submit(self._fetch_page, p): p for p in chunks[k]})

        def analyse() -> None:
            results: dict[str, Result] = {}
            open_pages = [0] * len(chunks)  # per chunk: pages handed to the workers, not back yet
            chunk_of: dict[str, int] = {}  # the chunk of each page handed out, by key
            started = 0  # the chunks whose pages have all been handed out (or were not usable)
            ready = 0  # the next chunk to give back

            def give_back_finished() -> None:
                nonlocal ready
                while ready < started and open_pages[ready] == 0:
                    for p in chunks[ready]:
                        if p.key in chunk_of:  # handed to the workers (its fetch is usable)
                            p.analysed = self._analysed(p, results.pop(p.key, None), source, now)
                        # the page bytes are not needed any more: a big batch must not hold them all
                        p.from_page, p.html = p.html is not None, None
                        if p.fetched is not None and p.fetched.body:
                            p.fetched = replace(p.fetched, body=b"")
                    done.put(chunks[ready])
                    ready += 1

            def jobs() -> Iterator[Job]:
                nonlocal started
                for k in range(len(chunks)):
                    if stop.is_set():
                        return
                    fetch(k + 2)
                    for f in as_completed(fetching[k]):
                        f.result()
                        p = fetching[k][f]
                        if _is_usable(p):
                            if not self._labels_in_workers:
                                self._build_classifier_soon()
                            open_pages[k] += 1
                            chunk_of[p.key] = k
                            yield p.key, self._job(p, source, now)
                    started = k + 1
                    give_back_finished()  # a chunk with nothing to extract, or done while being handed out

            try:
                for key, result in self.extractor.stream(jobs()):
                    results[key] = result
                    open_pages[chunk_of[key]] -= 1
                    give_back_finished()
            except BaseException as exc:  # the caller raises it
                done.put(exc)

        fetch(0)
        fetch(1)
        stage = threading.Thread(target=analyse, name="newswatch-extract", daemon=True)
        stage.start()
        try:
            for _ in chunks:
                got = done.get()
                if isinstance(got, BaseException):
                    raise got
                yield got
        finally:  # the caller stopped early (an error): do not fetch or extract the rest
            stop.set()
            for fs in list(fetching):
                for f in list(fs):
                    f.cancel()
            stage.join()

    def _ingest(
        self,
        source: SourceConfig,
        started: datetime,
        discovery: Discovery,
        fetched: FetchResult | None,
        body_hash: str | None,
        location: str,
    ) -> SourceReport:
        report = SourceReport(source=source.name, outcome=Outcome.OK, entries=len(discovery.entries))
        todo, report.skipped_known, sightings = self._todo(source, discovery.entries)
        warning = _with_unkeyed_note(discovery.warning, discovery.entries)
        if todo:
            self._prepare_for_new_pages()
        failure_records: list[FetchRecord] = []
        parse_records: list[FetchRecord] = []
        prepared: list[Prepared] = []
        classifications: dict[str, Classification] = {}
        retry_later = False
        now = self.now()
        for chunk in self._pipelined(todo, source, now):
            for p in chunk:
                f = p.fetched
                if f is not None and not f.ok:
                    report.failed_pages += 1
                    failure_records.append(self._page_record(source, f))
                    report.page_errors.append(one_line(f.error or str(f.outcome)))
                    retry_later = retry_later or is_transient(f)
                if not _is_usable(p) or p.analysed is None:
                    continue  # transient (or refused): not stored, tried again next poll
                # a page gone for good is kept with what the feed gave
                if p.analysed.error and p.from_page:
                    error = one_line(f"{p.entry.url}: {p.analysed.error}")
                    parse_records.append(
                        FetchRecord(
                            source=source.name,
                            url=p.entry.url,
                            started_at=now,
                            outcome=Outcome.PARSE_ERROR,
                            error=error,
                        )
                    )
                prep = p.analysed.prepared
                if prep is None:
                    continue
                a = prep.article
                if p.entry.url:
                    sightings.append(Sighting(a.id, canonicalize_url(p.entry.url)))
                if a.id != p.key:
                    sightings.append(Sighting(a.id, a.canonical_url))
                prepared.append(prep)
                classifications[a.id] = p.analysed.classification or self.classifier.classify(
                    a.title, a.text, a.lang
                )
        page_records = [*failure_records, *parse_records]
        record = FetchRecord(
            source=source.name,
            url=location,
            started_at=started,
            outcome=Outcome.OK,
            status=fetched.status if fetched else None,
            error=warning,
            elapsed_s=(self.now() - started).total_seconds(),
            entries=len(discovery.entries),
            failed_pages=report.failed_pages,
        )
        # pages that failed for now: forget the feed's validators and hash, so the next poll re-reads the
        # feed (even if unchanged) and tries them again
        validators, seen_hash = (None, None) if retry_later else (fetched, body_hash)

        def make_state(result: WriteResult) -> SourceState:
            # the schedule depends on what the poll yielded, so the state is made inside the write
            return self._next_state(
                source,
                Outcome.OK,
                record.status,
                None,
                validators,
                seen_hash,
                result.new,
                len(discovery.entries),
                result.labelled,
            )

        if len(todo) > _RELEASE_WORKERS_AFTER:
            self.extractor.release()  # a big batch: the write's memory peak without the workers' memory
        result = write_batch(
            self.store,
            prepared=prepared,
            classifications=classifications,
            classifier_version=next(iter(classifications.values())).version if classifications else "",
            sightings=sightings,
            source=source.name,
            fetch_records=[record],
            page_records=page_records,
            make_state=make_state,
            source_kind=source.kind,
            source_location=location,
            run_id=self.run_id,
            cfg=self.config.dedupe,
            now=now,
        )
        with self._states_lock:
            self._states[source.name] = make_state(result)
        report.new_articles = result.new
        report.updated_articles = result.updated
        report.new_by_lang = dict(result.new_by_lang)
        report.elapsed_s = (self.now() - started).total_seconds()
        if warning:
            report.error = warning
        return report

    # -- recording -------------------------------------------------------------------------------

    def _interval(self, source: SourceConfig) -> tuple[float, bool]:
        if source.interval == "auto":
            return self.config.default_interval, True
        return (source.interval or self.config.default_interval), False

    def _next_state(
        self,
        source: SourceConfig,
        outcome: Outcome,
        status: int | None,
        error: str | None,
        fetched: FetchResult | None,
        body_hash: str | None,
        new: int,
        entries: int,
        labelled: int,
    ) -> SourceState:
        interval, auto = self._interval(source)
        return next_state(
            self._states.get(source.name),
            name=source.name,
            now=self.now(),
            outcome=outcome,
            status=status,
            error=error,
            interval_s=interval,
            auto=auto,
            new_articles=new,
            entries=entries,
            labelled=labelled,
            etag=fetched.etag if fetched else None,
            last_modified=fetched.last_modified if fetched else None,
            body_hash=body_hash,
        )

    def _page_record(self, source: SourceConfig, f: FetchResult) -> FetchRecord:
        return FetchRecord(
            source=source.name,
            url=f.url,
            started_at=self.now(),
            outcome=f.outcome,
            status=f.status,
            error=one_line(f.error or str(f.outcome)),
            elapsed_s=f.elapsed_s,
        )

    def _record(
        self,
        source: SourceConfig,
        started: datetime,
        outcome: Outcome,
        status: int | None,
        error: str | None,
        fetched: FetchResult | None,
    ) -> None:
        location = source.url or (str(self.config.resolve(source.path)) if source.path else None)
        record = FetchRecord(
            source=source.name,
            url=location,
            started_at=started,
            outcome=outcome,
            status=status,
            error=error,
            elapsed_s=(self.now() - started).total_seconds(),
        )
        state = self._next_state(source, outcome, status, error, fetched, None, 0, 0, 0)
        write_batch(
            self.store,
            prepared=[],
            classifications={},
            classifier_version="",
            sightings=[],
            source=source.name,
            fetch_records=[record],
            page_records=[],
            make_state=lambda _: state,
            source_kind=source.kind,
            source_location=location,
            run_id=self.run_id,
            cfg=self.config.dedupe,
            now=self.now(),
        )
        with self._states_lock:
            self._states[source.name] = state

    def _record_failure(
        self,
        source: SourceConfig,
        started: datetime,
        outcome: Outcome,
        status: int | None,
        error: str,
        fetched: FetchResult | None = None,
    ) -> SourceReport:
        error = one_line(error)
        self._record(source, started, outcome, status, error, fetched)
        return SourceReport(
            source=source.name, outcome=outcome, error=error, elapsed_s=(self.now() - started).total_seconds()
        )

    def _record_unchanged(
        self, source: SourceConfig, started: datetime, fetched: FetchResult
    ) -> SourceReport:
        self._record(source, started, Outcome.NOT_MODIFIED, fetched.status, None, fetched)
        return SourceReport(
            source=source.name, outcome=Outcome.NOT_MODIFIED, elapsed_s=(self.now() - started).total_seconds()
        )
