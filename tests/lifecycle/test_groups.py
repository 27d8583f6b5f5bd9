"""OS::Heat::ResourceGroup and OS::Heat::ResourceChain: members in a nested stack."""

from __future__ import annotations

import textwrap

from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

GROUP = """\
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 3}
  removed: {type: json, default: []}
resources:
  group:
    type: OS::Heat::ResourceGroup
    update_policy:
      batch_create: {max_batch_size: 2}
    properties:
      count: {get_param: count}
      removal_policies: [{resource_list: {get_param: removed}}]
      resource_def:
        type: OS::Heat::Value
        properties: {value: "member-%index%"}
outputs:
  refs: {value: {get_attr: [group, refs]}}
  values: {value: {get_attr: [group, value]}}
  second: {value: {get_attr: [group, resource.1.value]}}
  removed: {value: {get_attr: [group, removed_rsrc_list]}}
  by_member: {value: {get_attr: [group, attributes, value]}}
"""


def _outputs(harness: Harness, stack: StackRecord) -> dict[str, object]:
    return {o.key: o.value for o in harness.service.outputs(stack)}


def _members(harness: Harness, stack: StackRecord) -> dict[str, list[str]]:
    group = harness.live(stack)["group"]
    child = harness.service.stacks.get(group.physical_id or "")
    assert child is not None
    harness.assert_consistent(child)
    return {name: sorted(r.depends_on) for name, r in harness.live(child).items()}


