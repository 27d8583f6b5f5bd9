"""CloudFormation's central intrinsic functions, and the ``Fn::*`` names HOT 2013-05-23 kept.

Names Heat implements behave as in Heat (``Fn::Select`` gives ``''`` for a
missing index, ``Ref`` looks at resources before parameters); names only AWS
has (``Fn::Sub``, ``Fn::FindInMap``'s default, ...) behave as in AWS. Where the
two disagree and Kiln must run real AWS templates unchanged, the
CloudFormation dialect follows AWS and the HOT dialect keeps Heat's behaviour
(``Fn::Base64``; scalars that AWS would see as text).

The shared base class and argument conventions are in
:mod:`~kiln.template.functions.cfn_base`; the less common functions
(``Fn::GetAZs``, ``Fn::Cidr``, ``Fn::Replace``, ...) are in
:mod:`~kiln.template.functions.cfn_extras`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from typing import Any

from kiln.errors import EvaluationError, PathSegment, TemplatePath
from kiln.template.functions.base import (
    ABSENT,
    Function,
    NeedsKnownValue,
    Reference,
    Resolver,
    Unknown,
    contains_unknown,
)
from kiln.template.functions.cfn_base import (
    CFN_VERSIONS,
    CfnFunction,
    InvalidArgument,
    attempt,
    aws_text,
    kind_of,
    list_index,
    require_string,
    shown_name,
    when_literal,
)

__all__ = [
    "CFN_VERSIONS",
    "NO_VALUE",
    "PSEUDO_PREFIX",
    "Base64",
    "CfnFunction",
    "FindInMap",
    "GetAtt",
    "InvalidArgument",
    "Join",
    "Ref",
    "Select",
    "Split",
    "Sub",
    "aws_text",
    "kind_of",
    "lookup_attribute",
    "lookup_ref",
    "parse_sub",
    "shown_name",
]

NO_VALUE = "AWS::NoValue"
PSEUDO_PREFIX = "AWS::"


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


def _is_call(node: Any) -> bool:
    return isinstance(node, Function)


def _require_text(function: CfnFunction, value: Any, what: str, *position: PathSegment) -> str:
    text = function.text(value)
    if text is None:
        raise InvalidArgument(f"{what} must be a string, not {kind_of(value)}", *position)
    return text


class Ref(CfnFunction):
    """``Ref``: a parameter, a resource's reference id or a pseudo parameter."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return when_literal(args, require_string, "the name")

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, str):
            yield Reference("ref", self.args, self.args_path)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        name = require_string(resolver.known(args), "the name")
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
        yield from when_literal(resource, require_string, "the resource name", *positions[:1])
        yield from when_literal(attribute, require_string, "the attribute name", *positions[1:])

    def references(self) -> Iterator[Reference]:
        parts = self.parts(self.args)
        if parts is not None and isinstance(parts[0], str):
            attribute = parts[1] if isinstance(parts[1], str) else None
            yield Reference("attribute", parts[0], self.args_path.join(parts[2][:1]), attribute)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        resource_node, attribute_node, positions = self.parts(args) or (None, None, ())
        resource = require_string(
            resolver.known(resource_node), "the resource name", *positions[:1]
        )
        attribute = require_string(
            resolver.known(attribute_node), "the attribute name", *positions[1:]
        )
        shown = (self.shown(resource_node, resource), self.shown(attribute_node, attribute))
        at = (self.args_path.join(positions[:1]), self.args_path.join(positions[1:]))
        return lookup_attribute(self, resolver, (resource, attribute), at, shown)


class Join(CfnFunction):
    """``Fn::Join``: values joined with a delimiter; null items count as ``''`` (Heat)."""

    usage = "[delimiter, [value, ...]]"
    arity = (2, 2)

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        delimiter, items = args
        yield from when_literal(delimiter, require_string, "the delimiter", 0)
        if isinstance(items, list):
            for index, item in enumerate(items):
                yield from when_literal(item, self._item_text, index, (1, index))
        else:
            yield from when_literal(items, self._items)

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
        delimiter = require_string(resolver.known(args[0]), "the delimiter", 0)
        items = self._items(resolver.known(args[1]))
        # Positions name template items only when none was a call that NoValue may drop.
        literal_items = isinstance(args[1], list) and not any(map(_is_call, args[1]))
        texts = [
            self._item_text(item, index, (1, index) if literal_items else (1,))
            for index, item in enumerate(items)
        ]
        self.limit_length(resolver, sum(map(len, texts)) + len(delimiter) * max(len(texts) - 1, 0))
        return delimiter.join(texts)


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
        if isinstance(collection, list) and list_index(index) is None:
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
            position = list_index(index)
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
        yield from when_literal(args[0], self._delimiter)
        yield from when_literal(args[1], self._source)

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
        yield from attempt(_require_text, self, args, "the argument")

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
        yield from when_literal(text, self._parts, position)
        yield from when_literal(variables, self._variables)

    @staticmethod
    def _parts(text: Any, position: tuple[PathSegment, ...]) -> list[tuple[bool, str]]:
        return parse_sub(require_string(text, "the text", *position), *position)

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
        yield from when_literal(args[0], require_string, "the map name", 0)
        if len(args) == 4:
            yield from when_literal(args[3], self._default_node)

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
        name = require_string(resolver.known(args[0]), "the map name", 0)
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
