"""The base every CloudFormation function shares: argument shapes, messages, AWS's text.

A problem with a literal argument is reported identically by
:meth:`CfnFunction.check` and at evaluation (code F3003, same message, same
path) so that a validator running both can merge them; a problem with a
computed value is F3004. The helpers here keep that convention in one place
for :mod:`~kiln.template.functions.cfn_core`,
:mod:`~kiln.template.functions.cfn_extras` and
:mod:`~kiln.template.functions.cfn_logic`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from kiln.errors import Diagnostic, EvaluationError, PathSegment
from kiln.template.functions.base import (
    Function,
    NeedsKnownValue,
    Resolver,
    Unknown,
    kind_of,
)

__all__ = [
    "CFN_VERSIONS",
    "CfnFunction",
    "InvalidArgument",
    "attempt",
    "aws_text",
    "kind_of",
    "list_index",
    "require_string",
    "shown_name",
    "when_literal",
]

#: Template versions whose calls follow AWS; every other version is a HOT one and follows Heat.
CFN_VERSIONS = frozenset({"2010-09-09", "2012-12-12"})


class InvalidArgument(Exception):
    """A bad argument; ``position`` is relative to the call's arguments."""

    def __init__(self, message: str, *position: PathSegment) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def aws_text(value: Any) -> str | None:
    """The text AWS sees for a scalar: CloudFormation hands every scalar around as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return None


def shown_name(node: Any, value: Any) -> str:
    """A name for a message: quoted when written out, described when computed.

    A computed name may come from a hidden parameter, whose value no message
    may show.
    """
    if isinstance(node, Function):
        return f"the name computed by {node.name}"
    return repr(value)


class CfnFunction(Function):
    """Shared argument handling: one shape check, one error convention.

    Subclasses describe their argument list with ``arity``/``usage``, report
    problems with literal arguments from :meth:`literal_problems`, and compute
    their value in :meth:`compute`, raising :class:`InvalidArgument`.
    """

    usage: ClassVar[str] = ""
    #: Lowest and highest length of the argument list; None when the argument is not a list.
    arity: ClassVar[tuple[int, int] | None] = None

    def check(self) -> Iterator[Diagnostic]:
        if isinstance(self.args, Function):
            return
        try:
            self.check_shape(self.args)
        except InvalidArgument as problem:
            yield self._diagnostic(problem)
            return
        for literal_problem in self.literal_problems(self.args):
            yield self._diagnostic(literal_problem)

    def check_shape(self, args: Any) -> None:
        if self.arity is None:
            return
        low, high = self.arity
        if not isinstance(args, list) or not low <= len(args) <= high:
            raise InvalidArgument(f"arguments must have the form {self.usage}")

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        """Problems visible without evaluating; ``args`` already has the right shape."""
        return iter(())

    def evaluate(self, resolver: Resolver) -> Any:
        try:
            args = self.args
            if isinstance(args, Function):
                args = resolver.resolve(args)
                if isinstance(args, Unknown):
                    raise NeedsKnownValue()
            self.check_shape(args)
            return self.compute(resolver, args)
        except InvalidArgument as problem:
            raise self._evaluation_error(problem) from None

    def compute(self, resolver: Resolver, args: Any) -> Any:
        raise NotImplementedError

    def text(self, value: Any) -> str | None:
        """A scalar as a string: AWS's view in the CFN dialect, Heat's strings-only in HOT."""
        if self.version in CFN_VERSIONS:
            return aws_text(value)
        return value if isinstance(value, str) else None

    def shown(self, node: Any, value: Any) -> str:
        """:func:`shown_name`, also when the whole argument list was computed."""
        return shown_name(self.args if isinstance(self.args, Function) else node, value)

    def limit_length(self, resolver: Resolver, length: int) -> None:
        """Refuse results past the limit before building them (placeholder bombs)."""
        maximum = resolver.limits.max_value_chars
        if length > maximum:
            raise self.error(f"the result would be longer than {maximum} characters")

    def _diagnostic(self, problem: InvalidArgument) -> Diagnostic:
        return self.diagnostic(problem.message, at=self.args_path.join(problem.position))

    def _evaluation_error(self, problem: InvalidArgument) -> EvaluationError:
        path = self.args_path.join(problem.position)
        message = f"{self.name}: {problem.message}"
        static = any(d.path == path and d.message == message for d in self.check())
        return self.error(problem.message, "F3003" if static else "F3004", path)


def attempt(validate: Any, *arguments: Any) -> Iterator[InvalidArgument]:
    """A validator's complaint as an item, so ``literal_problems`` can collect them all."""
    try:
        validate(*arguments)
    except InvalidArgument as problem:
        yield problem


def when_literal(node: Any, validate: Any, *arguments: Any) -> Iterator[InvalidArgument]:
    """Run a validator on an argument written out; calls are validated when evaluated."""
    if not isinstance(node, Function):
        yield from attempt(validate, node, *arguments)


def require_string(value: Any, what: str, *position: PathSegment) -> str:
    """A string in either dialect; unlike ``CfnFunction.text`` no scalar is converted."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, not {kind_of(value)}", *position)
    return value


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def list_index(value: Any) -> int | None:
    """An integer written as a number or as digits (AWS hands numbers around as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None
