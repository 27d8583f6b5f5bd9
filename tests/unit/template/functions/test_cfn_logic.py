"""CloudFormation condition functions: Fn::If, Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition."""

from __future__ import annotations

from typing import Any

import pytest
from function_support import Evaluator, Expectation, diagnostic, expect

from kiln.errors import TemplatePath
from kiln.template.functions.base import ABSENT, Function, Reference, Unknown
from kiln.template.functions.cfn_core import Ref
from kiln.template.functions.cfn_logic import And, Condition, Equals, If, Not, Or

CFN = "2010-09-09"
PATH = TemplatePath(("Resources", "Web", "Properties", "InstanceType"))
CONDITION_PATH = TemplatePath(("Conditions", "Both"))

PARAMETERS: dict[str, Any] = {
    "Env": "prod",
    "Size": 3,
    "SizeText": "3",
    "Zones": ["a", "b"],
    "Later": Unknown("parameter Later"),
}
CONDITIONS: dict[str, Any] = {
    "IsProd": True,
    "IsDev": False,
    "Pending": Unknown("condition Pending"),
    "Broken": "yes",
}

CALLS = Evaluator(
    {
        "parameters": PARAMETERS,
        "resource_names": frozenset({"Web"}),
        "physical_ids": {"Web": "i-123"},
        "conditions": CONDITIONS,
    }
)
evaluate = CALLS.evaluate
failure = CALLS.failure

IF = expect("Fn::If", PATH)
EQUALS = expect("Fn::Equals", CONDITION_PATH)
AND = expect("Fn::And", CONDITION_PATH)
OR = expect("Fn::Or", CONDITION_PATH)
NOT = expect("Fn::Not", CONDITION_PATH)
CONDITION = expect("Condition", CONDITION_PATH)
NOT_A_CONDITION = (
    "a condition must be a condition name, a boolean or a condition function such as Fn::Equals"
)


def ref(name: str, at: TemplatePath = PATH) -> Ref:
    return Ref("Ref", name, at, CFN)


def if_(args: Any) -> If:
    return If("Fn::If", args, PATH, CFN)


def equals(args: Any) -> Equals:
    return Equals("Fn::Equals", args, CONDITION_PATH, CFN)


def and_(args: Any) -> And:
    return And("Fn::And", args, CONDITION_PATH, CFN)


def or_(args: Any) -> Or:
    return Or("Fn::Or", args, CONDITION_PATH, CFN)


def not_(args: Any) -> Not:
    return Not("Fn::Not", args, CONDITION_PATH, CFN)


def condition(name: Any) -> Condition:
    return Condition("Condition", name, CONDITION_PATH, CFN)


# --- Fn::If ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["IsProd", "m5.large", "t3.micro"], "m5.large", id="true-condition"),
        pytest.param(["IsDev", "m5.large", "t3.micro"], "t3.micro", id="false-condition"),
        pytest.param([True, 1, 2], 1, id="literal-true"),
        pytest.param([False, 1, 2], 2, id="literal-false"),
        pytest.param([equals([ref("Env"), "prod"]), "big", "small"], "big", id="inline-equals"),
        pytest.param(["IsProd", ref("Env"), ref("Nope")], "prod", id="other-branch-not-evaluated"),
        pytest.param(["IsDev", "x", ref("AWS::NoValue")], ABSENT, id="no-value-branch"),
        pytest.param(["IsProd", {"Key": ref("Env")}, None], {"Key": "prod"}, id="map-branch"),
        pytest.param(["Pending", "a", "b"], Unknown("Fn::If Pending a b"), id="unknown-condition"),
        pytest.param(
            [equals([ref("Later"), "x"]), "a", "b"],
            Unknown("Fn::If at Resources.Web.Properties.InstanceType"),
            id="condition-on-unknown-parameter",
        ),
    ],
)
def test_if(args: Any, expected: Any) -> None:
    assert evaluate(if_(args)) == expected


