"""HOT's collection functions: repeat, map_merge, map_replace, filter, list_concat, contains, yaql.

Each class follows Heat's own implementation of the version that introduced
it, quirks included, because templates in the wild depend on them: ``repeat``
resolves its template before substituting and replaces placeholders with
plain string replacement in keys and values alike; ``filter`` hands back a
falsy list untouched; ``list_concat_unique`` keeps first occurrences.

Two functions can be made to use unbounded memory or time by a hostile
template. ``repeat`` counts its result before building it and spends a
budget of ``TemplateLimits.max_value_chars`` while building. ``yaql`` runs
with yaql's own iteration and memory limits plus a wall-clock deadline
(see :mod:`kiln.template.functions.yaql_engine`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from kiln.config import TemplateLimits
from kiln.errors import Diagnostic, EvaluationError, TemplatePath
from kiln.template.functions.base import (
    ABSENT,
    Function,
    NeedsKnownValue,
    Resolver,
    Unknown,
    contains_unknown,
    iter_functions,
    kind_of,
)
from kiln.template.functions.hot_core import argument_error
from kiln.template.functions.yaql_engine import (
    YaqlFailure,
    check_expression,
    evaluate_yaql,
    parse_expression,
)

__all__ = [
    "Contains",
    "Filter",
    "ListConcat",
    "ListConcatUnique",
    "MapMerge",
    "MapReplace",
    "Repeat",
    "RepeatWithMap",
    "RepeatWithNestedLoop",
    "Yaql",
]

#: A problem with a call's arguments: the message (without the function name) and where.
Problem = tuple[str, TemplatePath]


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _under(path: TemplatePath, key: Any) -> TemplatePath:
    return path / key if isinstance(key, (str, int)) and not isinstance(key, bool) else path


def _item_path(function: Function, index: int) -> TemplatePath:
    """Where item ``index`` sits; a list computed by a call has no template position."""
    return function.args_path / index if isinstance(function.args, list) else function.args_path


def _require_known_items(value: Any) -> None:
    """A container, or one of its items, that is Unknown makes the call Unknown."""
    if isinstance(value, Unknown) or (
        _is_list(value) and any(isinstance(item, Unknown) for item in value)
    ):
        raise NeedsKnownValue()


class _ProblemsChecked(Function):
    """Argument problems come from one generator, run on literal args by ``check`` and on
    resolved ones by ``evaluate``: a problem visible in the template keeps F3003 when raised.
    """

    def problems(self, args: Any) -> Iterator[Problem]:
        return iter(())

    def check(self) -> Iterator[Diagnostic]:
        for message, at in self.problems(self.args):
            yield self.diagnostic(message, at=at)

    def raise_first_problem(self, args: Any) -> None:
        for message, at in self.problems(args):
            raise argument_error(self, message, at)


class _Budget:
    """What is left of ``max_value_chars``: strings cost their length, other nodes one each."""

    def __init__(self, function: Function, limit: int) -> None:
        self.function = function
        self.limit = limit
        self.remaining = limit

    def require(self, size: int) -> None:
        if size > self.remaining:
            raise self.function.error(
                f"the result would be larger than the limit of {self.limit} characters", "F3007"
            )

    def spend(self, size: int) -> None:
        self.require(size)
        self.remaining -= size


class Repeat(_ProblemsChecked):
    """``repeat: {template: ..., for_each: {placeholder: list, ...}}`` (2015-04-30).

    Several placeholders iterate over every combination of their lists, the
    first placeholder varying slowest. Placeholders are replaced one after the
    other, in ``for_each`` order, with ``str.replace`` in every string key and
    value of the already evaluated template; like Heat, list items must be
    strings when the template holds strings. A null list repeats nothing.
    """

    #: 2016-10-14: a map iterates over its keys.
    accepts_maps: ClassVar[bool] = False
    #: 2017-09-01: ``permutations: false`` pairs the lists up instead.
    reads_permutations: ClassVar[bool] = False

    def _nested(self) -> bool:
        return not self.reads_permutations or self.args.get("permutations", True) is not False

    def _frame_problem(self) -> Problem | None:
        """Heat's parse-time checks: the argument map, its keys, ``permutations``."""
        if not isinstance(self.args, Mapping):
            return (
                'the arguments must be a map {"template": ..., "for_each": {...}}',
                self.args_path,
            )
        for key in ("template", "for_each"):
            if key not in self.args:
                return f'the "{key}" argument is required', self.args_path
        permutations = self.args.get("permutations", True)
        if self.reads_permutations and not isinstance(permutations, bool):
            return '"permutations" must be a boolean', self.args_path / "permutations"
        return None

    def problems(self, args: Any) -> Iterator[Problem]:
        frame = self._frame_problem()
        if frame is not None:
            yield frame
            return
        yield from self._for_each_problems(args["for_each"])

    def _for_each_problems(self, for_each: Any) -> Iterator[Problem]:
        at = self.args_path / "for_each"
        if isinstance(for_each, Function):
            return
        if not isinstance(for_each, Mapping):
            yield f'"for_each" must be a map of placeholders to lists, not {kind_of(for_each)}', at
            return
        if not for_each:
            yield '"for_each" must name at least one placeholder', at
            return
        maps_allowed = self.accepts_maps and self._nested()
        lengths: list[int] = []
        for placeholder, values in for_each.items():
            if values is None or isinstance(values, Function):
                continue
            if _is_list(values) or (maps_allowed and isinstance(values, Mapping)):
                lengths.append(len(values))
                continue
            kinds = "lists or maps" if maps_allowed else "lists"
            yield (
                f'the values of "for_each" must be {kinds}, not {kind_of(values)}',
                _under(at, placeholder),
            )
        computed = any(isinstance(values, Function) for values in for_each.values())
        if not self._nested() and not computed and len(set(lengths)) > 1:
            counts = ", ".join(str(length) for length in lengths)
            yield f'with "permutations" false the lists must have the same length, not {counts}', at

    def evaluate(self, resolver: Resolver) -> Any:
        self.raise_first_problem(self.args)
        for_each = resolver.known(self.args["for_each"])
        self.raise_first_problem({**self.args, "for_each": for_each})
        placeholders = list(for_each)
        columns = [[] if values is None else list(values) for values in for_each.values()]
        nested = self._nested()
        count = math.prod(map(len, columns)) if nested else min(map(len, columns))
        limit = resolver.limits.max_value_chars
        if count > limit:
            message = f"the result would have {count} items, more than the limit of {limit}"
            raise self.error(message, "F3007")
        template = resolver.resolve(self.args["template"])
        budget = _Budget(self, limit)
        combinations = itertools.product(*columns) if nested else zip(*columns, strict=False)
        return [
            self._substitute(template, list(zip(placeholders, combination, strict=True)), budget)
            for combination in combinations
        ]

    def _substitute(self, node: Any, pairs: list[tuple[Any, Any]], budget: _Budget) -> Any:
        if isinstance(node, str):
            return self._replace(node, pairs, budget)
        budget.spend(1)
        if isinstance(node, Mapping):
            return {
                self._substitute(key, pairs, budget): self._substitute(value, pairs, budget)
                for key, value in node.items()
            }
        if _is_list(node):
            return [self._substitute(item, pairs, budget) for item in node]
        return node

    def _replace(self, text: str, pairs: list[tuple[Any, Any]], budget: _Budget) -> str:
        for placeholder, value in pairs:
            if not isinstance(placeholder, str):
                raise self.error(
                    f'"for_each" placeholders must be strings, not {kind_of(placeholder)}'
                )
            if not isinstance(value, str):
                raise self.error(
                    "the items of the for_each lists must be strings to replace "
                    f"placeholders in strings, not {kind_of(value)}"
                )
            budget.require(len(text) + text.count(placeholder) * (len(value) - len(placeholder)))
            text = text.replace(placeholder, value)
        budget.spend(max(len(text), 1))
        return text


