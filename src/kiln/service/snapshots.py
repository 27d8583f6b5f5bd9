"""Heat's stack snapshots: take, list, show, delete, and restore a stack to one.

A snapshot keeps the stack's data as export gives it (Heat's shape, secrets
sealed) with each snapshot-capable resource's backend snapshot id, plus the
definition as it was sent (template text, files, environment files and
parameters), which a restore returns the stack to. Taking one is a SNAPSHOT
operation the engine runs like any other (leased, resumable); restoring is
an update to the kept definition, recorded as RESTORE.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from kiln.engine.validation import validate_stack
from kiln.errors import KilnError, NotFoundError
from kiln.persistence.snapshots import SnapshotRecord, SnapshotRepository
from kiln.plan.state import Action, StackRecord, Status
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound, NotSupported, ProviderError
from kiln.providers.protocol import SnapshotDeleteRequest
from kiln.service.stacks import OperationInProgress, StackDefinition, StackService
from kiln.service.transfer import StackTransfer
from kiln.template.parameters import hidden_parameter_names

#: The key of the kept definition in a snapshot's data (not part of what is shown).
DEFINITION = "definition"


class SnapshotNotFound(NotFoundError):
    def __init__(self, snapshot: str) -> None:
        super().__init__(f"The Snapshot ({snapshot}) could not be found.")


class StackSnapshots:
    """Snapshots of one project's stacks."""

    def __init__(self, service: StackService) -> None:
        self.service = service
        self.snapshots = SnapshotRepository(service.database)

    def create(self, name_or_id: str, name: str = "") -> tuple[StackRecord, SnapshotRecord]:
        """Start a SNAPSHOT operation; the stack in progress and the snapshot being taken."""
        stack = self.service.get(name_or_id)
        if stack.status is Status.IN_PROGRESS:
            raise OperationInProgress(stack)
        result = validate_stack(stack, self.service.plugins, self.service.limits)
        hidden = hidden_parameter_names(result.declarations)
        data: dict[str, Any] = dict(StackTransfer(self.service).export(stack.id))
        data[DEFINITION] = {
            "template": stack.template,
            "files": dict(stack.files),
            "environments": [list(pair) for pair in stack.environments],
            "parameters": self.service.stacks.secrets.seal(stack.parameters, hidden),
        }
        snapshot = self.snapshots.add(stack.id, name, data)
        try:
            self.service._begin(stack, Action.SNAPSHOT, expected=stack.current_traversal)
        except OperationInProgress:
            self.snapshots.delete(snapshot.id)
            raise
        return self.service.get(stack.id), snapshot

    def list(self, name_or_id: str) -> list[SnapshotRecord]:
        return self.snapshots.list(self.service.get(name_or_id).id)

    def get(self, name_or_id: str, snapshot: str) -> SnapshotRecord:
        """A snapshot of the stack by id, or by name when the name is unique."""
        stack = self.service.get(name_or_id)
        found = self.snapshots.get(stack.id, snapshot)
        if found is None:
            named = [s for s in self.snapshots.list(stack.id) if s.name == snapshot]
            if len(named) != 1:
                raise SnapshotNotFound(snapshot)
            found = named[0]
        return found

    async def delete(self, name_or_id: str, snapshot: str) -> builtins.list[str]:
        """Delete the snapshot and the backend snapshots it kept; what could not be removed.

        A backend snapshot whose type cannot delete snapshots is left (and
        named in the result); any other failure keeps the whole snapshot,
        marked FAILED with the reason, so the delete can be tried again.
        """
        found = self.get(name_or_id, snapshot)
        if found.status is Status.IN_PROGRESS:
            raise KilnError(f"Snapshot {found.id} is still being taken.")
        live = {r.name: r for r in self.service.resource_records(self.service.get(name_or_id))}
        left: builtins.list[str] = []
        for name, entry in found.data.get("resources", {}).items():
            taken = entry.get("snapshot_id") if isinstance(entry, Mapping) else None
            if not isinstance(taken, str):
                continue
            type_name = str(entry.get("type", ""))
            plugin_class = self.service.plugins.get(type_name)
            record = live.get(name)
            request = SnapshotDeleteRequest(
                name=name,
                snapshot_id=taken,
                properties=dict(record.properties) if record is not None else {},
            )
            try:
                if plugin_class is None:
                    raise NotSupported(f"{type_name} has no plugin here")
                await plugin_class().delete_snapshot(
                    ProviderContext.create(type_name, name, clients=self.service.clients), request
                )
            except NotFound:
                continue
            except NotSupported as error:
                left.append(f"{name}: snapshot {taken} is kept ({error})")
            except ProviderError as error:
                reason = f"deleting {name}'s snapshot {taken} failed: {error}"
                self.snapshots.finish(found.id, Status.FAILED, reason, found.data)
                raise KilnError(f"Snapshot {found.id} could not be deleted: {reason}") from error
        self.snapshots.delete(found.id)
        return left

    def restore(self, name_or_id: str, snapshot: str) -> StackRecord:
        """Return the stack to the snapshot's definition: a RESTORE update.

        Resources the snapshot had are updated back (or made again when gone);
        resources added since are deleted.
        """
        found = self.get(name_or_id, snapshot)
        if found.status is not Status.COMPLETE:
            raise KilnError(
                f"Snapshot {found.id} is {found.state}: only a complete snapshot can be restored."
            )
        kept = found.data.get(DEFINITION)
        if not isinstance(kept, Mapping):
            raise KilnError(f"Snapshot {found.id} has no definition to restore.")
        definition = StackDefinition(
            template=str(kept["template"]),
            files=dict(kept.get("files") or {}),
            environments=tuple((str(n), str(t)) for n, t in kept.get("environments") or ()),
            parameters=self.service.stacks.secrets.open(kept.get("parameters") or {}),
        )
        restoring = self.service.update(found.stack_id, definition, action=Action.RESTORE)
        # Read by the engine once the update is done, to put contents back.
        self.snapshots.mark_restoring(found.id, restoring.current_traversal or "")
        return restoring


def shown(snapshot: SnapshotRecord) -> dict[str, Any]:
    """The snapshot as Heat's ``snapshot show`` gives it (without the kept definition)."""
    return {
        "id": snapshot.id,
        "name": snapshot.name or None,
        "status": snapshot.status.value,
        "status_reason": snapshot.status_reason,
        "creation_time": snapshot.created_at.isoformat() if snapshot.created_at else None,
        "data": {key: value for key, value in snapshot.data.items() if key != DEFINITION},
    }
