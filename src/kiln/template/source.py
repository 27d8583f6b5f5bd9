"""Template text (YAML or JSON) to plain data and a map from template paths to line:column.

Heat decides the syntax the same way: text that starts with ``{`` (after
whitespace) is JSON, anything else YAML with SafeLoader's value semantics,
except that timestamps stay strings. Unlike Heat, every problem comes back as a
located diagnostic inside one :class:`ParseError`, and hostile input (aliases
that expand exponentially, deep nesting, giant integers) is refused by limit
instead of exhausting the process.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

import yaml

from kiln.config import TemplateLimits
from kiln.errors import ROOT, Diagnostic, ParseError, Span, TemplatePath
from kiln.template.yaml_loader import (
    BAD_CHARACTER,
    JSON_SYNTAX,
    NOT_UTF8,
    ORIGIN,
    TOO_DEEP,
    TOO_LARGE,
    Collector,
    Stop,
    load_yaml,
    span_at,
)

__all__ = ["Document", "SourceMap", "parse_document"]

#: The stdlib's (C-accelerated) JSON string decoder, so escapes mean exactly what json.loads says.
_scan_string: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_JSON_LINE_BREAK = re.compile(r"\r\n|[\r\n]")
_JSON_CONSTANTS: dict[str, Any] = {"null": None, "true": True, "false": False}
_JSON_NON_FINITE = ("NaN", "Infinity", "-Infinity")


@dataclass(frozen=True)
class SourceMap:
    """Where each path of the data was written: a mapping entry at its key, an item at its start."""

    spans: Mapping[TemplatePath, Span] = field(default_factory=dict)

    def span(self, path: TemplatePath) -> Span | None:
        """The span of ``path`` or of its nearest ancestor, so generated paths still get a place."""
        for length in range(len(path), 0, -1):
            found = self.spans.get(TemplatePath(path[:length]))
            if found is not None:
                return found
        return self.spans.get(ROOT, ORIGIN)


@dataclass(frozen=True)
class Document:
    data: Any
    source_map: SourceMap
    name: str
    syntax: Literal["yaml", "json"]


def parse_document(
    text: str | bytes, name: str = "<template>", limits: TemplateLimits | None = None
) -> Document:
    """Parse one YAML or JSON document; any problem raises :class:`ParseError`, nothing else."""
    collector = Collector(limits or TemplateLimits())
    syntax: Literal["yaml", "json"] = "yaml"
    data: Any = None
    try:
        decoded = _decode(text, collector)
        if decoded.lstrip().startswith("{"):
            syntax = "json"
            data = _JsonScanner(decoded, collector).parse()
        else:
            _check_characters(decoded, collector)
            data = load_yaml(decoded, collector)
    except Stop:
        pass
    except RecursionError:
        message = "the document is too deeply nested to parse"
        collector.diagnostics.append(Diagnostic(TOO_DEEP, message, ROOT, span=ORIGIN))
    except MemoryError:
        message = "the document needs too much memory to parse"
        collector.diagnostics.append(Diagnostic(TOO_LARGE, message, ROOT, span=ORIGIN))
    if collector.diagnostics:
        raise ParseError([found.located(None, name) for found in collector.diagnostics])
    return Document(data, SourceMap(collector.spans), name, syntax)


def _decode(text: str | bytes, collector: Collector) -> str:
    """Sizes are in UTF-8 bytes, as Heat's ``max_template_size`` counts the request body."""
    limit = collector.limits.max_template_bytes
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        message = f"the document is {size} bytes; the limit is {limit} bytes"
        collector.fail(TOO_LARGE, message, ROOT, ORIGIN)
    if not isinstance(text, bytes):
        return text.removeprefix("\ufeff")
    try:
        return text.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        message = f"the document is not valid UTF-8 (byte 0x{text[error.start]:02x})"
        collector.fail(NOT_UTF8, message, ROOT, _byte_span(text, error.start))


def _byte_span(data: bytes, offset: int) -> Span:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Span(data.count(b"\n", 0, offset) + 1, column)


def _check_characters(text: str, collector: Collector) -> None:
    """YAML forbids control characters; checked up front so the message and place are exact."""
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return
    character = ord(found.group())
    message = f"unacceptable character #x{character:04x}: special characters are not allowed"
    collector.fail(BAD_CHARACTER, message, ROOT, span_at(text, found.start()))


@dataclass
class _Container:
    """An open JSON object or array while the scanner is inside it."""

    value: dict[str, Any] | list[Any]
    path: TemplatePath
    key: str = ""
    first_lines: dict[str, int] = field(default_factory=dict)


