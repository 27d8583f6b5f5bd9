"""CloudFormation's less common functions (Fn::GetAZs, Fn::Cidr, Fn::Replace...) vs AWS and Heat."""

from __future__ import annotations

from typing import Any

import pytest
from function_support import CFN_PATH, Evaluator, Expectation, diagnostic, expect

from kiln.config import TemplateLimits
from kiln.errors import EvaluationError
from kiln.template.functions.base import Function, Resolver, Unknown
from kiln.template.functions.cfn_core import FindInMap, GetAtt, Ref, Sub
from kiln.template.functions.cfn_extras import (
    Cidr,
    GetAZs,
    ImportValue,
    Length,
    MemberListToMap,
    Replace,
    ResourceFacade,
    ToJsonString,
)
from kiln.template.scope import StaticScope

CFN = "2010-09-09"
HOT = "2013-05-23"
PATH = CFN_PATH

PARAMETERS: dict[str, Any] = {
    "Env": "prod",
    "Subnets": ["subnet-1", "subnet-2"],
    "VpcCidr": "10.0.0.0/16",
    "Later": Unknown("parameter Later"),
}


CALLS = Evaluator(
    {
        "parameters": PARAMETERS,
        "resource_names": frozenset({"Pending"}),
        "mappings": {"Params": {"all": {"set": {"$secret": ["x"]}}}},
        "pseudo_parameters": {"AWS::Region": "eu-west-1"},
        "exports": {"SharedVpc": "vpc-1"},
        "zones": {"": ["eu-west-1a", "eu-west-1b"], "us-east-1": ["us-east-1a"]},
        "facade": {"metadata": {"role": "db"}, "deletion_policy": "Retain", "update_policy": {}},
    }
)
evaluate = CALLS.evaluate
failure = CALLS.failure


def ref(name: Any) -> Ref:
    return Ref("Ref", name, PATH, CFN)


def get_att(args: Any) -> GetAtt:
    return GetAtt("Fn::GetAtt", args, PATH, CFN)


def find_in_map(args: Any) -> FindInMap:
    return FindInMap("Fn::FindInMap", args, PATH, CFN)


GET_AZS = expect("Fn::GetAZs")
IMPORT_VALUE = expect("Fn::ImportValue")
CIDR = expect("Fn::Cidr")
LENGTH = expect("Fn::Length")
TO_JSON_STRING = expect("Fn::ToJsonString")
REPLACE = expect("Fn::Replace")
MEMBER_LIST = expect("Fn::MemberListToMap")
RESOURCE_FACADE = expect("Fn::ResourceFacade")


# --- Fn::GetAZs, Fn::ImportValue -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("", ["eu-west-1a", "eu-west-1b"], id="stack-region"),
        pytest.param(None, ["eu-west-1a", "eu-west-1b"], id="null-is-stack-region"),
        pytest.param("us-east-1", ["us-east-1a"], id="named-region"),
        pytest.param(ref("AWS::Region"), ["eu-west-1a", "eu-west-1b"], id="ref-region"),
    ],
)
def test_get_azs(args: Any, expected: Any) -> None:
    assert evaluate(GetAZs("Fn::GetAZs", args, PATH, CFN)) == expected


def test_get_azs_error() -> None:
    assert failure(GetAZs("Fn::GetAZs", ["eu"], PATH, CFN)) == GET_AZS(
        "F3003", "the region must be a string, not a list"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("SharedVpc", "vpc-1", id="exported"),
        pytest.param("NotYet", Unknown("import NotYet"), id="not-exported-yet"),
        pytest.param(
            Sub("Fn::Sub", "Shared${!x}", PATH, CFN),
            Unknown("import Shared${x}"),
            id="computed-name",
        ),
    ],
)
def test_import_value(args: Any, expected: Any) -> None:
    assert evaluate(ImportValue("Fn::ImportValue", args, PATH, CFN)) == expected


class _NoExports(StaticScope):
    def import_value(self, name: str) -> Any:
        raise KeyError(name)


def test_import_value_missing_export() -> None:
    function = ImportValue("Fn::ImportValue", "Gone", PATH, CFN)
    with pytest.raises(EvaluationError) as caught:
        Resolver(_NoExports()).resolve(function)
    assert (caught.value.code, caught.value.path, caught.value.message) == IMPORT_VALUE(
        "F3004", "no stack exports 'Gone'"
    )
    assert list(ImportValue("Fn::ImportValue", 3, PATH, CFN).check()) == [
        diagnostic(IMPORT_VALUE("F3003", "the export name must be a string, not a number"))
    ]


