"""CloudFormation's central functions, and the Fn::* names HOT 2013-05-23 kept, vs Heat and AWS."""

from __future__ import annotations

from typing import Any

import pytest
from function_support import CFN_PATH, Evaluator, Expectation, diagnostic, expect

from kiln.config import TemplateLimits
from kiln.errors import EvaluationError, TemplatePath
from kiln.template.functions.base import ABSENT, Function, Reference, Unknown
from kiln.template.functions.cfn_core import (
    Base64,
    FindInMap,
    GetAtt,
    Join,
    Ref,
    Select,
    Split,
    Sub,
    parse_sub,
)
from kiln.template.functions.cfn_extras import GetAZs

CFN = "2010-09-09"
HOT = "2013-05-23"
PATH = CFN_PATH

PARAMETERS: dict[str, Any] = {
    "Env": "prod",
    "Count": 3,
    "Subnets": ["subnet-1", "subnet-2"],
    "AttributeName": "PublicIp",
    "Secret": "hunter2",
    "Later": Unknown("parameter Later"),
}
PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::Region": "eu-west-1",
    "AWS::StackName": "demo",
    "AWS::StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}
MAPPINGS: dict[str, Any] = {
    "RegionMap": {
        "eu-west-1": {"AMI": "ami-eu", "Size": 2},
        "us-east-1": {"AMI": "ami-us"},
    },
    "Typed": {1: {True: "one-true"}},
    "Flat": {"key": "not a map"},
}


CALLS = Evaluator(
    {
        "parameters": PARAMETERS,
        "resource_names": frozenset({"Web", "Bucket", "Pending"}),
        "physical_ids": {"Web": "i-123", "Bucket": "my-bucket"},
        "attributes": {
            "Web": {"PublicIp": "203.0.113.5", "Outputs.Url": "http://web"},
            "Bucket": {"Arn": "arn:aws:s3:::my-bucket"},
        },
        "mappings": MAPPINGS,
        "pseudo_parameters": PSEUDO_PARAMETERS,
        "zones": {"": ["eu-west-1a", "eu-west-1b"]},
    }
)
evaluate = CALLS.evaluate
failure = CALLS.failure


def ref(name: Any, version: str = CFN) -> Ref:
    return Ref("Ref", name, PATH, version)


def at(name: str, *segments: Any) -> TemplatePath:
    return (PATH / name).join(segments)


REF = expect("Ref")
GETATT = expect("Fn::GetAtt")
JOIN = expect("Fn::Join")
SELECT = expect("Fn::Select")
SPLIT = expect("Fn::Split")
BASE64 = expect("Fn::Base64")
SUB = expect("Fn::Sub")
FIND_IN_MAP = expect("Fn::FindInMap")


# --- Ref ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        pytest.param("Env", CFN, "prod", id="parameter"),
        pytest.param("Count", CFN, 3, id="number-parameter"),
        pytest.param("Web", CFN, "i-123", id="resource-physical-id"),
        pytest.param("Pending", CFN, Unknown("Pending"), id="resource-not-created-yet"),
        pytest.param("Later", CFN, Unknown("parameter Later"), id="parameter-not-known-yet"),
        pytest.param("AWS::Region", CFN, "eu-west-1", id="pseudo-region"),
        pytest.param("AWS::StackName", CFN, "demo", id="pseudo-stack-name"),
        pytest.param("AWS::AccountId", CFN, "123456789012", id="pseudo-account"),
        pytest.param("AWS::Partition", CFN, "aws", id="pseudo-partition"),
        pytest.param("AWS::URLSuffix", CFN, "amazonaws.com", id="pseudo-url-suffix"),
        pytest.param("AWS::NotificationARNs", CFN, [], id="pseudo-notification-arns"),
        pytest.param("AWS::NoValue", CFN, ABSENT, id="no-value"),
        pytest.param("Env", HOT, "prod", id="hot-2013-parameter"),
        pytest.param("Web", HOT, "i-123", id="hot-2013-resource"),
    ],
)
def test_ref(name: str, version: str, expected: Any) -> None:
    assert evaluate(ref(name, version)) == expected


def test_ref_prefers_a_resource_over_a_parameter_of_the_same_name_as_heat() -> None:
    parameters = {**PARAMETERS, "Web": "parameter value"}
    assert evaluate(ref("Web"), parameters=parameters) == "i-123"


