"""HOT's condition functions (``equals``, ``not``, ``and``, ``or``) and ``if``.

A condition position (the first argument of ``if``, every argument of
``not``/``and``/``or``, a resource's ``condition:`` key) holds a boolean, the
name of a condition of the template, or a condition function. Heat decides a
position's value the same way everywhere, so :func:`condition_value` is the
single implementation, shared with the code that evaluates the ``conditions``
section. Two of Heat's rules look odd but templates can rely on them: a null
condition counts as true, and a condition function whose value is a string
(``get_param`` of a string parameter) names another condition.

Values that are not known yet make a condition Unknown, except where a known
operand already settles ``and``/``or``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from kiln.errors import Diagnostic, EvaluationError, TemplatePath
from kiln.template.functions.base import (
    ABSENT,
    Function,
    NeedsKnownValue,
    Reference,
    Resolver,
    Unknown,
    contains_unknown,
    kind_of,
)
from kiln.template.functions.hot_core import argument_error

__all__ = ["And", "Equals", "If", "IfNullable", "Not", "Or", "condition_value", "kind_of"]

_CONDITION_KINDS = "a condition name, a boolean or a condition function"


def _named_condition(resolver: Resolver, name: str, at: TemplatePath, literal: bool) -> bool:
    """A condition of the template looked up by name.

    A name computed by a function may come from a hidden parameter, so only a
    name written in the template is repeated in the message.
    """
    try:
        value = resolver.scope.condition(name)
    except KeyError:
        if literal:
            raise EvaluationError("R4003", f"condition {name!r} is not defined", at) from None
        raise EvaluationError(
            "R4003", "the condition expression gives a string that names no condition", at
        ) from None
    if isinstance(value, Unknown):
        raise NeedsKnownValue()
    if not isinstance(value, bool):
        raise EvaluationError("F3004", f"condition {name!r} is {kind_of(value)}, not a boolean", at)
    return value


def _interpret(resolver: Resolver, value: Any, at: TemplatePath, computed: bool) -> bool:
    """Heat's reading of a condition position once any function in it has run."""
    if contains_unknown(value):
        raise NeedsKnownValue()
    if isinstance(value, bool):
        return value
    if value is None:
        # Heat treats "no condition" as enabled, wherever the null comes from.
        return True
    if isinstance(value, str):
        return _named_condition(resolver, value, at, literal=not computed)
    if computed:
        message = "the condition expression must give a boolean or a condition name"
        raise EvaluationError("F3004", f"{message}, not {kind_of(value)}", at)
    raise EvaluationError(
        "F3003", f"a condition must be {_CONDITION_KINDS}, not {kind_of(value)}", at
    )


def condition_value(resolver: Resolver, node: Any, path: TemplatePath) -> bool:
    """The truth of one condition position: a boolean, a condition name or a condition function.

    ``path`` is where the position sits; errors name it. A value not known
    yet raises :class:`~kiln.template.functions.base.NeedsKnownValue`, which
    makes an enclosing call Unknown; a caller outside any call must catch it.
    Unknown condition names raise :class:`EvaluationError` with code R4003.
    """
    if isinstance(node, Function):
        return _interpret(resolver, resolver.resolve(node), path, computed=True)
    return _interpret(resolver, node, path, computed=False)


def _literal_condition_problem(node: Any) -> str | None:
    """Why a literal condition position can never be valid, or None."""
    if node is None or isinstance(node, (bool, str, Function)):
        return None
    return f"a condition must be {_CONDITION_KINDS}, not {kind_of(node)}"


def _require_valid_literal(function: Function, node: Any, at: TemplatePath) -> None:
    """Raise what ``check`` reports for a literal condition, with the same message."""
    problem = _literal_condition_problem(node)
    if problem is not None:
        raise argument_error(function, problem, at)


def _name_reference(node: Any, at: TemplatePath) -> Iterator[Reference]:
    if isinstance(node, str):
        yield Reference("condition", node, at)


class Equals(Function):
    """``equals: [value_1, value_2]``: whether two values are equal, compared as Python values.

    Heat compares converted parameter values directly, so the number ``1``
    equals ``1.0`` (and ``true``) but not the string ``"1"``.
    """

    condition_arguments = "all"
    _usage: ClassVar[str] = "the arguments must be a list [value_1, value_2]"

    def _shape_problem(self) -> str | None:
        # Heat wants the list itself in the template: a call giving one is refused.
        if not isinstance(self.args, list) or len(self.args) != 2:
            return self._usage
        return None

    def check(self) -> Iterator[Diagnostic]:
        problem = self._shape_problem()
        if problem is not None:
            yield self.diagnostic(problem)

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._shape_problem()
        if problem is not None:
            raise argument_error(self, problem)
        first, second = (resolver.known(node) for node in self.args)
        return bool(first == second)


