"""HOT collection functions as Heat evaluates them: repeat, map_*, filter, list_*, contains."""

from __future__ import annotations

from typing import Any

import pytest
from function_support import HOT_PATH, Evaluator, param, problem, unknown

from kiln.config import TemplateLimits
from kiln.errors import TemplatePath
from kiln.template.functions.base import Function, Unknown
from kiln.template.functions.hot_collections import (
    Contains,
    Filter,
    ListConcat,
    ListConcatUnique,
    MapMerge,
    MapReplace,
    Repeat,
    RepeatWithMap,
    RepeatWithNestedLoop,
)

PATH = HOT_PATH
PARAMETERS: dict[str, Any] = {
    "names": ["a", "b"],
    "three": ["x", "y", "z"],
    "ports": [80, 443],
    "text": "abc",
    "settings": {"k": "v"},
    "renames": {"k": "z"},
    "pair": [{"k": 1}, {"k": 2}],
    "later": Unknown("parameter later"),
}


CALLS = Evaluator({"parameters": PARAMETERS})
evaluate = CALLS.evaluate
failure = CALLS.failure


# --- repeat -------------------------------------------------------------------

REPEAT = PATH / "repeat"


def repeat(cls: type[Function], args: Any) -> Function:
    return cls("repeat", args, PATH, "2017-09-01")


ALL_REPEATS = [
    pytest.param(Repeat, id="2015"),
    pytest.param(RepeatWithMap, id="2016"),
    pytest.param(RepeatWithNestedLoop, id="2017"),
]


@pytest.mark.parametrize("cls", ALL_REPEATS)
@pytest.mark.parametrize(
    ("template", "for_each", "expected"),
    [
        pytest.param(
            "this is %var%",
            {"%var%": ["a", "b", "c"]},
            ["this is a", "this is b", "this is c"],
            id="one-list",
        ),
        pytest.param(
            "%a%-%b%",
            {"%a%": ["x", "y", "z"], "%b%": ["1", "2"]},
            ["x-1", "x-2", "y-1", "y-2", "z-1", "z-2"],
            id="product-first-placeholder-slowest",
        ),
        pytest.param(
            {"key-%var%": "this is %var%"},
            {"%var%": ["a", "b"]},
            [{"key-a": "this is a"}, {"key-b": "this is b"}],
            id="placeholders-in-keys",
        ),
        pytest.param(
            {"SERVICE_enabled": True, "port": 80},
            {"SERVICE": ["x", "y"]},
            [{"x_enabled": True, "port": 80}, {"y_enabled": True, "port": 80}],
            id="non-strings-untouched",
        ),
        pytest.param(
            ["this is %var%", "static"],
            {"%var%": ["a", "b"]},
            [["this is a", "static"], ["this is b", "static"]],
            id="list-template",
        ),
        pytest.param(
            {"%a%": 1, "x": 2}, {"%a%": ["x"]}, [{"x": 2}], id="replaced-key-collides-later-wins"
        ),
        pytest.param("%a%", {"%a%": ["%b%"], "%b%": ["z"]}, ["z"], id="replaced-in-for_each-order"),
        pytest.param("%a%", {"%a%": None}, [], id="null-list-repeats-nothing"),
        pytest.param("%a%", {"%a%": []}, [], id="empty-list"),
        pytest.param(
            "%a%%b%", {"%a%": ["1", "2"], "%b%": None}, [], id="null-list-empties-product"
        ),
        pytest.param(5, {"%a%": [80, 443]}, [5, 5], id="non-string-items-without-strings"),
        pytest.param(
            "this is var%",
            {"var%": param("names", REPEAT / "for_each" / "var%")},
            ["this is a", "this is b"],
            id="computed-list",
        ),
        pytest.param(
            param("names", REPEAT / "template"),
            {"%a%": ["1", "2"]},
            [["a", "b"], ["a", "b"]],
            id="template-evaluated-before-substitution",
        ),
        pytest.param(
            ["%a%", param("later", REPEAT / "template" / 1)],
            {"%a%": ["x"]},
            [["x", Unknown("parameter later")]],
            id="unknown-in-template-kept",
        ),
        pytest.param(
            "%a%",
            {"%a%": param("later", REPEAT / "for_each" / "%a%")},
            unknown("repeat"),
            id="unknown-list",
        ),
    ],
)
def test_repeat_values(cls: type[Function], template: Any, for_each: Any, expected: Any) -> None:
    assert evaluate(repeat(cls, {"template": template, "for_each": for_each})) == expected