def test_ref_name_may_be_computed() -> None:
    assert evaluate(ref(Join("Fn::Join", ["", ["E", "nv"]], PATH, CFN))) == "prod"


def test_ref_no_value_removes_a_property_and_a_list_item() -> None:
    node = {
        "Properties": {"KeyName": ref("AWS::NoValue"), "ImageId": "ami-1"},
        "Subnets": ["a", ref("AWS::NoValue"), "b"],
    }
    assert evaluate(node) == {"Properties": {"ImageId": "ami-1"}, "Subnets": ["a", "b"]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Nope", REF("R4001", "'Nope' is not a parameter or resource"), id="undefined"),
        pytest.param(
            "AWS::Unheard",
            REF("R4001", "'AWS::Unheard' is not a parameter or resource"),
            id="unknown-pseudo-parameter",
        ),
        pytest.param(["Env"], REF("F3003", "the name must be a string, not a list"), id="list"),
        pytest.param(
            Join("Fn::Join", ["", ["Sec", "ret!"]], PATH, CFN),
            REF("R4001", "the name computed by Fn::Join is not a parameter or resource"),
            id="computed-name-not-shown",
        ),
    ],
)
def test_ref_errors(name: Any, expected: Expectation) -> None:
    assert failure(ref(name)) == expected


def test_ref_check_and_references() -> None:
    assert list(ref(7).check()) == [
        diagnostic(REF("F3003", "the name must be a string, not a number"))
    ]
    assert list(ref("Env").check()) == []
    assert list(ref("Web").references()) == [Reference("ref", "Web", at("Ref"))]
    assert list(ref(ref("Env")).references()) == []


# --- Fn::GetAtt ----------------------------------------------------------------


def get_att(args: Any) -> GetAtt:
    return GetAtt("Fn::GetAtt", args, PATH, CFN)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["Web", "PublicIp"], "203.0.113.5", id="list-form"),
        pytest.param("Web.PublicIp", "203.0.113.5", id="string-form"),
        pytest.param("Web.Outputs.Url", "http://web", id="string-form-splits-on-first-dot"),
        pytest.param(["Web", "Outputs.Url"], "http://web", id="list-form-dotted-attribute"),
        pytest.param(["Web", ref("AttributeName")], "203.0.113.5", id="attribute-from-ref"),
        pytest.param(["Pending", "Ip"], Unknown("Pending.Ip"), id="resource-not-created-yet"),
        pytest.param(
            ["Web", ref("Later")],
            Unknown("Fn::GetAtt at Outputs.Result.Value"),
            id="attribute-unknown",
        ),
    ],
)
def test_get_att(args: Any, expected: Any) -> None:
    assert evaluate(get_att(args)) == expected


GETATT_USAGE = GETATT(
    "F3003",
    "arguments must have the form [resource_name, attribute_name] "
    'or "resource_name.attribute_name"',
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["Nope", "Ip"], GETATT("R4001", "resource 'Nope' is not defined", 0), id="no-resource"
        ),
        pytest.param(
            "Web.Missing",
            GETATT("R4007", "resource 'Web' has no attribute 'Missing'"),
            id="no-attribute",
        ),
        pytest.param(
            ["Web", "Missing"],
            GETATT("R4007", "resource 'Web' has no attribute 'Missing'", 1),
            id="no-attribute-list-form",
        ),
        pytest.param("Web", GETATT_USAGE, id="string-without-dot"),
        pytest.param(".Ip", GETATT_USAGE, id="string-without-resource"),
        pytest.param(["Web"], GETATT_USAGE, id="one-item"),
        pytest.param(["Web", "Ip", "x"], GETATT_USAGE, id="path-items-not-allowed"),
        pytest.param(
            [1, "Ip"],
            GETATT("F3003", "the resource name must be a string, not a number", 0),
            id="resource-not-string",
        ),
        pytest.param(
            ["Web", ref("Subnets")],
            GETATT("F3004", "the attribute name must be a string, not a list", 1),
            id="computed-attribute-not-string",
        ),
        pytest.param(
            ["Web", ref("Env")],
            GETATT("R4007", "resource 'Web' has no attribute the name computed by Ref", 1),
            id="computed-attribute-not-shown",
        ),
    ],
)
def test_get_att_errors(args: Any, expected: Expectation) -> None:
    assert failure(get_att(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["Web", "Ip"], [Reference("attribute", "Web", at("Fn::GetAtt", 0), "Ip")], id="list"
        ),
        pytest.param(
            "Web.Outputs.Url",
            [Reference("attribute", "Web", at("Fn::GetAtt"), "Outputs.Url")],
            id="string",
        ),
        pytest.param(
            ["Web", ref("AttributeName")],
            [Reference("attribute", "Web", at("Fn::GetAtt", 0), None)],
            id="computed-attribute",
        ),
        pytest.param("Web", [], id="malformed"),
    ],
)
def test_get_att_references(args: Any, expected: list[Reference]) -> None:
    assert list(get_att(args).references()) == expected