# --- Fn::Cidr -------------------------------------------------------------------


def cidr(args: Any) -> Cidr:
    return Cidr("Fn::Cidr", args, PATH, CFN)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["192.168.0.0/24", 6, 5],
            [
                "192.168.0.0/27",
                "192.168.0.32/27",
                "192.168.0.64/27",
                "192.168.0.96/27",
                "192.168.0.128/27",
                "192.168.0.160/27",
            ],
            id="aws-documented-example",
        ),
        pytest.param(
            ["192.168.0.0/24", "2", "5"], ["192.168.0.0/27", "192.168.0.32/27"], id="string-numbers"
        ),
        pytest.param(
            [ref("VpcCidr"), 3, 8],
            ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"],
            id="block-from-parameter",
        ),
        pytest.param(["10.0.0.0/24", 1, 8], ["10.0.0.0/24"], id="whole-block"),
        pytest.param(
            ["10.0.0.0/29", 4, 1],
            ["10.0.0.0/31", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/31"],
            id="smallest-blocks",
        ),
        pytest.param(
            ["10.0.0.5/24", 2, 7], ["10.0.0.0/25", "10.0.0.128/25"], id="host-bits-ignored"
        ),
        pytest.param(
            ["2600:1f16:eae:1100::/56", 2, 64],
            ["2600:1f16:eae:1100::/64", "2600:1f16:eae:1101::/64"],
            id="ipv6-aws-style-64",
        ),
        pytest.param(
            ["fd00::/120", 3, 4], ["fd00::/124", "fd00::10/124", "fd00::20/124"], id="ipv6-small"
        ),
    ],
)
def test_cidr(args: Any, expected: Any) -> None:
    assert evaluate(cidr(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["192.168.0.0/24", 9, 5],
            CIDR("F3003", "the /24 ip block holds only 8 blocks of /27, not 9", 1),
            id="too-many-blocks",
        ),
        pytest.param(
            ["192.168.0.0/24", 1, 9],
            CIDR("F3003", "cidrBits 9 makes /23 blocks, larger than the /24 ip block", 2),
            id="blocks-larger-than-block",
        ),
        pytest.param(
            ["192.168.0.0/24", 1, 33],
            CIDR("F3003", "cidrBits must be an integer from 1 to 32", 2),
            id="bits-past-ipv4",
        ),
        pytest.param(
            ["192.168.0.0/24", 0, 5],
            CIDR("F3003", "the count must be an integer from 1 to 256", 1),
            id="count-zero",
        ),
        pytest.param(
            ["10.0.0.0/8", 257, 8],
            CIDR("F3003", "the count must be an integer from 1 to 256", 1),
            id="count-over-256",
        ),
        pytest.param(
            ["10.0.0.0/8", "many", 8],
            CIDR("F3003", "the count must be an integer from 1 to 256", 1),
            id="count-word",
        ),
        pytest.param(
            ["10.0.0.0/33", 1, 8],
            CIDR("F3003", "the ip block is not an IPv4 or IPv6 CIDR block", 0),
            id="bad-block",
        ),
        pytest.param(
            [["10.0.0.0/8"], 1, 8],
            CIDR("F3003", "the ip block must be a string, not a list", 0),
            id="block-not-string",
        ),
        pytest.param(
            [ref("Env"), 1, 8],
            CIDR("F3004", "the ip block is not an IPv4 or IPv6 CIDR block", 0),
            id="computed-bad-block",
        ),
        pytest.param(
            [ref("VpcCidr"), 2, 16],
            CIDR("F3004", "the /16 ip block holds only 1 block of /16, not 2", 1),
            id="computed-too-small",
        ),
        pytest.param(
            ["10.0.0.0/8", 1],
            CIDR("F3003", "arguments must have the form [ip_block, count, cidr_bits]"),
            id="two-arguments",
        ),
    ],
)
def test_cidr_errors(args: Any, expected: Expectation) -> None:
    assert failure(cidr(args)) == expected


def test_cidr_unknown_block() -> None:
    assert evaluate(cidr([get_att("Pending.CidrBlock"), 2, 8])) == Unknown(
        "Fn::Cidr at Outputs.Result.Value"
    )


