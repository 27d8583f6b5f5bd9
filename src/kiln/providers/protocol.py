"""The contract between the engine and a resource plugin.

One class per resource type, its schema declared once, and a small set of
typed async lifecycle calls. Each call does one step and returns: it issues
the cloud request (or polls once) and reports :class:`Progress`; when the
work is not finished yet it says when to look again, and the engine later
calls the matching ``check_*`` method. A plugin never sleeps for long inside
a call, so a step can run in a short-lived worker task and be retried.

Plugins are stateless: everything they must remember between calls goes in
``provider_data``, which the engine stores with the resource and passes back.
Property values arrive converted and with schema defaults applied (as
:func:`kiln.schema.properties.validate_properties` returns them).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from kiln.errors import Diagnostic
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotSupported
from kiln.schema.resource_schema import ResourceSchema
from kiln.schema.types import SchemaDefinitionError

__all__ = [
    "KEY_SEPARATOR",
    "ActionRequest",
    "AttributeRequest",
    "CheckRequest",
    "CreateRequest",
    "DeleteRequest",
    "FindRequest",
    "Progress",
    "ReadRequest",
    "ReadResult",
    "ResourcePlugin",
    "RestoreRequest",
    "SignalRequest",
    "SignalResult",
    "SnapshotDeleteRequest",
    "SnapshotRequest",
    "UpdateRequest",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: In ``attributes_needed``, an attribute read with a literal first path key also
#: appears as ``attribute/key`` (``[group, attributes, ip]`` gives ``attributes/ip``).
KEY_SEPARATOR = "/"


def _empty() -> Mapping[str, Any]:
    return _EMPTY


@dataclass(frozen=True, kw_only=True)
class CreateRequest:
    """Create a new physical resource.

    ``idempotency_token`` is the same for every attempt at this incarnation
    (it changes only on replacement): pass it to APIs that accept one.
    ``physical_name`` is the deterministic name Heat would give the resource.
    """

    name: str
    properties: Mapping[str, Any]
    idempotency_token: str
    physical_name: str
    #: The resource's ``update_policy``, converted by ``schema.update_policy``
    #: (a group reads its batch sizes from it even when creating).
    update_policy: Mapping[str, Any] = field(default_factory=_empty)
    #: Attributes the stack reads from this resource (a group builds its members'
    #: template so that it can answer them).
    attributes_needed: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class CheckRequest:
    """Look again at an operation that returned ``done=False``."""

    name: str
    physical_id: str | None
    properties: Mapping[str, Any]
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, kw_only=True)
class UpdateRequest:
    """Change the resource in place; ``changed`` names the properties that differ."""

    name: str
    physical_id: str | None
    old_properties: Mapping[str, Any]
    new_properties: Mapping[str, Any]
    changed: frozenset[str]
    provider_data: Mapping[str, Any] = field(default_factory=_empty)
    #: The ``update_policy`` to apply this update with, and the one before it;
    #: a change of policy alone is an update with ``changed`` empty.
    update_policy: Mapping[str, Any] = field(default_factory=_empty)
    old_update_policy: Mapping[str, Any] = field(default_factory=_empty)
    #: As for a create: the attributes the stack reads from this resource.
    attributes_needed: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class DeleteRequest:
    """Remove the resource; a resource that is already gone is a success."""

    name: str
    physical_id: str | None
    properties: Mapping[str, Any]
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, kw_only=True)
class ActionRequest(CheckRequest):
    """Suspend or resume the resource (a stack suspend or resume); what a poll would see."""


@dataclass(frozen=True, kw_only=True)
class SnapshotRequest:
    """Keep a copy of the resource before it is deleted (``deletion_policy: Snapshot``).

    ``idempotency_token`` lets a retried snapshot find the one an interrupted
    attempt started instead of taking a second.
    """

    name: str
    physical_id: str
    properties: Mapping[str, Any]
    idempotency_token: str
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, kw_only=True)
class RestoreRequest:
    """Put a snapshot's contents back into the resource, in place (a stack restore).

    The resource keeps its physical id: a volume gets the backup's data
    back, it is not swapped for another volume.
    """

    name: str
    physical_id: str
    properties: Mapping[str, Any]
    snapshot_id: str
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, kw_only=True)
class SnapshotDeleteRequest:
    """Remove a snapshot taken earlier; one that is already gone is deleted."""

    name: str
    snapshot_id: str
    #: The resource's recorded properties; empty when the resource is gone.
    properties: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, kw_only=True)
class FindRequest:
    """Find what an earlier, interrupted create attempt made, by token or name."""

    name: str
    idempotency_token: str
    physical_name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class ReadRequest:
    """Report the resource as it actually is, for drift detection."""

    name: str
    physical_id: str | None
    properties: Mapping[str, Any]
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True)
class ReadResult:
    """The properties as the backend reports them (same shape as the schema's)."""

    properties: Mapping[str, Any]
    provider_data: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class AttributeRequest:
    """Resolve the named attributes (already checked against the schema)."""

    name: str
    physical_id: str | None
    properties: Mapping[str, Any]
    names: frozenset[str]
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, kw_only=True)
class SignalRequest:
    """A signal sent to the resource (``details`` as the caller sent them)."""

    name: str
    physical_id: str | None
    properties: Mapping[str, Any]
    details: Any = None
    provider_data: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True)