def test_get_att_check() -> None:
    assert list(get_att(["Web", 2]).check()) == [
        diagnostic(GETATT("F3003", "the attribute name must be a string, not a number", 1))
    ]
    assert list(get_att({"Web": "Ip"}).check()) == [diagnostic(GETATT_USAGE)]


# --- Fn::Join -----------------------------------------------------------------


def join(args: Any, version: str = CFN) -> Join:
    return Join("Fn::Join", args, PATH, version)


@pytest.mark.parametrize(
    ("args", "version", "expected"),
    [
        pytest.param([",", ["a", "b", "c"]], CFN, "a,b,c", id="strings"),
        pytest.param(["", []], CFN, "", id="empty-list"),
        pytest.param(["-", ["a", None, "b"]], CFN, "a--b", id="null-item-is-empty"),
        pytest.param(["-", None], CFN, "", id="null-list"),
        pytest.param(
            [":", ["port", 80, True, 1.5]], CFN, "port:80:true:1.5", id="cfn-scalars-as-aws-text"
        ),
        pytest.param(
            ["/", ["a", ref("AWS::NoValue"), "b"]], CFN, "a/b", id="no-value-item-dropped"
        ),
        pytest.param(["-", ref("Subnets")], CFN, "subnet-1-subnet-2", id="list-from-ref"),
        pytest.param([ref("Env"), ["x", "y"]], CFN, "xprody", id="computed-delimiter"),
        pytest.param(
            ["-", ["a", ref("Pending")]],
            CFN,
            Unknown("Fn::Join at Outputs.Result.Value"),
            id="unknown-item",
        ),
        pytest.param([" ", ["a", "b"]], HOT, "a b", id="hot-2013"),
    ],
)
def test_join(args: Any, version: str, expected: Any) -> None:
    assert evaluate(join(args, version)) == expected


JOIN_USAGE = JOIN("F3003", "arguments must have the form [delimiter, [value, ...]]")


@pytest.mark.parametrize(
    ("args", "version", "expected"),
    [
        pytest.param(
            ["-", ["a", 1]],
            HOT,
            JOIN("F3003", "item 1 must be a string, not a number", 1, 1),
            id="hot-number-item",
        ),
        pytest.param(
            ["-", ["a", {"b": 1}]],
            CFN,
            JOIN("F3003", "item 1 must be a string, not a map", 1, 1),
            id="map-item",
        ),
        pytest.param(
            ["-", ref("Env")],
            CFN,
            JOIN("F3004", "the second argument must be a list, not a string", 1),
            id="computed-string",
        ),
        pytest.param(
            [1, ["a"]],
            CFN,
            JOIN("F3003", "the delimiter must be a string, not a number", 0),
            id="delimiter-number",
        ),
        pytest.param(
            ["-", "a,b"],
            CFN,
            JOIN("F3003", "the second argument must be a list, not a string", 1),
            id="string-not-list",
        ),
        pytest.param(["-"], CFN, JOIN_USAGE, id="one-argument"),
        pytest.param("a,b", CFN, JOIN_USAGE, id="not-a-list"),
        pytest.param(
            ["-", [ref("Subnets"), "a"]],
            CFN,
            JOIN("F3004", "item 0 must be a string, not a list", 1),
            id="computed-list-item",
        ),
    ],
)
def test_join_errors(args: Any, version: str, expected: Expectation) -> None:
    assert failure(join(args, version)) == expected


