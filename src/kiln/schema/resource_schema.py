"""Declarative schemas of resource types: one declaration per property.

A plugin declares its properties and attributes once::

    SCHEMA = ResourceSchema(
        "OS::Nova::Server",
        properties={
            "name": PropertySchema(PropertyType.STRING, update_policy=UpdatePolicy.IN_PLACE),
            "flavor": PropertySchema(
                PropertyType.STRING, required=True, constraints=(CustomConstraint("nova.flavor"),)
            ),
            "networks": PropertySchema(
                PropertyType.LIST,
                item=PropertySchema(
                    PropertyType.MAP,
                    properties={"port": PropertySchema(PropertyType.STRING)},
                ),
            ),
        },
        attributes={"first_address": AttributeSchema("The first IP address")},
    )

Mistakes in a declaration (a ``length`` on an integer, a default that breaks
its own constraints) raise :class:`SchemaDefinitionError` when the plugin is
imported, not when a user's template happens to exercise them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kiln.errors import Diagnostic
from kiln.schema.constraints import (
    AllowedPattern,
    AllowedValues,
    Constraint,
    CustomConstraint,
    Length,
    Modulo,
    Range,
    check_all,
)
from kiln.schema.types import (
    SUPPORTED,
    PropertyType,
    SchemaDefinitionError,
    SupportStatus,
    UpdatePolicy,
    coerce_property_scalar,
)

__all__ = ["AttributeSchema", "PropertiesValidator", "PropertySchema", "ResourceSchema"]

#: A type's own checks of its converted property values, beyond what the
#: declarations say (a sum of minimums against a length): problems with paths
#: relative to the properties. Pure and quick, and values not known yet
#: (:class:`~kiln.schema.values.Unknown`) are left alone.
PropertiesValidator = Callable[[Mapping[str, Any]], list[Diagnostic]]

_EMPTY: Mapping[str, Any] = MappingProxyType({})

_JSON_SCHEMA_TYPES = {
    PropertyType.STRING: "string",
    PropertyType.INTEGER: "integer",
    PropertyType.NUMBER: "number",
    PropertyType.BOOLEAN: "boolean",
    PropertyType.LIST: "array",
    PropertyType.MAP: "object",
}


@dataclass(frozen=True)
class PropertySchema:
    """The type, rules and update behaviour of one resource property.

    ``default=None`` means "no default" (as in Heat). ``item`` describes every
    element of a LIST; ``properties`` the known keys of a MAP (a MAP without
    them accepts any keys).
    """

    type: PropertyType
    description: str = ""
    required: bool = False
    default: Any = None
    constraints: tuple[Constraint, ...] = ()
    update_policy: UpdatePolicy = UpdatePolicy.REPLACE
    item: PropertySchema | None = None
    properties: Mapping[str, PropertySchema] | None = None
    support_status: SupportStatus = SUPPORTED

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", PropertyType(self.type))
        object.__setattr__(self, "update_policy", UpdatePolicy(self.update_policy))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        if self.item is not None and self.type is not PropertyType.LIST:
            raise SchemaDefinitionError(
                f"an item schema is only valid for a list, not a {self.type}"
            )
        if self.properties is not None:
            if self.type is not PropertyType.MAP:
                raise SchemaDefinitionError(
                    f"nested properties are only valid for a map, not a {self.type}"
                )
            object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))
        for constraint in self.constraints:
            if self.type not in constraint.applies_to:
                kind, property_type = constraint.kind, self.type
                raise SchemaDefinitionError(
                    f"the {kind} constraint is not valid for a property of type {property_type}"
                )
        self._check_default()

    def _check_default(self) -> None:
        """Heat validates a default against the type and every non-custom constraint."""
        if self.default is None:
            return
        converted, problem = coerce_property_scalar(self.type, self.default)
        if problem is None:
            rules = [c for c in self.constraints if not isinstance(c, CustomConstraint)]
            failures = check_all(rules, converted, value_type=self.type)
            problem = failures[0].message if failures else None
        if problem is not None:
            raise SchemaDefinitionError(f"invalid default: {problem}")

    @property
    def update_allowed(self) -> bool:
        return self.update_policy is UpdatePolicy.IN_PLACE

    @property
    def immutable(self) -> bool:
        return self.update_policy is UpdatePolicy.IMMUTABLE

    @property
    def has_default(self) -> bool:
        return self.default is not None

    def to_json_schema(self) -> dict[str, Any]:
        """A JSON Schema fragment describing this property, for documentation."""
        result: dict[str, Any] = {}
        if self.type in _JSON_SCHEMA_TYPES:
            result["type"] = _JSON_SCHEMA_TYPES[self.type]
        if self.description:
            result["description"] = self.description
        if self.default is not None:
            result["default"] = self.default
        if self.item is not None:
            result["items"] = self.item.to_json_schema()
        if self.properties is not None:
            result.update(_object_schema(self.properties))
        for constraint in self.constraints:
            _add_constraint_keywords(result, constraint, self.type)
        if self.constraints:
            result["x-constraints"] = [constraint.to_dict() for constraint in self.constraints]
        result["x-update-policy"] = self.update_policy.value
        if self.support_status != SUPPORTED:
            result["x-support-status"] = self.support_status.to_dict()
        return result

    def to_heat_dict(self) -> dict[str, Any]:
        """The form Heat's ``resource_types/{type}`` API shows for a property."""
        result: dict[str, Any] = {
            "type": self.type.value,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": self.immutable,
        }
        if self.description:
            result["description"] = self.description
        if self.default is not None:
            result["default"] = self.default
        if self.constraints:
            result["constraints"] = [constraint.to_dict() for constraint in self.constraints]
        if self.item is not None:
            result["schema"] = {"*": self.item.to_heat_dict()}
        elif self.properties is not None:
            result["schema"] = {name: sub.to_heat_dict() for name, sub in self.properties.items()}
        return result


