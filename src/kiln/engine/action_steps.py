"""Stack actions that change no definition: suspend, resume, check, snapshot.

Each live resource goes ACTION_IN_PROGRESS, asks its plugin, and ends
ACTION_COMPLETE or ACTION_FAILED, as Heat records them. Suspend runs
dependents first (a server before the network it uses); resume, check and
snapshot run dependencies first. A snapshot asks the plugins of types that
take snapshots for one each, with a token per stack snapshot, so a retried
operation finds the snapshots it already started.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kiln.engine.context import OperationContext
from kiln.engine.resource_steps import (
    StepFailed,
    fail_step,
    provider_context,
    recorded_plugin,
    state_event,
    take_snapshot,
    until_done,
)
from kiln.plan.state import Action, ResourceRecord, Status
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError, ResourceFailed
from kiln.providers.protocol import ActionRequest, ReadRequest, ResourcePlugin
from kiln.schema.properties import validate_properties

#: The stack actions that walk the recorded resources instead of a plan.
RECORD_ACTIONS = frozenset({Action.SUSPEND, Action.RESUME, Action.CHECK, Action.SNAPSHOT})


def action_order(live: Mapping[str, ResourceRecord], action: Action) -> dict[str, frozenset[str]]:
    """What each resource waits for: its dependencies, or its dependents for a suspend."""
    requires = {name: frozenset(d for d in r.depends_on if d in live) for name, r in live.items()}
    if action is not Action.SUSPEND:
        return requires
    dependents: dict[str, set[str]] = {name: set() for name in live}
    for name, required in requires.items():
        for dependency in required:
            dependents[dependency].add(name)
    return {name: frozenset(names) for name, names in dependents.items()}


async def act(context: OperationContext, name: str, action: Action) -> None:
    """One resource through ``action``: recorded, asked, recorded again."""
    record = context.store.live(context.stack.id)[name]
    plugin = recorded_plugin(context, record)
    record = record.evolve(action=action, status=Status.IN_PROGRESS, status_reason="state changed")
    await context.store.save(
        record, state_event(record, action, Status.IN_PROGRESS, "state changed")
    )
    if plugin is not None:
        properties, _ = validate_properties(
            plugin.schema, dict(record.properties), context.plugins.schemas()
        )
        provider = provider_context(context, record)
        try:
            if action is Action.CHECK:
                await _check(context, plugin, provider, record, properties)
            elif action is Action.SNAPSHOT:
                await _snapshot(context, plugin, record, properties)
            else:
                request = ActionRequest(
                    name=record.name,
                    physical_id=record.physical_id,
                    properties=properties,
                    provider_data=record.provider_data,
                )
                calls = {Action.SUSPEND: plugin.suspend, Action.RESUME: plugin.resume}
                progress = await calls[action](provider, request)
                record = await until_done(
                    context, plugin, record, progress, f"check_{action.lower()}", properties
                )
        except ProviderError as error:
            await fail_step(context, record, action, error)
    done = record.evolve(status=Status.COMPLETE, status_reason="state changed")
    await context.store.save(done, state_event(done, action, Status.COMPLETE, "state changed"))


async def _snapshot(
    context: OperationContext,
    plugin: ResourcePlugin,
    record: ResourceRecord,
    properties: Mapping[str, Any],
) -> None:
    if not plugin.schema.supports_snapshot or context.snapshot_id is None:
        return
    token = str(uuid.uuid5(uuid.UUID(context.snapshot_id), record.idempotency_token))
    taken = await take_snapshot(context, plugin, record, properties, token)
    if taken is not None:
        context.resource_snapshots[record.name] = taken


async def _check(
    context: OperationContext,
    plugin: ResourcePlugin,
    provider: ProviderContext,
    record: ResourceRecord,
    properties: Mapping[str, Any],
) -> None:
    """Read the resource; a plugin with a ``check`` of its own (a nested stack, which
    checks every resource of its child, as Heat does) is asked that instead."""
    if record.physical_id is None:
        raise ResourceFailed("the resource was never created")
    own_check = getattr(plugin, "check", None)
    if own_check is not None:
        request = ActionRequest(
            name=record.name,
            physical_id=record.physical_id,
            properties=properties,
            provider_data=record.provider_data,
        )
        progress = await own_check(provider, request)
        await until_done(context, plugin, record, progress, "check_check", properties)
        return
    actual = await plugin.read(
        provider,
        ReadRequest(
            name=record.name,
            physical_id=record.physical_id,
            properties=properties,
            provider_data=record.provider_data,
        ),
    )
    if actual is None:
        raise ResourceFailed(f"{record.physical_id} does not exist any more")


__all__ = ["RECORD_ACTIONS", "StepFailed", "act", "action_order"]
