"""HOT string functions as Heat evaluates them, version by version."""

from __future__ import annotations

from typing import Any
from urllib import parse as urlparse

import pytest
from function_support import HOT_PATH, Evaluator, problem

from kiln.config import TemplateLimits
from kiln.errors import Diagnostic, EvaluationError, TemplatePath
from kiln.template.functions.base import Function, Resolver, Unknown
from kiln.template.functions.hot_core import GetAttr, GetAttrAllAttributes, GetParam
from kiln.template.functions.hot_strings import (
    DIGEST_ALGORITHMS,
    Digest,
    ListJoin,
    ListJoinMultiple,
    MakeUrl,
    StrReplace,
    StrReplaceJson,
    StrReplaceStrict,
    StrReplaceVeryStrict,
    StrSplit,
)
from kiln.template.scope import StaticScope

PATH = HOT_PATH
PARAMETERS: dict[str, Any] = {
    "names": ["x", "y"],
    "words": "one two",
    "port": 8080,
    "later": Unknown("parameter later"),
    "settings": {"b": 1, "a": [True, None]},
    "algorithm": "md4x",
    "secret_port": 70000,
}


CALLS = Evaluator({"parameters": PARAMETERS, "resource_names": frozenset({"server"})})
evaluate = CALLS.evaluate
failure = CALLS.failure


def param(name: str, at: TemplatePath) -> GetParam:
    return GetParam("get_param", name, at, "2015-10-15")


# --- list_join ----------------------------------------------------------------

JOIN = PATH / "list_join"


def join(cls: type[Function], args: Any) -> Function:
    return cls("list_join", args, PATH, "2015-10-15")


@pytest.mark.parametrize(
    "cls", [pytest.param(ListJoin, id="2013"), pytest.param(ListJoinMultiple, id="2015")]
)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([",", ["a", "b", "c"]], "a,b,c", id="strings"),
        pytest.param([", ", ["a"]], "a", id="one-item"),
        pytest.param([",", []], "", id="empty-list"),
        pytest.param([",", None], "", id="null-list"),
        pytest.param([",", ["a", None, "c"]], "a,,c", id="null-item-is-empty"),
        pytest.param(["", ["a", "b"]], "ab", id="empty-delimiter"),
        pytest.param(["-", param("names", JOIN / 1)], "x-y", id="computed-list"),
        pytest.param(
            ["-", ["a", param("later", JOIN / 1 / 1)]],
            Unknown("list_join at outputs.result.value"),
            id="unknown-item",
        ),
    ],
)
def test_list_join_values(cls: type[Function], args: Any, expected: Any) -> None:
    assert evaluate(join(cls, args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([",", ["a"], ["b", "c"]], "a,b,c", id="several-lists"),
        pytest.param([",", ["a"], [], None, "", {}, ["b"]], "a,b", id="empty-arguments-skipped"),
        pytest.param(
            [",", ["a", {"k": "v", "a": [1, 2.5]}]],
            'a,{"a": [1, 2.5], "k": "v"}',
            id="map-item-as-sorted-json",
        ),
        pytest.param([",", [["x", None, True]]], '["x", null, true]', id="list-item-as-json"),
        pytest.param([",", [{"k": "é"}]], '{"k": "\\u00e9"}', id="json-escapes-non-ascii"),
        pytest.param([" ", param("names", JOIN / 1), ["z"]], "x y z", id="computed-and-literal"),
    ],
)
def test_list_join_multiple_values(args: Any, expected: str) -> None:
    assert evaluate(join(ListJoinMultiple, args)) == expected


USAGE_2013 = "list_join: the arguments must be a list [delimiter, [string, ...]]"
USAGE_2015 = "list_join: the arguments must be a list [delimiter, [string, ...], ...]"