class SignalResult:
    """What a signal did: ``kept`` is recorded as the signal received (and shown in its
    event); ``provider_data``, when not None, replaces the resource's."""

    kept: Mapping[str, Any] = field(default_factory=_empty)
    provider_data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Progress:
    """Where an operation stands after one call.

    ``physical_id``: the id the backend gave, to be persisted at once; ``None``
    means "no new id" (keep the recorded one). ``provider_data``: ``None``
    keeps what is stored, a mapping replaces it. ``poll_after``: seconds
    before the engine should call the ``check_*`` method (``done=False``).
    """

    done: bool
    physical_id: str | None = None
    provider_data: Mapping[str, Any] | None = None
    poll_after: float = 0.0


class ResourcePlugin(abc.ABC):
    """Base of every plugin: one subclass per resource type.

    The defaults here are what a resource with nothing to wait for needs:
    ``check_*`` report done, there are no signals, attributes are null, the
    reference is the physical id, and replacement is decided by the schema.
    """

    #: The type name templates use (``OS::Heat::RandomString``); equals ``schema.type_name``.
    type_name: ClassVar[str]
    schema: ClassVar[ResourceSchema]
    #: The type cannot have two incarnations at once: replacements delete the old one first.
    replace_delete_first: ClassVar[bool] = False
    #: Keys of ``provider_data`` holding secrets: encrypted at rest, never logged or shown.
    secret_data_keys: ClassVar[frozenset[str]] = frozenset()
    #: Resource actions during which signals are refused, as in Heat (a software
    #: deployment takes the signal that completes its DELETE, so it lists none).
    no_signal_actions: ClassVar[frozenset[str]] = frozenset({"DELETE"})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        schema = cls.__dict__.get("schema")
        declared = getattr(cls, "type_name", None)
        if schema is not None and schema.type_name != declared:
            raise SchemaDefinitionError(
                f"plugin {cls.__name__} declares type '{declared}' "
                f"but its schema is for '{schema.type_name}'"
            )
        if schema is not None and schema.supports_snapshot and cls.snapshot is _no_snapshot:
            raise SchemaDefinitionError(
                f"plugin {cls.__name__} declares snapshot support but has no snapshot method"
            )

    def property_value(self, properties: Mapping[str, Any], name: str) -> Any:
        """A property's value, or the schema default when it is absent or null."""
        value = properties.get(name)
        if value is None and name in self.schema.properties:
            return self.schema.properties[name].default
        return value

    def validate(self, properties: Mapping[str, Any]) -> list[Diagnostic]:
        """Problems that need more than the schema to see, paths relative to ``properties``.

        Pure and quick: it runs when a template is validated, before anything
        is created. Values that are not known yet are skipped.
        """
        return []

    @abc.abstractmethod
    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress: ...

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    @abc.abstractmethod
    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress: ...

    async def check_update(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    @abc.abstractmethod
    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        """Delete; a resource that is already gone (:class:`NotFound`) counts as deleted."""

    async def check_delete(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    @abc.abstractmethod
    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        """The physical id of what an earlier create attempt made, or None to create anew.

        Called when a create was issued but its result was never recorded.
        Returning an id makes the engine adopt it and continue with
        ``check_create`` (with empty ``provider_data``).
        """

    @abc.abstractmethod
    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        """The resource's actual state, or None if it no longer exists."""

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        return {name: None for name in request.names}

    async def signal(self, ctx: ProviderContext, request: SignalRequest) -> SignalResult:
        """Take a signal: what to record of it, and the resource's new ``provider_data``.

        Raise :class:`ResourceFailed` for a signal in the wrong format: nothing is recorded.
        """
        raise NotSupported("signal is not supported for resource.")

    async def suspend(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        """Suspend (stop, pause); most resources have nothing to do, as in Heat."""
        return Progress(done=True)

    async def check_suspend(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    async def resume(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        """Undo :meth:`suspend`."""
        return Progress(done=True)

    async def check_resume(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    async def snapshot(self, ctx: ProviderContext, request: SnapshotRequest) -> Progress:
        """Start a snapshot; ``Progress.physical_id`` is the snapshot's id.

        Only for types whose schema sets ``supports_snapshot``; templates
        asking others for ``deletion_policy: Snapshot`` do not validate.
        """
        return await _no_snapshot(self, ctx, request)

    async def check_snapshot(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    async def restore(self, ctx: ProviderContext, request: RestoreRequest) -> Progress:
        """Start putting a snapshot's contents back (types with ``supports_snapshot``)."""
        raise NotSupported(f"{self.type_name} cannot restore snapshots.")

    async def check_restore(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=True)

    async def delete_snapshot(self, ctx: ProviderContext, request: SnapshotDeleteRequest) -> None:
        """Remove a snapshot the plugin took (a stack snapshot is being deleted)."""
        raise NotSupported(f"{self.type_name} cannot delete snapshots.")

    def needs_replacement(
        self, old: Mapping[str, Any], new: Mapping[str, Any], changed: frozenset[str]
    ) -> bool:
        """True to replace even though the schema allows every change in place."""
        return False

    def reference_id(
        self, name: str, physical_id: str | None, provider_data: Mapping[str, Any]
    ) -> str:
        """What ``get_resource``/``Ref`` gives: the physical id, or the name before there is one."""
        return physical_id if physical_id is not None else name


async def _no_snapshot(
    plugin: ResourcePlugin, ctx: ProviderContext, request: SnapshotRequest
) -> Progress:
    raise NotSupported(f"{plugin.type_name} cannot take snapshots.")