class _JsonScanner:
    """JSON with ``json.loads`` semantics, but iterative and recording where each path starts.

    The YAML composer would give positions too, but YAML 1.1 reads real JSON
    differently (``1e5`` is a string there, tabs and ``\\/`` are errors).
    """

    def __init__(self, text: str, collector: Collector) -> None:
        self.text = text
        self.collector = collector
        self.start = len(text) - len(text.lstrip())
        self.end = len(text.rstrip())
        self.line_starts = [0] + [match.end() for match in _JSON_LINE_BREAK.finditer(text)]

    def span(self, offset: int) -> Span:
        line = bisect.bisect_right(self.line_starts, offset)
        return Span(line, offset - self.line_starts[line - 1] + 1)

    def fail(self, message: str, offset: int, path: TemplatePath = ROOT) -> NoReturn:
        self.collector.fail(JSON_SYNTAX, message, path, self.span(offset))

    def skip(self, offset: int) -> int:
        match = _JSON_WHITESPACE.match(self.text, offset)
        return match.end() if match is not None else offset

    def parse(self) -> Any:
        stack: list[_Container] = []
        offset, path = self.start, ROOT
        while True:
            character = self.text[offset : offset + 1]
            if character in ("{", "["):
                container = _Container({} if character == "{" else [], path)
                self.open(container, offset, len(stack) + 1)
                offset = self.skip(offset + 1)
                if self.text[offset : offset + 1] != ("}" if character == "{" else "]"):
                    stack.append(container)
                    offset, path = self.next_member(container, offset)
                    continue
                value: Any = container.value
                offset += 1
            else:
                value, offset = self.scalar(offset, path)
            found = self.close(stack, value, offset)
            if isinstance(found, tuple):
                offset, path = found
                continue
            return found

    def close(self, stack: list[_Container], value: Any, offset: int) -> Any:
        """Store a finished value, closing containers; the next member's place, or the document."""
        while stack:
            container = stack[-1]
            if isinstance(container.value, dict):
                container.value[container.key] = value
                closing = "}"
            else:
                container.value.append(value)
                closing = "]"
            offset = self.skip(offset)
            character = self.text[offset : offset + 1]
            if character == ",":
                return self.next_member(container, self.skip(offset + 1))
            if character != closing:
                self.fail("Expecting ',' delimiter", offset, container.path)
            stack.pop()
            value = container.value
            offset += 1
        if self.skip(offset) < self.end:
            self.fail("Extra data", self.skip(offset))
        return value

    def open(self, container: _Container, offset: int, depth: int) -> None:
        span = self.span(offset)
        self.collector.count(1, container.path, span)
        self.collector.check_depth(depth, container.path, span)

    def next_member(self, container: _Container, offset: int) -> tuple[int, TemplatePath]:
        """Reads an object key and its colon, or locates the next array item."""
        if isinstance(container.value, list):
            path = container.path / len(container.value)
            self.collector.spans[path] = self.span(offset)
            return offset, path
        if self.text[offset : offset + 1] != '"':
            self.fail("Expecting property name enclosed in double quotes", offset, container.path)
        key, end = self.string(offset)
        path = container.path / key
        span = self.span(offset)
        self.collector.count(1, path, span)
        first_line = container.first_lines.get(key)
        if first_line is not None:
            self.collector.duplicate(key, path, span, first_line)
        else:
            container.first_lines[key] = span.line
        self.collector.spans[path] = span
        container.key = key
        end = self.skip(end)
        if self.text[end : end + 1] != ":":
            self.fail("Expecting ':' delimiter", end, container.path)
        return self.skip(end + 1), path

    def string(self, offset: int) -> tuple[str, int]:
        try:
            return _scan_string(self.text, offset + 1, True)
        except json.JSONDecodeError as error:
            self.fail(error.msg, error.pos)

    def scalar(self, offset: int, path: TemplatePath) -> tuple[Any, int]:
        span = self.span(offset)
        self.collector.count(1, path, span)
        text = self.text
        if text.startswith('"', offset):
            return self.string(offset)
        for word, constant in _JSON_CONSTANTS.items():
            if text.startswith(word, offset):
                return constant, offset + len(word)
        for word in _JSON_NON_FINITE:
            if text.startswith(word, offset):
                return self.collector.finite(float(word), path, span), offset + len(word)
        match = _JSON_NUMBER.match(text, offset)
        if match is None:
            self.fail("Expecting value", offset, path)
        integer, fraction, exponent = match.groups()
        if fraction or exponent:
            return self.collector.finite(float(match.group()), path, span), match.end()
        if not self.collector.integer_fits(len(integer.lstrip("-")), path, span):
            return None, match.end()
        return int(integer), match.end()
