"""Nested stacks: OS::Heat::Stack and provider templates run as stacks of their own."""

from __future__ import annotations

import textwrap

from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

CHILD = """\
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string, default: hello}
resources:
  inner:
    type: OS::Heat::Value
    properties: {value: {get_param: greeting}}
outputs:
  said: {value: {get_attr: [inner, value]}}
  child_id: {value: {get_param: OS::stack_id}}
"""

PARENT = """\
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string, default: hello}
resources:
  nested:
    type: OS::Heat::Stack
    properties:
      template: {get_file: child.yaml}
      parameters: {greeting: {get_param: greeting}}
  provided:
    type: My::Child
    properties: {greeting: {list_join: ['-', [{get_param: greeting}, provided]]}}
  after:
    type: OS::Heat::Value
    properties:
      value: {get_attr: [nested, outputs, said]}
outputs:
  from_stack: {value: {get_attr: [after, value]}}
  from_provider: {value: {get_attr: [provided, said]}}
"""

ENVIRONMENT = """\
resource_registry:
  My::Child: child.yaml
"""


def _definition(**parameters: str) -> StackDefinition:
    return StackDefinition(
        PARENT,
        files={"child.yaml": CHILD},
        environments=[("env.yaml", ENVIRONMENT)],
        parameters=parameters,
    )


def _children(harness: Harness, stack: StackRecord) -> dict[str, StackRecord]:
    live = harness.live(stack)
    children = {}
    for name in ("nested", "provided"):
        child = harness.service.stacks.get(live[name].physical_id or "")
        assert child is not None
        children[name] = child
    return children


def _outputs(harness: Harness, stack: StackRecord) -> dict[str, object]:
    return {o.key: o.value for o in harness.service.outputs(stack)}


def test_nested_stacks_are_created_updated_and_deleted_with_their_parent(
    harness: Harness,
) -> None:
    stack = harness.run(harness.service.create("parent", _definition()))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    assert _outputs(harness, stack) == {"from_stack": "hello", "from_provider": "hello-provided"}
    children = _children(harness, stack)
    for name, child in children.items():
        harness.assert_consistent(child)
        assert (child.state, child.parent_id, child.parent_resource, child.nesting_depth) == (
            "CREATE_COMPLETE",
            stack.id,
            name,
            1,
        )
    assert [s.id for s in harness.service.list_stacks()] == [stack.id]

    stack = harness.run(harness.service.update(stack.id, _definition(greeting="hi")))
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    assert _outputs(harness, stack) == {"from_stack": "hi", "from_provider": "hi-provided"}
    updated = _children(harness, stack)
    assert {name: child.id for name, child in updated.items()} == {
        name: child.id for name, child in children.items()
    }
    assert {child.state for child in updated.values()} == {"UPDATE_COMPLETE"}

    stack = harness.delete(stack)
    assert stack.state == "DELETE_COMPLETE"
    for child in children.values():
        assert harness.service.stacks.get(child.id) is None
        assert harness.records(child) == []


FAILING_CHILD = """\
heat_template_version: 2018-08-31
resources:
  broken:
    type: OS::Heat::TestResource
    properties: {fail: true}
"""


def test_a_failure_inside_a_nested_stack_fails_and_rolls_back_the_parent(
    harness: Harness,
) -> None:
    template = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        resources:
          nested:
            type: OS::Heat::Stack
            properties: {template: {get_file: broken.yaml}}
        """
    )
    definition = StackDefinition(template, files={"broken.yaml": FAILING_CHILD})
    stack = harness.run(harness.service.create("doomed", definition))
    assert stack.state == "ROLLBACK_COMPLETE"
    failure = next(
        e.status_reason
        for e in harness.service.event_records(stack)
        if (e.resource_name, e.status.value) == ("nested", "FAILED")
    )
    # As in Heat, the reason names the failing resource inside the nested stack.
    assert failure == "ValueError: resources.nested.resources.broken: Test Resource failed broken"
    assert harness.records(stack) == []


RECURSIVE = """\
heat_template_version: 2018-08-31
resources:
  deeper:
    type: OS::Heat::Stack
    properties: {template: {get_file: recursive.yaml}}
