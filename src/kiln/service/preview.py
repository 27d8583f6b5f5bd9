"""Preview of an update with its nested stacks shown (Heat's ``--dry-run --show-nested``).

The parent's plan comes from the same planner the engine runs. For each
resource backed by a nested stack that the plan updates, the child's new
definition is built by the resource's own plugin from the new properties,
exactly as the update would build it, and previewed against the child's
records; and so on down to ``depth`` levels. A child whose properties are
not known before the update runs (they read attributes that change) is
listed without a plan: it can only be decided while applying.

As in Heat's preview, an update that the resource's plugin turns into a
replacement is shown as one; the nested stack of a resource that is deleted
or replaced is shown with every resource in it deleted, and the nested stack
of a resource that is created (or replaced) with every resource in it added,
its definition built by the plugin as the create would build it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kiln.config import TemplateLimits
from kiln.engine.nested import NestedStackClient
from kiln.engine.operation import resource_facade
from kiln.engine.parent_attributes import attributes_needed
from kiln.engine.resource_steps import resolved_type
from kiln.engine.scope import live_records, recorded_scope
from kiln.engine.validation import validate_stack
from kiln.errors import KilnError, TemplateError
from kiln.plan.desired import desired_resources
from kiln.plan.planner import DesiredResource, plan_changes
from kiln.plan.state import ResourceRecord, StackRecord, new_id
from kiln.plan.steps import Operation, Plan, Step, StepKey
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import STACKS_CLIENT, ChildStackPlugin
from kiln.providers.protocol import CreateRequest, ResourcePlugin, UpdateRequest
from kiln.schema.properties import validate_properties
from kiln.schema.values import contains_unknown
from kiln.service.stacks import StackDefinition, StackService
from kiln.template.validate import ValidationResult


@dataclass(frozen=True)
class NestedPreview:
    """The plan of one stack in the preview; ``path`` names it from the top (``a/b``)."""

    path: str
    stack_name: str
    plan: Plan | None
    #: Why there is no plan (the child's definition is only known while applying).
    note: str = ""


def preview_update(
    service: StackService,
    stack: StackRecord,
    definition: StackDefinition,
    depth: int | None = None,
) -> list[NestedPreview]:
    """The stack's plan first, then each nested stack's, parents before children.

    ``depth`` defaults to the deepest nesting the limits allow.
    """
    if depth is None:
        depth = (service.limits or TemplateLimits()).max_stack_nesting_depth
    proposed = replace(
        stack,
        template=definition.template,
        files=dict(definition.files),
        environments=tuple(definition.environments),
        parameters=dict(definition.parameters),
    )
    found: list[NestedPreview] = []
    _preview(service, proposed, depth, "", found)
    return found


def _preview(
    service: StackService,
    proposed: StackRecord,
    depth: int,
    path: str,
    found: list[NestedPreview],
) -> None:
    """``proposed``: the stack with the definition the update gives it (a nested stack's
    built as the engine builds it, so its environment, parameters and timeout are those
    the update would give it)."""
    stack = proposed
    result = validate_stack(proposed, service.plugins, service.limits)
    if not result.ok:
        raise TemplateError(result.errors)
    if not path:
        service.check_nested(proposed, result)
    records = service.resources.by_stack(stack.id)
    desired, problems = desired_resources(
        result, service.plugins.schemas(), recorded_scope(result, records, service.plugins)
    )
    plan, more = plan_changes(desired, records)
    if problems or more:
        raise TemplateError([*problems, *more])
    live = live_records(records)
    wanted = {resource.name: resource for resource in desired}
    plan = _as_applied(service, result, plan, live, wanted)
    here = path or stack.name
    found.append(NestedPreview(here, stack.name, plan))
    if depth <= 0:
        return
    children = {child.id: child for child in service.stacks.children(stack.id)}
    for step in plan:
        name = step.key.resource
        if step.operation in _ADDING and name in wanted:
            _added(service, _Parent(proposed, result), wanted[name], depth - 1, here, found)
        record = live.get(name)
        child = children.get(record.physical_id or "") if record is not None else None
        if record is None or child is None:
            continue
        if step.operation is Operation.UPDATE and name in wanted:
            update = _ChildUpdate(proposed, result, step, record, wanted[name])
            _preview_child(service, update, child, depth, f"{here}/{name}", found)
        elif step.operation in _REMOVING:
            _removed(service, child, depth - 1, f"{here}/{name}", found)


#: Steps after which the resource's current nested stack is gone.
_REMOVING = frozenset({Operation.DELETE, Operation.RETAIN, Operation.CREATE_REPLACEMENT})
#: Steps that make a new nested stack for the resource.
_ADDING = frozenset({Operation.CREATE, Operation.CREATE_REPLACEMENT})


def _as_applied(
    service: StackService,
    result: ValidationResult,
    plan: Plan,
    live: dict[str, ResourceRecord],
    wanted: dict[str, DesiredResource],
) -> Plan:
    """The plan as apply carries it out: an update that the resource's plugin turns into a
    replacement (Heat's ``needs_replace_with_prop_diff``) is a replacement."""
    steps: dict[StepKey, Step] = {}
    for key, step in plan.steps.items():
        record = live.get(key.resource)
        if step.operation is Operation.UPDATE and record is not None and key.resource in wanted:
            step = _replacing(service, result, step, record, wanted[key.resource]) or step
        steps[key] = step
    return Plan(steps)


def _replacing(
    service: StackService,
    result: ValidationResult,
    step: Step,
    record: ResourceRecord,
    wanted: DesiredResource,
) -> Step | None:
    """The step as a replacement when the plugin replaces rather than updates."""
    if step.decided_at_apply or contains_unknown(dict(wanted.properties)):
        return None
    plugin = _plugin(service, result, step.key.resource)
    if plugin is None:
        return None
    schemas = service.plugins.schemas()
    new, _ = validate_properties(plugin.schema, dict(wanted.properties), schemas)
    old, _ = validate_properties(plugin.schema, dict(record.properties), schemas)
    if not plugin.needs_replacement(old, new, step.changed):
        return None
    changed = ", ".join(sorted(step.changed))
    reason = f"{plugin.type_name} replaces the resource when {changed} change"
    return replace(step, operation=Operation.CREATE_REPLACEMENT, reason=reason)


def _plugin(service: StackService, result: ValidationResult, name: str) -> ResourcePlugin | None:
    type_name, is_template = resolved_type(result, service.plugins, name)
    plugins = service.plugins
    plugin_class = plugins.template_plugin(type_name) if is_template else plugins.get(type_name)
    return plugin_class() if plugin_class is not None else None


def _removed(
    service: StackService, stack: StackRecord, depth: int, path: str, found: list[NestedPreview]
) -> None:
    """A nested stack that goes with its parent resource: every resource of it is deleted,
    and so on down (Heat lists them all as deleted)."""
    records = service.resources.by_stack(stack.id)
    plan, _ = plan_changes([], records)
    found.append(NestedPreview(path, stack.name, plan))
    if depth <= 0:
        return
    children = {child.id: child for child in service.stacks.children(stack.id)}
    for name, record in sorted(live_records(records).items()):
        child = children.get(record.physical_id or "")
        if child is not None:
            _removed(service, child, depth - 1, f"{path}/{name}", found)


@dataclass(frozen=True)
class _ChildUpdate:
    """What the parent's plan says about a resource whose nested stack is updated."""

    proposed: StackRecord
    result: ValidationResult
    step: Step
    record: ResourceRecord
    wanted: DesiredResource


def _preview_child(
    service: StackService,
    update: _ChildUpdate,
    child: StackRecord,
    depth: int,
    child_path: str,
    found: list[NestedPreview],
) -> None:
    """The child's plan, its new definition built by the resource's own plugin."""
    name, record, proposed = update.step.key.resource, update.record, update.proposed
    plugin = _plugin(service, update.result, name)
    if not isinstance(plugin, ChildStackPlugin):
        return
    properties: dict[str, Any] = dict(update.wanted.properties)
    if contains_unknown(properties):
        found.append(NestedPreview(child_path, child.name, None, "decided while applying"))
        return
    schemas = service.plugins.schemas()
    converted, _ = validate_properties(plugin.schema, properties, schemas)
    old, _ = validate_properties(plugin.schema, dict(record.properties), schemas)
    client = _client(service, proposed, update.result, name)
    context = ProviderContext.create(record.type, name, clients={STACKS_CLIENT: client})
    request = UpdateRequest(
        name=name,
        physical_id=record.physical_id,
        old_properties=old,
        new_properties=converted,
        changed=update.step.changed,
        provider_data=record.provider_data,
        update_policy=dict(update.wanted.update_policy),
        old_update_policy=dict(record.update_policy),
        attributes_needed=attributes_needed(update.result).get(name, frozenset()),
    )
    try:
        nested = plugin.child_for_update(context, request)
    except (ProviderError, KilnError) as error:
        found.append(NestedPreview(child_path, child.name, None, str(error)))
        return
    _preview(service, client.defined(child, nested), depth - 1, child_path, found)


def _client(
    service: StackService, stack: StackRecord, result: ValidationResult, name: str
) -> NestedStackClient:
    """The stack client a nested stack resource gets, reading its stack's proposed
    definition and starting nothing (a preview runs no operation)."""
    return NestedStackClient(
        stack,
        name,
        service.stacks,
        service.resources,
        service.plugins,
        service.limits,
        launch=lambda stack_id: None,
        facade=resource_facade(result, name),
    )


@dataclass(frozen=True)
class _Parent:
    """A stack as the preview sees it: its new definition, validated."""

    stack: StackRecord
    result: ValidationResult


def _added(
    service: StackService,
    parent: _Parent,
    wanted: DesiredResource,
    depth: int,
    parent_path: str,
    found: list[NestedPreview],
) -> None:
    """A new nested stack, built by the resource's plugin as the create would build it:
    every resource of it is added, and so on down (Heat lists them all as added)."""
    name, stack = wanted.name, parent.stack
    plugin = _plugin(service, parent.result, name)
    if not isinstance(plugin, ChildStackPlugin):
        return
    path, child_name = f"{parent_path}/{name}", f"{stack.name}-{name}"
    properties: dict[str, Any] = dict(wanted.properties)
    if contains_unknown(properties):
        found.append(NestedPreview(path, child_name, None, "decided while applying"))
        return
    converted, _ = validate_properties(plugin.schema, properties, service.plugins.schemas())
    client = _client(service, stack, parent.result, name)
    request = CreateRequest(
        name=name,
        properties=converted,
        idempotency_token=f"preview-{name}",
        physical_name=child_name,
        update_policy=dict(wanted.update_policy),
        attributes_needed=attributes_needed(parent.result).get(name, frozenset()),
    )
    context = ProviderContext.create(wanted.type, name, clients={STACKS_CLIENT: client})
    try:
        nested = plugin.child_for_create(context, request)
    except (ProviderError, KilnError) as error:
        found.append(NestedPreview(path, child_name, None, str(error)))
        return
    record = StackRecord(
        id=new_id(),
        name=child_name,
        project_id=stack.project_id,
        parent_id=stack.id,
        parent_resource=name,
        nesting_depth=stack.nesting_depth + 1,
    )
    _preview_new(service, client.defined(record, nested), depth, path, found)


def _preview_new(
    service: StackService, stack: StackRecord, depth: int, path: str, found: list[NestedPreview]
) -> None:
    result = validate_stack(stack, service.plugins, service.limits)
    if not result.ok:
        found.append(NestedPreview(path, stack.name, None, result.errors[0].render()))
        return
    desired, _ = desired_resources(result, service.plugins.schemas())
    plan, _ = plan_changes(desired, [])
    found.append(NestedPreview(path, stack.name, plan))
    if depth <= 0:
        return
    for resource in desired:
        _added(service, _Parent(stack, result), resource, depth - 1, path, found)
