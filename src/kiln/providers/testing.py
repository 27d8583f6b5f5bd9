"""The contract every plugin passes against its real backend.

:func:`run_contract` drives a plugin the way the engine does: it keeps the
physical id and ``provider_data`` a real record would keep, polls
``check_*`` after each ``done=False`` (sleeping ``poll_after`` on the
context's clock, so a fake clock makes long waits instant), and checks that:

0. the sample properties pass the schema and the plugin's own validation
   (and are used with schema defaults applied, as the engine passes them);
1. create, then check until done, gives a physical id;
2. ``find`` with the same idempotency token adopts that id (or, for a plugin
   that cannot adopt, answers None);
3. ``read`` sees the resource and the attributes asked for are all answered;
4. an in-place update of an updatable property keeps the physical id and
   does not ask for replacement;
5. delete, then delete again, both succeed, and ``read`` then reports it gone.

A violated rule raises :class:`ContractViolation` saying which step broke.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiln.errors import Severity
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ResourcePlugin,
    UpdateRequest,
)
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry

__all__ = ["ContractCase", "ContractResult", "ContractViolation", "run_contract"]

ContextFactory = Callable[[], ProviderContext]
_Check = Callable[[ProviderContext, CheckRequest], Awaitable[Progress]]


class ContractViolation(AssertionError):
    """A plugin broke the contract; the message names the step."""


@dataclass(frozen=True)
class ContractCase:
    """One plugin with sample properties, as a provider's test suite declares it.

    ``update_properties``: the new properties of an in-place update (only
    updatable properties may differ), or None when the type has none.
    ``adopts``: False for a plugin whose ``find`` can never adopt (its
    result cannot be recovered, like a generated secret).
    """

    plugin_class: type[ResourcePlugin]
    properties: Mapping[str, Any]
    update_properties: Mapping[str, Any] | None = None
    attribute_names: frozenset[str] = frozenset()
    adopts: bool = True
    name: str = "contract_resource"
    max_polls: int = 1000


@dataclass
class ContractResult:
    """What the run observed, for a provider's own exact assertions."""

    physical_id: str = ""
    created_data: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    updated_attributes: Mapping[str, Any] = field(default_factory=dict)
    polls: int = 0


@dataclass
class _Record:
    """The part of a resource record the engine keeps between calls."""

    physical_id: str | None = None
    provider_data: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, progress: Progress) -> None:
        if progress.physical_id is not None:
            self.physical_id = progress.physical_id
        if progress.provider_data is not None:
            self.provider_data = dict(progress.provider_data)


async def run_contract(
    case: ContractCase, new_context: ContextFactory, schemas: SchemaRegistry | None = None
) -> ContractResult:
    """Run every contract step in order; raises :class:`ContractViolation` on the first break.

    ``schemas`` supplies the custom constraints the plugin's schema uses.
    """
    runner = _Runner(case, new_context)
    runner.properties = _checked(case.plugin_class, case.properties, schemas, "create")
    if case.update_properties is not None:
        update = _checked(case.plugin_class, case.update_properties, schemas, "update")
        runner.update_properties = update
    await runner.create()
    await runner.adopt()
    await runner.inspect()
    await runner.update()
    await runner.delete()
    return runner.result


def _checked(
    plugin_class: type[ResourcePlugin],
    properties: Mapping[str, Any],
    schemas: SchemaRegistry | None,
    step: str,
) -> Mapping[str, Any]:
    registry = schemas or SchemaRegistry()
    converted, diagnostics = validate_properties(
        plugin_class.schema, properties, registry, live=True
    )
    diagnostics += plugin_class().validate(converted)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        shown = "; ".join(f"{d.code} {d.path} {d.message}" for d in errors)
        raise ContractViolation(f"{step}: the sample properties are invalid: {shown}")
    return converted