def test_join_check_reports_every_literal_problem() -> None:
    assert list(join([1, ["a", [2], ref("Env"), {}]]).check()) == [
        diagnostic(JOIN("F3003", "the delimiter must be a string, not a number", 0)),
        diagnostic(JOIN("F3003", "item 1 must be a string, not a list", 1, 1)),
        diagnostic(JOIN("F3003", "item 3 must be a string, not a map", 1, 3)),
    ]


def test_join_refuses_results_past_the_limit() -> None:
    limits = TemplateLimits(max_value_chars=6)
    with pytest.raises(EvaluationError) as caught:
        evaluate(join(["-----", ["a", "b"]]), limits)
    assert (caught.value.code, caught.value.message) == (
        "F3004",
        "Fn::Join: the result would be longer than 6 characters",
    )


# --- Fn::Select ---------------------------------------------------------------


def select(args: Any, version: str = CFN) -> Select:
    return Select("Fn::Select", args, PATH, version)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([1, ["a", "b", "c"]], "b", id="integer-index"),
        pytest.param(["2", ["a", "b", "c"]], "c", id="string-index"),
        pytest.param([3, ["a", "b", "c"]], "", id="out-of-range-is-empty-as-heat"),
        pytest.param([-1, ["a", "b", "c"]], "", id="negative-is-not-found"),
        pytest.param(["b", {"a": 1, "b": 2}], 2, id="map-key"),
        pytest.param(["z", {"a": 1}], "", id="missing-map-key-is-empty"),
        pytest.param([0, '["x", "y"]'], "x", id="json-list-string"),
        pytest.param(["k", '{"k": "v"}'], "v", id="json-map-string"),
        pytest.param([0, ""], "", id="empty-string"),
        pytest.param([0, None], "", id="null"),
        pytest.param([1, ref("Subnets")], "subnet-2", id="list-from-ref"),
        pytest.param([0, GetAZs("Fn::GetAZs", "", PATH, CFN)], "eu-west-1a", id="first-zone"),
        pytest.param([ref("Count"), ["a", "b", "c", "d"]], "d", id="computed-index"),
        pytest.param([0, ["a", ref("Pending")]], "a", id="known-item-of-partly-unknown-list"),
        pytest.param([1, ["a", ref("Pending")]], Unknown("Pending"), id="unknown-item"),
        pytest.param(
            [0, ref("Later")], Unknown("Fn::Select at Outputs.Result.Value"), id="unknown-list"
        ),
    ],
)
def test_select(args: Any, expected: Any) -> None:
    assert evaluate(select(args)) == expected


def test_select_in_hot_2013() -> None:
    assert evaluate(select(["1", ["a", "b"]], HOT)) == "b"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["x", ["a"]],
            SELECT("F3003", "the index must be an integer to select from a list", 0),
            id="word-index-on-list",
        ),
        pytest.param(
            [0, {"a": 1}],
            SELECT("F3003", "the index must be a string to select from a map", 0),
            id="number-index-on-map",
        ),
        pytest.param(
            [0, 5],
            SELECT("F3003", "the second argument must be a list or a map, not a number", 1),
            id="number-collection",
        ),
        pytest.param(
            [0, "not json"],
            SELECT(
                "F3004",
                "the second argument is not JSON: Expecting value: line 1 column 1 (char 0)",
                1,
            ),
            id="string-not-json",
        ),
        pytest.param(
            [ref("Env"), ["a"]],
            SELECT("F3004", "the index must be an integer to select from a list", 0),
            id="computed-index-not-integer",
        ),
        pytest.param(
            [0],
            SELECT("F3003", "arguments must have the form [index, list_or_map]"),
            id="one-argument",
        ),
    ],
)
def test_select_errors(args: Any, expected: Expectation) -> None:
    assert failure(select(args)) == expected


# --- Fn::Split ----------------------------------------------------------------


