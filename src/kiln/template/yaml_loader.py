"""Build plain data and a source map from YAML, one parser event at a time.

PyYAML's composer recurses once per nesting level and expands aliases by
sharing objects, so a hostile document can exhaust the stack or explode into a
huge tree before anything checks it. Building from the event stream instead
lets every budget (depth, node count including alias expansion, integer size)
be enforced the moment it is crossed, records where each value came from, and
turns duplicate keys and unknown tags into located diagnostics.

The value semantics are PyYAML's SafeLoader (YAML 1.1: ``yes``/``on`` are
booleans, ``0o``-less octals, sexagesimal numbers, merge keys), except that
timestamps stay strings as in Heat's loader and mapping keys stay the text the
author wrote. The helpers shared with the JSON reader live here too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from kiln.config import TemplateLimits
from kiln.errors import ROOT, Diagnostic, Span, TemplatePath

INTERNAL_ERROR = "P1000"
YAML_SYNTAX = "P1001"
JSON_SYNTAX = "P1002"
NOT_UTF8 = "P1003"
BAD_CHARACTER = "P1004"
TOO_LARGE = "P1005"
TOO_DEEP = "P1006"
TOO_MANY_NODES = "P1007"
INTEGER_TOO_LONG = "P1008"
NOT_FINITE = "P1009"
DUPLICATE_KEY = "P1010"
UNKNOWN_TAG = "P1011"
BAD_KEY = "P1012"
BAD_VALUE = "P1013"
RECURSIVE_ALIAS = "P1014"

#: Past this many problems the rest are noise; stop and report what we have.
MAX_DIAGNOSTICS = 100
ORIGIN = Span(1, 1)

_CORE = "tag:yaml.org,2002:"
STR_TAG = _CORE + "str"
_NULL_TAG = _CORE + "null"
_BOOL_TAG = _CORE + "bool"
_INT_TAG = _CORE + "int"
_FLOAT_TAG = _CORE + "float"
_TIMESTAMP_TAG = _CORE + "timestamp"
_MERGE_TAG = _CORE + "merge"
_VALUE_TAG = _CORE + "value"
_MAP_TAG = _CORE + "map"
_SEQ_TAG = _CORE + "seq"
_SCALAR_TAGS = frozenset(
    {STR_TAG, _NULL_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG, _TIMESTAMP_TAG, _MERGE_TAG, _VALUE_TAG}
)

#: CloudFormation's YAML short forms and the long-form key each one stands for.
SHORT_FORMS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{
        f"!{name}": f"Fn::{name}"
        for name in (
            *("GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "And", "Or", "Not"),
            *("Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Length", "ToJsonString"),
            *("Transform", "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf"),
            "ValueOfAll",
        )
    },
}

_BOOLEANS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_INTEGER = re.compile(r"[-+]?(?:0b[01]+|0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*(?::[0-5]?[0-9])*)")
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
#: SafeLoader's implicit resolvers for plain scalars, by first character ("" when empty).
_IMPLICIT_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = dict(
    yaml.resolver.Resolver.yaml_implicit_resolvers
)


class Stop(Exception):
    """Unwinds a parser once a problem makes reading further pointless."""


@dataclass
class Collector:
    """Diagnostics, positions and budgets shared by the YAML and JSON readers."""

    limits: TemplateLimits
    diagnostics: list[Diagnostic] = field(default_factory=list)
    spans: dict[TemplatePath, Span] = field(default_factory=lambda: {ROOT: ORIGIN})
    nodes: int = 0

    def report(self, code: str, message: str, path: TemplatePath, span: Span) -> None:
        self.diagnostics.append(Diagnostic(code, message, path, span=span))
        if len(self.diagnostics) >= MAX_DIAGNOSTICS:
            raise Stop

    def fail(self, code: str, message: str, path: TemplatePath, span: Span) -> NoReturn:
        self.report(code, message, path, span)
        raise Stop

    def count(self, amount: int, path: TemplatePath, span: Span) -> None:
        self.nodes += amount
        limit = self.limits.max_document_nodes
        if self.nodes > limit:
            message = f"the document expands to more than {limit} nodes (aliases included)"
            self.fail(TOO_MANY_NODES, message, path, span)

    def check_depth(self, depth: int, path: TemplatePath, span: Span) -> None:
        limit = self.limits.max_nesting_depth
        if depth > limit:
            self.fail(TOO_DEEP, f"nesting is deeper than the limit of {limit} levels", path, span)

    def integer_fits(self, digits: int, path: TemplatePath, span: Span) -> bool:
        """Checks digit counts before int() so huge literals cost nothing."""
        limit = self.limits.max_integer_digits
        if digits <= limit:
            return True
        message = f"the integer has {digits} digits, more than the limit of {limit}"
        self.report(INTEGER_TOO_LONG, message, path, span)
        return False

    def finite(self, number: float, path: TemplatePath, span: Span) -> float | None:
        if math.isfinite(number):
            return number
        message = "the number is not finite; infinity and NaN are not allowed"
        self.report(NOT_FINITE, message, path, span)
        return None

    def duplicate(self, key: str, path: TemplatePath, span: Span, first_line: int) -> None:
        message = f"duplicate key {key!r} (first defined at line {first_line})"
        self.report(DUPLICATE_KEY, message, path, span)


def copy_tree(value: Any) -> Any:
    """Copies nested dicts/lists without recursion, so alias targets are not shared."""
    if not isinstance(value, dict | list):
        return value
    root = value.copy()
    pending: list[Any] = [root]
    while pending:
        container = pending.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for position, item in items:
            if isinstance(item, dict | list):
                duplicate = item.copy()
                container[position] = duplicate
                pending.append(duplicate)
    return root


def tag_text(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def mark_span(mark: Any) -> Span:
    if mark is None:
        return ORIGIN
    return Span(int(mark.line) + 1, int(mark.column) + 1)


@dataclass(frozen=True)
class _Anchor:
    value: Any
    nodes: int
    height: int
    key: str | None


@dataclass
class _Frame:
    """A mapping or sequence still being read."""

    container: Any
    mapping: bool
    path: TemplatePath
    depth: int
    function: str | None
    anchor: str | None
    nodes_before: int
    height: int = 1
    expecting_key: bool = True
    key: str = ""
    merging: bool = False
    key_lines: dict[str, int] = field(default_factory=dict)
    merges: list[tuple[str, Any]] = field(default_factory=list)
    merge_span: Span = ORIGIN


class YamlBuilder:
    """Consumes parser events and assembles the document they describe."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.spans = collector.spans
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor | None] = {}
        self.anchor_lines: dict[str, int] = {}
        self.root: Any = None
        self.documents = 0

    def build(self, text: str, loader_class: Any = yaml.SafeLoader) -> Any:
        """The document's data; the parser's own errors propagate as yaml.YAMLError."""
        loader = loader_class(text)
        try:
            self._consume(loader)
        finally:
            loader.dispose()
        return self.root

    def _consume(self, loader: Any) -> None:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                self._scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self._start(event, kind is MappingStartEvent)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                self._end()
            elif kind is AliasEvent:
                self._alias(event)
            elif kind is DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    message = "expected a single document in the stream, but found another"
                    self.collector.fail(YAML_SYNTAX, message, ROOT, mark_span(event.start_mark))
            elif kind is StreamEndEvent or event is None:
                return

    def _place(self, span: Span) -> TemplatePath:
        """The path of the node starting at span; sequence items are located here."""
        if not self.stack:
            return ROOT
        frame = self.stack[-1]
        if frame.mapping:
            return frame.path / ("<<" if frame.merging else frame.key)
        path = frame.path / len(frame.container)
        self.spans[path] = span
        return path

    def _attach(self, value: Any, height: int) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        frame.height = max(frame.height, height + 1)
        if not frame.mapping:
            frame.container.append(value)
        elif frame.merging:
            self._collect_merge(frame, value)
        else:
            frame.container[frame.key] = value
        frame.expecting_key = True
        frame.merging = False

    def _in_key_position(self) -> bool:
        return bool(self.stack) and self.stack[-1].mapping and self.stack[-1].expecting_key

    def _scalar(self, event: Any) -> None:
        span = mark_span(event.start_mark)
        if self._in_key_position():
            self._key(event, span)
            return
        path = self._place(span)
        self.collector.count(1, path, span)
        tag = self._tag(event, path, span)
        function = SHORT_FORMS.get(tag)
        if function is None:
            value, height = self._construct(tag, event.value, path, span), 0
        else:
            value, height = self._short_scalar(function, event.value, path, span)
        if event.anchor is not None:
            self._define(event.anchor, span)
            self.anchors[event.anchor] = _Anchor(value, height + 1, height, event.value)
        self._attach(value, height)

    def _short_scalar(
        self, function: str, text: str, path: TemplatePath, span: Span
    ) -> tuple[Any, int]:
        inner: Any = text
        height = 1
        if function == "Fn::GetAtt":
            inner, height = text.split(".", 1), 2
        depth = (self.stack[-1].depth if self.stack else 0) + height
        self.collector.check_depth(depth, path, span)
        self.collector.count(height, path, span)
        self.spans[path / function] = span
        return {function: inner}, height

    def _tag(self, event: Any, path: TemplatePath, span: Span) -> str:
        """The scalar's effective tag; unknown explicit tags are reported and read as strings."""
        tag: str | None = event.tag
        if tag is None or tag == "!":
            return _implicit_tag(event.value) if event.implicit[0] else STR_TAG
        if tag in SHORT_FORMS or tag in _SCALAR_TAGS:
            return tag
        if tag in (_MAP_TAG, _SEQ_TAG):
            message = f"the tag {tag_text(tag)} cannot be used on a scalar"
            self.collector.report(BAD_VALUE, message, path, span)
        else:
            self.collector.report(UNKNOWN_TAG, _unknown_tag(tag), path, span)
        return STR_TAG

    def _construct(self, tag: str, text: str, path: TemplatePath, span: Span) -> Any:
        if tag in (STR_TAG, _TIMESTAMP_TAG):
            return text
        if tag == _NULL_TAG:
            return None
        if tag == _BOOL_TAG:
            flag = _BOOLEANS.get(text.lower())
            if flag is None:
                self.collector.report(BAD_VALUE, "the value is not a valid !!bool", path, span)
            return flag
        if tag == _INT_TAG:
            return self._integer(text, path, span)
        if tag == _FLOAT_TAG:
            return self._float(text, path, span)
        # Only `<<` and `=` resolve here implicitly; an explicit tag must not echo the value.
        written = "<<" if tag == _MERGE_TAG else "="
        message = (
            f"a plain {written!r} is only meaningful as a mapping key; quote it to use a string"
        )
        self.collector.report(BAD_VALUE, message, path, span)
        return text

    def _integer(self, text: str, path: TemplatePath, span: Span) -> int | None:
        compact = text.replace("_", "")
        if _INTEGER.fullmatch(compact) is None:
            self.collector.report(BAD_VALUE, "the value is not a valid !!int", path, span)
            return None
        sign = -1 if compact.startswith("-") else 1
        body = compact.lstrip("+-")
        prefix = body[:2]
        digits = body[2:] if prefix in ("0b", "0x") else body.replace(":", "")
        if not self.collector.integer_fits(len(digits), path, span):
            return None
        try:
            if prefix in ("0b", "0x"):
                return sign * int(digits, 2 if prefix == "0b" else 16)
            if ":" in body:
                total = 0
                for part in body.split(":"):
                    total = total * 60 + int(part)
                return sign * total
            if body.startswith("0") and len(body) > 1:
                return sign * int(body, 8)
            return sign * int(body)
        except ValueError:
            # Python refuses to convert very long decimals; that is our limit too.
            message = f"the integer has {len(digits)} digits, too many to convert"
            self.collector.report(INTEGER_TOO_LONG, message, path, span)
            return None

    def _float(self, text: str, path: TemplatePath, span: Span) -> float | None:
        compact = text.replace("_", "").lower()
        sign = -1.0 if compact.startswith("-") else 1.0
        body = compact.lstrip("+-") if compact[:1] in ("+", "-") else compact
        try:
            if body in (".inf", ".nan"):
                number = math.inf
            elif ":" in body:
                number = 0.0
                for part in body.split(":"):
                    number = number * 60 + float(part)
            else:
                number = float(body)
        except (ValueError, OverflowError):
            self.collector.report(BAD_VALUE, "the value is not a valid !!float", path, span)
            return None
        return self.collector.finite(sign * number, path, span)

    def _key(self, event: Any, span: Span) -> None:
        frame = self.stack[-1]
        tag: str | None = event.tag
        if tag is not None and tag != "!" and tag not in _SCALAR_TAGS:
            message = f"the tag {tag_text(tag)} cannot be used on a mapping key"
            self.collector.report(BAD_KEY, message, frame.path / event.value, span)
        merge = tag == _MERGE_TAG or (tag is None and event.implicit[0] and event.value == "<<")
        self._use_key(frame, event.value, span, merge)
        if event.anchor is not None:
            self._define(event.anchor, span)
            resolved = self._tag(event, frame.path / event.value, span)
            if resolved in SHORT_FORMS:
                resolved = STR_TAG
            value = self._construct(resolved, event.value, frame.path / event.value, span)
            self.anchors[event.anchor] = _Anchor(value, 1, 0, event.value)

    def _use_key(self, frame: _Frame, key: str, span: Span, merge: bool) -> None:
        path = frame.path / key
        self.collector.count(1, path, span)
        frame.expecting_key = False
        if merge:
            frame.merging = True
            frame.merge_span = span
            return
        first_line = frame.key_lines.get(key)
        if first_line is not None:
            self.collector.duplicate(key, path, span, first_line)
        else:
            frame.key_lines[key] = span.line
        frame.key = key
        self.spans[path] = span

    def _collect_merge(self, frame: _Frame, value: Any) -> None:
        """Queues merged entries with PyYAML's precedence: earlier sources win."""
        sources = list(reversed(value)) if isinstance(value, list) else [value]
        if not all(isinstance(source, dict) for source in sources):
            message = "a merge key ('<<') needs a mapping or a list of mappings"
            self.collector.report(BAD_VALUE, message, frame.path / "<<", frame.merge_span)
            return
        for source in sources:
            frame.merges.extend(source.items())

    def _start(self, event: Any, mapping: bool) -> None:
        span = mark_span(event.start_mark)
        if self._in_key_position():
            message = "a mapping key must be a scalar, not a " + ("mapping" if mapping else "list")
            self.collector.fail(BAD_KEY, message, self.stack[-1].path, span)
        path = self._place(span)
        nodes_before = self.collector.nodes
        function = self._collection_function(event.tag, mapping, path, span)
        depth = (self.stack[-1].depth if self.stack else 0) + 1
        if function is not None:
            depth += 1
            self.collector.count(1, path, span)
            path = path / function
            self.spans[path] = span
        self.collector.check_depth(depth, path, span)
        self.collector.count(1, path, span)
        if event.anchor is not None:
            self._define(event.anchor, span)
        container: Any = {} if mapping else []
        frame = _Frame(container, mapping, path, depth, function, event.anchor, nodes_before)
        self.stack.append(frame)

    def _collection_function(
        self, tag: str | None, mapping: bool, path: TemplatePath, span: Span
    ) -> str | None:
        if tag is None or tag == "!" or tag == (_MAP_TAG if mapping else _SEQ_TAG):
            return None
        if tag in SHORT_FORMS:
            return SHORT_FORMS[tag]
        kind = "mapping" if mapping else "list"
        if tag in _SCALAR_TAGS or tag in (_MAP_TAG, _SEQ_TAG):
            message = f"the tag {tag_text(tag)} cannot be used on a {kind}"
            self.collector.report(BAD_VALUE, message, path, span)
        else:
            self.collector.report(UNKNOWN_TAG, _unknown_tag(tag), path, span)
        return None

    def _end(self) -> None:
        frame = self.stack.pop()
        value = frame.container
        if frame.merges:
            merged = dict(frame.merges)
            for key in merged:
                if key not in value:
                    self.spans.setdefault(frame.path / key, frame.merge_span)
            merged.update(value)
            value = merged
        height = frame.height
        if frame.function is not None:
            value = {frame.function: value}
            height += 1
        if frame.anchor is not None:
            nodes = self.collector.nodes - frame.nodes_before
            self.anchors[frame.anchor] = _Anchor(value, nodes, height, None)
        self._attach(value, height)

    def _define(self, name: str, span: Span) -> None:
        if name in self.anchors:
            first = self.anchor_lines[name]
            message = f"found duplicate anchor {name!r} (first defined at line {first})"
            self.collector.fail(YAML_SYNTAX, message, ROOT, span)
        self.anchors[name] = None
        self.anchor_lines[name] = span.line

    def _alias(self, event: Any) -> None:
        span = mark_span(event.start_mark)
        name: str = event.anchor
        if name not in self.anchors:
            self.collector.fail(YAML_SYNTAX, f"found undefined alias {name!r}", ROOT, span)
        anchor = self.anchors[name]
        if anchor is None:
            message = f"the alias *{name} refers to a node that contains it"
            self.collector.fail(RECURSIVE_ALIAS, message, ROOT, span)
        if self._in_key_position():
            frame = self.stack[-1]
            if anchor.key is None:
                message = f"the alias *{name} used as a mapping key must refer to a scalar"
                self.collector.fail(BAD_KEY, message, frame.path, span)
            self._use_key(frame, anchor.key, span, merge=False)
            return
        path = self._place(span)
        depth = (self.stack[-1].depth if self.stack else 0) + anchor.height
        self.collector.check_depth(depth, path, span)
        self.collector.count(anchor.nodes, path, span)
        self._attach(copy_tree(anchor.value), anchor.height)