@pytest.mark.parametrize(
    ("cls", "args", "path", "message"),
    [
        pytest.param(ListJoin, [",", ["a"], ["b"]], JOIN, USAGE_2013, id="2013-several-lists"),
        pytest.param(ListJoin, [","], JOIN, USAGE_2013, id="2013-no-list"),
        pytest.param(ListJoinMultiple, [","], JOIN, USAGE_2015, id="2015-no-list"),
        pytest.param(ListJoinMultiple, ",", JOIN, USAGE_2015, id="2015-string-arguments"),
        pytest.param(
            ListJoin,
            [",", ["a", {"k": "v"}]],
            JOIN / 1 / 1,
            "list_join: the items to join must be strings",
            id="2013-map-item",
        ),
        pytest.param(
            ListJoin,
            [",", ["a", 1]],
            JOIN / 1 / 1,
            "list_join: the items to join must be strings",
            id="2013-number-item",
        ),
        pytest.param(
            ListJoinMultiple,
            [",", ["a"], ["b", 1]],
            JOIN / 2 / 1,
            "list_join: the items to join must be strings, maps or lists",
            id="2015-number-item",
        ),
        pytest.param(
            ListJoinMultiple,
            [",", [False]],
            JOIN / 1 / 0,
            "list_join: the items to join must be strings, maps or lists",
            id="2015-boolean-item",
        ),
        pytest.param(
            ListJoin,
            [",", "abc"],
            JOIN / 1,
            "list_join: the items to join must be given as a list",
            id="2013-string-list",
        ),
        pytest.param(
            ListJoin,
            [",", ""],
            JOIN / 1,
            "list_join: the items to join must be given as a list",
            id="2013-empty-string-list",
        ),
        pytest.param(
            ListJoinMultiple,
            [",", {"a": "b"}],
            JOIN / 1,
            "list_join: the items to join must be given as a list",
            id="2015-map-list",
        ),
        pytest.param(
            ListJoinMultiple,
            [1, ["a"]],
            JOIN / 0,
            "list_join: the delimiter must be a string",
            id="2015-number-delimiter",
        ),
    ],
)
def test_list_join_errors(cls: type[Function], args: Any, path: TemplatePath, message: str) -> None:
    assert failure(join(cls, args)) == ("F3003", path, message)


def test_list_join_computed_argument_error() -> None:
    call = join(ListJoinMultiple, [",", ["a"], param("words", JOIN / 2)])
    assert failure(call) == (
        "F3004",
        JOIN / 2,
        "list_join: the items to join must be given as a list",
    )


def test_list_join_result_limit() -> None:
    limits = TemplateLimits(max_value_chars=10)
    assert evaluate(join(ListJoinMultiple, [",", ["aaaa", "bbbbb"]]), limits) == "aaaa,bbbbb"
    assert failure(join(ListJoinMultiple, [",", ["aaaaa", "bbbbb"]]), limits) == (
        "F3004",
        JOIN,
        "list_join: the result would be 11 characters long, more than the limit of 10",
    )


@pytest.mark.parametrize(
    ("cls", "args", "expected"),
    [
        pytest.param(ListJoin, [",", ["a", None, param("names", JOIN / 1 / 2)]], [], id="valid"),
        pytest.param(
            ListJoin, param("names", JOIN), [problem(JOIN, USAGE_2013)], id="call-arguments"
        ),
        pytest.param(
            ListJoin,
            [5, ["a", 1, ["b"]]],
            [
                problem(JOIN / 0, "list_join: the delimiter must be a string"),
                problem(JOIN / 1 / 1, "list_join: the items to join must be strings"),
                problem(JOIN / 1 / 2, "list_join: the items to join must be strings"),
            ],
            id="2013-every-problem",
        ),
        pytest.param(
            ListJoinMultiple,
            [",", "", ["a", 1, ["b", param("names", JOIN / 2 / 2 / 1)]], "abc"],
            [
                problem(
                    JOIN / 2 / 1, "list_join: the items to join must be strings, maps or lists"
                ),
                problem(JOIN / 3, "list_join: the items to join must be given as a list"),
            ],
            id="2015-every-problem",
        ),
    ],
)
def test_list_join_check(cls: type[Function], args: Any, expected: list[Diagnostic]) -> None:
    assert list(join(cls, args).check()) == expected


# --- str_replace --------------------------------------------------------------

REPLACE_CLASSES = [
    pytest.param(StrReplace, "str_replace", id="2013-str_replace"),
    pytest.param(StrReplaceJson, "str_replace", id="2015-str_replace"),
    pytest.param(StrReplaceStrict, "str_replace_strict", id="2017-str_replace_strict"),
    pytest.param(StrReplaceVeryStrict, "str_replace_vstrict", id="2017-str_replace_vstrict"),
]


def replace(cls: type[Function], name: str, template: Any, params: Any) -> Function:
    return cls(name, {"template": template, "params": params}, PATH, "2017-09-01")


@pytest.mark.parametrize(("cls", "name"), REPLACE_CLASSES)
@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        pytest.param("$a/$b", {"$a": "x", "$b": "y"}, "x/y", id="strings"),
        pytest.param("port $p", {"$p": 8080}, "port 8080", id="integer"),
        pytest.param("v=$v", {"$v": 2.5}, "v=2.5", id="float"),
        pytest.param("flag=$f", {"$f": True}, "flag=True", id="boolean-as-python-writes-it"),
        pytest.param("$a $a", {"$a": "x"}, "x x", id="every-occurrence"),
        pytest.param("foo foobar", {"foo": "X", "foobar": "Y"}, "X Y", id="longer-key-first"),
        pytest.param("a b", {"a": "b", "b": "c"}, "b c", id="replacements-not-rescanned"),
        pytest.param("%p%", {"%p%": param("port", PATH / "x")}, "8080", id="computed-value"),
    ],
)
def test_str_replace_common_values(
    cls: type[Function], name: str, template: str, params: Any, expected: str
) -> None:
    assert evaluate(replace(cls, name, template, params)) == expected


