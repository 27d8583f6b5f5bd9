"""Property types and the value conversions Heat applies to them.

Heat converts property values leniently in a few places (an integer property
accepts ``"5"``, a string property accepts ``5`` and ``True``) and strictly in
others (a boolean property accepts only ``true``/``false``); templates written
for Heat depend on exactly these rules, so they live here in one place.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.errors import KilnError

__all__ = [
    "SUPPORTED",
    "PropertyType",
    "SchemaDefinitionError",
    "SupportState",
    "SupportStatus",
    "UpdatePolicy",
    "coerce_property_scalar",
    "describe_type",
    "expected_message",
    "is_number",
    "parse_boolean_text",
    "parse_number",
    "show_value",
]


class SchemaDefinitionError(KilnError):
    """A schema or constraint was declared wrongly by the code that declared it.

    Raised at declaration time (plugin import, or while parsing a template's
    parameter section, where it is turned into a diagnostic) so that a broken
    schema never reaches validation of user values.
    """


class PropertyType(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LIST = "list"
    MAP = "map"
    #: Any JSON value, passed through unchecked (Heat's ``Any``).
    JSON = "json"


class UpdatePolicy(enum.StrEnum):
    """What a change to a property's value means for the existing resource."""

    #: The plugin updates the resource in place (Heat's ``update_allowed=True``).
    IN_PLACE = "in_place"
    #: The resource is replaced (Heat's default, ``update_allowed=False``).
    REPLACE = "replace"
    #: The value can never change once created (Heat's ``immutable=True``).
    IMMUTABLE = "immutable"


class SupportState(enum.StrEnum):
    SUPPORTED = "SUPPORTED"
    DEPRECATED = "DEPRECATED"
    UNSUPPORTED = "UNSUPPORTED"
    HIDDEN = "HIDDEN"


@dataclass(frozen=True)
class SupportStatus:
    """Lifecycle of a resource type, property or attribute, shown in docs."""

    state: SupportState = SupportState.SUPPORTED
    version: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.state.value, "version": self.version, "message": self.message}


SUPPORTED = SupportStatus()

_TRUE_WORDS = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE_WORDS = frozenset({"0", "f", "false", "off", "n", "no"})
_PREVIEW_CHARS = 120


def parse_boolean_text(text: str) -> bool | None:
    """oslo's strict ``bool_from_string``: the words Heat's boolean parameters accept.

    Surrounding whitespace is ignored and case does not matter; anything else
    gives ``None`` so the caller can report it.
    """
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return None


def is_number(value: Any) -> bool:
    """Numbers proper: Python's ``bool`` is an ``int`` but never a number here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_number(value: Any) -> int | float | None:
    """Heat's ``str_to_num``: integral text becomes ``int``, other numeric text ``float``.

    Python's own ``int``/``float`` parsing decides what counts as numeric text
    (surrounding whitespace and ``1_000`` are accepted, as in Heat). Infinities
    and NaN are refused because they cannot be stored or compared sensibly.
    """
    if is_number(value):
        number: int | float = value
    elif isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
    else:
        return None
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return number


def describe_type(value: Any) -> str:
    """The kind of a value in words, for messages that must not show the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def show_value(value: Any) -> str:
    """A short JSON-like rendering of a value for diagnostics (strings quoted)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > _PREVIEW_CHARS:
        text = text[: _PREVIEW_CHARS - 3] + "..."
    return text


def _article(type_name: str) -> str:
    return {
        PropertyType.STRING: "a string",
        PropertyType.INTEGER: "an integer",
        PropertyType.NUMBER: "a number",
        PropertyType.BOOLEAN: "a boolean",
        PropertyType.LIST: "a list",
        PropertyType.MAP: "a map",
        PropertyType.JSON: "a JSON value",
    }[PropertyType(type_name)]


def expected_message(property_type: PropertyType, value: Any) -> str:
    """``expected an integer, got "5.0"``: scalars are shown, containers named."""
    container = isinstance(value, (Mapping, list, tuple))
    got = describe_type(value) if container else show_value(value)
    return f"expected {_article(property_type)}, got {got}"


def _coerce_string(value: Any) -> tuple[Any, bool]:
    # Heat turns integers and booleans into text but refuses floats.
    if isinstance(value, str):
        return value, True
    if isinstance(value, (bool, int)):
        return str(value), True
    return value, False


def _coerce_integer(value: Any) -> tuple[Any, bool]:
    if isinstance(value, bool):
        return value, False
    if isinstance(value, int):
        return value, True
    if isinstance(value, float):
        return (int(value), True) if value.is_integer() else (value, False)
    if isinstance(value, str):
        try:
            return int(value), True
        except ValueError:
            return value, False
    return value, False


def _coerce_number(value: Any) -> tuple[Any, bool]:
    number = parse_number(value)
    return (value, False) if number is None else (number, True)


def _coerce_boolean(value: Any) -> tuple[Any, bool]:
    # Properties are stricter than parameters: only the words true and false.
    if isinstance(value, bool):
        return value, True
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true", True
    return value, False


_SCALAR_COERCIONS = {
    PropertyType.STRING: _coerce_string,
    PropertyType.INTEGER: _coerce_integer,
    PropertyType.NUMBER: _coerce_number,
    PropertyType.BOOLEAN: _coerce_boolean,
}


def coerce_property_scalar(property_type: PropertyType, value: Any) -> tuple[Any, str | None]:
    """Convert a scalar property value as Heat's ``Property._get_*`` do.

    Returns the converted value and ``None``, or the value unchanged and the
    reason it does not fit. Lists, maps and JSON are structural and handled by
    the property validator; for them this only checks the outer shape.
    """
    if property_type is PropertyType.JSON:
        return value, None
    if property_type is PropertyType.LIST:
        fits = isinstance(value, (list, tuple))
        return (list(value), None) if fits else (value, expected_message(property_type, value))
    if property_type is PropertyType.MAP:
        fits = isinstance(value, Mapping)
        return (value, None) if fits else (value, expected_message(property_type, value))
    converted, fits = _SCALAR_COERCIONS[property_type](value)
    if fits:
        return converted, None
    return value, expected_message(property_type, value)
