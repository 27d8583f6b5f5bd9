"""Template parameter types, how raw values become typed values, and hidden values.

HOT follows Heat exactly (``heat/engine/parameters.py``): numbers become
``int`` when integral, booleans accept oslo's words (``yes``, ``off``, ``1``
...), comma-delimited lists split on commas *without* trimming the items.
CloudFormation follows AWS: the items of a CommaDelimitedList are trimmed and
a Number parameter's value stays the text it was given, which is what
``Ref`` returns there. AWS-specific types (``AWS::EC2::VPC::Id``...) are
strings, their ``List<...>`` forms comma-delimited lists; the AWS type is kept
so a provider can add a live check.

Hidden parameters are masked as ``******`` wherever values are shown; a
:class:`Redactor` also scrubs their text out of anything rendered later
(templates, errors, events).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kiln.errors import Diagnostic, TemplatePath
from kiln.schema.constraints import Constraint
from kiln.schema.types import PropertyType, parse_boolean_text, parse_number, show_value

__all__ = [
    "AWS_SPECIFIC_TYPES",
    "CFN_TYPE_NAMES",
    "HIDDEN_MASK",
    "HOT_TYPE_NAMES",
    "ConversionProblem",
    "ParameterDeclaration",
    "ParameterType",
    "Redactor",
    "cfn_parameter_type",
    "convert_parameter_value",
    "hidden_parameter_names",
    "mask_hidden_values",
    "redact",
    "secret_values",
]

HIDDEN_MASK = "******"

Kind = Literal["hot", "cfn"]


class ParameterType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    JSON = "json"
    COMMA_DELIMITED_LIST = "comma_delimited_list"
    BOOLEAN = "boolean"
    #: CloudFormation's ``List<Number>``: comma-delimited text whose items are numbers.
    NUMBER_LIST = "number_list"

    @property
    def property_type(self) -> PropertyType:
        """The schema type whose constraint rules apply (Heat maps json to Map)."""
        return _PROPERTY_TYPES[self]


_PROPERTY_TYPES = {
    ParameterType.STRING: PropertyType.STRING,
    ParameterType.NUMBER: PropertyType.NUMBER,
    ParameterType.JSON: PropertyType.MAP,
    ParameterType.COMMA_DELIMITED_LIST: PropertyType.LIST,
    ParameterType.BOOLEAN: PropertyType.BOOLEAN,
    ParameterType.NUMBER_LIST: PropertyType.LIST,
}

HOT_TYPE_NAMES: Mapping[str, ParameterType] = {
    "string": ParameterType.STRING,
    "number": ParameterType.NUMBER,
    "json": ParameterType.JSON,
    "comma_delimited_list": ParameterType.COMMA_DELIMITED_LIST,
    "boolean": ParameterType.BOOLEAN,
}

#: ``Json`` and ``Boolean`` are Heat's additions to CloudFormation's types.
CFN_TYPE_NAMES: Mapping[str, ParameterType] = {
    "String": ParameterType.STRING,
    "Number": ParameterType.NUMBER,
    "CommaDelimitedList": ParameterType.COMMA_DELIMITED_LIST,
    "List<Number>": ParameterType.NUMBER_LIST,
    "Json": ParameterType.JSON,
    "Boolean": ParameterType.BOOLEAN,
}

AWS_SPECIFIC_TYPES: frozenset[str] = frozenset(
    {
        "AWS::EC2::AvailabilityZone::Name",
        "AWS::EC2::Image::Id",
        "AWS::EC2::Instance::Id",
        "AWS::EC2::KeyPair::KeyName",
        "AWS::EC2::SecurityGroup::GroupName",
        "AWS::EC2::SecurityGroup::Id",
        "AWS::EC2::Subnet::Id",
        "AWS::EC2::Volume::Id",
        "AWS::EC2::VPC::Id",
        "AWS::Route53::HostedZone::Id",
    }
)

_SSM_NAME = "AWS::SSM::Parameter::Name"
_SSM_VALUE_PREFIX = "AWS::SSM::Parameter::Value<"
_SSM_PLAIN_VALUES = frozenset({"String", "List<String>", "CommaDelimitedList"})


def _list_of(type_name: str) -> str | None:
    if type_name.startswith("List<") and type_name.endswith(">"):
        return type_name[len("List<") : -1]
    return None


def _is_aws_type_or_list(type_name: str) -> bool:
    inner = _list_of(type_name)
    return type_name in AWS_SPECIFIC_TYPES or (inner is not None and inner in AWS_SPECIFIC_TYPES)


def cfn_parameter_type(type_name: str) -> tuple[ParameterType, str | None] | None:
    """The parameter type for a CloudFormation ``Type`` and the AWS type to record.

    SSM parameter types take the *name* of an SSM parameter, which is text;
    resolving it to a value needs the cloud and is left to a provider.
    """
    if type_name in CFN_TYPE_NAMES:
        return CFN_TYPE_NAMES[type_name], None
    if type_name in AWS_SPECIFIC_TYPES or type_name == _SSM_NAME:
        return ParameterType.STRING, type_name
    inner = _list_of(type_name)
    if inner is not None and inner in AWS_SPECIFIC_TYPES:
        return ParameterType.COMMA_DELIMITED_LIST, type_name
    if type_name.startswith(_SSM_VALUE_PREFIX) and type_name.endswith(">"):
        value_type = type_name[len(_SSM_VALUE_PREFIX) : -1]
        if value_type in _SSM_PLAIN_VALUES or _is_aws_type_or_list(value_type):
            return ParameterType.STRING, type_name
    return None


def cfn_type_names() -> list[str]:
    """Type names for "expected one of" messages (AWS-specific ones summarised)."""
    return [*CFN_TYPE_NAMES, "AWS::*", "List<AWS::*>", "AWS::SSM::Parameter::*"]


@dataclass(frozen=True)
class ConversionProblem:
    """Why a value does not fit a type, in words that never contain the value."""

    expected: str
    detail: str = ""

    def message(self, value: Any, hidden_subject: str | None) -> str:
        """``expected a number, got "abc"``, or about the subject when hidden."""
        if hidden_subject is not None:
            text = f"{hidden_subject} is not {self.expected}"
        else:
            text = f"expected {self.expected}, got {_shown(value)}"
        return f"{text} ({self.detail})" if self.detail else text


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return show_value(value)


Converted = tuple[Any, "ConversionProblem | None"]


def _to_string(value: Any) -> Converted:
    if isinstance(value, str):
        return value, None
    if isinstance(value, (bool, int, float)):
        return str(value), None
    return value, ConversionProblem("a string")


def _to_number(value: Any, keep_text: bool) -> Converted:
    number = parse_number(value)
    if number is None:
        return value, ConversionProblem("a number")
    if keep_text:
        return (value if isinstance(value, str) else str(number)), None
    return number, None


def _to_boolean(value: Any) -> Converted:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (str, int)):
        parsed = parse_boolean_text(str(value))
        if parsed is not None:
            return parsed, None
    return value, ConversionProblem("a boolean", "true/false, yes/no, on/off, t/f, y/n or 1/0")


def _to_list(value: Any, strip_items: bool) -> Converted:
    problem = ConversionProblem("a comma-delimited list")
    if isinstance(value, (list, tuple)):
        items: list[str] = []
        for index, item in enumerate(value):
            if item is None or isinstance(item, (Mapping, list, tuple)):
                return value, ConversionProblem(problem.expected, f"item {index} is not a string")
            items.append(str(item))
        return items, None
    if not isinstance(value, str):
        return value, problem
    if value == "":
        return [], None
    parts = value.split(",")
    return ([part.strip() for part in parts] if strip_items else parts), None


def _to_number_list(value: Any) -> Converted:
    items, problem = _to_list(value, strip_items=True)
    if problem is not None:
        return value, ConversionProblem("a list of numbers", problem.detail)
    for index, item in enumerate(items):
        if parse_number(item) is None:
            return value, ConversionProblem("a list of numbers", f"item {index} is not a number")
    return items, None


def _to_json(value: Any) -> Converted:
    # Heat leaves an empty string as it is and round-trips everything else.
    if value == "":
        return value, None
    try:
        text = value if isinstance(value, str) else json.dumps(value)
        return json.loads(text), None
    except (TypeError, ValueError) as error:
        return value, ConversionProblem("valid JSON", str(error))


def convert_parameter_value(
    parameter_type: ParameterType, value: Any, *, cloudformation: bool = False
) -> Converted:
    """The typed value, or the value unchanged and a :class:`ConversionProblem`."""
    if parameter_type is ParameterType.STRING:
        return _to_string(value)
    if parameter_type is ParameterType.NUMBER:
        return _to_number(value, keep_text=cloudformation)
    if parameter_type is ParameterType.BOOLEAN:
        return _to_boolean(value)
    if parameter_type is ParameterType.COMMA_DELIMITED_LIST:
        return _to_list(value, strip_items=cloudformation)
    if parameter_type is ParameterType.NUMBER_LIST:
        return _to_number_list(value)
    return _to_json(value)


@dataclass(frozen=True)
class ParameterDeclaration:
    """One parameter as the template declares it (the default is kept as written)."""

    name: str
    type: ParameterType
    path: TemplatePath
    type_name: str = ""
    kind: Kind = "hot"
    default: Any = None
    has_default: bool = False
    hidden: bool = False
    immutable: bool = False
    label: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    #: CloudFormation's AWS-specific type (``AWS::EC2::VPC::Id``), for live checks.
    aws_type: str | None = None

    def convert(self, value: Any) -> tuple[Any, ConversionProblem | None]:
        return convert_parameter_value(self.type, value, cloudformation=self.kind == "cfn")

    @property
    def hidden_subject(self) -> str | None:
        """What messages say instead of the value when the parameter is hidden."""
        return f"value for hidden parameter '{self.name}'" if self.hidden else None


# --- hidden values --------------------------------------------------------------------


def hidden_parameter_names(declarations: Mapping[str, ParameterDeclaration]) -> frozenset[str]:
    return frozenset(name for name, declaration in declarations.items() if declaration.hidden)


def mask_hidden_values(values: Mapping[str, Any], hidden_names: Iterable[str]) -> dict[str, Any]:
    """Parameter values as Heat shows them: hidden ones replaced by ``******``."""
    hidden = frozenset(hidden_names)
    return {name: HIDDEN_MASK if name in hidden else value for name, value in values.items()}


def secret_values(values: Mapping[str, Any], hidden_names: Iterable[str]) -> frozenset[str]:
    """Every text a hidden value consists of (strings, and numbers as text), for a Redactor."""
    secrets: set[str] = set()
    pending = [values[name] for name in hidden_names if name in values]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            secrets.add(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            secrets.add(str(value))
        elif isinstance(value, Mapping):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
    secrets.discard("")
    return frozenset(secrets)


class Redactor:
    """Replaces every occurrence of a secret in nested data with ``******``.

    Longer secrets are replaced first, so a secret containing another is
    masked whole. Numbers whose text is a secret are masked too. Used when
    rendering templates, parameters, errors and events.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = frozenset(secret for secret in secrets if isinstance(secret, str) and secret)
        ordered = sorted(self.secrets, key=lambda secret: (-len(secret), secret))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(HIDDEN_MASK, text)

    def redact(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return HIDDEN_MASK if str(value) in self.secrets else value
        if isinstance(value, Mapping):
            return {self.redact(key): self.redact(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.redact(item) for item in value)
        return value

    #: Alias used by renderers: ``redactor.value(rendered)``.
    value = redact

    def diagnostic(self, diagnostic: Diagnostic) -> Diagnostic:
        return Diagnostic(
            diagnostic.code,
            self.text(diagnostic.message),
            diagnostic.path,
            diagnostic.severity,
            diagnostic.span,
            diagnostic.source,
        )


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """One-off :meth:`Redactor.redact`."""
    return Redactor(secrets).redact(value)