@pytest.mark.parametrize(
    ("cls", "args", "expected"),
    [
        pytest.param(
            RepeatWithMap,
            {"template": "%a%-%b%", "for_each": {"%a%": ["1", "2"], "%b%": {"x": 0, "y": 0}}},
            ["1-x", "1-y", "2-x", "2-y"],
            id="2016-map-iterates-keys",
        ),
        pytest.param(
            Repeat,
            {
                "template": "%a%%b%",
                "for_each": {"%a%": ["1", "2"], "%b%": ["x", "y"]},
                "permutations": False,
            },
            ["1x", "1y", "2x", "2y"],
            id="2015-ignores-permutations",
        ),
        pytest.param(
            RepeatWithNestedLoop,
            {
                "template": {"network": "%net%", "port": "%port%"},
                "for_each": {"%net%": ["n1", "n2", "n3"], "%port%": ["p1", "p2", "p3"]},
                "permutations": False,
            },
            [
                {"network": "n1", "port": "p1"},
                {"network": "n2", "port": "p2"},
                {"network": "n3", "port": "p3"},
            ],
            id="2017-no-permutations-pairs-items",
        ),
        pytest.param(
            RepeatWithNestedLoop,
            {
                "template": "%a%",
                "for_each": {"%a%": None, "%b%": ["1", "2"]},
                "permutations": False,
            },
            [],
            id="2017-no-permutations-null-list",
        ),
        pytest.param(
            RepeatWithNestedLoop,
            {"template": "%a%", "for_each": {"%a%": ["1"]}, "permutations": True},
            ["1"],
            id="2017-explicit-permutations",
        ),
    ],
)
def test_repeat_versions(cls: type[Function], args: Any, expected: Any) -> None:
    assert evaluate(repeat(cls, args)) == expected


FOR_EACH = REPEAT / "for_each"


