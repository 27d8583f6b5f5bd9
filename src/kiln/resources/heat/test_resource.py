"""``OS::Heat::TestResource``: a resource with knobs for testing the engine.

It stores a value and can be told to wait, fail or demand replacement; the
``test_constr`` custom constraint exists so templates can exercise a slow
constraint check, as Heat's functional tests do.
"""

from __future__ import annotations

from typing import Any

from kiln.schema.constraints import CustomConstraint
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE


def _seconds(description: str, default: float | None = 0) -> PropertySchema:
    return PropertySchema(
        PropertyType.NUMBER, description, default=default, update_policy=_IN_PLACE
    )


SCHEMA = ResourceSchema(
    "OS::Heat::TestResource",
    description="Stores a value; can wait, fail or require replacement on demand.",
    properties={
        "value": PropertySchema(
            PropertyType.STRING,
            "The string to store.",
            default="test_string",
            update_policy=_IN_PLACE,
        ),
        "update_replace": PropertySchema(
            PropertyType.BOOLEAN,
            "Set to true in an update to force replacement.",
            default=False,
            update_policy=_IN_PLACE,
        ),
        "update_replace_value": PropertySchema(
            PropertyType.STRING, "A value that can only change by replacing the resource."
        ),
        "fail": PropertySchema(
            PropertyType.BOOLEAN,
            "Set to true to make create and update fail.",
            default=False,
            update_policy=_IN_PLACE,
        ),
        "client_name": PropertySchema(
            PropertyType.STRING, "Client to poll.", default="", update_policy=_IN_PLACE
        ),
        "entity_name": PropertySchema(
            PropertyType.STRING, "Client entity to poll.", default="", update_policy=_IN_PLACE
        ),
        "wait_secs": _seconds("Seconds to wait after an action (-1 waits forever)."),
        "action_wait_secs": PropertySchema(
            PropertyType.MAP,
            "Per-action waits, overriding wait_secs.",
            update_policy=_IN_PLACE,
            properties={
                action: _seconds(f"Seconds to wait after {action}.", None)
                for action in ("create", "update", "delete")
            },
        ),
        "attr_wait_secs": _seconds("Seconds to wait before answering an attribute."),
        "constraint_prop_secs": PropertySchema(
            PropertyType.NUMBER,
            "Seconds the test_constr constraint takes to check this value.",
            default=0,
            update_policy=_IN_PLACE,
            constraints=(CustomConstraint("test_constr"),),
        ),
    },
    attributes={"output": AttributeSchema("The stored string; also the resource's reference.")},
)


def _test_constraint(value: Any) -> str | None:
    """Accepts every number: the constraint exists to be slow, not strict."""
    return None


def register_constraints(registry: SchemaRegistry) -> None:
    registry.custom_constraints.register("test_constr", _test_constraint)
