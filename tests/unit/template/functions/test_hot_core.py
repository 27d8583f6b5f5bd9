"""HOT core functions as Heat evaluates them: get_param, get_resource, get_attr, get_file, ..."""

from __future__ import annotations

from typing import Any

import pytest
from function_support import HOT_PATH, Evaluator

from kiln.errors import Diagnostic, EvaluationError, Severity, TemplatePath
from kiln.template.functions.base import Function, Reference, Resolver, Unknown
from kiln.template.functions.hot_core import (
    GetAttr,
    GetAttrAllAttributes,
    GetAttrThenSelect,
    GetFile,
    GetParam,
    GetResource,
    ResourceFacade,
)
from kiln.template.scope import StaticScope

PATH = HOT_PATH

PARAMETERS: dict[str, Any] = {
    "flavor": "m1.small",
    "count": 3,
    "servers": ["a", "b", "c"],
    "config": {"db": {"host": "db.example", "ports": [5432, 5433]}, "debug": False},
    "which": "flavor",
    "index": 2,
    "second": 1,
    "later": Unknown("parameter later"),
    "partly": {"known": "yes", "unknown": Unknown("parameter partly")},
    "OS::stack_name": "mystack",
    "OS::stack_id": "8f3c",
    "OS::project_id": "p-1",
}

SERVER_ATTRIBUTES: dict[str, Any] = {
    "first_address": "10.0.0.5",
    "networks": {"private": ["10.0.0.5", "fd00::5"]},
    "addresses": None,
}


CALLS = Evaluator(
    {
        "parameters": PARAMETERS,
        "resource_names": frozenset({"server", "pending"}),
        "physical_ids": {"server": "id-1"},
        "attributes": {"server": SERVER_ATTRIBUTES},
        "files": {"setup.sh": "#!/bin/sh\necho hi\n"},
        "facade": {"metadata": {"role": "db"}, "deletion_policy": "Retain", "update_policy": {}},
    }
)
evaluate = CALLS.evaluate
failure = CALLS.failure


def get_param(args: Any, at: TemplatePath = PATH) -> GetParam:
    return GetParam("get_param", args, at, "2013-05-23")


def problem(code: str, path: TemplatePath, message: str) -> Diagnostic:
    return Diagnostic(code, message, path, Severity.ERROR)


ARGS = PATH / "get_param"


# --- get_param ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("flavor", "m1.small", id="plain-name"),
        pytest.param(["flavor"], "m1.small", id="list-with-name-only"),
        pytest.param("count", 3, id="number-keeps-its-type"),
        pytest.param(["config", "db", "host"], "db.example", id="nested-map-path"),
        pytest.param(["config", "db", "ports", 1], 5433, id="map-then-list-index"),
        pytest.param(["servers", 1], "b", id="integer-index"),
        pytest.param(["servers", "1"], "b", id="string-index-that-reads-as-integer"),
        pytest.param(["servers", -1], "c", id="negative-index-counts-from-end"),
        pytest.param(["servers", "first"], "", id="string-index-not-integer-gives-empty"),
        pytest.param(["servers", 5], "", id="index-out-of-range-gives-empty"),
        pytest.param(["config", "missing"], "", id="missing-key-gives-empty"),
        pytest.param(["config", 0], "", id="integer-key-into-map-gives-empty"),
        pytest.param(["config", "debug", "x"], "", id="step-into-boolean-gives-empty"),
        pytest.param(["count", 0], "", id="step-into-number-gives-empty"),
        pytest.param(["config", {"a": 1}], "", id="map-as-path-item-gives-empty"),
        pytest.param(["flavor", 0], "m", id="string-is-indexed-like-heat"),
        pytest.param(["config"], PARAMETERS["config"], id="whole-json-value"),
        pytest.param("OS::stack_name", "mystack", id="pseudo-stack-name"),
        pytest.param("OS::stack_id", "8f3c", id="pseudo-stack-id"),
        pytest.param("OS::project_id", "p-1", id="pseudo-project-id"),
        pytest.param(["partly", "known"], "yes", id="known-part-of-partly-unknown-value"),
        pytest.param("later", Unknown("parameter later"), id="unknown-value-stays-unknown"),
        pytest.param(
            ["later", "key"], Unknown("get_param later key"), id="path-into-unknown-is-unknown"
        ),
        pytest.param(
            ["partly", "unknown", "x"],
            Unknown("get_param partly unknown x"),
            id="path-through-unknown-part-is-unknown",
        ),
    ],
)
def test_get_param_values(args: Any, expected: Any) -> None:
    assert evaluate(get_param(args)) == expected