@pytest.mark.parametrize(
    ("cls", "args", "path", "message"),
    [
        pytest.param(
            Repeat,
            ["a"],
            REPEAT,
            'repeat: the arguments must be a map {"template": ..., "for_each": {...}}',
            id="not-a-map",
        ),
        pytest.param(
            Repeat,
            {"template": "x"},
            REPEAT,
            'repeat: the "for_each" argument is required',
            id="no-for_each",
        ),
        pytest.param(
            Repeat,
            {"templte": "x", "for_each": {"a": ["1"]}},
            REPEAT,
            'repeat: the "template" argument is required',
            id="no-template",
        ),
        pytest.param(
            Repeat,
            {"template": "x", "for_each": "%var%"},
            FOR_EACH,
            'repeat: "for_each" must be a map of placeholders to lists, not a string',
            id="for_each-string",
        ),
        pytest.param(
            Repeat,
            {"template": "x", "for_each": {}},
            FOR_EACH,
            'repeat: "for_each" must name at least one placeholder',
            id="for_each-empty",
        ),
        pytest.param(
            Repeat,
            {"template": "x", "for_each": {"%a%": "abc"}},
            FOR_EACH / "%a%",
            'repeat: the values of "for_each" must be lists, not a string',
            id="2015-string-list",
        ),
        pytest.param(
            Repeat,
            {"template": "x", "for_each": {"%a%": {"k": 1}}},
            FOR_EACH / "%a%",
            'repeat: the values of "for_each" must be lists, not a map',
            id="2015-map-list",
        ),
        pytest.param(
            RepeatWithMap,
            {"template": "x", "for_each": {"%a%": 5}},
            FOR_EACH / "%a%",
            'repeat: the values of "for_each" must be lists or maps, not a number',
            id="2016-number-list",
        ),
        pytest.param(
            RepeatWithNestedLoop,
            {"template": "x", "for_each": {"%a%": ["n1"], "%b%": {"p": 1}}, "permutations": False},
            FOR_EACH / "%b%",
            'repeat: the values of "for_each" must be lists, not a map',
            id="2017-no-permutations-map",
        ),
        pytest.param(
            RepeatWithNestedLoop,
            {
                "template": "x",
                "for_each": {"%a%": ["1", "2", "3"], "%b%": ["1", "2"]},
                "permutations": False,
            },
            FOR_EACH,
            'repeat: with "permutations" false the lists must have the same length, not 3, 2',
            id="2017-no-permutations-different-lengths",
        ),
        pytest.param(
            RepeatWithNestedLoop,
            {"template": "x", "for_each": {"%a%": ["1"]}, "permutations": "non bool"},
            REPEAT / "permutations",
            'repeat: "permutations" must be a boolean',
            id="2017-permutations-not-boolean",
        ),
    ],
)
def test_repeat_argument_errors(
    cls: type[Function], args: Any, path: TemplatePath, message: str
) -> None:
    call = repeat(cls, args)
    assert list(call.check()) == [problem(path, message)]
    assert failure(call) == ("F3003", path, message)


@pytest.mark.parametrize(
    ("cls", "args", "path", "message"),
    [
        pytest.param(
            RepeatWithNestedLoop,
            {
                "template": "%a%",
                "for_each": {"%a%": param("names"), "%b%": param("three")},
                "permutations": False,
            },
            FOR_EACH,
            'repeat: with "permutations" false the lists must have the same length, not 2, 3',
            id="computed-different-lengths",
        ),
        pytest.param(
            Repeat,
            {"template": "x", "for_each": param("names")},
            FOR_EACH,
            'repeat: "for_each" must be a map of placeholders to lists, not a list',
            id="computed-for_each-list",
        ),
        pytest.param(
            Repeat,
            {"template": "port %p%", "for_each": {"%p%": [80, 443]}},
            REPEAT,
            "repeat: the items of the for_each lists must be strings to replace placeholders "
            "in strings, not a number",
            id="number-items-with-string-template",
        ),
        pytest.param(
            Repeat,
            {"template": "port %p%", "for_each": {"%p%": param("ports")}},
            REPEAT,
            "repeat: the items of the for_each lists must be strings to replace placeholders "
            "in strings, not a number",
            id="computed-number-items",
        ),
        pytest.param(
            Repeat,
            {"template": "x", "for_each": {1: ["a"]}},
            REPEAT,
            'repeat: "for_each" placeholders must be strings, not a number',
            id="number-placeholder",
        ),
    ],
)
def test_repeat_evaluation_errors(
    cls: type[Function], args: Any, path: TemplatePath, message: str
) -> None:
    assert failure(repeat(cls, args)) == ("F3004", path, message)


def test_repeat_item_count_limit() -> None:
    limits = TemplateLimits(max_value_chars=100)
    eleven = [str(number) for number in range(11)]
    call = repeat(Repeat, {"template": "%a%%b%", "for_each": {"%a%": eleven, "%b%": eleven}})
    assert failure(call, limits) == (
        "F3007",
        REPEAT,
        "repeat: the result would have 121 items, more than the limit of 100",
    )


@pytest.mark.parametrize(
    ("template", "value"),
    [
        pytest.param("%a%%a%", "v" * 60, id="string-growth"),
        pytest.param(["%a%"] * 30, "v" * 4, id="many-small-strings"),
        pytest.param({"k": [[[0]]]}, "v", id="node-count"),
    ],
)
def test_repeat_size_limit(template: Any, value: str) -> None:
    limits = TemplateLimits(max_value_chars=100)
    call = repeat(Repeat, {"template": template, "for_each": {"%a%": [value] * 30}})
    assert failure(call, limits) == (
        "F3007",
        REPEAT,
        "repeat: the result would be larger than the limit of 100 characters",
    )