@pytest.mark.parametrize(
    "cls", [pytest.param(StrReplace, id="2013"), pytest.param(StrReplaceJson, id="2015")]
)
@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        pytest.param("abcd", {"ab": "1", "bcd": "2"}, "a2", id="longer-key-wins-overlap"),
        pytest.param("xyz", {"xy": "1", "yz": "2"}, "1z", id="equal-length-alphabetical"),
        pytest.param("$x", {"$x": "$y", "$y": "z"}, "$y", id="inserted-key-not-replaced"),
    ],
)
def test_str_replace_overlapping_placeholders(
    cls: type[Function], template: str, params: dict[str, str], expected: str
) -> None:
    assert evaluate(replace(cls, "str_replace", template, params)) == expected


ITEMS_ERROR = "str_replace: params must be strings or numbers; param '$a' is not"


@pytest.mark.parametrize(
    ("cls", "name", "params", "expected"),
    [
        pytest.param(
            StrReplace, "str_replace", {"$a": ["x", 1]}, ITEMS_ERROR, id="2013-list-value"
        ),
        pytest.param(StrReplace, "str_replace", {"$a": {"k": 1}}, ITEMS_ERROR, id="2013-map-value"),
        pytest.param(StrReplace, "str_replace", {"$a": 7}, "[7]", id="2013-integer-value"),
        pytest.param(StrReplace, "str_replace", {"$a": None}, "[]", id="2013-null-value"),
        pytest.param(
            StrReplaceJson, "str_replace", {"$a": ["x", 1]}, '[["x", 1]]', id="2015-list-json"
        ),
        pytest.param(
            StrReplaceJson,
            "str_replace",
            {"$a": {"k": 1, "b": None}},
            '[{"b": null, "k": 1}]',
            id="2015-map-sorted-json",
        ),
        pytest.param(StrReplaceJson, "str_replace", {"$a": 7}, "[7]", id="2015-integer-value"),
        pytest.param(StrReplaceJson, "str_replace", {"$a": None}, "[]", id="2015-null-value"),
        pytest.param(StrReplaceJson, "str_replace", {"$a": ""}, "[]", id="2015-empty-value"),
        pytest.param(StrReplaceJson, "str_replace", {"$a": []}, "[[]]", id="2015-empty-list-value"),
        pytest.param(StrReplaceStrict, "str_replace_strict", {"$a": None}, "[]", id="strict-null"),
        pytest.param(
            StrReplaceVeryStrict,
            "str_replace_vstrict",
            {"$a": None},
            "str_replace_vstrict: param '$a' has an undefined or empty value; "
            "it must be a defined, non-empty value",
            id="vstrict-null",
        ),
        pytest.param(
            StrReplaceVeryStrict,
            "str_replace_vstrict",
            {"$a": ""},
            "str_replace_vstrict: param '$a' has an undefined or empty value; "
            "it must be a defined, non-empty value",
            id="vstrict-empty-string",
        ),
        pytest.param(
            StrReplaceVeryStrict,
            "str_replace_vstrict",
            {"$a": {}},
            "str_replace_vstrict: param '$a' has an undefined or empty value; "
            "it must be a defined, non-empty value",
            id="vstrict-empty-map",
        ),
        pytest.param(
            StrReplaceVeryStrict, "str_replace_vstrict", {"$a": 0}, "[0]", id="vstrict-zero"
        ),
        pytest.param(
            StrReplaceVeryStrict,
            "str_replace_vstrict",
            {"$a": False},
            "[False]",
            id="vstrict-false",
        ),
    ],
)
def test_str_replace_values_by_version(
    cls: type[Function], name: str, params: dict[str, Any], expected: str
) -> None:
    call = replace(cls, name, "[$a]", params)
    if expected.startswith("["):
        assert evaluate(call) == expected
    else:
        assert failure(call) == ("F3003", PATH / name / "params" / "$a", expected)


@pytest.mark.parametrize(
    ("cls", "name", "template", "params", "expected"),
    [
        pytest.param(
            StrReplaceJson,
            "str_replace",
            "$a",
            {"$a": "x", "$b": "y"},
            "x",
            id="plain-ignores-unused",
        ),
        pytest.param(
            StrReplaceStrict,
            "str_replace_strict",
            "$a",
            {"$a": "x", "$b": "y"},
            "str_replace_strict: these params do not occur in the template: $b",
            id="strict-unused",
        ),
        pytest.param(
            StrReplaceStrict,
            "str_replace_strict",
            "foobar",
            {"foobar": "Y", "foo": "X"},
            "str_replace_strict: these params do not occur in the template: foo",
            id="strict-hidden-by-longer-key",
        ),
        pytest.param(
            StrReplaceVeryStrict,
            "str_replace_vstrict",
            "",
            {"a": "1", "d": "1", "bbb": "1", "cc": "1"},
            "str_replace_vstrict: these params do not occur in the template: bbb,cc,a,d",
            id="vstrict-order-of-missing",
        ),
    ],
)
def test_str_replace_strictness(
    cls: type[Function], name: str, template: str, params: dict[str, Any], expected: str
) -> None:
    call = replace(cls, name, template, params)
    if cls is StrReplaceJson:
        assert evaluate(call) == expected
        assert list(call.check()) == []
        return
    assert failure(call) == ("F3003", PATH / name / "params", expected)
    assert list(call.check()) == [problem(PATH / name / "params", expected)]


