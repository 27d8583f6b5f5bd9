"""Shared access to the template corpus kept beside the project (../shared/corpus)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kiln.cli.files_map import gather_files
from kiln.template.validate import SourceText

#: (format, syntax, passed|failed) -> count, printed at the end of the run.
RESULTS: Counter[tuple[str, str, str]] = Counter()

REPOSITORY = Path(__file__).resolve().parents[2]


def corpus_root() -> Path:
    configured = os.environ.get("KILN_CORPUS")
    if configured:
        return Path(configured)
    return REPOSITORY.parent / "shared" / "corpus"


@cache
def corpus_index() -> list[dict[str, Any]]:
    index = corpus_root() / "index.json"
    if not index.exists():
        return []
    entries: list[dict[str, Any]] = json.loads(index.read_text(encoding="utf-8"))
    return entries


def resolvable_entries() -> list[dict[str, Any]]:
    return [entry for entry in corpus_index() if entry.get("resolvable")]


@dataclass
class CorpusCase:
    entry: dict[str, Any]
    template: SourceText
    environments: list[SourceText] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def load_case(entry: dict[str, Any]) -> CorpusCase:
    """Template, environments and files map, gathered the way the CLI gathers them."""
    root = corpus_root()
    path = root / entry["path"]
    environment_paths = [root / name for name in entry.get("env_files", [])]
    files = gather_files(path, environment_paths)
    for url, local in entry.get("url_map", {}).items():
        files[url] = (root / local).read_text(encoding="utf-8")
    return CorpusCase(
        entry=entry,
        template=SourceText(entry["path"], path.read_bytes()),
        environments=[
            SourceText(str(p.relative_to(root)), p.read_bytes()) for p in environment_paths
        ],
        files=files,
    )