# --- Fn::Length, Fn::ToJsonString ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([1, 2, 3], 3, id="literal"),
        pytest.param([], 0, id="empty"),
        pytest.param(ref("Subnets"), 2, id="from-ref"),
        pytest.param(["a", ref("AWS::NoValue")], 1, id="no-value-not-counted"),
        pytest.param([ref("Pending"), ref("Later")], 2, id="unknown-items-still-count"),
        pytest.param(
            ref("Later"), Unknown("Fn::Length at Outputs.Result.Value"), id="unknown-list"
        ),
    ],
)
def test_length(args: Any, expected: Any) -> None:
    assert evaluate(Length("Fn::Length", args, PATH, CFN)) == expected


def test_length_errors() -> None:
    assert list(Length("Fn::Length", "abc", PATH, CFN).check()) == [
        diagnostic(LENGTH("F3003", "the argument must be a list, not a string"))
    ]
    assert failure(Length("Fn::Length", ref("Env"), PATH, CFN)) == LENGTH(
        "F3004", "the argument must be a list, not a string"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            {"key1": "value1", "key2": ref("Env")},
            '{"key1":"value1","key2":"prod"}',
            id="aws-documented-object",
        ),
        pytest.param(
            [{"key1": "value1"}, {"key2": ref("Env")}],
            '[{"key1":"value1"},{"key2":"prod"}]',
            id="aws-documented-array",
        ),
        pytest.param(
            {"b": 1, "a": [True, None, 1.5]},
            '{"b":1,"a":[true,null,1.5]}',
            id="order-and-scalars-kept",
        ),
        pytest.param({"name": "café"}, '{"name":"café"}', id="unicode-unescaped"),
        pytest.param({"x": ref("AWS::NoValue"), "y": 1}, '{"y":1}', id="no-value-dropped"),
        pytest.param(
            {"x": ref("Pending")}, Unknown("Fn::ToJsonString at Outputs.Result.Value"), id="unknown"
        ),
    ],
)
def test_to_json_string(args: Any, expected: Any) -> None:
    assert evaluate(ToJsonString("Fn::ToJsonString", args, PATH, CFN)) == expected


def test_to_json_string_errors() -> None:
    assert failure(ToJsonString("Fn::ToJsonString", "text", PATH, CFN)) == TO_JSON_STRING(
        "F3003", "the argument must be a map or a list, not a string"
    )


# --- Fn::Replace --------------------------------------------------------------


def replace(args: Any, version: str = HOT) -> Replace:
    return Replace("Fn::Replace", args, PATH, version)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [{"$var1": "foo", "%var2%": "bar"}, "$var1 is %var2%"], "foo is bar", id="heat-example"
        ),
        pytest.param([{"$a": "1", "$ab": "2"}, "$ab $a"], "2 1", id="longer-key-first"),
        pytest.param([{"ab": "X", "bcd": "Y"}, "abcd"], "aY", id="longer-key-wins-overlap"),
        pytest.param([{"b": "a", "a": "b"}, "ab"], "ba", id="replaced-text-not-searched-again"),
        pytest.param(
            [{"x": 5, "y": None, "z": True, "w": 1.5}, "x-y-z-w"],
            "5--True-1.5",
            id="scalars-as-heat",
        ),
        pytest.param([{"$name": ref("Env")}, "env=$name"], "env=prod", id="computed-value"),
        pytest.param([{}, "unchanged"], "unchanged", id="no-placeholders"),
    ],
)
def test_replace(args: Any, expected: Any) -> None:
    assert evaluate(replace(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [["$a"], "text"],
            REPLACE("F3003", "the first argument must be a map, not a list", 0),
            id="params-not-map",
        ),
        pytest.param(
            [{"$a": "1"}, 5],
            REPLACE("F3003", "the template must be a string, not a number", 1),
            id="template-not-string",
        ),
        pytest.param(
            [{"": "1"}, "x"],
            REPLACE("F3003", "placeholders must be non-empty strings", 0),
            id="empty-placeholder",
        ),
        pytest.param(
            [{"$a": ["x"]}, "$a"],
            REPLACE("F3004", "the value for '$a' must be a string or a number", 0, "$a"),
            id="list-value",
        ),
        pytest.param(
            [ToJsonString("Fn::ToJsonString", {"x": 1}, PATH, CFN), "$a"],
            REPLACE("F3004", "the first argument must be a map, not a string", 0),
            id="computed-params-not-map",
        ),
        pytest.param(
            [find_in_map(["Params", "all", "set"]), "$secret"],
            REPLACE("F3004", "every value must be a string or a number", 0),
            id="computed-params-keys-not-shown",
        ),
        pytest.param(
            ["$a", {"$a": "x"}],
            REPLACE("F3003", "the first argument must be a map, not a string", 0),
            id="arguments-swapped",
        ),
    ],
)
def test_replace_errors(args: Any, expected: Expectation) -> None:
    assert failure(replace(args)) == expected


