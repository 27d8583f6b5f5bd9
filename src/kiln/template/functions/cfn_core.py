"""CloudFormation's intrinsic functions, and the ``Fn::*`` names HOT 2013-05-23 kept.

Names Heat implements behave as in Heat (``Fn::Select`` gives ``''`` for a
missing index, ``Fn::Replace`` prefers longer placeholders, ``Ref`` looks at
resources before parameters); names only AWS has (``Fn::Sub``, ``Fn::Cidr``,
``Fn::FindInMap``'s default, ...) behave as in AWS. Where the two disagree and
Kiln must run real AWS templates unchanged, the CloudFormation dialect follows
AWS and the HOT dialect keeps Heat's behaviour (``Fn::Base64``; scalars that
AWS would see as text).

A problem with a literal argument is reported identically by :meth:`check`
and at evaluation (code F3003, same message, same path) so that a validator
running both can merge them; a problem with a computed value is F3004.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from kiln.errors import Diagnostic, EvaluationError, PathSegment, TemplatePath
from kiln.template.functions.base import (
    ABSENT,
    Function,
    NeedsKnownValue,
    Reference,
    Resolver,
    Unknown,
    contains_unknown,
)

#: Template versions whose calls follow AWS; every other version is a HOT one and follows Heat.
CFN_VERSIONS = frozenset({"2010-09-09", "2012-12-12"})
NO_VALUE = "AWS::NoValue"
PSEUDO_PREFIX = "AWS::"


class InvalidArgument(Exception):
    """A bad argument; ``position`` is relative to the call's arguments."""

    def __init__(self, message: str, *position: PathSegment) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def kind_of(value: Any) -> str:
    """How a value is named in messages; never the value itself, which may be hidden."""
    if value is None:
        return "null"
    if value is ABSENT:
        return "an absent value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


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


def lookup_ref(
    function: Function, resolver: Resolver, name: str, at: TemplatePath, shown: str = ""
) -> Any:
    """What ``Ref name`` gives; shared with ``Fn::Sub``'s ``${name}``.

    Resources win over parameters as in Heat (AWS forbids the clash anyway).
    """
    scope = resolver.scope
    if name == NO_VALUE:
        return ABSENT
    if name.startswith(PSEUDO_PREFIX):
        try:
            return scope.pseudo_parameter(name)
        except KeyError:
            pass
    try:
        return scope.resource_reference(name)
    except KeyError:
        pass
    try:
        return scope.parameter(name)
    except KeyError:
        message = f"{shown or repr(name)} is not a parameter or resource"
        raise function.error(message, "R4001", at) from None


def lookup_attribute(
    function: Function,
    resolver: Resolver,
    names: tuple[str, str],
    at: tuple[TemplatePath, TemplatePath],
    shown: tuple[str, str] = ("", ""),
) -> Any:
    """One attribute of a resource; shared with ``Fn::Sub``'s ``${resource.attribute}``.

    ``at`` and ``shown`` give the resource's then the attribute's path and label.
    """
    resource, attribute = names
    shown_resource = shown[0] or repr(resource)
    scope = resolver.scope
    try:
        return scope.resource_attribute(resource, attribute)
    except KeyError:
        pass
    try:
        scope.resource_reference(resource)
    except KeyError:
        raise function.error(f"resource {shown_resource} is not defined", "R4001", at[0]) from None
    message = f"resource {shown_resource} has no attribute {shown[1] or repr(attribute)}"
    raise function.error(message, "R4007", at[1])


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


def _attempt(validate: Any, *arguments: Any) -> Iterator[InvalidArgument]:
    try:
        validate(*arguments)
    except InvalidArgument as problem:
        yield problem


def _when_literal(node: Any, validate: Any, *arguments: Any) -> Iterator[InvalidArgument]:
    """Run a validator on an argument written out; calls are validated when evaluated."""
    if not isinstance(node, Function):
        yield from _attempt(validate, node, *arguments)


def _is_call(node: Any) -> bool:
    return isinstance(node, Function)


def _string(value: Any, what: str, *position: PathSegment) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, not {kind_of(value)}", *position)
    return value


def _require_text(function: CfnFunction, value: Any, what: str, *position: PathSegment) -> str:
    text = function.text(value)
    if text is None:
        raise InvalidArgument(f"{what} must be a string, not {kind_of(value)}", *position)
    return text


