"""CloudFormation's condition functions: ``Fn::If``, ``Fn::Equals``, ``Fn::And``...

A condition is a boolean, a condition function, or the name of a condition
of the template. Like Heat (whose ``Fn::And`` accepts a bare name), a string
anywhere a condition is expected is a condition name; AWS's
``{"Condition": name}`` is accepted there too.

Conditions may depend on values not known yet. ``Fn::And``/``Fn::Or`` then
still decide when a known operand settles the answer (false for ``and``, true
for ``or``); otherwise the result is Unknown. Like Heat, they stop at the
first operand that settles the answer, so later operands are not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from kiln.errors import PathSegment, TemplatePath
from kiln.template.functions.base import (
    Function,
    NeedsKnownValue,
    Reference,
    Resolver,
    Unknown,
)
from kiln.template.functions.cfn_core import (
    CfnFunction,
    InvalidArgument,
    aws_text,
    kind_of,
    shown_name,
)

__all__ = ["And", "Condition", "Equals", "If", "Not", "Or", "condition_operand", "named_condition"]

_CONDITION_KINDS = "a condition name, a boolean or a condition function such as Fn::Equals"


def named_condition(
    function: Function, resolver: Resolver, name: str, at: TemplatePath, shown: str = ""
) -> bool:
    """The value of a template condition; Unknown makes the caller Unknown."""
    shown = shown or repr(name)
    try:
        value = resolver.scope.condition(name)
    except KeyError:
        raise function.error(f"condition {shown} is not defined", "R4003", at) from None
    if isinstance(value, Unknown):
        raise NeedsKnownValue()
    if not isinstance(value, bool):
        raise function.error(f"condition {shown} is {kind_of(value)}, not a boolean", at=at)
    return value


def condition_operand(function: Function, resolver: Resolver, node: Any, at: TemplatePath) -> bool:
    """A condition operand: a boolean, a condition name, or a call giving either."""
    value = resolver.resolve(node) if isinstance(node, Function) else node
    if isinstance(value, Unknown):
        raise NeedsKnownValue()
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return named_condition(function, resolver, value, at, shown_name(node, value))
    code = "F3004" if isinstance(node, Function) else "F3003"
    raise function.error(f"a condition must be {_CONDITION_KINDS}, not {kind_of(value)}", code, at)


def _operand_problem(node: Any, *position: PathSegment) -> Iterator[InvalidArgument]:
    if not isinstance(node, (bool, str, Function)):
        message = f"a condition must be {_CONDITION_KINDS}, not {kind_of(node)}"
        yield InvalidArgument(message, *position)


def _condition_name_references(function: Function, nodes: list[Any]) -> Iterator[Reference]:
    for index, node in enumerate(nodes):
        if isinstance(node, str):
            yield Reference("condition", node, function.args_path / index)


class If(CfnFunction):
    """``Fn::If``: one of two values, chosen by a condition; only that branch is evaluated.

    A branch that is ``Ref: AWS::NoValue`` makes the whole value disappear
    from its map or list.
    """

    usage = "[condition_name, value_if_true, value_if_false]"
    arity = (3, 3)
    condition_arguments = "first"

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _operand_problem(args[0], 0)

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, list) and self.args:
            yield from _condition_name_references(self, self.args[:1])

    def compute(self, resolver: Resolver, args: Any) -> Any:
        chosen = (
            args[1] if condition_operand(self, resolver, args[0], self.args_path / 0) else args[2]
        )
        return resolver.resolve(chosen)


def _comparable(value: Any) -> Any:
    """Values as AWS compares them: every scalar is text, so ``1`` equals ``"1"``."""
    if isinstance(value, Mapping):
        return {_comparable(key): _comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(item) for item in value]
    text = aws_text(value)
    return value if text is None else text


class Equals(CfnFunction):
    """``Fn::Equals``: whether two values are equal, compared as AWS does.

    AWS passes every scalar as a string, so a Number parameter equals the
    literal ``"3"``; Heat compares Python values, where they would differ.
    Real AWS templates rely on the former, so Kiln compares text.
    """

    usage = "[value_1, value_2]"
    arity = (2, 2)
    condition_arguments = "all"

    def compute(self, resolver: Resolver, args: Any) -> Any:
        first, second = (resolver.known(node) for node in args)
        return _comparable(first) == _comparable(second)


class _Connective(CfnFunction):
    """``Fn::And``/``Fn::Or``: 2 to 10 conditions (AWS's bounds; Heat checks only the 2)."""

    arity = (2, 10)
    condition_arguments = "all"
    #: The operand value that settles the answer on its own.
    decisive: ClassVar[bool] = False

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        for index, node in enumerate(args):
            yield from _operand_problem(node, index)

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, list):
            yield from _condition_name_references(self, self.args)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        undecided = False
        for index, node in enumerate(args):
            try:
                value = condition_operand(self, resolver, node, self.args_path / index)
            except NeedsKnownValue:
                undecided = True
                continue
            if value is self.decisive:
                return self.decisive
        if undecided:
            raise NeedsKnownValue()
        return not self.decisive


class And(_Connective):
    """``Fn::And``: true when every condition is; false as soon as one is false."""

    usage = "[condition, condition, ...] with 2 to 10 conditions"
    decisive = False


class Or(_Connective):
    """``Fn::Or``: true as soon as one condition is; false when none is."""

    usage = "[condition, condition, ...] with 2 to 10 conditions"
    decisive = True


class Not(CfnFunction):
    """``Fn::Not``: the opposite of one condition, written as a one-item list."""

    usage = "[condition]"
    arity = (1, 1)
    condition_arguments = "all"

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _operand_problem(args[0], 0)

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, list):
            yield from _condition_name_references(self, self.args[:1])

    def compute(self, resolver: Resolver, args: Any) -> Any:
        return not condition_operand(self, resolver, args[0], self.args_path / 0)


class Condition(CfnFunction):
    """``{"Condition": name}``: a named condition used inside another condition."""

    condition_arguments = "all"

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        if not isinstance(args, str):
            yield InvalidArgument(f"the argument must be a condition name, not {kind_of(args)}")

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, str):
            yield Reference("condition", self.args, self.args_path)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        name = resolver.known(args)
        if not isinstance(name, str):
            raise InvalidArgument(f"the argument must be a condition name, not {kind_of(name)}")
        return named_condition(self, resolver, name, self.args_path, self.shown(args, name))
