"""Diagnostics and the error hierarchy shared by every layer.

Validation code returns diagnostics as values so that a user sees every problem
of a template at once; only the boundary (CLI, service) raises, and then with
all of them attached.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

PathSegment = str | int

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_:\-]*$")


class TemplatePath(tuple[PathSegment, ...]):
    """A location inside a template: ``resources.web.properties.networks[0].port``.

    A tuple so that it hashes and slices like one; ``str()`` gives the dotted form
    users read, keys that are not identifiers are quoted (``["a.b"]``).
    """

    __slots__ = ()

    def __new__(cls, segments: Iterable[PathSegment] = ()) -> TemplatePath:
        return super().__new__(cls, tuple(segments))

    def __truediv__(self, segment: PathSegment) -> TemplatePath:
        # tuple.__new__ directly: paths are built for every node of a template.
        return tuple.__new__(TemplatePath, (*self, segment))

    def join(self, other: Iterable[PathSegment]) -> TemplatePath:
        return TemplatePath((*self, *other))

    def __str__(self) -> str:
        text = ""
        for segment in self:
            if isinstance(segment, int):
                text += f"[{segment}]"
            elif _IDENTIFIER.match(segment):
                text += f".{segment}" if text else segment
            else:
                escaped = segment.replace("\\", "\\\\").replace('"', '\\"')
                text += f'["{escaped}"]'
        return text

    def __repr__(self) -> str:
        return f"TemplatePath({str(self)!r})"


ROOT = TemplatePath()


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Span:
    """1-based line and column of the start of a node in the source text."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a template, environment or parameter set.

    ``code`` is stable across releases (tests and users match on it); ``path``
    is relative to whatever the reporting code was handed, and the caller that
    knows the wider context prefixes it once with :meth:`under`.
    """

    code: str
    message: str
    path: TemplatePath = ROOT
    severity: Severity = Severity.ERROR
    span: Span | None = None
    source: str | None = None

    def under(self, prefix: Iterable[PathSegment]) -> Diagnostic:
        return Diagnostic(
            self.code,
            self.message,
            TemplatePath((*prefix, *self.path)),
            self.severity,
            self.span,
            self.source,
        )

    def located(self, span: Span | None, source: str | None = None) -> Diagnostic:
        return Diagnostic(
            self.code,
            self.message,
            self.path,
            self.severity,
            span if self.span is None else self.span,
            source if self.source is None else self.source,
        )

    def render(self) -> str:
        """``FILE:LINE:COL CODE path message``; the form the CLI prints."""
        where = self.source or "<template>"
        if self.span is not None:
            where += f":{self.span}"
        path = str(self.path) or "<root>"
        return f"{where} {self.code} {path} {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": str(self.path),
            "segments": list(self.path),
            "line": self.span.line if self.span else None,
            "column": self.span.column if self.span else None,
            "message": self.message,
            "source": self.source,
        }


@dataclass
class Diagnostics:
    """An ordered collection of diagnostics with convenience filters."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]


class KilnError(Exception):
    """Root of every error Kiln raises on purpose."""


class NotFoundError(KilnError):
    """What the request names does not exist (a stack, resource, snapshot, config)."""


class ConflictError(KilnError):
    """The request clashes with the current state (an operation in progress, a name taken)."""


class DiagnosticError(KilnError):
    """Raised at a boundary when input is invalid; carries every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0].render() if self.diagnostics else "invalid input"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))


class TemplateError(DiagnosticError):
    """The template, environment or parameters are not valid."""


class ParseError(TemplateError):
    """The text is not well-formed YAML/JSON or breaks a parser limit."""


class EvaluationError(KilnError):
    """An intrinsic function could not be evaluated.

    ``path`` is where the function call sits; the validator turns this into a
    diagnostic. Messages never include hidden parameter values.
    """

    def __init__(self, code: str, message: str, path: TemplatePath = ROOT) -> None:
        self.code = code
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, self.message, self.path)