def split(args: Any, version: str = CFN) -> Split:
    return Split("Fn::Split", args, PATH, version)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([",", "a,b,c"], ["a", "b", "c"], id="basic"),
        pytest.param([",", "a,,b"], ["a", "", "b"], id="empty-field"),
        pytest.param([",", ""], [""], id="empty-string"),
        pytest.param(["|", "abc"], ["abc"], id="no-delimiter-in-text"),
        pytest.param(["-", ref("Env")], ["prod"], id="computed-source"),
        pytest.param(["::", "AWS::Region"], ["AWS", "Region"], id="long-delimiter"),
    ],
)
def test_split(args: Any, expected: Any) -> None:
    assert evaluate(split(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["", "abc"], SPLIT("F3003", "the delimiter must not be empty", 0), id="empty-delimiter"
        ),
        pytest.param(
            [",", ["a"]],
            SPLIT("F3003", "the second argument must be a string, not a list", 1),
            id="list-source",
        ),
        pytest.param(
            [",", ref("Subnets")],
            SPLIT("F3004", "the second argument must be a string, not a list", 1),
            id="computed-list-source",
        ),
        pytest.param(
            [","],
            SPLIT("F3003", "arguments must have the form [delimiter, string]"),
            id="one-argument",
        ),
    ],
)
def test_split_errors(args: Any, expected: Expectation) -> None:
    assert failure(split(args)) == expected


# --- Fn::Base64 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "version", "expected"),
    [
        pytest.param("hello", CFN, "aGVsbG8=", id="cfn-encodes"),
        pytest.param("#!/bin/bash\necho é\n", CFN, "IyEvYmluL2Jhc2gKZWNobyDDqQo=", id="cfn-utf8"),
        pytest.param("", CFN, "", id="cfn-empty"),
        pytest.param(ref("Env"), CFN, "cHJvZA==", id="cfn-computed"),
        pytest.param("hello", "2012-12-12", "aGVsbG8=", id="heat-cfn-encodes"),
        pytest.param("hello", HOT, "hello", id="hot-passes-through-as-heat"),
        pytest.param(
            ref("Pending"), CFN, Unknown("Fn::Base64 at Outputs.Result.Value"), id="unknown"
        ),
    ],
)
def test_base64(args: Any, version: str, expected: Any) -> None:
    assert evaluate(Base64("Fn::Base64", args, PATH, version)) == expected


def test_base64_errors() -> None:
    assert failure(Base64("Fn::Base64", ["a"], PATH, CFN)) == BASE64(
        "F3003", "the argument must be a string, not a list"
    )
    assert failure(Base64("Fn::Base64", 5, PATH, HOT)) == BASE64(
        "F3003", "the argument must be a string, not a number"
    )


# --- Fn::Sub ------------------------------------------------------------------


def sub(args: Any) -> Sub:
    return Sub("Fn::Sub", args, PATH, CFN)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("plain text", "plain text", id="no-variables"),
        pytest.param("${Env}-app", "prod-app", id="parameter"),
        pytest.param("id=${Web}", "id=i-123", id="resource"),
        pytest.param("ip=${Web.PublicIp}", "ip=203.0.113.5", id="resource-attribute"),
        pytest.param("${Web.Outputs.Url}/x", "http://web/x", id="attribute-with-dot"),
        pytest.param(
            "arn:${AWS::Partition}:s3:::${AWS::Region}",
            "arn:aws:s3:::eu-west-1",
            id="pseudo-parameters",
        ),
        pytest.param("${!Literal}", "${Literal}", id="escaped-literal"),
        pytest.param("${!Env} is ${Env}", "${Env} is prod", id="escaped-and-real"),
        pytest.param("cost $5 {x} $", "cost $5 {x} $", id="dollar-without-brace"),
        pytest.param("n=${Count}", "n=3", id="number-parameter-as-text"),
        pytest.param(
            ["${Name}.${Zone}", {"Name": "www", "Zone": ref("Env")}], "www.prod", id="variable-map"
        ),
        pytest.param(["${Env}", {"Env": "override"}], "override", id="map-wins-over-parameter"),
        pytest.param(
            ["${Web.PublicIp}", {"Web.PublicIp": "mapped"}], "mapped", id="map-wins-over-attribute"
        ),
        pytest.param(
            ["${A}", {"A": 8080, "Unused": ref("Pending")}], "8080", id="unused-unknown-ignored"
        ),
        pytest.param(["${A}${!B}", {"A": True}], "true${B}", id="boolean-as-aws-text"),
        pytest.param("${Pending}", Unknown("Fn::Sub ${Pending}"), id="unknown-resource"),
        pytest.param("${Pending.Ip}", Unknown("Fn::Sub ${Pending.Ip}"), id="unknown-attribute"),
    ],
)
def test_sub(args: Any, expected: Any) -> None:
    assert evaluate(sub(args)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("a${B}c", [(False, "a"), (True, "B"), (False, "c")], id="middle"),
        pytest.param("${A}${B}", [(True, "A"), (True, "B")], id="adjacent"),
        pytest.param("x${!A}y${B}", [(False, "x${A}y"), (True, "B")], id="literal-joins-text"),
        pytest.param("${!}", [(False, "${}")], id="escaped-empty"),
    ],
)
def test_parse_sub(text: str, expected: list[tuple[bool, str]]) -> None:
    assert parse_sub(text) == expected


