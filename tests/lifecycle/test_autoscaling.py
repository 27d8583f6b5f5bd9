"""Autoscaling: policies signalled through the service resize their group."""

from __future__ import annotations

import asyncio

import pytest
from lifecycle_support import Harness

from kiln.errors import KilnError
from kiln.plan.state import StackRecord
from kiln.resources.heat.autoscaling import new_capacity
from kiln.service.stacks import StackDefinition

SCALING = """\
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 4
      resource:
        type: OS::Heat::Value
        properties: {value: member}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: group}
      adjustment_type: change_in_capacity
      scaling_adjustment: 2
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: group}
      adjustment_type: exact_capacity
      scaling_adjustment: 1
outputs:
  size: {value: {get_attr: [group, current_size]}}
  by_member: {value: {get_attr: [group, outputs, value]}}
  values: {value: {get_attr: [group, outputs_list, value]}}
  alarm: {value: {get_attr: [up, alarm_url]}}
"""


def _members(harness: Harness, stack: StackRecord) -> list[str]:
    group = harness.live(stack)["group"]
    child = harness.stack(group.physical_id or "")
    assert child.state in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), child.status_reason
    harness.assert_consistent(child)
    return sorted(harness.live(child), key=int)


def _signal_all(harness: Harness, stack: StackRecord, *policies: str) -> None:
    """Signal the policies at once, and run what they start to its end, in this process."""

    async def scenario() -> None:
        started: list[asyncio.Task[object]] = []
        harness.service.launch = lambda stack_id: started.append(
            asyncio.ensure_future(harness.engine().run(stack_id))
        )
        await asyncio.gather(*(harness.service.signal(stack.id, p, None) for p in policies))
        while started:
            await started.pop(0)

    asyncio.run(scenario())


def test_policies_resize_the_group_one_signal_at_a_time(harness: Harness) -> None:
    stack = harness.create("scaling", SCALING)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    assert _members(harness, stack) == ["0"]
    alarm = {o.key: o.value for o in harness.service.outputs(stack)}["alarm"]
    assert "/resources/up/signal?token=" in str(alarm)

    # Two scale-ups at once: each sees the size the other left (1 -> 3 -> 4, the maximum).
    _signal_all(harness, stack, "up", "up")
    assert _members(harness, stack) == ["0", "1", "2", "3"]
    outputs = {o.key: o.value for o in harness.service.outputs(harness.stack(stack.id))}
    assert outputs["by_member"] == {name: "member" for name in ("0", "1", "2", "3")}
    assert outputs["values"] == ["member"] * 4
    group_signals = [
        e.status_reason
        for e in harness.service.event_records(stack)
        if e.resource_name == "group" and e.action.value == "SIGNAL"
    ]
    assert group_signals == [
        "Signal: from:1, result:resized, to:3",
        "Signal: from:3, result:resized, to:4",
    ]

    # Scaling down keeps the newest members.
    _signal_all(harness, stack, "down")
    assert _members(harness, stack) == ["3"]
    assert harness.live(stack)["group"].provider_data["members"] == ["3"]

    stack = harness.delete(stack)
    assert stack.state == "DELETE_COMPLETE"


def test_a_group_refuses_to_resize_while_its_stack_is_busy(harness: Harness) -> None:
    stack = harness.create("busy", SCALING)
    harness.service.stacks.begin_operation(
        stack.id, stack.action, stack.current_traversal, "other-operation", None
    )
    with pytest.raises(KilnError, match="in the middle of an operation"):
        asyncio.run(harness.service.signal(stack.id, "up", None))


PATHS = """\
heat_template_version: 2014-10-16
resources:
  group:
    type: OS::Heat::AutoScalingGroup
    properties:
      cooldown: 0
      desired_capacity: 3
      min_size: 1
      max_size: 5
      resource:
        type: OS::Heat::RandomString
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: group}
      adjustment_type: change_in_capacity
      scaling_adjustment: -1
outputs:
  all_values: {value: {get_attr: [group, outputs_list, value]}}
  value_0: {value: {get_attr: [group, resource.0.value]}}
  value_1: {value: {get_attr: [group, resource.1, value]}}
  ref_0: {value: {get_attr: [group, resource.0]}}
  refs: {value: {get_attr: [group, refs]}}
"""


def test_member_paths_name_the_members_by_position_oldest_first(harness: Harness) -> None:
    stack = harness.create("paths", PATHS)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    outputs = {o.key: o.value for o in harness.service.outputs(stack)}
    values = outputs["all_values"]
    assert len(values) == 3 and all(isinstance(value, str) for value in values)
    assert outputs["value_0"] == values[0]
    assert outputs["value_1"] == values[1]
    assert outputs["ref_0"] == outputs["refs"][0]

    # Scaling down drops the oldest member: resource.0 is now the one created second.
    _signal_all(harness, stack, "down")
    assert _members(harness, stack) == ["1", "2"]
    outputs = {o.key: o.value for o in harness.service.outputs(harness.stack(stack.id))}
    assert outputs["all_values"] == values[1:]
    assert outputs["value_0"] == values[1]
    assert outputs["value_1"] == values[2]


def test_a_groups_cooldown_starts_when_it_is_created(harness: Harness) -> None:
    stack = harness.create("cooling", PATHS.replace("cooldown: 0", "cooldown: 60"))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    _signal_all(harness, stack, "down")
    assert _members(harness, stack) == ["0", "1", "2"]
    reasons = [
        e.status_reason
        for e in harness.service.event_records(stack)
        if e.resource_name == "group" and e.action.value == "SIGNAL"
    ]
    assert reasons == ["Signal: result:cooldown, size:3"]


@pytest.mark.parametrize(
    ("current", "kind", "adjustment", "step", "expected"),
    [
        (2, "change_in_capacity", 3, None, 5),
        (2, "change_in_capacity", -5, None, 1),
        (2, "exact_capacity", 9, None, 8),
        (10, "percent_change_in_capacity", 25, None, 8),
        (4, "percent_change_in_capacity", 10, None, 5),
        (4, "percent_change_in_capacity", -10, None, 3),
        (4, "percent_change_in_capacity", 10, 2, 6),
    ],
)
def test_new_capacity_follows_heats_arithmetic(
    current: int, kind: str, adjustment: float, step: int | None, expected: int
) -> None:
    assert new_capacity(current, kind, adjustment, step, 1, 8) == expected


def test_an_attribute_the_group_does_not_have_is_refused_where_it_is_read(
    harness: Harness,
) -> None:
    template = PATHS + "  bogus: {value: {get_attr: [group, bogus]}}\n"
    result = harness.service.validate("bogus", StackDefinition(template))
    assert [(d.code, str(d.path)) for d in result.errors] == [
        ("R4007", "outputs.bogus.value.get_attr[0]")
    ]
    assert "has no attribute 'bogus'" in result.errors[0].message
    assert result.errors[0].span is not None
    # The declared attributes and the ``resource.N`` paths (in both forms) are fine.
    assert harness.service.validate("paths", StackDefinition(PATHS)).ok
