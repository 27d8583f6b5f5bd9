"""``OS::Heat::Value``: a value computed in the template, exposed as an attribute."""

from __future__ import annotations

from kiln.schema.constraints import AllowedValues
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

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
