"""Template parameters: declarations, conversions, precedence, constraints, hiding, groups."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.schema.constraints import (
    AllowedPattern,
    AllowedValues,
    CustomConstraint,
    CustomConstraintRegistry,
    Length,
    Modulo,
    Range,
)
from kiln.template.parameter_types import ParameterType
from kiln.template.parameters import (
    ParameterDeclaration,
    Redactor,
    hidden_parameter_names,
    mask_hidden_values,
    parse_parameter_declarations,
    redact,
    resolve_parameter_values,
    secret_values,
    validate_parameter_groups,
)

HOT_KEYS_2017 = frozenset(
    {"type", "label", "description", "default", "hidden", "constraints", "immutable"}
)
HOT_KEYS_2018 = HOT_KEYS_2017 | {"tags"}
CFN_KEYS = frozenset(
    {
        "Type",
        "Default",
        "NoEcho",
        "AllowedValues",
        "AllowedPattern",
        "MaxLength",
        "MinLength",
        "MaxValue",
        "MinValue",
        "Description",
        "ConstraintDescription",
    }
)
SECTION = TemplatePath(("parameters",))
CFN_SECTION = TemplatePath(("Parameters",))


def at(*segments: str | int) -> TemplatePath:
    return TemplatePath(("parameters", *segments))


def cfn_at(*segments: str | int) -> TemplatePath:
    return TemplatePath(("Parameters", *segments))


def hot(
    section: Any, version: str = "2018-03-02", keys: frozenset[str] = HOT_KEYS_2018
) -> tuple[dict[str, ParameterDeclaration], list[Diagnostic]]:
    return parse_parameter_declarations(section, "hot", keys, SECTION, version)


def cfn(section: Any) -> tuple[dict[str, ParameterDeclaration], list[Diagnostic]]:
    return parse_parameter_declarations(section, "cfn", CFN_KEYS, CFN_SECTION, "2010-09-09")


def _even(value: Any) -> str | None:
    # int() raises on text that is not a number: the registry reports a generic failure.
    return None if int(value) % 2 == 0 else f"{value} is odd"


def constraints() -> CustomConstraintRegistry:
    registry = CustomConstraintRegistry()
    registry.register("test.even", _even)
    registry.register("nova.flavor", lambda value: "no such flavor", live=True)
    return registry


def resolve(
    declarations: dict[str, ParameterDeclaration],
    user: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    defaults: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    return resolve_parameter_values(
        declarations,
        user or {},
        environment or {},
        defaults or {},
        constraints(),
        previous=previous,
    )


def resolve_one(type_name: str, value: Any, kind: str = "hot") -> tuple[Any, list[Diagnostic]]:
    if kind == "hot":
        declarations, problems = hot({"p": {"type": type_name}})
    else:
        declarations, problems = cfn({"p": {"Type": type_name}})
    assert problems == []
    values, diagnostics = resolve(declarations, {"p": value})
    return values.get("p", "<no value>"), diagnostics


HOT_P = TemplatePath(("parameters", "p"))


def bad_value(message: str, path: TemplatePath = HOT_P) -> list[Diagnostic]:
    return [Diagnostic("V5002", message, path)]


BOOLEAN_HINT = " (true/false, yes/no, on/off, t/f, y/n or 1/0)"

HOT_CONVERSIONS = [
    # string
    pytest.param("string", "abc", "abc", [], id="string"),
    pytest.param("string", 5, "5", [], id="string-int"),
    pytest.param("string", 5.5, "5.5", [], id="string-float"),
    pytest.param("string", True, "True", [], id="string-bool"),
    pytest.param(
        "string", ["a"], "<no value>", bad_value("expected a string, got a list"), id="string-list"
    ),
    pytest.param(
        "string", {"a": 1}, "<no value>", bad_value("expected a string, got a map"), id="string-map"
    ),
    # number: int when integral text, float otherwise (Heat's str_to_num)
    pytest.param("number", "5", 5, [], id="number-int-text"),
    pytest.param("number", " 8 ", 8, [], id="number-spaces"),
    pytest.param("number", "5.0", 5.0, [], id="number-float-text"),
    pytest.param("number", "2.5", 2.5, [], id="number-fraction"),
    pytest.param("number", "1e2", 100.0, [], id="number-exponent"),
    pytest.param("number", 7, 7, [], id="number-int"),
    pytest.param("number", -0.5, -0.5, [], id="number-negative-float"),
    pytest.param(
        "number", "abc", "<no value>", bad_value('expected a number, got "abc"'), id="number-word"
    ),
    pytest.param(
        "number", "", "<no value>", bad_value('expected a number, got ""'), id="number-empty"
    ),
    pytest.param(
        "number", "nan", "<no value>", bad_value('expected a number, got "nan"'), id="number-nan"
    ),
    pytest.param(
        "number", True, "<no value>", bad_value("expected a number, got true"), id="number-bool"
    ),
    pytest.param(
        "number", ["1"], "<no value>", bad_value("expected a number, got a list"), id="number-list"
    ),
    # boolean: oslo's strict bool_from_string words, any case, surrounding spaces ignored
    *[
        pytest.param("boolean", word, True, [], id=f"boolean-{word.strip() or 'space'}-true")
        for word in ("true", "True", "TRUE", "yes", "Y", "on", "1", "t", " yes ")
    ],
    *[
        pytest.param("boolean", word, False, [], id=f"boolean-{word}-false")
        for word in ("false", "FALSE", "no", "n", "off", "0", "f")
    ],
    pytest.param("boolean", True, True, [], id="boolean-true"),
    pytest.param("boolean", False, False, [], id="boolean-false"),
    pytest.param("boolean", 1, True, [], id="boolean-int-one"),
    pytest.param("boolean", 0, False, [], id="boolean-int-zero"),
    pytest.param(
        "boolean",
        "maybe",
        "<no value>",
        bad_value('expected a boolean, got "maybe"' + BOOLEAN_HINT),
        id="boolean-word",
    ),
    pytest.param(
        "boolean",
        2,
        "<no value>",
        bad_value("expected a boolean, got 2" + BOOLEAN_HINT),
        id="boolean-two",
    ),
    pytest.param(
        "boolean",
        1.0,
        "<no value>",
        bad_value("expected a boolean, got 1.0" + BOOLEAN_HINT),
        id="boolean-float",
    ),
    # comma_delimited_list: Heat splits on commas and keeps the spaces
    pytest.param("comma_delimited_list", "a,b", ["a", "b"], [], id="list-text"),
    pytest.param("comma_delimited_list", "a, b", ["a", " b"], [], id="list-spaces-kept"),
    pytest.param("comma_delimited_list", "a", ["a"], [], id="list-single"),
    pytest.param("comma_delimited_list", "", [], [], id="list-empty-text"),
    pytest.param("comma_delimited_list", "a,,b", ["a", "", "b"], [], id="list-empty-item"),
    pytest.param("comma_delimited_list", ["x", 1, True], ["x", "1", "True"], [], id="list-real"),
    pytest.param("comma_delimited_list", [], [], [], id="list-empty"),
    pytest.param(
        "comma_delimited_list",
        5,
        "<no value>",
        bad_value("expected a comma-delimited list, got 5"),
        id="list-int",
    ),
    pytest.param(
        "comma_delimited_list",
        ["a", {"b": 1}],
        "<no value>",
        bad_value("expected a comma-delimited list, got a list (item 1 is not a string)"),
        id="list-map-item",
    ),
    # json: a JSON text or the value itself
    pytest.param("json", '{"a": 1}', {"a": 1}, [], id="json-text-map"),
    pytest.param("json", "[1, 2]", [1, 2], [], id="json-text-list"),
    pytest.param("json", "5", 5, [], id="json-text-number"),
    pytest.param("json", {"a": [1]}, {"a": [1]}, [], id="json-map"),
    pytest.param("json", [{"a": None}], [{"a": None}], [], id="json-list"),
    pytest.param("json", "", "", [], id="json-empty-text-kept"),
    pytest.param(
        "json",
        "{bad",
        "<no value>",
        bad_value(
            'expected valid JSON, got "{bad" (Expecting property name enclosed in double quotes:'
            " line 1 column 2 (char 1))"
        ),
        id="json-bad-text",
    ),
    pytest.param(
        "json",
        {"a": {1, 2}},
        "<no value>",
        bad_value("expected valid JSON, got a map (Object of type set is not JSON serializable)"),
        id="json-not-serialisable",
    ),
]


@pytest.mark.parametrize(("type_name", "value", "converted", "expected"), HOT_CONVERSIONS)
def test_hot_conversions(
    type_name: str, value: Any, converted: Any, expected: list[Diagnostic]
) -> None:
    assert resolve_one(type_name, value) == (converted, expected)


CFN_CONVERSIONS = [
    pytest.param("String", 5, "5", [], id="string"),
    pytest.param("Number", "5", "5", [], id="number-text-kept"),
    pytest.param("Number", 5, "5", [], id="number-int-as-text"),
    pytest.param("Number", "2.5", "2.5", [], id="number-float-text"),
    pytest.param(
        "Number",
        "five",
        "<no value>",
        bad_value('expected a number, got "five"', cfn_at("p")),
        id="number-word",
    ),
    pytest.param("CommaDelimitedList", "a, b ,c", ["a", "b", "c"], [], id="list-trimmed"),
    pytest.param("CommaDelimitedList", "", [], [], id="list-empty"),
    pytest.param("List<Number>", "1, 2.5", ["1", "2.5"], [], id="number-list"),
    pytest.param(
        "List<Number>",
        "1,x",
        "<no value>",
        bad_value('expected a list of numbers, got "1,x" (item 1 is not a number)', cfn_at("p")),
        id="number-list-bad-item",
    ),
    pytest.param("AWS::EC2::VPC::Id", "vpc-1", "vpc-1", [], id="aws-type"),
    pytest.param("List<AWS::EC2::Subnet::Id>", "s-1, s-2", ["s-1", "s-2"], [], id="aws-list"),
    pytest.param("AWS::SSM::Parameter::Value<String>", "/a/b", "/a/b", [], id="ssm-value"),
    pytest.param("Boolean", "false", False, [], id="heat-boolean"),
    pytest.param("Json", '{"a": 1}', {"a": 1}, [], id="heat-json"),
]


@pytest.mark.parametrize(("type_name", "value", "converted", "expected"), CFN_CONVERSIONS)
def test_cfn_conversions(
    type_name: str, value: Any, converted: Any, expected: list[Diagnostic]
) -> None:
    assert resolve_one(type_name, value, "cfn") == (converted, expected)


AWS_TYPES = [
    pytest.param("AWS::EC2::KeyPair::KeyName", ParameterType.STRING, id="keypair"),
    pytest.param("AWS::EC2::Image::Id", ParameterType.STRING, id="image"),
    pytest.param("List<AWS::EC2::SecurityGroup::Id>", ParameterType.COMMA_DELIMITED_LIST, id="sgs"),
    pytest.param("AWS::SSM::Parameter::Name", ParameterType.STRING, id="ssm-name"),
    pytest.param(
        "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>", ParameterType.STRING, id="ssm"
    ),
]


@pytest.mark.parametrize(("type_name", "parameter_type"), AWS_TYPES)
def test_aws_types_are_recorded(type_name: str, parameter_type: ParameterType) -> None:
    declarations, diagnostics = cfn({"p": {"Type": type_name}})
    assert diagnostics == []
    assert (declarations["p"].type, declarations["p"].aws_type) == (parameter_type, type_name)


def test_full_hot_declaration() -> None:
    declarations, diagnostics = hot(
        {
            "port": {
                "type": "number",
                "label": "Port",
                "description": "Listening port",
                "default": 8080,
                "immutable": True,
                "tags": ["network"],
                "constraints": [
                    {"range": {"min": 1, "max": "65535"}, "description": "A TCP port"},
                    {"modulo": {"step": 2, "offset": 0}},
                    {"allowed_values": [80, 8080]},
                    {"custom_constraint": "test.even"},
                ],
            },
            "password": {"type": "string", "hidden": True, "constraints": [{"length": {"min": 8}}]},
        }
    )
    assert diagnostics == []
    assert declarations == {
        "port": ParameterDeclaration(
            name="port",
            type=ParameterType.NUMBER,
            path=at("port"),
            type_name="number",
            default=8080,
            has_default=True,
            immutable=True,
            label="Port",
            description="Listening port",
            tags=("network",),
            constraints=(
                Range(1, 65535, "A TCP port"),
                Modulo(2, 0),
                AllowedValues((80, 8080)),
                CustomConstraint("test.even"),
            ),
        ),
        "password": ParameterDeclaration(
            name="password",
            type=ParameterType.STRING,
            path=at("password"),
            type_name="string",
            hidden=True,
            constraints=(Length(8),),
        ),
    }


def test_full_cfn_declaration() -> None:
    declarations, diagnostics = cfn(
        {
            "DBPassword": {
                "Type": "String",
                "NoEcho": "true",
                "Description": "Database password",
                "MinLength": "8",
                "MaxLength": 41,
                "AllowedPattern": "[a-zA-Z0-9]*",
                "AllowedValues": ["a", "b"],
                "ConstraintDescription": "must be alphanumeric",
                "Default": "abcdefgh",
            },
            "Size": {"Type": "Number", "MinValue": "1", "MaxValue": 10},
            "Zones": {"Type": "CommaDelimitedList", "AllowedPattern": "[a-z]+-[0-9]"},
        }
    )
    described = "must be alphanumeric"
    # The default breaks AllowedValues; the message is the ConstraintDescription.
    assert diagnostics == [
        Diagnostic("V5016", f"invalid default: {described}", cfn_at("DBPassword", "Default"))
    ]
    assert declarations["DBPassword"] == ParameterDeclaration(
        name="DBPassword",
        type=ParameterType.STRING,
        path=cfn_at("DBPassword"),
        type_name="String",
        kind="cfn",
        default="abcdefgh",
        has_default=True,
        hidden=True,
        description="Database password",
        constraints=(
            Length(8, 41, described),
            AllowedValues(("a", "b"), described),
            AllowedPattern("[a-zA-Z0-9]*", described),
        ),
    )
    assert declarations["Size"].constraints == (Range(1, 10),)
    assert declarations["Zones"].constraints == (AllowedPattern("[a-z]+-[0-9]"),)


def test_cfn_list_pattern_checks_each_item() -> None:
    declarations, _ = cfn({"Zones": {"Type": "CommaDelimitedList", "AllowedPattern": "[a-z]+"}})
    assert resolve(declarations, {"Zones": "a, b1"}) == (
        {"Zones": ["a", "b1"]},
        [Diagnostic("V5003", 'value "b1" does not match pattern "[a-z]+"', cfn_at("Zones"))],
    )


def test_tags_accepted_in_2018_03_02() -> None:
    declarations, diagnostics = hot({"p": {"type": "string", "tags": ["a"]}})
    assert (declarations["p"].tags, diagnostics) == (("a",), [])


def test_tags_rejected_in_2017_09_01() -> None:
    declarations, diagnostics = hot(
        {"p": {"type": "string", "tags": ["a"]}}, "2017-09-01", HOT_KEYS_2017
    )
    assert declarations["p"].tags == ()
    assert diagnostics == [
        Diagnostic("V5011", "unknown key 'tags' in parameter 'p'", at("p", "tags"))
    ]


HOT_DECLARATION_ERRORS = [
    pytest.param(
        ["a"], [Diagnostic("V5018", "the parameters section must be a map", at())], id="section"
    ),
    pytest.param(
        {5: {"type": "string"}},
        [Diagnostic("V5018", "parameter name 5 must be a string", at("5"))],
        id="name-not-text",
    ),
    pytest.param(
        {"p": "string"}, [Diagnostic("V5010", "parameter 'p' must be a map", at("p"))], id="not-map"
    ),
    pytest.param(
        {"p": {"description": "x"}},
        [Diagnostic("V5012", "parameter 'p' has no type", at("p"))],
        id="missing-type",
    ),
    pytest.param(
        {"p": {"type": "strng"}},
        [
            Diagnostic(
                "V5013", "unknown parameter type 'strng'; did you mean 'string'?", at("p", "type")
            )
        ],
        id="type-typo",
    ),
    pytest.param(
        {"p": {"type": "integer"}},
        [
            Diagnostic(
                "V5013",
                "unknown parameter type 'integer'; expected one of: string, number, json,"
                " comma_delimited_list, boolean",
                at("p", "type"),
            )
        ],
        id="type-unknown",
    ),
    pytest.param(
        {"p": {"type": "String"}},
        [
            Diagnostic(
                "V5013", "unknown parameter type 'String'; did you mean 'string'?", at("p", "type")
            )
        ],
        id="type-cfn-spelling",
    ),
    pytest.param(
        {"p": {"type": "string", "defualt": "x"}},
        [
            Diagnostic(
                "V5011",
                "unknown key 'defualt' in parameter 'p'; did you mean 'default'?",
                at("p", "defualt"),
            )
        ],
        id="key-typo",
    ),
    pytest.param(
        {"p": {"type": "string", "hidden": 3, "immutable": "maybe", "label": 1, "tags": "a"}},
        [
            Diagnostic("V5017", "'hidden' must be a boolean", at("p", "hidden")),
            Diagnostic("V5017", "'immutable' must be a boolean", at("p", "immutable")),
            Diagnostic("V5017", "'label' must be a string", at("p", "label")),
            Diagnostic("V5017", "'tags' must be a list of strings", at("p", "tags")),
        ],
        id="attribute-types",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": {"length": {"min": 1}}}},
        [Diagnostic("V5014", "constraints must be a list", at("p", "constraints"))],
        id="constraints-not-list",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": ["length"]}},
        [Diagnostic("V5014", "a constraint must be a map", at("p", "constraints", 0))],
        id="constraint-not-map",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"description": "x"}]}},
        [Diagnostic("V5014", "no constraint given", at("p", "constraints", 0))],
        id="no-constraint",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"lenght": {"min": 1}}]}},
        [
            Diagnostic(
                "V5011",
                "unknown key 'lenght' in constraint; did you mean 'length'?",
                at("p", "constraints", 0, "lenght"),
            ),
            Diagnostic("V5014", "no constraint given", at("p", "constraints", 0)),
        ],
        id="constraint-key-typo",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"length": {"min": 1}, "allowed_values": ["a"]}]}},
        [
            Diagnostic(
                "V5019",
                "only one constraint is used per item: 'length' applies, 'allowed_values' ignored",
                at("p", "constraints", 0),
                Severity.WARNING,
            )
        ],
        id="two-constraints-in-one-item",
    ),
    pytest.param(
        {"p": {"type": "number", "constraints": [{"range": {"minimum": 1}}]}},
        [
            Diagnostic(
                "V5011",
                "unknown key 'minimum' in range constraint; did you mean 'min'?",
                at("p", "constraints", 0, "range", "minimum"),
            ),
            Diagnostic(
                "V5014",
                "a range constraint needs a min and/or a max",
                at("p", "constraints", 0, "range"),
            ),
        ],
        id="range-key-typo",
    ),
    pytest.param(
        {"p": {"type": "number", "constraints": [{"range": {"min": "abc"}}]}},
        [Diagnostic("V5014", "range min must be a number", at("p", "constraints", 0, "range"))],
        id="range-not-number",
    ),
    pytest.param(
        {"p": {"type": "number", "constraints": [{"range": [1, 2]}]}},
        [
            Diagnostic(
                "V5014", "a range constraint must be a map", at("p", "constraints", 0, "range")
            )
        ],
        id="range-not-map",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"length": {"min": 1.5}}]}},
        [Diagnostic("V5014", "length min must be an integer", at("p", "constraints", 0, "length"))],
        id="length-not-integer",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"allowed_values": "a"}]}},
        [
            Diagnostic(
                "V5014",
                "allowed_values must be a list",
                at("p", "constraints", 0, "allowed_values"),
            )
        ],
        id="allowed-values-not-list",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"allowed_pattern": "("}]}},
        [
            Diagnostic(
                "V5014",
                "allowed_pattern is not a valid regular expression: missing ), unterminated"
                " subpattern at position 0",
                at("p", "constraints", 0, "allowed_pattern"),
            )
        ],
        id="pattern-invalid",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"custom_constraint": 5}]}},
        [
            Diagnostic(
                "V5014",
                "custom_constraint must be a non-empty string",
                at("p", "constraints", 0, "custom_constraint"),
            )
        ],
        id="custom-not-text",
    ),
    pytest.param(
        {"p": {"type": "string", "constraints": [{"length": {"min": 1}, "description": 5}]}},
        [
            Diagnostic(
                "V5017", "'description' must be a string", at("p", "constraints", 0, "description")
            )
        ],
        id="constraint-description-not-text",
    ),
    pytest.param(
        {
            "p": {
                "type": "number",
                "constraints": [{"allowed_pattern": "[0-9]+"}, {"length": {"min": 1}}],
            },
            "q": {"type": "string", "constraints": [{"range": {"min": 1}}]},
            "r": {"type": "json", "constraints": [{"allowed_values": [{}]}]},
        },
        [
            Diagnostic(
                "V5015",
                "allowed_pattern is not valid for a parameter of type number",
                at("p", "constraints", 0, "allowed_pattern"),
            ),
            Diagnostic(
                "V5015",
                "length is not valid for a parameter of type number",
                at("p", "constraints", 1, "length"),
            ),
            Diagnostic(
                "V5015",
                "range is not valid for a parameter of type string",
                at("q", "constraints", 0, "range"),
            ),
            Diagnostic(
                "V5015",
                "allowed_values is not valid for a parameter of type json",
                at("r", "constraints", 0, "allowed_values"),
            ),
        ],
        id="constraint-not-for-type",
    ),
]


@pytest.mark.parametrize(("section", "expected"), HOT_DECLARATION_ERRORS)
def test_hot_declaration_errors(section: Any, expected: list[Diagnostic]) -> None:
    assert hot(section)[1] == expected


MODULO = {"p": {"type": "number", "constraints": [{"modulo": {"step": 2, "offset": 1}}]}}


def test_modulo_needs_2017_02_24() -> None:
    declarations, diagnostics = hot(MODULO, "2016-10-14", HOT_KEYS_2017)
    assert declarations["p"].constraints == ()
    assert diagnostics == [
        Diagnostic(
            "V5014",
            "the modulo constraint needs heat_template_version 2017-02-24 or later",
            at("p", "constraints", 0, "modulo"),
        )
    ]


def test_modulo_from_2017_02_24() -> None:
    declarations, diagnostics = hot(MODULO, "2017-02-24", HOT_KEYS_2017)
    assert (declarations["p"].constraints, diagnostics) == ((Modulo(2, 1),), [])


def test_modulo_step_and_offset_checked() -> None:
    section = {"p": {"type": "number", "constraints": [{"modulo": {"step": 2, "offset": 3}}]}}
    assert hot(section)[1] == [
        Diagnostic(
            "V5014",
            "modulo offset must be smaller than step (by absolute value)",
            at("p", "constraints", 0, "modulo"),
        )
    ]


DEFAULT_ERRORS = [
    pytest.param(
        {"type": "number", "default": "abc"},
        'invalid default: expected a number, got "abc"',
        id="wrong-type",
    ),
    pytest.param(
        {"type": "string", "default": "abc", "constraints": [{"allowed_pattern": "[0-9]+"}]},
        'invalid default: value "abc" does not match pattern "[0-9]+"',
        id="breaks-constraint",
    ),
    pytest.param(
        {
            "type": "string",
            "default": "abc",
            "constraints": [{"length": {"min": 5}, "description": "Longer!"}],
        },
        "invalid default: Longer!",
        id="constraint-description",
    ),
    pytest.param(
        {
            "type": "string",
            "hidden": True,
            "default": "s3cret",
            "constraints": [{"allowed_pattern": "[a-z]+"}],
        },
        "invalid default: value for hidden parameter 'p' does not match pattern \"[a-z]+\"",
        id="hidden-default",
    ),
    pytest.param(
        {
            "type": "comma_delimited_list",
            "default": "a,b,c",
            "constraints": [{"length": {"max": 2}}],
        },
        "invalid default: length (3) must be no greater than 2",
        id="list-default",
    ),
]


@pytest.mark.parametrize(("body", "message"), DEFAULT_ERRORS)
def test_default_is_validated(body: dict[str, Any], message: str) -> None:
    assert hot({"p": body})[1] == [Diagnostic("V5016", message, at("p", "default"))]


def test_default_skips_custom_constraints_and_null_means_none() -> None:
    declarations, diagnostics = hot(
        {
            "flavor": {
                "type": "string",
                "default": "m1.tiny",
                "constraints": [{"custom_constraint": "x"}],
            },
            "nothing": {"type": "string", "default": None},
        }
    )
    assert diagnostics == []
    assert declarations["flavor"].has_default
    assert not declarations["nothing"].has_default


CFN_DECLARATION_ERRORS = [
    pytest.param(
        {"p": {"Type": "Strin"}},
        [
            Diagnostic(
                "V5013",
                "unknown parameter type 'Strin'; did you mean 'String'?",
                cfn_at("p", "Type"),
            )
        ],
        id="type-typo",
    ),
    pytest.param(
        {"p": {"Type": "AWS::EC2::VPC::ID"}},
        [
            Diagnostic(
                "V5013",
                "unknown parameter type 'AWS::EC2::VPC::ID'; did you mean 'AWS::EC2::VPC::Id'?",
                cfn_at("p", "Type"),
            )
        ],
        id="aws-type-typo",
    ),
    pytest.param(
        {"p": {"Type": "Bogus"}},
        [
            Diagnostic(
                "V5013",
                "unknown parameter type 'Bogus'; expected one of: String, Number,"
                " CommaDelimitedList, List<Number>, Json, Boolean, AWS::*, List<AWS::*>,"
                " AWS::SSM::Parameter::*",
                cfn_at("p", "Type"),
            )
        ],
        id="type-unknown",
    ),
    pytest.param(
        {"p": {"Type": "String", "MinLength": 1.5}},
        [Diagnostic("V5014", "length min must be an integer", cfn_at("p", "MinLength"))],
        id="length-not-integer",
    ),
    pytest.param(
        {"p": {"Type": "String", "MinValue": 1}},
        [
            Diagnostic(
                "V5015",
                "MinValue is not valid for a parameter of type String",
                cfn_at("p", "MinValue"),
            )
        ],
        id="value-bound-on-string",
    ),
    pytest.param(
        {"p": {"Type": "Number", "AllowedPattern": "[0-9]"}},
        [
            Diagnostic(
                "V5015",
                "AllowedPattern is not valid for a parameter of type Number",
                cfn_at("p", "AllowedPattern"),
            )
        ],
        id="pattern-on-number",
    ),
    pytest.param(
        {"p": {"Type": "String", "NoEcho": 1, "Label": "x"}},
        [
            Diagnostic("V5011", "unknown key 'Label' in parameter 'p'", cfn_at("p", "Label")),
            Diagnostic("V5017", "'NoEcho' must be a boolean", cfn_at("p", "NoEcho")),
        ],
        id="no-echo-and-unknown-key",
    ),
    pytest.param(
        {"p": {"Default": "x"}},
        [Diagnostic("V5012", "parameter 'p' has no Type", cfn_at("p"))],
        id="missing-type",
    ),
]


@pytest.mark.parametrize(("section", "expected"), CFN_DECLARATION_ERRORS)
def test_cfn_declaration_errors(section: Any, expected: list[Diagnostic]) -> None:
    assert cfn(section)[1] == expected


NO_ECHO = [
    pytest.param("true", True, id="text-true"),
    pytest.param("TRUE", True, id="text-upper"),
    pytest.param(True, True, id="bool"),
    pytest.param("false", False, id="text-false"),
    pytest.param("yes", False, id="yes-is-not-true"),
]


@pytest.mark.parametrize(("no_echo", "hidden"), NO_ECHO)
def test_cfn_no_echo(no_echo: Any, hidden: bool) -> None:
    declarations, diagnostics = cfn({"p": {"Type": "String", "NoEcho": no_echo}})
    assert (declarations["p"].hidden, diagnostics) == (hidden, [])


PRECEDENCE_DECLARATIONS, _ = hot({"p": {"type": "string", "default": "template"}})

PRECEDENCE = [
    pytest.param({"p": "user"}, {"p": "env"}, {"p": "pd"}, "user", id="user-wins"),
    pytest.param({}, {"p": "env"}, {"p": "pd"}, "env", id="environment-next"),
    pytest.param({}, {}, {"p": "pd"}, "pd", id="parameter-defaults-next"),
    pytest.param({}, {}, {}, "template", id="template-default-last"),
    pytest.param({"p": None}, {"p": None}, {"p": "pd"}, "pd", id="nulls-are-not-values"),
    pytest.param({"p": ""}, {"p": "env"}, {}, "", id="empty-text-is-a-value"),
]


@pytest.mark.parametrize(("user", "environment", "defaults", "value"), PRECEDENCE)
def test_precedence(
    user: dict[str, Any], environment: dict[str, Any], defaults: dict[str, Any], value: str
) -> None:
    assert resolve(PRECEDENCE_DECLARATIONS, user, environment, defaults) == ({"p": value}, [])


def test_missing_value_and_undeclared_names() -> None:
    declarations, _ = hot({"x": {"type": "string"}})
    assert resolve(declarations, {"zzz": 1}, {"env_only": 2, "zzz": 3}, {"pd_only": 4}) == (
        {},
        [
            Diagnostic("V5007", "parameter 'zzz' is not defined in the template", at("zzz")),
            Diagnostic(
                "V5007", "parameter 'env_only' is not defined in the template", at("env_only")
            ),
            Diagnostic("V5001", "parameter 'x' has no value", at("x")),
        ],
    )


def test_parameter_default_satisfies_a_parameter_without_default() -> None:
    declarations, _ = hot({"x": {"type": "number"}})
    assert resolve(declarations, defaults={"x": "3"}) == ({"x": 3}, [])


CONSTRAINED, _ = hot(
    {
        "size": {
            "type": "number",
            "constraints": [
                {"range": {"min": 1, "max": 10}},
                {"allowed_values": [2, 4, 11], "description": "Pick 2 or 4"},
                {"custom_constraint": "test.even"},
            ],
        },
        "flavor": {"type": "string", "constraints": [{"custom_constraint": "nova.flavor"}]},
        "image": {"type": "string", "constraints": [{"custom_constraint": "glance.image"}]},
    }
)


def test_constraint_failures_keep_the_value() -> None:
    values, diagnostics = resolve(CONSTRAINED, {"size": "11", "flavor": "m1", "image": "cirros"})
    assert values == {"size": 11, "flavor": "m1", "image": "cirros"}
    assert diagnostics == [
        Diagnostic("V5003", "value 11 must be in the range 1 to 10", at("size")),
        Diagnostic("V5003", "11 is odd", at("size")),
        Diagnostic(
            "V5005",
            "custom constraint 'nova.flavor' is checked when the stack is created",
            at("flavor"),
            Severity.INFO,
        ),
        Diagnostic("V5004", "unknown custom constraint 'glance.image'", at("image")),
    ]


def test_constraint_description_replaces_message() -> None:
    _, diagnostics = resolve(CONSTRAINED, {"size": 6, "flavor": "m1", "image": "x"})
    assert diagnostics[0] == Diagnostic("V5003", "Pick 2 or 4", at("size"))


SECRET = "Hunter2-S3cret!"


def test_hidden_values_never_appear_in_messages() -> None:
    declarations, declaration_problems = hot(
        {
            "db_password": {
                "type": "string",
                "hidden": True,
                "constraints": [
                    {"length": {"max": 5}},
                    {"allowed_pattern": "[a-z]+"},
                    {"allowed_values": ["a", "b"]},
                    {"custom_constraint": "test.even"},
                ],
            },
            "pin": {"type": "number", "hidden": True},
            "words": {
                "type": "comma_delimited_list",
                "hidden": True,
                "constraints": [{"allowed_values": ["x"]}],
            },
        }
    )
    assert declaration_problems == []
    values, diagnostics = resolve(
        declarations, {"db_password": SECRET, "pin": SECRET, "words": f"x,{SECRET}"}
    )
    subject = "value for hidden parameter"
    assert diagnostics == [
        Diagnostic(
            "V5003",
            f"length of {subject} 'db_password' must be no greater than 5",
            at("db_password"),
        ),
        Diagnostic(
            "V5003", f"{subject} 'db_password' does not match pattern \"[a-z]+\"", at("db_password")
        ),
        Diagnostic(
            "V5003",
            f'{subject} \'db_password\' is not an allowed value ["a", "b"]',
            at("db_password"),
        ),
        Diagnostic(
            "V5003",
            f"{subject} 'db_password' does not satisfy custom constraint 'test.even'",
            at("db_password"),
        ),
        Diagnostic("V5002", f"{subject} 'pin' is not a number", at("pin")),
        Diagnostic("V5003", f"{subject} 'words' is not an allowed value [\"x\"]", at("words")),
    ]
    assert all(SECRET not in diagnostic.message for diagnostic in diagnostics)
    assert values == {"db_password": SECRET, "words": ["x", SECRET]}


IMMUTABLE, _ = hot(
    {
        "name": {"type": "string", "immutable": True},
        "size": {"type": "number", "immutable": True},
        "free": {"type": "string"},
    }
)

IMMUTABLE_CASES = [
    pytest.param({"name": "a", "size": 1, "free": "x"}, [], id="unchanged-after-conversion"),
    pytest.param(
        {"name": "b", "size": 1, "free": "x"},
        [Diagnostic("V5006", "parameter 'name' is immutable and cannot be changed", at("name"))],
        id="changed",
    ),
    pytest.param(
        {"name": "a", "size": 2},
        [Diagnostic("V5006", "parameter 'size' is immutable and cannot be changed", at("size"))],
        id="changed-number",
    ),
    pytest.param({"name": "a", "free": "y"}, [], id="parameter-new-to-the-stack-is-free"),
]


@pytest.mark.parametrize(("previous", "expected"), IMMUTABLE_CASES)
def test_immutable(previous: dict[str, Any], expected: list[Diagnostic]) -> None:
    current = {"name": "a", "size": "1", "free": "z"}
    assert resolve(IMMUTABLE, current, previous=previous) == (
        {"name": "a", "size": 1, "free": "z"},
        expected,
    )


def test_immutable_not_checked_without_previous_values() -> None:
    assert resolve(IMMUTABLE, {"name": "a", "size": 1, "free": "z"})[1] == []


DECLARED, _ = hot({name: {"type": "string"} for name in ("a", "b", "c")})

GROUP_CASES = [
    pytest.param(None, [], id="absent"),
    pytest.param([], [], id="empty"),
    pytest.param(
        [{"label": "All", "parameters": ["a", "b"]}, {"parameters": ["c"]}], [], id="valid"
    ),
    pytest.param([{"parameters": ["OS::stack_name"]}], [], id="pseudo-parameter"),
    pytest.param(
        {"parameters": ["a"]},
        [
            Diagnostic(
                "V5020", "parameter_groups must be a list", TemplatePath(("parameter_groups",))
            )
        ],
        id="not-a-list",
    ),
    pytest.param(
        ["a", {"label": "x"}, {"parameters": "a"}],
        [
            Diagnostic(
                "V5021", "a parameter group must be a map", TemplatePath(("parameter_groups", 0))
            ),
            Diagnostic(
                "V5021",
                "a parameter group needs a 'parameters' list",
                TemplatePath(("parameter_groups", 1)),
            ),
            Diagnostic(
                "V5021",
                "'parameters' of a parameter group must be a list",
                TemplatePath(("parameter_groups", 2, "parameters")),
            ),
        ],
        id="bad-groups",
    ),
    pytest.param(
        [{"parameters": ["a", "b"]}, {"parameters": ["b", "zz", 5]}],
        [
            Diagnostic(
                "V5022",
                "parameter 'b' is in more than one parameter group",
                TemplatePath(("parameter_groups", 1, "parameters", 0)),
            ),
            Diagnostic(
                "V5023",
                "parameter group refers to unknown parameter 'zz'",
                TemplatePath(("parameter_groups", 1, "parameters", 1)),
            ),
            Diagnostic(
                "V5023",
                "a grouped parameter must be a name",
                TemplatePath(("parameter_groups", 1, "parameters", 2)),
            ),
        ],
        id="duplicate-and-unknown",
    ),
]


@pytest.mark.parametrize(("groups", "expected"), GROUP_CASES)
def test_parameter_groups(groups: Any, expected: list[Diagnostic]) -> None:
    path = TemplatePath(("parameter_groups",))
    assert (
        validate_parameter_groups(groups, DECLARED, path, pseudo_parameters={"OS::stack_name"})
        == expected
    )


def test_hidden_names_masking_and_secrets() -> None:
    declarations, _ = hot(
        {
            "password": {"type": "string", "hidden": True},
            "config": {"type": "json", "hidden": True},
            "name": {"type": "string"},
        }
    )
    values = {
        "password": "pw1",
        "config": {"token": "tok", "port": 8443, "on": True, "e": ""},
        "name": "n",
    }
    hidden = hidden_parameter_names(declarations)
    assert hidden == frozenset({"password", "config"})
    assert mask_hidden_values(values, hidden) == {
        "password": "******",
        "config": "******",
        "name": "n",
    }
    assert secret_values(values, hidden) == frozenset({"pw1", "tok", "8443"})


REDACTIONS = [
    pytest.param("user pw1 logged", ["pw1"], "user ****** logged", id="text"),
    pytest.param("abcdef", ["abc", "abcdef"], "******", id="longest-first"),
    pytest.param("a.b", [".", ""], "a******b", id="regex-characters-escaped"),
    pytest.param("keep", [""], "keep", id="empty-secret-ignored"),
    pytest.param(
        {"k pw1": ["pw1", ("x", "pw1x")], "n": 8443, "b": True, "f": None},
        ["pw1", "8443"],
        {"k ******": ["******", ("x", "******x")], "n": "******", "b": True, "f": None},
        id="nested",
    ),
]


@pytest.mark.parametrize(("value", "secrets", "expected"), REDACTIONS)
def test_redact(value: Any, secrets: list[str], expected: Any) -> None:
    assert redact(value, secrets) == expected


def test_redactor_on_diagnostics() -> None:
    redactor = Redactor(["pw1"])
    assert redactor
    assert not Redactor([])
    assert redactor.diagnostic(Diagnostic("F3004", "cannot use pw1", at("x"))) == Diagnostic(
        "F3004", "cannot use ******", at("x")
    )
    assert Redactor([]).redact({"a": "pw1"}) == {"a": "pw1"}
    assert redactor.value(["pw1"]) == ["******"]
