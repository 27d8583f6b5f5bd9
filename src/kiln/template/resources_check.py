"""Resource types, properties, attributes and outputs checked against schemas.

Types resolve through the environment's resource registry first (aliases,
wildcards, provider templates), then against the schemas providers
registered. Properties are evaluated with resources still Unknown, so
everything that can be known before creation is checked now.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kiln.errors import Diagnostic, EvaluationError, Severity, TemplatePath
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import ResourceSchema
from kiln.template.conditions import ConditionValues, is_enabled
from kiln.template.environment import Environment
from kiln.template.functions.base import Resolver, Unknown
from kiln.template.model import ResourceDeclaration, Template

#: Attributes every Heat resource has besides its schema's.
COMMON_ATTRIBUTES = frozenset({"show"})


def check_resources(
    template: Template,
    resolver: Resolver,
    environment: Environment,
    registry: SchemaRegistry,
    files: Mapping[str, str],
    lint: bool,
) -> list[Diagnostic]:
    checker = _ResourceChecker(template, resolver, environment, registry, files, lint)
    diagnostics: list[Diagnostic] = []
    schemas: dict[str, ResourceSchema] = {}
    for resource in template.resources.values():
        schema, found = checker.resource(resource)
        diagnostics += found
        if schema is not None:
            schemas[resource.name] = schema
    diagnostics += list(_attribute_references(template, schemas))
    diagnostics += list(checker.outputs())
    diagnostics += list(checker.condition_errors())
    return diagnostics


class _ResourceChecker:
    def __init__(
        self,
        template: Template,
        resolver: Resolver,
        environment: Environment,
        registry: SchemaRegistry,
        files: Mapping[str, str],
        lint: bool,
    ) -> None:
        self.files = files
        self.template = template
        self.resolver = resolver
        self.environment = environment
        self.registry = registry
        self.lint = lint

    def evaluate(self, node: Any) -> tuple[Any, list[Diagnostic]]:
        try:
            return self.resolver.resolve(node), []
        except EvaluationError as error:
            return None, [error.diagnostic()]

    def evaluate_properties(self, properties: Any) -> tuple[Any, list[Diagnostic]]:
        """Each property on its own, so one failing function hides no other problem."""
        if not isinstance(properties, dict):
            return self.evaluate(properties)
        values: dict[Any, Any] = {}
        diagnostics: list[Diagnostic] = []
        for name, node in properties.items():
            value, found = self.evaluate({name: node})
            if found:
                diagnostics += found
                values[name] = Unknown(f"property {name}")
            elif isinstance(value, dict):
                values.update(value)
        return values, diagnostics

    def resource(
        self, resource: ResourceDeclaration
    ) -> tuple[ResourceSchema | None, list[Diagnostic]]:
        if not resource.type:
            return None, []
        type_path = resource.path / self.template.key("type")
        resolved, diagnostics = self.environment.resource_registry.resolve(
            resource.type, resource.name
        )
        diagnostics = [d.under(type_path) if not d.path else d for d in diagnostics]
        if resolved.template is not None:
            return None, diagnostics + self._provider_template(resolved.template, type_path)
        schema = self.registry.get(resolved.type_name)
        if schema is None:
            diagnostics.append(self._unknown_type(resolved.type_name, resource.type, type_path))
        enabled = is_enabled(self.resolver, resource.condition, resource.path)
        if enabled is False:
            return schema, diagnostics
        properties_path = resource.path / self.template.key("properties")
        values, found = self.evaluate_properties(resource.properties)
        diagnostics += found
        diagnostics += self.evaluate(resource.metadata)[1]
        if schema is not None:
            _, property_diagnostics = validate_properties(schema, values, self.registry)
            diagnostics += [d.under(properties_path) for d in property_diagnostics]
        return schema, diagnostics

    def _unknown_type(self, type_name: str, written: str, path: TemplatePath) -> Diagnostic:
        shown = type_name if type_name == written else f"{written} (mapped to {type_name})"
        return Diagnostic(
            "S6001",
            f"unknown resource type {shown}",
            path,
            Severity.WARNING if self.lint else Severity.ERROR,
        )

    def _provider_template(self, location: str, path: TemplatePath) -> list[Diagnostic]:
        if location in self.files:
            return []
        return [
            Diagnostic(
                "F3006",
                f"provider template {location!r} is not in the files map sent with the template",
                path,
            )
        ]

    def outputs(self) -> Iterator[Diagnostic]:
        for output in self.template.outputs.values():
            enabled = is_enabled(self.resolver, output.condition, output.path)
            if enabled is False:
                continue
            _, found = self.evaluate(output.value)
            yield from found

    def condition_errors(self) -> Iterator[Diagnostic]:
        conditions = getattr(self.resolver.scope, "conditions", None)
        if not isinstance(conditions, ConditionValues):
            return
        for name in conditions:
            conditions[name]
        for error in conditions.errors.values():
            yield error.diagnostic()


def _attribute_references(
    template: Template, schemas: dict[str, ResourceSchema]
) -> Iterator[Diagnostic]:
    """``get_attr``/``Fn::GetAtt`` naming an attribute the resource's schema lacks."""
    for _, reference in template.references:
        if reference.kind != "attribute" or reference.attribute is None:
            continue
        schema = schemas.get(reference.name)
        if schema is None or schema.dynamic_attributes:
            continue
        attribute = reference.attribute
        if attribute in schema.attributes or attribute in COMMON_ATTRIBUTES:
            continue
        known = ", ".join(sorted(schema.attributes)) or "none"
        yield Diagnostic(
            "R4007",
            f"resource {reference.name!r} ({schema.type_name}) has no attribute {attribute!r} "
            f"(attributes: {known})",
            reference.path,
        )