def _object_schema(properties: Mapping[str, PropertySchema]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "properties": {name: schema.to_json_schema() for name, schema in properties.items()},
        "additionalProperties": False,
    }
    required = [name for name, schema in properties.items() if schema.required]
    if required:
        result["required"] = required
    return result


def _add_constraint_keywords(
    result: dict[str, Any], constraint: Constraint, property_type: PropertyType
) -> None:
    """Standard JSON Schema keywords where one exists (Heat's leniency is not expressed)."""
    if isinstance(constraint, Length):
        prefix = {PropertyType.LIST: "Items", PropertyType.MAP: "Properties"}.get(
            property_type, "Length"
        )
        if constraint.min is not None:
            result[f"min{prefix}"] = constraint.min
        if constraint.max is not None:
            result[f"max{prefix}"] = constraint.max
    elif isinstance(constraint, Range):
        if constraint.min is not None:
            result["minimum"] = constraint.min
        if constraint.max is not None:
            result["maximum"] = constraint.max
    elif isinstance(constraint, Modulo) and constraint.offset == 0:
        result["multipleOf"] = abs(constraint.step)
    elif isinstance(constraint, AllowedValues):
        if property_type is PropertyType.LIST:
            result.setdefault("items", {})["enum"] = list(constraint.values)
        else:
            result["enum"] = list(constraint.values)
    elif isinstance(constraint, AllowedPattern):
        result["pattern"] = f"^(?:{constraint.pattern})$"
    elif isinstance(constraint, CustomConstraint):
        result.setdefault("x-custom-constraints", []).append(constraint.name)


@dataclass(frozen=True)
class AttributeSchema:
    """An attribute a resource exposes through ``get_attr``/``Fn::GetAtt``."""

    description: str = ""
    type: PropertyType | None = None
    support_status: SupportStatus = SUPPORTED

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"description": self.description}
        if self.type is not None:
            result["type"] = PropertyType(self.type).value
        return result


@dataclass(frozen=True)
class ResourceSchema:
    """Everything the template layer needs to know about one resource type."""

    type_name: str
    properties: Mapping[str, PropertySchema] = field(default_factory=lambda: _EMPTY)
    attributes: Mapping[str, AttributeSchema] = field(default_factory=lambda: _EMPTY)
    description: str = ""
    support_status: SupportStatus = SUPPORTED
    #: Takes any property without checking (``OS::Heat::None`` stands in for any type).
    accepts_any_properties: bool = False
    #: Attribute names are open-ended (``OS::Heat::None``, groups' ``resource.N.attr``).
    dynamic_attributes: bool = False
    #: Open-ended attribute names under these prefixes only (an autoscaling group's
    #: ``resource.N`` and ``resource.N.attr``); any other name must be declared.
    attribute_prefixes: tuple[str, ...] = ()
    #: What the resource's ``update_policy`` section may hold (Heat's
    #: ``update_policy_schema``); a type without one accepts no update_policy.
    update_policy: Mapping[str, PropertySchema] = field(default_factory=lambda: _EMPTY)
    #: The plugin can take a snapshot before deleting (``deletion_policy: Snapshot``).
    supports_snapshot: bool = False
    #: A failed resource is replaced by the next update (Heat's rule); nested
    #: stacks say False: they are updated in place and their members decide.
    replace_when_failed: bool = True
    #: The plugin's own checks (``ResourcePlugin.validate``), run when a template
    #: is validated once the properties pass the declarations. The plugin
    #: registry sets it; it is data to the template layer, which may not import
    #: plugins. Not part of the schema's identity.
    validator: PropertiesValidator | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.type_name, str) or not self.type_name:
            raise SchemaDefinitionError("a resource type needs a non-empty name")
        object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))
        object.__setattr__(self, "update_policy", MappingProxyType(dict(self.update_policy)))

    def has_attribute(self, name: str) -> bool:
        """Whether ``get_attr`` may read ``name``: declared, or open-ended by this schema."""
        return (
            self.dynamic_attributes
            or name in self.attributes
            or name.startswith(self.attribute_prefixes)
        )

    def update_policy_schema(self) -> ResourceSchema:
        """The update_policy section as a schema of its own, to validate and convert it."""
        return ResourceSchema(f"{self.type_name} update_policy", properties=self.update_policy)

    def to_json_schema(self) -> dict[str, Any]:
        """A JSON Schema (2020-12) for the ``properties`` map, attributes as an extension."""
        result: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.type_name,
            "type": "object",
        }
        if self.description:
            result["description"] = self.description
        result.update(_object_schema(self.properties))
        result["x-attributes"] = {
            name: attribute.to_dict() for name, attribute in self.attributes.items()
        }
        if self.support_status != SUPPORTED:
            result["x-support-status"] = self.support_status.to_dict()
        return result

    def to_heat_dict(self) -> dict[str, Any]:
        """The body of Heat's ``GET /resource_types/{type}``."""
        return {
            "resource_type": self.type_name,
            "description": self.description,
            "properties": {name: schema.to_heat_dict() for name, schema in self.properties.items()},
            "attributes": {
                name: attribute.to_dict() for name, attribute in self.attributes.items()
            },
            "support_status": self.support_status.to_dict(),
        }