def test_repeat_within_size_limit() -> None:
    limits = TemplateLimits(max_value_chars=100)
    call = repeat(Repeat, {"template": "%a%%a%", "for_each": {"%a%": ["v" * 49]}})
    assert evaluate(call, limits) == ["v" * 98]


def test_repeat_check_skips_calls() -> None:
    call = repeat(
        RepeatWithNestedLoop,
        {
            "template": param("names"),
            "for_each": {"%a%": param("names"), "%b%": ["1"]},
            "permutations": False,
        },
    )
    assert list(call.check()) == []


# --- map_merge ----------------------------------------------------------------

MERGE = PATH / "map_merge"


def merge(args: Any) -> Function:
    return MapMerge("map_merge", args, PATH, "2016-04-08")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"f1": "b2"}], {"f1": "b2", "f2": "b2"}, id="later-wins"
        ),
        pytest.param([{"f1": "b1"}, None], {"f1": "b1"}, id="null-item-skipped"),
        pytest.param([], {}, id="no-maps"),
        pytest.param([param("settings"), {"x": 1}], {"k": "v", "x": 1}, id="computed-map"),
        pytest.param(param("pair"), {"k": 2}, id="computed-list-of-maps"),
        pytest.param(
            [{"a": param("later")}], {"a": Unknown("parameter later")}, id="unknown-value-kept"
        ),
        pytest.param([{"a": 1}, param("later")], unknown("map_merge"), id="unknown-map"),
    ],
)
def test_map_merge_values(args: Any, expected: Any) -> None:
    assert evaluate(merge(args)) == expected


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            {"a": 1},
            MERGE,
            "map_merge: the arguments must be a list of maps, not a map",
            id="map-arguments",
        ),
        pytest.param(
            [{"f1": "b1"}, ["f1", "b2"]],
            MERGE / 1,
            "map_merge: the items to merge must be maps, not a list",
            id="list-item",
        ),
        pytest.param(
            ["a"],
            MERGE / 0,
            "map_merge: the items to merge must be maps, not a string",
            id="string-item",
        ),
    ],
)
def test_map_merge_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert list(merge(args).check()) == [problem(path, message)]
    assert failure(merge(args)) == ("F3003", path, message)


def test_map_merge_computed_item_error() -> None:
    assert failure(merge([{"a": 1}, param("names")])) == (
        "F3004",
        MERGE / 1,
        "map_merge: the items to merge must be maps, not a list",
    )


# --- map_replace --------------------------------------------------------------

MAP_REPLACE = PATH / "map_replace"


def map_replace(args: Any) -> Function:
    return MapReplace("map_replace", args, PATH, "2016-10-14")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"keys": {"f1": "F1"}, "values": {"b2": "B2"}}],
            {"F1": "b1", "f2": "B2"},
            id="keys-and-values",
        ),
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"values": {"b2": "B2"}}],
            {"f1": "b1", "f2": "B2"},
            id="values-only",
        ),
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"keys": {"f2": "F2"}}],
            {"f1": "b1", "F2": "b2"},
            id="keys-only",
        ),
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"keys": {"f2": "f2"}}],
            {"f1": "b1", "f2": "b2"},
            id="key-replaced-by-itself",
        ),
        pytest.param(
            [{"f1": "b1"}, {"keys": None, "values": None}], {"f1": "b1"}, id="null-replacements"
        ),
        pytest.param(
            [{"f1": "b1", "f2": []}, {"values": {"b1": "x"}}],
            {"f1": "x", "f2": []},
            id="unhashable-value-untouched",
        ),
        pytest.param([None, {"keys": {"a": "b"}}], {}, id="null-map"),
        pytest.param(
            [{"a": 1, "b": True}, {"values": {1: "one"}}],
            {"a": "one", "b": "one"},
            id="values-compared-as-python-values",
        ),
        pytest.param([param("settings"), {"keys": {"k": "K"}}], {"K": "v"}, id="computed-map"),
        pytest.param(
            [{"a": param("later")}, {"keys": {"a": "b"}}],
            {"b": Unknown("parameter later")},
            id="unknown-value-without-values",
        ),
        pytest.param(
            [{"a": param("later")}, {"values": {"x": "y"}}],
            unknown("map_replace"),
            id="unknown-value-with-values",
        ),
    ],
)
def test_map_replace_values(args: Any, expected: Any) -> None:
    assert evaluate(map_replace(args)) == expected


