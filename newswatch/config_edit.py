"""Add sources to a config file in place, keeping its comments and layout (ruamel round-trip)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from newswatch.config import Config, parse_config
from newswatch.errors import ConfigError


def append_sources(path: Path, entries: list[dict[str, Any]]) -> Config:
    """Append `entries` to `sources:` of the file at `path`; the result is validated before it is written."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    try:
        doc = yaml.load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    if "sources" not in doc or doc["sources"] is None:
        doc["sources"] = []
    doc["sources"].extend(entries)
    buf = io.StringIO()
    yaml.dump(doc, buf)
    text = buf.getvalue()
    config = parse_config(YAML(typ="safe").load(text), origin=str(path), base_dir=str(path.parent))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return config