REPLACE = PATH / "str_replace"
SHAPE = "str_replace: the arguments must be a map with the keys 'template' and 'params'"


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param("text", REPLACE, SHAPE, id="string-arguments"),
        pytest.param({"template": "x"}, REPLACE, SHAPE, id="missing-params"),
        pytest.param({"params": {}}, REPLACE, SHAPE, id="missing-template"),
        pytest.param(
            {"template": "x", "params": ["a"]},
            REPLACE / "params",
            "str_replace: 'params' must be a map",
            id="list-params",
        ),
        pytest.param(
            {"template": "x", "params": None},
            REPLACE / "params",
            "str_replace: 'params' must be a map",
            id="null-params",
        ),
        pytest.param(
            {"template": 5, "params": {}},
            REPLACE / "template",
            "str_replace: 'template' must be a string",
            id="number-template",
        ),
        pytest.param(
            {"template": "x", "params": {1: "a"}},
            REPLACE / "params",
            "str_replace: param placeholders must be strings",
            id="number-placeholder",
        ),
        pytest.param(
            {"template": "x", "params": {"": "a"}},
            REPLACE / "params" / "",
            "str_replace: param placeholders must not be empty",
            id="empty-placeholder",
        ),
    ],
)
def test_str_replace_errors(args: Any, path: TemplatePath, message: str) -> None:
    call = StrReplaceJson("str_replace", args, PATH, "2015-10-15")
    assert failure(call) == ("F3003", path, message)


def test_str_replace_computed_params_not_a_map() -> None:
    args = {"template": "x", "params": param("names", REPLACE / "params")}
    call = StrReplaceJson("str_replace", args, PATH, "2015-10-15")
    assert failure(call) == ("F3004", REPLACE / "params", "str_replace: 'params' must be a map")


def test_str_replace_json_serialises_computed_map() -> None:
    call = replace(StrReplaceJson, "str_replace", "cfg=$c", {"$c": param("settings", REPLACE)})
    assert evaluate(call) == 'cfg={"a": [true, null], "b": 1}'


def test_str_replace_unknown_value_makes_the_call_unknown() -> None:
    call = replace(StrReplaceJson, "str_replace", "$a", {"$a": param("later", REPLACE)})
    assert evaluate(call) == Unknown("str_replace at outputs.result.value")


def test_str_replace_result_limit() -> None:
    limits = TemplateLimits(max_value_chars=10)
    call = replace(StrReplaceJson, "str_replace", "aaaa", {"a": "xxxx"})
    assert failure(call, limits) == (
        "F3004",
        REPLACE,
        "str_replace: the result would be 16 characters long, more than the limit of 10",
    )
    assert (
        evaluate(replace(StrReplaceJson, "str_replace", "aa", {"a": "xxxxx"}), limits) == "x" * 10
    )


@pytest.mark.parametrize(
    ("cls", "name", "args", "expected"),
    [
        pytest.param(
            StrReplace,
            "str_replace",
            {
                "template": "$a",
                "params": {"$a": ["x"], "$b": {"k": 1}, "$c": [param("names", PATH)]},
            },
            [
                problem(
                    PATH / "str_replace" / "params" / "$a",
                    "str_replace: params must be strings or numbers; param '$a' is not",
                ),
                problem(
                    PATH / "str_replace" / "params" / "$b",
                    "str_replace: params must be strings or numbers; param '$b' is not",
                ),
            ],
            id="2013-container-values",
        ),
        pytest.param(
            StrReplaceJson,
            "str_replace",
            {"template": ["x"], "params": {"$a": ["x"], 3: "y"}},
            [
                problem(
                    PATH / "str_replace" / "template", "str_replace: 'template' must be a string"
                ),
                problem(
                    PATH / "str_replace" / "params",
                    "str_replace: param placeholders must be strings",
                ),
            ],
            id="2015-template-and-placeholder",
        ),
        pytest.param(
            StrReplaceVeryStrict,
            "str_replace_vstrict",
            {"template": "$a $b", "params": {"$a": [], "$b": param("later", PATH)}},
            [
                problem(
                    PATH / "str_replace_vstrict" / "params" / "$a",
                    "str_replace_vstrict: param '$a' has an undefined or empty value; "
                    "it must be a defined, non-empty value",
                )
            ],
            id="vstrict-literal-empty-value",
        ),
        pytest.param(
            StrReplaceStrict,
            "str_replace_strict",
            {"template": param("words", PATH), "params": {"$a": "x"}},
            [],
            id="computed-template-not-checked-for-placeholders",
        ),
        pytest.param(
            StrReplace,
            "str_replace",
            param("settings", PATH),
            [problem(PATH / "str_replace", SHAPE)],
            id="call-as-arguments",
        ),
    ],
)
def test_str_replace_check(
    cls: type[Function], name: str, args: Any, expected: list[Diagnostic]
) -> None:
    assert list(cls(name, args, PATH, "2017-09-01").check()) == expected


