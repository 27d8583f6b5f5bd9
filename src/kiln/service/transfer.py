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

from kiln.config import TemplateLimits
from kiln.engine.nested import NestedStackClient, child_id_for
from kiln.engine.operation import resource_facade
from kiln.engine.parent_attributes import attributes_needed
from kiln.engine.resource_steps import resolved_type
from kiln.engine.scope import recorded_scope
from kiln.engine.start import start_operation
from kiln.engine.validation import validate_stack
from kiln.errors import EvaluationError, KilnError, TemplateError
from kiln.plan.desired import desired_resources
from kiln.plan.planner import DesiredResource
from kiln.plan.state import (
    Action,
    ResourceRecord,
    StackRecord,
    Status,
    idempotency_token,
    new_id,
)
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import NESTED_STACK_MARK, STACKS_CLIENT, ChildStackPlugin
from kiln.providers.protocol import CreateRequest
from kiln.schema.properties import validate_properties
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


def parsed_adopt_data(data: Any) -> Any:
    """Adopt data as a request or a file carries it: the object itself, or its JSON text
    (python-heatclient and ``kiln stack adopt`` send the text abandon wrote)."""
    if not isinstance(data, (str, bytes)):
        return data
    try:
        return json.loads(data)
    except ValueError as error:
        raise AdoptDataError(f"Invalid adopt data: {error}") from None


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
        files: Mapping[str, str] | None = None,
        tags: Sequence[str] = (),
    ) -> StackRecord:
        """Heat's ``stack adopt``: a stack named ``name`` that takes over what ``data`` lists.

        ``data`` is the object abandon or export gave, or its JSON text. Every
        resource the template enables must be in it with its ``resource_id``;
        anything wrong is refused before anything is stored. ``files`` sent with
        the request join the data's own (provider templates).
        """
        data = parsed_adopt_data(data)
        self.service.check_new_stack(name)
        stack_id = new_id()
        definition = self._definition(data, "", environments, parameters or {})
        record = StackRecord(
            id=stack_id,
            name=name,
            project_id=self.service.project_id,
            template=definition.template,
            files={**definition.files, **(files or {})},
            environments=tuple(definition.environments),
            parameters=dict(definition.parameters),
            tags=tuple(tags),
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
            if not isinstance(entry, Mapping):
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
            child = self._nested(stack, result, resource, entry, token, where)
            if child is not None:
                plans += self._plan(child, entry, f"{where}.resources.{resource.name}")
                physical_id = child.id
                provider_data = {**provider_data, NESTED_STACK_MARK: True}
            elif entry.get("resource_id"):
                physical_id = str(entry["resource_id"])
            else:
                raise AdoptDataError(f"{path}.resource_id: Resource ID was not provided.")
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

    def _nested(
        self,
        stack: StackRecord,
        result: ValidationResult,
        resource: DesiredResource,
        entry: Mapping[str, Any],
        token: str,
        where: str,
    ) -> StackRecord | None:
        """The nested stack an entry with ``resources`` describes (none without them).

        As in Heat, such an entry needs no ``resource_id``: the resource is its
        nested stack, made here and adopted with it.
        """
        if "resources" not in entry:
            return None
        if "template" in entry:
            return self._child(stack, resource.name, entry, token, f"{where}.{resource.name}")
        return self._derived_child(stack, result, resource, token, where)

    def _derived_child(
        self,
        parent: StackRecord,
        result: ValidationResult,
        resource: DesiredResource,
        token: str,
        where: str,
    ) -> StackRecord | None:
        """A nested stack whose data lists resources but no template (Heat's adopt data for
        a group or a provider template): defined as the resource's create would define it."""
        service = self.service
        type_name, is_template = resolved_type(result, service.plugins, resource.name)
        plugins = service.plugins
        plugin_class = plugins.template_plugin(type_name) if is_template else plugins.get(type_name)
        plugin = plugin_class() if plugin_class is not None else None
        if not isinstance(plugin, ChildStackPlugin) or plugin_class is None:
            return None
        schemas = plugins.schemas()
        properties, _ = validate_properties(plugin_class.schema, dict(resource.properties), schemas)
        policy = dict(resource.update_policy)
        if plugin_class.schema.update_policy:
            policy, _ = validate_properties(
                plugin_class.schema.update_policy_schema(), policy, schemas
            )
        client = NestedStackClient(
            parent,
            resource.name,
            service.stacks,
            service.resources,
            plugins,
            service.limits,
            launch=lambda stack_id: None,
            facade=resource_facade(result, resource.name),
        )
        name = f"{parent.name}-{resource.name}-{token[:12]}"
        request = CreateRequest(
            name=resource.name,
            properties=properties,
            idempotency_token=token,
            physical_name=name,
            update_policy=policy,
            attributes_needed=attributes_needed(result).get(resource.name, frozenset()),
        )
        context = ProviderContext.create(type_name, resource.name, clients={STACKS_CLIENT: client})
        try:
            child = plugin.child_for_create(context, request)
        except ProviderError as error:
            raise AdoptDataError(f"adopt data{where}.resources.{resource.name}: {error}") from error
        depth = _nested_depth(parent, service.limits, f"{where}.{resource.name}")
        record = StackRecord(
            id=child_id_for(token),
            name=name,
            project_id=parent.project_id,
            parent_id=parent.id,
            parent_resource=resource.name,
            nesting_depth=depth,
            disable_rollback=True,
        )
        return client.defined(record, child)

    def _child(
        self, parent: StackRecord, resource: str, entry: Mapping[str, Any], token: str, where: str
    ) -> StackRecord:
        """The nested stack, under the id the parent resource's create would give it."""
        depth = _nested_depth(parent, self.service.limits, where)
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


def _nested_depth(parent: StackRecord, limits: TemplateLimits | None, where: str) -> int:
    depth = parent.nesting_depth + 1
    limit = limits.max_stack_nesting_depth if limits else 5
    if depth > limit:
        raise AdoptDataError(f"adopt data{where}: Recursion depth exceeds {limit}.")
    return depth


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
