"""The desired side of a plan, taken from a validated template.

Properties are evaluated against a scope: before anything exists every
reference to another resource is Unknown; during an apply the engine's scope
answers with recorded physical ids and attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.errors import Diagnostic, EvaluationError
from kiln.plan.planner import DesiredResource
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import ResourceSchema
from kiln.template.conditions import is_enabled
from kiln.template.functions.base import Resolver, Scope
from kiln.template.model import ResourceDeclaration, Template
from kiln.template.references import dependency_map
from kiln.template.validate import ValidationResult


def desired_resources(
    result: ValidationResult,
    registry: SchemaRegistry,
    scope: Scope | None = None,
) -> tuple[list[DesiredResource], list[Diagnostic]]:
    """Every enabled resource of a valid template, with properties resolved as far as possible.

    A resource whose condition is still Unknown is kept: creating it is the
    conservative reading until the condition can be evaluated.
    """
    template = result.template
    if template is None or result.scope is None:
        return [], []
    resolver = Resolver(scope or result.scope, result.limits)
    dependencies = dependency_map(template)
    environment = result.environment
    desired: list[DesiredResource] = []
    diagnostics: list[Diagnostic] = []
    for name, declaration in template.resources.items():
        if is_enabled(resolver, declaration.condition, declaration.path) is False:
            continue
        properties, found = _properties(resolver, declaration)
        diagnostics += found
        update_policy, found = _update_policy(resolver, declaration)
        diagnostics += found
        resolved_type = declaration.type
        implementation = declaration.type
        restricted: frozenset[str] = frozenset()
        schema = registry.get(resolved_type)
        if environment is not None:
            registry_entry, _ = environment.resource_registry.resolve(
                declaration.type, name, is_known=lambda type_name: type_name in registry
            )
            resolved_type = registry_entry.type_name
            implementation = registry_entry.template or resolved_type
            restricted = environment.resource_registry.restricted_actions_for(name)
            schema = registry.get(resolved_type)
            if registry_entry.template is not None:
                schema = _provider_template_schema(registry_entry.template)
        desired.append(
            DesiredResource(
                name=name,
                type=declaration.type,
                properties=properties,
                depends_on=frozenset(dependencies.get(name, ())),
                schema=schema,
                deletion_policy=_deletion_policy(resolver, declaration),
                update_policy=update_policy,
                restricted_actions=restricted,
                implementation=implementation,
            )
        )
    return desired, diagnostics


def _provider_template_schema(location: str) -> ResourceSchema:
    """A provider template's resource is a nested stack: every change updates it in place."""
    return ResourceSchema(
        location, accepts_any_properties=True, dynamic_attributes=True, replace_when_failed=False
    )


def deletion_policies(template: Template, scope: Scope) -> dict[str, str]:
    """Each resource's deletion policy, for when a later template drops it."""
    resolver = Resolver(scope)
    return {name: _deletion_policy(resolver, d) for name, d in template.resources.items()}


def _properties(
    resolver: Resolver, declaration: ResourceDeclaration
) -> tuple[Mapping[str, Any], list[Diagnostic]]:
    try:
        value = resolver.resolve(declaration.properties)
    except EvaluationError as error:
        return {}, [error.diagnostic()]
    return (value if isinstance(value, dict) else {}), []


def _update_policy(
    resolver: Resolver, declaration: ResourceDeclaration
) -> tuple[Mapping[str, Any], list[Diagnostic]]:
    try:
        value = resolver.resolve(declaration.update_policy)
    except EvaluationError as error:
        return {}, [error.diagnostic()]
    return (value if isinstance(value, dict) else {}), []


def _deletion_policy(resolver: Resolver, declaration: ResourceDeclaration) -> str:
    try:
        policy = resolver.resolve(declaration.deletion_policy)
    except EvaluationError:
        return "Delete"
    if isinstance(policy, str):
        return policy.capitalize()
    return "Delete"
