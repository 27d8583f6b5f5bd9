"""Signals sent to a resource (``stack resource signal``): checked by its plugin, then kept.

The plugin says what a signal means and in what shape it is kept (a wait
condition handle fills in the status, reason and id Heat would); the signal
is stored and an event written, and whatever waits on it (a wait condition
polling its handle) reads it from there. Signals to one resource are handled
one at a time (under the resource's lease), so that concurrent scaling
signals each see the size the one before left.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from kiln.config import TemplateLimits
from kiln.engine.nested import NestedStackClient
from kiln.engine.resource_steps import state_event
from kiln.engine.software_config import software_config_clients
from kiln.errors import KilnError
from kiln.persistence.events import EventRepository
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.signals import SignalRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import STACKS_CLIENT
from kiln.providers.protocol import SignalRequest
from kiln.providers.registry import PluginRegistry
from kiln.providers.software_config import SOFTWARE_CONFIG_CLIENT
from kiln.schema.properties import validate_properties

#: How long a signal waits for another one to the same resource to be handled.
QUEUE_SECONDS = 30.0
#: The lease a signal handler holds on the resource meanwhile.
LEASE_SECONDS = 60.0


class SignalRefused(KilnError):
    """The resource does not take signals, or not this one, or not now."""


class SignalDelivery:
    """Delivers signals to the resources of stacks, and lets plugins signal each other."""

    def __init__(
        self,
        stacks: StackRepository,
        resources: ResourceRepository,
        events: EventRepository,
        plugins: PluginRegistry,
        limits: TemplateLimits | None = None,
        launch: Callable[[str], None] = lambda stack_id: None,
        clients: Mapping[str, Any] | None = None,
    ) -> None:
        self.clients: Mapping[str, Any] = dict(clients or {})
        self.stacks = stacks
        self.resources = resources
        self.events = events
        self.plugins = plugins
        self.limits = limits
        #: Runs a nested stack's operation a signal started (a group resizing).
        self.launch = launch
        self.signals = SignalRepository(stacks.database)

    async def deliver(
        self, stack: StackRecord, record: ResourceRecord, details: Any
    ) -> Mapping[str, Any]:
        """Give ``details`` to the resource's plugin and keep what it makes of them."""
        plugin_class = self.plugins.get(record.type)
        if plugin_class is None:
            raise SignalRefused(f"Resource {record.name} of type {record.type} takes no signals.")
        if record.physical_id is None or record.action.value in plugin_class.no_signal_actions:
            raise SignalRefused(
                f"Signal resource during {record.state} is not supported (resource {record.name})."
            )
        fence = await self._claim(record)
        try:
            current = self.resources.get(record.id) or record
            return await self._handle(stack, current, plugin_class(), details, fence)
        finally:
            self.resources.unclaim(record.id, fence)

    async def _handle(
        self,
        stack: StackRecord,
        record: ResourceRecord,
        plugin: Any,
        details: Any,
        fence: int,
    ) -> Mapping[str, Any]:
        properties, _ = validate_properties(
            plugin.schema, dict(record.properties), self.plugins.schemas()
        )
        client = NestedStackClient(
            stack,
            record.name,
            self.stacks,
            self.resources,
            self.plugins,
            self.limits,
            launch=self.launch,
            signal=self._signal_from_plugin(stack),
        )
        configs = software_config_clients(self.stacks.database, stack)(record.name)
        clients = {**self.clients, STACKS_CLIENT: client, SOFTWARE_CONFIG_CLIENT: configs}
        context = ProviderContext.create(record.type, record.name, clients=clients)
        request = SignalRequest(
            name=record.name,
            physical_id=record.physical_id,
            properties=properties,
            details=details,
            provider_data=record.provider_data,
        )
        try:
            result = await plugin.signal(context, request)
        except ProviderError as error:
            raise SignalRefused(f"Signal to {record.name} refused: {error}") from error
        if result.provider_data is not None:
            self.resources.set_provider_data(
                record.id, fence, result.provider_data, plugin.secret_data_keys
            )
        kept = dict(result.kept)
        self.signals.add(stack.id, record.name, kept)
        reason = "Signal: " + ", ".join(f"{key}:{value}" for key, value in sorted(kept.items()))
        self.events.append(stack.id, state_event(record, Action.SIGNAL, Status.COMPLETE, reason))
        return kept

    def _signal_from_plugin(self, stack: StackRecord) -> Callable[[ResourceRecord, Any], Any]:
        """What a plugin's ``signal`` call on another resource of the stack runs."""

        async def forward(target: ResourceRecord, details: Any) -> Mapping[str, Any]:
            return await self.deliver(stack, target, details)

        return forward

    async def _claim(self, record: ResourceRecord) -> int:
        owner = f"signal-{uuid.uuid4()}"
        waited = 0.0
        while True:
            fence = self.resources.claim(record.id, owner, LEASE_SECONDS, datetime.now(UTC))
            if fence is not None:
                return fence
            if waited >= QUEUE_SECONDS:
                raise SignalRefused(f"Resource {record.name} is busy with another signal.")
            await asyncio.sleep(0.05)
            waited += 0.05
