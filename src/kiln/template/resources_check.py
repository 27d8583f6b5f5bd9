"""Resource types, properties, attributes and outputs checked against schemas.

Types resolve through the environment's resource registry first (aliases,
wildcards, provider templates), then against the schemas providers
registered. Properties are evaluated with resources still Unknown, so
everything that can be known before creation is checked now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kiln.errors import Diagnostic, EvaluationError, Severity, TemplatePath
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType
from kiln.template.conditions import ConditionValues, is_enabled
from kiln.template.environment import Environment
from kiln.template.functions.base import Resolver, Unknown
from kiln.template.model import ResourceDeclaration, Template
from kiln.template.resource_registry import ResolvedType

if TYPE_CHECKING:
    from kiln.template.validate import ValidationResult

#: ``deletion_policy: Snapshot`` on a type that cannot take snapshots.
UNSUPPORTED_DELETION_POLICY = "S6009"

#: Attributes every Heat resource has besides its schema's.
COMMON_ATTRIBUTES = frozenset({"show"})


def check_resources(
    template: Template,
    resolver: Resolver,
    environment: Environment,
    registry: SchemaRegistry,
    files: Mapping[str, str],
    lint: bool,
    nested: NestedValidator | None = None,
    require_values: bool = False,
) -> list[Diagnostic]:
    """``nested`` validates a provider template; None once nesting is too deep."""
    checker = _ResourceChecker(template, resolver, environment, registry, files, lint)
    checker.nested = nested
    checker.require_values = require_values
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


#: Validates a provider template given the properties its resource sets.
NestedValidator = Callable[[str, Environment, Mapping[str, Any]], "ValidationResult"]


def provider_schema(
    type_name: str,
    result: ValidationResult,
    require_values: bool,
    parameter_defaults: Mapping[str, Any] | None = None,
) -> ResourceSchema:
    """A provider template's parameters are its properties, its outputs its attributes.

    A parameter without a default is a required property only when values are
    required (creating a stack) and the environment's ``parameter_defaults``
    do not give it one: those reach nested stacks too, as in Heat.
    """
    defaults = parameter_defaults or {}
    properties = {
        name: PropertySchema(
            _PARAMETER_PROPERTY_TYPES.get(declaration.type_name, PropertyType.JSON),
            declaration.description,
            required=require_values and not declaration.has_default and name not in defaults,
        )
        for name, declaration in result.declarations.items()
    }
    outputs = result.template.outputs if result.template else {}
    return ResourceSchema(
        type_name,
        properties=properties,
        attributes={name: AttributeSchema() for name in outputs},
        dynamic_attributes=True,
    )


#: HOT/CFN parameter types -> the property types a provider resource accepts.
_PARAMETER_PROPERTY_TYPES = {
    "string": PropertyType.STRING,
    "number": PropertyType.NUMBER,
    "boolean": PropertyType.BOOLEAN,
    "comma_delimited_list": PropertyType.LIST,
    "json": PropertyType.JSON,
    "String": PropertyType.STRING,
    "Number": PropertyType.NUMBER,
    "CommaDelimitedList": PropertyType.LIST,
}


class _ResourceChecker:
    nested: NestedValidator | None = None
    require_values: bool = False

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
            schema, found = self._provider_template(resolved, resource, type_path)
            diagnostics += found
        else:
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
            property_diagnostics = _checked_properties(schema, values, self.registry)
            diagnostics += [d.under(properties_path) for d in property_diagnostics]
            if resolved.template is None and not schema.accepts_any_properties:
                diagnostics += self._policies(resource, schema)
        return schema, diagnostics

    def _policies(self, resource: ResourceDeclaration, schema: ResourceSchema) -> list[Diagnostic]:
        """``update_policy`` against the type's policy schema; Snapshot only where supported.

        As in Heat, a type that declares no update_policy schema accepts no
        update_policy keys at all.
        """
        diagnostics: list[Diagnostic] = []
        policy_path = resource.path / self.template.key("update_policy")
        policy, found = self.evaluate(resource.update_policy)
        diagnostics += found
        if isinstance(policy, dict) and policy:
            _, problems = validate_properties(schema.update_policy_schema(), policy, self.registry)
            diagnostics += [d.under(policy_path) for d in problems]
        deletion, found = self.evaluate(resource.deletion_policy)
        diagnostics += found
        if (
            isinstance(deletion, str)
            and deletion.capitalize() == "Snapshot"
            and not schema.supports_snapshot
        ):
            diagnostics.append(
                Diagnostic(
                    UNSUPPORTED_DELETION_POLICY,
                    f'"{deletion}" deletion policy not supported by {schema.type_name}',
                    resource.path / self.template.key("deletion_policy"),
                )
            )
        return diagnostics

    def _unknown_type(self, type_name: str, written: str, path: TemplatePath) -> Diagnostic:
        shown = type_name if type_name == written else f"{written} (mapped to {type_name})"
        return Diagnostic(
            "S6001",
            f"unknown resource type {shown}",
            path,
            Severity.WARNING if self.lint else Severity.ERROR,
        )

    def _provider_template(
        self, resolved: ResolvedType, resource: ResourceDeclaration, path: TemplatePath
    ) -> tuple[ResourceSchema | None, list[Diagnostic]]:
        """Validate the provider template itself, then take its parameters as the schema."""
        location = resolved.template or ""
        if location not in self.files:
            message = f"provider template {location!r} is not in the files map sent with it"
            return None, [Diagnostic("F3006", message, path)]
        if self.nested is None:
            message = f"provider templates are nested too deeply at {location!r}"
            return None, [Diagnostic("L8003", message, path)]
        environment = self.environment.for_nested(resource.name, without=resolved.entry)
        given = resource.properties if isinstance(resource.properties, dict) else {}
        result = self.nested(location, environment, {name: Unknown(name) for name in given})
        # Properties the template does not declare are reported here, as S6002.
        nested = [d for d in result.diagnostics if d.code != "V5007"]
        if result.template is None:
            return None, nested
        schema = provider_schema(
            resource.type, result, self.require_values, self.environment.parameter_defaults
        )
        return schema, nested

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


def _checked_properties(
    schema: ResourceSchema, values: Any, registry: SchemaRegistry
) -> list[Diagnostic]:
    """The properties against the schema, then against the type's own checks.

    As in Heat, a type's own checks run only on properties that pass the
    schema: they read converted values, and a value of the wrong type is
    already reported. The converted values still hold Unknown for what is
    known only once other resources exist; the checks leave those alone.
    """
    converted, diagnostics = validate_properties(schema, values, registry)
    if schema.validator is None or isinstance(values, Unknown):
        return diagnostics
    if any(d.severity is Severity.ERROR for d in diagnostics):
        return diagnostics
    return diagnostics + schema.validator(converted)


def _attribute_references(
    template: Template, schemas: dict[str, ResourceSchema]
) -> Iterator[Diagnostic]:
    """``get_attr``/``Fn::GetAtt`` naming an attribute the resource's schema lacks."""
    for _, reference in template.references:
        if reference.kind != "attribute" or reference.attribute is None:
            continue
        schema = schemas.get(reference.name)
        attribute = reference.attribute
        if schema is None or schema.has_attribute(attribute) or attribute in COMMON_ATTRIBUTES:
            continue
        known = ", ".join(sorted(schema.attributes)) or "none"
        yield Diagnostic(
            "R4007",
            f"resource {reference.name!r} ({schema.type_name}) has no attribute {attribute!r} "
            f"(attributes: {known})",
            reference.path,
        )
