"""Finding installed providers through the ``kiln.resources`` entry-point group.

Each entry point names a ``register(registry)`` callable; that is the only
discovery mechanism (tests call ``register`` directly on their own registry).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from kiln.schema.registry import SchemaRegistry

ENTRY_POINT_GROUP = "kiln.resources"

Registrar = Callable[[SchemaRegistry], None]


def load_schema_registry(group: str = ENTRY_POINT_GROUP) -> SchemaRegistry:
    """A registry filled by every installed provider, in entry-point name order."""
    registry = SchemaRegistry()
    for entry_point in sorted(entry_points(group=group), key=lambda e: e.name):
        register: Registrar = entry_point.load()
        register(registry)
    return registry
