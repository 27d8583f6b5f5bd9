"""Helpers shared by the OS::Heat plugin tests: a fake clock and requests with defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.errors import Severity
from kiln.providers.context import FakeClock, ProviderContext
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    ResourcePlugin,
    UpdateRequest,
)
from kiln.providers.registry import PluginRegistry
from kiln.resources import heat
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry

TOKEN = "2f9c1f6e-8d1b-5c1e-9a6e-3b5d0c7e1a42"


def heat_schemas() -> SchemaRegistry:
    registry = PluginRegistry()
    heat.register(registry)
    return registry.schemas()


SCHEMAS = heat_schemas()


def resolved(plugin: ResourcePlugin, properties: Mapping[str, Any]) -> dict[str, Any]:
    """Properties as the engine passes them: converted, defaults applied, and valid."""
    converted, diagnostics = validate_properties(plugin.schema, properties, SCHEMAS, live=True)
    assert [d for d in diagnostics if d.severity is Severity.ERROR] == []
    return converted


def context(clock: FakeClock, clients: Mapping[str, Any] | None = None) -> ProviderContext:
    return ProviderContext.create("OS::Heat::Test", "res", clock=clock, clients=clients)


def create_request(
    plugin: ResourcePlugin, properties: Mapping[str, Any], name: str = "res"
) -> CreateRequest:
    return CreateRequest(
        name=name,
        properties=resolved(plugin, properties),
        idempotency_token=TOKEN,
        physical_name=f"stack-{name}-abcdefghijkl",
    )


def check_request(
    plugin: ResourcePlugin,
    properties: Mapping[str, Any],
    provider_data: Mapping[str, Any],
    physical_id: str | None = "stack-res-abcdefghijkl",
    name: str = "res",
) -> CheckRequest:
    return CheckRequest(
        name=name,
        physical_id=physical_id,
        properties=resolved(plugin, properties),
        provider_data=provider_data,
    )


def update_request(
    plugin: ResourcePlugin,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    provider_data: Mapping[str, Any],
    name: str = "res",
) -> UpdateRequest:
    old_properties, new_properties = resolved(plugin, old), resolved(plugin, new)
    keys = {*old_properties, *new_properties}
    changed = frozenset(k for k in keys if old_properties.get(k) != new_properties.get(k))
    return UpdateRequest(
        name=name,
        physical_id="stack-res-abcdefghijkl",
        old_properties=old_properties,
        new_properties=new_properties,
        changed=changed,
        provider_data=provider_data,
    )


def delete_request(
    plugin: ResourcePlugin,
    properties: Mapping[str, Any],
    provider_data: Mapping[str, Any],
    physical_id: str | None = "stack-res-abcdefghijkl",
) -> DeleteRequest:
    return DeleteRequest(
        name="res",
        physical_id=physical_id,
        properties=resolved(plugin, properties),
        provider_data=provider_data,
    )


def attribute_request(
    plugin: ResourcePlugin,
    properties: Mapping[str, Any],
    provider_data: Mapping[str, Any],
    names: frozenset[str],
    physical_id: str | None = "stack-res-abcdefghijkl",
) -> AttributeRequest:
    return AttributeRequest(
        name="res",
        physical_id=physical_id,
        properties=resolved(plugin, properties),
        names=names,
        provider_data=provider_data,
    )
