"""Finding installed providers through the ``kiln.resources`` entry-point group.

Each entry point names a ``register(registry)`` callable that adds its plugin
classes (and any custom constraints) to a :class:`PluginRegistry`; that is the
only discovery mechanism, and tests call ``register`` directly on a registry
of their own. The template layer only needs the schemas, which the plugin
registry collects as plugins are registered; a plugin's own ``validate`` goes
with its schema (as ``ResourceSchema.validator``), so templates are checked by
it without the template layer importing plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib.metadata import entry_points
from typing import Any

from kiln.errors import Diagnostic
from kiln.providers.protocol import ResourcePlugin
from kiln.schema.constraints import CustomConstraintRegistry
from kiln.schema.registry import DuplicateSchemaError, SchemaRegistry
from kiln.schema.resource_schema import ResourceSchema

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
        self._schemas.register(template_schema(plugin_class))
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


def template_schema(plugin_class: type[ResourcePlugin]) -> ResourceSchema:
    """The plugin's schema, carrying its ``validate`` when it has checks of its own."""
    if plugin_class.validate is ResourcePlugin.validate:
        return plugin_class.schema

    def validator(properties: Mapping[str, Any]) -> list[Diagnostic]:
        # A new instance per call, as the engine makes them: plugins are stateless.
        return plugin_class().validate(properties)

    return replace(plugin_class.schema, validator=validator)


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
