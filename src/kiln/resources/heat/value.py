"""``OS::Heat::Value``: a value computed in the template, exposed as an attribute.

As in Heat, ``type`` makes the ``value`` property behave like a property of
that type: ``number`` converts ``"5"`` to 5, ``boolean`` accepts only
true/false, ``comma_delimited_list`` needs a real list (a comma-separated
string is refused, Heat does not split it here) and ``json`` needs a map.
Without ``type`` any value passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import ProviderContext
from kiln.providers.errors import InvalidInput
from kiln.providers.protocol import AttributeRequest, CreateRequest, Progress, UpdateRequest
from kiln.resources.heat.record_only import RecordOnlyPlugin
from kiln.schema.constraints import AllowedValues
from kiln.schema.properties import WRONG_TYPE
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy, coerce_property_scalar, describe_type
from kiln.schema.values import contains_unknown

#: The parameter type names ``type`` accepts, and the property type each one means.
VALUE_TYPES = {
    "string": PropertyType.STRING,
    "number": PropertyType.NUMBER,
    "comma_delimited_list": PropertyType.LIST,
    "json": PropertyType.MAP,
    "boolean": PropertyType.BOOLEAN,
}

SCHEMA = ResourceSchema(
    "OS::Heat::Value",
    description="Holds a value so other resources and outputs can share it.",
    properties={
        "value": PropertySchema(
            PropertyType.JSON,
            "The value to expose, of any type.",
            required=True,
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "type": PropertySchema(
            PropertyType.STRING,
            "The type the value is converted to, as for a template parameter.",
            constraints=(
                AllowedValues(("string", "number", "comma_delimited_list", "json", "boolean")),
            ),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
    attributes={"value": AttributeSchema("The value, converted to the declared type.")},
)


def convert_value(properties: Mapping[str, Any]) -> tuple[Any, Diagnostic | None]:
    """The ``value`` converted to ``type``, or the problem (which never shows the value)."""
    value = properties.get("value")
    property_type = VALUE_TYPES.get(str(properties.get("type")))
    if property_type is None or value is None:
        return value, None
    converted, problem = coerce_property_scalar(property_type, value)
    if problem is None:
        return (dict(converted) if isinstance(converted, Mapping) else converted), None
    message = f"{describe_type(value)} cannot be converted to type '{properties['type']}'"
    return value, Diagnostic(WRONG_TYPE, message, TemplatePath(("value",)))


class ValueResource(RecordOnlyPlugin):
    """Exposes its ``value`` property, converted to ``type``, as the ``value`` attribute.

    Its physical id (and reference) is the physical name, as in Heat.
    """

    type_name = "OS::Heat::Value"
    schema = SCHEMA

    def validate(self, properties: Mapping[str, Any]) -> list[Diagnostic]:
        if contains_unknown(properties.get("value")) or contains_unknown(properties.get("type")):
            return []
        _, problem = convert_value(properties)
        return [] if problem is None else [problem]

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        _check(request.properties)
        return Progress(done=True, physical_id=request.physical_name)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        _check(request.new_properties)
        return Progress(done=True)

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        converted, _ = convert_value(request.properties)
        return {name: converted if name == "value" else None for name in request.names}


def _check(properties: Mapping[str, Any]) -> None:
    _, problem = convert_value(properties)
    if problem is not None:
        raise InvalidInput([problem])
