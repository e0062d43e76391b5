"""`make bench`: how fast newswatch is, each scenario measured side by side with its reference.

    .venv/bin/python -m bench.run [--n 1000] [--history 100000] [--no-save]

One process tree, one sitting: a loopback replay server (bench/replay.py) serves N distinct article
pages built from the shared corpus (bench/variants.py) behind RSS feeds, and the real CLI
(`python -m newswatch.cli run`, a subprocess, with Prefect, HTTP, extraction, language, dedupe,
classification and DuckDB) polls them:

- bare: serial `trafilatura.extract` over the same N pages, in memory, in a process of its own (the
  library as installed, bench/bare.py): the reference; measured twice, each time just before a cold
  run, and the better of the two (bare, cold) pairs gives cold_over_bare;
- empty: a run over one feed with no items (the fixed cost of a run), median of 3; like every scenario it
  runs with newswatch's defaults, so the Prefect API server the previous run left up (it lingers 15
  minutes) is reused; `empty_cold_s` is the same run with no server up (NEWSWATCH_PREFECT_LINGER=0);
- cold: a run on a fresh database over the N pages (twice, each right after a bare pass);
- warm: the same run again, nothing changed (no article page may be fetched again);
- grown: N other new pages into a store that already holds `--history` articles (bench/history.py);
- classify: `Classifier.classify` throughput on 800-word articles (bench/classify_speed.py);
- memory: peak RSS and PSS of each run's whole process tree (bench/procs.py).

Ratios: cold_over_bare = (cold - empty) / bare, warm_over_cold = (warm - empty) / (cold - empty),
grown_over_cold_per_article = ((grown - empty) / N) / ((cold - empty) / N). The table goes to the
terminal, the figures to bench/results/latest.json and bench/results/YYYY-MM-DD.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from bench.corpus import FEED_START, rss_feed
from bench.procs import Measured, run_measured
from bench.replay import ReplayServer
from bench.variants import Variant, build_variants, expected_duplicates, load_base_pages
from newswatch.model import Extracted

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
FEED_SPACING = timedelta(seconds=90)  # ~1,000 articles a day
EMPTY_REPEATS = 3
LINGER_ENV = "NEWSWATCH_PREFECT_LINGER"

TARGETS: dict[str, tuple[str, float]] = {
    "cold_over_bare": ("<=", 0.6),
    "empty_s": ("<=", 4.0),
    "warm_over_cold": ("<=", 0.05),
    "grown_over_cold_per_article": ("<=", 1.5),
    "classify_articles_per_s": (">=", 200.0),
    "peak_rss_mb": ("<=", 1024.0),
}


class BenchError(RuntimeError):
    pass


@dataclass
class BenchOptions:
    n: int = 1000
    history: int = 100_000
    empty_repeats: int = EMPTY_REPEATS
    classify_rounds: int = 3
    cold_process: bool = True  # also measure the empty run with no Prefect server up
    workdir: Path | None = None  # default: a temporary folder, removed at the end
    log: Callable[[str], None] = field(default=lambda s: print(s, file=sys.stderr, flush=True))


@dataclass
class Scenario:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    processes: int
    cpu_by_role: dict[str, float]  # command / prefect-server / extraction

    @classmethod
    def of(cls, m: Measured) -> Scenario:
        return cls(
            round(m.wall_s, 3),
            round(m.cpu_s, 3),
            round(m.peak_rss_mb, 1),
            round(m.peak_pss_mb, 1),
            m.peak_processes,
            m.cpu_by_role,
        )


class Bench:
    def __init__(self, opts: BenchOptions, work: Path, srv: ReplayServer) -> None:
        self.opts = opts
        self.work = work
        self.srv = srv
        self.home = work / "prefect"
        self.scenarios: dict[str, Scenario] = {}
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    # -- running the CLI ---------------------------------------------------------------------------

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSWATCH_"))}
        env["PREFECT_HOME"] = str(self.home)
        env.update(extra or {})
        return env

    def feed(self, name: str, pages: Sequence[Variant]) -> Path:
        items = [(self.srv.add(v.path, v.html), v.title) for v in pages]
        url = self.srv.add(
            f"/feeds/{name}.xml",
            rss_feed(items, title=name, spacing=FEED_SPACING),
            "application/rss+xml; charset=utf-8",
        )
        cfg = self.work / f"{name}.yaml"
        sources = [{"name": name, "kind": "feed", "url": url}]
        cfg.write_text(yaml.safe_dump({"allow_private_networks": True, "sources": sources}), encoding="utf-8")
        return cfg

    def run(self, label: str, cfg: Path, db: Path, env: dict[str, str] | None = None) -> Measured:
        args = [sys.executable, "-m", "newswatch.cli", "run", "--config", str(cfg), "--db", str(db)]
        # a Prefect server a previous run left up serves this one: its memory and CPU count too
        m = run_measured(args, env=self.env(env), cwd=ROOT, also=_lingering_server(self.home)).check()
        self.scenarios[label] = Scenario.of(m)
        self.opts.log(
            f"  {label:<16} {m.wall_s:7.2f} s wall  {m.cpu_s:7.2f} s cpu  {m.peak_rss_mb:6.0f} MB rss"
        )
        return m


def _lingering_server(home: Path) -> list[int]:
    """The pid of the API server a previous run left up on this Prefect home, if one is up."""
    try:
        pid = int(json.loads((home / "newswatch-api.json").read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [pid]


def _bare(pages: Sequence[Variant], work: Path) -> tuple[float, float]:
    """Serial trafilatura.extract over the pages, already in memory: (wall, CPU) seconds, measured in a
    child process (bench/bare.py) where trafilatura is the library as installed, not sped up by
    newswatch (which this process imports)."""
    file = work / "bare-pages.pickle"
    file.write_bytes(pickle.dumps([v.html for v in pages]))
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.bare", str(file)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"bare extraction failed: {exc.stderr.strip()[-500:]}") from exc
    finally:
        file.unlink(missing_ok=True)
    figures = json.loads(out.strip().splitlines()[-1])
    return float(figures["wall_s"]), float(figures["cpu_s"])


def _newswatch_extract(pages: Sequence[Variant]) -> tuple[float, list[Extracted]]:
    """Serial newswatch extraction (text and metadata) over the pages: seconds, and what it got."""
    from newswatch.extract import extract_article

    started = time.perf_counter()
    out = [extract_article(v.html, "http://127.0.0.1" + v.path) for v in pages]
    return time.perf_counter() - started, out


def _db_counts(db: Path) -> dict[str, int]:
    from newswatch.store.query import run_query

    row = run_query(
        db,
        "SELECT count(*), count(duplicate_of), count(DISTINCT story_id), "
        "count(*) FILTER (WHERE extraction = 'ok'), "
        "(SELECT count(*) FROM labels) FROM articles",
    ).rows[0]
    return dict(
        zip(("articles", "duplicates", "stories", "extracted", "labels"), (int(x) for x in row), strict=True)
    )


def _classify_speed(rounds: int) -> float:
    from bench.classify_speed import build_articles, measure

    return measure(build_articles(), True, rounds)


def run_bench(opts: BenchOptions) -> dict[str, Any]:
    bases = load_base_pages()
    if not bases:
        raise BenchError("the shared corpus (../shared/corpus) is absent: nothing to benchmark")
    owned = opts.workdir is None
    work = Path(tempfile.mkdtemp(prefix="newswatch-bench-")) if opts.workdir is None else opts.workdir
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        with ReplayServer() as srv:
            result = _scenarios(Bench(opts, work, srv), bases)
    finally:
        _stop_lingering(work / "prefect")  # the last run's server, lingering by default
        if owned:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"] = _machine(load_before, os.getloadavg())
    result["bench_s"] = round(time.perf_counter() - started, 1)
    return result


def _scenarios(b: Bench, bases: list[Any]) -> dict[str, Any]:
    opts, log = b.opts, b.opts.log
    log(f"building {opts.n} + {opts.n} pages from {len(bases)} base pages")
    cold_pages = build_variants(bases, opts.n)
    grown_pages = build_variants(bases, opts.n, prefix="/grown", salt="g")
    empty_cfg = b.feed("empty", [])
    cold_cfg = b.feed("cold", cold_pages)
    grown_cfg = b.feed("grown", grown_pages)

    log("prefect home: first run creates its database")
    b.run("empty_first", empty_cfg, b.work / "first.duckdb")

    log("empty")
    empties = [
        b.run(f"empty_{i}", empty_cfg, b.work / f"empty-{i}.duckdb").wall_s for i in range(opts.empty_repeats)
    ]
    empty = statistics.median(empties)

    # bare and cold are measured in two pairs, each pair back to back: on a shared machine the speed
    # drifts over minutes, and a ratio is only fair between measurements taken side by side
    log(f"bare: serial trafilatura.extract over {len(cold_pages)} pages")
    bare_1, bare_cpu_1 = _bare(cold_pages, b.work)
    log(f"  bare             {bare_1:7.2f} s wall  {bare_cpu_1:7.2f} s cpu")

    log("cold")
    db = b.work / "cold.duckdb"
    before = b.srv.page_hits("/news/")
    cold_1 = b.run("cold_1", cold_cfg, db).wall_s
    b.counts["cold_pages_fetched"] = b.srv.page_hits("/news/") - before
    b.counts.update({f"cold_{k}": v for k, v in _db_counts(db).items()})

    log("warm")
    before, feed_304 = b.srv.page_hits("/news/"), b.srv.not_modified["/feeds/cold.xml"]
    warm = b.run("warm", cold_cfg, db).wall_s
    b.counts["warm_pages_fetched"] = b.srv.page_hits("/news/") - before
    b.counts["warm_feed_not_modified"] = b.srv.not_modified["/feeds/cold.xml"] - feed_304
    b.counts["warm_articles"] = _db_counts(db)["articles"]

    log("newswatch extraction over the originals (their texts also seed the history)")
    originals = [v for v in cold_pages if v.kind == "original"] or cold_pages[:1]
    nw_extract, extracted = _newswatch_extract(originals)
    bare_sample = _bare(originals, b.work)[0]

    log(f"grown: history of {opts.history} articles")
    grown_db = b.work / "grown.duckdb"
    b.seconds["history_build_s"] = _build_history(grown_db, extracted, opts.history)
    log(f"  history built    {b.seconds['history_build_s']:7.2f} s")
    before = b.srv.page_hits("/grown/")
    grown = b.run("grown", grown_cfg, grown_db).wall_s
    b.counts["grown_pages_fetched"] = b.srv.page_hits("/grown/") - before
    grown_counts = _db_counts(grown_db)
    b.counts["grown_history"] = opts.history
    b.counts["grown_new_articles"] = grown_counts["articles"] - opts.history
    b.counts["grown_duplicates"] = grown_counts["duplicates"]

    log("bare again, then cold again on another fresh database (the second pair)")
    bare_2, bare_cpu_2 = _bare(cold_pages, b.work)
    log(f"  bare             {bare_2:7.2f} s wall  {bare_cpu_2:7.2f} s cpu")
    cold_2 = b.run("cold_2", cold_cfg, b.work / "cold-2.duckdb").wall_s
    pairs = [(bare_1, bare_cpu_1, cold_1, "cold_1"), (bare_2, bare_cpu_2, cold_2, "cold_2")]
    pair_ratios = [(c - empty) / bw for bw, _, c, _ in pairs]
    # the better pair is the figure, as the best of two passes would be for either alone
    bare, bare_cpu, cold, best = pairs[pair_ratios.index(min(pair_ratios))]
    b.scenarios["cold"] = b.scenarios[best]
    peak_cold = max((b.scenarios[k] for k in ("cold_1", "cold_2")), key=lambda sc: sc.peak_rss_mb)

    _stop_lingering(b.home)  # the server works on for a while after a run: not beside the classifier
    log("classify")
    classify = _classify_speed(opts.classify_rounds)

    no_server = _cold_process(b, empty_cfg) if opts.cold_process else {}

    cold_net, n = cold - empty, max(1, opts.n)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "n": opts.n,
        "empty_s": round(empty, 3),
        "cold_over_bare": round(cold_net / bare, 3),
        "warm_over_cold": round((warm - empty) / cold_net, 4),
        "grown_over_cold_per_article": round(((grown - empty) / n) / (cold_net / n), 3),
        "classify_articles_per_s": round(classify, 1),
        # the target is for the cold run; the largest of all runs is kept beside it
        "peak_rss_mb": peak_cold.peak_rss_mb,  # the higher of the two cold runs
        "peak_pss_mb": peak_cold.peak_pss_mb,
        "peak_rss_mb_all": max(s.peak_rss_mb for s in b.scenarios.values()),
        "peak_rss_mb_grown": b.scenarios["grown"].peak_rss_mb,
        "bare_s": round(bare, 3),
        "bare_runs_s": [round(bare_1, 3), round(bare_2, 3)],
        "empty_runs_s": [round(x, 3) for x in empties],
        "empty_first_s": b.scenarios["empty_first"].wall_s,
        "cold_s": round(cold, 3),
        "cold_runs_s": [round(cold_1, 3), round(cold_2, 3)],
        "cold_over_bare_pairs": [round(r, 3) for r in pair_ratios],
        "warm_s": round(warm, 3),
        "grown_s": round(grown, 3),
        "cold_ms_per_article": round(1000 * cold_net / n, 2),
        "bare_ms_per_page": round(1000 * bare / n, 2),
        "newswatch_extract_over_bare": round(nw_extract / bare_sample, 3),
        # CPU seconds of the whole process tree: less at the mercy of other load on the machine than wall time
        "bare_cpu_s": round(bare_cpu, 3),
        "empty_cpu_s": round(
            statistics.median(b.scenarios[f"empty_{i}"].cpu_s for i in range(opts.empty_repeats)), 3
        ),
        "cold_cpu_s": b.scenarios["cold"].cpu_s,
        "cold_cpu_over_bare": round(
            (
                b.scenarios["cold"].cpu_s
                - statistics.median(b.scenarios[f"empty_{i}"].cpu_s for i in range(opts.empty_repeats))
            )
            / bare_cpu,
            3,
        ),
        "cold_cpu_by_role": b.scenarios["cold"].cpu_by_role,
        **{k: round(v, 3) for k, v in b.seconds.items()},
        **no_server,
        "counts": {
            "pages": len(cold_pages),
            "expected_duplicates": expected_duplicates(cold_pages),
            **b.counts,
        },
        "scenarios": {k: asdict(v) for k, v in b.scenarios.items()},
        "targets": {k: f"{op} {v:g}" for k, (op, v) in TARGETS.items()},
    }
    figures["met"] = {k: _meets(figures.get(k), op, v) for k, (op, v) in TARGETS.items()}
    return figures


def _cold_process(b: Bench, empty_cfg: Path) -> dict[str, Any]:
    """The empty run when no Prefect server is up: the first run after 15 idle minutes, or every run
    with NEWSWATCH_PREFECT_LINGER=0 (each run then starts and stops its own server)."""
    b.opts.log("empty, no Prefect server up (NEWSWATCH_PREFECT_LINGER=0)")
    env = {LINGER_ENV: "0"}
    runs = [
        b.run(f"empty_cold_{i}", empty_cfg, b.work / f"empty-cold-{i}.duckdb", env).wall_s
        for i in range(b.opts.empty_repeats)
    ]
    return {
        "empty_cold_s": round(statistics.median(runs), 3),
        "empty_cold_runs_s": [round(x, 3) for x in runs],
    }


def _stop_lingering(home: Path) -> None:
    import flows.runtime as runtime

    stop: Callable[[Path], bool] | None = getattr(runtime, "stop_lingering_api", None)
    if stop is not None:
        stop(home)


def _build_history(db: Path, extracted: Sequence[Extracted], n: int) -> float:
    from bench.history import BaseText, build_history
    from newswatch.language import detect_language
    from newswatch.store import open_store

    started = time.perf_counter()
    texts = []
    for ex in extracted:
        if ex.text:
            title = ex.title or ex.text[:80]
            texts.append(BaseText(title, ex.text, detect_language(f"{title}\n{ex.text}", ex.lang)))
    build_history(open_store(db), texts, n, now=FEED_START)
    return time.perf_counter() - started


def _meets(value: object, op: str, target: float) -> bool | None:
    if not isinstance(value, int | float):
        return None
    return value <= target if op == "<=" else value >= target


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _machine(
    load_before: tuple[float, float, float], load_after: tuple[float, float, float]
) -> dict[str, Any]:
    packages = (
        "newswatch",
        "prefect",
        "trafilatura",
        "lxml",
        "duckdb",
        "langdetect",
        "numpy",
        "httpx",
        "feedparser",
    )
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "versions": {p: _version(p) for p in packages},
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }


# --- output -------------------------------------------------------------------------------------------


def render_table(r: dict[str, Any]) -> str:
    """The figures as a Markdown table (terminal and docs/bench.md)."""
    c = r["counts"]
    s = r["scenarios"]

    def row(name: str, value: str, target: str = "", note: str = "") -> str:
        return f"| {name} | {value} | {target} | {note} |"

    def mark(key: str) -> str:
        met = r["met"].get(key)
        return "" if met is None else (" ✓" if met else " ✗")

    m = r["machine"]
    lines = [
        f"newswatch bench {r['date']}: N = {r['n']}, {m['cores']} cores, Python {m['python']}, "
        f"load {m['loadavg_before'][0]:.1f} → {m['loadavg_after'][0]:.1f}",
        "",
        "| figure | value | target | what |",
        "|---|---|---|---|",
        row(
            "empty_s",
            f"{r['empty_s']:.2f} s{mark('empty_s')}",
            r["targets"]["empty_s"],
            f"run over an empty feed (median of {len(r['empty_runs_s'])}), the previous run's Prefect server "
            f"still up (the default: it lingers 15 min); with no server up "
            f"{r.get('empty_cold_s', float('nan')):.2f} s; "
            f"first on a new Prefect home {r['empty_first_s']:.1f} s",
        ),
        row(
            "cold_over_bare",
            f"{r['cold_over_bare']:.2f}{mark('cold_over_bare')}",
            r["targets"]["cold_over_bare"],
            f"(cold {r['cold_s']:.1f} s − empty) / bare {r['bare_s']:.1f} s; "
            f"{r['cold_ms_per_article']:.1f} vs "
            f"{r['bare_ms_per_page']:.1f} ms per article; CPU (cold − empty) "
            f"{r['cold_cpu_over_bare']:.2f}× bare's",
        ),
        row(
            "warm_over_cold",
            f"{r['warm_over_cold']:.3f}{mark('warm_over_cold')}",
            r["targets"]["warm_over_cold"],
            f"warm {r['warm_s']:.2f} s; {c['warm_pages_fetched']} pages fetched again, feed 304: "
            f"{c['warm_feed_not_modified']}",
        ),
        row(
            "grown_over_cold_per_article",
            f"{r['grown_over_cold_per_article']:.2f}{mark('grown_over_cold_per_article')}",
            r["targets"]["grown_over_cold_per_article"],
            f"{c['grown_new_articles']} new into {c['grown_history']:,} (grown {r['grown_s']:.1f} s; history "
            f"built in {r.get('history_build_s', 0):.0f} s)",
        ),
        row(
            "classify_articles_per_s",
            f"{r['classify_articles_per_s']:.0f}{mark('classify_articles_per_s')}",
            r["targets"]["classify_articles_per_s"],
            "800-word articles, one core, language given",
        ),
        row(
            "peak_rss_mb",
            f"{r['peak_rss_mb']:.0f}{mark('peak_rss_mb')}",
            r["targets"]["peak_rss_mb"],
            f"the cold run's processes (with the Prefect server it uses), summed RSS (PSS "
            f"{r['peak_pss_mb']:.0f} MB); grown {s['grown']['peak_rss_mb']:.0f}, "
            f"warm {s['warm']['peak_rss_mb']:.0f}",
        ),
        row(
            "cold articles",
            f"{c['cold_articles']}",
            "",
            f"{c['cold_duplicates']} near duplicates "
            f"(~{c['expected_duplicates']} built as such), {c['cold_stories']} stories, "
            f"{c['cold_labels']} labels",
        ),
        row(
            "newswatch extraction",
            f"{r['newswatch_extract_over_bare']:.2f}× bare",
            "",
            "serial extract_article (text + metadata) over the original pages",
        ),
    ]
    return "\n".join(lines)


def save_results(r: dict[str, Any], results: Path = RESULTS) -> list[Path]:
    results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(r, indent=2, sort_keys=True) + "\n"
    paths = [results / "latest.json", results / f"{r['date'][:10]}.json"]
    for p in paths:
        p.write_text(text, encoding="utf-8")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="articles in the cold and grown runs")
    parser.add_argument("--history", type=int, default=100_000, help="articles already stored for 'grown'")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument(
        "--no-cold-process", action="store_true", help="skip the empty runs with no Prefect server up"
    )
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (databases, configs)")
    args = parser.parse_args(argv)
    opts = BenchOptions(
        n=args.n,
        history=args.history,
        cold_process=not args.no_cold_process,
        workdir=Path(args.keep) if args.keep else None,
    )
    try:
        result = run_bench(opts)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(render_table(result))
    if not args.no_save:
        for p in save_results(result):
            print(f"wrote {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
