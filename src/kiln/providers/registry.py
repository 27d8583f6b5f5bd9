"""Finding installed providers through the ``kiln.resources`` entry-point group.

Each entry point names a ``register(registry)`` callable that adds its plugin
classes (and any custom constraints) to a :class:`PluginRegistry`; that is the
only discovery mechanism, and tests call ``register`` directly on a registry
of their own. The template layer only needs the schemas, which the plugin
registry collects as plugins are registered.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from kiln.providers.protocol import ResourcePlugin
from kiln.schema.constraints import CustomConstraintRegistry
from kiln.schema.registry import DuplicateSchemaError, SchemaRegistry

__all__ = [
    "ENTRY_POINT_GROUP",
    "DuplicatePluginError",
    "PluginRegistry",
    "Registrar",
    "load_plugin_registry",
    "load_schema_registry",
]

ENTRY_POINT_GROUP = "kiln.resources"


class DuplicatePluginError(DuplicateSchemaError):
    """Two plugins claimed the same resource type name."""


class PluginRegistry:
    """Plugin classes by type name, and the schema registry they make up.

    No global instance exists: the service builds one at start-up with
    :func:`load_plugin_registry`, tests build exactly the one they need.
    """

    def __init__(self) -> None:
        self._plugins: dict[str, type[ResourcePlugin]] = {}
        self._schemas = SchemaRegistry()
        self._template_plugin: TemplatePluginFactory | None = None

    def register(self, plugin_class: type[ResourcePlugin]) -> None:
        type_name = plugin_class.type_name
        if type_name in self._plugins:
            existing = self._plugins[type_name].__qualname__
            raise DuplicatePluginError(
                f"resource type '{type_name}' is already registered by {existing}"
            )
        self._schemas.register(plugin_class.schema)
        self._plugins[type_name] = plugin_class

    def get(self, type_name: str) -> type[ResourcePlugin] | None:
        return self._plugins.get(type_name)

    def register_template_plugin(self, factory: TemplatePluginFactory) -> None:
        """What runs a resource whose type is a provider template (given its location)."""
        self._template_plugin = factory

    def template_plugin(self, location: str) -> type[ResourcePlugin] | None:
        """The plugin for a provider template, or None when no provider handles them."""
        if self._template_plugin is None:
            return None
        return self._template_plugin(location)

    def type_names(self) -> list[str]:
        return sorted(self._plugins)

    def schemas(self) -> SchemaRegistry:
        """Every registered plugin's schema, plus the custom constraints providers added."""
        return self._schemas

    @property
    def custom_constraints(self) -> CustomConstraintRegistry:
        return self._schemas.custom_constraints

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._plugins

    def __len__(self) -> int:
        return len(self._plugins)


Registrar = Callable[[PluginRegistry], None]
#: Makes the plugin class for one provider template location.
TemplatePluginFactory = Callable[[str], type[ResourcePlugin]]


def load_plugin_registry(group: str = ENTRY_POINT_GROUP) -> PluginRegistry:
    """A registry filled by every installed provider, in entry-point name order."""
    registry = PluginRegistry()
    for entry_point in sorted(entry_points(group=group), key=lambda e: e.name):
        register: Registrar = entry_point.load()
        register(registry)
    return registry


def load_schema_registry(group: str = ENTRY_POINT_GROUP) -> SchemaRegistry:
    """The schemas of every installed provider: all the template layer needs."""
    return load_plugin_registry(group).schemas()
