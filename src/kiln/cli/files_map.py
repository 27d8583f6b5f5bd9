"""Build the files map a template needs, the way python-heatclient does.

The template layer never reads files; the client gathers every ``get_file``
target and every provider template (resource types and registry entries that
name a template file) relative to the file that mentions it, recursively, and
sends them along keyed by the reference as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kiln.errors import ParseError
from kiln.template.source import parse_document

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".template", ".json", ".hot")
MAX_FILES = 1000


def is_template_reference(value: str) -> bool:
    return value.lower().endswith(TEMPLATE_SUFFIXES) or value.startswith("file://")


def _references(data: Any, in_registry: bool = False) -> Iterator[tuple[str, bool]]:
    """(reference, is_template) pairs found anywhere in parsed data."""
    if isinstance(data, dict):
        if len(data) == 1 and isinstance(data.get("get_file"), str):
            yield data["get_file"], False
            return
        for key, value in data.items():
            names_template = in_registry or key in ("type", "Type")
            if names_template and isinstance(value, str) and is_template_reference(value):
                yield value, True
            else:
                yield from _references(value, in_registry or key == "resource_registry")
    elif isinstance(data, list):
        for item in data:
            yield from _references(item, in_registry)


def _local_path(reference: str, base: Path) -> Path | None:
    parsed = urlparse(reference)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if parsed.scheme:
        return None  # remote URLs are not fetched: only local files are sent
    return (base / reference).resolve()


def gather_files(document_path: Path, extra_documents: list[Path] | None = None) -> dict[str, str]:
    """Files referenced from a template (and its environments), recursively.

    Unreadable or missing files are left out; validation then reports the
    reference as missing from the files map, at its location.
    """
    files: dict[str, str] = {}
    pending = [document_path, *(extra_documents or [])]
    seen: set[Path] = set()
    while pending and len(files) < MAX_FILES:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            data = parse_document(current.read_bytes(), str(current)).data
        except (OSError, ParseError):
            continue
        for reference, is_template in _references(data):
            path = _local_path(reference, current.parent)
            if path is None or reference in files:
                continue
            try:
                files[reference] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if is_template:
                pending.append(path)
    return files
