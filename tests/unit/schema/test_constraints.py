"""Constraints: Heat's checks, exact messages, custom descriptions, hidden subjects."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.errors import ROOT, Diagnostic, Severity
from kiln.schema.constraints import (
    PARAMETER_CODES,
    PROPERTY_CODES,
    AllowedPattern,
    AllowedValues,
    Constraint,
    CustomConstraint,
    CustomConstraintRegistry,
    Length,
    Modulo,
    Range,
    check_all,
)
from kiln.schema.types import PropertyType, SchemaDefinitionError
from kiln.schema.values import Unknown


def failed(message: str, code: str = "S6005") -> list[Diagnostic]:
    return [Diagnostic(code, message, ROOT)]


CHECKS = [
    # length
    pytest.param(Length(5), "abcde", None, [], id="length-min-ok"),
    pytest.param(Length(5), "abc", None, failed("length (3) must be at least 5"), id="length-min"),
    pytest.param(
        Length(max=2), "abc", None, failed("length (3) must be no greater than 2"), id="length-max"
    ),
    pytest.param(
        Length(1, 2), "", None, failed("length (0) must be in the range 1 to 2"), id="length-both"
    ),
    pytest.param(Length(1, 2), ["a", "b"], None, [], id="length-list-ok"),
    pytest.param(
        Length(max=1),
        {"a": 1, "b": 2},
        None,
        failed("length (2) must be no greater than 1"),
        id="length-map",
    ),
    pytest.param(Length(1), 5, None, failed("value 5 has no length"), id="length-of-number"),
    pytest.param(
        Length(5, description="Too short!"), "abc", None, failed("Too short!"), id="length-desc"
    ),
    # range
    pytest.param(Range(1, 10), 5, None, [], id="range-ok"),
    pytest.param(Range(1, 10), "5", None, [], id="range-text-number"),
    pytest.param(Range(1), 0, None, failed("value 0 must be at least 1"), id="range-min"),
    pytest.param(
        Range(max=10), 10.5, None, failed("value 10.5 must be no greater than 10"), id="range-max"
    ),
    pytest.param(
        Range(1, 10), "11", None, failed("value 11 must be in the range 1 to 10"), id="range-both"
    ),
    pytest.param(Range(0.5, 1), 0.5, None, [], id="range-float-bound-inclusive"),
    pytest.param(Range(1), "abc", None, failed('value "abc" is not a number'), id="range-nan"),
    pytest.param(Range(1), True, None, failed("value true is not a number"), id="range-bool"),
    pytest.param(Range(1, description="Positive"), 0, None, failed("Positive"), id="range-desc"),
    # modulo
    pytest.param(Modulo(2, 1), 3, None, [], id="modulo-ok"),
    pytest.param(Modulo(2, 1), "7", None, [], id="modulo-text"),
    pytest.param(
        Modulo(2, 1),
        4,
        None,
        failed("value 4 is not a multiple of 2 with an offset of 1"),
        id="modulo-fail",
    ),
    pytest.param(Modulo(-3, -1), 5, None, [], id="modulo-negative-step"),
    pytest.param(Modulo(2, 0), 4.0, None, [], id="modulo-float-value"),
    pytest.param(Modulo(2, 0, "Even only"), 3, None, failed("Even only"), id="modulo-desc"),
    # allowed_values
    pytest.param(AllowedValues(("a", "b")), "a", PropertyType.STRING, [], id="allowed-ok"),
    pytest.param(
        AllowedValues(("a", "b")),
        "c",
        PropertyType.STRING,
        failed('value "c" is not an allowed value ["a", "b"]'),
        id="allowed-fail",
    ),
    pytest.param(AllowedValues((1, 5)), "5", PropertyType.NUMBER, [], id="allowed-number-text"),
    pytest.param(AllowedValues(("1", "5")), 5, PropertyType.INTEGER, [], id="allowed-text-int"),
    pytest.param(AllowedValues((1, 2)), "1", PropertyType.STRING, [], id="allowed-string-of-int"),
    pytest.param(AllowedValues((True,)), "yes", PropertyType.BOOLEAN, [], id="allowed-boolean"),
    pytest.param(
        AllowedValues((1, 2)),
        "x",
        PropertyType.NUMBER,
        failed('value "x" is not an allowed value [1, 2]'),
        id="allowed-number-not-a-number",
    ),
    pytest.param(AllowedValues(("a", "b")), ["b", "a"], PropertyType.LIST, [], id="allowed-list"),
    pytest.param(
        AllowedValues(("a", "b")),
        ["a", "x", "y"],
        PropertyType.LIST,
        failed('value "x" is not an allowed value ["a", "b"]'),
        id="allowed-list-item",
    ),
    pytest.param(AllowedValues((1, 3)), ["1", "3"], PropertyType.LIST, [], id="allowed-list-text"),
    pytest.param(
        AllowedValues(("a",), "Pick a"), "b", None, failed("Pick a"), id="allowed-description"
    ),
    # allowed_pattern
    pytest.param(AllowedPattern("[a-z]+"), "abc", None, [], id="pattern-ok"),
    pytest.param(
        AllowedPattern("[a-z]+"),
        "abc1",
        None,
        failed('value "abc1" does not match pattern "[a-z]+"'),
        id="pattern-must-reach-end",
    ),
    pytest.param(
        AllowedPattern("[a-z]+"),
        "1abc",
        None,
        failed('value "1abc" does not match pattern "[a-z]+"'),
        id="pattern-anchored-at-start",
    ),
    pytest.param(
        AllowedPattern("a|ab"),
        "ab",
        None,
        failed('value "ab" does not match pattern "a|ab"'),
        id="pattern-no-backtracking-like-heat",
    ),
    pytest.param(AllowedPattern("a|ab"), "a", None, [], id="pattern-alternative"),
    pytest.param(AllowedPattern("[0-9]+"), ["1", "22"], None, [], id="pattern-list-items"),
    pytest.param(
        AllowedPattern("[0-9]+"),
        ["1", "x"],
        None,
        failed('value "x" does not match pattern "[0-9]+"'),
        id="pattern-list-item-fails",
    ),
    pytest.param(
        AllowedPattern("[0-9]+"), 5, None, failed("value 5 is not a string"), id="pattern-int"
    ),
    pytest.param(
        AllowedPattern("[a-z]+", "Lower case only"),
        "ABC",
        None,
        failed("Lower case only"),
        id="pattern-description",
    ),
    # Unknown values are never checked
    pytest.param(Length(5), Unknown("web.name"), None, [], id="unknown-skipped"),
    pytest.param(
        AllowedValues(("a",)), ["a", Unknown("x")], PropertyType.LIST, [], id="unknown-inside"
    ),
]


@pytest.mark.parametrize(("constraint", "value", "value_type", "expected"), CHECKS)
def test_check(
    constraint: Constraint, value: Any, value_type: PropertyType | None, expected: list[Diagnostic]
) -> None:
    assert constraint.check(value, value_type=value_type) == expected


HIDDEN = "value for hidden parameter 'db_password'"

HIDDEN_CHECKS = [
    pytest.param(Length(8), "s3cret", f"length of {HIDDEN} must be at least 8", id="length"),
    pytest.param(Range(max=10), 99, f"{HIDDEN} must be no greater than 10", id="range"),
    pytest.param(
        Modulo(2, 0), 99, f"{HIDDEN} is not a multiple of 2 with an offset of 0", id="modulo"
    ),
    pytest.param(
        AllowedValues(("x",)), "s3cret", f'{HIDDEN} is not an allowed value ["x"]', id="values"
    ),
    pytest.param(
        AllowedPattern("[a-z]+"),
        "s3cret",
        f'{HIDDEN} does not match pattern "[a-z]+"',
        id="pattern",
    ),
    pytest.param(
        AllowedPattern("[a-z]+", "Letters only"), "s3cret", "Letters only", id="description-kept"
    ),
]


@pytest.mark.parametrize(("constraint", "value", "message"), HIDDEN_CHECKS)
def test_hidden_subject_replaces_value(constraint: Constraint, value: Any, message: str) -> None:
    diagnostics = constraint.check(value, codes=PARAMETER_CODES, subject=HIDDEN)
    assert diagnostics == [Diagnostic("V5003", message, ROOT)]
    assert str(value) not in diagnostics[0].message


DEFINITION_ERRORS = [
    pytest.param(
        lambda: Length(), "a length constraint needs a min and/or a max", id="length-empty"
    ),
    pytest.param(lambda: Length(1.5), "length min must be an integer", id="length-float"),  # type: ignore[arg-type]
    pytest.param(lambda: Length(max=True), "length max must be an integer", id="length-bool"),
    pytest.param(lambda: Range(), "a range constraint needs a min and/or a max", id="range-empty"),
    pytest.param(lambda: Range("1"), "range min must be a number", id="range-text"),  # type: ignore[arg-type]
    pytest.param(lambda: Range(max=False), "range max must be a number", id="range-bool"),
    pytest.param(
        lambda: Modulo(None, 1),  # type: ignore[arg-type]
        "a modulo constraint needs both a step and an offset",
        id="mod-none",
    ),
    pytest.param(lambda: Modulo(0, 0), "modulo step cannot be 0", id="modulo-zero"),
    pytest.param(lambda: Modulo(2.5, 0), "modulo step must be an integer", id="modulo-float"),
    pytest.param(lambda: Modulo("2", 0), "modulo step must be a number", id="modulo-text"),  # type: ignore[arg-type]
    pytest.param(
        lambda: Modulo(2, 2),
        "modulo offset must be smaller than step (by absolute value)",
        id="modulo-offset-too-big",
    ),
    pytest.param(
        lambda: Modulo(3, -1),
        "modulo step and offset must be both positive or both negative",
        id="modulo-signs",
    ),
    pytest.param(lambda: AllowedValues("ab"), "allowed_values must be a list", id="values-text"),
    pytest.param(lambda: AllowedValues(5), "allowed_values must be a list", id="values-int"),  # type: ignore[arg-type]
    pytest.param(lambda: AllowedPattern(5), "allowed_pattern must be a string", id="pattern-int"),  # type: ignore[arg-type]
    pytest.param(
        lambda: AllowedPattern("["),
        "allowed_pattern is not a valid regular expression: "
        "unterminated character set at position 0",
        id="pattern-invalid",
    ),
    pytest.param(
        lambda: CustomConstraint(""), "custom_constraint must be a non-empty string", id="custom"
    ),
]


@pytest.mark.parametrize(("build", "message"), DEFINITION_ERRORS)
def test_definition_errors(build: Any, message: str) -> None:
    with pytest.raises(SchemaDefinitionError) as caught:
        build()
    assert str(caught.value) == message


def _flavors(value: Any) -> str | None:
    return None if value in ("m1.small", "m1.large") else f"flavor {value} does not exist"


def _port(value: Any) -> str | None:
    return None if 0 < int(value) < 65536 else f"port {value} out of range"


def _registry() -> CustomConstraintRegistry:
    registry = CustomConstraintRegistry()
    registry.register("test.flavor", _flavors)
    registry.register("test.port", _port)
    registry.register("nova.keypair", lambda value: "no such key pair", live=True)
    return registry


CUSTOM_CHECKS = [
    pytest.param(CustomConstraint("test.flavor"), "m1.small", {}, [], id="passes"),
    pytest.param(
        CustomConstraint("test.flavor"),
        "m1.huge",
        {},
        [Diagnostic("S6005", "flavor m1.huge does not exist")],
        id="checker-message",
    ),
    pytest.param(
        CustomConstraint("test.flavor", "Pick a real flavor"),
        "m1.huge",
        {},
        [Diagnostic("S6005", "Pick a real flavor")],
        id="description",
    ),
    pytest.param(
        CustomConstraint("test.flavor"),
        "m1.huge",
        {"subject": HIDDEN},
        [Diagnostic("S6005", f"{HIDDEN} does not satisfy custom constraint 'test.flavor'")],
        id="hidden-subject",
    ),
    pytest.param(
        CustomConstraint("test.port"),
        "http",
        {},
        [Diagnostic("S6005", "value \"http\" does not satisfy custom constraint 'test.port'")],
        id="checker-raising-value-error",
    ),
    pytest.param(
        CustomConstraint("test.port"),
        "h77p",
        {"subject": HIDDEN},
        [Diagnostic("S6005", f"{HIDDEN} does not satisfy custom constraint 'test.port'")],
        id="checker-raising-hidden",
    ),
    pytest.param(
        CustomConstraint("nova.flavor"),
        "m1.huge",
        {},
        [Diagnostic("S6006", "unknown custom constraint 'nova.flavor'")],
        id="unknown-property",
    ),
    pytest.param(
        CustomConstraint("nova.flavor"),
        "m1.huge",
        {"codes": PARAMETER_CODES},
        [Diagnostic("V5004", "unknown custom constraint 'nova.flavor'")],
        id="unknown-parameter",
    ),
    pytest.param(
        CustomConstraint("nova.keypair"),
        "mine",
        {},
        [
            Diagnostic(
                "S6007",
                "custom constraint 'nova.keypair' is checked when the stack is created",
                ROOT,
                Severity.INFO,
            )
        ],
        id="live-deferred",
    ),
    pytest.param(
        CustomConstraint("nova.keypair"),
        "mine",
        {"live": True},
        [Diagnostic("S6005", "no such key pair")],
        id="live-run-at-create",
    ),
]


@pytest.mark.parametrize(("constraint", "value", "options", "expected"), CUSTOM_CHECKS)
def test_custom_constraint(
    constraint: CustomConstraint, value: Any, options: dict[str, Any], expected: list[Diagnostic]
) -> None:
    assert constraint.check(value, _registry(), **options) == expected


def test_custom_constraint_without_registry_is_unknown() -> None:
    assert CustomConstraint("ip_addr").check("10.0.0.1") == [
        Diagnostic("S6006", "unknown custom constraint 'ip_addr'")
    ]


def test_registry_refuses_duplicates_and_lists_names() -> None:
    registry = _registry()
    with pytest.raises(SchemaDefinitionError) as caught:
        registry.register("test.flavor", _flavors)
    assert str(caught.value) == "custom constraint 'test.flavor' is already registered"
    assert registry.names() == ["nova.keypair", "test.flavor", "test.port"]
    assert "test.flavor" in registry
    assert "other" not in registry
    registered = registry.get("nova.keypair")
    assert registered is not None and registered.live


def test_check_all_keeps_declaration_order() -> None:
    constraints = (Length(max=2), AllowedPattern("[0-9]+"), CustomConstraint("nope"))
    assert check_all(constraints, "abc", codes=PARAMETER_CODES) == [
        Diagnostic("V5003", "length (3) must be no greater than 2"),
        Diagnostic("V5003", 'value "abc" does not match pattern "[0-9]+"'),
        Diagnostic("V5004", "unknown custom constraint 'nope'"),
    ]


SERIALISED = [
    pytest.param(Length(1), {"length": {"min": 1}}, "The length must be at least 1.", id="length"),
    pytest.param(
        Range(1, 5, "One to five"),
        {"range": {"min": 1, "max": 5}, "description": "One to five"},
        "The value must be in the range 1 to 5.",
        id="range",
    ),
    pytest.param(
        Modulo(2, 1),
        {"modulo": {"step": 2, "offset": 1}},
        "The value must be a multiple of 2 with an offset of 1.",
        id="modulo",
    ),
    pytest.param(
        AllowedValues(["a", 1]), {"allowed_values": ["a", 1]}, "Allowed values: a, 1", id="values"
    ),
    pytest.param(
        AllowedPattern("[a-z]+"),
        {"allowed_pattern": "[a-z]+"},
        "Value must match pattern: [a-z]+",
        id="pattern",
    ),
    pytest.param(
        CustomConstraint("nova.flavor"),
        {"custom_constraint": "nova.flavor"},
        "Value must be of type nova.flavor",
        id="custom",
    ),
]


@pytest.mark.parametrize(("constraint", "as_dict", "explanation"), SERIALISED)
def test_serialised_forms(
    constraint: Constraint, as_dict: dict[str, Any], explanation: str
) -> None:
    assert constraint.to_dict() == as_dict
    assert constraint.explain() == explanation


def test_property_codes_are_the_default() -> None:
    assert PROPERTY_CODES.failed == "S6005"
    assert Range(1).check(0) == [Diagnostic("S6005", "value 0 must be at least 1")]
