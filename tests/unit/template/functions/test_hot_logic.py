"""HOT condition functions and ``if``, including 2021-04-16's two-argument ``if``."""

from __future__ import annotations

from typing import Any

import pytest
from function_support import HOT_PATH, Evaluator, problem, unknown

from kiln.errors import EvaluationError, TemplatePath
from kiln.template.functions.base import (
    ABSENT,
    Function,
    NeedsKnownValue,
    Reference,
    Resolver,
    Unknown,
)
from kiln.template.functions.hot_core import GetParam
from kiln.template.functions.hot_logic import (
    And,
    Equals,
    If,
    IfNullable,
    Not,
    Or,
    condition_value,
)
from kiln.template.scope import StaticScope

PATH = HOT_PATH
PARAMETERS: dict[str, Any] = {
    "env": "prod",
    "flag": True,
    "count": 3,
    "condition_name": "is_prod",
    "not_a_condition": "staging",
    "later": Unknown("parameter later"),
}
CONDITIONS = {"is_prod": True, "is_dev": False}


CALLS = Evaluator({"parameters": PARAMETERS, "conditions": CONDITIONS})
resolver = CALLS.resolver
evaluate = CALLS.evaluate
failure = CALLS.failure


def param(name: str, at: TemplatePath = PATH / "nested") -> GetParam:
    return GetParam("get_param", name, at, "2016-10-14")


def call(cls: type[Function], name: str, args: Any) -> Function:
    return cls(name, args, PATH, "2016-10-14")


def equals(first: Any, second: Any) -> Function:
    return Equals("equals", [first, second], PATH / "nested", "2016-10-14")


# --- equals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["prod", "prod"], True, id="equal-strings"),
        pytest.param(["prod", "test"], False, id="different-strings"),
        pytest.param([param("env"), "prod"], True, id="parameter"),
        pytest.param([1, 1.0], True, id="int-equals-float"),
        pytest.param([1, True], True, id="one-equals-true-as-in-python"),
        pytest.param(["1", 1], False, id="string-is-not-number"),
        pytest.param([{"a": [1, None]}, {"a": [1, None]}], True, id="maps"),
        pytest.param([None, None], True, id="nulls"),
        pytest.param([param("later"), "x"], unknown("equals"), id="unknown"),
    ],
)
def test_equals_values(args: Any, expected: Any) -> None:
    assert evaluate(call(Equals, "equals", args)) == expected


USAGE_EQUALS = "equals: the arguments must be a list [value_1, value_2]"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["test", "prod", "invalid"], id="three-values"),
        pytest.param("invalid condition", id="string"),
        pytest.param(param("env"), id="computed-list-refused"),
        pytest.param([], id="empty"),
    ],
)
def test_equals_argument_errors(args: Any) -> None:
    function = call(Equals, "equals", args)
    assert list(function.check()) == [problem(PATH / "equals", USAGE_EQUALS)]
    assert failure(function) == ("F3003", PATH / "equals", USAGE_EQUALS)


# --- not, and, or -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name", "args", "expected"),
    [
        pytest.param(Not, "not", True, False, id="not-true"),
        pytest.param(Not, "not", False, True, id="not-false"),
        pytest.param(Not, "not", "is_prod", False, id="not-condition-name"),
        pytest.param(Not, "not", equals(param("env"), "prod"), False, id="not-expression"),
        pytest.param(Not, "not", param("flag"), False, id="not-boolean-parameter"),
        pytest.param(Not, "not", param("condition_name"), False, id="not-computed-name"),
        pytest.param(Not, "not", equals(param("later"), "x"), unknown("not"), id="not-unknown"),
        pytest.param(And, "and", [True, "is_prod"], True, id="and-true"),
        pytest.param(And, "and", ["is_prod", "is_dev", True], False, id="and-false"),
        pytest.param(And, "and", [None, True], True, id="and-null-counts-as-true"),
        pytest.param(And, "and", [False, "undefined"], False, id="and-stops-before-undefined-name"),
        pytest.param(And, "and", [False, 5], False, id="and-stops-before-invalid-literal"),
        pytest.param(
            And, "and", [equals(param("later"), "x"), False], False, id="and-known-false-decides"
        ),
        pytest.param(
            And, "and", [equals(param("later"), "x"), True], unknown("and"), id="and-unknown"
        ),
        pytest.param(Or, "or", [False, "is_dev"], False, id="or-false"),
        pytest.param(Or, "or", ["is_dev", equals(param("env"), "prod")], True, id="or-true"),
        pytest.param(Or, "or", [True, "undefined"], True, id="or-stops-before-undefined-name"),
        pytest.param(
            Or, "or", [equals(param("later"), "x"), True], True, id="or-known-true-decides"
        ),
        pytest.param(
            Or, "or", [equals(param("later"), "x"), False], unknown("or"), id="or-unknown"
        ),
    ],
)
def test_boolean_values(cls: type[Function], name: str, args: Any, expected: Any) -> None:
    assert evaluate(call(cls, name, args)) == expected


