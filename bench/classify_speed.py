"""How many 800-word articles per second `Classifier.classify` labels on one core.

    .venv/bin/python -m bench.classify_speed [--rounds 3]

Articles are built from the labelled set (each title with 800 words of same-language text), classified with
their language given, then with no language hint (all six lexicons). Prints the best round of each.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from newswatch.classify import default_classifier

DATA = Path(__file__).resolve().parents[1] / "tests" / "quality" / "data" / "labelled.jsonl"
WORDS = 800


def build_articles(path: Path = DATA, words: int = WORDS) -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_lang: dict[str, list[str]] = {}
    for r in rows:
        by_lang.setdefault(r["lang"], []).append(r["text"])
    articles = []
    for i, r in enumerate(rows):
        pool = by_lang[r["lang"]]
        body: list[str] = []
        j = i
        while len(body) < words:
            body += pool[j % len(pool)].split()
            j += 1
        articles.append((r["title"], " ".join(body[:words]), r["lang"]))
    return articles


def measure(articles: list[tuple[str, str, str]], with_lang: bool, rounds: int) -> float:
    classifier = default_classifier()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for title, text, lang in articles:
            classifier.classify(title, text, lang if with_lang else None)
        best = min(best, time.perf_counter() - start)
    return len(articles) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    default_classifier()  # compile outside the timing
    articles = build_articles()
    print(f"{len(articles)} articles of {WORDS} words, one core, best of {args.rounds}")
    print(f"  language given : {measure(articles, True, args.rounds):7.0f} articles/s")
    print(f"  no language    : {measure(articles, False, args.rounds):7.0f} articles/s")


if __name__ == "__main__":
    main()
