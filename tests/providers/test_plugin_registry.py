"""The plugin registry: one plugin per type, schemas derived from plugins, entry points."""

from __future__ import annotations

import pytest
from plugin_support import InstantPlugin

from kiln.providers.registry import (
    DuplicatePluginError,
    PluginRegistry,
    load_plugin_registry,
    load_schema_registry,
)
from kiln.resources.heat import PLUGINS, register
from kiln.resources.heat.none import NoneResource
from kiln.schema.registry import DuplicateSchemaError
from kiln.schema.resource_schema import ResourceSchema
from kiln.schema.types import SchemaDefinitionError

HEAT_TYPES = [
    "OS::Heat::AutoScalingGroup",
    "OS::Heat::CloudConfig",
    "OS::Heat::Delay",
    "OS::Heat::MultipartMime",
    "OS::Heat::None",
    "OS::Heat::RandomString",
    "OS::Heat::ResourceChain",
    "OS::Heat::ResourceGroup",
    "OS::Heat::ScalingPolicy",
    "OS::Heat::SoftwareConfig",
    "OS::Heat::SoftwareDeployment",
    "OS::Heat::SoftwareDeploymentGroup",
    "OS::Heat::SoftwareDeployments",
    "OS::Heat::Stack",
    "OS::Heat::StructuredConfig",
    "OS::Heat::StructuredDeployment",
    "OS::Heat::StructuredDeploymentGroup",
    "OS::Heat::StructuredDeployments",
    "OS::Heat::TestResource",
    "OS::Heat::Value",
    "OS::Heat::WaitCondition",
    "OS::Heat::WaitConditionHandle",
]
#: Every installed provider's types (the AWS types that need no account among them).
INSTALLED_TYPES = [
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle",
    "Local::HealthMonitor",
    "Local::LoadBalancer",
    "Local::Pool",
    "Local::PoolMember",
    "Local::Server",
    "Local::Volume",
    "Local::VolumeAttachment",
    *HEAT_TYPES,
]


class Widget(InstantPlugin):
    type_name = "Test::Widget"
    schema = ResourceSchema("Test::Widget")
    created_id = "w"


class OtherWidget(Widget):
    """A second plugin claiming the same type."""


def test_register_and_get() -> None:
    registry = PluginRegistry()
    registry.register(Widget)
    assert (registry.get("Test::Widget"), registry.get("Test::Gadget")) == (Widget, None)
    assert ("Test::Widget" in registry, len(registry), registry.type_names()) == (
        True,
        1,
        ["Test::Widget"],
    )
    assert registry.schemas().get("Test::Widget") is Widget.schema


def test_duplicate_type_is_an_error() -> None:
    registry = PluginRegistry()
    registry.register(Widget)
    with pytest.raises(DuplicatePluginError) as raised:
        registry.register(OtherWidget)
    assert str(raised.value) == "resource type 'Test::Widget' is already registered by Widget"
    assert isinstance(raised.value, DuplicateSchemaError)
    assert registry.get("Test::Widget") is Widget


def test_schema_for_another_type_is_refused_when_the_class_is_declared() -> None:
    with pytest.raises(SchemaDefinitionError) as raised:

        class Mislabelled(Widget):
            type_name = "Test::Gadget"
            schema = ResourceSchema("Test::Widget")

    assert str(raised.value) == (
        "plugin Mislabelled declares type 'Test::Gadget' but its schema is for 'Test::Widget'"
    )


def test_heat_register_adds_every_plugin_and_the_test_constraint() -> None:
    registry = PluginRegistry()
    register(registry)
    assert registry.type_names() == HEAT_TYPES
    assert registry.get("OS::Heat::None") is NoneResource
    assert registry.schemas().type_names() == HEAT_TYPES
    assert registry.custom_constraints.names() == ["test_constr"]
    assert len(PLUGINS) == 22


def test_entry_points_give_plugins_and_the_schemas_the_template_layer_uses() -> None:
    plugins = load_plugin_registry()
    schemas = load_schema_registry()
    assert plugins.type_names() == INSTALLED_TYPES
    assert schemas.type_names() == INSTALLED_TYPES
    assert "test_constr" in schemas.custom_constraints
