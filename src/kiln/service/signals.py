"""Signals sent to a resource (``stack resource signal``): checked by its plugin, then kept.

The plugin says what a signal means and in what shape it is kept (a wait
condition handle fills in the status, reason and id Heat would); the signal
is stored and an event written, and whatever waits on it (a wait condition
polling its handle) reads it from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.config import TemplateLimits
from kiln.engine.nested import NestedStackClient
from kiln.errors import KilnError
from kiln.persistence.events import EventDraft, EventRepository
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.signals import SignalRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import STACKS_CLIENT
from kiln.providers.protocol import SignalRequest
from kiln.providers.registry import PluginRegistry
from kiln.schema.properties import validate_properties


class SignalRefused(KilnError):
    """The resource does not take signals, or not this one."""


async def deliver_signal(
    stack: StackRecord,
    record: ResourceRecord,
    details: Any,
    *,
    stacks: StackRepository,
    resources: ResourceRepository,
    events: EventRepository,
    plugins: PluginRegistry,
    limits: TemplateLimits | None = None,
) -> Mapping[str, Any]:
    """Give ``details`` to the resource's plugin and keep what it makes of them."""
    plugin_class = plugins.get(record.type)
    if plugin_class is None:
        raise SignalRefused(f"Resource {record.name} of type {record.type} takes no signals.")
    if record.physical_id is None or record.action is Action.DELETE:
        raise SignalRefused(
            f"Signal resource during {record.state} is not supported (resource {record.name})."
        )
    plugin = plugin_class()
    properties, _ = validate_properties(plugin.schema, dict(record.properties), plugins.schemas())
    client = NestedStackClient(
        stack, record.name, stacks, resources, plugins, limits, launch=lambda stack_id: None
    )
    context = ProviderContext.create(record.type, record.name, clients={STACKS_CLIENT: client})
    request = SignalRequest(
        name=record.name,
        physical_id=record.physical_id,
        properties=properties,
        details=details,
        provider_data=record.provider_data,
    )
    try:
        kept = await plugin.signal(context, request)
    except ProviderError as error:
        raise SignalRefused(f"Signal to {record.name} refused: {error}") from error
    kept = dict(kept or {})
    SignalRepository(stacks.database).add(stack.id, record.name, kept)
    reason = "Signal: " + ", ".join(f"{key}:{value}" for key, value in sorted(kept.items()))
    events.append(
        stack.id,
        EventDraft(
            resource_name=record.name,
            action=Action.SIGNAL,
            status=Status.COMPLETE,
            status_reason=reason,
            physical_id=record.physical_id,
            resource_type=record.type,
        ),
    )
    return kept
