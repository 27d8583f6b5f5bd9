"""CloudFormation's less common intrinsic functions.

``Fn::GetAZs``, ``Fn::ImportValue``, ``Fn::Cidr``, ``Fn::Length`` and
``Fn::ToJsonString`` behave as in AWS; ``Fn::Replace``,
``Fn::MemberListToMap`` and ``Fn::ResourceFacade`` exist only in Heat and
behave as there (``Fn::Replace`` prefers longer placeholders). They follow the
argument conventions of :mod:`~kiln.template.functions.cfn_base`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from kiln.template.functions.base import (
    Function,
    NeedsKnownValue,
    Resolver,
    Unknown,
)
from kiln.template.functions.cfn_base import (
    CfnFunction,
    InvalidArgument,
    attempt,
    kind_of,
    list_index,
    require_string,
    when_literal,
)

__all__ = [
    "Cidr",
    "GetAZs",
    "ImportValue",
    "Length",
    "MemberListToMap",
    "Replace",
    "ResourceFacade",
    "ToJsonString",
    "cidr_blocks",
]


def _region(value: Any) -> str:
    return "" if value is None else require_string(value, "the region")


class GetAZs(CfnFunction):
    """``Fn::GetAZs``: the zones of a region; ``''`` or null means the stack's own."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return when_literal(args, _region)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        return resolver.scope.availability_zones(_region(resolver.known(args)))


class ImportValue(CfnFunction):
    """``Fn::ImportValue``: a value another stack exported."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return when_literal(args, require_string, "the export name")

    def compute(self, resolver: Resolver, args: Any) -> Any:
        name = require_string(resolver.known(args), "the export name")
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
    number = list_index(value)
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
            *when_literal(block, _network),
            *when_literal(count, _bounded_integer, "the count", 1, 256, 1),
            *when_literal(bits, _bounded_integer, "cidrBits", 1, 128, 2),
        ]
        if not problems and not any(isinstance(node, Function) for node in args):
            problems += attempt(cidr_blocks, block, count, bits)
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
        return when_literal(args, _list)

    def compute(self, resolver: Resolver, args: Any) -> Any:
        items = resolver.resolve(args)
        if isinstance(items, Unknown):
            raise NeedsKnownValue()
        return len(_list(items))


class ToJsonString(CfnFunction):
    """``Fn::ToJsonString``: compact JSON, keys in template order, as AWS writes it."""

    def literal_problems(self, args: Any) -> Iterator[InvalidArgument]:
        return when_literal(args, _map_or_list)

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
        yield from when_literal(replacements, self._replacements)
        yield from when_literal(template, require_string, "the template", 1)

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
        template = require_string(resolver.known(args[1]), "the template", 1)
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
        yield from when_literal(args[0], require_string, "the key name", 0)
        yield from when_literal(args[1], require_string, "the value name", 1)
        yield from when_literal(args[2], self._items)

    @staticmethod
    def _items(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidArgument(f"the member list must be a list, not {kind_of(value)}", 2)
        return value

    def compute(self, resolver: Resolver, args: Any) -> Any:
        key_name = require_string(resolver.known(args[0]), "the key name", 0)
        value_name = require_string(resolver.known(args[1]), "the value name", 1)
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
        yield from attempt(self._section, args)

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
