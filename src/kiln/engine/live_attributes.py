"""Reading a recorded resource's attributes from its plugin.

The engine asks after a create or update; a parent asks for its nested
stack's resources (``get_attr [provider, resource.NAME.ATTR]``) and reads its
own copy of a child's attributes again when the child changes on its own.
Each asks the same way: the recorded properties, validated against the
plugin's schema, and the record's identity and provider data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.plan.state import ResourceRecord
from kiln.providers.context import ProviderContext
from kiln.providers.nested import STACKS_CLIENT, StackClient
from kiln.providers.protocol import AttributeRequest, ResourcePlugin
from kiln.providers.registry import PluginRegistry
from kiln.schema.properties import validate_properties


def attribute_request(
    record: ResourceRecord, properties: Mapping[str, Any], names: frozenset[str]
) -> AttributeRequest:
    return AttributeRequest(
        name=record.name,
        physical_id=record.physical_id,
        properties=properties,
        names=names,
        provider_data=record.provider_data,
    )


async def read_attributes(
    plugins: PluginRegistry,
    client: StackClient,
    plugin: ResourcePlugin,
    record: ResourceRecord,
    names: frozenset[str],
) -> Mapping[str, Any]:
    """The plugin's answer for ``names``, its stack client ``client``; its errors pass on."""
    properties, _ = validate_properties(plugin.schema, dict(record.properties), plugins.schemas())
    context = ProviderContext.create(record.type, record.name, clients={STACKS_CLIENT: client})
    return await plugin.attributes(context, attribute_request(record, properties, names))