USAGE_MAP_REPLACE = 'map_replace: the arguments must be a list [map, {"keys": map, "values": map}]'


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param("ab", MAP_REPLACE, USAGE_MAP_REPLACE, id="string-arguments"),
        pytest.param([], MAP_REPLACE, USAGE_MAP_REPLACE, id="empty-list"),
        pytest.param([{"f1": "b1"}], MAP_REPLACE, USAGE_MAP_REPLACE, id="one-item"),
        pytest.param(
            [{"f1": "b1"}, "ab"],
            MAP_REPLACE / 1,
            "map_replace: the second argument must be a map, not a string",
            id="string-replacements",
        ),
        pytest.param(
            ["ab", {}],
            MAP_REPLACE / 0,
            "map_replace: the first argument must be a map, not a string",
            id="string-map",
        ),
        pytest.param(
            [{"f1": "b1"}, {"notkeys": {"f1": "F1"}}],
            MAP_REPLACE / 1 / "notkeys",
            'map_replace: \'notkeys\' is not allowed here: only "keys" and "values" are',
            id="unknown-replacement-key",
        ),
        pytest.param(
            [{"f1": "b1"}, {"keys": ["f1"]}],
            MAP_REPLACE / 1 / "keys",
            'map_replace: "keys" must be a map, not a list',
            id="keys-not-a-map",
        ),
    ],
)
def test_map_replace_argument_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert list(map_replace(args).check()) == [problem(path, message)]
    assert failure(map_replace(args)) == ("F3003", path, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"keys": {"f2": "f1"}}],
            "map_replace: key replacement 'f1' collides with a key in the input map",
            id="collides-with-input",
        ),
        pytest.param(
            [{"f1": "b1", "f2": "b2"}, {"keys": {"f1": "f3", "f2": "f3"}}],
            "map_replace: key replacement 'f3' collides with a key in the output map",
            id="collides-with-output",
        ),
        pytest.param(
            [{"k": 1, "z": 2}, {"keys": param("renames")}],
            "map_replace: a key replacement collides with a key in the input map",
            id="computed-keys-not-named",
        ),
        pytest.param(
            [{"a": 1}, {"keys": {"a": ["b"]}}],
            "map_replace: a key replacement must be a string or a number, not a list",
            id="unhashable-key-replacement",
        ),
    ],
)
def test_map_replace_collisions(args: Any, message: str) -> None:
    assert failure(map_replace(args)) == ("F3004", MAP_REPLACE, message)


# --- filter -------------------------------------------------------------------

FILTER = PATH / "filter"