def test_if_no_value_drops_the_property_and_the_list_item() -> None:
    node = {
        "KeyName": if_(["IsDev", "dev-key", ref("AWS::NoValue")]),
        "SecurityGroups": ["base", if_(["IsProd", ref("AWS::NoValue"), "debug"])],
        "ImageId": "ami-1",
    }
    assert evaluate(node) == {"SecurityGroups": ["base"], "ImageId": "ami-1"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["Nope", 1, 2], IF("R4003", "condition 'Nope' is not defined", 0), id="undefined"
        ),
        pytest.param(
            ["Broken", 1, 2],
            IF("F3004", "condition 'Broken' is a string, not a boolean", 0),
            id="not-boolean",
        ),
        pytest.param(
            [1, "a", "b"], IF("F3003", f"{NOT_A_CONDITION}, not a number", 0), id="number-condition"
        ),
        pytest.param(
            [ref("Zones"), "a", "b"],
            IF("F3004", f"{NOT_A_CONDITION}, not a list", 0),
            id="computed-list",
        ),
        pytest.param(
            [ref("Env"), "a", "b"],
            IF("R4003", "condition the name computed by Ref is not defined", 0),
            id="computed-name-as-heat-not-shown",
        ),
        pytest.param(
            ["IsProd", "a"],
            IF(
                "F3003",
                "arguments must have the form [condition_name, value_if_true, value_if_false]",
            ),
            id="two-arguments",
        ),
        pytest.param(
            "IsProd",
            IF(
                "F3003",
                "arguments must have the form [condition_name, value_if_true, value_if_false]",
            ),
            id="not-a-list",
        ),
    ],
)
def test_if_errors(args: Any, expected: Expectation) -> None:
    assert failure(if_(args)) == expected


def test_if_check_and_references() -> None:
    assert list(if_([{"a": 1}, 1, 2]).check()) == [
        diagnostic(IF("F3003", f"{NOT_A_CONDITION}, not a map", 0))
    ]
    assert list(if_(["IsProd", 1, 2]).check()) == []
    assert list(if_(["IsProd", 1, 2]).references()) == [
        Reference("condition", "IsProd", PATH / "Fn::If" / 0)
    ]
    assert list(if_([equals(["a", "b"]), 1, 2]).references()) == []


# --- Fn::Equals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["a", "a"], True, id="same-strings"),
        pytest.param(["a", "b"], False, id="different-strings"),
        pytest.param([ref("Env", CONDITION_PATH), "prod"], True, id="parameter"),
        pytest.param([ref("Size", CONDITION_PATH), "3"], True, id="number-equals-its-text-as-aws"),
        pytest.param([ref("SizeText", CONDITION_PATH), 3], True, id="text-equals-number-as-aws"),
        pytest.param(["true", True], True, id="boolean-text"),
        pytest.param([1, 1.0], False, id="number-texts-differ"),
        pytest.param([["a", 1], ["a", "1"]], True, id="lists-compared-itemwise"),
        pytest.param([{"k": 2}, {"k": "2"}], True, id="maps-compared-by-value"),
        pytest.param([ref("Zones", CONDITION_PATH), ["a", "b"]], True, id="list-parameter"),
        pytest.param([None, ""], False, id="null-is-not-empty"),
        pytest.param(
            [ref("Later", CONDITION_PATH), "x"],
            Unknown("Fn::Equals at Conditions.Both"),
            id="unknown",
        ),
    ],
)
def test_equals(args: Any, expected: Any) -> None:
    assert evaluate(equals(args)) == expected


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["a"], id="one-item"),
        pytest.param(["a", "b", "c"], id="three-items"),
        pytest.param("a", id="string"),
    ],
)
def test_equals_shape(args: Any) -> None:
    expected = EQUALS("F3003", "arguments must have the form [value_1, value_2]")
    assert list(equals(args).check()) == [diagnostic(expected)]
    assert failure(equals(args)) == expected


# --- Fn::And, Fn::Or, Fn::Not, Condition -------------------------------------------------


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        pytest.param(and_(["IsProd", "IsProd"]), True, id="and-names-true"),
        pytest.param(and_(["IsProd", "IsDev"]), False, id="and-names-false"),
        pytest.param(
            and_([condition("IsProd"), equals([ref("Env", CONDITION_PATH), "prod"])]),
            True,
            id="and-aws-style",
        ),
        pytest.param(
            and_([True, True, True, True, True, True, True, True, True, True]), True, id="and-ten"
        ),
        pytest.param(and_(["IsDev", "Nope"]), False, id="and-stops-at-first-false"),
        pytest.param(and_(["Pending", "IsDev"]), False, id="and-false-settles-unknown"),
        pytest.param(
            and_(["Pending", "IsProd"]), Unknown("Fn::And Pending IsProd"), id="and-unknown"
        ),
        pytest.param(or_(["IsDev", "IsProd"]), True, id="or-true"),
        pytest.param(or_(["IsDev", False]), False, id="or-false"),
        pytest.param(or_(["IsProd", "Nope"]), True, id="or-stops-at-first-true"),
        pytest.param(or_(["Pending", "IsProd"]), True, id="or-true-settles-unknown"),
        pytest.param(or_(["Pending", "IsDev"]), Unknown("Fn::Or Pending IsDev"), id="or-unknown"),
        pytest.param(not_(["IsProd"]), False, id="not-name"),
        pytest.param(not_([condition("IsDev")]), True, id="not-condition"),
        pytest.param(not_([equals(["a", "b"])]), True, id="not-equals"),
        pytest.param(not_(["Pending"]), Unknown("Fn::Not Pending"), id="not-unknown"),
        pytest.param(
            or_([and_([condition("IsProd"), not_([condition("IsDev")])]), condition("Nope")]),
            True,
            id="nested-and-not-inside-or",
        ),
        pytest.param(
            and_([or_(["IsDev", equals([ref("Size", CONDITION_PATH), 3])]), not_([False])]),
            True,
            id="nested-or-inside-and",
        ),
        pytest.param(condition("IsProd"), True, id="condition-true"),
        pytest.param(condition("IsDev"), False, id="condition-false"),
        pytest.param(condition("Pending"), Unknown("Condition Pending"), id="condition-unknown"),
    ],
)
def test_connectives(function: Function, expected: Any) -> None:
    assert evaluate(function) == expected


