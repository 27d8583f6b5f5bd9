"""``OS::Heat::None``: stands in for any resource and does nothing.

Heat uses it to stub out a type through the resource registry, so it accepts
any properties and answers any attribute (with null).
"""

from __future__ import annotations

from kiln.schema.resource_schema import ResourceSchema

SCHEMA = ResourceSchema(
    "OS::Heat::None",
    description="Does nothing; accepts any properties and returns null for any attribute.",
    accepts_any_properties=True,
    dynamic_attributes=True,
)
