"""The intrinsic-function model: parsed calls, references, and lazy evaluation.

A template is parsed once into a tree of plain data in which every function
call is a :class:`Function` instance. Evaluation walks that tree through a
:class:`Resolver`, which asks a :class:`Scope` for everything outside the
template (parameter values, physical ids, attributes, files). Nothing here
knows about stacks or databases.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from kiln.config import TemplateLimits
from kiln.errors import Diagnostic, EvaluationError, Severity, TemplatePath
from kiln.schema.types import describe_type
from kiln.schema.values import ABSENT, Unknown, ValueNotKnown, contains_unknown, first_unknown

__all__ = [
    "ABSENT",
    "Function",
    "NeedsKnownValue",
    "Reference",
    "Removed",
    "Resolver",
    "Scope",
    "Unknown",
    "contains_unknown",
    "iter_functions",
    "kind_of",
]


ReferenceKind = Literal["resource", "attribute", "parameter", "ref", "condition", "mapping", "file"]


@dataclass(frozen=True)
class Reference:
    """Something a function call points at, found without evaluating anything.

    ``ref`` is CloudFormation's ``Ref``: a parameter, a pseudo parameter or a
    resource, decided by the validator that knows the template's sections.
    ``attribute`` carries the attribute name for ``get_attr``/``Fn::GetAtt``
    when it is a literal (``None`` for "all attributes" or a computed name);
    ``key`` the first element of the attribute's path when it is a literal
    (a group's ``attributes`` and ``outputs`` name a member attribute there).
    """

    kind: ReferenceKind
    name: str
    path: TemplatePath
    attribute: str | None = None
    key: str | None = None


class Scope(Protocol):
    """Everything an evaluation may need from outside the template.

    Each lookup raises ``KeyError`` when the name does not exist; functions turn
    that into an :class:`EvaluationError` naming their own path.
    """

    def parameter(self, name: str) -> Any:
        """A parameter's converted value, pseudo parameters (``OS::stack_name``) included."""

    def resource_reference(self, name: str) -> Any:
        """What ``get_resource``/``Ref`` give: the physical id, or :class:`Unknown`."""

    def resource_attribute(self, name: str, attribute: str) -> Any:
        """One attribute of a resource, or :class:`Unknown`."""

    def resource_attributes(self, name: str) -> Any:
        """All attributes of a resource as a map (``get_attr`` without a name)."""

    def condition(self, name: str) -> bool:
        """The value of a named condition of the template."""

    def file(self, key: str) -> str:
        """Contents from the files map sent with the request (``get_file``)."""

    def mapping(self, name: str) -> Mapping[str, Any]:
        """A CloudFormation ``Mappings`` entry."""

    def pseudo_parameter(self, name: str) -> Any:
        """``AWS::StackName``, ``AWS::Region``, ... (not ``AWS::NoValue``)."""

    def import_value(self, name: str) -> Any:
        """The value another stack exported under ``name`` (``Fn::ImportValue``)."""

    def availability_zones(self, region: str) -> list[str]:
        """Zones of a region for ``Fn::GetAZs``; an empty region means the stack's."""

    def resource_facade(self, section: str) -> Any:
        """``metadata``, ``deletion_policy`` or ``update_policy`` of the parent resource."""


#: Internal signal: an argument was Unknown, so the call evaluates to Unknown.
NeedsKnownValue = ValueNotKnown


class Resolver:
    """Evaluates parsed nodes against a scope, call by call.

    Functions pull their arguments through :meth:`resolve` (values may contain
    :class:`Unknown`) or :meth:`known` (raises to make the whole call Unknown),
    so lazy functions such as ``if`` evaluate only the branch they take.
    """

    def __init__(self, scope: Scope, limits: TemplateLimits | None = None) -> None:
        self.scope = scope
        self.limits = limits or TemplateLimits()

    def resolve(self, node: Any) -> Any:
        # Concrete type checks: parsed templates hold only dicts, lists and scalars,
        # and ABC isinstance checks dominate the cost of large templates.
        node_type = type(node)
        if node_type is dict:
            result: dict[Any, Any] = {}
            for key, value in node.items():
                resolved_key = self.call(key) if isinstance(key, Function) else key
                resolved = self.resolve(value)
                if resolved is not ABSENT:
                    result[resolved_key] = resolved
            return result
        if node_type is list or node_type is tuple:
            items = (self.resolve(item) for item in node)
            return [item for item in items if item is not ABSENT]
        if isinstance(node, Function):
            return self.call(node)
        if isinstance(node, Mapping):
            return self.resolve(dict(node))
        return node

    def known(self, node: Any) -> Any:
        value = self.resolve(node)
        if contains_unknown(value):
            waiting_for = first_unknown(value)
            raise NeedsKnownValue(waiting_for.shown if waiting_for else "")
        return value

    def call(self, function: Function) -> Any:
        """Evaluate one call; a call that needs an Unknown value is Unknown itself,
        described by what it waits for (``db_password.value``)."""
        try:
            return function.evaluate(self)
        except NeedsKnownValue as signal:
            waiting_for = signal.args[0] if signal.args else ""
            return Unknown(function.describe(), waiting_for or None)


class Function(abc.ABC):
    """One intrinsic-function call found while parsing a template.

    ``args`` are already parsed (nested calls are Function instances) and
    ``path`` is where the call sits, e.g. ``resources.web.properties.name``;
    diagnostics use ``self.path / self.name / ...`` for positions in the args.
    Subclasses raise :class:`EvaluationError` (via :meth:`error`) for bad
    arguments found only at evaluation time.
    """

    #: Which arguments are parsed as conditions (``if``'s first, all of ``and``'s).
    condition_arguments: ClassVar[Literal["none", "first", "all"]] = "none"

    def __init__(self, name: str, args: Any, path: TemplatePath, version: str) -> None:
        self.name = name
        self.args = args
        self.path = path
        self.version = version

    @property
    def args_path(self) -> TemplatePath:
        return self.path / self.name

    def check(self) -> Iterator[Diagnostic]:
        """Diagnostics about the shape of the arguments, without evaluating them.

        Only literal arguments can be checked; nested calls are checked by
        their own ``check``. The default finds nothing.
        """
        return iter(())

    def references(self) -> Iterator[Reference]:
        """References made by this call itself (nested calls report their own)."""
        return iter(())

    @abc.abstractmethod
    def evaluate(self, resolver: Resolver) -> Any:
        """Compute the value. Must not mutate ``args``."""

    def describe(self) -> str:
        """Short text used inside :class:`Unknown` values, e.g. ``get_attr web first_address``."""
        args = self.args
        if isinstance(args, list) and all(isinstance(a, (str, int)) for a in args):
            return f"{self.name} {' '.join(str(a) for a in args)}"
        if isinstance(args, str):
            return f"{self.name} {args}"
        return f"{self.name} at {self.path}"

    def error(
        self, message: str, code: str = "F3004", at: TemplatePath | None = None
    ) -> EvaluationError:
        return EvaluationError(code, f"{self.name}: {message}", at or self.args_path)

    def diagnostic(
        self, message: str, code: str = "F3003", at: TemplatePath | None = None
    ) -> Diagnostic:
        return Diagnostic(code, f"{self.name}: {message}", at or self.args_path, Severity.ERROR)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.args!r})"


