"""What Kiln has recorded about stacks, resources and events, as plain values.

These are the shapes the persistence layer loads and stores and the planner
reads; nothing here touches a database. Actions and statuses are Heat's, so
``CREATE_IN_PROGRESS`` and friends mean exactly what Heat users expect.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


class Action(enum.StrEnum):
    INIT = "INIT"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    ROLLBACK = "ROLLBACK"
    SUSPEND = "SUSPEND"
    RESUME = "RESUME"
    ADOPT = "ADOPT"
    #: A stack returned to one of its snapshots (an update to the snapshot's definition).
    RESTORE = "RESTORE"
    CHECK = "CHECK"
    SNAPSHOT = "SNAPSHOT"
    #: A resource received a signal (events only).
    SIGNAL = "SIGNAL"


class Status(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


class Intent(enum.StrEnum):
    """What a step was about to ask the cloud, written before the call is made.

    A retried step that finds ``CREATE_ISSUED`` without a physical id looks
    the resource up by its idempotency token before creating anything.
    """

    NONE = "NONE"
    CREATE_ISSUED = "CREATE_ISSUED"
    UPDATE_ISSUED = "UPDATE_ISSUED"
    DELETE_ISSUED = "DELETE_ISSUED"
    #: A snapshot before deletion was requested (``deletion_policy: Snapshot``).
    SNAPSHOT_ISSUED = "SNAPSHOT_ISSUED"


def new_id() -> str:
    return str(uuid.uuid4())


def idempotency_token(stack_id: str, resource_name: str, generation: int) -> str:
    """Deterministic per stack, logical resource and generation.

    A replacement bumps the generation, so the new incarnation gets a new token.
    """
    return str(uuid.uuid5(uuid.UUID(stack_id), f"{resource_name}/{generation}"))


def incarnation_token(stack_id: str, resource_name: str, record_id: str) -> str:
    """The token of the incarnation a create starts, unique to its record.

    Every attempt at one incarnation works on the same saved record and so
    reuses its token; but a resource deleted and later created again under
    the same name is a new incarnation and must not find what the old one
    left (a retained server, the old nested stack's id).
    """
    return str(uuid.uuid5(uuid.UUID(stack_id), f"{resource_name}/{record_id}"))


@dataclass(frozen=True)
class ResourceRecord:
    """One physical incarnation of a logical resource.

    During a replacement two records share a ``name``: the old one points to
    its successor through ``replaced_by`` and the new one back through
    ``replaces``; ``generation`` tells them apart.
    """

    id: str
    stack_id: str
    name: str
    type: str
    generation: int = 0
    physical_id: str | None = None
    action: Action = Action.INIT
    status: Status = Status.COMPLETE
    status_reason: str = ""
    #: Resolved property values as last applied (hidden values encrypted at rest).
    properties: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    #: Names of the resources this one depended on when last applied.
    depends_on: frozenset[str] = frozenset()
    replaces: str | None = None
    replaced_by: str | None = None
    idempotency_token: str = ""
    intent: Intent = Intent.NONE
    #: Opaque data a provider asked to keep (operation handles, poll cookies).
    provider_data: Mapping[str, Any] = field(default_factory=dict)
    #: The resource's ``update_policy`` as last applied.
    update_policy: Mapping[str, Any] = field(default_factory=dict)
    #: What ``type`` resolved to through the environment when last applied: a
    #: plugin's type or a provider template's location ("" when not known).
    implementation: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def state(self) -> str:
        return f"{self.action}_{self.status}"

    def evolve(self, **changes: Any) -> ResourceRecord:
        """A copy with ``changes``: :func:`dataclasses.replace` without its per-call
        introspection, which the engine would pay several times per step."""
        unknown = changes.keys() - _RESOURCE_FIELDS
        if unknown:
            raise TypeError(f"ResourceRecord has no field {sorted(unknown)[0]!r}")
        copied = object.__new__(ResourceRecord)
        copied.__dict__.update(self.__dict__)
        copied.__dict__.update(changes)
        return copied


_RESOURCE_FIELDS = frozenset(field.name for field in fields(ResourceRecord))


@dataclass(frozen=True)
class StackRecord:
    id: str
    name: str
    project_id: str = "default"
    action: Action = Action.INIT
    status: Status = Status.COMPLETE
    status_reason: str = ""
    #: Template text and the files map exactly as sent, so they can be validated again.
    template: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    #: Environment files as sent, in merge order: (name, text).
    environments: tuple[tuple[str, str], ...] = ()
    #: Parameter values as given by the user (hidden ones encrypted at rest).
    parameters: Mapping[str, Any] = field(default_factory=dict)
    #: The definition before the last update, which a rollback returns to ("" if none).
    previous_template: str = ""
    previous_files: Mapping[str, str] = field(default_factory=dict)
    previous_environments: tuple[tuple[str, str], ...] = ()
    previous_parameters: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    timeout_mins: int | None = None
    disable_rollback: bool = False
    #: The current update observes real state first and repairs drift (``--converge``).
    converge: bool = False
    #: The traversal (operation) the stack is in; a new one supersedes or cancels the old.
    current_traversal: str | None = None
    deadline_at: datetime | None = None
    #: For a nested stack: the parent stack, the parent's resource it stands for,
    #: how deep it is (0 at the top) and that resource's facade sections.
    parent_id: str | None = None
    parent_resource: str | None = None
    nesting_depth: int = 0
    facade: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def state(self) -> str:
        return f"{self.action}_{self.status}"


@dataclass(frozen=True)
class EventRecord:
    """Something that happened to a stack or one of its resources.

    ``sequence`` is gap-free and increases per stack, so clients can follow
    events with "everything after N".
    """

    stack_id: str
    sequence: int
    resource_name: str
    action: Action
    status: Status
    status_reason: str = ""
    physical_id: str | None = None
    resource_type: str = ""
    id: str = field(default_factory=new_id)
    created_at: datetime | None = None