# --- str_split ----------------------------------------------------------------

SPLIT = PATH / "str_split"


def split(args: Any) -> StrSplit:
    return StrSplit("str_split", args, PATH, "2015-10-15")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([",", "a,b,c"], ["a", "b", "c"], id="list"),
        pytest.param([",", "a,b,c", 1], "b", id="index"),
        pytest.param([",", "a,b,c", "2"], "c", id="string-index"),
        pytest.param([",", "a,b,c", -1], "c", id="negative-index"),
        pytest.param([",", "a,b,c", 1, "ignored"], "b", id="extra-arguments-ignored"),
        pytest.param(["::", "a::b"], ["a", "b"], id="multi-character-delimiter"),
        pytest.param([",", ""], [""], id="empty-string"),
        pytest.param([",", "a,"], ["a", ""], id="trailing-delimiter"),
        pytest.param([",", None], None, id="null-string-gives-null"),
        pytest.param([None, " a  b\tc "], ["a", "b", "c"], id="null-delimiter-splits-whitespace"),
        pytest.param([" ", param("words", SPLIT / 1), 1], "two", id="computed-string"),
        pytest.param(param("names", SPLIT), ["y"], id="computed-arguments"),
        pytest.param(
            [",", param("later", SPLIT / 1)],
            Unknown("str_split at outputs.result.value"),
            id="unknown-string",
        ),
    ],
)
def test_str_split_values(args: Any, expected: Any) -> None:
    assert evaluate(split(args)) == expected


SPLIT_USAGE = "str_split: the arguments must be a list [delimiter, string, (index)]"


@pytest.mark.parametrize(
    ("args", "code", "path", "message"),
    [
        pytest.param(
            [",", "a,b", 2],
            "F3004",
            SPLIT / 2,
            "str_split: the index is out of range; it must be between 0 and 1",
            id="index-too-big",
        ),
        pytest.param(
            [",", "a,b", -3],
            "F3004",
            SPLIT / 2,
            "str_split: the index is out of range; it must be between 0 and 1",
            id="index-too-negative",
        ),
        pytest.param(
            [",", "a,b", "x"],
            "F3003",
            SPLIT / 2,
            "str_split: the index must be an integer",
            id="word-index",
        ),
        pytest.param(
            [",", "a,b", None],
            "F3003",
            SPLIT / 2,
            "str_split: the index must be an integer",
            id="null-index",
        ),
        pytest.param(
            [",", 5],
            "F3003",
            SPLIT / 1,
            "str_split: the value to split must be a string",
            id="number-string",
        ),
        pytest.param(
            [5, "a"],
            "F3003",
            SPLIT / 0,
            "str_split: the delimiter must be a string",
            id="number-delimiter",
        ),
        pytest.param(
            ["", "a"],
            "F3003",
            SPLIT / 0,
            "str_split: the delimiter must not be empty",
            id="empty-delimiter",
        ),
        pytest.param([","], "F3003", SPLIT, SPLIT_USAGE, id="too-few-arguments"),
        pytest.param("a,b", "F3003", SPLIT, SPLIT_USAGE, id="string-arguments"),
        pytest.param({"a": "b"}, "F3003", SPLIT, SPLIT_USAGE, id="map-arguments"),
        pytest.param(param("words", SPLIT), "F3004", SPLIT, SPLIT_USAGE, id="computed-non-list"),
    ],
)
def test_str_split_errors(args: Any, code: str, path: TemplatePath, message: str) -> None:
    assert failure(split(args)) == (code, path, message)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([",", "a,b", 1], [], id="valid"),
        pytest.param(param("names", SPLIT), [], id="call-arguments"),
        pytest.param(
            [",", param("words", SPLIT / 1), param("port", SPLIT / 2)], [], id="calls-inside"
        ),
        pytest.param("a,b", [problem(SPLIT, SPLIT_USAGE)], id="string-arguments"),
        pytest.param(
            ["", ["a"], "first"],
            [
                problem(SPLIT / 0, "str_split: the delimiter must not be empty"),
                problem(SPLIT / 1, "str_split: the value to split must be a string"),
                problem(SPLIT / 2, "str_split: the index must be an integer"),
            ],
            id="every-problem",
        ),
    ],
)
def test_str_split_check(args: Any, expected: list[Diagnostic]) -> None:
    assert list(split(args).check()) == expected