SUB_USAGE = SUB("F3003", "arguments must have the form string or [string, {name: value, ...}]")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            "${Env", SUB("F3003", "the '${' at character 0 has no closing '}'"), id="unterminated"
        ),
        pytest.param(
            ["a ${B", {}],
            SUB("F3003", "the '${' at character 2 has no closing '}'", 0),
            id="unterminated-list-form",
        ),
        pytest.param(
            "x${}", SUB("F3003", "the '${}' at character 1 names no variable"), id="empty-name"
        ),
        pytest.param(
            "${Nope}", SUB("R4001", "'Nope' is not a parameter or resource"), id="undefined"
        ),
        pytest.param(
            "${Nope.Ip}", SUB("R4001", "resource 'Nope' is not defined"), id="undefined-resource"
        ),
        pytest.param(
            "${Web.Missing}",
            SUB("R4007", "resource 'Web' has no attribute 'Missing'"),
            id="undefined-attribute",
        ),
        pytest.param(
            "${Subnets}",
            SUB("F3004", "${Subnets} must be a string, not a list"),
            id="list-parameter",
        ),
        pytest.param(
            ["${A}", {"A": ["x"]}],
            SUB("F3004", "${A} must be a string, not a list", 1, "A"),
            id="list-variable",
        ),
        pytest.param(
            ["${A}", ["A"]],
            SUB("F3003", "the variables must be a map, not a list", 1),
            id="variables-not-map",
        ),
        pytest.param(
            [5, {}],
            SUB("F3003", "the text must be a string, not a number", 0),
            id="text-not-string",
        ),
        pytest.param(["${A}"], SUB_USAGE, id="one-item-list"),
        pytest.param(
            "${AWS::NoValue}",
            SUB("F3004", "${AWS::NoValue} must be a string, not an absent value"),
            id="no-value",
        ),
    ],
)
def test_sub_errors(args: Any, expected: Expectation) -> None:
    assert failure(sub(args)) == expected


def test_sub_check_matches_evaluation() -> None:
    assert list(sub(["${A} ${B", {"A": "x"}]).check()) == [
        diagnostic(SUB("F3003", "the '${' at character 5 has no closing '}'", 0))
    ]
    assert list(sub("${A}").check()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            "${Env}-${Web.PublicIp}-${AWS::Region}-${!Skip}-${Env}",
            [
                Reference("ref", "Env", at("Fn::Sub")),
                Reference("attribute", "Web", at("Fn::Sub"), "PublicIp"),
                Reference("ref", "AWS::Region", at("Fn::Sub")),
            ],
            id="string-form",
        ),
        pytest.param(
            ["${Local} ${Bucket}", {"Local": "x"}],
            [Reference("ref", "Bucket", at("Fn::Sub", 0))],
            id="list-form-skips-variables",
        ),
        pytest.param("${Broken", [], id="unterminated"),
        pytest.param([ref("Env"), {}], [], id="computed-text"),
    ],
)
def test_sub_references(args: Any, expected: list[Reference]) -> None:
    assert list(sub(args).references()) == expected


# --- Fn::FindInMap ------------------------------------------------------------