class Not(Function):
    """``not: condition``: the opposite of one condition (a single value, not a list)."""

    condition_arguments = "all"

    def _problem(self) -> str | None:
        if self.args is None:
            return "the argument must be a condition"
        return _literal_condition_problem(self.args)

    def check(self) -> Iterator[Diagnostic]:
        problem = self._problem()
        if problem is not None:
            yield self.diagnostic(problem)

    def references(self) -> Iterator[Reference]:
        return _name_reference(self.args, self.args_path)

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._problem()
        if problem is not None:
            raise argument_error(self, problem)
        return not condition_value(resolver, self.args, self.args_path)


class _Connective(Function):
    """``and``/``or``: a list of at least two conditions.

    Like Heat, every condition function among the operands is evaluated
    first, then the operands are read in order and reading stops at the
    first one that settles the answer: a condition name (or an invalid
    literal, which ``check`` still reports) after it is never looked at.
    """

    condition_arguments = "all"
    #: The operand value that settles the answer on its own.
    decisive: ClassVar[bool] = False

    def _shape_problem(self) -> str | None:
        if not isinstance(self.args, list):
            return "the arguments must be a list of conditions"
        if len(self.args) < 2:
            return f"at least 2 conditions are required, not {len(self.args)}"
        return None

    def check(self) -> Iterator[Diagnostic]:
        problem = self._shape_problem()
        if problem is not None:
            yield self.diagnostic(problem)
            return
        for index, node in enumerate(self.args):
            operand_problem = _literal_condition_problem(node)
            if operand_problem is not None:
                yield self.diagnostic(operand_problem, at=self.args_path / index)

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, list):
            for index, node in enumerate(self.args):
                yield from _name_reference(node, self.args_path / index)

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._shape_problem()
        if problem is not None:
            raise argument_error(self, problem)
        values = [
            resolver.resolve(node) if isinstance(node, Function) else node for node in self.args
        ]
        undecided = False
        for index, (node, value) in enumerate(zip(self.args, values, strict=True)):
            at = self.args_path / index
            computed = isinstance(node, Function)
            if not computed:
                _require_valid_literal(self, node, at)
            try:
                truth = _interpret(resolver, value, at, computed)
            except NeedsKnownValue:
                undecided = True
                continue
            if truth is self.decisive:
                return self.decisive
        if undecided:
            raise NeedsKnownValue()
        return not self.decisive


class And(_Connective):
    """``and: [condition, condition, ...]``: true when every condition is."""

    decisive = False


class Or(_Connective):
    """``or: [condition, condition, ...]``: true as soon as one condition is."""

    decisive = True


class If(Function):
    """``if: [condition, value_if_true, value_if_false]``: only the chosen branch is evaluated.

    The branch not taken may hold calls that would fail (a ``get_attr`` of a
    resource the same condition removes), which is the point of ``if``.
    """

    condition_arguments = "first"
    _counts: ClassVar[tuple[int, ...]] = (3,)
    _usage: ClassVar[str] = (
        "the arguments must be a list [condition, value_if_true, value_if_false]"
    )

    def _shape_problem(self) -> str | None:
        if not isinstance(self.args, list) or len(self.args) not in self._counts:
            return self._usage
        return None

    def check(self) -> Iterator[Diagnostic]:
        problem = self._shape_problem()
        if problem is not None:
            yield self.diagnostic(problem)
            return
        condition_problem = _literal_condition_problem(self.args[0])
        if condition_problem is not None:
            yield self.diagnostic(condition_problem, at=self.args_path / 0)

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, list) and self.args:
            yield from _name_reference(self.args[0], self.args_path / 0)

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._shape_problem()
        if problem is not None:
            raise argument_error(self, problem)
        _require_valid_literal(self, self.args[0], self.args_path / 0)
        if condition_value(resolver, self.args[0], self.args_path / 0):
            return resolver.resolve(self.args[1])
        if len(self.args) == 2:
            return ABSENT
        return resolver.resolve(self.args[2])


class IfNullable(If):
    """``if`` from 2021-04-16: ``value_if_false`` may be left out.

    Then a false condition gives ABSENT, and the enclosing map entry, list
    item or property disappears as if it had not been written.
    """

    _counts = (2, 3)
    _usage = (
        "the arguments must be a list [condition, value_if_true] "
        "or [condition, value_if_true, value_if_false]"
    )