# --- digest -------------------------------------------------------------------

DIGEST = PATH / "digest"
ALGORITHMS = ", ".join(DIGEST_ALGORITHMS)


def digest(args: Any) -> Digest:
    return Digest("digest", args, PATH, "2015-04-30")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["md5", ""], "d41d8cd98f00b204e9800998ecf8427e", id="md5-empty"),
        pytest.param(["md5", "abc"], "900150983cd24fb0d6963f7d28e17f72", id="md5"),
        pytest.param(["sha1", "abc"], "a9993e364706816aba3e25717850c26c9cd0d89d", id="sha1"),
        pytest.param(
            ["sha224", "abc"],
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            id="sha224",
        ),
        pytest.param(
            ["sha256", "abc"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            id="sha256",
        ),
        pytest.param(
            ["SHA256", "abc"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            id="algorithm-name-any-case",
        ),
        pytest.param(
            ["sha384", "abc"],
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a"
            "43ff5bed8086072ba1e7cc2358baeca134c825a7",
            id="sha384",
        ),
        pytest.param(
            ["sha512", "abc"],
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            id="sha512",
        ),
        pytest.param(
            ["sha3_256", "abc"],
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            id="sha3-256",
        ),
        pytest.param(
            ["sha256", "é"],
            "de2e331d891ae267a7009cb45b4e8830f170e0c937288ea2731a1941c7a53b0d",
            id="latin-1-bytes-like-heat",
        ),
        pytest.param(
            ["md5", param("later", DIGEST / 1)],
            Unknown("digest at outputs.result.value"),
            id="unknown",
        ),
    ],
)
def test_digest_values(args: Any, expected: Any) -> None:
    assert evaluate(digest(args)) == expected


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            ["md4x", "a"],
            DIGEST / 0,
            f"digest: the algorithm 'md4x' is not supported; use one of {ALGORITHMS}",
            id="unknown-algorithm",
        ),
        pytest.param(
            ["shake_128", "a"],
            DIGEST / 0,
            f"digest: the algorithm 'shake_128' is not supported; use one of {ALGORITHMS}",
            id="variable-length-algorithm",
        ),
        pytest.param(
            ["sha256", "€"],
            DIGEST / 1,
            "digest: the value can only contain Latin-1 characters "
            "(Heat digests its Latin-1 bytes)",
            id="beyond-latin-1",
        ),
        pytest.param(
            ["md5"], DIGEST, "digest: the arguments must be [algorithm, value]", id="one-argument"
        ),
        pytest.param(
            ["md5", "a", "b"],
            DIGEST,
            "digest: the arguments must be [algorithm, value]",
            id="three-arguments",
        ),
        pytest.param(
            ["md5", 1],
            DIGEST,
            "digest: the arguments must be a list of strings [algorithm, value]",
            id="number-value",
        ),
        pytest.param(
            "md5",
            DIGEST,
            "digest: the arguments must be a list of strings [algorithm, value]",
            id="string-arguments",
        ),
    ],
)
def test_digest_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert failure(digest(args)) == ("F3003", path, message)


def test_digest_computed_algorithm_is_not_shown() -> None:
    call = digest([param("algorithm", DIGEST / 0), "a"])
    assert failure(call) == (
        "F3004",
        DIGEST / 0,
        f"digest: the algorithm is not supported; use one of {ALGORITHMS}",
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["sha512", param("words", DIGEST / 1)], [], id="valid"),
        pytest.param(param("names", DIGEST), [], id="call-arguments"),
        pytest.param(
            ["md4x", "a"],
            [
                problem(
                    DIGEST / 0,
                    f"digest: the algorithm 'md4x' is not supported; use one of {ALGORITHMS}",
                )
            ],
            id="unknown-algorithm-named",
        ),
        pytest.param(
            ["md5", None],
            [problem(DIGEST, "digest: the arguments must be a list of strings [algorithm, value]")],
            id="null-value",
        ),
    ],
)
def test_digest_check(args: Any, expected: list[Diagnostic]) -> None:
    assert list(digest(args).check()) == expected


# --- make_url -----------------------------------------------------------------

URL = PATH / "make_url"


def make_url(args: Any) -> MakeUrl:
    return MakeUrl("make_url", args, PATH, "2017-09-01")


