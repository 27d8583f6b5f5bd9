"""Nested stacks checked when a create, update or preview request arrives.

Heat validates a group's member definition (and a chain's members) before it
accepts a request, and refuses the request with a 400 when they are wrong:
nothing is created or changed. Kiln does the same for the plugins that say
what to check (:class:`ValidatedChildPlugin`). The child is built from the
resource's properties exactly as the engine builds it (the same environment,
parameters and files), validated, and its own nested stacks checked in turn
down to the nesting limit. A group of no members has nothing to check, so a
``count: 0`` can switch off a member that would not validate.

A child whose properties are not known before other resources exist (they
read attributes) cannot be built yet; it is validated when it is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kiln.config import TemplateLimits
from kiln.engine.nested import NestedStackClient
from kiln.engine.operation import resource_facade
from kiln.engine.resource_steps import resolved_type
from kiln.engine.validation import validate_stack
from kiln.errors import Diagnostic, KilnError
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.desired import desired_resources
from kiln.plan.planner import DesiredResource
from kiln.plan.state import StackRecord, new_id
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import STACKS_CLIENT, ValidatedChildPlugin
from kiln.providers.protocol import ResourcePlugin
from kiln.providers.registry import PluginRegistry
from kiln.schema.properties import validate_properties
from kiln.schema.values import contains_unknown
from kiln.template.validate import ValidationResult

#: The source name of a stack's own template in its diagnostics (see ``validate_stack``).
_OWN_TEMPLATE = "template"


@dataclass(frozen=True)
class NestedChecker:
    """What building and validating a child takes: the repositories the engine's stack
    client reads and the plugins and limits validation uses."""

    stacks: StackRepository
    resources: ResourceRepository
    plugins: PluginRegistry
    limits: TemplateLimits | None

    def problems(self, stack: StackRecord, result: ValidationResult) -> list[Diagnostic]:
        """Errors of the nested stacks ``stack`` (validated as ``result``) would make,
        located in ``stack``'s template where they come from it."""
        limits = self.limits or TemplateLimits()
        if result.template is None or stack.nesting_depth >= limits.max_stack_nesting_depth:
            return []
        checked = {name: plugin for name, plugin in self._checked_plugins(result)}
        if not checked:
            return []
        desired, problems = desired_resources(result, self.plugins.schemas())
        if problems:
            return []  # the operation reports them itself
        found: list[Diagnostic] = []
        for resource in desired:
            plugin = checked.get(resource.name)
            if plugin is not None:
                found += self._child_problems(stack, result, resource, plugin)
        return found

    def _checked_plugins(self, result: ValidationResult) -> Iterator[tuple[str, ResourcePlugin]]:
        for name in result.template.resources if result.template else ():
            type_name, is_template = resolved_type(result, self.plugins, name)
            plugin_class = None if is_template else self.plugins.get(type_name)
            plugin = plugin_class() if plugin_class is not None else None
            if isinstance(plugin, ValidatedChildPlugin):
                yield name, plugin

    def _child_problems(
        self,
        stack: StackRecord,
        result: ValidationResult,
        resource: DesiredResource,
        plugin: ResourcePlugin,
    ) -> list[Diagnostic]:
        name, properties = resource.name, dict(resource.properties)
        if contains_unknown(properties) or not isinstance(plugin, ValidatedChildPlugin):
            return []
        converted, errors = validate_properties(plugin.schema, properties, self.plugins.schemas())
        if errors:
            return []  # the parent's validation reports them
        client = NestedStackClient(
            stack,
            name,
            self.stacks,
            self.resources,
            self.plugins,
            self.limits,
            launch=lambda stack_id: None,
            facade=resource_facade(result, name),
        )
        context = ProviderContext.create(resource.type, name, clients={STACKS_CLIENT: client})
        try:
            child = plugin.child_for_validation(context, converted)
        except (ProviderError, KilnError):
            return []  # building it fails the same way when the resource is made
        if child is None:
            return []
        record = client.defined(
            StackRecord(
                id=new_id(),
                name=f"{stack.name}-{name}",
                project_id=stack.project_id,
                parent_id=stack.id,
                parent_resource=name,
                nesting_depth=stack.nesting_depth + 1,
            ),
            child,
        )
        child_result = validate_stack(record, self.plugins, self.limits)
        nested = child_result.errors or self.problems(record, child_result)
        return [_in_parent(diagnostic, result, name) for diagnostic in nested]


def _in_parent(diagnostic: Diagnostic, parent: ValidationResult, name: str) -> Diagnostic:
    """A child's problem as the parent reports it.

    One in a file the user wrote (a provider template) keeps its place there;
    one in the child's generated template is put on the resource's properties
    in the parent's template, the place in the child named in the message.
    """
    prefix = f"in the nested stack of {name}"
    if diagnostic.source != _OWN_TEMPLATE:
        return Diagnostic(
            diagnostic.code,
            f"{prefix}: {diagnostic.message}",
            diagnostic.path,
            diagnostic.severity,
            diagnostic.span,
            diagnostic.source,
        )
    template = parent.template
    assert template is not None
    declaration = template.resources[name]
    path = declaration.path / template.key("properties")
    inside = str(diagnostic.path) or "<root>"
    return Diagnostic(
        diagnostic.code,
        f"{prefix}, at {inside}: {diagnostic.message}",
        path,
        diagnostic.severity,
        template.document.source_map.span(path),
        _OWN_TEMPLATE,
    )
