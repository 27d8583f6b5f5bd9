"""Constraints on values, shared by template parameters and resource properties.

The set and the checks are Heat's (``length``, ``range``, ``modulo``,
``allowed_values``, ``allowed_pattern``, ``custom_constraint``). A failing
check gives diagnostics, never an exception, and a constraint's
``description`` replaces the default message as in Heat. Messages can be
written about a *subject* instead of the value, so that a hidden parameter's
value never appears in them.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kiln.errors import ROOT, Diagnostic, Severity
from kiln.schema.types import (
    PropertyType,
    SchemaDefinitionError,
    is_number,
    parse_boolean_text,
    parse_number,
    show_value,
)
from kiln.schema.values import contains_unknown

__all__ = [
    "PARAMETER_CODES",
    "PROPERTY_CODES",
    "AllowedPattern",
    "AllowedValues",
    "Constraint",
    "ConstraintCodes",
    "CustomChecker",
    "CustomConstraint",
    "CustomConstraintRegistry",
    "Length",
    "Modulo",
    "Range",
    "RegisteredConstraint",
    "check_all",
]

#: A custom constraint's check: the error text for a bad value, ``None`` when fine.
CustomChecker = Callable[[Any], str | None]


@dataclass(frozen=True)
class ConstraintCodes:
    """Diagnostic codes a check reports under; parameters and properties differ."""

    failed: str
    unknown_custom: str
    deferred: str


PROPERTY_CODES = ConstraintCodes(failed="S6005", unknown_custom="S6006", deferred="S6007")
PARAMETER_CODES = ConstraintCodes(failed="V5003", unknown_custom="V5004", deferred="V5005")


@dataclass(frozen=True)
class RegisteredConstraint:
    name: str
    checker: CustomChecker
    #: Needs the cloud (e.g. "does this flavor exist"): skipped by pure validation.
    live: bool = False
    description: str = ""


class CustomConstraintRegistry:
    """Named checks that providers contribute (``nova.flavor``, ``ip_addr``...)."""

    def __init__(self) -> None:
        self._constraints: dict[str, RegisteredConstraint] = {}

    def register(
        self, name: str, checker: CustomChecker, *, live: bool = False, description: str = ""
    ) -> None:
        if name in self._constraints:
            raise SchemaDefinitionError(f"custom constraint '{name}' is already registered")
        self._constraints[name] = RegisteredConstraint(name, checker, live, description)

    def get(self, name: str) -> RegisteredConstraint | None:
        return self._constraints.get(name)

    def names(self) -> list[str]:
        return sorted(self._constraints)

    def __contains__(self, name: object) -> bool:
        return name in self._constraints


_ALL_SCALARS = frozenset(
    {PropertyType.STRING, PropertyType.INTEGER, PropertyType.NUMBER, PropertyType.BOOLEAN}
)
_NUMERIC = frozenset({PropertyType.INTEGER, PropertyType.NUMBER})


@dataclass(frozen=True)
class _CheckContext:
    custom_constraints: CustomConstraintRegistry | None
    value_type: PropertyType | None
    codes: ConstraintCodes
    subject: str | None
    live: bool


class Constraint(abc.ABC):
    """One rule a value must satisfy.

    Subclasses say what is wrong with a value in two forms: one that shows the
    value and one about a ``subject`` (``value for hidden parameter 'x'``).
    """

    #: The key used in HOT templates and in serialised schemas.
    kind: ClassVar[str] = ""
    #: Types the constraint may be declared on (Heat's ``valid_types``).
    applies_to: ClassVar[frozenset[PropertyType]] = frozenset()
    description: str | None

    def check(
        self,
        value: Any,
        custom_constraints: CustomConstraintRegistry | None = None,
        *,
        value_type: PropertyType | None = None,
        codes: ConstraintCodes = PROPERTY_CODES,
        subject: str | None = None,
        live: bool = False,
    ) -> list[Diagnostic]:
        """Diagnostics (paths relative, i.e. ROOT) for a converted value.

        ``value_type`` lets ``allowed_values`` compare in the value's type as
        Heat does; ``live`` also runs custom checks registered as live.
        Values that are or contain Unknown are not checked.
        """
        if contains_unknown(value):
            return []
        context = _CheckContext(custom_constraints, value_type, codes, subject, live)
        return list(self._diagnostics(value, context))

    def _diagnostics(self, value: Any, context: _CheckContext) -> Iterator[Diagnostic]:
        problem = self._problem(value, context.value_type)
        if problem is None:
            return
        yield Diagnostic(context.codes.failed, self._message(problem, context), ROOT)

    def _message(self, problem: str, context: _CheckContext) -> str:
        """The description if there is one, else the problem (about the subject if one is given)."""
        if self.description:
            return self.description
        if context.subject is not None:
            return self._problem_about(context.subject)
        return problem

    @abc.abstractmethod
    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        """What is wrong with ``value`` in a message that shows it, or ``None``."""

    @abc.abstractmethod
    def _problem_about(self, subject: str) -> str:
        """The same complaint about ``subject``, without the value."""

    @abc.abstractmethod
    def explain(self) -> str:
        """The rule in words, for documentation (Heat's ``str(constraint)``)."""

    @abc.abstractmethod
    def _definition(self) -> Any:
        """The constraint's own entry in its serialised form."""

    def to_dict(self) -> dict[str, Any]:
        """The HOT form: ``{"length": {"min": 1}, "description": "..."}``."""
        result: dict[str, Any] = {self.kind: self._definition()}
        if self.description:
            result["description"] = self.description
        return result


def _check_bound(value: Any, name: str, integral: bool) -> None:
    if value is None:
        return
    if integral and not (isinstance(value, int) and not isinstance(value, bool)):
        raise SchemaDefinitionError(f"{name} must be an integer")
    if not is_number(value):
        raise SchemaDefinitionError(f"{name} must be a number")


class _Bounds(Constraint):
    """A measure of the value (the value itself, or its length) between ``min`` and ``max``.

    Either bound may be omitted, not both. Subclasses are dataclasses that
    declare ``min``, ``max`` and ``description``.
    """

    min: float | None
    max: float | None
    #: Bounds must be whole numbers (a length) rather than any number.
    integral_bounds: ClassVar[bool] = False
    #: What the bounds apply to, in :meth:`explain`: "value" or "length".
    measure: ClassVar[str] = "value"

    def __post_init__(self) -> None:
        _check_bound(self.min, f"{self.kind} min", integral=self.integral_bounds)
        _check_bound(self.max, f"{self.kind} max", integral=self.integral_bounds)
        if self.min is None and self.max is None:
            raise SchemaDefinitionError(f"a {self.kind} constraint needs a min and/or a max")

    def _bounds_words(self) -> str:
        if self.max is None:
            return f"must be at least {self.min}"
        if self.min is None:
            return f"must be no greater than {self.max}"
        return f"must be in the range {self.min} to {self.max}"

    def _within(self, number: float) -> bool:
        if self.min is not None and number < self.min:
            return False
        return not (self.max is not None and number > self.max)

    def _problem_about(self, subject: str) -> str:
        return f"{subject} {self._bounds_words()}"

    def explain(self) -> str:
        return f"The {self.measure} {self._bounds_words()}."

    def _definition(self) -> Any:
        result: dict[str, Any] = {}
        if self.min is not None:
            result["min"] = self.min
        if self.max is not None:
            result["max"] = self.max
        return result


@dataclass(frozen=True)
class Range(_Bounds):
    """A number between ``min`` and ``max`` (either may be omitted, not both)."""

    min: int | float | None = None
    max: int | float | None = None
    description: str | None = None

    kind: ClassVar[str] = "range"
    applies_to: ClassVar[frozenset[PropertyType]] = _NUMERIC

    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        number = parse_number(value)
        if number is None:
            return f"value {show_value(value)} is not a number"
        if self._within(number):
            return None
        return f"value {show_value(number)} {self._bounds_words()}"


@dataclass(frozen=True)
class Length(_Bounds):
    """The length of a string, list or map between ``min`` and ``max``."""

    min: int | None = None
    max: int | None = None
    description: str | None = None

    kind: ClassVar[str] = "length"
    applies_to: ClassVar[frozenset[PropertyType]] = frozenset(
        {PropertyType.STRING, PropertyType.LIST, PropertyType.MAP}
    )
    integral_bounds: ClassVar[bool] = True
    measure: ClassVar[str] = "length"

    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        if not isinstance(value, (str, list, tuple, Mapping)):
            return f"value {show_value(value)} has no length"
        if self._within(len(value)):
            return None
        return f"length ({len(value)}) {self._bounds_words()}"

    def _problem_about(self, subject: str) -> str:
        return super()._problem_about(f"length of {subject}")


@dataclass(frozen=True)
class Modulo(Constraint):
    """A number equal to ``offset`` modulo ``step`` (Heat, HOT 2017-02-24 and later)."""

    step: int | float
    offset: int | float
    description: str | None = None

    kind: ClassVar[str] = "modulo"
    applies_to: ClassVar[frozenset[PropertyType]] = _NUMERIC

    def __post_init__(self) -> None:
        if self.step is None or self.offset is None:
            raise SchemaDefinitionError("a modulo constraint needs both a step and an offset")
        for name, number in (("step", self.step), ("offset", self.offset)):
            if not is_number(number):
                raise SchemaDefinitionError(f"modulo {name} must be a number")
            if int(number) != number:
                raise SchemaDefinitionError(f"modulo {name} must be an integer")
        if self.step == 0:
            raise SchemaDefinitionError("modulo step cannot be 0")
        if abs(self.offset) >= abs(self.step):
            raise SchemaDefinitionError(
                "modulo offset must be smaller than step (by absolute value)"
            )
        if self.step * self.offset < 0:
            raise SchemaDefinitionError(
                "modulo step and offset must be both positive or both negative"
            )

    def _words(self) -> str:
        return f"a multiple of {self.step} with an offset of {self.offset}"

    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        number = parse_number(value)
        if number is None:
            return f"value {show_value(value)} is not a number"
        if number % self.step == self.offset:
            return None
        return f"value {show_value(number)} is not {self._words()}"

    def _problem_about(self, subject: str) -> str:
        return f"{subject} is not {self._words()}"

    def explain(self) -> str:
        return f"The value must be {self._words()}."

    def _definition(self) -> Any:
        return {"step": self.step, "offset": self.offset}


_MISSING = object()


def _as_type(value: Any, value_type: PropertyType | None) -> Any:
    """Heat's ``to_schema_type``: how allowed values and the value are compared."""
    if value_type in _NUMERIC:
        number = parse_number(value)
        if number is None or (value_type is PropertyType.INTEGER and isinstance(number, float)):
            return _MISSING
        return number
    if value_type is PropertyType.STRING:
        return value if isinstance(value, str) else str(value)
    if value_type is PropertyType.BOOLEAN:
        if isinstance(value, bool):
            return value
        parsed = parse_boolean_text(str(value))
        return _MISSING if parsed is None else parsed
    return value


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


@dataclass(frozen=True)
class AllowedValues(Constraint):
    """One of a fixed set; for lists, every item must be in the set."""

    #: Any sequence is accepted and kept as a tuple.
    values: Sequence[Any]
    description: str | None = None

    kind: ClassVar[str] = "allowed_values"
    applies_to: ClassVar[frozenset[PropertyType]] = _ALL_SCALARS | {PropertyType.LIST}

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence):
            raise SchemaDefinitionError("allowed_values must be a list")
        object.__setattr__(self, "values", tuple(self.values))

    def _listing(self) -> str:
        return show_value(list(self.values))

    def _allows_item(self, item: Any) -> bool:
        # Heat compares list items raw; text items also match scalars written
        # unquoted in the template ("1" against 1), which Heat would refuse.
        if item in self.values:
            return True
        return isinstance(item, str) and any(
            _is_scalar(allowed) and not isinstance(allowed, bool) and item == str(allowed)
            for allowed in self.values
        )

    def _allows(self, value: Any, value_type: PropertyType | None) -> bool:
        converted = _as_type(value, value_type)
        if converted is _MISSING:
            return False
        return any(_as_type(allowed, value_type) == converted for allowed in self.values)

    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        if isinstance(value, (list, tuple)):
            for item in value:
                if not self._allows_item(item):
                    return f"value {show_value(item)} is not an allowed value {self._listing()}"
            return None
        if self._allows(value, value_type):
            return None
        return f"value {show_value(value)} is not an allowed value {self._listing()}"

    def _problem_about(self, subject: str) -> str:
        return f"{subject} is not an allowed value {self._listing()}"

    def explain(self) -> str:
        return "Allowed values: " + ", ".join(str(value) for value in self.values)

    def _definition(self) -> Any:
        return list(self.values)