def test_a_group_creates_scales_removes_named_members_and_deletes(harness: Harness) -> None:
    stack = harness.run(harness.service.create("group", StackDefinition(GROUP)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    # batch_create of 2: the second batch waits for the first.
    assert _members(harness, stack) == {"0": [], "1": [], "2": ["0", "1"]}
    outputs = _outputs(harness, stack)
    assert outputs["values"] == ["member-0", "member-1", "member-2"]
    assert outputs["second"] == "member-1"
    assert outputs["removed"] == []
    assert isinstance(outputs["refs"], list) and len(outputs["refs"]) == 3
    assert outputs["by_member"] == {"0": "member-0", "1": "member-1", "2": "member-2"}

    definition = StackDefinition(GROUP, parameters={"count": 4, "removed": ["1"]})
    stack = harness.run(harness.service.update(stack.id, definition))
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    assert sorted(_members(harness, stack)) == ["0", "2", "3", "4"]
    outputs = _outputs(harness, stack)
    assert outputs["values"] == ["member-0", "member-2", "member-3", "member-4"]
    assert outputs["removed"] == ["1"]
    assert sorted(outputs["by_member"]) == ["0", "2", "3", "4"]  # type: ignore[call-overload]

    definition = StackDefinition(GROUP, parameters={"count": 2, "removed": []})
    stack = harness.run(harness.service.update(stack.id, definition))
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    # Removed names stay removed (mode append); scaling down drops the highest names.
    assert sorted(_members(harness, stack)) == ["0", "2"]
    assert _outputs(harness, stack)["removed"] == ["1"]

    child_id = harness.live(stack)["group"].physical_id or ""
    stack = harness.delete(stack)
    assert stack.state == "DELETE_COMPLETE"
    assert harness.service.stacks.get(child_id) is None


CHAIN = """\
heat_template_version: 2018-08-31
resources:
  chain:
    type: OS::Heat::ResourceChain
    properties:
      resources: [OS::Heat::None, OS::Heat::None, OS::Heat::RandomString]
      resource_properties: {}
outputs:
  last: {value: {get_attr: [chain, resource.2]}}
  refs_map: {value: {get_attr: [chain, refs_map]}}
"""


def test_a_chain_creates_each_member_after_the_one_before(harness: Harness) -> None:
    stack = harness.run(harness.service.create("chain", StackDefinition(textwrap.dedent(CHAIN))))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    chain = harness.live(stack)["chain"]
    child = harness.service.stacks.get(chain.physical_id or "")
    assert child is not None
    live = harness.live(child)
    assert {name: sorted(r.depends_on) for name, r in live.items()} == {
        "0": [],
        "1": ["0"],
        "2": ["1"],
    }
    outputs = _outputs(harness, stack)
    refs = outputs["refs_map"]
    assert isinstance(refs, dict) and sorted(refs) == ["0", "1", "2"]
    assert refs["0"] == live["0"].physical_id
    # A RandomString's reference is the string it generated, not its id.
    assert outputs["last"] == refs["2"] == live["2"].attributes.get("value", refs["2"])
    assert isinstance(refs["2"], str) and len(refs["2"]) == 32


PATH_AFTER_MEMBER = """\
heat_template_version: 2016-04-08
resources:
  chain:
    type: OS::Heat::ResourceChain
    properties:
      resources: [OS::Heat::RandomString, OS::Heat::RandomString]
      resource_properties: {length: 8}
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: OS::Heat::Value
        properties: {value: "member-%index%"}
outputs:
  chain_first: {value: {get_attr: [chain, resource.0, value]}}
  chain_first_ref: {value: {get_attr: [chain, resource.0]}}
  chain_values: {value: {get_attr: [chain, attributes, value]}}
  group_second: {value: {get_attr: [group, resource.1, value]}}
  group_second_dotted: {value: {get_attr: [group, resource.1.value]}}
"""


def test_a_path_after_a_member_reads_that_members_attribute(harness: Harness) -> None:
    definition = StackDefinition(PATH_AFTER_MEMBER)
    stack = harness.run(harness.service.create("paths", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    outputs = _outputs(harness, stack)
    values = outputs["chain_values"]
    assert isinstance(values, dict) and sorted(values) == ["0", "1"]
    assert len(values["0"]) == 8
    # [chain, resource.0, value] is [chain, resource.0.value]; [chain, resource.0] stays
    # the member's reference (a RandomString's is its string).
    assert outputs["chain_first"] == values["0"]
    assert outputs["chain_first_ref"] == values["0"]
    assert outputs["group_second"] == outputs["group_second_dotted"] == "member-1"


ROLLING = """\
heat_template_version: 2018-08-31
parameters:
  fail: {type: boolean, default: false}
  value: {type: string, default: one}
resources:
  group:
    type: OS::Heat::ResourceGroup
    update_policy:
      rolling_update: {max_batch_size: 1}
    properties:
      count: 3
      resource_def:
        type: OS::Heat::TestResource
        properties:
          value: {get_param: value}
          fail: {get_param: fail}
"""


def test_a_rolling_update_with_a_failing_member_stops_and_rolls_back(harness: Harness) -> None:
    stack = harness.run(harness.service.create("rolling", StackDefinition(ROLLING)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    child_id = harness.live(stack)["group"].physical_id or ""

    definition = StackDefinition(ROLLING, parameters={"fail": True, "value": "two"})
    stack = harness.run(harness.service.update(stack.id, definition))
    assert stack.state == "ROLLBACK_COMPLETE", stack.status_reason
    child = harness.stack(child_id)
    # One batch at a time: the first member failed, so the others were never touched.
    touched = [
        name
        for name, state in harness.events(child)
        if state == "UPDATE_IN_PROGRESS" and name != child.name
    ]
    assert touched == ["0"]
    # The rollback put every member back as it was.
    assert {r.properties.get("value") for r in harness.live(child).values()} == {"one"}
    assert harness.live(stack)["group"].physical_id == child_id


REGROWN_PARENT = """
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 3}
resources:
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def: {type: member.yaml}
"""
REGROWN_MEMBER = """
heat_template_version: 2018-08-31
resources:
  v: {type: OS::Heat::Value, properties: {value: x}}
"""


def test_a_group_grows_back_after_shrinking_with_new_member_stacks(harness: Harness) -> None:
    """A member removed and later added again under the same name is a new incarnation:
    its nested stack gets a new id instead of finding the deleted one."""
    files = {"member.yaml": REGROWN_MEMBER}
    stack = harness.run(
        harness.service.create("regrown", StackDefinition(REGROWN_PARENT, files=files))
    )
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    members: list[dict[str, str | None]] = []
    for count in (1, 3):
        definition = StackDefinition(REGROWN_PARENT, files=files, parameters={"count": count})
        stack = harness.run(harness.service.update(stack.id, definition))
        assert stack.state == "UPDATE_COMPLETE", (count, stack.status_reason)
        group = harness.live(stack)["web"].physical_id or ""
        members.append({r.name: r.physical_id for r in harness.service.resources.by_stack(group)})
    assert sorted(members[1]) == ["0", "1", "2"]
    assert members[1]["0"] == members[0]["0"]
    assert members[1]["2"] is not None
    assert all(harness.service.stacks.get(members[1][n] or "") is not None for n in ("1", "2"))
