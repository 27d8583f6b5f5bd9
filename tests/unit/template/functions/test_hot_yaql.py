"""HOT's yaql function as Heat evaluates it, with Kiln's length, memory and time limits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from function_support import HOT_PATH, Evaluator, param, problem, unknown

from kiln.config import TemplateLimits
from kiln.errors import Diagnostic, TemplatePath
from kiln.template.functions.base import Function, Unknown
from kiln.template.functions.hot_collections import Yaql

PATH = HOT_PATH
PARAMETERS: dict[str, Any] = {
    "names": ["a", "b"],
    "bad_yaql": "invalid(",
    "later": Unknown("parameter later"),
}


CALLS = Evaluator({"parameters": PARAMETERS})
evaluate = CALLS.evaluate
failure = CALLS.failure


# --- yaql ---------------------------------------------------------------------

YAQL = PATH / "yaql"
SERVERS = [
    {"name": "web-1", "status": "ACTIVE"},
    {"name": "web-2", "status": "ERROR"},
    {"name": "db-1", "status": "ACTIVE"},
]


def yaql(args: Any) -> Function:
    return Yaql("yaql", args, PATH, "2016-10-14")


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        pytest.param("$.data.var1.sum()", {"var1": [1, 2, 3, 4]}, 10, id="sum"),
        pytest.param("$.data.sum()", [1, 2, 3, 4], 10, id="list-data"),
        pytest.param("$.data", "whynotastring", "whynotastring", id="string-data"),
        pytest.param("$.data + 2", 2, 4, id="number-data"),
        pytest.param(
            "$.data.servers.where($.status = ACTIVE).select($.name)",
            {"servers": SERVERS},
            ["web-1", "db-1"],
            id="where-select",
        ),
        pytest.param(
            "$.data.d.reduce($1.mergeWith($2))",
            {"d": [{"a": [1]}, {"a": [2]}, {"a": [3]}]},
            {"a": [1, 2, 3]},
            id="merge-maps",
        ),
        pytest.param("$.data.names.len()", {"names": param("names")}, 2, id="computed-data"),
        pytest.param("$.data.contains(b)", param("names"), True, id="computed-data-root"),
        pytest.param("set(3, 1, 2)", {}, [1, 2, 3], id="set-as-sorted-list"),
        pytest.param("dict(a => list(1, 2))", {}, {"a": [1, 2]}, id="frozen-map-as-dict"),
        pytest.param("pow(3, 2, 5)", {}, 4, id="pow-with-modulo"),
        pytest.param("pow(b => 3, a => 2)", {}, 8, id="pow-keyword-arguments"),
        pytest.param("$.data.x", {"x": param("later")}, unknown("yaql"), id="unknown-data"),
    ],
)
def test_yaql_values(expression: str, data: Any, expected: Any) -> None:
    assert evaluate(yaql({"expression": expression, "data": data})) == expected


def test_yaql_without_data() -> None:
    assert evaluate(yaql({"expression": "1 + 3"})) == 4


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param({"expression": "1 + 3", "data": {}}, [], id="valid"),
        pytest.param(
            "invalid",
            [problem(YAQL, 'yaql: the arguments must be a map {"expression": ..., "data": ...}')],
            id="string-arguments",
        ),
        pytest.param(
            {"expression": "1", "data": {}, "bogus": ""},
            [
                problem(
                    YAQL / "bogus",
                    'yaql: \'bogus\' is not allowed here: only "expression" and "data" are',
                )
            ],
            id="bogus-key",
        ),
        pytest.param(
            {"data": {}},
            [problem(YAQL, 'yaql: the "expression" argument is required')],
            id="no-expression",
        ),
        pytest.param(
            {"expression": 5},
            [problem(YAQL / "expression", "yaql: the expression must be a string, not a number")],
            id="number-expression",
        ),
        pytest.param(
            {"expression": "invalid(", "data": {}},
            [
                problem(
                    YAQL / "expression",
                    "yaql: the expression is not valid yaql: "
                    "Parse error: unexpected end of statement",
                    "F3005",
                )
            ],
            id="syntax-error",
        ),
        pytest.param(
            {"expression": "1 + " * 2501 + "1"},
            [
                problem(
                    YAQL / "expression",
                    "yaql: the expression is 10005 characters long, more than the limit of 10000",
                    "F3005",
                )
            ],
            id="too-long",
        ),
        pytest.param({"expression": param("bad_yaql")}, [], id="computed-expression-unchecked"),
    ],
)
def test_yaql_check(args: Any, expected: list[Diagnostic]) -> None:
    assert list(yaql(args).check()) == expected


@pytest.mark.parametrize(
    ("args", "limits", "path", "code", "message"),
    [
        pytest.param(
            "invalid",
            None,
            YAQL,
            "F3003",
            'yaql: the arguments must be a map {"expression": ..., "data": ...}',
            id="string-arguments",
        ),
        pytest.param(
            {"expression": "invalid("},
            None,
            YAQL / "expression",
            "F3005",
            "yaql: the expression is not valid yaql: Parse error: unexpected end of statement",
            id="syntax-error",
        ),
        pytest.param(
            {"expression": param("bad_yaql")},
            None,
            YAQL / "expression",
            "F3005",
            "yaql: the expression is not valid yaql",
            id="computed-syntax-error-hidden",
        ),
        pytest.param(
            {"expression": param("names")},
            None,
            YAQL / "expression",
            "F3004",
            "yaql: the expression must be a string, not a list",
            id="computed-list",
        ),
        pytest.param(
            {"expression": "1 + 1"},
            TemplateLimits(max_yaql_expression_length=4),
            YAQL / "expression",
            "F3005",
            "yaql: the expression is 5 characters long, more than the limit of 4",
            id="over-configured-length",
        ),
        pytest.param(
            {"expression": "range(1000000000).toList()"},
            TemplateLimits(max_yaql_memory_items=1000),
            YAQL,
            "F3005",
            "yaql: the expression failed: Collection length exceeds 1000 elements",
            id="collection-too-large",
        ),
        pytest.param(
            {"expression": "pow(10, 1000000000)"},
            None,
            YAQL,
            "F3005",
            "yaql: the expression failed: Expression consumed too much memory",
            id="huge-power",
        ),
        pytest.param(
            {"expression": "'a' * 100000000"},
            None,
            YAQL,
            "F3005",
            "yaql: the expression failed: Expression consumed too much memory",
            id="huge-string",
        ),
        pytest.param(
            {"expression": "foo()"},
            None,
            YAQL,
            "F3005",
            'yaql: the expression failed: Unknown function "foo"',
            id="unknown-function",
        ),
        pytest.param(
            {"expression": "$.data.secret.foo()", "data": {"secret": "hunter2"}},
            None,
            YAQL,
            "F3005",
            "yaql: the expression failed (NoMethodRegisteredException)",
            id="message-with-data-withheld",
        ),
        pytest.param(
            {"expression": "1 / 0"},
            None,
            YAQL,
            "F3005",
            "yaql: the expression failed (ZeroDivisionError)",
            id="python-error",
        ),
        pytest.param(
            {"expression": "now()"},
            None,
            YAQL,
            "F3005",
            "yaql: the result holds a datetime value, which a template cannot use",
            id="datetime-result",
        ),
    ],
)
def test_yaql_errors(
    args: Any, limits: TemplateLimits | None, path: TemplatePath, code: str, message: str
) -> None:
    assert failure(yaql(args), limits) == (code, path, message)


@pytest.mark.parametrize(
    ("expression", "limits"),
    [
        pytest.param(
            # Minutes of work: 2000 sums of 2000 numbers, each list within the limit.
            "range(2000).select(range(2000).sum()).sum()",
            TemplateLimits(max_yaql_seconds=0.3, max_yaql_memory_items=10**9),
            id="nested-loops",
        ),
        pytest.param(
            # len() counts an iterator without yaql's iteration limit: a minute of work.
            "range(1000000000).len()",
            TemplateLimits(max_yaql_seconds=0.3),
            id="count-of-huge-range",
        ),
    ],
)
def test_yaql_runaway_expression_stopped_by_deadline(
    expression: str, limits: TemplateLimits
) -> None:
    call = yaql({"expression": expression})
    threads = threading.active_count()
    started = time.monotonic()
    assert failure(call, limits) == (
        "F3005",
        YAQL,
        "yaql: the expression did not finish within 0.3 seconds",
    )
    assert time.monotonic() - started < 2.0
    assert threading.active_count() == threads


def test_yaql_leaves_no_thread_behind() -> None:
    threads = threading.active_count()
    assert evaluate(yaql({"expression": "range(3).sum()"})) == 3
    assert threading.active_count() == threads