class Ref(CfnFunction):
    """``Ref``: a parameter, a resource's reference id or a pseudo parameter."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _when_literal(args, _string, "the name")

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, str):
            yield Reference("ref", self.args, self.args_path)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        name = _string(resolver.known(args), "the name")
        return lookup_ref(self, resolver, name, self.args_path, self.shown(args, name))


class GetAtt(CfnFunction):
    """``Fn::GetAtt``: ``[resource, attribute]`` or AWS's ``"resource.attribute"``.

    The string form splits on the first dot so nested names such as
    ``Outputs.Name`` stay whole. Unlike HOT's ``get_attr`` there are no path
    items, as in Heat's CFN ``Fn::GetAtt``.
    """

    usage = '[resource_name, attribute_name] or "resource_name.attribute_name"'

    @staticmethod
    def parts(args: Any) -> tuple[Any, Any, tuple[PathSegment, ...]] | None:
        """Resource, attribute, and their positions (none in the string form)."""
        if isinstance(args, str):
            resource, dot, attribute = args.partition(".")
            return (resource, attribute, ()) if resource and dot and attribute else None
        if isinstance(args, list) and len(args) == 2:
            return args[0], args[1], (0, 1)
        return None

    def check_shape(self, args: Any) -> None:
        if self.parts(args) is None:
            raise InvalidArgument(f"arguments must have the form {self.usage}")

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        resource, attribute, positions = self.parts(args) or (None, None, ())
        yield from _when_literal(resource, _string, "the resource name", *positions[:1])
        yield from _when_literal(attribute, _string, "the attribute name", *positions[1:])

    def references(self) -> Iterator[Reference]:
        parts = self.parts(self.args)
        if parts is not None and isinstance(parts[0], str):
            attribute = parts[1] if isinstance(parts[1], str) else None
            yield Reference("attribute", parts[0], self.args_path.join(parts[2][:1]), attribute)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        resource_node, attribute_node, positions = self.parts(args) or (None, None, ())
        resource = _string(resolver.known(resource_node), "the resource name", *positions[:1])
        attribute = _string(resolver.known(attribute_node), "the attribute name", *positions[1:])
        shown = (self.shown(resource_node, resource), self.shown(attribute_node, attribute))
        at = (self.args_path.join(positions[:1]), self.args_path.join(positions[1:]))
        return lookup_attribute(self, resolver, (resource, attribute), at, shown)


class Join(CfnFunction):
    """``Fn::Join``: values joined with a delimiter; null items count as ``''`` (Heat)."""

    usage = "[delimiter, [value, ...]]"
    arity = (2, 2)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        delimiter, items = args
        yield from _when_literal(delimiter, _string, "the delimiter", 0)
        if isinstance(items, list):
            for index, item in enumerate(items):
                yield from _when_literal(item, self._item_text, index, (1, index))
        else:
            yield from _when_literal(items, self._items)

    @staticmethod
    def _items(value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidArgument(f"the second argument must be a list, not {kind_of(value)}", 1)
        return value

    def _item_text(self, item: Any, index: int, position: tuple[PathSegment, ...]) -> str:
        if item is None:
            return ""
        text = self.text(item)
        if text is None:
            raise InvalidArgument(f"item {index} must be a string, not {kind_of(item)}", *position)
        return text

    def compute(self, resolver: Resolver, args: Any) -> Any:
        delimiter = _string(resolver.known(args[0]), "the delimiter", 0)
        items = self._items(resolver.known(args[1]))
        # Positions name template items only when none was a call that NoValue may drop.
        literal_items = isinstance(args[1], list) and not any(map(_is_call, args[1]))
        texts = [
            self._item_text(item, index, (1, index) if literal_items else (1,))
            for index, item in enumerate(items)
        ]
        self.limit_length(resolver, sum(map(len, texts)) + len(delimiter) * max(len(texts) - 1, 0))
        return delimiter.join(texts)


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def _list_index(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


class Select(CfnFunction):
    """``Fn::Select``: an item of a list, or a key of a map, as Heat does it.

    Heat's documented rule is kept: an index that is not there gives ``''``
    (AWS fails instead); that covers negative indexes too. A string argument
    is decoded as JSON, an empty string or null selects ``''``.
    """

    usage = "[index, list_or_map]"
    arity = (2, 2)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        index, collection = args
        if isinstance(index, Function):
            return
        if isinstance(collection, list) and _list_index(index) is None:
            yield InvalidArgument("the index must be an integer to select from a list", 0)
        elif isinstance(collection, dict) and not isinstance(index, str):
            yield InvalidArgument("the index must be a string to select from a map", 0)
        elif not isinstance(collection, (list, dict, str, Function)) and collection is not None:
            message = f"the second argument must be a list or a map, not {kind_of(collection)}"
            yield InvalidArgument(message, 1)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        index_node, collection_node = args
        index = resolver.known(index_node)
        collection = resolver.resolve(collection_node)
        if isinstance(collection, Unknown):
            raise NeedsKnownValue()
        if collection is None or (isinstance(collection, str) and collection == ""):
            return ""
        if isinstance(collection, str):
            try:
                collection = json.loads(collection)
            except ValueError as problem:
                raise InvalidArgument(f"the second argument is not JSON: {problem}", 1) from None
        if isinstance(collection, Mapping):
            if not isinstance(index, str):
                raise InvalidArgument("the index must be a string to select from a map", 0)
            return collection.get(index, "")
        if isinstance(collection, list):
            position = _list_index(index)
            if position is None:
                raise InvalidArgument("the index must be an integer to select from a list", 0)
            return collection[position] if 0 <= position < len(collection) else ""
        message = f"the second argument must be a list or a map, not {kind_of(collection)}"
        raise InvalidArgument(message, 1)


class Split(CfnFunction):
    """``Fn::Split``: a string cut at every delimiter into a list."""

    usage = "[delimiter, string]"
    arity = (2, 2)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        yield from _when_literal(args[0], self._delimiter)
        yield from _when_literal(args[1], self._source)

    def _delimiter(self, value: Any) -> str:
        text = _require_text(self, value, "the delimiter", 0)
        if not text:
            raise InvalidArgument("the delimiter must not be empty", 0)
        return text

    def _source(self, value: Any) -> str:
        return _require_text(self, value, "the second argument", 1)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        delimiter = self._delimiter(resolver.known(args[0]))
        return self._source(resolver.known(args[1])).split(delimiter)


class Base64(CfnFunction):
    """``Fn::Base64``: real encoding in the CFN dialect, Heat's pass-through in HOT.

    Heat never encodes, because its servers take user data as plain text and
    HOT templates rely on that. AWS templates hand the encoded text to
    services that decode it, so the CFN dialect must encode for them to work.
    """

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        yield from _attempt(_require_text, self, args, "the argument")

    def compute(self, resolver: Resolver, args: Any) -> Any:
        text = _require_text(self, resolver.known(args), "the argument")
        if self.version not in CFN_VERSIONS:
            return text
        return base64.b64encode(text.encode("utf-8")).decode("ascii")


def parse_sub(text: str, *position: PathSegment) -> list[tuple[bool, str]]:
    """``Fn::Sub`` text as (is_variable, text) parts; ``${!x}`` is the literal ``${x}``."""
    parts: list[tuple[bool, str]] = []
    literal = ""
    cursor = 0
    while (start := text.find("${", cursor)) >= 0:
        end = text.find("}", start + 2)
        if end < 0:
            raise InvalidArgument(f"the '${{' at character {start} has no closing '}}'", *position)
        name = text[start + 2 : end]
        literal += text[cursor:start]
        if name.startswith("!"):
            literal += "${" + name[1:] + "}"
        elif not name:
            raise InvalidArgument(f"the '${{}}' at character {start} names no variable", *position)
        else:
            parts += [(False, literal), (True, name)] if literal else [(True, name)]
            literal = ""
        cursor = end + 1
    literal += text[cursor:]
    return [*parts, (False, literal)] if literal else parts


class Sub(CfnFunction):
    """``Fn::Sub``: ``${name}`` replaced by a variable, parameter, resource or attribute.

    Names in the variable map win; ``${a.b}`` is attribute ``b`` of resource
    ``a``; anything else is looked up as ``Ref`` would. Only the variables the
    text uses are evaluated, so an unused Unknown does not spread.
    """

    usage = "string or [string, {name: value, ...}]"

    def _forms(self, args: Any) -> tuple[Any, Any, tuple[PathSegment, ...]] | None:
        if isinstance(args, list):
            return (args[0], args[1], (0,)) if len(args) == 2 else None
        return args, {}, ()

    def check_shape(self, args: Any) -> None:
        if self._forms(args) is None:
            raise InvalidArgument(f"arguments must have the form {self.usage}")

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        text, variables, position = self._forms(args) or (None, None, ())
        yield from _when_literal(text, self._parts, position)
        yield from _when_literal(variables, self._variables)

    @staticmethod
    def _parts(text: Any, position: tuple[PathSegment, ...]) -> list[tuple[bool, str]]:
        return parse_sub(_string(text, "the text", *position), *position)

    @staticmethod
    def _variables(value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise InvalidArgument(f"the variables must be a map, not {kind_of(value)}", 1)
        return value

    def references(self) -> Iterator[Reference]:
        text, variables, position = self._forms(self.args) or (None, None, ())
        if not isinstance(text, str):
            return
        try:
            parts = parse_sub(text)
        except InvalidArgument:
            return
        at = self.args_path.join(position)
        seen: set[str] = set()
        for is_variable, name in parts:
            if (
                not is_variable
                or name in seen
                or (isinstance(variables, dict) and name in variables)
            ):
                continue
            seen.add(name)
            resource, dot, attribute = name.partition(".")
            if dot:
                yield Reference("attribute", resource, at, attribute)
            else:
                yield Reference("ref", name, at)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        text_node, variables_node, position = self._forms(args) or (None, None, ())
        parts = self._parts(resolver.known(text_node), position)
        variables = variables_node
        if isinstance(variables_node, Function):
            variables = resolver.resolve(variables_node)
        if isinstance(variables, Unknown):
            raise NeedsKnownValue()
        variables = self._variables(variables)
        literal_map = isinstance(variables_node, dict)
        pieces = []
        for is_variable, name in parts:
            if not is_variable:
                pieces.append(name)
                continue
            where = (1, name) if literal_map and name in variables else position
            pieces.append(self._substitute(resolver, name, variables, where))
        self.limit_length(resolver, sum(map(len, pieces)))
        return "".join(pieces)

    def _substitute(
        self,
        resolver: Resolver,
        name: str,
        variables: Mapping[str, Any],
        position: tuple[PathSegment, ...],
    ) -> str:
        at = self.args_path.join(position)
        if name in variables:
            value = resolver.resolve(variables[name])
        elif "." in name:
            resource, _, attribute = name.partition(".")
            value = lookup_attribute(self, resolver, (resource, attribute), (at, at))
        else:
            value = lookup_ref(self, resolver, name, at)
        if contains_unknown(value):
            raise NeedsKnownValue()
        text = aws_text(value)
        if text is None:
            raise InvalidArgument(f"${{{name}}} must be a string, not {kind_of(value)}", *position)
        return text


class FindInMap(CfnFunction):
    """``Fn::FindInMap``, with AWS::LanguageExtensions' optional ``{DefaultValue: v}``.

    Keys match by their text, as in AWS where every key is a string (YAML may
    have read ``2:`` as a number). Computed keys are not quoted in messages:
    they may come from a hidden parameter.
    """

    usage = "[map_name, top_level_key, second_level_key, {DefaultValue: value}]"
    arity = (3, 4)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        yield from _when_literal(args[0], _string, "the map name", 0)
        if len(args) == 4:
            yield from _when_literal(args[3], self._default_node)

    @staticmethod
    def _default_node(option: Any) -> Any:
        if not isinstance(option, dict) or list(option) != ["DefaultValue"]:
            raise InvalidArgument("the fourth argument must be a map {DefaultValue: value}", 3)
        return option["DefaultValue"]

    def references(self) -> Iterator[Reference]:
        args = self.args
        if isinstance(args, list) and args and isinstance(args[0], str):
            yield Reference("mapping", args[0], self.args_path / 0)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        name = _string(resolver.known(args[0]), "the map name", 0)
        shown = self.shown(args[0], name)
        try:
            entries: Any = resolver.scope.mapping(name)
        except KeyError:
            raise self.error(
                f"mapping {shown} is not defined", "R4004", self.args_path / 0
            ) from None
        for position in (1, 2):
            found, entries = self._entry(resolver, entries, args[position], shown, position)
            if not found and len(args) == 4:
                option = resolver.resolve(args[3]) if isinstance(args[3], Function) else args[3]
                if isinstance(option, Unknown):
                    raise NeedsKnownValue()
                return resolver.resolve(self._default_node(option))
            if not found:
                raise self._missing(args[position], position, shown)
        return entries

    def _entry(
        self, resolver: Resolver, entries: Any, key_node: Any, name: str, position: int
    ) -> tuple[bool, Any]:
        key = resolver.known(key_node)
        if not isinstance(entries, Mapping):
            raise self.error(f"mapping {name} must hold maps of values", at=self.args_path / 0)
        text = aws_text(key)
        if text is None:
            raise InvalidArgument(f"the key must be a string, not {kind_of(key)}", position)
        for candidate, value in entries.items():
            if aws_text(candidate) == text:
                return True, value
        return False, None

    def _missing(self, key_node: Any, position: int, name: str) -> EvaluationError:
        computed = isinstance(key_node, Function) or isinstance(self.args, Function)
        key = "the computed key" if computed else repr(key_node)
        level = "top-level" if position == 1 else "second-level"
        return self.error(
            f"{level} key {key} is not in mapping {name}", at=self.args_path / position
        )


def _region(value: Any) -> str:
    return "" if value is None else _string(value, "the region")


class GetAZs(CfnFunction):
    """``Fn::GetAZs``: the zones of a region; ``''`` or null means the stack's own."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _when_literal(args, _region)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        return resolver.scope.availability_zones(_region(resolver.known(args)))