"""


def test_nesting_deeper_than_the_limit_fails_cleanly(harness: Harness) -> None:
    definition = StackDefinition(RECURSIVE, files={"recursive.yaml": RECURSIVE})
    stack = harness.run(harness.service.create("deep", definition))
    assert stack.state == "ROLLBACK_COMPLETE"
    reasons = [e.status_reason for e in harness.service.event_records(stack)]
    assert any("Recursion depth exceeds 5." in reason for reason in reasons)
    assert harness.records(stack) == []


FACADE_CHILD = """\
heat_template_version: 2018-08-31
resources:
  marker:
    type: OS::Heat::None
outputs:
  role: {value: {get_param: [OS::stack_name]}}
  metadata: {value: {resource_facade: metadata}}
  deletion_policy: {value: {resource_facade: deletion_policy}}
"""


def test_a_provider_template_reads_its_parent_resource_through_resource_facade(
    harness: Harness,
) -> None:
    template = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        resources:
          server:
            type: facade.yaml
            metadata: {role: web}
            deletion_policy: Retain
        outputs:
          metadata: {value: {get_attr: [server, metadata]}}
          deletion_policy: {value: {get_attr: [server, deletion_policy]}}
        """
    )
    definition = StackDefinition(template, files={"facade.yaml": FACADE_CHILD})
    stack = harness.run(harness.service.create("facade", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    assert _outputs(harness, stack) == {
        "metadata": {"role": "web"},
        "deletion_policy": "Retain",
    }


READ_INTO = """\
heat_template_version: 2014-10-16
resources:
  secret:
    type: My::Secret
  copy:
    type: OS::Heat::Value
    properties: {value: {get_resource: secret}}
outputs:
  by_output: {value: {get_attr: [secret, nested_str]}}
  by_path: {value: {get_attr: [secret, resource.inner, value]}}
  dotted: {value: {get_attr: [secret, resource.inner.value]}}
  unread: {value: {get_attr: [secret, resource.unread.value]}}
  inner_ref: {value: {get_attr: [secret, resource.inner]}}
  ref: {value: {get_resource: secret}}
  copied: {value: {get_attr: [copy, value]}}
"""

SECRET = """\
heat_template_version: 2014-10-16
resources:
  inner:
    type: OS::Heat::RandomString
  unread:
    type: OS::Heat::RandomString
    properties: {length: 5}
outputs:
  nested_str: {value: {get_attr: [inner, value]}}
"""


def _read_into(harness: Harness, name: str, nested: str) -> tuple[StackRecord, dict[str, object]]:
    definition = StackDefinition(
        READ_INTO,
        files={"secret.yaml": nested},
        environments=[("env.yaml", "resource_registry: {My::Secret: secret.yaml}")],
    )
    stack = harness.run(harness.service.create(name, definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    return stack, _outputs(harness, stack)


def test_a_provider_resource_reads_into_its_nested_stacks_resources(harness: Harness) -> None:
    _, outputs = _read_into(harness, "reader", SECRET)
    value = outputs["by_output"]
    assert isinstance(value, str) and len(value) == 32
    assert outputs["by_path"] == outputs["dotted"] == value
    # An attribute the nested template itself never reads is read all the same.
    unread = outputs["unread"]
    assert isinstance(unread, str) and len(unread) == 5
    # resource.NAME alone is the nested resource's reference (a RandomString's string).
    assert outputs["inner_ref"] == value


def test_a_provider_resource_is_referred_to_by_its_nested_stacks_arn(harness: Harness) -> None:
    stack, outputs = _read_into(harness, "arn", SECRET)
    child = harness.service.stacks.get(harness.live(stack)["secret"].physical_id or "")
    assert child is not None
    arn = f"arn:openstack:heat::{child.project_id}:stacks/{child.name}/{child.id}"
    assert outputs["ref"] == outputs["copied"] == arn


def test_a_nested_stack_id_output_is_the_provider_resources_reference(harness: Harness) -> None:
    nested = SECRET + "  OS::stack_id: {value: {get_resource: inner}}\n"
    stack, outputs = _read_into(harness, "transparent", nested)
    assert outputs["ref"] == outputs["copied"] == outputs["by_output"]
    assert harness.live(stack)["secret"].physical_id != outputs["ref"]