def _syntax_message(error: yaml.MarkedYAMLError) -> str:
    message = error.problem or error.context or "the text is not valid YAML"
    if error.problem and error.context and error.context_mark is not None:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return message


def _error_span(error: yaml.MarkedYAMLError) -> Span:
    return mark_span(error.problem_mark or error.context_mark)


def _reader_span(text: str, error: yaml.YAMLError) -> Span:
    position = getattr(error, "position", 0)
    index = position if isinstance(position, int) else 0
    return span_at(text, max(0, min(index, len(text))))


_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def span_at(text: str, index: int) -> Span:
    """Line and column of a character offset, counting YAML's line breaks."""
    line = 1
    line_start = 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line += 1
        line_start = match.end()
    return Span(line, index - line_start + 1)


def load_yaml(text: str, collector: Collector) -> Any:
    """The single document in text; raises Stop after recording a fatal diagnostic.

    libyaml reads first, for speed. When it rejects the text, PyYAML's own parser
    reads it again, as Heat's loader does: its messages are the ones Heat users
    know ("mapping values are not allowed here"), and whatever it accepts, Heat
    accepts too.
    """
    fast_error: yaml.YAMLError | None = None
    if _FAST_LOADER is not None:
        try:
            return YamlBuilder(collector).build(text, _FAST_LOADER)
        except yaml.YAMLError as error:
            fast_error = error
            _restart(collector)
    try:
        return YamlBuilder(collector).build(text)
    except yaml.YAMLError as error:
        _fail_on(collector, error, text)
    except Stop:
        raise
    except Exception:  # PyYAML's pure parser crashes on a few inputs, e.g. "\U00110000"
        _restart(collector)
        if fast_error is not None:
            _fail_on(collector, fast_error, text)
        collector.fail(YAML_SYNTAX, "the text is not valid YAML", ROOT, ORIGIN)


def _restart(collector: Collector) -> None:
    """Forgets a failed attempt; load_yaml is always handed a fresh collector."""
    collector.diagnostics.clear()
    collector.nodes = 0
    collector.spans.clear()
    collector.spans[ROOT] = ORIGIN


def _fail_on(collector: Collector, error: yaml.YAMLError, text: str) -> NoReturn:
    if isinstance(error, yaml.MarkedYAMLError):
        collector.fail(YAML_SYNTAX, _syntax_message(error), ROOT, _error_span(error))
    message = str(getattr(error, "reason", "") or "the text is not valid YAML")
    collector.fail(YAML_SYNTAX, message, ROOT, _reader_span(text, error))


def _unknown_tag(tag: str) -> str:
    """YAML's own tags that SafeLoader knows (!!binary, !!set, ...) make no plain data."""
    if tag.startswith(_CORE):
        return f"the tag {tag_text(tag)} is not supported"
    return f"unknown tag {tag_text(tag)!r}"


def _implicit_tag(value: str) -> str:
    """The tag SafeLoader resolves a plain scalar to: the first resolver whose pattern matches."""
    for tag, pattern in _IMPLICIT_RESOLVERS.get(value[:1], ()):
        if pattern.match(value):
            return tag
    return STR_TAG
