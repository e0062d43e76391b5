"""Imported once by the extraction pool's fork server, before it forks any worker (see extract_pool).

What each worker would otherwise load for itself, again after every recycling: the modules of
`newswatch.analyse` (trafilatura, htmldate, numpy, the story features), langdetect's language
profiles (~0.3 s of CPU, loaded on first use), the classifier compiled from the shipped topics
(~0.8 s) and jusText's all-language stoplist (~0.1 s). A forked worker shares them with the server.
"""

from __future__ import annotations

from newswatch.analyse import analyse_page
from newswatch.classify import default_classifier
from newswatch.language import detect_language
from newswatch.trafilatura_fast import all_languages_stoplist

__all__ = ["analyse_page"]

detect_language("Newswatch loads the language profiles once, in the fork server, for every worker.")
default_classifier()
all_languages_stoplist()  # jusText's, for pages of no given language: ~0.1 s a worker otherwise
