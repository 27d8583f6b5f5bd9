"""From a validated template to a plan, as preview will do it."""

from __future__ import annotations

from pathlib import Path

from kiln.plan.desired import desired_resources
from kiln.plan.planner import plan_changes
from kiln.plan.state import Action, ResourceRecord
from kiln.providers.registry import load_schema_registry
from kiln.template.validate import SourceText, validate_template

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "webapp.yaml"
REGISTRY = load_schema_registry()


def test_fresh_stack_plan_creates_everything_in_order() -> None:
    result = validate_template(
        SourceText("webapp.yaml", EXAMPLE.read_bytes()),
        registry=REGISTRY,
        parameters={"admin_password": "long-enough"},
    )
    desired, diagnostics = desired_resources(result, REGISTRY)
    assert diagnostics == []
    plan, problems = plan_changes(desired, [])
    assert problems == []
    assert plan.render() == (
        "create             db_password (OS::Heat::RandomString): new in the template\n"
        "create             app_config (OS::Heat::Value): new in the template [after db_password]\n"
        "create             web_tier (OS::Heat::None): new in the template [after app_config]"
    )


def test_restricted_actions_come_from_the_environment() -> None:
    result = validate_template(
        SourceText("webapp.yaml", EXAMPLE.read_bytes()),
        registry=REGISTRY,
        parameters={"admin_password": "long-enough"},
        environments=[
            SourceText(
                "env.yaml",
                "resource_registry:\n  resources:\n    db_password:\n"
                "      restricted_actions: [replace]\n",
            )
        ],
    )
    desired, _ = desired_resources(result, REGISTRY)
    recorded = ResourceRecord(
        id="1",
        stack_id="6f1c1f5e-0000-4000-8000-000000000000",
        name="db_password",
        type="OS::Heat::RandomString",
        physical_id="x",
        action=Action.CREATE,
        properties={"length": 12, "character_classes": [{"class": "lettersdigits", "min": 4}]},
    )
    _, problems = plan_changes(desired, [recorded])
    assert [(d.code, d.message) for d in problems] == [
        (
            "U9004",
            "replace of 'db_password' is restricted by the environment "
            "(length cannot be updated in place)",
        )
    ]


def test_each_resource_knows_the_implementation_its_type_resolves_to() -> None:
    template = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  aliased: {type: My::Random}\n"
        "  provided: {type: My::Provided}\n"
        "  plain: {type: OS::Heat::None}\n"
    )
    environment = "resource_registry:\n  My::Random: OS::Heat::RandomString\n"
    environment += "  My::Provided: provided.yaml\n"
    result = validate_template(
        SourceText("template.yaml", template),
        registry=REGISTRY,
        environments=[SourceText("env.yaml", environment)],
        files={"provided.yaml": "heat_template_version: 2018-08-31\n"},
    )
    desired, diagnostics = desired_resources(result, REGISTRY)
    assert diagnostics == []
    assert {d.name: (d.type, d.implementation) for d in desired} == {
        "aliased": ("My::Random", "OS::Heat::RandomString"),
        "provided": ("My::Provided", "provided.yaml"),
        "plain": ("OS::Heat::None", "OS::Heat::None"),
    }