CONDITION_KINDS = "a condition name, a boolean or a condition function"


@pytest.mark.parametrize(
    ("cls", "name", "args", "path", "message"),
    [
        pytest.param(
            Not, "not", None, PATH / "not", "not: the argument must be a condition", id="not-null"
        ),
        pytest.param(
            Not,
            "not",
            ["a", "b"],
            PATH / "not",
            f"not: a condition must be {CONDITION_KINDS}, not a list",
            id="not-list",
        ),
        pytest.param(
            And,
            "and",
            "is_prod",
            PATH / "and",
            "and: the arguments must be a list of conditions",
            id="and-string",
        ),
        pytest.param(
            And,
            "and",
            ["is_prod"],
            PATH / "and",
            "and: at least 2 conditions are required, not 1",
            id="and-one-condition",
        ),
        pytest.param(
            Or,
            "or",
            [],
            PATH / "or",
            "or: at least 2 conditions are required, not 0",
            id="or-no-condition",
        ),
        pytest.param(
            Or,
            "or",
            [True, 5],
            PATH / "or" / 1,
            f"or: a condition must be {CONDITION_KINDS}, not a number",
            id="or-number-operand",
        ),
        pytest.param(
            And,
            "and",
            [True, {"equal": [1, 1]}],
            PATH / "and" / 1,
            f"and: a condition must be {CONDITION_KINDS}, not a map",
            id="and-unparsed-map-operand",
        ),
    ],
)
def test_boolean_check(
    cls: type[Function], name: str, args: Any, path: TemplatePath, message: str
) -> None:
    assert list(call(cls, name, args).check()) == [problem(path, message)]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(
            call(Not, "not", None),
            ("F3003", PATH / "not", "not: the argument must be a condition"),
            id="not-null",
        ),
        pytest.param(
            call(Not, "not", ["a"]),
            ("F3003", PATH / "not", f"not: a condition must be {CONDITION_KINDS}, not a list"),
            id="not-list",
        ),
        pytest.param(
            call(And, "and", ["is_prod"]),
            ("F3003", PATH / "and", "and: at least 2 conditions are required, not 1"),
            id="and-one-condition",
        ),
        pytest.param(
            call(And, "and", [True, "undefined"]),
            ("R4003", PATH / "and" / 1, "condition 'undefined' is not defined"),
            id="and-undefined-name",
        ),
        pytest.param(
            call(Or, "or", [False, param("not_a_condition")]),
            (
                "R4003",
                PATH / "or" / 1,
                "the condition expression gives a string that names no condition",
            ),
            id="or-computed-name-undefined",
        ),
        pytest.param(
            call(Or, "or", [False, param("count")]),
            (
                "F3004",
                PATH / "or" / 1,
                "the condition expression must give a boolean or a condition name, not a number",
            ),
            id="or-computed-number",
        ),
        pytest.param(
            call(Or, "or", [False, 5]),
            ("F3003", PATH / "or" / 1, f"or: a condition must be {CONDITION_KINDS}, not a number"),
            id="or-literal-number",
        ),
    ],
)
def test_boolean_errors(node: Function, expected: tuple[str, TemplatePath, str]) -> None:
    assert failure(node) == expected


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(
            call(Not, "not", "is_prod"),
            [Reference("condition", "is_prod", PATH / "not")],
            id="not-name",
        ),
        pytest.param(call(Not, "not", equals("a", "b")), [], id="not-expression"),
        pytest.param(
            call(And, "and", ["a", True, equals(1, 1), "b"]),
            [
                Reference("condition", "a", PATH / "and" / 0),
                Reference("condition", "b", PATH / "and" / 3),
            ],
            id="and-names",
        ),
        pytest.param(call(Or, "or", "a"), [], id="or-malformed"),
        pytest.param(call(Equals, "equals", ["a", "b"]), [], id="equals-values-are-not-names"),
    ],
)
def test_condition_references(node: Function, expected: list[Reference]) -> None:
    assert list(node.references()) == expected