class _Runner:
    def __init__(self, case: ContractCase, new_context: ContextFactory) -> None:
        self.case = case
        self.new_context = new_context
        self.plugin = case.plugin_class()
        self.record = _Record()
        self.properties: Mapping[str, Any] = dict(case.properties)
        self.update_properties: Mapping[str, Any] | None = None
        self.token = str(uuid.uuid4())
        self.physical_name = f"contract-{case.name}-{self.token[:8]}"
        self.result = ContractResult()

    async def create(self) -> None:
        request = CreateRequest(
            name=self.case.name,
            properties=self.properties,
            idempotency_token=self.token,
            physical_name=self.physical_name,
        )
        call = self.plugin.create(self.new_context(), request)
        await self._drive("create", call, self.plugin.check_create)
        if not self.record.physical_id:
            raise ContractViolation("create: finished without a physical id")
        self.result.physical_id = self.record.physical_id
        self.result.created_data = dict(self.record.provider_data)

    async def adopt(self) -> None:
        request = FindRequest(
            name=self.case.name,
            idempotency_token=self.token,
            physical_name=self.physical_name,
            properties=self.properties,
        )
        found = await self.plugin.find(self.new_context(), request)
        expected = self.record.physical_id if self.case.adopts else None
        if found != expected:
            raise ContractViolation(f"find: expected {expected!r}, got {found!r}")

    async def inspect(self, step: str = "read") -> Mapping[str, Any]:
        read = await self.plugin.read(self.new_context(), self._read_request())
        if read is None:
            raise ContractViolation(f"{step}: read reports an existing resource as gone")
        names = self.case.attribute_names
        request = AttributeRequest(
            name=self.case.name,
            physical_id=self.record.physical_id,
            properties=self.properties,
            names=names,
            provider_data=self.record.provider_data,
        )
        attributes = await self.plugin.attributes(self.new_context(), request)
        if set(attributes) != set(names):
            raise ContractViolation(f"{step}: asked for {sorted(names)}, got {sorted(attributes)}")
        if step == "read":
            self.result.attributes = dict(attributes)
        return attributes

    async def update(self) -> None:
        new = self.update_properties
        if new is None:
            return
        old = self.properties
        changed = frozenset(k for k in {*old, *new} if old.get(k) != new.get(k))
        if not changed:
            raise ContractViolation("update: the sample update changes nothing")
        if self.plugin.needs_replacement(old, new, changed):
            raise ContractViolation(f"update: {sorted(changed)} would replace, not update")
        physical_id = self.record.physical_id
        request = UpdateRequest(
            name=self.case.name,
            physical_id=physical_id,
            old_properties=old,
            new_properties=new,
            changed=changed,
            provider_data=self.record.provider_data,
        )
        self.properties = dict(new)
        call = self.plugin.update(self.new_context(), request)
        await self._drive("update", call, self.plugin.check_update)
        if self.record.physical_id != physical_id:
            raise ContractViolation("update: an in-place update changed the physical id")
        self.result.updated_attributes = dict(await self.inspect("update"))

    async def delete(self) -> None:
        for attempt in ("delete", "second delete"):
            request = DeleteRequest(
                name=self.case.name,
                physical_id=self.record.physical_id,
                properties=self.properties,
                provider_data=self.record.provider_data,
            )
            try:
                call = self.plugin.delete(self.new_context(), request)
                await self._drive(attempt, call, self.plugin.check_delete)
            except NotFound:
                continue  # already gone counts as deleted
        if await self.plugin.read(self.new_context(), self._read_request()) is not None:
            raise ContractViolation("delete: read still finds the resource")

    def _read_request(self) -> ReadRequest:
        return ReadRequest(
            name=self.case.name,
            physical_id=self.record.physical_id,
            properties=self.properties,
            provider_data=self.record.provider_data,
        )

    async def _drive(self, step: str, first_call: Awaitable[Progress], check: _Check) -> None:
        """Apply the first result, then poll ``check`` until done, as the engine does."""
        progress = await first_call
        self.record.apply(progress)
        for _ in range(self.case.max_polls):
            if progress.done:
                return
            if progress.poll_after < 0:
                raise ContractViolation(f"{step}: negative poll_after {progress.poll_after}")
            context = self.new_context()
            await context.clock.sleep(progress.poll_after)
            self.result.polls += 1
            progress = await check(context, self._check_request())
            self.record.apply(progress)
        if not progress.done:
            raise ContractViolation(f"{step}: not done after {self.case.max_polls} polls")

    def _check_request(self) -> CheckRequest:
        return CheckRequest(
            name=self.case.name,
            physical_id=self.record.physical_id,
            properties=self.properties,
            provider_data=self.record.provider_data,
        )
