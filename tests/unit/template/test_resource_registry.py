"""The resource registry against Heat's environment semantics (heat/engine/environment.py)."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.template.resource_registry import (
    HOOK_TYPES,
    ResolvedType,
    ResourceRegistry,
    parse_resource_registry,
)

HOOKS = ", ".join(HOOK_TYPES)
ERROR = Severity.ERROR
WARNING = Severity.WARNING


def at(*segments: str | int) -> TemplatePath:
    return TemplatePath(("resource_registry", *segments))


def registry(data: dict[str, Any]) -> ResourceRegistry:
    built, diagnostics = parse_resource_registry(data)
    assert [d for d in diagnostics if d.severity is ERROR] == []
    return built


def merged(*documents: dict[str, Any]) -> ResourceRegistry:
    result = ResourceRegistry()
    for document in documents:
        result = result.merged_with(registry(document))
    return result


# ---------------------------------------------------------------------------
# Parsing


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {
                "OS::Networking::FloatingIP": "OS::Nova::FloatingIP",
                "OS::Quantum*": "OS::Neutron*",
                "AWS::EC2::Instance": "file:///home/mine/my_instance.yaml",
                "base_url": "http://example.com/templates/",
                "resources": {
                    "my_server": {
                        "OS::DBInstance": "db.yaml",
                        "hooks": "pre-create",
                        "restricted_actions": ["update", "replace"],
                    },
                    "nested_stack": {"nested_resource": {"hooks": ["pre-update"]}},
                },
            },
            [],
            id="valid-document",
        ),
        pytest.param(
            ["OS::A"],
            [Diagnostic("E7004", "resource_registry must be a mapping", at(), ERROR)],
            id="not-a-mapping",
        ),
        pytest.param(
            {"OS::A": 5},
            [
                Diagnostic(
                    "E7101",
                    'the mapping for "OS::A" must be a resource type name or a template location',
                    at("OS::A"),
                    ERROR,
                )
            ],
            id="number-target",
        ),
        pytest.param(
            {"resources": {"web": {"OS::A": ["OS::B"]}}},
            [
                Diagnostic(
                    "E7101",
                    'the mapping for "OS::A" must be a resource type name or a template location',
                    at("resources", "web", "OS::A"),
                    ERROR,
                )
            ],
            id="list-target-in-resource-block",
        ),
        pytest.param(
            {1: "OS::A"},
            [Diagnostic("E7005", "resource type names must be strings", at("1"), ERROR)],
            id="non-string-type-name",
        ),
        pytest.param(
            {"resources": "web"},
            [
                Diagnostic(
                    "E7102",
                    "resources must map resource names (or name patterns) to blocks",
                    at("resources"),
                    ERROR,
                )
            ],
            id="resources-not-a-mapping",
        ),
        pytest.param(
            {"resources": {"web": "OS::Nova::Server"}},
            [
                Diagnostic(
                    "E7102",
                    'the block for resource "web" must be a mapping',
                    at("resources", "web"),
                    ERROR,
                )
            ],
            id="resource-block-not-a-mapping",
        ),
        pytest.param(
            {"resources": {"web": {"hooks": {"pre-create": True}}}},
            [
                Diagnostic(
                    "E7103",
                    "hooks must be a hook name or a list of them",
                    at("resources", "web", "hooks"),
                    ERROR,
                )
            ],
            id="hooks-a-mapping",
        ),
        pytest.param(
            {"resources": {"web": {"hooks": "pre-destroy"}}},
            [
                Diagnostic(
                    "E7104",
                    f'"pre-destroy" is not a hook; expected one of: {HOOKS}',
                    at("resources", "web", "hooks"),
                    ERROR,
                )
            ],
            id="unknown-hook-string",
        ),
        pytest.param(
            {"resources": {"my_server": {"hooks": ["pre-create", "pre-build", 3]}}},
            [
                Diagnostic(
                    "E7104",
                    f'"pre-build" is not a hook; expected one of: {HOOKS}',
                    at("resources", "my_server", "hooks", 1),
                    ERROR,
                ),
                Diagnostic(
                    "E7104",
                    f"a non-string value is not a hook; expected one of: {HOOKS}",
                    at("resources", "my_server", "hooks", 2),
                    ERROR,
                ),
            ],
            id="unknown-hooks-in-list",
        ),
        pytest.param(
            {"resources": {"nested": {"inner": {"hooks": ["post-crate"]}}}},
            [
                Diagnostic(
                    "E7104",
                    f'"post-crate" is not a hook; expected one of: {HOOKS}',
                    at("resources", "nested", "inner", "hooks", 0),
                    ERROR,
                )
            ],
            id="unknown-hook-in-nested-block",
        ),
        pytest.param(
            {"resources": {"db": {"restricted_actions": 7}}},
            [
                Diagnostic(
                    "E7105",
                    "restricted_actions must be a restricted action name or a list of them",
                    at("resources", "db", "restricted_actions"),
                    ERROR,
                )
            ],
            id="restricted-actions-a-number",
        ),
        pytest.param(
            {"resources": {"db": {"restricted_actions": ["update", "delete"]}}},
            [
                Diagnostic(
                    "E7106",
                    '"delete" is not a restricted action; expected one of: update, replace',
                    at("resources", "db", "restricted_actions", 1),
                    ERROR,
                )
            ],
            id="unknown-restricted-action",
        ),
        pytest.param(
            {"base_url": 8080},
            [Diagnostic("E7107", "base_url must be a string", at("base_url"), ERROR)],
            id="base-url-not-a-string",
        ),
        pytest.param(
            {"hooks": "pre-create"},
            [
                Diagnostic(
                    "E7112",
                    "hooks only take effect under resource_registry.resources.<resource name>",
                    at("hooks"),
                    WARNING,
                )
            ],
            id="top-level-hooks",
        ),
        pytest.param(
            {"my_server": {"OS::Nova::Server": "server.yaml"}},
            [
                Diagnostic(
                    "E7112",
                    'a map under "my_server" has no effect; only "resources" may hold one',
                    at("my_server"),
                    WARNING,
                )
            ],
            id="top-level-map-outside-resources",
        ),
        pytest.param(
            {"OS::Nova::*": "servers.yaml"},
            [
                Diagnostic(
                    "E7108",
                    'wildcard "OS::Nova::*" cannot map to a template; it only matches that '
                    "literal name",
                    at("OS::Nova::*"),
                    WARNING,
                )
            ],
            id="wildcard-to-template",
        ),
        pytest.param(
            {"resources": {"web": {"OS::Nova::*": "My::*"}}},
            [
                Diagnostic(
                    "E7108",
                    'wildcard "OS::Nova::*" only works at the top level; here it matches that '
                    "literal name",
                    at("resources", "web", "OS::Nova::*"),
                    WARNING,
                )
            ],
            id="wildcard-in-resource-block",
        ),
        pytest.param(
            {"OS::Nova::Server": "templates/server.yml"},
            [
                Diagnostic(
                    "E7109",
                    '"templates/server.yml" is used as a resource type name: only locations '
                    "ending in .yaml or .template are provider templates",
                    at("OS::Nova::Server"),
                    WARNING,
                )
            ],
            id="yml-location-is-not-a-template",
        ),
        pytest.param(
            {"OS::Nova::Server": "server.json"},
            [
                Diagnostic(
                    "E7109",
                    '"server.json" is used as a resource type name: only locations '
                    "ending in .yaml or .template are provider templates",
                    at("OS::Nova::Server"),
                    WARNING,
                )
            ],
            id="json-location-is-not-a-template",
        ),
    ],
)
def test_parse_diagnostics(data: Any, expected: list[Diagnostic]) -> None:
    _, diagnostics = parse_resource_registry(data)
    assert diagnostics == expected


def test_parse_prefixes_the_given_path() -> None:
    _, diagnostics = parse_resource_registry(
        {"OS::A": 1}, TemplatePath(("environment", "resource_registry"))
    )
    assert diagnostics == [
        Diagnostic(
            "E7101",
            'the mapping for "OS::A" must be a resource type name or a template location',
            TemplatePath(("environment", "resource_registry", "OS::A")),
            ERROR,
        )
    ]


def test_entries_with_errors_are_left_out_and_the_rest_apply() -> None:
    built, _ = parse_resource_registry(
        {
            "OS::Bad": 3,
            "OS::Good": "OS::Heat::None",
            "resources": {"web": {"hooks": ["pre-create", "nonsense"], "OS::X": 1}},
        }
    )
    assert built.to_dict() == {
        "OS::Good": "OS::Heat::None",
        "resources": {"web": {"hooks": ["pre-create"]}},
    }


def test_to_dict_round_trips() -> None:
    data = {
        "OS::Networking::*": "OS::Neutron::*",
        "My::Server": "server.yaml",
        "base_url": "http://example.com/t/",
        "resources": {
            "web": {"OS::Nova::Server": "web.yaml", "hooks": ["pre-create", "post-delete"]},
            "db_*": {"restricted_actions": ["replace"]},
            "nested": {"inner": {"hooks": ["pre-update"], "OS::A": "OS::B"}},
        },
    }
    assert registry(data).to_dict() == data
    assert registry(registry(data).to_dict()).to_dict() == data


# ---------------------------------------------------------------------------
# Resolution

GLOBAL_ENVIRONMENT = {
    "OS::Quantum*": "OS::Neutron*",
    "AWS::CloudWatch::Alarm": "OS::Heat::CWLiteAlarm",
}


@pytest.mark.parametrize(
    ("user", "type_name", "resource_name", "expected"),
    [
        pytest.param(
            {},
            "OS::Nova::Server",
            "web",
            ResolvedType("OS::Nova::Server", None, ("OS::Nova::Server",)),
            id="unmapped-type-is-itself",
        ),
        pytest.param(
            {"OS::Networking::FloatingIP": "OS::Nova::FloatingIP"},
            "OS::Networking::FloatingIP",
            "my_fip",
            ResolvedType(
                "OS::Nova::FloatingIP",
                None,
                ("OS::Networking::FloatingIP", "OS::Nova::FloatingIP"),
            ),
            id="alias",
        ),
        pytest.param(
            {"My::A": "My::B", "My::B": "My::C"},
            "My::A",
            None,
            ResolvedType("My::C", None, ("My::A", "My::B", "My::C")),
            id="alias-chain",
        ),
        pytest.param(
            {"OS::Networking::*": "OS::Neutron::*"},
            "OS::Networking::Net",
            None,
            ResolvedType("OS::Neutron::Net", None, ("OS::Networking::Net", "OS::Neutron::Net")),
            id="wildcard-rename",
        ),
        pytest.param(
            {"OS::Quantum*": "OS::Neutron*"},
            "OS::Quantum::Port",
            None,
            ResolvedType("OS::Neutron::Port", None, ("OS::Quantum::Port", "OS::Neutron::Port")),
            id="wildcard-prefix-without-separator",
        ),
        pytest.param(
            {"OS::Nova::*": "OS::Heat::None"},
            "OS::Nova::Server",
            "my_db_server",
            ResolvedType("OS::Heat::None", None, ("OS::Nova::Server", "OS::Heat::None")),
            id="wildcard-many-to-one",
        ),
        pytest.param(
            {"OS::*": "OS::Heat::None"},
            "OS::Some::Name",
            None,
            ResolvedType("OS::Heat::None", None, ("OS::Some::Name", "OS::Heat::None")),
            id="wildcard-many-to-one-does-not-map-its-target",
        ),
        pytest.param(
            {"OS::*": "OS::Heat::None"},
            "OS::Heat::None",
            None,
            ResolvedType("OS::Heat::None", None, ("OS::Heat::None",)),
            id="wildcard-target-itself-is-not-remapped",
        ),
        pytest.param(
            {"OS::Nova::Server": "X::Exact", "OS::Nova::*": "X::*"},
            "OS::Nova::Server",
            None,
            ResolvedType("X::Server", None, ("OS::Nova::Server", "X::Server")),
            id="entries-compare-by-key-so-the-wildcard-comes-first",
        ),
        pytest.param(
            {"OS::DBInstance": "db.yaml"},
            "OS::DBInstance",
            None,
            ResolvedType("OS::DBInstance", "db.yaml", ("OS::DBInstance",), ("OS::DBInstance",)),
            id="provider-template",
        ),
        pytest.param(
            {"AWS::EC2::Instance": "file:///home/mine/instance.template"},
            "AWS::EC2::Instance",
            None,
            ResolvedType(
                "AWS::EC2::Instance",
                "file:///home/mine/instance.template",
                ("AWS::EC2::Instance",),
                ("AWS::EC2::Instance",),
            ),
            id="provider-template-dot-template-url",
        ),
        pytest.param(
            {"My::Alias": "My::Server", "My::Server": "http://example.com/server.yaml"},
            "My::Alias",
            None,
            ResolvedType(
                "My::Server",
                "http://example.com/server.yaml",
                ("My::Alias", "My::Server"),
                ("My::Server",),
            ),
            id="alias-then-provider-template",
        ),
        pytest.param(
            {},
            "nested/app.yaml",
            "app",
            ResolvedType(
                "nested/app.yaml", "nested/app.yaml", ("nested/app.yaml",), ("nested/app.yaml",)
            ),
            id="type-that-is-a-template",
        ),
        pytest.param(
            {"OS::Nova::Server": "server.yml"},
            "OS::Nova::Server",
            None,
            ResolvedType("server.yml", None, ("OS::Nova::Server", "server.yml")),
            id="yml-is-a-type-name-not-a-template",
        ),
        pytest.param(
            {"resources": {"my_db_server": {"OS::DBInstance": "db.yaml"}}},
            "OS::DBInstance",
            "my_db_server",
            ResolvedType(
                "OS::DBInstance",
                "db.yaml",
                ("OS::DBInstance",),
                ("resources", "my_db_server", "OS::DBInstance"),
            ),
            id="per-resource-template",
        ),
        pytest.param(
            {"resources": {"my_db_server": {"OS::DBInstance": "db.yaml"}}},
            "OS::DBInstance",
            "other_server",
            ResolvedType("OS::DBInstance", None, ("OS::DBInstance",)),
            id="per-resource-template-other-resource",
        ),
        pytest.param(
            {
                "resources": {"my_fip": {"OS::Networking::FloatingIP": "ip.yaml"}},
                "OS::Networking::FloatingIP": "OS::Nova::FloatingIP",
            },
            "OS::Networking::FloatingIP",
            "my_fip",
            ResolvedType(
                "OS::Networking::FloatingIP",
                "ip.yaml",
                ("OS::Networking::FloatingIP",),
                ("resources", "my_fip", "OS::Networking::FloatingIP"),
            ),
            id="per-resource-beats-top-level",
        ),
        pytest.param(
            {"resources": {"web*": {"OS::Nova::Server": "web.yaml"}}},
            "OS::Nova::Server",
            "web1",
            ResolvedType("OS::Nova::Server", None, ("OS::Nova::Server",)),
            id="type-overrides-need-the-exact-resource-name",
        ),
        pytest.param(
            {"resources": {"web": {"OS::Nova::Server": "My::Server"}}, "My::Server": "my.yaml"},
            "OS::Nova::Server",
            "web",
            ResolvedType(
                "My::Server", "my.yaml", ("OS::Nova::Server", "My::Server"), ("My::Server",)
            ),
            id="per-resource-alias-continues-at-top-level",
        ),
        pytest.param(
            {"base_url": "http://example.com/t/", "My::App": "app.yaml"},
            "My::App",
            None,
            ResolvedType(
                "My::App", "app.yaml", ("My::App",), ("My::App",), "http://example.com/t/"
            ),
            id="base-url",
        ),
        pytest.param(
            {
                "base_url": "http://example.com/t/",
                "resources": {"db": {"base_url": "http://db.example.com/", "My::Db": "db.yaml"}},
            },
            "My::Db",
            "db",
            ResolvedType(
                "My::Db",
                "db.yaml",
                ("My::Db",),
                ("resources", "db", "My::Db"),
                "http://db.example.com/",
            ),
            id="per-resource-base-url",
        ),
    ],
)
def test_resolve(
    user: dict[str, Any], type_name: str, resource_name: str | None, expected: ResolvedType
) -> None:
    assert registry(user).resolve(type_name, resource_name) == (expected, [])


@pytest.mark.parametrize(
    ("user", "type_name", "expected"),
    [
        pytest.param(
            {},
            "AWS::CloudWatch::Alarm",
            ResolvedType(
                "OS::Heat::CWLiteAlarm", None, ("AWS::CloudWatch::Alarm", "OS::Heat::CWLiteAlarm")
            ),
            id="global-alias",
        ),
        pytest.param(
            {},
            "OS::Quantum::Net",
            ResolvedType("OS::Neutron::Net", None, ("OS::Quantum::Net", "OS::Neutron::Net")),
            id="global-wildcard",
        ),
        pytest.param(
            {"AWS::CloudWatch::Alarm": "alarm.yaml"},
            "AWS::CloudWatch::Alarm",
            ResolvedType(
                "AWS::CloudWatch::Alarm",
                "alarm.yaml",
                ("AWS::CloudWatch::Alarm",),
                ("AWS::CloudWatch::Alarm",),
            ),
            id="user-beats-global",
        ),
        pytest.param(
            {"OS::Heat::CWLiteAlarm": "My::Alarm"},
            "AWS::CloudWatch::Alarm",
            ResolvedType(
                "OS::Heat::CWLiteAlarm", None, ("AWS::CloudWatch::Alarm", "OS::Heat::CWLiteAlarm")
            ),
            id="global-alias-resolves-inside-the-global-registry",
        ),
        pytest.param(
            {"OS::Heat::CWLiteAlarm": "My::Alarm"},
            "OS::Heat::CWLiteAlarm",
            ResolvedType("My::Alarm", None, ("OS::Heat::CWLiteAlarm", "My::Alarm")),
            id="user-alias-still-applies-when-asked-directly",
        ),
    ],
)
def test_resolve_with_global_registry(
    user: dict[str, Any], type_name: str, expected: ResolvedType
) -> None:
    layered = registry(user).with_global(registry(GLOBAL_ENVIRONMENT))
    assert layered.resolve(type_name) == (expected, [])


def test_global_provider_template_has_no_user_entry() -> None:
    layered = ResourceRegistry().with_global(
        registry({"AWS::CloudWatch::Alarm": "file:///etc/alarm.yaml"})
    )
    assert layered.resolve("AWS::CloudWatch::Alarm") == (
        ResolvedType(
            "AWS::CloudWatch::Alarm", "file:///etc/alarm.yaml", ("AWS::CloudWatch::Alarm",)
        ),
        [],
    )


@pytest.mark.parametrize(
    ("user", "type_name", "known", "expected"),
    [
        pytest.param(
            {"OS::Nova::Server": "My::Server"},
            "OS::Nova::Server",
            {"OS::Nova::Server"},
            ResolvedType("OS::Nova::Server", None, ("OS::Nova::Server",)),
            id="mapping-to-unknown-type-falls-back-to-the-plugin",
        ),
        pytest.param(
            {"OS::Nova::Server": "My::Server"},
            "OS::Nova::Server",
            {"OS::Nova::Server", "My::Server"},
            ResolvedType("My::Server", None, ("OS::Nova::Server", "My::Server")),
            id="mapping-to-known-type",
        ),
        pytest.param(
            {"OS::Nova::Server": "X::Exact", "OS::Nova::*": "X::*"},
            "OS::Nova::Server",
            {"X::Exact"},
            ResolvedType("X::Exact", None, ("OS::Nova::Server", "X::Exact")),
            id="wildcard-to-unknown-falls-back-to-exact-entry",
        ),
        pytest.param(
            {"OS::Nova::Server": "X::Exact", "OS::Nova::*": "X::*"},
            "OS::Nova::Server",
            {"X::Server", "X::Exact"},
            ResolvedType("X::Server", None, ("OS::Nova::Server", "X::Server")),
            id="wildcard-first-when-known",
        ),
        pytest.param(
            {"My::A": "My::B"},
            "My::A",
            set(),
            ResolvedType("My::B", None, ("My::A", "My::B")),
            id="nothing-known-gives-the-plain-chain",
        ),
        pytest.param(
            {"My::A": "a.yaml"},
            "My::A",
            set(),
            ResolvedType("My::A", "a.yaml", ("My::A",), ("My::A",)),
            id="templates-need-no-plugin",
        ),
    ],
)
def test_resolve_with_known_types(
    user: dict[str, Any], type_name: str, known: set[str], expected: ResolvedType
) -> None:
    assert registry(user).resolve(type_name, is_known=known.__contains__) == (expected, [])


@pytest.mark.parametrize(
    ("user", "type_name", "resource_name", "code", "message"),
    [
        pytest.param(
            {"My::A": "My::B", "My::B": "My::A"},
            "My::A",
            None,
            "E7110",
            "resource type alias cycle: My::A -> My::B -> My::A",
            id="two-step-cycle",
        ),
        pytest.param(
            {"My::A": "My::A"},
            "My::A",
            None,
            "E7110",
            "resource type alias cycle: My::A -> My::A",
            id="self-alias",
        ),
        pytest.param(
            {"My::A": "My::B", "My::B": "My::C", "My::C": "My::B"},
            "My::A",
            None,
            "E7110",
            "resource type alias cycle: My::B -> My::C -> My::B",
            id="cycle-after-a-prefix",
        ),
        pytest.param(
            {"resources": {"web": {"My::A": "My::B"}}, "My::B": "My::A"},
            "My::A",
            "web",
            "E7110",
            "resource type alias cycle: My::A -> My::B -> My::A",
            id="cycle-through-a-resource-override",
        ),
        pytest.param(
            {"OS::*": "OS::X::*"},
            "OS::Nova::Server",
            None,
            "E7111",
            'resource type "OS::Nova::Server" maps through too many aliases '
            "(more than 50 in a row or 1000 in all)",
            id="wildcard-that-grows-forever",
        ),
    ],
)
def test_resolve_problems(
    user: dict[str, Any], type_name: str, resource_name: str | None, code: str, message: str
) -> None:
    assert registry(user).resolve(type_name, resource_name) == (
        ResolvedType(type_name, None, (type_name,)),
        [Diagnostic(code, message)],
    )


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param({"My::A": "My::B", "My::C": "c.yaml"}, [], id="no-problems"),
        pytest.param(
            {"My::A": "My::B", "My::B": "My::A"},
            [
                Diagnostic(
                    "E7110", "resource type alias cycle: My::A -> My::B -> My::A", at("My::A")
                )
            ],
            id="cycle-reported-once",
        ),
        pytest.param(
            {"resources": {"web": {"My::A": "My::B"}}, "My::B": "My::C", "My::C": "My::B"},
            [
                Diagnostic(
                    "E7110", "resource type alias cycle: My::B -> My::C -> My::B", at("My::B")
                )
            ],
            id="cycle-found-from-top-level-first",
        ),
        pytest.param(
            {"resources": {"web": {"My::A": "My::A"}}},
            [
                Diagnostic(
                    "E7110",
                    "resource type alias cycle: My::A -> My::A",
                    at("resources", "web", "My::A"),
                )
            ],
            id="cycle-in-resource-block",
        ),
        pytest.param(
            {"OS::Neutron*": "OS::Quantum*", "OS::Quantum*": "OS::Neutron*"},
            [
                Diagnostic(
                    "E7110",
                    "resource type alias cycle: OS::Neutron -> OS::Quantum -> OS::Neutron",
                    at("OS::Neutron*"),
                )
            ],
            id="wildcard-cycle",
        ),
        pytest.param(
            {"OS::*": "OS::X::*"},
            [
                Diagnostic(
                    "E7111",
                    'resource type "OS::" maps through too many aliases '
                    "(more than 50 in a row or 1000 in all)",
                    at("OS::*"),
                )
            ],
            id="wildcard-that-grows-forever",
        ),
    ],
)
def test_validate(user: dict[str, Any], expected: list[Diagnostic]) -> None:
    assert registry(user).validate() == expected


# ---------------------------------------------------------------------------
# Merging and removal


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        pytest.param(
            [{"My::A": "a.yaml"}, {"My::A": "b.yaml", "My::B": "OS::Heat::None"}],
            {"My::A": "b.yaml", "My::B": "OS::Heat::None"},
            id="later-wins",
        ),
        pytest.param(
            [{"My::A": "a.yaml", "My::B": "b.yaml"}, {"My::A": None}],
            {"My::B": "b.yaml"},
            id="null-removes-an-earlier-mapping",
        ),
        pytest.param(
            [
                {
                    "AWS::EC2::Instance": "i.yaml",
                    "AWS::S3::*": "X::*",
                    "OS::Nova::Server": "s.yaml",
                },
                {"AWS::*": None},
            ],
            {"OS::Nova::Server": "s.yaml"},
            id="wildcard-null-removes-a-family",
        ),
        pytest.param(
            [{"My::A": "a.yaml"}, {"My::*": None, "My::B": "b.yaml"}],
            {"My::B": "b.yaml"},
            id="null-affects-only-what-came-before-it",
        ),
        pytest.param(
            [{"My::A": "a.yaml"}, {"My::B": "b.yaml", "My::*": None}],
            {},
            id="null-after-a-mapping-in-the-same-document",
        ),
        pytest.param(
            [{"My::A": "a.yaml"}, {"My::Other": None}],
            {"My::A": "a.yaml"},
            id="null-for-a-missing-entry",
        ),
        pytest.param(
            [
                {"resources": {"web": {"hooks": "pre-create"}, "db": {"hooks": "pre-delete"}}},
                {"resources": {"web": None}},
            ],
            {"resources": {"db": {"hooks": ["pre-delete"]}}},
            id="null-removes-a-resource-block",
        ),
        pytest.param(
            [
                {"resources": {"web": {"hooks": "pre-create", "OS::Nova::Server": "s.yaml"}}},
                {"resources": {"web": {"hooks": None}}},
            ],
            {"resources": {"web": {"OS::Nova::Server": "s.yaml"}}},
            id="null-removes-hooks",
        ),
        pytest.param(
            [
                {"resources": {"web": {"hooks": "pre-create"}}, "My::A": "a.yaml"},
                {"resources": None},
            ],
            {"My::A": "a.yaml"},
            id="null-resources-removes-every-block",
        ),
        pytest.param(
            [{"resources": {"web": {"hooks": "pre-create"}}}, {"resources": {"w*": None}}],
            {"resources": {"web": {"hooks": ["pre-create"]}}},
            id="wildcard-null-keeps-resource-blocks",
        ),
        pytest.param(
            [
                {"resources": {"web": {"hooks": "pre-create"}}},
                {"resources": {"web": {"OS::Nova::Server": "s.yaml"}}},
            ],
            {"resources": {"web": {"OS::Nova::Server": "s.yaml", "hooks": ["pre-create"]}}},
            id="resource-blocks-merge-entry-by-entry",
        ),
        pytest.param(
            [
                {"resources": {"nested": {"inner": {"hooks": "pre-create"}, "My::A": "a.yaml"}}},
                {"resources": {"nested": {"inner": "My::Inner"}}},
            ],
            {"resources": {"nested": {"My::A": "a.yaml", "inner": "My::Inner"}}},
            id="nested-block-replaced-by-a-mapping-of-the-same-name",
        ),
        pytest.param(
            [{"base_url": "http://a/"}, {"base_url": None}],
            {},
            id="null-removes-base-url",
        ),
    ],
)
def test_merge(documents: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert merged(*documents).to_dict() == expected


def test_merge_is_associative() -> None:
    first = registry({"My::A": "a.yaml", "resources": {"web": {"hooks": "pre-create"}}})
    second = registry({"My::*": None, "My::B": "b.yaml", "resources": {"web": {"hooks": None}}})
    third = registry({"My::A": "c.yaml", "My::B": None})
    left = first.merged_with(second).merged_with(third)
    right = first.merged_with(second.merged_with(third))
    assert left.to_dict() == right.to_dict() == {"My::A": "c.yaml"}


def test_merge_keeps_the_global_registry() -> None:
    global_registry = registry(GLOBAL_ENVIRONMENT)
    combined = registry({}).with_global(global_registry).merged_with(registry({"My::A": "a.yaml"}))
    assert combined.fallback is global_registry


def test_sets_entry() -> None:
    built = registry({"My::A": "a.yaml", "resources": {"web": {"My::B": "OS::Heat::None"}}})
    assert [
        built.sets_entry(("My::A",)),
        built.sets_entry(("resources", "web", "My::B")),
        built.sets_entry(("My::B",)),
    ] == [True, True, False]


# ---------------------------------------------------------------------------
# Hooks and restricted actions

HOOK_REGISTRY = {
    "resources": {
        "app_server": {"hooks": "pre-create"},
        "*_server": {"hooks": ["pre-update", "post-create"]},
        "db?": {"hooks": ["pre-delete"]},
        "web": {"hooks": [], "OS::Nova::Server": "web.yaml"},
        "lb_*": {"restricted_actions": "replace"},
        "lb_main": {"restricted_actions": ["update"]},
    }
}


@pytest.mark.parametrize(
    ("resource_name", "expected"),
    [
        pytest.param(
            "app_server",
            frozenset({"pre-create", "pre-update", "post-create"}),
            id="exact-and-glob",
        ),
        pytest.param("database_server", frozenset({"pre-update", "post-create"}), id="suffix-glob"),
        pytest.param("server", frozenset(), id="glob-needs-the-underscore"),
        pytest.param("app_network", frozenset(), id="no-match"),
        pytest.param("db1", frozenset({"pre-delete"}), id="question-mark"),
        pytest.param("db12", frozenset(), id="question-mark-is-one-character"),
        pytest.param("web", frozenset(), id="empty-hook-list"),
        pytest.param("App_server", frozenset({"pre-update", "post-create"}), id="case-sensitive"),
    ],
)
def test_hooks_for(resource_name: str, expected: frozenset[str]) -> None:
    assert registry(HOOK_REGISTRY).hooks_for(resource_name) == expected


@pytest.mark.parametrize(
    ("resource_name", "expected"),
    [
        pytest.param("lb_main", frozenset({"update", "replace"}), id="exact-and-glob"),
        pytest.param("lb_backup", frozenset({"replace"}), id="glob"),
        pytest.param("app_server", frozenset(), id="none"),
    ],
)
def test_restricted_actions_for(resource_name: str, expected: frozenset[str]) -> None:
    assert registry(HOOK_REGISTRY).restricted_actions_for(resource_name) == expected


# ---------------------------------------------------------------------------
# Nested stacks

NESTED_REGISTRY = {
    "OS::Food": "fruity.yaml",
    "resources": {
        "a": {"OS::Fruit": "apples.yaml", "hooks": "pre-create"},
        "nested": {
            "b": {"OS::Fruit": "carrots.yaml"},
            "nested_res": {"hooks": "pre-create"},
            "c": {"hooks": "pre-update"},
            "OS::Fruit": "nested_fruit.yaml",
        },
        "nest*": {"c": {"hooks": "post-create"}, "from_glob": {"hooks": "pre-delete"}},
        "*_doesnt_match": {"never": {"hooks": "pre-create"}},
    },
}


def test_for_nested_drills_down_to_the_child_blocks() -> None:
    child = registry(NESTED_REGISTRY).for_nested("nested")
    assert child.to_dict() == {
        "OS::Food": "fruity.yaml",
        "resources": {
            "c": {"hooks": ["pre-update"]},
            "from_glob": {"hooks": ["pre-delete"]},
            "b": {"OS::Fruit": "carrots.yaml"},
            "nested_res": {"hooks": ["pre-create"]},
        },
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param(("hooks", "nested_res"), frozenset({"pre-create"}), id="child-hook"),
        pytest.param(("hooks", "c"), frozenset({"pre-update"}), id="exact-block-wins-over-glob"),
        pytest.param(("hooks", "from_glob"), frozenset({"pre-delete"}), id="glob-block-children"),
        pytest.param(("hooks", "never"), frozenset(), id="non-matching-glob"),
        pytest.param(("hooks", "a"), frozenset(), id="sibling-blocks-dropped"),
        pytest.param(
            ("resolve", "b"),
            ResolvedType(
                "OS::Fruit", "carrots.yaml", ("OS::Fruit",), ("resources", "b", "OS::Fruit")
            ),
            id="child-override",
        ),
        pytest.param(
            ("resolve", "a"),
            ResolvedType("OS::Fruit", None, ("OS::Fruit",)),
            id="parent-level-override-dropped",
        ),
    ],
)
def test_for_nested_answers(question: tuple[str, str], expected: Any) -> None:
    child = registry(NESTED_REGISTRY).for_nested("nested")
    kind, name = question
    if kind == "hooks":
        assert child.hooks_for(name) == expected
    else:
        assert child.resolve("OS::Fruit", name) == (expected, [])


def test_for_nested_without_the_provider_mapping() -> None:
    parent = registry({"OS::Nova::Server": "server.yaml", "My::Other": "other.yaml"})
    resolved, _ = parent.resolve("OS::Nova::Server", "web")
    child = parent.for_nested("web", without=resolved.entry)
    assert (child.resolve("OS::Nova::Server"), parent.resolve("OS::Nova::Server")[0].template) == (
        (ResolvedType("OS::Nova::Server", None, ("OS::Nova::Server",)), []),
        "server.yaml",
    )
    assert child.to_dict() == {"My::Other": "other.yaml"}


def test_for_nested_without_a_per_resource_mapping() -> None:
    parent = registry({"OS::Food": "fruity.yaml", "resources": {"abc": {"OS::Food": "nutty.yaml"}}})
    resolved, _ = parent.resolve("OS::Food", "abc")
    child = parent.for_nested("abc", without=resolved.entry)
    assert (resolved.entry, child.resolve("OS::Food", "abc")[0].template) == (
        ("resources", "abc", "OS::Food"),
        "fruity.yaml",
    )