def test_get_param_name_and_path_may_be_calls() -> None:
    assert evaluate(get_param([get_param("which", ARGS / 0)])) == "m1.small"
    assert evaluate(get_param(["servers", get_param("index", ARGS / 1)])) == "c"


def test_get_param_unknown_path_item_makes_the_call_unknown() -> None:
    call = get_param(["config", get_param("later", ARGS / 1)])
    assert evaluate(call) == Unknown("get_param at outputs.result.value")


@pytest.mark.parametrize(
    ("args", "code", "path", "message"),
    [
        pytest.param(
            "nope", "R4002", ARGS, "get_param: parameter 'nope' is not defined", id="undefined"
        ),
        pytest.param(
            ["nope", "a"],
            "R4002",
            ARGS / 0,
            "get_param: parameter 'nope' is not defined",
            id="undefined-in-list",
        ),
        pytest.param("", "F3003", ARGS, "get_param: a parameter name is required", id="empty"),
        pytest.param([], "F3003", ARGS, "get_param: a parameter name is required", id="empty-list"),
        pytest.param(
            {"a": 1},
            "F3003",
            ARGS,
            "get_param: the argument must be a parameter name or a list [name, key_or_index, ...]",
            id="map-argument",
        ),
        pytest.param(
            [1, "a"],
            "F3003",
            ARGS / 0,
            "get_param: the parameter name must be a string",
            id="name-not-string",
        ),
    ],
)
def test_get_param_errors(args: Any, code: str, path: TemplatePath, message: str) -> None:
    assert failure(get_param(args)) == (code, path, message)


def test_get_param_computed_name_must_be_a_string() -> None:
    call = get_param([get_param("servers", ARGS / 0)])
    assert failure(call) == ("F3004", ARGS / 0, "get_param: the parameter name must be a string")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("flavor", [], id="valid-name"),
        pytest.param(["config", "db", {"x": 1}], [], id="odd-path-item-is-not-an-error"),
        pytest.param(get_param("which", ARGS), [], id="call-is-not-checked"),
        pytest.param(
            None, [problem("F3003", ARGS, "get_param: a parameter name is required")], id="null"
        ),
        pytest.param(
            7,
            [
                problem(
                    "F3003",
                    ARGS,
                    "get_param: the argument must be a parameter name or a list "
                    "[name, key_or_index, ...]",
                )
            ],
            id="number",
        ),
        pytest.param(
            [["a"], "b"],
            [problem("F3003", ARGS / 0, "get_param: the parameter name must be a string")],
            id="list-name",
        ),
    ],
)
def test_get_param_check(args: Any, expected: list[Diagnostic]) -> None:
    assert list(get_param(args).check()) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("flavor", [Reference("parameter", "flavor", ARGS)], id="name"),
        pytest.param(["config", "db"], [Reference("parameter", "config", ARGS / 0)], id="path"),
        pytest.param([get_param("which", ARGS / 0), "db"], [], id="computed-name"),
        pytest.param(get_param("which", ARGS), [], id="call-argument"),
        pytest.param([], [], id="empty"),
    ],
)
def test_get_param_references(args: Any, expected: list[Reference]) -> None:
    assert list(get_param(args).references()) == expected


# --- get_resource -------------------------------------------------------------

RESOURCE_ARGS = PATH / "get_resource"


def get_resource(args: Any) -> GetResource:
    return GetResource("get_resource", args, PATH, "2013-05-23")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("server", "id-1", id="physical-id"),
        pytest.param("pending", Unknown("pending"), id="not-created-yet-is-unknown"),
        pytest.param(
            get_param("later", RESOURCE_ARGS),
            Unknown("get_resource at outputs.result.value"),
            id="unknown-name",
        ),
    ],
)
def test_get_resource_values(args: Any, expected: Any) -> None:
    assert evaluate(get_resource(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            "nope",
            ("R4001", RESOURCE_ARGS, "get_resource: resource 'nope' is not defined"),
            id="undefined",
        ),
        pytest.param(
            ["server"],
            (
                "F3003",
                RESOURCE_ARGS,
                "get_resource: the argument must be a resource name (a string)",
            ),
            id="list",
        ),
        pytest.param(
            get_param("servers", RESOURCE_ARGS),
            (
                "F3004",
                RESOURCE_ARGS,
                "get_resource: the argument must be a resource name (a string)",
            ),
            id="computed-list",
        ),
    ],
)
def test_get_resource_errors(args: Any, expected: tuple[str, TemplatePath, str]) -> None:
    assert failure(get_resource(args)) == expected


