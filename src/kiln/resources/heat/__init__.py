"""``OS::Heat::*`` utility resources.

``register`` is the ``kiln.resources`` entry point: it adds each type's schema
(and the custom constraints they use) to a registry.
"""

from __future__ import annotations

from kiln.resources.heat import delay, none, random_string, test_resource, value
from kiln.schema.registry import SchemaRegistry

SCHEMAS = (
    none.SCHEMA,
    value.SCHEMA,
    random_string.SCHEMA,
    test_resource.SCHEMA,
    delay.SCHEMA,
)


def register(registry: SchemaRegistry) -> None:
    for schema in SCHEMAS:
        registry.register(schema)
    test_resource.register_constraints(registry)
