"""`newswatch …`: the command line. Each command validates its input, then calls the library or a flow.

Errors a user must fix come out as one line on stderr with exit status 2 (config) or 1 (anything else).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from newswatch import __version__
from newswatch.config import config_path, db_path, load_config
from newswatch.errors import ConfigError, NewswatchError

Handler = Callable[[argparse.Namespace], int]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="F", help="config file (default: sources.yaml or $NEWSWATCH_CONFIG)")
    p.add_argument("--db", metavar="F", help="database (default: storage/news.duckdb or $NEWSWATCH_DB)")


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(config_path(args.config))  # validated before anything is fetched
    for name in args.source or ():
        config.source(name)
    if not args.due:  # a run that polls every source: new pages are likely, have the workers' imports done
        from newswatch.fork_server import start_early

        start_early()  # on the other core, while Prefect boots
    from flows.runtime import prefect_runtime

    started = time.monotonic()
    with prefect_runtime(verbose=args.verbose):
        from flows.poll_sources import poll_sources

        # What is alive once Prefect is up (the imports, its client and settings: ~140,000 GC-tracked
        # objects) outlives the run: kept out of the garbage collector's full passes, which otherwise
        # scan it again and again as the run's articles pile up, each pass holding the interpreter lock
        # (and the extraction workers' next pages) for ~0.1 s. Undone after the run.
        gc.freeze()
        try:
            summary = poll_sources(
                str(config_path(args.config)),
                str(db_path(args.db)),
                list(args.source or []) or None,
                args.due,
            )
        finally:
            gc.unfreeze()
    from newswatch.report import render_run_summary

    print(render_run_summary(summary.reports, elapsed_s=time.monotonic() - started))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from datetime import UTC, date, datetime

    from newswatch.digest_run import local_today, run_digest
    from newswatch.store import open_store

    config = load_config(config_path(args.config))
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise NewswatchError(f"--date: {args.date!r} is not a date (use YYYY-MM-DD)") from None
    else:
        day = local_today(config.digest.timezone, datetime.now(UTC))
    db = db_path(args.db)
    result = run_digest(open_store(db), config, db, day=day, send=args.send, force=args.force)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    where = result.paths.get("html")
    messages = {
        "built": f"digest {day}: {result.stories} stories ({counts}) → {where}",
        "sent": f"digest {day}: sent to {', '.join(config.digest.to)} — {result.stories} stories ({counts})",
        "already_sent": f"digest {day}: already sent; nothing done (use --force to send it again)",
        "skipped_empty": f"digest {day}: nothing matched and digest.empty is 'skip'; nothing sent",
    }
    if result.status == "failed":
        raise NewswatchError(
            f"digest {day}: not sent: {result.error} (archived at {where}; run again to retry)"
        )
    print(messages[result.status])
    if result.error:
        print(f"warning: {result.error}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    config_file = config_path(args.config)
    config = load_config(config_file)  # fail before anything starts
    if not config.sources:
        raise ConfigError(f"{config_file}: no sources to serve")
    from flows.serve import serve_deployments

    print(
        f"newswatch serve: {len(config.sources)} sources, digest at {config.digest.send_at} "
        f"{config.digest.timezone}; stop with Ctrl-C",
        flush=True,
    )
    serve_deployments(str(config_file), str(db_path(args.db)), verbose=args.verbose)
    print("newswatch serve: stopped", flush=True)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from newswatch.store.query import render_result, run_query

    result = run_query(db_path(args.db), args.sql)
    out = render_result(result, args.format)
    if out:
        print(out)
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from newswatch.classify import Classifier, default_classifier, load_topics
    from newswatch.evaluate import classify_jsonl

    classifier = Classifier(load_topics(Path(args.topics))) if args.topics else default_classifier()
    with _open_in(args.jsonl) as fh:
        for line in classify_jsonl(fh, classifier):
            print(line)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from newswatch.classify import Classifier, default_classifier, load_topics
    from newswatch.evaluate import evaluate, load_records, render_report

    classifier = Classifier(load_topics(Path(args.topics))) if args.topics else default_classifier()
    with _open_in(args.jsonl) as fh:
        records = load_records(fh, origin=args.jsonl)
    report = evaluate(records, classifier)
    print(render_report(report))
    if args.min_f1 is not None and report.min_f1 < args.min_f1:
        print(
            f"FAIL: lowest per-label F1 {report.min_f1:.3f} is under the floor {args.min_f1:.3f}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_reclassify(args: argparse.Namespace) -> int:
    from newswatch.reclassify import reclassify_store
    from newswatch.store import open_store

    config = load_config(config_path(args.config))
    n = reclassify_store(open_store(db_path(args.db)), config, all_articles=args.all)
    print(f"reclassified {n} article{'s' if n != 1 else ''}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    config_file = config_path(args.config)
    config = load_config(config_file)
    action = args.action or "health"
    if action == "health":
        from newswatch.health import render_health
        from newswatch.store import open_store

        print(render_health(open_store(db_path(args.db)), config))
        return 0
    if action == "export":
        from newswatch.opml import render_opml

        sys.stdout.write(render_opml(config.sources))
        return 0
    if action == "check":
        from newswatch.check import check_sources, render_check

        print(f"{config_file}: valid, {len(config.sources)} sources", flush=True)
        reports = check_sources(config)
        print(render_check(reports))
        return 0 if all(r.outcome.value == "ok" for r in reports) else 1
    # import
    if not args.file:
        raise NewswatchError("sources import: name the OPML file (newswatch sources import FEEDS.opml)")
    from newswatch.config_edit import append_sources
    from newswatch.opml import new_sources, parse_opml

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise NewswatchError(f"{args.file}: cannot read: {exc.strerror}") from None
    feeds = parse_opml(data, origin=args.file)
    entries = new_sources(feeds, config.sources)
    if entries and not args.dry_run:
        append_sources(config_file, entries)
    verb = "would add" if args.dry_run else "added"
    print(
        f"{args.file}: {len(feeds)} feeds, {verb} {len(entries)} to {config_file} "
        f"({len(feeds) - len(entries)} already configured)"
    )
    for e in entries:
        print(f"  + {e['name']}  {e['url']}")
    return 0


class _open_in:
    """`-` is standard input; a missing file is a one-line error."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fh: object = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.name == "-":
            return sys.stdin
        try:
            self.fh = open(self.name, encoding="utf-8")
        except OSError as exc:
            raise NewswatchError(f"{self.name}: cannot read: {exc.strerror}") from None
        return self.fh

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None and hasattr(self.fh, "close"):
            self.fh.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Watch news sources for AI partnerships and in-house AI models; store them in DuckDB.",
    )
    parser.add_argument("--version", action="version", version=f"newswatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="poll all (or the named) sources once through the Prefect flow")
    _common(p)
    p.add_argument("--source", action="append", metavar="NAME", help="poll only this source (repeatable)")
    p.add_argument("--due", action="store_true", help="poll only the sources whose interval has elapsed")
    p.add_argument("-v", "--verbose", action="store_true", help="show Prefect's own logs")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("digest", help="build (and with --send, email) the digest of a day")
    _common(p)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day, in digest.timezone (default: today)")
    p.add_argument("--send", action="store_true", help="email it (once: a sent day is not sent again)")
    p.add_argument("--force", action="store_true", help="with --send: send even if already sent")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("serve", help="run the scheduled deployments until stopped (Ctrl-C or SIGTERM)")
    _common(p)
    p.add_argument("-v", "--verbose", action="store_true", help="show Prefect's own logs")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("query", help="run read-only SQL against the store")
    _common(p)
    p.add_argument("sql")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("classify", help="classify JSON lines (id, title, text[, lang]) from a file or -")
    _common(p)
    p.add_argument("--jsonl", required=True, metavar="F")
    p.add_argument("--topics", metavar="F", help="a topics file replacing the shipped one")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("eval", help="precision/recall/F1 of the classifier on labelled JSON lines")
    _common(p)
    p.add_argument("--jsonl", required=True, metavar="F")
    p.add_argument("--topics", metavar="F")
    p.add_argument("--min-f1", type=float, metavar="X", help="exit 1 when a label's F1 is under X")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("reclassify", help="re-label stored articles with the current classifier version")
    _common(p)
    p.add_argument("--all", action="store_true", help="every article, not only those of older versions")
    p.set_defaults(func=cmd_reclassify)

    p = sub.add_parser(
        "sources",
        help="per-source health; also: import FILE.opml, export (OPML on stdout), check (try each once)",
    )
    _common(p)
    p.add_argument("action", nargs="?", choices=("health", "import", "export", "check"), default="health")
    p.add_argument("file", nargs="?", help="with import: the OPML file")
    p.add_argument("--dry-run", action="store_true", help="with import: show what would be added")
    p.set_defaults(func=cmd_sources)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 2
    except NewswatchError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newswatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
