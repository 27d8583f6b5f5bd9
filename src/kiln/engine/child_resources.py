"""A nested stack's resources seen from its parent: references and attributes.

Heat lets a parent read into a provider template's stack
(``get_attr [provider, resource.NAME.ATTR]``) without the nested template
declaring an output for it. The attribute is read as ``get_attr`` inside the
child would read it: the recorded value when the child's own template reads
it, else live from the resource's plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kiln.engine.live_attributes import read_attributes
from kiln.engine.scope import live_records
from kiln.errors import KilnError
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import ResourceRecord, StackRecord
from kiln.providers.errors import ProviderError
from kiln.providers.nested import StackClient
from kiln.providers.protocol import ResourcePlugin
from kiln.providers.registry import PluginRegistry

#: Makes the stack client of one resource of a stack (for a resource that is a stack itself).
ClientFor = Callable[[StackRecord, str], StackClient]


def _plugin(plugins: PluginRegistry, record: ResourceRecord) -> ResourcePlugin | None:
    """The record's plugin; a type no plugin registers is a provider template."""
    plugin_class = plugins.get(record.type) or plugins.template_plugin(record.type)
    return plugin_class() if plugin_class is not None else None


def child_reference(
    resources: ResourceRepository, plugins: PluginRegistry, stack_id: str, resource: str
) -> str | None:
    record = live_records(resources.by_stack(stack_id)).get(resource)
    if record is None or record.physical_id is None:
        return None
    plugin = _plugin(plugins, record)
    if plugin is None:
        return record.physical_id
    return plugin.reference_id(resource, record.physical_id, record.provider_data)


async def child_attributes(
    stacks: StackRepository,
    resources: ResourceRepository,
    plugins: PluginRegistry,
    client_for: ClientFor,
    stack_id: str,
    resource: str,
    names: frozenset[str],
) -> Mapping[str, Any]:
    child = stacks.get(stack_id)
    record = live_records(resources.by_stack(stack_id)).get(resource)
    if child is None or record is None:
        return {}
    values = {name: record.attributes[name] for name in names if name in record.attributes}
    missing = frozenset(names - values.keys())
    plugin = _plugin(plugins, record)
    if not missing or plugin is None or record.physical_id is None:
        return values
    client = client_for(child, resource)
    try:
        fetched = await read_attributes(plugins, client, plugin, record, missing)
    except (ProviderError, KilnError):
        return values
    return {**values, **{name: fetched.get(name) for name in missing}}