class RepeatWithMap(Repeat):
    """``repeat`` from 2016-10-14: a ``for_each`` value may be a map, iterated by its keys."""

    accepts_maps = True


class RepeatWithNestedLoop(RepeatWithMap):
    """``repeat`` from 2017-09-01: ``permutations: false`` pairs up the items of equal-length lists.

    Without permutations only lists are accepted (a map's order would decide
    the pairs), and their lengths must match; null lists are left out of that
    comparison but still make the result empty.
    """

    reads_permutations = True


class MapMerge(_ProblemsChecked):
    """``map_merge: [map, map, ...]``: later maps win; null items count as empty maps."""

    def problems(self, args: Any) -> Iterator[Problem]:
        if isinstance(args, Function):
            return
        if not _is_list(args):
            yield f"the arguments must be a list of maps, not {kind_of(args)}", self.args_path
            return
        for index, item in enumerate(args):
            if item is None or isinstance(item, (Mapping, Function)):
                continue
            yield f"the items to merge must be maps, not {kind_of(item)}", _item_path(self, index)

    def evaluate(self, resolver: Resolver) -> Any:
        args = resolver.resolve(self.args)
        _require_known_items(args)
        self.raise_first_problem(args)
        merged: dict[Any, Any] = {}
        for item in args:
            merged.update(item or {})
        return merged


