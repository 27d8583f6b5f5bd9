"""Heat's stack export, abandon and adopt: a stack as data, and a stack made from that data.

The data has Heat's shape (``template``, ``environment``, ``files`` and, per
resource, ``resource_id``, ``type``, ``action``, ``status``, ``metadata``,
``resource_data``; a nested stack's entry carries that stack's own data), so
that a stack abandoned here, or by Heat, can be adopted. Secrets stay sealed:
hidden parameter values and a plugin's secret ``resource_data`` are written
encrypted with this installation's key, so the data can be kept or shown
without revealing them, and only an installation with the key opens them.

Adopting records every resource with the physical id it takes over (a
nested stack's child first, under the id its parent's create would have
given it) and starts an ADOPT operation: the engine confirms each resource
exists through its plugin, then completes it without creating anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kiln.engine.nested import child_id_for
from kiln.engine.scope import recorded_scope
from kiln.engine.start import start_operation
from kiln.engine.validation import validate_stack
from kiln.errors import EvaluationError, KilnError, TemplateError
from kiln.plan.desired import desired_resources
from kiln.plan.state import (
    Action,
    ResourceRecord,
    StackRecord,
    Status,
    idempotency_token,
    new_id,
)
from kiln.providers.nested import NESTED_STACK_MARK
from kiln.service.stacks import OperationInProgress, StackDefinition, StackService
from kiln.template.functions.base import Resolver
from kiln.template.parameters import hidden_parameter_names
from kiln.template.source import parse_document
from kiln.template.validate import ValidationResult

#: The name the adopted stack's environment is stored under.
ADOPTED_ENVIRONMENT = "adopted-environment.json"
#: Keys of a resource entry that belong to the resource, not to its nested stack.
_RESOURCE_KEYS = ("resource_id", "type", "metadata", "resource_data")


class AdoptDataError(KilnError):
    """The adopt data cannot make a stack: the message names where it is wrong."""


class StackTransfer:
    """Export, abandon and adopt for one project's stacks."""

    def __init__(self, service: StackService) -> None:
        self.service = service

    # -- out ---------------------------------------------------------------------

    def export(self, name_or_id: str) -> dict[str, Any]:
        """Heat's ``stack export``: the abandon data, with the stack left as it is."""
        return self._data(self.service.get(name_or_id))

    def abandon(self, name_or_id: str) -> dict[str, Any]:
        """Heat's ``stack abandon``: forget the stack, leave everything it made, return its data."""
        stack = self.service.get(name_or_id)
        if stack.status is Status.IN_PROGRESS:
            raise OperationInProgress(stack)
        data = self._data(stack)
        depth = self.service.limits.max_stack_nesting_depth if self.service.limits else 5
        family = [member.id for member in self.service.family(stack, depth)[1:]]
        if not self.service.stacks.abandon(stack.id, stack.current_traversal, family):
            raise OperationInProgress(self.service.stacks.get(stack.id) or stack)
        return data

    def _data(self, stack: StackRecord) -> dict[str, Any]:
        service = self.service
        result = validate_stack(stack, service.plugins, service.limits)
        hidden = hidden_parameter_names(result.declarations)
        seal = service.stacks.secrets.seal
        environment = result.environment.to_dict() if result.environment is not None else {}
        if environment.get("parameters"):
            environment["parameters"] = seal(environment["parameters"], hidden)
        children = {child.id: child for child in service.stacks.children(stack.id)}
        metadata = _metadata(result, service, stack)
        resources: dict[str, Any] = {}
        for record in service.resource_records(stack):
            entry = {
                "name": record.name,
                "resource_id": record.physical_id,
                "type": record.type,
                "action": record.action.value,
                "status": record.status.value,
                "metadata": metadata.get(record.name, {}),
                "resource_data": service.stacks.secrets.seal(
                    record.provider_data, self._secret_keys(record)
                ),
            }
            child = children.get(record.physical_id or "")
            if child is not None:
                # As in Heat, a nested stack's entry is that stack's own data.
                entry = {**entry, **self._data(child)}
            resources[record.name] = entry
        return {
            "id": stack.id,
            "name": stack.name,
            "action": stack.action.value,
            "status": stack.status.value,
            "project_id": stack.project_id,
            "stack_user_project_id": stack.project_id,
            "tags": list(stack.tags),
            "template": parse_document(stack.template, "template").data,
            "environment": environment,
            # Kiln's addition: the values given with the stack (Heat folds them into
            # the environment's parameters, where adopt also finds them).
            "parameters": seal(dict(stack.parameters), hidden),
            "files": dict(stack.files),
            "resources": resources,
        }

    def _secret_keys(self, record: ResourceRecord) -> frozenset[str]:
        plugins = self.service.plugins
        plugin_class = plugins.get(record.type)
        if plugin_class is None and record.provider_data.get(NESTED_STACK_MARK):
            plugin_class = plugins.template_plugin(record.type)
        return plugin_class.secret_data_keys if plugin_class is not None else frozenset()

    # -- in ----------------------------------------------------------------------

    def adopt(
        self,
        name: str,
        data: Any,
        *,
        environments: Sequence[tuple[str, str]] = (),
        parameters: Mapping[str, Any] | None = None,
        timeout_mins: int | None = None,
        disable_rollback: bool = True,
    ) -> StackRecord:
        """Heat's ``stack adopt``: a stack named ``name`` that takes over what ``data`` lists.

        Every resource the template enables must be in ``data`` with its
        ``resource_id``; anything wrong is refused before anything is stored.
        """
        stack_id = new_id()
        definition = self._definition(data, "", environments, parameters or {})
        record = StackRecord(
            id=stack_id,
            name=name,
            project_id=self.service.project_id,
            template=definition.template,
            files=dict(definition.files),
            environments=tuple(definition.environments),
            parameters=dict(definition.parameters),
            timeout_mins=timeout_mins,
            disable_rollback=disable_rollback,
        )
        # Parents first (a child row names its parent), the top stack first of all:
        # a name already taken stops the adoption before anything is stored.
        plans = list(reversed(self._plan(record, data, "")))
        for stack, hidden, _ in plans:
            self.service.stacks.create(stack, hidden)
        for stack, _, seeds in plans:
            for seed, secret_keys in seeds:
                self.service.resources.save(seed, insert=True, secret_data=secret_keys)
            if not start_operation(self.service.stacks, stack, Action.ADOPT, None):
                raise OperationInProgress(stack)
        return self.service.get(stack_id)

    def _definition(
        self,
        data: Any,
        where: str,
        environments: Sequence[tuple[str, str]],
        parameters: Mapping[str, Any],
    ) -> StackDefinition:
        if not isinstance(data, Mapping):
            raise AdoptDataError(f"adopt data{where}: must be an object")
        template = data.get("template")
        if isinstance(template, Mapping):
            template = json.dumps(template, default=str)
        if not isinstance(template, str) or not template.strip():
            raise AdoptDataError(f"adopt data{where}.template: a template is required")
        environment = data.get("environment") or {}
        files = data.get("files") or {}
        resources = data.get("resources")
        for key, value, kind in (
            ("environment", environment, Mapping),
            ("files", files, Mapping),
            ("resources", resources, Mapping),
        ):
            if not isinstance(value, kind):
                raise AdoptDataError(f"adopt data{where}.{key}: must be an object")
        environment = dict(environment)
        given = data.get("parameters") or {}
        if not isinstance(given, Mapping) or not isinstance(
            environment.get("parameters") or {}, Mapping
        ):
            raise AdoptDataError(f"adopt data{where}.parameters: must be an object")
        secrets = self.service.stacks.secrets
        try:
            if environment.get("parameters"):
                environment["parameters"] = secrets.open(environment["parameters"])
            given = secrets.open(given)
        except KilnError as error:
            raise AdoptDataError(f"adopt data{where}: {error}") from error
        stored_environments: list[tuple[str, str]] = []
        if environment:
            stored_environments.append((ADOPTED_ENVIRONMENT, json.dumps(environment)))
        return StackDefinition(
            template=template,
            files={str(k): str(v) for k, v in files.items()},
            environments=(*stored_environments, *environments),
            parameters={**given, **parameters},
        )

    def _plan(
        self, stack: StackRecord, data: Mapping[str, Any], where: str
    ) -> list[tuple[StackRecord, list[str], list[tuple[ResourceRecord, frozenset[str]]]]]:
        """The stacks to store (children before their parent) with their seeded resources."""
        service = self.service
        result = validate_stack(stack, service.plugins, service.limits)
        if not result.ok:
            raise TemplateError(result.errors)
        desired, problems = desired_resources(
            result, service.plugins.schemas(), recorded_scope(result, [], service.plugins)
        )
        if problems:
            raise TemplateError(problems)
        entries = data["resources"]
        plans: list[tuple[StackRecord, list[str], list[tuple[ResourceRecord, frozenset[str]]]]] = []
        seeds: list[tuple[ResourceRecord, frozenset[str]]] = []
        for resource in desired:
            path = f"adopt data{where}.resources.{resource.name}"
            entry = entries.get(resource.name)
            if not isinstance(entry, Mapping) or not entry.get("resource_id"):
                raise AdoptDataError(f"{path}.resource_id: Resource ID was not provided.")
            if entry.get("type", resource.type) != resource.type:
                raise AdoptDataError(
                    f"{path}.type: the data is for {entry.get('type')}, "
                    f"the template declares {resource.type}"
                )
            token = idempotency_token(stack.id, resource.name, 0)
            resource_data = entry.get("resource_data") or {}
            if not isinstance(resource_data, Mapping):
                raise AdoptDataError(f"{path}.resource_data: must be an object")
            try:
                provider_data = service.stacks.secrets.open(resource_data)
            except KilnError as error:
                raise AdoptDataError(f"{path}.resource_data: {error}") from error
            physical_id = str(entry["resource_id"])
            if "resources" in entry and "template" in entry:
                child = self._child(stack, resource.name, entry, token, f"{where}.{resource.name}")
                plans += self._plan(child, entry, f"{where}.resources.{resource.name}")
                physical_id = child.id
                provider_data = {**provider_data, NESTED_STACK_MARK: True}
            seed = ResourceRecord(
                id=new_id(),
                stack_id=stack.id,
                name=resource.name,
                type=resource.type,
                physical_id=physical_id,
                action=Action.ADOPT,
                status=Status.IN_PROGRESS,
                status_reason="adopting",
                idempotency_token=token,
                provider_data=provider_data,
            )
            seeds.append((seed, self._secret_keys(seed)))
        plans.append((stack, sorted(hidden_parameter_names(result.declarations)), seeds))
        return plans

    def _child(
        self, parent: StackRecord, resource: str, entry: Mapping[str, Any], token: str, where: str
    ) -> StackRecord:
        """The nested stack, under the id the parent resource's create would give it."""
        depth = parent.nesting_depth + 1
        limit = self.service.limits.max_stack_nesting_depth if self.service.limits else 5
        if depth > limit:
            raise AdoptDataError(f"adopt data{where}: Recursion depth exceeds {limit}.")
        definition = self._definition(entry, where, (), {})
        return StackRecord(
            id=child_id_for(token),
            # The name the parent resource's create gives its child (as the engine names it).
            name=f"{parent.name}-{resource}-{token[:12]}",
            project_id=parent.project_id,
            template=definition.template,
            files={**parent.files, **definition.files},
            environments=tuple(definition.environments),
            parameters=dict(definition.parameters),
            parent_id=parent.id,
            parent_resource=resource,
            nesting_depth=depth,
            disable_rollback=True,
        )


def _metadata(
    result: ValidationResult, service: StackService, stack: StackRecord
) -> dict[str, Any]:
    """Each resource's ``metadata`` as the template resolves it now (secrets masked)."""
    template = result.template
    if template is None:
        return {}
    scope = recorded_scope(result, service.resources.by_stack(stack.id), service.plugins)
    resolver = Resolver(scope, result.limits)
    found: dict[str, Any] = {}
    for name, declaration in template.resources.items():
        try:
            value = resolver.resolve(declaration.metadata)
        except EvaluationError:
            continue
        found[name] = result.redactor.value(value) if value is not None else {}
    return found
