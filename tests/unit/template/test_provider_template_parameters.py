"""A provider template's parameters as its resource's properties, with parameter_defaults."""

from __future__ import annotations

import pytest

from kiln.providers.registry import load_schema_registry
from kiln.template.validate import SourceText, validate_template

REGISTRY = load_schema_registry()
PARENT = "heat_template_version: 2018-08-31\nresources:\n  provided: {type: child.yaml}\n"
CHILD = (
    "heat_template_version: 2018-08-31\n"
    "parameters:\n  length: {type: number}\n"
    "resources:\n  inner:\n    type: OS::Heat::RandomString\n"
    "    properties: {length: {get_param: length}}\n"
)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param(
            "",
            ["S6003 missing required property 'length'", "V5001 parameter 'length' has no value"],
            id="nothing-gives-it",
        ),
        pytest.param("parameter_defaults: {length: 12}\n", [], id="parameter-defaults-give-it"),
    ],
)
def test_a_parameter_without_a_default_is_required_unless_parameter_defaults_give_it(
    environment: str, expected: list[str]
) -> None:
    result = validate_template(
        SourceText("parent.yaml", PARENT),
        registry=REGISTRY,
        environments=[SourceText("env.yaml", environment)] if environment else [],
        files={"child.yaml": CHILD},
        require_parameter_values=True,
    )
    assert sorted(f"{d.code} {d.message}" for d in result.errors) == expected
