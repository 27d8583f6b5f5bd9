"""What a provider template's nested stack owes to the registry entry that chose it.

Two rules of Heat's follow from that entry. Inside the template, the entry no
longer applies: ``OS::Heat::RandomString: nested.yaml`` lets nested.yaml use
the real ``OS::Heat::RandomString`` instead of itself. And when the type has
another implementation besides the entry (a plugin, or a top-level mapping
that a per-resource one overrides), that other one is a *facade*: the
template must take every property it requires and give every attribute it
has, so that it can stand in for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import ResourceSchema
from kiln.schema.types import PropertyType
from kiln.template.environment import Environment
from kiln.template.resource_registry import (
    TEMPLATE_SUFFIXES,
    RemoveEntry,
    ResolvedType,
    ResourceRegistry,
)
from kiln.template.resources_check import provider_schema
from kiln.template.validate import SourceText, ValidationResult, validate_template

__all__ = ["OwnMapping", "facade_problem", "own_mapping"]

#: Property types a facade declares -> the type a template parameter gives for it.
_PARAMETER_TYPES = {PropertyType.INTEGER: PropertyType.NUMBER, PropertyType.MAP: PropertyType.JSON}


@dataclass(frozen=True)
class OwnMapping:
    """The registry entry that made a resource a provider template, and its type."""

    type_name: str
    resolved: ResolvedType
    registry: ResourceRegistry

    def facade(self, is_known: Callable[[str], bool]) -> ResolvedType | None:
        """What the type means without this entry (Heat's lookup with it ignored)."""
        if self.type_name.endswith(TEMPLATE_SUFFIXES) or not self.resolved.entry:
            return None
        entry = self.resolved.entry
        ignoring = ResourceRegistry(
            (*self.registry.operations, RemoveEntry(entry[:-1], entry[-1])), self.registry.fallback
        )
        found, problems = ignoring.resolve(self.type_name, None, is_known=is_known)
        if problems or (found.template is None and not is_known(found.type_name)):
            return None
        return found


def own_mapping(
    parent: ValidationResult, resource: str, schemas: SchemaRegistry
) -> OwnMapping | None:
    """The user's registry entry that maps ``resource`` of ``parent`` to a template."""
    declaration = parent.template.resources.get(resource) if parent.template else None
    if declaration is None or parent.environment is None or not declaration.type:
        return None
    registry = parent.environment.resource_registry
    resolved, _ = registry.resolve(
        declaration.type, resource, is_known=lambda type_name: type_name in schemas
    )
    if resolved.template is None or not resolved.entry:
        return None
    return OwnMapping(declaration.type, resolved, registry)


def facade_problem(
    mapping: OwnMapping,
    provider: ValidationResult,
    schemas: SchemaRegistry,
    files: Mapping[str, str],
) -> str | None:
    """Why the provider template cannot stand in for the type's other implementation."""
    facade_type = mapping.facade(lambda type_name: type_name in schemas)
    if facade_type is None:
        return None
    facade = _facade_schema(mapping.type_name, facade_type, schemas, files)
    if facade is None:
        return None
    concrete = provider_schema(mapping.type_name, provider, require_values=True)
    type_name = mapping.type_name
    for name, wanted in facade.properties.items():
        given = concrete.properties.get(name)
        if given is None:
            if wanted.required:
                return f"Required property {name} for facade {type_name} missing in provider"
            continue
        expected = _PARAMETER_TYPES.get(wanted.type, wanted.type)
        if wanted.type is not PropertyType.JSON and expected != given.type:
            return (
                f"Property {name} type mismatch between facade {type_name} "
                f"({wanted.type.value}) and provider ({given.type.value})"
            )
    for name, given in concrete.properties.items():
        if given.required and name not in facade.properties:
            return f"Provider requires property {name} unknown in facade {type_name}"
    for name in facade.attributes:
        if name not in concrete.attributes and name != "show":
            return f"Attribute {name} for facade {type_name} missing in provider"
    return None


def _facade_schema(
    type_name: str, facade: ResolvedType, schemas: SchemaRegistry, files: Mapping[str, str]
) -> ResourceSchema | None:
    if facade.template is None:
        return schemas.get(facade.type_name)
    text = files.get(facade.template)
    if text is None:
        return None
    result = validate_template(
        SourceText(facade.template, text), registry=schemas, files=files, environment=Environment()
    )
    if result.template is None:
        return None
    return provider_schema(type_name, result, require_values=True)