# --- if -----------------------------------------------------------------------

IF = PATH / "if"


def if_call(cls: type[Function], args: Any) -> Function:
    return cls("if", args, PATH, "2021-04-16")


BOTH_IFS = [pytest.param(If, id="2016"), pytest.param(IfNullable, id="2021")]


@pytest.mark.parametrize("cls", BOTH_IFS)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["is_prod", "yes", "no"], "yes", id="true-condition-name"),
        pytest.param(["is_dev", "yes", "no"], "no", id="false-condition-name"),
        pytest.param([True, "yes", "no"], "yes", id="true"),
        pytest.param([False, "yes", "no"], "no", id="false"),
        pytest.param([None, "yes", "no"], "yes", id="null-condition-is-true"),
        pytest.param([equals(param("env"), "prod"), "yes", "no"], "yes", id="inline-equals"),
        pytest.param([call(Not, "not", "is_dev"), "yes", "no"], "yes", id="inline-not"),
        pytest.param([param("flag"), "yes", "no"], "yes", id="boolean-parameter"),
        pytest.param([param("condition_name"), "yes", "no"], "yes", id="parameter-names-condition"),
        pytest.param([True, None, "no"], None, id="null-value"),
        pytest.param(
            [True, param("env"), param("missing")], "prod", id="false-branch-not-evaluated"
        ),
        pytest.param(
            [False, param("missing"), {"k": "v"}], {"k": "v"}, id="true-branch-not-evaluated"
        ),
        pytest.param(
            [equals(param("later"), "x"), "yes", "no"], unknown("if"), id="unknown-condition"
        ),
        pytest.param([True, param("later"), "no"], Unknown("parameter later"), id="unknown-value"),
    ],
)
def test_if_values(cls: type[Function], args: Any, expected: Any) -> None:
    assert evaluate(if_call(cls, args)) == expected


@pytest.mark.parametrize("cls", BOTH_IFS)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["undefined", "yes", "no"],
            ("R4003", IF / 0, "condition 'undefined' is not defined"),
            id="undefined-name",
        ),
        pytest.param(
            [param("not_a_condition"), "yes", "no"],
            ("R4003", IF / 0, "the condition expression gives a string that names no condition"),
            id="computed-name-withheld",
        ),
        pytest.param(
            [param("count"), "yes", "no"],
            (
                "F3004",
                IF / 0,
                "the condition expression must give a boolean or a condition name, not a number",
            ),
            id="computed-number",
        ),
        pytest.param(
            [5, "yes", "no"],
            ("F3003", IF / 0, f"if: a condition must be {CONDITION_KINDS}, not a number"),
            id="literal-number",
        ),
    ],
)
def test_if_condition_errors(
    cls: type[Function], args: Any, expected: tuple[str, TemplatePath, str]
) -> None:
    assert failure(if_call(cls, args)) == expected


USAGE_IF = "if: the arguments must be a list [condition, value_if_true, value_if_false]"
USAGE_IF_NULLABLE = (
    "if: the arguments must be a list [condition, value_if_true] "
    "or [condition, value_if_true, value_if_false]"
)


@pytest.mark.parametrize(
    ("cls", "args", "message"),
    [
        pytest.param(If, ["create_prod", "one_value"], USAGE_IF, id="2016-two-arguments"),
        pytest.param(If, ["c", "1", "2", "3"], USAGE_IF, id="2016-four-arguments"),
        pytest.param(If, "create_prod", USAGE_IF, id="2016-string"),
        pytest.param(IfNullable, ["create_prod"], USAGE_IF_NULLABLE, id="2021-one-argument"),
        pytest.param(IfNullable, ["c", "1", "2", "3"], USAGE_IF_NULLABLE, id="2021-four-arguments"),
        pytest.param(IfNullable, {"c": 1}, USAGE_IF_NULLABLE, id="2021-map"),
    ],
)
def test_if_argument_errors(cls: type[Function], args: Any, message: str) -> None:
    function = if_call(cls, args)
    assert list(function.check()) == [problem(IF, message)]
    assert failure(function) == ("F3003", IF, message)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([True, "yes"], "yes", id="true"),
        pytest.param([False, "yes"], ABSENT, id="false-is-absent"),
        pytest.param(["is_dev", "yes"], ABSENT, id="false-name-is-absent"),
    ],
)
def test_if_nullable_two_arguments(args: Any, expected: Any) -> None:
    assert evaluate(if_call(IfNullable, args)) == expected


