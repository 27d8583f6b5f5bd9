"""What every step of one operation shares, and the store it records state in.

The store is a narrow protocol so that the step logic reads as the state
machine it is; :mod:`kiln.engine.store` implements it over the repositories.
Every ``save`` is one committed transaction, optionally with an event, so a
crash between two saves loses nothing that was already reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiln.persistence.events import EventDraft
from kiln.plan.state import ResourceRecord, StackRecord
from kiln.providers.context import Cancellation, Clock, SystemClock
from kiln.providers.nested import StackClient
from kiln.providers.registry import PluginRegistry
from kiln.providers.software_config import SoftwareConfigClient
from kiln.template.validate import ValidationResult


class ResourceStore(Protocol):
    def all(self, stack_id: str) -> list[ResourceRecord]:
        """Every recorded incarnation of the stack's resources."""

    def incarnations(self, stack_id: str, name: str) -> list[ResourceRecord]:
        """Every recorded incarnation of one resource."""

    def live(self, stack_id: str) -> Mapping[str, ResourceRecord]:
        """The current incarnation of each resource, by name."""

    def load(self, stack_id: str) -> None:
        """Read the stack's records afresh (the start of an operation round)."""

    def get(self, record_id: str) -> ResourceRecord:
        """One record; raises if it is gone."""

    async def add(
        self,
        record: ResourceRecord,
        event: EventDraft | None = None,
        hidden: Collection[str] = (),
    ) -> None:
        """Insert a new incarnation (and its event) in one transaction.

        ``hidden`` names properties stored encrypted (they carry secrets).
        """

    async def save(
        self,
        record: ResourceRecord,
        event: EventDraft | None = None,
        hidden: Collection[str] = (),
    ) -> None:
        """Write the whole record (and its event) in one transaction.

        Properties once stored encrypted stay so; ``hidden`` adds more.
        """

    def observed(self, record: ResourceRecord) -> None:
        """Plan on ``record`` as observed in reality (kept in memory, not written)."""

    async def remove(self, record_id: str, event: EventDraft | None = None) -> None:
        """Forget a record that no longer exists in the cloud (or is retained)."""


class HookState(Protocol):
    def cleared(self, resource: str, hook: str) -> bool:
        """Whether ``hook`` was cleared for ``resource`` during this operation."""

    def pause(self, event: EventDraft) -> None:
        """Record that a resource waits for a hook."""


@dataclass
class OperationContext:
    """One running operation (create, update, delete, rollback) of one stack."""

    stack: StackRecord
    traversal: str
    result: ValidationResult
    store: ResourceStore
    plugins: PluginRegistry
    cancellation: Cancellation
    clock: Clock = field(default_factory=SystemClock)
    #: ``clock.monotonic()`` time after which the operation has timed out.
    deadline: float | None = None
    #: Attribute names each resource must report, because something refers to them.
    attributes_needed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Resource -> the resources it depends on, from the template (computed once).
    dependencies: Mapping[str, set[str]] = field(default_factory=dict)
    #: The shortest wait between two polls of the same resource.
    minimum_poll_interval: float = 0.0
    started: float = field(default_factory=time.monotonic)
    #: A step decided something the plan did not foresee (an update that must
    #: replace): the operation plans again after the walk instead of finishing.
    diverged: bool = False
    #: Resources a step of this walk created, updated, replaced or restored: an
    #: unchanged resource that depends on one resolves its properties again.
    changed: set[str] = field(default_factory=set)
    #: Resource -> the plugin type its declared type maps to (the template is fixed).
    resolved_types: dict[str, str] = field(default_factory=dict)
    #: Resolved types that are provider template locations (run as nested stacks).
    provider_templates: set[str] = field(default_factory=set)
    #: The nested-stack client for a resource's plugins (``ctx.clients["stacks"]``).
    stack_client: Callable[[str], StackClient] | None = None
    #: The software config client for a resource's plugins (``ctx.clients["software_config"]``).
    software_configs: Callable[[str], SoftwareConfigClient] | None = None
    #: Where hook clearings are looked up (None: hooks are not honoured).
    hooks: HookState | None = None
    #: In a SNAPSHOT operation: the stack snapshot being taken, and what each
    #: resource's backend snapshot is (filled in as the resources are done).
    snapshot_id: str | None = None
    resource_snapshots: dict[str, str] = field(default_factory=dict)
    #: The configured cloud clients (``ctx.clients["local"]``...), given to every plugin.
    clients: Mapping[str, Any] = field(default_factory=dict)

    def timed_out(self) -> bool:
        return self.deadline is not None and self.clock.monotonic() >= self.deadline

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(self.deadline - self.clock.monotonic(), 0.0)