def test_get_resource_check_and_references() -> None:
    assert list(get_resource("server").check()) == []
    assert list(get_resource(5).check()) == [
        problem(
            "F3003", RESOURCE_ARGS, "get_resource: the argument must be a resource name (a string)"
        )
    ]
    assert list(get_resource("server").references()) == [
        Reference("resource", "server", RESOURCE_ARGS)
    ]
    assert list(get_resource(get_param("which", RESOURCE_ARGS)).references()) == []


# --- get_attr -----------------------------------------------------------------

ATTR_ARGS = PATH / "get_attr"
GET_ATTR_CLASSES = [
    pytest.param(GetAttrThenSelect, id="2013-05-23"),
    pytest.param(GetAttr, id="2014-10-16"),
    pytest.param(GetAttrAllAttributes, id="2015-10-15"),
]


def get_attr(cls: type[Function], args: Any) -> Function:
    return cls("get_attr", args, PATH, "2015-10-15")


@pytest.mark.parametrize("cls", GET_ATTR_CLASSES)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["server", "first_address"], "10.0.0.5", id="attribute"),
        pytest.param(["server", "networks", "private", 1], "fd00::5", id="nested-path"),
        pytest.param(["server", "networks"], {"private": ["10.0.0.5", "fd00::5"]}, id="whole-map"),
        pytest.param(["server", "networks", "private", -1], "fd00::5", id="negative-index"),
        pytest.param(["server", "networks", "private", "1"], None, id="string-never-indexes-list"),
        pytest.param(["server", "networks", "public"], None, id="missing-key-gives-null"),
        pytest.param(["server", "networks", "private", 9], None, id="index-out-of-range"),
        pytest.param(["server", "addresses", "x"], None, id="path-into-null"),
        pytest.param(["server", "networks", {"a": 1}], None, id="map-path-item"),
        pytest.param(["server", "first_address", 0], "1", id="string-is-indexed-like-heat"),
        pytest.param(
            ["pending", "first_address"], Unknown("pending.first_address"), id="not-created-yet"
        ),
        pytest.param(
            ["pending", "networks", "private"],
            Unknown("get_attr pending networks private"),
            id="path-into-unknown",
        ),
    ],
)
def test_get_attr_values(cls: type[Function], args: Any, expected: Any) -> None:
    assert evaluate(get_attr(cls, args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["server"], SERVER_ATTRIBUTES, id="all-attributes"),
        pytest.param(["server", None], SERVER_ATTRIBUTES, id="null-name-means-all"),
        pytest.param(["server", None, "networks"], SERVER_ATTRIBUTES, id="path-after-null-ignored"),
        pytest.param(["pending"], Unknown("pending.*"), id="all-attributes-not-created-yet"),
    ],
)
def test_get_attr_all_attributes(args: Any, expected: Any) -> None:
    assert evaluate(get_attr(GetAttrAllAttributes, args)) == expected


@pytest.mark.parametrize("cls", GET_ATTR_CLASSES)
def test_get_attr_names_and_path_may_be_calls(cls: type[Function]) -> None:
    attribute = GetParam("get_param", ["config", "db", "host"], ATTR_ARGS / 1, "x")
    index = GetParam("get_param", "second", ATTR_ARGS / 3, "x")
    scope_with_attribute = StaticScope(
        parameters=PARAMETERS,
        resource_names=frozenset({"server"}),
        attributes={"server": {"db.example": "found", **SERVER_ATTRIBUTES}},
    )
    resolver = Resolver(scope_with_attribute)
    assert resolver.resolve(get_attr(cls, ["server", attribute])) == "found"
    assert resolver.resolve(get_attr(cls, ["server", "networks", "private", index])) == "fd00::5"