class ImportValue(CfnFunction):
    """``Fn::ImportValue``: a value another stack exported."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _when_literal(args, _string, "the export name")

    def compute(self, resolver: Resolver, args: Any) -> Any:
        name = _string(resolver.known(args), "the export name")
        try:
            return resolver.scope.import_value(name)
        except KeyError:
            raise self.error(f"no stack exports {self.shown(args, name)}") from None


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> IpNetwork:
    if not isinstance(value, str):
        raise InvalidArgument(f"the ip block must be a string, not {kind_of(value)}", 0)
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise InvalidArgument("the ip block is not an IPv4 or IPv6 CIDR block", 0) from None


def _bounded_integer(value: Any, what: str, low: int, high: int, position: int) -> int:
    number = _list_index(value)
    if number is None or not low <= number <= high:
        raise InvalidArgument(f"{what} must be an integer from {low} to {high}", position)
    return number


def cidr_blocks(block: Any, count: Any, bits: Any) -> list[str]:
    """``Fn::Cidr``: the first ``count`` subnets with ``bits`` host bits inside ``block``."""
    network = _network(block)
    number = _bounded_integer(count, "the count", 1, 256, 1)
    host_bits = _bounded_integer(bits, "cidrBits", 1, network.max_prefixlen, 2)
    prefix = network.max_prefixlen - host_bits
    size = f"/{network.prefixlen} ip block"
    if prefix < network.prefixlen:
        raise InvalidArgument(
            f"cidrBits {host_bits} makes /{prefix} blocks, larger than the {size}", 2
        )
    available = 2 ** (prefix - network.prefixlen)
    if number > available:
        blocks = "block" if available == 1 else "blocks"
        message = f"the {size} holds only {available} {blocks} of /{prefix}, not {number}"
        raise InvalidArgument(message, 1)
    start = int(network.network_address)
    step = 2**host_bits
    return [str(type(network)((start + index * step, prefix))) for index in range(number)]


class Cidr(CfnFunction):
    """``Fn::Cidr``: split an IPv4 or IPv6 block into equal subnets, as AWS does."""

    usage = "[ip_block, count, cidr_bits]"
    arity = (3, 3)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        block, count, bits = args
        problems = [
            *_when_literal(block, _network),
            *_when_literal(count, _bounded_integer, "the count", 1, 256, 1),
            *_when_literal(bits, _bounded_integer, "cidrBits", 1, 128, 2),
        ]
        if not problems and not any(isinstance(node, Function) for node in args):
            problems += _attempt(cidr_blocks, block, count, bits)
        return iter(problems)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        return cidr_blocks(*(resolver.known(node) for node in args))


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidArgument(f"the argument must be a list, not {kind_of(value)}")
    return value


def _map_or_list(value: Any) -> Any:
    if not isinstance(value, (dict, list)):
        raise InvalidArgument(f"the argument must be a map or a list, not {kind_of(value)}")
    return value


class Length(CfnFunction):
    """``Fn::Length``: how many items a list has (its items may still be Unknown)."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _when_literal(args, _list)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        items = resolver.resolve(args)
        if isinstance(items, Unknown):
            raise NeedsKnownValue()
        return len(_list(items))