def filter_call(args: Any) -> Function:
    return Filter("filter", args, PATH, "2017-02-24")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([[None], [1, None, 4, 2, None]], [1, 4, 2], id="remove-nulls"),
        pytest.param([[3], ["1", 2, 3]], ["1", 2], id="remove-number"),
        pytest.param([[{"a": 1}], [{"a": 1}, {"a": 2}]], [{"a": 2}], id="remove-maps"),
        pytest.param([[1], None], None, id="null-list-returned"),
        pytest.param([[1], []], [], id="empty-list-returned"),
        pytest.param(["abcd", []], [], id="falsy-list-skips-values-check"),
        pytest.param([None, [1, 2]], [1, 2], id="null-values"),
        pytest.param([[], [1, 2]], [1, 2], id="no-values"),
        pytest.param([["a"], param("names")], ["b"], id="computed-list"),
        pytest.param([param("names"), ["a", "c"]], ["c"], id="computed-values"),
        pytest.param([[1], param("later")], unknown("filter"), id="unknown-list"),
        pytest.param([[1], [1, param("later")]], unknown("filter"), id="unknown-item"),
    ],
)
def test_filter_values(args: Any, expected: Any) -> None:
    assert evaluate(filter_call(args)) == expected


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            "foo",
            FILTER,
            "filter: the arguments must be a list [values_to_remove, list]",
            id="string-arguments",
        ),
        pytest.param(
            param("names"),
            FILTER,
            "filter: the arguments must be a list [values_to_remove, list]",
            id="computed-arguments",
        ),
        pytest.param(
            [[None], [1, 2], "foo"],
            FILTER,
            "filter: 2 arguments [values_to_remove, list] are expected, not 3",
            id="three-arguments",
        ),
        pytest.param(
            [[None], {"a": 1}],
            FILTER / 1,
            "filter: the second argument must be a list, not a map",
            id="map-list",
        ),
        pytest.param(
            [["a"], "abcd"],
            FILTER / 1,
            "filter: the second argument must be a list, not a string",
            id="string-list",
        ),
        pytest.param(
            ["abcd", ["a", "b"]],
            FILTER / 0,
            "filter: the values to remove must be a list, not a string",
            id="string-values",
        ),
    ],
)
def test_filter_argument_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert list(filter_call(args).check()) == [problem(path, message)]
    assert failure(filter_call(args)) == ("F3003", path, message)


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            [["a"], param("text")],
            FILTER / 1,
            "filter: the second argument must be a list, not a string",
            id="computed-string-list",
        ),
        pytest.param(
            [param("text"), ["a"]],
            FILTER / 0,
            "filter: the values to remove must be a list, not a string",
            id="computed-string-values",
        ),
    ],
)
def test_filter_evaluation_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert list(filter_call(args).check()) == []
    assert failure(filter_call(args)) == ("F3004", path, message)


# --- list_concat and list_concat_unique ---------------------------------------

CONCAT = PATH / "list_concat"


@pytest.mark.parametrize(
    ("cls", "args", "expected"),
    [
        pytest.param(
            ListConcat, [["v1", "v2"], ["v3", "v4"]], ["v1", "v2", "v3", "v4"], id="concat"
        ),
        pytest.param(ListConcat, [["v1"], None, ["v2"]], ["v1", "v2"], id="null-skipped"),
        pytest.param(
            ListConcat,
            [["v1", "v2"], ["v2", "v3"]],
            ["v1", "v2", "v2", "v3"],
            id="concat-keeps-repeats",
        ),
        pytest.param(
            ListConcat,
            [[{"v1": "v2"}], [{"v1": "v2"}]],
            [{"v1": "v2"}, {"v1": "v2"}],
            id="concat-keeps-repeated-maps",
        ),
        pytest.param(ListConcat, [param("names"), ["c"]], ["a", "b", "c"], id="computed-list"),
        pytest.param(
            ListConcat,
            [["a", param("later")]],
            ["a", Unknown("parameter later")],
            id="concat-unknown-item-kept",
        ),
        pytest.param(
            ListConcat, [["a"], param("later")], unknown("list_concat"), id="unknown-list"
        ),
        pytest.param(
            ListConcatUnique,
            [["v1", "v2"], ["v1", "v3"]],
            ["v1", "v2", "v3"],
            id="unique-keeps-first",
        ),
        pytest.param(
            ListConcatUnique, [[0, 1, 0, 2, 1, 2]], [0, 1, 2], id="unique-interleaved-repeats"
        ),
        pytest.param(
            ListConcatUnique, [[{"v1": "v2"}], [{"v1": "v2"}]], [{"v1": "v2"}], id="unique-maps"
        ),
        pytest.param(ListConcatUnique, [[["a"], ["a"], ["b"]]], [["a"], ["b"]], id="unique-lists"),
        pytest.param(
            ListConcatUnique, [[1, True, 1.0, "1"]], [1, "1"], id="unique-equal-python-values"
        ),
        pytest.param(
            ListConcatUnique,
            [["a", param("later")]],
            unknown("list_concat"),
            id="unique-unknown-item",
        ),
    ],
)
def test_list_concat_values(cls: type[Function], args: Any, expected: Any) -> None:
    assert evaluate(cls("list_concat", args, PATH, "2017-09-01")) == expected


