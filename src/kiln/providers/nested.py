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
    from kiln.providers.protocol import UpdateRequest

__all__ = [
    "NESTED_STACK_MARK",
    "STACKS_CLIENT",
    "ChildStack",
    "ChildStackPlugin",
    "ChildState",
    "StackClient",
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


@runtime_checkable
class ChildStackPlugin(Protocol):
    """A plugin whose resource is a nested stack: it says what an update makes the child
    (so that a preview can show the child's plan before anything changes)."""

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack: ...
