"""A resource type's own checks (its plugin's ``validate``) run when a template is validated.

Each case is one resource ``r`` whose properties start on line 6; problems are
located in the template like every other property diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.registry import PluginRegistry, load_plugin_registry
from kiln.resources.heat.none import NoneResource
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType
from kiln.template.validate import SourceText, validate_template

PLUGINS = load_plugin_registry()
FIRST_PROPERTY_LINE = 6


def template(type_name: str, properties: str) -> str:
    """``r`` of ``type_name`` with these (indented) property lines, and ``other`` to read."""
    return (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  r:\n"
        f"    type: {type_name}\n"
        "    properties:\n"
        f"{properties}"
        "  other:\n"
        "    type: OS::Heat::None\n"
    )


def problems(text: str, registry: PluginRegistry = PLUGINS) -> list[tuple[str, str, int]]:
    result = validate_template(SourceText("template", text), registry=registry.schemas())
    return [
        (d.code, str(d.path), d.span.line if d.span else 0)
        for d in result.diagnostics
        if d.code not in ("S6008",)  # the deprecated ``sequence`` property's notice
    ]


LENGTH_TOO_SHORT = "S6101"
EMPTY_SEQUENCE = "S6102"
WRONG_TYPE = "S6004"
REFUSED = "L1001"
INVALID = "L1002"

CASES = [
    pytest.param(
        "OS::Heat::RandomString",
        "      length: 3\n"
        "      character_classes: [{class: digits, min: 2}, {class: letters, min: 2}]\n",
        [(LENGTH_TOO_SHORT, "resources.r.properties.length", 6)],
        id="random-string-class-minimums-exceed-the-length",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      length: 3\n      character_sequences: [{sequence: '!@', min: 4}]\n",
        [(LENGTH_TOO_SHORT, "resources.r.properties.length", 6)],
        id="random-string-sequence-minimums-exceed-the-length",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      length: 3\n"
        "      character_classes: [{class: digits, min: 2}]\n"
        "      character_sequences: [{sequence: '!@', min: 2}]\n",
        [(LENGTH_TOO_SHORT, "resources.r.properties.length", 6)],
        id="random-string-classes-and-sequences-add-up",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      length: 4\n"
        "      character_classes: [{class: digits, min: 2}]\n"
        "      character_sequences: [{sequence: '!@', min: 2}]\n",
        [],
        id="random-string-minimums-filling-the-length-exactly",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      character_classes: [{class: digits, min: 20}, {class: letters, min: 13}]\n",
        [(LENGTH_TOO_SHORT, "resources.r.properties.length", 5)],
        id="random-string-minimums-exceed-the-default-length",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      sequence: digits\n      length: 4\n      character_classes: [{min: 4}]\n",
        [(LENGTH_TOO_SHORT, "resources.r.properties.length", 7)],
        id="random-string-legacy-sequence-is-one-more-class-of-minimum-1",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      character_sequences: [{sequence: ''}]\n",
        [(EMPTY_SEQUENCE, "resources.r.properties.character_sequences[0].sequence", 6)],
        id="random-string-empty-sequence",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      length: {get_attr: [other, size]}\n      character_classes: [{min: 40}]\n",
        [],
        id="random-string-length-known-later-is-checked-later",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      length: 2\n      salt: {get_resource: other}\n      character_classes: [{min: 3}]\n",
        [(LENGTH_TOO_SHORT, "resources.r.properties.length", 6)],
        id="random-string-salt-known-later-does-not-hide-the-rest",
    ),
    pytest.param(
        "OS::Heat::RandomString",
        "      length: many\n      character_classes: [{min: 40}]\n",
        [(WRONG_TYPE, "resources.r.properties.length", 6)],
        id="random-string-schema-errors-come-alone",
    ),
    pytest.param(
        "OS::Heat::Value",
        "      value: abc\n      type: number\n",
        [(WRONG_TYPE, "resources.r.properties.value", 6)],
        id="value-not-a-number",
    ),
    pytest.param(
        "OS::Heat::Value",
        "      value: '5'\n      type: number\n",
        [],
        id="value-number-in-a-string",
    ),
    pytest.param(
        "OS::Heat::Value",
        "      value: a,b\n      type: comma_delimited_list\n",
        [(WRONG_TYPE, "resources.r.properties.value", 6)],
        id="value-list-is-not-split-from-a-string",
    ),
    pytest.param(
        "OS::Heat::Value",
        "      value: [1, 2]\n      type: json\n",
        [(WRONG_TYPE, "resources.r.properties.value", 6)],
        id="value-json-needs-a-map",
    ),
    pytest.param(
        "OS::Heat::Value",
        "      value: {get_attr: [other, size]}\n      type: number\n",
        [],
        id="value-known-later-is-checked-later",
    ),
    pytest.param(
        "OS::Heat::Value",
        "      value: abc\n",
        [],
        id="value-without-a-type-takes-anything",
    ),
    pytest.param(
        "Local::VolumeAttachment",
        "      volume_id: v\n      instance_uuid: s\n      mountpoint: /srv/data\n",
        [(REFUSED, "resources.r.properties.mountpoint", 8)],
        id="attachment-absolute-mountpoint",
    ),
    pytest.param(
        "Local::VolumeAttachment",
        "      volume_id: v\n      instance_uuid: s\n      mountpoint: data/../../out\n",
        [(REFUSED, "resources.r.properties.mountpoint", 8)],
        id="attachment-mountpoint-leaving-the-server",
    ),
    pytest.param(
        "Local::VolumeAttachment",
        "      volume_id: v\n      instance_uuid: s\n      mountpoint: ''\n",
        [],
        id="attachment-empty-mountpoint-is-the-default-place",
    ),
    pytest.param(
        "Local::VolumeAttachment",
        "      volume_id: {get_resource: other}\n      instance_uuid: s\n      mountpoint: data\n",
        [],
        id="attachment-relative-mountpoint",
    ),
    pytest.param(
        "Local::HealthMonitor",
        "      pool: p\n      type: HTTP\n      delay: 2\n      timeout: 5\n      max_retries: 3\n",
        [(INVALID, "resources.r.properties.timeout", 9)],
        id="monitor-timeout-exceeds-delay",
    ),
    pytest.param(
        "Local::HealthMonitor",
        "      pool: p\n      type: HTTP\n      delay: 5\n      timeout: 5\n      max_retries: 3\n"
        "      url_path: health\n      expected_codes: '200-'\n",
        [
            (INVALID, "resources.r.properties.url_path", 11),
            (INVALID, "resources.r.properties.expected_codes", 12),
        ],
        id="monitor-path-and-codes",
    ),
    pytest.param(
        "Local::HealthMonitor",
        "      pool: p\n      type: HTTP\n      delay: 5\n      timeout: 5\n      max_retries: 3\n"
        '      expected_codes: "200\\n"\n',
        [(INVALID, "resources.r.properties.expected_codes", 11)],
        id="monitor-codes-with-a-trailing-newline",
    ),
    pytest.param(
        "Local::HealthMonitor",
        "      pool: p\n      type: HTTP\n      delay: {get_attr: [other, delay]}\n"
        "      timeout: 5\n      max_retries: 3\n      expected_codes: '200-204'\n",
        [],
        id="monitor-delay-known-later",
    ),
]


@pytest.mark.parametrize(("type_name", "properties", "expected"), CASES)
def test_a_types_own_checks_run_when_the_template_is_validated(
    type_name: str, properties: str, expected: list[tuple[str, str, int]]
) -> None:
    assert problems(template(type_name, properties)) == expected


class Checked(NoneResource):
    """A type whose own check refuses two equal properties."""

    type_name: ClassVar[str] = "Test::Checked"
    schema: ClassVar[ResourceSchema] = ResourceSchema(
        "Test::Checked",
        properties={
            "low": PropertySchema(PropertyType.INTEGER),
            "high": PropertySchema(PropertyType.INTEGER, default=10),
        },
    )
    seen: ClassVar[list[Mapping[str, Any]]] = []

    def validate(self, properties: Mapping[str, Any]) -> list[Diagnostic]:
        Checked.seen.append(dict(properties))
        if properties.get("low") == properties.get("high"):
            return [Diagnostic("X0001", "low must differ from high", TemplatePath(("low",)))]
        return []


class Plain(NoneResource):
    """A type without checks of its own."""

    type_name: ClassVar[str] = "Test::Plain"
    schema: ClassVar[ResourceSchema] = ResourceSchema("Test::Plain")


def test_the_registry_gives_a_schema_the_plugins_check_and_only_when_it_has_one() -> None:
    registry = PluginRegistry()
    registry.register(Checked)
    registry.register(NoneResource)
    checked = registry.schemas().get("Test::Checked")
    assert checked is not None and checked.validator is not None
    assert checked == Checked.schema
    registry.register(Plain)
    assert registry.schemas().get("Test::Plain") is Plain.schema

    Checked.seen.clear()
    text = template("Test::Checked", "      low: '10'\n")
    assert problems(text, registry) == [("X0001", "resources.r.properties.low", 6)]
    assert Checked.seen == [{"low": 10, "high": 10}]  # converted, defaults applied
