"""`newswatch reclassify`: re-label stored articles after a rules or topics change, in batches."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.classify import Classifier, default_classifier, load_topics
from newswatch.config import Config
from newswatch.persist import classification_row
from newswatch.store import Store
from newswatch.store.labels import get_articles_to_classify, replace_classifications

BATCH = 500


def classifier_for(config: Config) -> Classifier:
    return Classifier(load_topics(config.resolve(config.topics))) if config.topics else default_classifier()


def reclassify_store(store: Store, config: Config, *, all_articles: bool = False) -> int:
    """Classify every article not yet labelled by the current classifier version (or all). Idempotent."""
    classifier = classifier_for(config)
    done = 0
    after = ""
    while True:
        with store.read() as con:
            batch = get_articles_to_classify(
                con, classifier.version, all_articles=all_articles, limit=BATCH, after_id=after
            )
        if not batch:
            return done
        rows = [
            classification_row(aid, classifier.classify(title, text, lang))
            for aid, title, text, lang in batch
        ]
        with store.write() as con:
            replace_classifications(con, rows, classifier.version, datetime.now(UTC))
        done += len(rows)
        after = batch[-1][0]
