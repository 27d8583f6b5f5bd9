"""Environment documents and their merging, against Heat's environment_format/environment_util."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.template.environment import Environment, merge_environments, parse_environment
from kiln.template.resource_registry import ResolvedType

ERROR = Severity.ERROR
SECTION_LIST = (
    "parameters, parameter_defaults, resource_registry, event_sinks, "
    "encrypted_param_names, parameter_merge_strategies"
)


def path(*segments: str | int) -> TemplatePath:
    return TemplatePath(segments)


def parsed(data: dict[str, Any]) -> Environment:
    environment, diagnostics = parse_environment(data)
    assert diagnostics == []
    return environment


# ---------------------------------------------------------------------------
# Parsing


def test_parse_full_document() -> None:
    data = {
        "parameters": {"KeyName": "heat_key", "InstanceType": "m1.micro", "Tags": {"a": [1, 2]}},
        "parameter_defaults": {"KeyName": "default_key"},
        "resource_registry": {
            "OS::Networking::FloatingIP": "OS::Nova::FloatingIP",
            "resources": {"my_server": {"hooks": "pre-create"}},
        },
        "event_sinks": [{"type": "zaqar-queue", "target": "myqueue", "ttl": 1200}],
        "encrypted_param_names": ["KeyName"],
        "parameter_merge_strategies": {"default": "merge", "Tags": "deep_merge"},
    }
    environment = parsed(data)
    assert (
        environment.parameters,
        environment.parameter_defaults,
        environment.event_sinks,
        environment.encrypted_param_names,
        environment.parameter_merge_strategies,
        environment.resource_registry.resolve("OS::Networking::FloatingIP"),
        environment.resource_registry.hooks_for("my_server"),
    ) == (
        {"KeyName": "heat_key", "InstanceType": "m1.micro", "Tags": {"a": [1, 2]}},
        {"KeyName": "default_key"},
        ({"type": "zaqar-queue", "target": "myqueue", "ttl": 1200},),
        ("KeyName",),
        {"default": "merge", "Tags": "deep_merge"},
        (
            ResolvedType(
                "OS::Nova::FloatingIP",
                None,
                ("OS::Networking::FloatingIP", "OS::Nova::FloatingIP"),
            ),
            [],
        ),
        frozenset({"pre-create"}),
    )
    assert environment.to_dict() == {
        **data,
        "resource_registry": {
            "OS::Networking::FloatingIP": "OS::Nova::FloatingIP",
            "resources": {"my_server": {"hooks": ["pre-create"]}},
        },
    }


@pytest.mark.parametrize(
    "data",
    [pytest.param(None, id="null-document"), pytest.param({}, id="empty-mapping")],
)
def test_parse_empty_document(data: Any) -> None:
    environment, diagnostics = parse_environment(data)
    assert (environment.to_dict(), diagnostics) == ({}, [])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            ["parameters"],
            [
                Diagnostic(
                    "E7001",
                    f"an environment must be a mapping with sections: {SECTION_LIST}",
                    path(),
                    ERROR,
                )
            ],
            id="not-a-mapping",
        ),
        pytest.param(
            {"paramters": {"a": 1}},
            [
                Diagnostic(
                    "E7002",
                    'environment has an unknown section "paramters"; expected one of: '
                    + SECTION_LIST,
                    path("paramters"),
                    ERROR,
                )
            ],
            id="unknown-section",
        ),
        pytest.param(
            {"a": "ff", "b": "ss"},
            [
                Diagnostic(
                    "E7002",
                    f'environment has an unknown section "a"; expected one of: {SECTION_LIST}',
                    path("a"),
                    ERROR,
                ),
                Diagnostic(
                    "E7002",
                    f'environment has an unknown section "b"; expected one of: {SECTION_LIST}',
                    path("b"),
                    ERROR,
                ),
            ],
            id="flat-parameters-are-not-an-environment-file",
        ),
        pytest.param(
            {"parameters": None},
            [
                Diagnostic(
                    "E7003", 'environment section "parameters" is empty', path("parameters"), ERROR
                )
            ],
            id="empty-section",
        ),
        pytest.param(
            {"parameter_defaults": ["a", "b"]},
            [
                Diagnostic(
                    "E7004",
                    "parameter_defaults must map parameter names to values",
                    path("parameter_defaults"),
                    ERROR,
                )
            ],
            id="parameter-defaults-a-list",
        ),
        pytest.param(
            {"parameters": {1: "x", "ok": "y"}},
            [
                Diagnostic(
                    "E7005", "parameter names must be strings", path("parameters", "1"), ERROR
                )
            ],
            id="parameter-name-a-number",
        ),
        pytest.param(
            {"encrypted_param_names": "KeyName"},
            [
                Diagnostic(
                    "E7004",
                    "encrypted_param_names must be a list of parameter names",
                    path("encrypted_param_names"),
                    ERROR,
                )
            ],
            id="encrypted-names-not-a-list",
        ),
        pytest.param(
            {"encrypted_param_names": ["KeyName", {"b": 1}]},
            [
                Diagnostic(
                    "E7007",
                    "encrypted_param_names must hold names (strings)",
                    path("encrypted_param_names", 1),
                    ERROR,
                )
            ],
            id="encrypted-name-not-a-string",
        ),
        pytest.param(
            {"parameter_merge_strategies": "merge"},
            [
                Diagnostic(
                    "E7004",
                    "parameter_merge_strategies must map parameter names (or default) "
                    "to strategies",
                    path("parameter_merge_strategies"),
                    ERROR,
                )
            ],
            id="strategies-not-a-mapping",
        ),
        pytest.param(
            {"parameter_merge_strategies": {"default": "append", "tags": 3}},
            [
                Diagnostic(
                    "E7006",
                    '"append" is not a merge strategy; expected one of: '
                    "overwrite, merge, deep_merge",
                    path("parameter_merge_strategies", "default"),
                    ERROR,
                ),
                Diagnostic(
                    "E7006",
                    "a non-string value is not a merge strategy; expected one of: "
                    "overwrite, merge, deep_merge",
                    path("parameter_merge_strategies", "tags"),
                    ERROR,
                ),
            ],
            id="unknown-strategies",
        ),
        pytest.param(
            {"event_sinks": {"type": "zaqar-queue"}},
            [
                Diagnostic(
                    "E7004", "event_sinks must be a list of event sinks", path("event_sinks"), ERROR
                )
            ],
            id="event-sinks-not-a-list",
        ),
        pytest.param(
            {"event_sinks": ["zaqar-queue"]},
            [
                Diagnostic(
                    "E7008",
                    'an event sink must be a mapping with a "type"',
                    path("event_sinks", 0),
                    ERROR,
                )
            ],
            id="event-sink-not-a-mapping",
        ),
        pytest.param(
            {"event_sinks": [{"target": "q"}]},
            [Diagnostic("E7008", 'an event sink needs a "type"', path("event_sinks", 0), ERROR)],
            id="event-sink-without-type",
        ),
        pytest.param(
            {"event_sinks": [{"type": "webhook", "url": "http://x"}]},
            [
                Diagnostic(
                    "E7009",
                    '"webhook" is not an event sink type; expected one of: zaqar-queue',
                    path("event_sinks", 0, "type"),
                    ERROR,
                )
            ],
            id="unknown-event-sink-type",
        ),
        pytest.param(
            {"event_sinks": [{"type": "zaqar-queue"}]},
            [
                Diagnostic(
                    "E7008",
                    'a zaqar-queue event sink needs "target" (a string)',
                    path("event_sinks", 0),
                    ERROR,
                )
            ],
            id="zaqar-sink-without-target",
        ),
        pytest.param(
            {"event_sinks": [{"type": "zaqar-queue", "target": ["q"], "ttl": "1h", "queue": "q"}]},
            [
                Diagnostic(
                    "E7008",
                    'a zaqar-queue event sink needs "target" (a string)',
                    path("event_sinks", 0, "target"),
                    ERROR,
                ),
                Diagnostic(
                    "E7008",
                    '"queue" is not a field of a zaqar-queue event sink',
                    path("event_sinks", 0, "queue"),
                    ERROR,
                ),
                Diagnostic(
                    "E7008",
                    "ttl must be a whole number of seconds",
                    path("event_sinks", 0, "ttl"),
                    ERROR,
                ),
            ],
            id="zaqar-sink-bad-fields",
        ),
        pytest.param(
            {"resource_registry": {"resources": {"web": {"hooks": ["pre-create", "pre-build"]}}}},
            [
                Diagnostic(
                    "E7104",
                    '"pre-build" is not a hook; expected one of: pre-create, pre-update, '
                    "pre-delete, post-create, post-update, post-delete",
                    path("resource_registry", "resources", "web", "hooks", 1),
                    ERROR,
                )
            ],
            id="registry-problems-under-their-section",
        ),
        pytest.param(
            {"resource_registry": "OS::Heat::None"},
            [
                Diagnostic(
                    "E7004", "resource_registry must be a mapping", path("resource_registry"), ERROR
                )
            ],
            id="registry-not-a-mapping",
        ),
    ],
)
def test_parse_diagnostics(data: Any, expected: list[Diagnostic]) -> None:
    _, diagnostics = parse_environment(data)
    assert diagnostics == expected


def test_parse_prefixes_the_given_path() -> None:
    _, diagnostics = parse_environment({"parameters": None}, path("environment_files", 2))
    assert diagnostics == [
        Diagnostic(
            "E7003",
            'environment section "parameters" is empty',
            path("environment_files", 2, "parameters"),
            ERROR,
        )
    ]


def test_parse_keeps_the_valid_parts() -> None:
    environment, _ = parse_environment(
        {
            "parameters": {"a": 1, 2: "b"},
            "parameter_merge_strategies": {"a": "merge", "b": "sometimes"},
            "event_sinks": [{"type": "zaqar-queue", "target": "q"}, {"type": "nope"}],
            "encrypted_param_names": ["a", 3],
            "bogus": {},
        }
    )
    assert environment.to_dict() == {
        "parameters": {"a": 1},
        "parameter_merge_strategies": {"a": "merge"},
        "event_sinks": [{"type": "zaqar-queue", "target": "q"}],
        "encrypted_param_names": ["a"],
    }


def test_parse_copies_its_input() -> None:
    data: dict[str, Any] = {"parameters": {"tags": {"env": ["prod"]}}}
    environment = parsed(data)
    data["parameters"]["tags"]["env"].append("test")
    assert environment.parameters == {"tags": {"env": ["prod"]}}


def test_to_dict_round_trips() -> None:
    data = {
        "parameters": {"a": "1"},
        "resource_registry": {"My::A": "a.yaml", "resources": {"web": {"hooks": ["pre-create"]}}},
        "parameter_merge_strategies": {"default": "deep_merge"},
    }
    assert parsed(parsed(data).to_dict()).to_dict() == data


# ---------------------------------------------------------------------------
# Merging: Heat's own scenario (heat/tests/test_environment_util.py), rewritten

FIRST = {
    "parameters": {
        "str_value1": "string1",
        "str_value2": "string2",
        "del_lst_value1": "1,2",
        "del_lst_value2": "3,4",
        "lst_value1": [1, 2],
        "json_value1": {"1": ["str1", "str2"]},
        "json_value2": {"2": ["test1", "test2"]},
    },
    "resource_registry": {"test::R1": "OS::Heat::RandomString", "test::R2": "BROKEN"},
    "parameter_defaults": {"lst_value2": [3, 4]},
}
SECOND = {
    "parameters": {
        "str_value1": "string3",
        "str_value2": "string4",
        "del_lst_value1": "5,6",
        "del_lst_value2": "7,8",
        "lst_value1": [5, 6],
        "json_value1": {"3": ["str3", "str4"]},
        "json_value2": {"4": ["test3", "test4"]},
    },
    "resource_registry": {"test::R2": "OS::Heat::None"},
    "parameter_defaults": {"lst_value2": [7, 8]},
}
TYPES = {
    "str_value1": "string",
    "str_value2": "string",
    "del_lst_value1": "comma_delimited_list",
    "del_lst_value2": "comma_delimited_list",
    "lst_value1": "comma_delimited_list",
    "lst_value2": "comma_delimited_list",
    "json_value1": "json",
    "json_value2": "json",
}


def with_strategies(document: dict[str, Any], strategies: dict[str, str]) -> dict[str, Any]:
    return {**document, "parameter_merge_strategies": strategies}


@pytest.mark.parametrize(
    ("documents", "parameters", "defaults"),
    [
        pytest.param(
            [FIRST, SECOND],
            {
                "str_value1": "string3",
                "str_value2": "string4",
                "del_lst_value1": "5,6",
                "del_lst_value2": "7,8",
                "lst_value1": [5, 6],
                "json_value1": {"3": ["str3", "str4"]},
                "json_value2": {"4": ["test3", "test4"]},
            },
            {"lst_value2": [7, 8]},
            id="overwrite-by-default",
        ),
        pytest.param(
            [with_strategies(FIRST, {"default": "deep_merge"}), SECOND],
            {
                "str_value1": "string1string3",
                "str_value2": "string2string4",
                "del_lst_value1": "1,2,5,6",
                "del_lst_value2": "3,4,7,8",
                "lst_value1": [1, 2, 5, 6],
                "json_value1": {"1": ["str1", "str2"], "3": ["str3", "str4"]},
                "json_value2": {"2": ["test1", "test2"], "4": ["test3", "test4"]},
            },
            {"lst_value2": [3, 4, 7, 8]},
            id="default-strategy-of-the-first-file-sticks",
        ),
        pytest.param(
            [
                with_strategies(
                    FIRST,
                    {
                        "default": "overwrite",
                        "lst_value1": "merge",
                        "lst_value2": "merge",
                        "json_value1": "deep_merge",
                    },
                ),
                SECOND,
            ],
            {
                "str_value1": "string3",
                "str_value2": "string4",
                "del_lst_value1": "5,6",
                "del_lst_value2": "7,8",
                "lst_value1": [1, 2, 5, 6],
                "json_value1": {"1": ["str1", "str2"], "3": ["str3", "str4"]},
                "json_value2": {"4": ["test3", "test4"]},
            },
            {"lst_value2": [3, 4, 7, 8]},
            id="parameter-specific-strategies",
        ),
    ],
)
def test_merge_heat_scenario(
    documents: list[dict[str, Any]], parameters: dict[str, Any], defaults: dict[str, Any]
) -> None:
    environment, diagnostics = merge_environments([parsed(d) for d in documents], TYPES)
    assert (
        environment.parameters,
        environment.parameter_defaults,
        environment.resource_registry.to_dict(),
        diagnostics,
    ) == (
        parameters,
        defaults,
        {"test::R1": "OS::Heat::RandomString", "test::R2": "OS::Heat::None"},
        [],
    )


@pytest.mark.parametrize(
    ("strategies", "third", "expected"),
    [
        pytest.param(
            {"default": "overwrite", "lst_value1": "merge", "json_value1": "deep_merge"},
            {"parameters": {"lst_value1": [9, 10], "json_value1": {"5": ["str5"]}}},
            [
                Diagnostic(
                    "E7010",
                    'merge strategy "merge" for parameter "lst_value1" conflicts with '
                    '"overwrite", chosen for it by an earlier environment',
                    path(1, "parameter_merge_strategies", "lst_value1"),
                ),
                Diagnostic(
                    "E7010",
                    'merge strategy "deep_merge" for parameter "json_value1" conflicts with '
                    '"overwrite", chosen for it by an earlier environment',
                    path(1, "parameter_merge_strategies", "json_value1"),
                ),
            ],
            id="parameters",
        ),
        pytest.param(
            {"default": "overwrite", "lst_value2": "merge"},
            {"parameter_defaults": {"lst_value2": [9, 10]}},
            [
                Diagnostic(
                    "E7010",
                    'merge strategy "merge" for parameter "lst_value2" conflicts with '
                    '"overwrite", chosen for it by an earlier environment',
                    path(1, "parameter_merge_strategies", "lst_value2"),
                )
            ],
            id="parameter-defaults",
        ),
    ],
)
def test_merge_conflicting_strategies(
    strategies: dict[str, str], third: dict[str, Any], expected: list[Diagnostic]
) -> None:
    documents = [FIRST, with_strategies(SECOND, strategies), third]
    _, diagnostics = merge_environments([parsed(d) for d in documents], TYPES)
    assert diagnostics == expected


# ---------------------------------------------------------------------------
# Merging: every parameter type over two or three environments


def merge_one(
    values: list[Any], strategy: str, type_name: str | None, section: str = "parameters"
) -> tuple[Any, list[Diagnostic]]:
    documents: list[dict[str, Any]] = [{section: {"p": value}} for value in values]
    documents[0]["parameter_merge_strategies"] = {"p": strategy}
    types = {"p": type_name} if type_name else None
    environment, diagnostics = merge_environments([parsed(d) for d in documents], types)
    return getattr(environment, section).get("p"), diagnostics


@pytest.mark.parametrize(
    ("values", "strategy", "type_name", "expected"),
    [
        pytest.param(["a", "b", "c"], "overwrite", "string", "c", id="string-overwrite"),
        pytest.param(["a", "b", "c"], "merge", "string", "abc", id="string-merge"),
        pytest.param(["a", "b"], "deep_merge", "string", "ab", id="string-deep-merge-is-merge"),
        pytest.param([1, 0], "overwrite", "number", 0, id="number-overwrite-with-zero"),
        pytest.param([1, 2, 3], "merge", "number", 6, id="number-merge-adds"),
        pytest.param([1.5, 2], "merge", "number", 3.5, id="number-merge-float"),
        pytest.param(["2", 3], "merge", "number", 5, id="number-merge-numeric-text"),
        pytest.param(
            ["1,2", "3", "4,5"], "merge", "comma_delimited_list", "1,2,3,4,5", id="cdl-strings"
        ),
        pytest.param(
            [[1, 2], [3], [4]], "merge", "comma_delimited_list", [1, 2, 3, 4], id="cdl-lists"
        ),
        pytest.param(
            ["a,b", ["c"]], "merge", "comma_delimited_list", ["a", "b", "c"], id="cdl-mixed"
        ),
        pytest.param(
            [["a"], "b,c"], "merge", "comma_delimited_list", ["a", "b", "c"], id="cdl-mixed-reverse"
        ),
        pytest.param(["", "x"], "merge", "comma_delimited_list", "x", id="cdl-empty-first"),
        pytest.param(["a", ""], "merge", "comma_delimited_list", "a,", id="cdl-empty-last"),
        pytest.param(
            [[1], [2]], "deep_merge", "comma_delimited_list", [1, 2], id="cdl-deep-merge-is-merge"
        ),
        pytest.param(["1,2", "3"], "merge", "CommaDelimitedList", "1,2,3", id="cfn-cdl"),
        pytest.param(["1", "2"], "merge", "List<Number>", "1,2", id="cfn-list-number"),
        pytest.param(
            ["k1", "k2"], "merge", "AWS::EC2::KeyPair::KeyName", "k1k2", id="cfn-aws-type"
        ),
        pytest.param(
            [{"a": {"x": 1}, "b": 1}, {"a": {"y": 2}, "c": None}],
            "merge",
            "json",
            {"a": {"y": 2}, "b": 1},
            id="json-merge-is-shallow-and-skips-nulls",
        ),
        pytest.param(
            [{"a": {"x": 1}, "b": 1}, {"a": {"y": 2}}, {"a": {"x": 3}}],
            "deep_merge",
            "json",
            {"a": {"x": 3, "y": 2}, "b": 1},
            id="json-deep-merge-three",
        ),
        pytest.param(
            [
                {"list": [1], "text": "ab", "number": 1, "flag": True, "empty": {}},
                {"list": [2], "text": "cd", "number": 2, "flag": False, "empty": {"k": "v"}},
            ],
            "deep_merge",
            "json",
            {"list": [1, 2], "text": "abcd", "number": 2, "flag": False, "empty": {"k": "v"}},
            id="json-deep-merge-kinds",
        ),
        pytest.param(
            [{"foo": 1}, {"foo": 0}], "deep_merge", "json", {"foo": 0}, id="json-deep-merge-zero"
        ),
        pytest.param(
            ['{"a": 1}', {"b": 2}], "merge", "json", {"a": 1, "b": 2}, id="json-text-is-parsed"
        ),
        pytest.param(
            [{}, {"a": None}], "merge", "json", {"a": None}, id="json-empty-first-takes-next"
        ),
        pytest.param([{"a": 1}, {"b": 2}], "merge", "Json", {"a": 1, "b": 2}, id="cfn-json"),
        pytest.param([{"a": 1}, {"b": 2}], "merge", None, {"a": 1, "b": 2}, id="inferred-json"),
        pytest.param([[1], [2]], "merge", None, [1, 2], id="inferred-list"),
        pytest.param(["a,b", ["c"]], "merge", None, ["a", "b", "c"], id="inferred-list-mixed"),
        pytest.param(["a", "b"], "merge", None, "ab", id="inferred-string"),
        pytest.param([1, 2], "merge", None, 3, id="inferred-number"),
        pytest.param(["x", None, "y"], "merge", "string", "xy", id="nulls-are-skipped"),
        pytest.param(["x", None], "overwrite", "string", "x", id="null-does-not-clear"),
    ],
)
def test_merge_by_type(
    values: list[Any], strategy: str, type_name: str | None, expected: Any
) -> None:
    assert merge_one(values, strategy, type_name) == (expected, [])


def test_merge_applies_to_parameter_defaults() -> None:
    assert merge_one([[1], [2], [3]], "merge", "comma_delimited_list", "parameter_defaults") == (
        [1, 2, 3],
        [],
    )


@pytest.mark.parametrize(
    ("values", "strategy", "type_name", "expected_value", "diagnostic"),
    [
        pytest.param(
            [True, False],
            "merge",
            "boolean",
            False,
            Diagnostic(
                "E7011",
                'merge strategy "merge" cannot be used for boolean parameter "p"',
                path(0, "parameters", "p"),
            ),
            id="boolean-merge",
        ),
        pytest.param(
            [True, False],
            "deep_merge",
            None,
            False,
            Diagnostic(
                "E7011",
                'merge strategy "deep_merge" cannot be used for boolean parameter "p"',
                path(0, "parameters", "p"),
            ),
            id="inferred-boolean-deep-merge",
        ),
        pytest.param(
            [{"a": 1}, "{not json"],
            "merge",
            "json",
            "{not json",
            Diagnostic(
                "E7012",
                'json parameter "p" can only be merged with maps (or JSON text of one)',
                path(1, "parameters", "p"),
            ),
            id="json-text-invalid",
        ),
        pytest.param(
            [{"a": 1}, [1, 2]],
            "merge",
            "json",
            [1, 2],
            Diagnostic(
                "E7012",
                'json parameter "p" can only be merged with maps (or JSON text of one)',
                path(1, "parameters", "p"),
            ),
            id="json-list",
        ),
        pytest.param(
            ["a", 5],
            "merge",
            "string",
            5,
            Diagnostic(
                "E7012",
                'string parameter "p" can only be merged with strings',
                path(1, "parameters", "p"),
            ),
            id="string-with-number",
        ),
        pytest.param(
            [1, "many"],
            "merge",
            "number",
            "many",
            Diagnostic(
                "E7012",
                'number parameter "p" can only be merged with numbers',
                path(1, "parameters", "p"),
            ),
            id="number-with-text",
        ),
        pytest.param(
            ["a", {"b": 1}],
            "merge",
            "comma_delimited_list",
            {"b": 1},
            Diagnostic(
                "E7012",
                'comma_delimited_list parameter "p" can only be merged with lists or '
                "comma-separated strings",
                path(1, "parameters", "p"),
            ),
            id="cdl-with-map",
        ),
        pytest.param(
            [{"a": {"b": "text"}}, {"a": {"b": [1]}}],
            "deep_merge",
            "json",
            {"a": {"b": [1]}},
            Diagnostic(
                "E7012",
                'cannot deep-merge a list into a string in parameter "p"; '
                "the later value replaces it",
                path(1, "parameters", "p", "a", "b"),
            ),
            id="deep-merge-kind-mismatch",
        ),
    ],
)
def test_merge_problems(
    values: list[Any],
    strategy: str,
    type_name: str | None,
    expected_value: Any,
    diagnostic: Diagnostic,
) -> None:
    assert merge_one(values, strategy, type_name) == (expected_value, [diagnostic])


def test_merge_messages_never_show_values() -> None:
    _, diagnostics = merge_one([{"a": 1}, "s3cr3t-not-json"], "merge", "json")
    assert [d for d in diagnostics if "s3cr3t" in d.message] == []


@pytest.mark.parametrize(
    ("documents", "parameters", "strategies"),
    [
        pytest.param(
            [
                {"parameters": {"a": "1"}},
                {
                    "parameters": {"a": "2", "b": "x"},
                    "parameter_merge_strategies": {"default": "merge"},
                },
                {"parameters": {"b": "y"}},
            ],
            {"a": "2", "b": "xy"},
            {"a": "overwrite", "b": "merge"},
            id="later-default-applies-only-to-new-parameters",
        ),
        pytest.param(
            [
                {"parameters": {"a": "1"}, "parameter_merge_strategies": {"a": "merge"}},
                {"parameters": {"a": "2"}, "parameter_merge_strategies": {"a": "merge"}},
            ],
            {"a": "12"},
            {"a": "merge"},
            id="repeating-the-same-strategy-is-fine",
        ),
        pytest.param(
            [
                {"parameter_defaults": {"a": "1"}, "parameter_merge_strategies": {"a": "merge"}},
                {"parameters": {"a": "2"}},
                {"parameters": {"a": "3"}},
            ],
            {"a": "23"},
            {"a": "merge"},
            id="strategy-shared-by-both-sections",
        ),
    ],
)
def test_merge_strategy_bookkeeping(
    documents: list[dict[str, Any]], parameters: dict[str, Any], strategies: dict[str, str]
) -> None:
    environment, diagnostics = merge_environments([parsed(d) for d in documents])
    assert (environment.parameters, environment.parameter_merge_strategies, diagnostics) == (
        parameters,
        strategies,
        [],
    )


def test_merge_other_sections() -> None:
    documents = [
        {
            "event_sinks": [{"type": "zaqar-queue", "target": "first"}],
            "encrypted_param_names": ["a", "b"],
            "resource_registry": {"My::A": "a.yaml", "My::B": "b.yaml"},
        },
        {
            "event_sinks": [{"type": "zaqar-queue", "target": "second", "ttl": 60}],
            "encrypted_param_names": ["b", "c"],
            "resource_registry": {"My::A": None, "My::C": "c.yaml"},
        },
    ]
    environment, diagnostics = merge_environments([parsed(d) for d in documents])
    assert (
        environment.event_sinks,
        environment.encrypted_param_names,
        environment.resource_registry.to_dict(),
        diagnostics,
    ) == (
        (
            {"type": "zaqar-queue", "target": "first"},
            {"type": "zaqar-queue", "target": "second", "ttl": 60},
        ),
        ("a", "b", "c"),
        {"My::B": "b.yaml", "My::C": "c.yaml"},
        [],
    )


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        pytest.param(
            [{"resource_registry": {"My::A": "My::B"}}, {"resource_registry": {"My::B": "My::A"}}],
            [
                Diagnostic(
                    "E7110",
                    "resource type alias cycle: My::A -> My::B -> My::A",
                    path(0, "resource_registry", "My::A"),
                )
            ],
            id="cycle-across-files",
        ),
        pytest.param(
            [
                {"resource_registry": {"My::A": "My::X"}},
                {"resource_registry": {"My::B": "My::A"}},
                {"resource_registry": {"My::A": "My::B"}},
            ],
            [
                Diagnostic(
                    "E7110",
                    "resource type alias cycle: My::A -> My::B -> My::A",
                    path(2, "resource_registry", "My::A"),
                )
            ],
            id="cycle-put-on-the-winning-entry",
        ),
        pytest.param(
            [
                {"resource_registry": {"My::A": "My::B", "My::B": "My::A"}},
                {"resource_registry": {"My::B": None}},
            ],
            [],
            id="later-null-breaks-the-cycle",
        ),
    ],
)
def test_merge_reports_registry_cycles(
    documents: list[dict[str, Any]], expected: list[Diagnostic]
) -> None:
    _, diagnostics = merge_environments([parsed(d) for d in documents])
    assert diagnostics == expected


def test_merge_nothing() -> None:
    environment, diagnostics = merge_environments([])
    assert (environment.to_dict(), diagnostics) == ({}, [])


def test_merge_does_not_change_its_inputs() -> None:
    first = parsed(
        {"parameters": {"p": {"a": [1]}}, "parameter_merge_strategies": {"p": "deep_merge"}}
    )
    second = parsed({"parameters": {"p": {"a": [2]}}})
    merged, _ = merge_environments([first, second])
    assert (merged.parameters, first.parameters, second.parameters) == (
        {"p": {"a": [1, 2]}},
        {"p": {"a": [1]}},
        {"p": {"a": [2]}},
    )


# ---------------------------------------------------------------------------
# A nested stack's environment


def test_for_nested_is_heats_child_environment() -> None:
    merged, diagnostics = merge_environments(
        [
            parsed(
                {
                    "parameters": {"size": 3},
                    "parameter_defaults": {"flavor": "small"},
                    "parameter_merge_strategies": {"size": "merge"},
                    "resource_registry": {
                        "My::Thing": "thing.yaml",
                        "resources": {
                            "group": {"0": {"hooks": "pre-create"}, "My::Thing": "mine.yaml"},
                            "gr*": {"1": {"hooks": "pre-update"}},
                            "other": {"0": {"hooks": "pre-delete"}},
                        },
                    },
                }
            ),
            parsed({"parameter_defaults": {"flavor": "large"}}),
        ]
    )
    assert diagnostics == []
    child = merged.for_nested("group", without=("resources", "group", "My::Thing"))
    # Parameters (and how they merged) stay behind; defaults carry over merged; the blocks
    # under "group" (the exact name's and those of the patterns that match it) become the
    # child's own, and the entry that made "group" a provider template is gone.
    assert child.to_dict() == {
        "parameter_defaults": {"flavor": "large"},
        "resource_registry": {
            "My::Thing": "thing.yaml",
            "resources": {"0": {"hooks": ["pre-create"]}, "1": {"hooks": ["pre-update"]}},
        },
    }
    assert child.resource_registry.hooks_for("0") == frozenset({"pre-create"})
    assert merged.for_nested("another").to_dict() == {
        "parameter_defaults": {"flavor": "large"},
        "resource_registry": {"My::Thing": "thing.yaml"},
    }