class MapReplace(_ProblemsChecked):
    """``map_replace: [map, {keys: {old: new}, values: {old: new}}]``.

    A new key that equals another key of the input, or a key produced twice,
    is an error. Values are replaced only when they equal a key of ``values``
    exactly; lists and maps in the input are left alone.
    """

    _usage: ClassVar[str] = 'the arguments must be a list [map, {"keys": map, "values": map}]'

    def problems(self, args: Any) -> Iterator[Problem]:
        if isinstance(args, Function):
            return
        if not _is_list(args) or len(args) != 2:
            yield self._usage, self.args_path
            return
        source, replacements = args
        if not (source is None or isinstance(source, (Mapping, Function))):
            yield f"the first argument must be a map, not {kind_of(source)}", _item_path(self, 0)
        at = _item_path(self, 1)
        if replacements is None or isinstance(replacements, Function):
            return
        if not isinstance(replacements, Mapping):
            yield f"the second argument must be a map, not {kind_of(replacements)}", at
            return
        for key, value in replacements.items():
            if key not in ("keys", "values"):
                yield f'{key!r} is not allowed here: only "keys" and "values" are', _under(at, key)
            elif not (value is None or isinstance(value, (Mapping, Function))):
                yield f'"{key}" must be a map, not {kind_of(value)}', _under(at, key)

    def evaluate(self, resolver: Resolver) -> Any:
        args = resolver.resolve(self.args)
        _require_known_items(args)
        self.raise_first_problem(args)
        source, replacements = args
        if contains_unknown(replacements):
            raise NeedsKnownValue()
        replacements = replacements or {}
        new_keys = replacements.get("keys") or {}
        new_values = replacements.get("values") or {}
        result: dict[Any, Any] = {}
        for key, value in (source or {}).items():
            result[self._new_key(key, new_keys.get(key), source, result)] = self._new_value(
                value, new_values
            )
        return result

    def _new_key(self, key: Any, replacement: Any, source: Any, result: dict[Any, Any]) -> Any:
        if replacement is None:
            return key
        if isinstance(replacement, (Mapping, list, tuple)):
            message = f"a key replacement must be a string or a number, not {kind_of(replacement)}"
            raise self.error(message)
        if replacement in source and replacement != key:
            raise self.error(f"{self._named(replacement)} collides with a key in the input map")
        if replacement in result:
            raise self.error(f"{self._named(replacement)} collides with a key in the output map")
        return replacement

    def _named(self, replacement: Any) -> str:
        """Keys may come from hidden parameters: name one only when the call is all literal."""
        if next(iter_functions(self.args), None) is None:
            return f"key replacement {replacement!r}"
        return "a key replacement"

    @staticmethod
    def _new_value(value: Any, new_values: Mapping[Any, Any]) -> Any:
        if isinstance(value, Unknown) and new_values:
            raise NeedsKnownValue()
        try:
            return new_values.get(value, value)
        except TypeError:  # unhashable: no key of "values" can name it
            return value


class Filter(_ProblemsChecked):
    """``filter: [values_to_remove, list]`` (2017-02-24).

    Like Heat, a falsy list (null, empty) is returned as it is, and a falsy
    ``values_to_remove`` returns the list unchanged.
    """

    def problems(self, args: Any) -> Iterator[Problem]:
        if not _is_list(args):
            yield "the arguments must be a list [values_to_remove, list]", self.args_path
            return
        if len(args) != 2:
            yield (
                f"2 arguments [values_to_remove, list] are expected, not {len(args)}",
                self.args_path,
            )
            return
        values, sequence = args
        if isinstance(sequence, Function) or not sequence:
            return  # a falsy list is returned before the values are looked at
        if not isinstance(sequence, list):
            yield self._not_a_list("the second argument", sequence), self.args_path / 1
        elif values and not isinstance(values, (list, Function)):
            yield self._not_a_list("the values to remove", values), self.args_path / 0

    @staticmethod
    def _not_a_list(noun: str, value: Any) -> str:
        return f"{noun} must be a list, not {kind_of(value)}"

    def evaluate(self, resolver: Resolver) -> Any:
        self.raise_first_problem(self.args)
        sequence = resolver.resolve(self.args[1])
        if isinstance(sequence, Unknown):
            raise NeedsKnownValue()
        if sequence is not ABSENT and not sequence:
            return sequence
        if not isinstance(sequence, list):
            message = self._not_a_list("the second argument", sequence)
            raise argument_error(self, message, self.args_path / 1)
        values = resolver.known(self.args[0])
        if values is not ABSENT and not values:
            return sequence
        if not isinstance(values, list):
            message = self._not_a_list("the values to remove", values)
            raise argument_error(self, message, self.args_path / 0)
        if contains_unknown(sequence):
            raise NeedsKnownValue()
        return [item for item in sequence if item not in values]


def _identity(value: Any) -> Any:
    """A hashable stand-in with the same equality as ``value`` (maps and lists included)."""
    if isinstance(value, Mapping):
        return ("map", frozenset((key, _identity(item)) for key, item in value.items()))
    if _is_list(value):
        return ("list", tuple(_identity(item) for item in value))
    return value


