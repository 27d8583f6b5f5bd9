"""Nested stacks for the plugins of one parent resource: the engine's :class:`StackClient`.

A child is a stack of its own, stored with its parent's id and resource name,
started the way the service starts any operation (a compare-and-swap of the
traversal) and run by an engine of this process. Its id is derived from the
parent resource's idempotency token, so a retried create finds the child an
earlier attempt made instead of making a second one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from kiln.config import DEFAULT_API_URL, TemplateLimits
from kiln.engine.child_resources import child_attributes, child_reference
from kiln.engine.outputs import stack_outputs
from kiln.engine.provider_templates import OwnMapping, facade_problem, own_mapping
from kiln.engine.scope import live_records
from kiln.engine.start import start_operation
from kiln.engine.validation import validate_stack
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.signals import SignalRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.providers.errors import ResourceFailed
from kiln.providers.nested import ChildStack, ChildState
from kiln.providers.registry import PluginRegistry
from kiln.schema.registry import SchemaRegistry
from kiln.template.parameters import hidden_parameter_names
from kiln.template.validate import ValidationResult

#: Names child ids: the same parent token always gives the same child.
_CHILD_NAMESPACE = uuid.UUID("9b0f7a52-3c1e-4d5e-8f6a-2b7c1d0e4a93")


def child_id_for(token: str) -> str:
    return str(uuid.uuid5(_CHILD_NAMESPACE, token))


#: The name a nested stack's environment is stored under.
INHERITED_ENVIRONMENT = "(inherited environment)"


def child_environments(
    parent: ValidationResult, resource: str, schemas: SchemaRegistry
) -> tuple[tuple[str, str], ...]:
    """The environment a nested stack of ``parent``'s resource ``resource`` runs with.

    It is Heat's child environment, derived by :meth:`Environment.for_nested`
    exactly as validation derives it for provider templates, stored as one
    document: no ``parameters``, the per-resource registry blocks under
    ``resource`` only, and without the registry entry that mapped the
    resource's type to its template, which may then use that type's own
    implementation instead of recursing into itself.
    """
    if parent.environment is None:
        return ()
    mapping = own_mapping(parent, resource, schemas)
    entry = mapping.resolved.entry if mapping is not None else None
    data = parent.environment.for_nested(resource, without=entry).to_dict()
    return ((INHERITED_ENVIRONMENT, json.dumps(data, default=str)),) if data else ()


class NestedStackClient:
    """What a nested-stack plugin of ``parent``'s resource ``resource`` may do."""

    def __init__(
        self,
        parent: StackRecord,
        resource: str,
        stacks: StackRepository,
        resources: ResourceRepository,
        plugins: PluginRegistry,
        limits: TemplateLimits | None,
        launch: Callable[[str], None],
        facade: Mapping[str, Any] | None = None,
        api_url: str = DEFAULT_API_URL,
        signal: Callable[[ResourceRecord, Any], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self._signal = signal
        self.api_url = api_url.rstrip("/")
        self.signal_store = SignalRepository(stacks.database)
        self.parent = parent
        #: The parent resource's metadata, deletion_policy and update_policy.
        self.facade = dict(facade or {})
        self.resource = resource
        self.stacks = stacks
        self.resources = resources
        self.plugins = plugins
        self.limits = limits or TemplateLimits()
        self._launch = launch

    def file(self, name: str) -> str | None:
        return self.parent.files.get(name)

    async def find(self, token: str) -> str | None:
        child = self.stacks.get(child_id_for(token))
        return child.id if child is not None else None

    async def create(self, child: ChildStack, physical_name: str, token: str) -> str:
        child_id = child_id_for(token)
        if self.stacks.get(child_id, include_deleted=True) is not None:
            self._launch(child_id)
            return child_id
        depth = self.parent.nesting_depth + 1
        if depth > self.limits.max_stack_nesting_depth:
            raise ResourceFailed(f"Recursion depth exceeds {self.limits.max_stack_nesting_depth}.")
        record = self._definition(
            StackRecord(
                id=child_id,
                name=physical_name,
                project_id=self.parent.project_id,
                parent_id=self.parent.id,
                parent_resource=self.resource,
                nesting_depth=depth,
                # The parent rolls back; a child that failed stays as it is for it.
                disable_rollback=True,
            ),
            child,
        )
        hidden = self._validated(record)
        self.stacks.create(record, hidden)
        self._begin(record, Action.CREATE, None)
        return child_id

    async def update(self, stack_id: str, child: ChildStack) -> None:
        current = self.stacks.get(stack_id)
        if current is None:
            raise ResourceFailed(f"the nested stack {stack_id} does not exist")
        updated = self._definition(
            replace(
                current,
                previous_template=current.template,
                previous_files=current.files,
                previous_environments=current.environments,
                previous_parameters=current.parameters,
            ),
            child,
        )
        hidden = self._validated(updated)
        # An engine still running the child (an update this one preempts) converges to
        # whatever definition it finds once the traversal changes: save that first.
        self.stacks.save_definition(updated, hidden)
        try:
            self._begin(current, Action.UPDATE, current.current_traversal)
        except ResourceFailed:
            self.stacks.save_definition(current, hidden)
            raise

    async def run_action(self, stack_id: str, action: str) -> None:
        current = self.stacks.get(stack_id)
        if current is None:
            raise ResourceFailed(f"the nested stack {stack_id} does not exist")
        self._begin(current, Action(action), current.current_traversal)

    async def delete(self, stack_id: str) -> None:
        current = self.stacks.get(stack_id)
        if current is None:
            return
        if current.action is Action.DELETE and current.status is Status.IN_PROGRESS:
            self._launch(stack_id)
            return
        self._begin(current, Action.DELETE, current.current_traversal)

    async def state(self, stack_id: str) -> ChildState | None:
        current = self.stacks.get(stack_id)
        if current is None:
            return None
        if current.status is Status.IN_PROGRESS:
            # Runs here unless a live engine elsewhere holds it (after a restart, say).
            self._launch(stack_id)
        return ChildState(
            current.action.value,
            current.status.value,
            current.status_reason,
            current.name,
            current.project_id,
        )

    async def outputs(self, stack_id: str) -> Mapping[str, Any]:
        current = self.stacks.get(stack_id)
        if current is None:
            return {}
        records = self.resources.by_stack(stack_id)
        found = stack_outputs(current, records, self.plugins, self.limits, reveal=True)
        return {output.key: output.value for output in found if output.error is None}

    async def signals(self, reference: str) -> Sequence[Mapping[str, Any]]:
        record = self._referenced(reference)
        return [] if record is None else self.signal_store.list(self.parent.id, record.name)

    async def signal(self, reference: str, details: Any) -> Mapping[str, Any]:
        record = self._referenced(reference)
        if record is None:
            raise ResourceFailed(f"no resource of this stack is {reference!r}")
        if self._signal is None:
            raise ResourceFailed("resources cannot signal each other here")
        return await self._signal(record, details)

    def operation_in_progress(self) -> bool:
        current = self.stacks.get(self.parent.id)
        return current is not None and current.status is Status.IN_PROGRESS

    def _referenced(self, reference: str) -> ResourceRecord | None:
        """The live resource of the parent stack whose reference or physical id this is."""
        for name, record in live_records(self.resources.by_stack(self.parent.id)).items():
            plugin_class = self.plugins.get(record.type)
            referenced = record.physical_id
            if plugin_class is not None and record.physical_id is not None:
                referenced = plugin_class().reference_id(
                    name, record.physical_id, record.provider_data
                )
            if reference in (record.physical_id, referenced):
                return record
        return None

    def signal_endpoint(self) -> str:
        parent = self.parent
        return (
            f"{self.api_url}/v1/{parent.project_id}/stacks/{parent.name}/{parent.id}"
            f"/resources/{self.resource}/signal"
        )

    async def resource_ids(self, stack_id: str) -> Sequence[tuple[str, str | None]]:
        live = live_records(self.resources.by_stack(stack_id))
        return [(name, live[name].physical_id) for name in sorted(live)]

    async def resource_reference(self, stack_id: str, resource: str) -> str | None:
        return child_reference(self.resources, self.plugins, stack_id, resource)

    async def resource_attributes(
        self, stack_id: str, resource: str, names: frozenset[str]
    ) -> Mapping[str, Any]:
        def client_for(stack: StackRecord, name: str) -> NestedStackClient:
            return NestedStackClient(
                stack,
                name,
                self.stacks,
                self.resources,
                self.plugins,
                self.limits,
                self._launch,
                api_url=self.api_url,
            )

        return await child_attributes(
            self.stacks, self.resources, self.plugins, client_for, stack_id, resource, names
        )

    def defined(self, record: StackRecord, child: ChildStack) -> StackRecord:
        """``record`` with the definition a create or update to ``child`` gives it: its
        environment, parameters and timeout derived from the parent as here (adopt and
        preview need it)."""
        return self._definition(record, child)

    def _definition(self, record: StackRecord, child: ChildStack) -> StackRecord:
        return replace(
            record,
            template=child.template,
            files={**self.parent.files, **child.files},
            environments=child_environments(
                validate_stack(self.parent, self.plugins, self.limits),
                self.resource,
                self.plugins.schemas(),
            ),
            parameters=dict(child.parameters),
            # As in Heat, a child without a timeout of its own has its parent's.
            timeout_mins=(
                child.timeout_mins if child.timeout_mins is not None else self.parent.timeout_mins
            ),
            facade=dict(child.facade or self.facade),
        )

    def _own_mapping(self) -> OwnMapping | None:
        """The registry entry that made this resource a provider template, if one did."""
        parent = validate_stack(self.parent, self.plugins, self.limits)
        return own_mapping(parent, self.resource, self.plugins.schemas())

    def _validated(self, record: StackRecord) -> list[str]:
        """The child's hidden parameter names; ResourceFailed naming the first problem."""
        result = validate_stack(record, self.plugins, self.limits)
        if not result.ok:
            raise ResourceFailed(f"the nested template is not valid: {result.errors[0].render()}")
        mapping = self._own_mapping()
        if mapping is not None:
            problem = facade_problem(mapping, result, self.plugins.schemas(), record.files)
            if problem is not None:
                raise ResourceFailed(problem)
        return sorted(hidden_parameter_names(result.declarations))

    def _begin(self, stack: StackRecord, action: Action, expected: str | None) -> None:
        if not start_operation(self.stacks, stack, action, expected, allow_in_progress=True):
            raise ResourceFailed(f"the nested stack {stack.name} changed meanwhile; try again")
        self._launch(stack.id)