TWO_TO_TEN = "arguments must have the form [condition, condition, ...] with 2 to 10 conditions"


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        pytest.param(and_(["IsProd"]), AND("F3003", TWO_TO_TEN), id="and-one"),
        pytest.param(and_([True] * 11), AND("F3003", TWO_TO_TEN), id="and-eleven"),
        pytest.param(or_("IsProd"), OR("F3003", TWO_TO_TEN), id="or-string"),
        pytest.param(
            and_(["IsProd", 5]),
            AND("F3003", f"{NOT_A_CONDITION}, not a number", 1),
            id="and-number",
        ),
        pytest.param(
            or_(["IsDev", {"x": 1}]), OR("F3003", f"{NOT_A_CONDITION}, not a map", 1), id="or-map"
        ),
        pytest.param(
            and_(["IsProd", "Nope"]),
            AND("R4003", "condition 'Nope' is not defined", 1),
            id="and-undefined",
        ),
        pytest.param(
            not_("IsProd"),
            NOT("F3003", "arguments must have the form [condition]"),
            id="not-bare-name",
        ),
        pytest.param(
            not_(["IsProd", "IsDev"]),
            NOT("F3003", "arguments must have the form [condition]"),
            id="not-two",
        ),
        pytest.param(
            not_(["Nope"]), NOT("R4003", "condition 'Nope' is not defined", 0), id="not-undefined"
        ),
        pytest.param(
            condition("Nope"),
            CONDITION("R4003", "condition 'Nope' is not defined"),
            id="condition-undefined",
        ),
        pytest.param(
            condition(["IsProd"]),
            CONDITION("F3003", "the argument must be a condition name, not a list"),
            id="condition-list",
        ),
    ],
)
def test_connective_errors(function: Function, expected: Expectation) -> None:
    assert failure(function) == expected


def test_connective_checks() -> None:
    assert list(and_(["IsProd", 1, {"a": "b"}]).check()) == [
        diagnostic(AND("F3003", f"{NOT_A_CONDITION}, not a number", 1)),
        diagnostic(AND("F3003", f"{NOT_A_CONDITION}, not a map", 2)),
    ]
    assert list(not_([equals(["a", "a"])]).check()) == []
    assert list(condition(3).check()) == [
        diagnostic(CONDITION("F3003", "the argument must be a condition name, not a number"))
    ]


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        pytest.param(
            and_(["IsProd", condition("IsDev"), equals(["a", "b"])]),
            [Reference("condition", "IsProd", CONDITION_PATH / "Fn::And" / 0)],
            id="and-bare-name",
        ),
        pytest.param(
            or_([True, "IsDev"]),
            [Reference("condition", "IsDev", CONDITION_PATH / "Fn::Or" / 1)],
            id="or-bare-name",
        ),
        pytest.param(
            not_(["IsProd"]),
            [Reference("condition", "IsProd", CONDITION_PATH / "Fn::Not" / 0)],
            id="not",
        ),
        pytest.param(
            condition("IsProd"),
            [Reference("condition", "IsProd", CONDITION_PATH / "Condition")],
            id="condition",
        ),
        pytest.param(equals(["IsProd", "x"]), [], id="equals-strings-are-values"),
    ],
)
def test_condition_references(function: Function, expected: list[Reference]) -> None:
    assert list(function.references()) == expected