class ListConcat(_ProblemsChecked):
    """``list_concat: [list, list, ...]`` (2017-09-01); null items are skipped."""

    def problems(self, args: Any) -> Iterator[Problem]:
        if isinstance(args, Function):
            return
        if not _is_list(args):
            yield f"the arguments must be a list of lists, not {kind_of(args)}", self.args_path
            return
        for index, item in enumerate(args):
            if item is None or isinstance(item, Function) or _is_list(item):
                continue
            message = f"the items to concatenate must be lists, not {kind_of(item)}"
            yield message, _item_path(self, index)

    def evaluate(self, resolver: Resolver) -> Any:
        args = resolver.resolve(self.args)
        _require_known_items(args)
        self.raise_first_problem(args)
        joined: list[Any] = []
        for item in args:
            joined.extend(item or [])
        return self.finish(joined)

    def finish(self, joined: list[Any]) -> list[Any]:
        return joined


class ListConcatUnique(ListConcat):
    """``list_concat_unique``: as ``list_concat``, keeping the first occurrence of each item."""

    def finish(self, joined: list[Any]) -> list[Any]:
        if contains_unknown(joined):
            raise NeedsKnownValue()
        seen: set[Any] = set()
        unique: list[Any] = []
        for item in joined:
            identity = _identity(item)
            if identity not in seen:
                seen.add(identity)
                unique.append(item)
        return unique


class Contains(_ProblemsChecked):
    """``contains: [value, sequence]`` (2017-09-01); a string sequence means substring search."""

    def problems(self, args: Any) -> Iterator[Problem]:
        if not isinstance(args, list) or len(args) != 2:
            yield "the arguments must be a list [value, sequence]", self.args_path
            return
        sequence = args[1]
        if not isinstance(sequence, (list, tuple, str, Function)):
            message = f"the second argument must be a list or a string, not {kind_of(sequence)}"
            yield message, self.args_path / 1

    def evaluate(self, resolver: Resolver) -> Any:
        self.raise_first_problem(self.args)
        value, sequence = (resolver.known(node) for node in self.args)
        self.raise_first_problem([value, sequence])
        if isinstance(sequence, str) and not isinstance(value, str):
            message = f"to search a string the value must be a string, not {kind_of(value)}"
            raise self.error(message, at=self.args_path / 0)
        return value in sequence


class Yaql(_ProblemsChecked):
    """``yaql: {expression: text, data: value}`` (2016-10-14): a yaql expression over ``$.data``.

    Bounded by ``max_yaql_expression_length``, ``max_yaql_memory_items``
    (yaql's iteration limit, and its memory quota at 16 bytes an item) and
    ``max_yaql_seconds``. Error messages repeat yaql's text only when it
    cannot contain data, which may hold hidden parameter values.
    """

    def problems(self, args: Any) -> Iterator[Problem]:
        if not isinstance(args, Mapping):
            yield 'the arguments must be a map {"expression": ..., "data": ...}', self.args_path
            return
        if "expression" not in args:
            yield 'the "expression" argument is required', self.args_path
        for key in args:
            if key not in ("expression", "data"):
                message = f'{key!r} is not allowed here: only "expression" and "data" are'
                yield message, _under(self.args_path, key)
        expression = args.get("expression")
        if "expression" in args and not isinstance(expression, (str, Function)):
            yield f"the expression must be a string, not {kind_of(expression)}", self._at

    @property
    def _at(self) -> TemplatePath:
        return self.args_path / "expression"

    def check(self) -> Iterator[Diagnostic]:
        problems = list(super().check())
        yield from problems
        expression = self.args.get("expression") if isinstance(self.args, Mapping) else None
        if not problems and isinstance(expression, str):
            # check() has no resolver: the default limits stand in for the configured ones.
            message = check_expression(expression, TemplateLimits())
            if message is not None:
                yield self.diagnostic(message, "F3005", self._at)

    def evaluate(self, resolver: Resolver) -> Any:
        self.raise_first_problem(self.args)
        expression = resolver.known(self.args["expression"])
        if not isinstance(expression, str):
            raise self.error(
                f"the expression must be a string, not {kind_of(expression)}", at=self._at
            )
        literal = not isinstance(self.args["expression"], Function)
        try:
            parsed = parse_expression(expression, resolver.limits, show_syntax_error=literal)
        except YaqlFailure as failure:
            raise self._evaluation_error(failure) from None
        data = resolver.known(self.args.get("data", {}))
        try:
            return evaluate_yaql(parsed, data, resolver.limits)
        except YaqlFailure as failure:
            raise self._evaluation_error(failure) from None

    def _evaluation_error(self, failure: YaqlFailure) -> EvaluationError:
        return self.error(failure.message, "F3005", self._at if failure.in_expression else None)
