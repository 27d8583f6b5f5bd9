"""Preview of an update with its nested stacks shown (Heat's ``--dry-run --show-nested``).

The parent's plan comes from the same planner the engine runs. For each
resource backed by a nested stack that the plan updates, the child's new
definition is built by the resource's own plugin from the new properties,
exactly as the update would build it, and previewed against the child's
records; and so on down to ``depth`` levels. A child whose properties are
not known before the update runs (they read attributes that change) is
listed without a plan: it can only be decided while applying.
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
from kiln.errors import KilnError, TemplateError
from kiln.plan.desired import desired_resources
from kiln.plan.planner import plan_changes
from kiln.plan.state import StackRecord
from kiln.plan.steps import Operation, Plan
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import STACKS_CLIENT, ChildStackPlugin
from kiln.providers.protocol import UpdateRequest
from kiln.schema.properties import validate_properties
from kiln.schema.values import contains_unknown
from kiln.service.stacks import StackDefinition, StackService


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
    found: list[NestedPreview] = []
    _preview(service, stack, definition, depth, "", found)
    return found


def _preview(
    service: StackService,
    stack: StackRecord,
    definition: StackDefinition,
    depth: int,
    path: str,
    found: list[NestedPreview],
) -> None:
    proposed = replace(
        stack,
        template=definition.template,
        files=dict(definition.files),
        environments=tuple(definition.environments),
        parameters=dict(definition.parameters),
    )
    result = service.validate(stack.name, definition, stack.id)
    if not result.ok:
        raise TemplateError(result.errors)
    records = service.resources.by_stack(stack.id)
    desired, problems = desired_resources(
        result, service.plugins.schemas(), recorded_scope(result, records, service.plugins)
    )
    plan, more = plan_changes(desired, records)
    if problems or more:
        raise TemplateError([*problems, *more])
    found.append(NestedPreview(path or stack.name, stack.name, plan))
    if depth <= 0:
        return
    live = live_records(records)
    children = {child.id: child for child in service.stacks.children(stack.id)}
    wanted = {resource.name: resource for resource in desired}
    needed = attributes_needed(result)
    for step in plan.by_operation(Operation.UPDATE):
        name = step.key.resource
        record = live.get(name)
        child = children.get(record.physical_id or "") if record is not None else None
        if record is None or child is None or name not in wanted:
            continue
        child_path = f"{path or stack.name}/{name}"
        type_name, is_template = resolved_type(result, service.plugins, name)
        plugins = service.plugins
        plugin_class = plugins.template_plugin(type_name) if is_template else plugins.get(type_name)
        plugin = plugin_class() if plugin_class is not None else None
        if not isinstance(plugin, ChildStackPlugin):
            continue
        properties: dict[str, Any] = dict(wanted[name].properties)
        if contains_unknown(properties):
            found.append(NestedPreview(child_path, child.name, None, "decided while applying"))
            continue
        converted, _ = validate_properties(plugin.schema, properties, service.plugins.schemas())
        old, _ = validate_properties(
            plugin.schema, dict(record.properties), service.plugins.schemas()
        )
        client = NestedStackClient(
            proposed,
            name,
            service.stacks,
            service.resources,
            service.plugins,
            service.limits,
            launch=lambda stack_id: None,
            facade=resource_facade(result, name),
        )
        context = ProviderContext.create(record.type, name, clients={STACKS_CLIENT: client})
        request = UpdateRequest(
            name=name,
            physical_id=record.physical_id,
            old_properties=old,
            new_properties=converted,
            changed=step.changed,
            provider_data=record.provider_data,
            update_policy=dict(wanted[name].update_policy),
            old_update_policy=dict(record.update_policy),
            attributes_needed=needed.get(name, frozenset()),
        )
        try:
            nested = plugin.child_for_update(context, request)
        except (ProviderError, KilnError) as error:
            found.append(NestedPreview(child_path, child.name, None, str(error)))
            continue
        child_definition = StackDefinition(
            template=nested.template,
            files={**proposed.files, **nested.files},
            environments=proposed.environments,
            parameters=dict(nested.parameters),
        )
        _preview(service, child, child_definition, depth - 1, child_path, found)