def test_if_nullable_drops_property_and_list_item() -> None:
    properties = {
        "name": "web",
        "key_name": if_call(IfNullable, ["is_dev", "dev-key"]),
        "networks": [if_call(IfNullable, [False, {"network": "private"}]), {"network": "public"}],
        "flavor": if_call(IfNullable, ["is_prod", "m1.large"]),
    }
    assert evaluate(properties) == {
        "name": "web",
        "networks": [{"network": "public"}],
        "flavor": "m1.large",
    }


def test_if_nullable_nested_as_heat() -> None:
    snippet = {
        "single": if_call(IfNullable, [False, "value_if_true"]),
        "nested_true": if_call(IfNullable, [True, if_call(IfNullable, [False, "foo"]), "bar"]),
        "nested_false": if_call(IfNullable, [False, "baz", if_call(IfNullable, [False, "quux"])]),
        "control": if_call(IfNullable, [False, True, None]),
    }
    assert evaluate(snippet) == {"control": None}


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(
            if_call(If, ["is_prod", 1, 2]), [Reference("condition", "is_prod", IF / 0)], id="name"
        ),
        pytest.param(if_call(If, [True, "is_prod", "b"]), [], id="values-are-not-names"),
        pytest.param(if_call(If, [equals(1, 1), 1, 2]), [], id="expression"),
        pytest.param(if_call(If, []), [], id="malformed"),
    ],
)
def test_if_references(node: Function, expected: list[Reference]) -> None:
    assert list(node.references()) == expected


def test_if_check_reports_literal_condition() -> None:
    assert list(if_call(If, [[True], 1, 2]).check()) == [
        problem(IF / 0, f"if: a condition must be {CONDITION_KINDS}, not a list")
    ]


# --- condition_value ----------------------------------------------------------

AT = TemplatePath(("resources", "server", "condition"))


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
        pytest.param(None, True, id="null-is-true"),
        pytest.param("is_prod", True, id="name-true"),
        pytest.param("is_dev", False, id="name-false"),
        pytest.param(equals(param("env"), "prod"), True, id="expression"),
        pytest.param(call(Or, "or", ["is_dev", "is_prod"]), True, id="nested-expression"),
        pytest.param(param("flag"), True, id="boolean-parameter"),
        pytest.param(param("condition_name"), True, id="computed-name"),
    ],
)
def test_condition_value(node: Any, expected: bool) -> None:
    assert condition_value(resolver(), node, AT) is expected


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(
            "missing", ("R4003", AT, "condition 'missing' is not defined"), id="undefined-name"
        ),
        pytest.param(
            5, ("F3003", AT, f"a condition must be {CONDITION_KINDS}, not a number"), id="number"
        ),
        pytest.param(
            {"equal": [1, 2]},
            ("F3003", AT, f"a condition must be {CONDITION_KINDS}, not a map"),
            id="unparsed-map",
        ),
        pytest.param(
            param("count"),
            (
                "F3004",
                AT,
                "the condition expression must give a boolean or a condition name, not a number",
            ),
            id="computed-number",
        ),
    ],
)
def test_condition_value_errors(node: Any, expected: tuple[str, TemplatePath, str]) -> None:
    with pytest.raises(EvaluationError) as caught:
        condition_value(resolver(), node, AT)
    assert (caught.value.code, caught.value.path, caught.value.message) == expected


def test_condition_value_unknown_needs_known_value() -> None:
    with pytest.raises(NeedsKnownValue):
        condition_value(resolver(), equals(param("later"), "x"), AT)


def test_condition_value_unknown_named_condition() -> None:
    scope = StaticScope(conditions={"later": Unknown("condition later")})  # type: ignore[dict-item]
    with pytest.raises(NeedsKnownValue):
        condition_value(Resolver(scope), "later", AT)
