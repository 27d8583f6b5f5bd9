"""Schema declarations and the registry: definition errors, lookups, documentation forms."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.schema.constraints import (
    AllowedPattern,
    AllowedValues,
    CustomConstraint,
    CustomConstraintRegistry,
    Length,
    Modulo,
    Range,
)
from kiln.schema.registry import DuplicateSchemaError, SchemaRegistry
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, SchemaDefinitionError, UpdatePolicy

STRING = PropertyType.STRING


def server() -> ResourceSchema:
    return ResourceSchema(
        "OS::Nova::Server",
        properties={
            "name": PropertySchema(STRING, "Server name", update_policy=UpdatePolicy.IN_PLACE),
            "flavor": PropertySchema(
                STRING, required=True, constraints=(CustomConstraint("nova.flavor"),)
            ),
            "networks": PropertySchema(
                PropertyType.LIST,
                item=PropertySchema(
                    PropertyType.MAP,
                    properties={
                        "port": PropertySchema(STRING, required=True),
                        "tag": PropertySchema(STRING, default="x", constraints=(Length(1, 8),)),
                    },
                ),
                constraints=(Length(max=4),),
            ),
            "zone": PropertySchema(
                STRING, constraints=(AllowedValues(("a", "b")), AllowedPattern("[a-z]"))
            ),
            "size": PropertySchema(
                PropertyType.INTEGER,
                default=2,
                constraints=(Range(1, 8), Modulo(2, 0)),
                update_policy=UpdatePolicy.IMMUTABLE,
            ),
            "extra": PropertySchema(PropertyType.JSON),
        },
        attributes={
            "first_address": AttributeSchema("The first IP address", STRING),
            "show": AttributeSchema("Everything"),
        },
        description="A virtual machine",
    )


def test_register_get_and_names() -> None:
    registry = SchemaRegistry([server()])
    registry.register(ResourceSchema("OS::Heat::None"))
    assert registry.type_names() == ["OS::Heat::None", "OS::Nova::Server"]
    assert registry.get("OS::Nova::Server") == server()
    assert registry.get("OS::Nova::Nothing") is None
    assert "OS::Heat::None" in registry
    assert len(registry) == 2
    assert isinstance(registry.custom_constraints, CustomConstraintRegistry)


def test_duplicate_type_is_refused() -> None:
    registry = SchemaRegistry([server()])
    with pytest.raises(DuplicateSchemaError) as caught:
        registry.register(ResourceSchema("OS::Nova::Server"))
    assert str(caught.value) == "resource type 'OS::Nova::Server' is already registered"


def test_shared_custom_constraints() -> None:
    constraints = CustomConstraintRegistry()
    assert SchemaRegistry(custom_constraints=constraints).custom_constraints is constraints


DEFINITION_ERRORS = [
    pytest.param(
        lambda: PropertySchema(STRING, item=PropertySchema(STRING)),
        "an item schema is only valid for a list, not a string",
        id="item-on-string",
    ),
    pytest.param(
        lambda: PropertySchema(PropertyType.LIST, properties={}),
        "nested properties are only valid for a map, not a list",
        id="properties-on-list",
    ),
    pytest.param(
        lambda: PropertySchema(PropertyType.INTEGER, constraints=(Length(1),)),
        "the length constraint is not valid for a property of type integer",
        id="length-on-integer",
    ),
    pytest.param(
        lambda: PropertySchema(PropertyType.MAP, constraints=(AllowedValues(("a",)),)),
        "the allowed_values constraint is not valid for a property of type map",
        id="allowed-values-on-map",
    ),
    pytest.param(
        lambda: PropertySchema(PropertyType.JSON, constraints=(CustomConstraint("x"),)),
        "the custom_constraint constraint is not valid for a property of type json",
        id="custom-on-json",
    ),
    pytest.param(
        lambda: PropertySchema(PropertyType.INTEGER, default="many"),
        'invalid default: expected an integer, got "many"',
        id="default-wrong-type",
    ),
    pytest.param(
        lambda: PropertySchema(STRING, default="abc", constraints=(Length(5),)),
        "invalid default: length (3) must be at least 5",
        id="default-breaks-constraint",
    ),
    pytest.param(
        lambda: PropertySchema("text"),  # type: ignore[arg-type]
        "'text' is not a valid PropertyType",
        id="unknown-type",
    ),
    pytest.param(
        lambda: ResourceSchema(""), "a resource type needs a non-empty name", id="no-name"
    ),
]


@pytest.mark.parametrize(("build", "message"), DEFINITION_ERRORS)
def test_definition_errors(build: Any, message: str) -> None:
    with pytest.raises((SchemaDefinitionError, ValueError)) as caught:
        build()
    assert str(caught.value) == message


def test_custom_constraint_on_default_is_not_checked_at_definition() -> None:
    schema = PropertySchema(
        STRING, default="m1.tiny", constraints=(CustomConstraint("nova.flavor"),)
    )
    assert schema.has_default


UPDATE_POLICIES = [
    pytest.param(UpdatePolicy.IN_PLACE, True, False, id="in-place"),
    pytest.param(UpdatePolicy.REPLACE, False, False, id="replace"),
    pytest.param(UpdatePolicy.IMMUTABLE, False, True, id="immutable"),
]


@pytest.mark.parametrize(("policy", "update_allowed", "immutable"), UPDATE_POLICIES)
def test_update_policy_flags(policy: UpdatePolicy, update_allowed: bool, immutable: bool) -> None:
    schema = PropertySchema(STRING, update_policy=policy)
    assert (schema.update_allowed, schema.immutable) == (update_allowed, immutable)


def test_default_update_policy_is_replace() -> None:
    assert PropertySchema(STRING).update_policy is UpdatePolicy.REPLACE


def test_declarations_are_immutable() -> None:
    schema = server()
    with pytest.raises(TypeError):
        schema.properties["new"] = PropertySchema(STRING)  # type: ignore[index]


def test_to_json_schema() -> None:
    assert server().to_json_schema() == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "OS::Nova::Server",
        "type": "object",
        "description": "A virtual machine",
        "properties": {
            "name": {"type": "string", "description": "Server name", "x-update-policy": "in_place"},
            "flavor": {
                "type": "string",
                "x-custom-constraints": ["nova.flavor"],
                "x-constraints": [{"custom_constraint": "nova.flavor"}],
                "x-update-policy": "replace",
            },
            "networks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "port": {"type": "string", "x-update-policy": "replace"},
                        "tag": {
                            "type": "string",
                            "default": "x",
                            "minLength": 1,
                            "maxLength": 8,
                            "x-constraints": [{"length": {"min": 1, "max": 8}}],
                            "x-update-policy": "replace",
                        },
                    },
                    "additionalProperties": False,
                    "required": ["port"],
                    "x-update-policy": "replace",
                },
                "maxItems": 4,
                "x-constraints": [{"length": {"max": 4}}],
                "x-update-policy": "replace",
            },
            "zone": {
                "type": "string",
                "enum": ["a", "b"],
                "pattern": "^(?:[a-z])$",
                "x-constraints": [{"allowed_values": ["a", "b"]}, {"allowed_pattern": "[a-z]"}],
                "x-update-policy": "replace",
            },
            "size": {
                "type": "integer",
                "default": 2,
                "minimum": 1,
                "maximum": 8,
                "multipleOf": 2,
                "x-constraints": [
                    {"range": {"min": 1, "max": 8}},
                    {"modulo": {"step": 2, "offset": 0}},
                ],
                "x-update-policy": "immutable",
            },
            "extra": {"x-update-policy": "replace"},
        },
        "additionalProperties": False,
        "required": ["flavor"],
        "x-attributes": {
            "first_address": {"description": "The first IP address", "type": "string"},
            "show": {"description": "Everything"},
        },
    }


def test_to_heat_dict() -> None:
    heat = server().to_heat_dict()
    assert heat["resource_type"] == "OS::Nova::Server"
    assert heat["support_status"] == {"status": "SUPPORTED", "version": None, "message": ""}
    assert heat["attributes"]["show"] == {"description": "Everything"}
    assert heat["properties"]["networks"] == {
        "type": "list",
        "required": False,
        "update_allowed": False,
        "immutable": False,
        "constraints": [{"length": {"max": 4}}],
        "schema": {
            "*": {
                "type": "map",
                "required": False,
                "update_allowed": False,
                "immutable": False,
                "schema": {
                    "port": {
                        "type": "string",
                        "required": True,
                        "update_allowed": False,
                        "immutable": False,
                    },
                    "tag": {
                        "type": "string",
                        "required": False,
                        "update_allowed": False,
                        "immutable": False,
                        "default": "x",
                        "constraints": [{"length": {"min": 1, "max": 8}}],
                    },
                },
            }
        },
    }
    assert heat["properties"]["name"] == {
        "type": "string",
        "required": False,
        "update_allowed": True,
        "immutable": False,
        "description": "Server name",
    }