@dataclass(frozen=True)
class AllowedPattern(Constraint):
    """Text matching a regular expression from its start to its end.

    Heat runs ``re.match`` and then requires the match to reach the end of the
    text; unlike ``re.fullmatch`` this does not backtrack into a longer
    alternative, so ``a|ab`` refuses ``"ab"`` exactly as Heat does. Lists
    (CloudFormation's CommaDelimitedList) are checked item by item.
    """

    pattern: str
    description: str | None = None
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    kind: ClassVar[str] = "allowed_pattern"
    applies_to: ClassVar[frozenset[PropertyType]] = frozenset({PropertyType.STRING})

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str):
            raise SchemaDefinitionError("allowed_pattern must be a string")
        try:
            compiled = re.compile(self.pattern)
        except re.error as error:
            raise SchemaDefinitionError(
                f"allowed_pattern is not a valid regular expression: {error}"
            ) from None
        object.__setattr__(self, "_compiled", compiled)

    def _matches(self, text: str) -> bool:
        match = self._compiled.match(text)
        return match is not None and match.end() == len(text)

    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if not isinstance(item, str):
                return f"value {show_value(item)} is not a string"
            if not self._matches(item):
                return f"value {show_value(item)} does not match pattern {show_value(self.pattern)}"
        return None

    def _problem_about(self, subject: str) -> str:
        return f"{subject} does not match pattern {show_value(self.pattern)}"

    def explain(self) -> str:
        return f"Value must match pattern: {self.pattern}"

    def _definition(self) -> Any:
        return self.pattern