class Removed(Function):
    """A function a HOT version dropped (the CFN-style ``Fn::*`` names after 2014-10-16)."""

    removed_in: ClassVar[str] = ""

    def check(self) -> Iterator[Diagnostic]:
        yield self._removed().diagnostic()

    def evaluate(self, resolver: Resolver) -> Any:
        raise self._removed()

    def _removed(self) -> EvaluationError:
        message = (
            f"{self.name} is not available in heat_template_version {self.version}: "
            "it was removed from HOT; use the native HOT function instead"
        )
        return EvaluationError("F3002", message, self.args_path)


def kind_of(value: Any) -> str:
    """How a value is named in messages; never the value itself, which may be hidden."""
    if value is ABSENT:
        return "an absent value"
    if isinstance(value, Function):
        return f"a {value.name} call"
    return describe_type(value)


def iter_functions(node: Any) -> Iterator[Function]:
    """Every call in a parsed tree, outermost first, arguments included."""
    stack = [node]
    while stack:
        current = stack.pop()
        current_type = type(current)
        if current_type is dict:
            stack.extend(reversed(list(current.values())))
            stack.extend(k for k in current if isinstance(k, Function))
        elif current_type is list or current_type is tuple:
            stack.extend(reversed(current))
        elif isinstance(current, Function):
            yield current
            stack.append(current.args)
