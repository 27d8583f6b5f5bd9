"""Provider templates and groups: what their nested stacks inherit from the parent."""

from __future__ import annotations

from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

SECRET_PARENT = """\
heat_template_version: 2013-05-23
resources:
  secret1:
    type: OS::Heat::RandomString
outputs:
  secret-out:
    value: {get_attr: [secret1, value]}
"""

SECRET_CHILD = """\
heat_template_version: 2013-05-23
resources:
  secret2:
    type: OS::Heat::RandomString
outputs:
  value:
    value: {get_attr: [secret2, value]}
"""


def _child(harness: Harness, stack: StackRecord, resource: str) -> StackRecord:
    physical_id = harness.live(stack)[resource].physical_id
    child = harness.service.stacks.get(physical_id or "")
    assert child is not None
    return child


def test_a_template_mapped_to_a_type_uses_the_built_in_type_inside_itself(
    harness: Harness,
) -> None:
    for environment in (
        'resource_registry: {"OS::Heat::RandomString": nested.yaml}',
        'resource_registry: {resources: {secret1: {"OS::Heat::RandomString": nested.yaml}}}',
    ):
        definition = StackDefinition(
            SECRET_PARENT,
            files={"nested.yaml": SECRET_CHILD},
            environments=[("env.yaml", environment)],
        )
        stack = harness.run(harness.service.create("mapped", definition))
        assert stack.state == "CREATE_COMPLETE", stack.status_reason
        child = _child(harness, stack, "secret1")
        assert (child.nesting_depth, child.state) == (1, "CREATE_COMPLETE")
        inner = harness.live(child)["secret2"]
        assert (inner.type, inner.provider_data.get("nested_stack")) == (
            "OS::Heat::RandomString",
            None,
        )
        value = next(o.value for o in harness.service.outputs(stack) if o.key == "secret-out")
        assert isinstance(value, str) and len(value) == 32
        assert harness.delete(stack).state == "DELETE_COMPLETE"


GROUP_PARENT = """\
heat_template_version: rocky
resources:
  parent_group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def: {type: child.yaml}
"""

GROUP_CHILD = """\
heat_template_version: rocky
resources:
  child_group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 1
      resource_def: {type: OS::Heat::None}
"""


def test_nested_stacks_take_the_parent_stacks_timeout(harness: Harness) -> None:
    definition = StackDefinition(GROUP_PARENT, files={"child.yaml": GROUP_CHILD})
    stack = harness.run(harness.service.create("timed", definition, timeout_mins=10))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    group = _child(harness, stack, "parent_group")
    members = [_child(harness, group, name) for name in ("0", "1")]
    inner_groups = [_child(harness, member, "child_group") for member in members]
    assert [s.timeout_mins for s in [group, *members, *inner_groups]] == [10] * 5


FACADE_PARENT = """\
heat_template_version: 2015-10-15
resources:
  thisone:
    type: OS::Thingy
    properties: {one: pre, two: post}
outputs:
  one: {value: {get_attr: [thisone, here-it-is]}}
"""

FACADE = """\
heat_template_version: 2015-04-30
parameters:
  one: {type: string}
  two: {type: string}
outputs:
  here-it-is: {value: noop}
"""

FACADE_ENVIRONMENT = """\
resource_registry:
  OS::Thingy: facade.yaml
  resources:
    thisone:
      OS::Thingy: concrete.yaml
"""


def _facade_failure(harness: Harness, concrete: str, template: str = FACADE_PARENT) -> str:
    definition = StackDefinition(
        template,
        files={"facade.yaml": FACADE, "concrete.yaml": concrete},
        environments=[("env.yaml", FACADE_ENVIRONMENT)],
    )
    name = f"facade-{len(harness.service.list_stacks())}"
    stack = harness.run(harness.service.create(name, definition, disable_rollback=True))
    if stack.state == "CREATE_COMPLETE":
        return ""
    assert stack.state == "CREATE_FAILED"
    return next(
        e.status_reason
        for e in harness.service.event_records(stack)
        if (e.resource_name, e.status.value) == ("thisone", "FAILED")
    )


def test_a_per_resource_template_must_implement_the_facade_it_overrides(
    harness: Harness,
) -> None:
    complete = FACADE.replace("outputs:", "resources:\n  str: {type: OS::Heat::None}\noutputs:")
    assert _facade_failure(harness, complete) == ""
    missing_parameter = complete.replace("  two: {type: string}\n", "")
    assert "Required property two for facade OS::Thingy missing in provider" in (
        _facade_failure(harness, missing_parameter, FACADE_PARENT.replace(", two: post", ""))
    )
    missing_output = complete.replace("  here-it-is: {value: noop}\n", "")
    assert "Attribute here-it-is for facade OS::Thingy missing in provider" in (
        _facade_failure(harness, missing_output)
    )
    extra_parameter = complete.replace("parameters:", "parameters:\n  three: {type: string}")
    assert "Provider requires property three unknown in facade OS::Thingy" in (
        _facade_failure(
            harness, extra_parameter, FACADE_PARENT.replace("two: post", "two: post, three: x")
        )
    )
    wrong_type = complete.replace("two: {type: string}", "two: {type: number}")
    assert "Property two type mismatch between facade OS::Thingy" in (
        _facade_failure(harness, wrong_type, FACADE_PARENT.replace("two: post", "two: 2"))
    )


def test_a_failure_inside_a_provider_template_names_the_failing_resource(
    harness: Harness,
) -> None:
    failing = (
        "HeatTemplateFormatVersion: '2012-12-12'\n"
        "Resources:\n"
        "  oops:\n"
        "    Type: OS::Heat::TestResource\n"
        "    Properties: {fail: true}\n"
    )
    template = "HeatTemplateFormatVersion: '2012-12-12'\nResources:\n  victim: {Type: fail.yaml}\n"
    definition = StackDefinition(template, files={"fail.yaml": failing})
    stack = harness.run(harness.service.create("victim", definition, disable_rollback=True))
    assert (stack.state, stack.status_reason) == (
        "CREATE_FAILED",
        "Resource CREATE failed: ValueError: resources.victim.resources.oops: "
        "Test Resource failed oops",
    )