@pytest.mark.parametrize("cls", [ListConcat, ListConcatUnique])
@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            [{"k1": "v2"}, ["v3"]],
            CONCAT / 0,
            "list_concat: the items to concatenate must be lists, not a map",
            id="map-item",
        ),
        pytest.param(
            "I am string",
            CONCAT,
            "list_concat: the arguments must be a list of lists, not a string",
            id="string-arguments",
        ),
        pytest.param(
            ["v1", "v2"],
            CONCAT / 0,
            "list_concat: the items to concatenate must be lists, not a string",
            id="string-items",
        ),
    ],
)
def test_list_concat_errors(
    cls: type[Function], args: Any, path: TemplatePath, message: str
) -> None:
    call = cls("list_concat", args, PATH, "2017-09-01")
    assert list(call.check())[:1] == [problem(path, message)]
    assert failure(call) == ("F3003", path, message)


# --- contains -----------------------------------------------------------------

CONTAINS = PATH / "contains"


def contains(args: Any) -> Function:
    return Contains("contains", args, PATH, "2017-09-01")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["v1", ["v1", "v2"]], True, id="in-list"),
        pytest.param(["v3", ["v1", "v2"]], False, id="not-in-list"),
        pytest.param(["a", "abc"], True, id="substring"),
        pytest.param(["d", "abc"], False, id="not-substring"),
        pytest.param([1, [1.0]], True, id="equal-numbers"),
        pytest.param([{"k": 1}, [{"k": 1}]], True, id="map-in-list"),
        pytest.param(["b", param("names")], True, id="computed-sequence"),
        pytest.param([param("later"), ["a"]], unknown("contains"), id="unknown-value"),
    ],
)
def test_contains_values(args: Any, expected: Any) -> None:
    assert evaluate(contains(args)) == expected


USAGE_CONTAINS = "contains: the arguments must be a list [value, sequence]"


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param({"key": "value"}, CONTAINS, USAGE_CONTAINS, id="map-arguments"),
        pytest.param(["v1", ["v1"], "redundant"], CONTAINS, USAGE_CONTAINS, id="three-arguments"),
        pytest.param(
            ["v1", {"key": "value"}],
            CONTAINS / 1,
            "contains: the second argument must be a list or a string, not a map",
            id="map-sequence",
        ),
        pytest.param(
            ["v1", None],
            CONTAINS / 1,
            "contains: the second argument must be a list or a string, not null",
            id="null-sequence",
        ),
    ],
)
def test_contains_argument_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert list(contains(args).check()) == [problem(path, message)]
    assert failure(contains(args)) == ("F3003", path, message)


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        pytest.param(
            ["v1", param("settings")],
            CONTAINS / 1,
            "contains: the second argument must be a list or a string, not a map",
            id="computed-map-sequence",
        ),
        pytest.param(
            [1, "abc"],
            CONTAINS / 0,
            "contains: to search a string the value must be a string, not a number",
            id="number-in-string",
        ),
    ],
)
def test_contains_evaluation_errors(args: Any, path: TemplatePath, message: str) -> None:
    assert failure(contains(args)) == ("F3004", path, message)