URL_CASES = [
    pytest.param(
        {
            "scheme": "http",
            "host": "example.com",
            "path": "/hello world/index.html",
            "query": {"a": "1 2", "b": "x/y&z"},
            "fragment": "top part",
        },
        "http://example.com/hello%20world/index.html?a=1+2&b=x/y%26z#top%20part",
        id="all-parts-escaped",
    ),
    pytest.param(
        {
            "scheme": "https",
            "username": "us er",
            "password": "p@ss:w/rd",
            "host": "h",
            "port": 8443,
        },
        "https://us%20er:p%40ss%3Aw%2Frd@h:8443",
        id="credentials-escaped",
    ),
    pytest.param(
        {"scheme": "http", "username": "u", "host": "h"}, "http://u@h", id="username-only"
    ),
    pytest.param(
        {"scheme": "http", "password": "pw", "host": "h"}, "http://:pw@h", id="password-only"
    ),
    pytest.param(
        {"scheme": "http", "host": "::1", "port": 80}, "http://[::1]:80", id="ipv6-bracketed"
    ),
    pytest.param(
        {"scheme": "http", "host": "[fd00::5]", "port": "8080"},
        "http://[fd00::5]:8080",
        id="ipv6-already-bracketed-and-string-port",
    ),
    pytest.param(
        {"scheme": "http", "host": "fe80::1%eth0"},
        "http://[fe80::1%25eth0]",
        id="ipv6-zone-escaped",
    ),
    pytest.param(
        {"scheme": "http", "host": "h", "port": "0080"}, "http://h:0080", id="port-as-written"
    ),
    pytest.param({"scheme": "http", "path": "x/y"}, "http:///x/y", id="no-host"),
    pytest.param(
        {"scheme": "mailto", "path": "a@b.c"}, "mailto:a%40b.c", id="scheme-without-netloc"
    ),
    pytest.param({"host": "h", "path": "rel"}, "//h/rel", id="no-scheme-relative-path"),
    pytest.param(
        {"scheme": "http", "host": "h", "query": {"list": ["a", 1], "none": None, "é": "ü"}},
        "http://h?list=%5B%27a%27%2C+1%5D&none=None&%C3%A9=%C3%BC",
        id="query-values-as-python-text",
    ),
    pytest.param(
        {"scheme": "http", "host": "h", "query": {}, "fragment": ""}, "http://h", id="empty-parts"
    ),
    pytest.param({}, "", id="nothing"),
]


@pytest.mark.parametrize(("args", "expected"), URL_CASES)
def test_make_url_values(args: dict[str, Any], expected: str) -> None:
    assert evaluate(make_url(args)) == expected


def _heat_reference_url(args: dict[str, Any]) -> str:
    """Heat's make_url steps spelled with urllib, to pin Kiln's own escaping to Python's."""
    username = urlparse.quote(args.get("username", ""), safe="")
    password = urlparse.quote(args.get("password", ""), safe="")
    netloc = (username + (":" + password if password else "") + "@") if username or password else ""
    host = args.get("host", "")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = urlparse.quote(host, safe=":")
    netloc += f"[{host}]" if ":" in host else host
    if args.get("port", ""):
        netloc += f":{args['port']}"
    query = urlparse.urlencode(args.get("query", {})).replace("%2F", "/")
    parts = (urlparse.quote(args.get("path", "")), query, urlparse.quote(args.get("fragment", "")))
    return urlparse.urlunsplit((args.get("scheme", ""), netloc, *parts))


@pytest.mark.parametrize(("args", "expected"), URL_CASES)
def test_make_url_matches_python_escaping(args: dict[str, Any], expected: str) -> None:
    assert _heat_reference_url(args) == expected


def test_make_url_computed_parts() -> None:
    call = make_url({"scheme": "http", "host": "h", "port": param("port", URL / "port")})
    assert evaluate(call) == "http://h:8080"
    call = make_url({"scheme": "http", "host": param("later", URL / "host")})
    assert evaluate(call) == Unknown("make_url at outputs.result.value")


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            {"port": 0},
            URL / "port",
            "make_url: the port 0 is out of range; it must be between 1 and 65535",
            id="port-zero",
        ),
        pytest.param(
            {"port": 65536},
            URL / "port",
            "make_url: the port 65536 is out of range; it must be between 1 and 65535",
            id="port-too-big",
        ),
        pytest.param(
            {"port": "http"}, URL / "port", "make_url: the port must be an integer", id="port-word"
        ),
        pytest.param(
            {"port": None}, URL / "port", "make_url: the port must be an integer", id="port-null"
        ),
        pytest.param(
            {"scheme": "http:"},
            URL / "scheme",
            "make_url: 'scheme' must not contain ':'",
            id="scheme-colon",
        ),
        pytest.param(
            {"host": 5}, URL / "host", "make_url: 'host' must be a string", id="host-number"
        ),
        pytest.param(
            {"path": None}, URL / "path", "make_url: 'path' must be a string", id="path-null"
        ),
        pytest.param(
            {"query": "a=b"}, URL / "query", "make_url: 'query' must be a map", id="query-string"
        ),
        pytest.param(
            {"hostname": "h"},
            URL / "hostname",
            "make_url: unknown argument 'hostname'; the arguments are "
            "scheme, username, password, host, port, path, query, fragment",
            id="unknown-argument",
        ),
        pytest.param(
            ["http", "h"], URL, "make_url: the arguments must be a map", id="list-arguments"
        ),
        pytest.param(
            param("settings", URL),
            URL,
            "make_url: the arguments must be a map",
            id="computed-arguments",
        ),
    ],
)
def test_make_url_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert failure(make_url(args)) == ("F3003", path, message)