@pytest.mark.parametrize("cls", GET_ATTR_CLASSES)
def test_get_attr_path_after_a_member_reads_the_member_attribute(cls: type[Function]) -> None:
    # Heat hands the whole path to a group: [group, resource.0, value] is resource.0.value.
    scope = StaticScope(
        resource_names=frozenset({"group", "older"}),
        physical_ids={"group": "group-id", "older": "older-id"},
        attributes={
            "group": {"resource.0": "member-0", "resource.0.value": {"deep": "v0"}},
            # Recorded without the joined name: the path selects from resource.0 as before.
            "older": {"resource.0": {"value": "selected"}},
        },
    )
    resolver = Resolver(scope)
    assert resolver.resolve(get_attr(cls, ["group", "resource.0", "value"])) == {"deep": "v0"}
    assert resolver.resolve(get_attr(cls, ["group", "resource.0", "value", "deep"])) == "v0"
    assert resolver.resolve(get_attr(cls, ["group", "resource.0"])) == "member-0"
    assert resolver.resolve(get_attr(cls, ["older", "resource.0", "value"])) == "selected"


@pytest.mark.parametrize("cls", GET_ATTR_CLASSES)
def test_get_attr_computed_null_attribute_is_an_error(cls: type[Function]) -> None:
    null = GetParam("get_param", ["config", "nothing"], ATTR_ARGS / 1, "x")
    scope_with_null = StaticScope(
        parameters={"config": {"nothing": None}},
        resource_names=frozenset({"server"}),
        attributes={"server": SERVER_ATTRIBUTES},
    )
    with pytest.raises(EvaluationError) as caught:
        Resolver(scope_with_null).resolve(get_attr(cls, ["server", null]))
    assert (caught.value.code, caught.value.path, caught.value.message) == (
        "F3004",
        ATTR_ARGS / 1,
        "get_attr: the attribute name must be a string",
    )


def _usage(cls: type[Function]) -> str:
    if cls is GetAttrAllAttributes:
        return (
            "get_attr: the argument must be a list "
            "[resource_name] or [resource_name, attribute, (path), ...]"
        )
    return "get_attr: the argument must be a list [resource_name, attribute, (path), ...]"


@pytest.mark.parametrize("cls", GET_ATTR_CLASSES)
@pytest.mark.parametrize(
    ("args", "code", "path", "message"),
    [
        pytest.param(
            ["nope", "x"],
            "R4001",
            ATTR_ARGS / 0,
            "get_attr: resource 'nope' is not defined",
            id="undefined-resource",
        ),
        pytest.param(
            ["server", "bogus"],
            "R4007",
            ATTR_ARGS / 1,
            "get_attr: resource 'server' has no attribute 'bogus'",
            id="undefined-attribute",
        ),
        pytest.param("server", "F3003", ATTR_ARGS, None, id="string-argument"),
        pytest.param([], "F3003", ATTR_ARGS, None, id="empty-list"),
        pytest.param(
            [1, "x"],
            "F3003",
            ATTR_ARGS / 0,
            "get_attr: the resource name must be a string",
            id="resource-name-not-string",
        ),
        pytest.param(
            ["server", ["x"]],
            "F3003",
            ATTR_ARGS / 1,
            "get_attr: the attribute name must be a string",
            id="attribute-name-not-string",
        ),
    ],
)
def test_get_attr_errors(
    cls: type[Function], args: Any, code: str, path: TemplatePath, message: str | None
) -> None:
    assert failure(get_attr(cls, args)) == (code, path, message or _usage(cls))


@pytest.mark.parametrize(
    ("cls", "args", "expected"),
    [
        pytest.param(GetAttrThenSelect, ["server"], None, id="2013-05-23-needs-attribute"),
        pytest.param(GetAttr, ["server"], None, id="2014-10-16-needs-attribute"),
        pytest.param(GetAttrAllAttributes, ["server"], SERVER_ATTRIBUTES, id="2015-10-15-all"),
        pytest.param(
            GetAttr,
            ["server", None],
            ("F3003", ATTR_ARGS / 1, "get_attr: the attribute name must be a string"),
            id="2014-10-16-null-attribute",
        ),
        pytest.param(
            GetAttrAllAttributes,
            ["server", None],
            SERVER_ATTRIBUTES,
            id="2015-10-15-null-attribute",
        ),
    ],
)
def test_get_attr_by_version(cls: type[Function], args: Any, expected: Any) -> None:
    if expected is None:
        assert failure(get_attr(cls, args)) == ("F3003", ATTR_ARGS, _usage(cls))
    elif isinstance(expected, tuple):
        assert failure(get_attr(cls, args)) == expected
    else:
        assert evaluate(get_attr(cls, args)) == expected


