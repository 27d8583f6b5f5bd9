"""The client a plugin uses to run a stack inside a stack (``ctx.clients["stacks"]``).

Nested stacks, provider templates and groups are resources whose backend is
Kiln itself. A plugin never sees the database, so the engine hands those
plugins this client, as it would hand a cloud client to a server plugin: the
plugin asks for a child stack, polls its state and reads its outputs, and the
child runs as a stack of its own (with its own events, leases and recovery).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from kiln.providers.context import ProviderContext
    from kiln.providers.protocol import CreateRequest, UpdateRequest

__all__ = [
    "NESTED_STACK_MARK",
    "STACKS_CLIENT",
    "ChildStack",
    "ChildStackPlugin",
    "ChildState",
    "StackClient",
    "ValidatedChildPlugin",
]

#: The key of the stack client in ``ProviderContext.clients``.
STACKS_CLIENT = "stacks"
#: Set in ``provider_data`` by resources backed by a child stack, so that one
#: is deleted with its child even when no template names its type any more.
NESTED_STACK_MARK = "nested_stack"


@dataclass(frozen=True)
class ChildStack:
    """What a nested stack is made of; the parent's files and environments carry over."""

    template: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    timeout_mins: int | None = None
    #: The parent resource's metadata, deletion_policy and update_policy (``resource_facade``).
    facade: Mapping[str, Any] = field(default_factory=dict)
    #: Extra files the child needs besides the parent's (none for most plugins).
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChildState:
    """Where a nested stack stands: Heat's action and status, and why."""

    action: str
    status: str
    reason: str = ""
    name: str = ""
    #: The project the stack belongs to (part of its ARN, ``arn:openstack:heat::...``).
    project_id: str = ""

    @property
    def state(self) -> str:
        return f"{self.action}_{self.status}"


class StackClient(Protocol):
    """Nested stacks of one parent resource."""

    def file(self, name: str) -> str | None:
        """A file from the parent stack's files map (``get_file``, ``TemplateURL``)."""
        ...

    async def create(self, child: ChildStack, physical_name: str, token: str) -> str:
        """Start creating the child; its id. The same ``token`` finds the same child again."""
        ...

    async def find(self, token: str) -> str | None:
        """The child an earlier attempt with ``token`` created, if any."""
        ...

    async def update(self, stack_id: str, child: ChildStack) -> None:
        """Start updating the child to ``child`` (its resources decide what changes)."""
        ...

    async def run_action(self, stack_id: str, action: str) -> None:
        """Start ``SUSPEND``, ``RESUME`` or ``CHECK`` on the child."""
        ...

    async def delete(self, stack_id: str) -> None:
        """Start deleting the child; a child already gone is deleted."""
        ...

    async def state(self, stack_id: str) -> ChildState | None:
        """The child's current state; None when it does not exist (or was deleted)."""
        ...

    async def outputs(self, stack_id: str) -> Mapping[str, Any]:
        """The child's outputs that resolve, by name."""
        ...

    async def signals(self, reference: str) -> Sequence[Mapping[str, Any]]:
        """Signals received so far by the resource of this stack whose reference (or
        physical id) is ``reference``, oldest first; none for an unknown one."""
        ...

    def signal_endpoint(self) -> str:
        """The URL of this resource's signal route in Kiln's API."""
        ...

    async def signal(self, reference: str, details: Any) -> Mapping[str, Any]:
        """Signal another resource of this stack (a scaling policy its group); what it kept."""
        ...

    def operation_in_progress(self) -> bool:
        """Whether this resource's stack is in the middle of an operation."""
        ...

    async def resource_ids(self, stack_id: str) -> Sequence[tuple[str, str | None]]:
        """Each live resource of the child with its reference (physical id), in name order."""
        ...

    async def resource_reference(self, stack_id: str, resource: str) -> str | None:
        """What ``get_resource`` of the child's resource ``resource`` gives inside the child;
        None when there is no such resource (or it does not exist yet)."""
        ...

    async def resource_attributes(
        self, stack_id: str, resource: str, names: frozenset[str]
    ) -> Mapping[str, Any]:
        """Attributes of the child's resource ``resource``, as ``get_attr`` inside the child
        reads them (null for those it does not have)."""
        ...


@runtime_checkable
class ChildStackPlugin(Protocol):
    """A plugin whose resource is a nested stack: it says what a create or an update makes
    the child (so that a preview can show the child's plan before anything changes, and an
    adopt can take over a child whose data carries no template)."""

    def child_for_create(self, ctx: ProviderContext, request: CreateRequest) -> ChildStack: ...

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack: ...


@runtime_checkable
class ValidatedChildPlugin(Protocol):
    """A nested-stack plugin whose child is checked when the request arrives, before
    anything changes (Heat's ``validate_nested_stack``, which answers 400)."""

    def child_for_validation(
        self, ctx: ProviderContext, properties: Mapping[str, Any]
    ) -> ChildStack | None:
        """The child ``properties`` make, cut to what shows every problem (a group's first
        member); None when there is nothing to check (a group of no members)."""
        ...