@dataclass(frozen=True)
class CustomConstraint(Constraint):
    """A named check contributed by a provider (``nova.flavor``, ``ip_addr``...).

    A name nobody registered is always reported, never silently accepted.
    """

    name: str
    description: str | None = None

    kind: ClassVar[str] = "custom_constraint"
    applies_to: ClassVar[frozenset[PropertyType]] = _ALL_SCALARS | {PropertyType.LIST}

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchemaDefinitionError("custom_constraint must be a non-empty string")

    def _diagnostics(self, value: Any, context: _CheckContext) -> Iterator[Diagnostic]:
        registered = (
            context.custom_constraints.get(self.name) if context.custom_constraints else None
        )
        if registered is None:
            yield Diagnostic(
                context.codes.unknown_custom, f"unknown custom constraint '{self.name}'"
            )
            return
        if registered.live and not context.live:
            yield Diagnostic(
                context.codes.deferred,
                f"custom constraint '{self.name}' is checked when the stack is created",
                ROOT,
                Severity.INFO,
            )
            return
        try:
            error = registered.checker(value)
        except (TypeError, ValueError):
            # A checker that chokes on a value has refused it; its text may
            # contain the value, so only the generic message is used.
            error = ""
        if error is None:
            return
        problem = error or f"value {show_value(value)} {self._words()}"
        yield Diagnostic(context.codes.failed, self._message(problem, context), ROOT)

    def _problem(self, value: Any, value_type: PropertyType | None) -> str | None:
        # Never called: _diagnostics is overridden because the check needs the registry.
        return None

    def _words(self) -> str:
        return f"does not satisfy custom constraint '{self.name}'"

    def _problem_about(self, subject: str) -> str:
        return f"{subject} {self._words()}"

    def explain(self) -> str:
        return f"Value must be of type {self.name}"

    def _definition(self) -> Any:
        return self.name


def check_all(
    constraints: Sequence[Constraint],
    value: Any,
    custom_constraints: CustomConstraintRegistry | None = None,
    *,
    value_type: PropertyType | None = None,
    codes: ConstraintCodes = PROPERTY_CODES,
    subject: str | None = None,
    live: bool = False,
) -> list[Diagnostic]:
    """Every constraint's diagnostics, in declaration order."""
    diagnostics: list[Diagnostic] = []
    for constraint in constraints:
        diagnostics.extend(
            constraint.check(
                value,
                custom_constraints,
                value_type=value_type,
                codes=codes,
                subject=subject,
                live=live,
            )
        )
    return diagnostics


def constraint_mapping(constraints: Sequence[Constraint]) -> list[Mapping[str, Any]]:
    """Serialised constraints, as schema documentation shows them."""
    return [constraint.to_dict() for constraint in constraints]