@pytest.mark.parametrize("cls", GET_ATTR_CLASSES)
def test_get_attr_check(cls: type[Function]) -> None:
    assert list(get_attr(cls, ["server", "first_address", "a", 0]).check()) == []
    assert list(get_attr(cls, [get_param("which", ATTR_ARGS / 0), "x"]).check()) == []
    assert list(get_attr(cls, {"server": "x"}).check()) == [
        problem("F3003", ATTR_ARGS, _usage(cls))
    ]
    assert list(get_attr(cls, [["server"], "x"]).check()) == [
        problem("F3003", ATTR_ARGS / 0, "get_attr: the resource name must be a string")
    ]
    assert list(get_attr(cls, ["server", 5]).check()) == [
        problem("F3003", ATTR_ARGS / 1, "get_attr: the attribute name must be a string")
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["server", "networks", "private", 0],
            [Reference("attribute", "server", ATTR_ARGS / 0, "networks", "private")],
            id="literal-attribute",
        ),
        pytest.param(
            ["server"], [Reference("attribute", "server", ATTR_ARGS / 0, None)], id="all-attributes"
        ),
        pytest.param(
            ["server", get_param("which", ATTR_ARGS / 1)],
            [Reference("attribute", "server", ATTR_ARGS / 0, None)],
            id="computed-attribute",
        ),
        pytest.param([get_param("which", ATTR_ARGS / 0), "x"], [], id="computed-resource"),
        pytest.param("server", [], id="malformed"),
    ],
)
def test_get_attr_references(args: Any, expected: list[Reference]) -> None:
    assert list(get_attr(GetAttrAllAttributes, args).references()) == expected


# --- get_file -----------------------------------------------------------------

FILE_ARGS = PATH / "get_file"


def get_file(args: Any) -> GetFile:
    return GetFile("get_file", args, PATH, "2013-05-23")


def test_get_file() -> None:
    assert evaluate(get_file("setup.sh")) == "#!/bin/sh\necho hi\n"
    assert failure(get_file("missing.sh")) == (
        "F3006",
        FILE_ARGS,
        "get_file: 'missing.sh' is not in the files map",
    )
    assert failure(get_file(["setup.sh"])) == (
        "F3003",
        FILE_ARGS,
        "get_file: the argument must be a file key (a string)",
    )
    assert list(get_file(5).check()) == [
        problem("F3003", FILE_ARGS, "get_file: the argument must be a file key (a string)")
    ]
    assert list(get_file("setup.sh").check()) == []
    assert list(get_file("setup.sh").references()) == [Reference("file", "setup.sh", FILE_ARGS)]
    assert list(get_file(get_param("which", FILE_ARGS)).references()) == []


# --- resource_facade ----------------------------------------------------------

FACADE_ARGS = PATH / "resource_facade"
FACADE_USAGE = (
    "resource_facade: the argument must be one of metadata, deletion_policy, update_policy"
)


def resource_facade(args: Any) -> ResourceFacade:
    return ResourceFacade("resource_facade", args, PATH, "2013-05-23")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        pytest.param("metadata", {"role": "db"}, id="metadata"),
        pytest.param("deletion_policy", "Retain", id="deletion-policy"),
        pytest.param("update_policy", {}, id="update-policy"),
    ],
)
def test_resource_facade_values(section: str, expected: Any) -> None:
    assert evaluate(resource_facade(section)) == expected


@pytest.mark.parametrize(
    "args",
    [
        pytest.param("Metadata", id="wrong-case"),
        pytest.param("properties", id="other-section"),
        pytest.param(get_param("which", FACADE_ARGS), id="computed-section"),
    ],
)
def test_resource_facade_bad_arguments(args: Any) -> None:
    assert list(resource_facade(args).check()) == [problem("F3003", FACADE_ARGS, FACADE_USAGE)]
    assert failure(resource_facade(args)) == ("F3003", FACADE_ARGS, FACADE_USAGE)


def test_resource_facade_outside_a_nested_stack() -> None:
    call = resource_facade("metadata")
    with pytest.raises(EvaluationError) as caught:
        Resolver(StaticScope()).resolve(call)
    assert (caught.value.code, caught.value.path, caught.value.message) == (
        "F3004",
        FACADE_ARGS,
        "resource_facade: there is no parent resource to read 'metadata' from; "
        "resource_facade only works in a template used as a nested stack",
    )
    assert list(call.check()) == []
