"""``OS::Heat::Delay``: waits a fixed plus random time during chosen actions."""

from __future__ import annotations

from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_ACTIONS = ("CREATE", "DELETE", "SUSPEND", "RESUME", "UPDATE")

SCHEMA = ResourceSchema(
    "OS::Heat::Delay",
    description="Pauses the stack operation when the resource is created, updated or deleted.",
    properties={
        "min_wait_secs": PropertySchema(
            PropertyType.NUMBER,
            "Minimum time in seconds to wait.",
            default=0,
            constraints=(Range(0, None),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "max_jitter": PropertySchema(
            PropertyType.NUMBER,
            "Maximum extra random wait, in units of jitter_multiplier seconds.",
            default=0,
            constraints=(Range(0, None),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "jitter_multiplier": PropertySchema(
            PropertyType.NUMBER,
            "Seconds per unit of max_jitter.",
            default=1.0,
            constraints=(Range(0, None),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "actions": PropertySchema(
            PropertyType.LIST,
            "Actions during which to wait.",
            default=["CREATE"],
            item=PropertySchema(PropertyType.STRING, constraints=(AllowedValues(_ACTIONS),)),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
)