def find_in_map(args: Any) -> FindInMap:
    return FindInMap("Fn::FindInMap", args, PATH, CFN)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["RegionMap", "us-east-1", "AMI"], "ami-us", id="literal-keys"),
        pytest.param(
            ["RegionMap", ref("AWS::Region"), "AMI"], "ami-eu", id="key-from-pseudo-parameter"
        ),
        pytest.param(["RegionMap", "eu-west-1", "Size"], 2, id="number-value"),
        pytest.param(["Typed", "1", "true"], "one-true", id="keys-match-as-aws-text"),
        pytest.param(
            ["RegionMap", "ap-south-1", "AMI", {"DefaultValue": "ami-default"}],
            "ami-default",
            id="default-for-top-key",
        ),
        pytest.param(
            ["RegionMap", "us-east-1", "Size", {"DefaultValue": 1}], 1, id="default-for-second-key"
        ),
        pytest.param(
            ["RegionMap", "us-east-1", "AMI", {"DefaultValue": "unused"}],
            "ami-us",
            id="default-not-used",
        ),
        pytest.param(
            ["RegionMap", "x", "AMI", {"DefaultValue": ref("Env")}],
            "prod",
            id="default-is-evaluated",
        ),
        pytest.param(
            ["RegionMap", "us-east-1", "AMI", {"DefaultValue": ref("Pending")}],
            "ami-us",
            id="unneeded-unknown-default",
        ),
        pytest.param(
            ["RegionMap", ref("Later"), "AMI"],
            Unknown("Fn::FindInMap at Outputs.Result.Value"),
            id="unknown-key",
        ),
    ],
)
def test_find_in_map(args: Any, expected: Any) -> None:
    assert evaluate(find_in_map(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["Nope", "a", "b"],
            FIND_IN_MAP("R4004", "mapping 'Nope' is not defined", 0),
            id="no-map",
        ),
        pytest.param(
            ["RegionMap", "ap-south-1", "AMI"],
            FIND_IN_MAP("F3004", "top-level key 'ap-south-1' is not in mapping 'RegionMap'", 1),
            id="no-top-key",
        ),
        pytest.param(
            ["RegionMap", "us-east-1", "Size"],
            FIND_IN_MAP("F3004", "second-level key 'Size' is not in mapping 'RegionMap'", 2),
            id="no-second-key",
        ),
        pytest.param(
            ["RegionMap", ref("Secret"), "AMI"],
            FIND_IN_MAP("F3004", "top-level key the computed key is not in mapping 'RegionMap'", 1),
            id="computed-key-value-not-shown",
        ),
        pytest.param(
            ["Flat", "key", "x"],
            FIND_IN_MAP("F3004", "mapping 'Flat' must hold maps of values", 0),
            id="second-level-not-a-map",
        ),
        pytest.param(
            ["RegionMap", ["us-east-1"], "AMI"],
            FIND_IN_MAP("F3004", "the key must be a string, not a list", 1),
            id="list-key",
        ),
        pytest.param(
            ["RegionMap", "x", "AMI", {"Default": 1}],
            FIND_IN_MAP("F3003", "the fourth argument must be a map {DefaultValue: value}", 3),
            id="bad-default-option",
        ),
        pytest.param(
            [7, "a", "b"],
            FIND_IN_MAP("F3003", "the map name must be a string, not a number", 0),
            id="map-name-number",
        ),
        pytest.param(
            ["RegionMap", "a"],
            FIND_IN_MAP(
                "F3003",
                "arguments must have the form "
                "[map_name, top_level_key, second_level_key, {DefaultValue: value}]",
            ),
            id="two-arguments",
        ),
    ],
)
def test_find_in_map_errors(args: Any, expected: Expectation) -> None:
    assert failure(find_in_map(args)) == expected


def test_find_in_map_references() -> None:
    assert list(find_in_map(["RegionMap", "a", "b"]).references()) == [
        Reference("mapping", "RegionMap", at("Fn::FindInMap", 0))
    ]
    assert list(find_in_map([ref("Env"), "a", "b"]).references()) == []


# --- shared behaviour -----------------------------------------------------------


@pytest.mark.parametrize(
    "function",
    [
        pytest.param(join([",", ["a"]]), id="join"),
        pytest.param(select([0, ["a"]]), id="select"),
        pytest.param(sub(["${A}", {"A": "x"}]), id="sub"),
        pytest.param(find_in_map(["RegionMap", "a", "b", {"DefaultValue": 1}]), id="find-in-map"),
        pytest.param(get_att(["Web", "Ip"]), id="get-att"),
    ],
)
def test_well_formed_calls_have_no_diagnostics(function: Function) -> None:
    assert list(function.check()) == []


def test_arguments_given_by_a_call_are_checked_at_evaluation() -> None:
    computed = join([",", ["a"]])
    function = Split("Fn::Split", computed, PATH, CFN)
    assert list(function.check()) == []
    assert failure(function) == SPLIT("F3004", "arguments must have the form [delimiter, string]")
