"""The end of a stack restore: each resource that kept a snapshot gets its contents back.

Restoring first updates the stack to the snapshot's definition (resources
deleted since are made again, ones added since are deleted); then every
resource whose plugin took a snapshot of it is asked to put that snapshot's
contents back in place, as Heat restores a volume from its backup. Each one
is recorded as an update, with the snapshot named in its events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.engine.context import OperationContext
from kiln.engine.resource_steps import (
    fail_step,
    provider_context,
    recorded_plugin,
    state_event,
    until_done,
)
from kiln.plan.state import Action, Status
from kiln.providers.errors import NotSupported, ProviderError
from kiln.providers.protocol import RestoreRequest
from kiln.schema.properties import validate_properties


def restorable(context: OperationContext, kept: Mapping[str, Any]) -> dict[str, str]:
    """Resource name -> the backend snapshot to restore it from, for live resources."""
    live = context.store.live(context.stack.id)
    found: dict[str, str] = {}
    for name, entry in kept.items():
        record = live.get(name)
        snapshot_id = entry.get("snapshot_id") if isinstance(entry, Mapping) else None
        if record is None or record.physical_id is None or not isinstance(snapshot_id, str):
            continue
        plugin = recorded_plugin(context, record)
        if plugin is not None and plugin.schema.supports_snapshot:
            found[name] = snapshot_id
    return found


async def restore_contents(context: OperationContext, name: str, snapshot_id: str) -> None:
    """Put the snapshot's contents back into the live resource ``name``."""
    record = context.store.live(context.stack.id)[name]
    plugin = recorded_plugin(context, record)
    physical_id = record.physical_id
    if plugin is None or physical_id is None:
        return
    reason = f"restoring from snapshot {snapshot_id}"
    record = record.evolve(action=Action.UPDATE, status=Status.IN_PROGRESS, status_reason=reason)
    await context.store.save(record, state_event(record, Action.UPDATE, Status.IN_PROGRESS, reason))
    properties, _ = validate_properties(
        plugin.schema, dict(record.properties), context.plugins.schemas()
    )
    done_reason = f"restored from snapshot {snapshot_id}"
    try:
        progress = await plugin.restore(
            provider_context(context, record),
            RestoreRequest(
                name=name,
                physical_id=physical_id,
                properties=properties,
                snapshot_id=snapshot_id,
                provider_data=record.provider_data,
            ),
        )
        record = await until_done(context, plugin, record, progress, "check_restore", properties)
    except NotSupported as error:
        done_reason = f"contents left as they are: {error}"
    except ProviderError as error:
        await fail_step(context, record, Action.UPDATE, error)
    done = record.evolve(status=Status.COMPLETE, status_reason=done_reason)
    await context.store.save(done, state_event(done, Action.UPDATE, Status.COMPLETE, done_reason))