def test_replace_refuses_placeholder_bombs() -> None:
    limits = TemplateLimits(max_value_chars=100)
    with pytest.raises(EvaluationError) as caught:
        evaluate(replace([{"$": "x" * 50}, "$$$"]), limits)
    assert (caught.value.code, caught.value.message) == (
        "F3004",
        "Fn::Replace: the result would be longer than 100 characters",
    )


# --- Fn::MemberListToMap ------------------------------------------------------


def member_list(args: Any) -> MemberListToMap:
    return MemberListToMap("Fn::MemberListToMap", args, PATH, HOT)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [
                "Name",
                "Value",
                [
                    ".member.0.Name=key",
                    ".member.0.Value=door",
                    ".member.1.Name=colour",
                    ".member.1.Value=green",
                ],
            ],
            {"key": "door", "colour": "green"},
            id="heat-example",
        ),
        pytest.param(
            ["Key", "Value", [".member.2.Key=b", ".member.2.Value=x=y"]],
            {"b": "x=y"},
            id="value-keeps-equals",
        ),
        pytest.param(["Key", "Value", [".member.0.Key=a"]], {}, id="member-without-value-skipped"),
        pytest.param(
            ["Key", "Value", ["Other.member.0.Key=a", ".member.0.Value=1"]],
            {},
            id="other-prefix-ignored",
        ),
        pytest.param(
            [
                "Key",
                "Value",
                [".member.1.Key=k", ".member.1.Value=first", ".member.01.Value=second"],
            ],
            {"k": "second"},
            id="same-index-merges",
        ),
        pytest.param(["Key", "Value", []], {}, id="empty"),
    ],
)
def test_member_list_to_map(args: Any, expected: Any) -> None:
    assert evaluate(member_list(args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [1, "Value", []],
            MEMBER_LIST("F3003", "the key name must be a string, not a number", 0),
            id="key-name",
        ),
        pytest.param(
            ["Key", "Value", "x"],
            MEMBER_LIST("F3003", "the member list must be a list, not a string", 2),
            id="list-not-list",
        ),
        pytest.param(
            ["Key", "Value", [".member.0.Key"]],
            MEMBER_LIST("F3004", "member item 0 must be a string 'name=value'", 2),
            id="item-without-equals",
        ),
    ],
)
def test_member_list_to_map_errors(args: Any, expected: Expectation) -> None:
    assert failure(member_list(args)) == expected


# --- Fn::ResourceFacade -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("Metadata", {"role": "db"}, id="metadata"),
        pytest.param("DeletionPolicy", "Retain", id="deletion-policy"),
        pytest.param("UpdatePolicy", {}, id="update-policy"),
    ],
)
def test_resource_facade(args: str, expected: Any) -> None:
    assert evaluate(ResourceFacade("Fn::ResourceFacade", args, PATH, HOT)) == expected


@pytest.mark.parametrize(
    ("args", "overrides", "expected"),
    [
        pytest.param(
            "metadata",
            {},
            RESOURCE_FACADE(
                "F3003", "the argument must be one of Metadata, DeletionPolicy, UpdatePolicy"
            ),
            id="hot-spelling",
        ),
        pytest.param(
            ["Metadata"],
            {},
            RESOURCE_FACADE(
                "F3003", "the argument must be one of Metadata, DeletionPolicy, UpdatePolicy"
            ),
            id="list",
        ),
        pytest.param(
            "Metadata",
            {"facade": {}},
            RESOURCE_FACADE(
                "F3004", "the stack is not a nested stack, so it has no parent resource"
            ),
            id="not-nested",
        ),
    ],
)
def test_resource_facade_errors(
    args: Any, overrides: dict[str, Any], expected: Expectation
) -> None:
    assert failure(ResourceFacade("Fn::ResourceFacade", args, PATH, HOT), **overrides) == expected


# --- shared behaviour -----------------------------------------------------------


@pytest.mark.parametrize(
    "function",
    [
        pytest.param(cidr(["10.0.0.0/16", 2, 8]), id="cidr"),
        pytest.param(replace([{"a": "b"}, "a"]), id="replace"),
        pytest.param(member_list(["Key", "Value", []]), id="member-list"),
        pytest.param(
            ResourceFacade("Fn::ResourceFacade", "Metadata", PATH, HOT), id="resource-facade"
        ),
    ],
)
def test_well_formed_calls_have_no_diagnostics(function: Function) -> None:
    assert list(function.check()) == []
