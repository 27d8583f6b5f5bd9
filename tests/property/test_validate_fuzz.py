"""Generated templates never crash validation: every outcome is diagnostics."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.errors import Diagnostic
from kiln.providers.registry import load_schema_registry
from kiln.template.dialects import CFN_FUNCTIONS, HOT_ALIASES, HOT_DIALECTS, HOT_VERSIONS
from kiln.template.render import render_resolved
from kiln.template.validate import SourceText, ValidationResult, validate_template

REGISTRY = load_schema_registry()
HOT_FUNCTION_NAMES = sorted(
    {name for d in HOT_DIALECTS.values() for name in d.functions} | {"equals", "and", "or", "not"}
)
NAMES = st.sampled_from(
    ["a", "b", "web", "db", "x", "net", "AWS::Region", "OS::stack_name", "missing"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    NAMES,
)
TYPES = st.sampled_from(
    [
        "OS::Heat::None",
        "OS::Heat::Value",
        "OS::Heat::RandomString",
        "OS::Heat::TestResource",
        "OS::Nova::Server",
        "AWS::S3::Bucket",
        "Not::A::Type",
        "nested.yaml",
    ]
)


def values(function_names: list[str]) -> st.SearchStrategy[Any]:
    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        call = st.builds(lambda name, args: {name: args}, st.sampled_from(function_names), children)
        return st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(NAMES, st.text(max_size=6)), children, max_size=4),
            call,
        )

    return st.recursive(SCALARS, extend, max_leaves=25)


@st.composite
def hot_templates(draw: st.DrawFn) -> dict[str, Any]:
    value = values(HOT_FUNCTION_NAMES)
    template: dict[str, Any] = {
        "heat_template_version": draw(st.sampled_from([*HOT_VERSIONS, *HOT_ALIASES, "2099-01-01"]))
    }
    template["parameters"] = draw(
        st.dictionaries(
            NAMES,
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ["string", "number", "json", "comma_delimited_list", "boolean", "bogus"]
                    )
                },
                optional={
                    "default": SCALARS,
                    "hidden": st.booleans(),
                    "constraints": st.lists(value, max_size=2),
                },
            ),
            max_size=3,
        )
    )
    template["conditions"] = draw(st.dictionaries(NAMES, value, max_size=3))
    template["resources"] = draw(
        st.dictionaries(
            NAMES,
            st.fixed_dictionaries(
                {"type": TYPES},
                optional={
                    "properties": value,
                    "depends_on": st.one_of(NAMES, st.lists(NAMES, max_size=3)),
                    "condition": value,
                    "metadata": value,
                    "deletion_policy": value,
                },
            ),
            max_size=4,
        )
    )
    template["outputs"] = draw(
        st.dictionaries(
            NAMES,
            st.fixed_dictionaries({"value": value}, optional={"condition": value}),
            max_size=3,
        )
    )
    if draw(st.booleans()):
        template[draw(NAMES)] = draw(value)
    return template


@st.composite
def cfn_templates(draw: st.DrawFn) -> dict[str, Any]:
    value = values([*sorted(CFN_FUNCTIONS), "Fn::Equals", "Fn::And", "Condition"])
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": draw(
            st.dictionaries(
                NAMES,
                st.fixed_dictionaries(
                    {
                        "Type": st.sampled_from(
                            [
                                "String",
                                "Number",
                                "CommaDelimitedList",
                                "List<Number>",
                                "AWS::EC2::VPC::Id",
                            ]
                        )
                    },
                    optional={"Default": SCALARS, "NoEcho": st.booleans()},
                ),
                max_size=3,
            )
        ),
        "Mappings": draw(
            st.dictionaries(
                NAMES,
                st.dictionaries(NAMES, st.dictionaries(NAMES, SCALARS, max_size=2), max_size=2),
                max_size=2,
            )
        ),
        "Conditions": draw(st.dictionaries(NAMES, value, max_size=3)),
        "Resources": draw(
            st.dictionaries(
                NAMES,
                st.fixed_dictionaries(
                    {"Type": TYPES},
                    optional={"Properties": value, "DependsOn": NAMES, "Condition": NAMES},
                ),
                max_size=4,
            )
        ),
        "Outputs": draw(
            st.dictionaries(NAMES, st.fixed_dictionaries({"Value": value}), max_size=3)
        ),
    }


def _check(result: ValidationResult) -> None:
    assert isinstance(result, ValidationResult)
    assert all(isinstance(d, Diagnostic) and d.code and d.message for d in result.diagnostics)
    if result.ok:
        render_resolved(result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=st.one_of(hot_templates(), cfn_templates()), as_json=st.booleans(), lint=st.booleans()
)
def test_generated_templates_only_ever_produce_diagnostics(
    template: dict[str, Any], as_json: bool, lint: bool
) -> None:
    text = json.dumps(template, default=str) if as_json else yaml.safe_dump(template)
    result = validate_template(
        SourceText("generated", text),
        registry=REGISTRY,
        files={"nested.yaml": "heat_template_version: 2015-10-15\n"},
        parameters={"a": "1", "web": "x"},
        lint=lint,
    )
    _check(result)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_ever_produce_diagnostics(data: bytes) -> None:
    _check(validate_template(SourceText("bytes", data), registry=REGISTRY))
