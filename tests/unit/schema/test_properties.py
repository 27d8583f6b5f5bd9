"""Property validation: Heat's conversions, required/unknown/type errors, nested paths."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.schema.constraints import AllowedValues, CustomConstraint, Length, Range
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, SupportState, SupportStatus, UpdatePolicy
from kiln.schema.values import ABSENT, Unknown

STRING = PropertyType.STRING


def single(property_schema: PropertySchema) -> ResourceSchema:
    return ResourceSchema("Test::Single", {"value": property_schema})


def registry() -> SchemaRegistry:
    result = SchemaRegistry()
    result.custom_constraints.register(
        "test.flavor", lambda value: None if value == "m1.small" else f"no flavor {value}"
    )
    result.custom_constraints.register("nova.network", lambda value: "never", live=True)
    return result


def wrong_type(message: str, *path: str | int) -> Diagnostic:
    return Diagnostic("S6004", message, TemplatePath(path))


CONVERSIONS = [
    # string: text, integers and booleans become text; floats are refused (Heat)
    pytest.param(STRING, "abc", "abc", [], id="string"),
    pytest.param(STRING, 5, "5", [], id="string-from-int"),
    pytest.param(STRING, True, "True", [], id="string-from-bool"),
    pytest.param(
        STRING, 5.5, 5.5, [wrong_type("expected a string, got 5.5", "value")], id="string-float"
    ),
    pytest.param(
        STRING,
        ["a"],
        ["a"],
        [wrong_type("expected a string, got a list", "value")],
        id="string-list",
    ),
    # integer
    pytest.param(PropertyType.INTEGER, 5, 5, [], id="integer"),
    pytest.param(PropertyType.INTEGER, "5", 5, [], id="integer-text"),
    pytest.param(PropertyType.INTEGER, " 7 ", 7, [], id="integer-text-spaces"),
    pytest.param(PropertyType.INTEGER, 4.0, 4, [], id="integer-integral-float"),
    pytest.param(
        PropertyType.INTEGER,
        "5.0",
        "5.0",
        [wrong_type('expected an integer, got "5.0"', "value")],
        id="integer-float-text",
    ),
    pytest.param(
        PropertyType.INTEGER,
        5.5,
        5.5,
        [wrong_type("expected an integer, got 5.5", "value")],
        id="integer-fraction",
    ),
    pytest.param(
        PropertyType.INTEGER,
        True,
        True,
        [wrong_type("expected an integer, got true", "value")],
        id="integer-bool",
    ),
    pytest.param(
        PropertyType.INTEGER,
        "abc",
        "abc",
        [wrong_type('expected an integer, got "abc"', "value")],
        id="integer-word",
    ),
    # number
    pytest.param(PropertyType.NUMBER, "5", 5, [], id="number-int-text"),
    pytest.param(PropertyType.NUMBER, "2.5", 2.5, [], id="number-float-text"),
    pytest.param(PropertyType.NUMBER, "1e3", 1000.0, [], id="number-exponent"),
    pytest.param(PropertyType.NUMBER, 3.25, 3.25, [], id="number-float"),
    pytest.param(
        PropertyType.NUMBER,
        "inf",
        "inf",
        [wrong_type('expected a number, got "inf"', "value")],
        id="number-infinity",
    ),
    pytest.param(
        PropertyType.NUMBER,
        False,
        False,
        [wrong_type("expected a number, got false", "value")],
        id="number-bool",
    ),
    # boolean: only true/false words, any case (Heat's Property._get_bool)
    pytest.param(PropertyType.BOOLEAN, True, True, [], id="boolean"),
    pytest.param(PropertyType.BOOLEAN, "TRUE", True, [], id="boolean-text"),
    pytest.param(PropertyType.BOOLEAN, "false", False, [], id="boolean-false-text"),
    pytest.param(
        PropertyType.BOOLEAN,
        "yes",
        "yes",
        [wrong_type('expected a boolean, got "yes"', "value")],
        id="boolean-yes-refused",
    ),
    pytest.param(
        PropertyType.BOOLEAN,
        1,
        1,
        [wrong_type("expected a boolean, got 1", "value")],
        id="boolean-int-refused",
    ),
    # list / map / json
    pytest.param(PropertyType.LIST, ("a", 1), ["a", 1], [], id="list-from-tuple"),
    pytest.param(
        PropertyType.LIST,
        "a,b",
        "a,b",
        [wrong_type('expected a list, got "a,b"', "value")],
        id="list-text",
    ),
    pytest.param(PropertyType.MAP, {"a": 1}, {"a": 1}, [], id="map"),
    pytest.param(
        PropertyType.MAP,
        ["a"],
        ["a"],
        [wrong_type("expected a map, got a list", "value")],
        id="map-list",
    ),
    pytest.param(PropertyType.JSON, [{"a": None}], [{"a": None}], [], id="json-anything"),
]


@pytest.mark.parametrize(("property_type", "given", "converted", "expected"), CONVERSIONS)
def test_conversions(
    property_type: PropertyType, given: Any, converted: Any, expected: list[Diagnostic]
) -> None:
    values, diagnostics = validate_properties(
        single(PropertySchema(property_type)), {"value": given}, registry()
    )
    assert diagnostics == expected
    assert values == {"value": converted}


NETWORK = PropertySchema(
    PropertyType.MAP,
    properties={
        "port": PropertySchema(STRING),
        "network": PropertySchema(STRING),
        "fixed_ip": PropertySchema(STRING, constraints=(Length(7, 15),)),
        "tag": PropertySchema(STRING, default="none"),
    },
)

SERVER = ResourceSchema(
    "OS::Nova::Server",
    properties={
        "name": PropertySchema(STRING, update_policy=UpdatePolicy.IN_PLACE),
        "image": PropertySchema(STRING, required=True),
        "flavor": PropertySchema(
            STRING, required=True, constraints=(CustomConstraint("test.flavor"),)
        ),
        "networks": PropertySchema(PropertyType.LIST, item=NETWORK),
        "metadata": PropertySchema(PropertyType.MAP, default={"a": "b"}),
        "count": PropertySchema(PropertyType.INTEGER, default=1, constraints=(Range(1, 5),)),
        "network_id": PropertySchema(STRING, constraints=(CustomConstraint("nova.network"),)),
        "legacy": PropertySchema(
            STRING, support_status=SupportStatus(SupportState.DEPRECATED, message="use name")
        ),
    },
)

BASE = {"image": "cirros", "flavor": "m1.small"}


def at(*segments: str | int) -> TemplatePath:
    return TemplatePath(segments)


SERVER_CASES = [
    pytest.param(
        BASE,
        {**BASE, "metadata": {"a": "b"}, "count": 1},
        [],
        id="defaults-applied",
    ),
    pytest.param(
        {"image": "cirros", "flavor": "m1.small", "count": "3", "metadata": {}},
        {**BASE, "metadata": {}, "count": 3},
        [],
        id="given-values-win-and-convert",
    ),
    pytest.param(
        {"imagee": "cirros", "flavor": "m1.small"},
        {"flavor": "m1.small", "metadata": {"a": "b"}, "count": 1},
        [
            Diagnostic("S6002", "unknown property 'imagee'; did you mean 'image'?", at("imagee")),
            Diagnostic("S6003", "missing required property 'image'", at()),
        ],
        id="unknown-with-suggestion-and-missing",
    ),
    pytest.param(
        {**BASE, "zzz": 1},
        {**BASE, "metadata": {"a": "b"}, "count": 1},
        [Diagnostic("S6002", "unknown property 'zzz'", at("zzz"))],
        id="unknown-without-suggestion",
    ),
    pytest.param(
        {"image": None, "flavor": ABSENT},
        {"metadata": {"a": "b"}, "count": 1},
        [
            Diagnostic("S6003", "missing required property 'image'", at()),
            Diagnostic("S6003", "missing required property 'flavor'", at()),
        ],
        id="null-and-absent-count-as-missing",
    ),
    pytest.param(
        {**BASE, "flavor": "m1.huge", "count": 9},
        {**BASE, "flavor": "m1.huge", "metadata": {"a": "b"}, "count": 9},
        [
            Diagnostic("S6005", "no flavor m1.huge", at("flavor")),
            Diagnostic("S6005", "value 9 must be in the range 1 to 5", at("count")),
        ],
        id="constraint-failures",
    ),
    pytest.param(
        {**BASE, "network_id": "net0"},
        {**BASE, "network_id": "net0", "metadata": {"a": "b"}, "count": 1},
        [
            Diagnostic(
                "S6007",
                "custom constraint 'nova.network' is checked when the stack is created",
                at("network_id"),
                Severity.INFO,
            )
        ],
        id="live-constraint-deferred",
    ),
    pytest.param(
        {**BASE, "legacy": "x"},
        {**BASE, "legacy": "x", "metadata": {"a": "b"}, "count": 1},
        [
            Diagnostic(
                "S6008", "property 'legacy' is deprecated: use name", at("legacy"), Severity.INFO
            )
        ],
        id="deprecated-warning",
    ),
    pytest.param(
        {
            **BASE,
            "networks": [
                {"port": "p1"},
                {"port": 5, "prot": "x"},
                "net1",
                {"fixed_ip": "1.1", "port": ["a"]},
            ],
        },
        {
            **BASE,
            "networks": [
                {"port": "p1", "tag": "none"},
                {"port": "5", "tag": "none"},
                "net1",
                {"fixed_ip": "1.1", "port": ["a"], "tag": "none"},
            ],
            "metadata": {"a": "b"},
            "count": 1,
        },
        [
            Diagnostic(
                "S6002", "unknown property 'prot'; did you mean 'port'?", at("networks", 1, "prot")
            ),
            Diagnostic("S6004", 'expected a map, got "net1"', at("networks", 2)),
            Diagnostic("S6004", "expected a string, got a list", at("networks", 3, "port")),
            Diagnostic(
                "S6005", "length (3) must be in the range 7 to 15", at("networks", 3, "fixed_ip")
            ),
        ],
        id="nested-list-of-maps-paths",
    ),
]


@pytest.mark.parametrize(("values", "converted", "expected"), SERVER_CASES)
def test_server_properties(
    values: dict[str, Any], converted: dict[str, Any], expected: list[Diagnostic]
) -> None:
    result, diagnostics = validate_properties(SERVER, values, registry())
    assert diagnostics == expected
    assert result == converted


def test_live_constraints_run_when_asked() -> None:
    _, diagnostics = validate_properties(SERVER, {**BASE, "network_id": "n"}, registry(), live=True)
    assert diagnostics == [Diagnostic("S6005", "never", at("network_id"))]


UNKNOWN_CASES = [
    pytest.param(
        {"image": Unknown("img.id"), "flavor": Unknown("f")},
        {"image": Unknown("img.id"), "flavor": Unknown("f"), "metadata": {"a": "b"}, "count": 1},
        id="unknown-scalars-unchecked",
    ),
    pytest.param(
        {**BASE, "count": Unknown("x"), "networks": [Unknown("n"), {"port": Unknown("p")}]},
        {
            **BASE,
            "count": Unknown("x"),
            "networks": [Unknown("n"), {"port": Unknown("p"), "tag": "none"}],
            "metadata": {"a": "b"},
        },
        id="unknown-inside-containers",
    ),
]


@pytest.mark.parametrize(("values", "converted"), UNKNOWN_CASES)
def test_unknown_values_are_not_checked(values: dict[str, Any], converted: dict[str, Any]) -> None:
    assert validate_properties(SERVER, values, registry()) == (converted, [])


def test_length_of_list_with_unknown_items_is_skipped() -> None:
    schema = single(PropertySchema(PropertyType.LIST, constraints=(AllowedValues(("a",)),)))
    assert validate_properties(schema, {"value": ["b", Unknown("x")]}, registry()) == (
        {"value": ["b", Unknown("x")]},
        [],
    )


ROOT_CASES = [
    pytest.param(None, ({}, []), id="none-is-empty"),
    pytest.param(Unknown("props"), ({}, []), id="unknown-map"),
    pytest.param(
        ["a"],
        ({}, [Diagnostic("S6004", "expected a map of properties, got a list")]),
        id="not-a-map",
    ),
    pytest.param(
        "text",
        ({}, [Diagnostic("S6004", "expected a map of properties, got a string")]),
        id="text",
    ),
]


@pytest.mark.parametrize(("values", "expected"), ROOT_CASES)
def test_root_values(values: Any, expected: tuple[dict[str, Any], list[Diagnostic]]) -> None:
    assert validate_properties(single(PropertySchema(STRING)), values, registry()) == expected


def test_integer_keys_are_reported_as_text() -> None:
    _, diagnostics = validate_properties(single(PropertySchema(STRING)), {1: "x"}, registry())
    assert diagnostics == [Diagnostic("S6002", "unknown property '1'", at("1"))]