class ToJsonString(CfnFunction):
    """``Fn::ToJsonString``: compact JSON, keys in template order, as AWS writes it."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return _when_literal(args, _map_or_list)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        value = _map_or_list(resolver.known(args))
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class Replace(CfnFunction):
    """Heat's ``Fn::Replace``: ``[{placeholder: value}, template]``.

    Longer placeholders are replaced first, equal lengths in sorted order, and
    text already substituted is never searched again (Heat's documented rule).
    """

    usage = "[{placeholder: value, ...}, template_string]"
    arity = (2, 2)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        replacements, template = args
        yield from _when_literal(replacements, self._replacements)
        yield from _when_literal(template, _string, "the template", 1)

    def _replacements(self, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise InvalidArgument(f"the first argument must be a map, not {kind_of(value)}", 0)
        for placeholder in value:
            self._placeholder(placeholder)
        return value

    @staticmethod
    def _placeholder(key: Any) -> str:
        if not isinstance(key, str) or not key:
            raise InvalidArgument("placeholders must be non-empty strings", 0)
        return key

    @staticmethod
    def _value_text(value: Any, placeholder: str, written: bool) -> str:
        if value is None:
            return ""
        if isinstance(value, (str, int, float)):
            return str(value)
        if not written:
            raise InvalidArgument("every value must be a string or a number", 0)
        message = f"the value for {placeholder!r} must be a string or a number"
        raise InvalidArgument(message, 0, placeholder)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        replacements = self._replacements(resolver.known(args[0]))
        template = _string(resolver.known(args[1]), "the template", 1)
        # Placeholders of a computed map may come from a hidden parameter: not shown.
        written = isinstance(args[0], dict) and not isinstance(self.args, Function)
        order = sorted(sorted(replacements), key=len, reverse=True)
        # (text, searchable): substituted values are never searched again.
        segments: list[tuple[str, bool]] = [(template, True)]
        for placeholder in order:
            value = self._value_text(replacements[placeholder], placeholder, written)
            segments = [
                piece
                for text, searchable in segments
                for piece in (
                    _split_around(text, placeholder, value) if searchable else [(text, False)]
                )
            ]
            self.limit_length(resolver, sum(len(text) for text, _ in segments))
        return "".join(text for text, _ in segments)


def _split_around(text: str, placeholder: str, value: str) -> list[tuple[str, bool]]:
    pieces = text.split(placeholder)
    result: list[tuple[str, bool]] = [(pieces[0], True)]
    for piece in pieces[1:]:
        result += [(value, False), (piece, True)]
    return result


_MEMBER = re.compile(r"\.member\.([0-9]+)\.(.*)")


class MemberListToMap(CfnFunction):
    """Heat's ``Fn::MemberListToMap``: AWS query-style ``.member.N.Key=...`` lists to a map.

    Items are ``name=value``; those sharing ``N`` form one member, and a
    member with both the key and the value name adds one entry.
    """

    usage = '[key_name, value_name, [".member.0.<key_name>=key", ...]]'
    arity = (3, 3)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        yield from _when_literal(args[0], _string, "the key name", 0)
        yield from _when_literal(args[1], _string, "the value name", 1)
        yield from _when_literal(args[2], self._items)

    @staticmethod
    def _items(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidArgument(f"the member list must be a list, not {kind_of(value)}", 2)
        return value

    def compute(self, resolver: Resolver, args: Any) -> Any:
        key_name = _string(resolver.known(args[0]), "the key name", 0)
        value_name = _string(resolver.known(args[1]), "the value name", 1)
        items = self._items(resolver.known(args[2]))
        pairs: dict[str, str] = {}
        for index, item in enumerate(items):
            if not isinstance(item, str) or "=" not in item:
                raise InvalidArgument(f"member item {index} must be a string 'name=value'", 2)
            name, _, value = item.partition("=")
            pairs[name] = value
        members: dict[int, dict[str, str]] = {}
        for name, value in pairs.items():
            match = _MEMBER.match(name)
            if match:
                members.setdefault(int(match.group(1)), {})[match.group(2)] = value
        return {
            member[key_name]: member[value_name]
            for _, member in sorted(members.items())
            if key_name in member and value_name in member
        }


class ResourceFacade(CfnFunction):
    """``Fn::ResourceFacade``: a section of the resource this nested stack implements."""

    SECTIONS: ClassVar[Mapping[str, str]] = {
        "Metadata": "metadata",
        "DeletionPolicy": "deletion_policy",
        "UpdatePolicy": "update_policy",
    }

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        yield from _attempt(self._section, args)

    def _section(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.SECTIONS:
            raise InvalidArgument(f"the argument must be one of {', '.join(self.SECTIONS)}")
        return self.SECTIONS[value]

    def compute(self, resolver: Resolver, args: Any) -> Any:
        section = self._section(resolver.known(args))
        try:
            return resolver.scope.resource_facade(section)
        except KeyError:
            raise self.error(
                "the stack is not a nested stack, so it has no parent resource"
            ) from None