def test_make_url_computed_port_is_not_shown() -> None:
    call = make_url({"host": "h", "port": param("secret_port", URL / "port")})
    assert failure(call) == (
        "F3004",
        URL / "port",
        "make_url: the port is out of range; it must be between 1 and 65535",
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            {"scheme": "https", "host": param("words", URL / "host"), "port": 443}, [], id="valid"
        ),
        pytest.param(
            {"port": 70000, "scheme": "a:b", "bogus": 1, "query": param("settings", URL / "query")},
            [
                problem(
                    URL / "port",
                    "make_url: the port 70000 is out of range; it must be between 1 and 65535",
                ),
                problem(URL / "scheme", "make_url: 'scheme' must not contain ':'"),
                problem(
                    URL / "bogus",
                    "make_url: unknown argument 'bogus'; the arguments are "
                    "scheme, username, password, host, port, path, query, fragment",
                ),
            ],
            id="every-problem",
        ),
        pytest.param(
            param("settings", URL),
            [problem(URL, "make_url: the arguments must be a map")],
            id="call",
        ),
    ],
)
def test_make_url_check(args: Any, expected: list[Diagnostic]) -> None:
    assert list(make_url(args).check()) == expected


# --- behaviour that changes between HOT versions ------------------------------

SCOPE_WITH_SERVER = StaticScope(
    resource_names=frozenset({"server"}),
    physical_ids={"server": "id-1"},
    attributes={"server": {"name": "vm"}},
)


@pytest.mark.parametrize(
    ("version", "call", "expected"),
    [
        pytest.param(
            "2013-05-23",
            StrReplace(
                "str_replace", {"template": "p=$p", "params": {"$p": 8080}}, PATH, "2013-05-23"
            ),
            "p=8080",
            id="2013-str_replace-integer",
        ),
        pytest.param(
            "2015-10-15",
            StrReplaceJson(
                "str_replace", {"template": "p=$p", "params": {"$p": 8080}}, PATH, "2015-10-15"
            ),
            "p=8080",
            id="2015-str_replace-integer",
        ),
        pytest.param(
            "2014-10-16",
            StrReplace(
                "str_replace", {"template": "$l", "params": {"$l": [1]}}, PATH, "2014-10-16"
            ),
            (
                "F3003",
                REPLACE / "params" / "$l",
                "str_replace: params must be strings or numbers; param '$l' is not",
            ),
            id="2014-str_replace-list",
        ),
        pytest.param(
            "2015-10-15",
            StrReplaceJson(
                "str_replace", {"template": "$l", "params": {"$l": [1]}}, PATH, "2015-10-15"
            ),
            "[1]",
            id="2015-str_replace-list",
        ),
        pytest.param(
            "2014-10-16",
            ListJoin("list_join", [",", ["a"], ["b"]], PATH, "2014-10-16"),
            ("F3003", JOIN, USAGE_2013),
            id="2014-list_join-several-lists",
        ),
        pytest.param(
            "2015-10-15",
            ListJoinMultiple("list_join", [",", ["a"], ["b"]], PATH, "2015-10-15"),
            "a,b",
            id="2015-list_join-several-lists",
        ),
        pytest.param(
            "2014-10-16",
            GetAttr("get_attr", ["server"], PATH, "2014-10-16"),
            (
                "F3003",
                PATH / "get_attr",
                "get_attr: the argument must be a list [resource_name, attribute, (path), ...]",
            ),
            id="2014-get_attr-without-attribute",
        ),
        pytest.param(
            "2015-10-15",
            GetAttrAllAttributes("get_attr", ["server"], PATH, "2015-10-15"),
            {"name": "vm"},
            id="2015-get_attr-without-attribute",
        ),
    ],
)
def test_versions_differ_like_heat(version: str, call: Function, expected: Any) -> None:
    assert call.version == version
    if isinstance(expected, tuple):
        with pytest.raises(EvaluationError) as caught:
            Resolver(SCOPE_WITH_SERVER).resolve(call)
        assert (caught.value.code, caught.value.path, caught.value.message) == expected
    else:
        assert Resolver(SCOPE_WITH_SERVER).resolve(call) == expected
