"""The planner follows Heat's update rules; plans are compared as rendered text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from kiln.plan.planner import DesiredResource, plan_changes
from kiln.plan.state import Action, ResourceRecord, Status
from kiln.plan.steps import Operation, Phase, StepKey
from kiln.resources.heat import none, random_string, test_resource, value
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy
from kiln.schema.values import Unknown

STACK = "6f1c1f5e-0000-4000-8000-000000000000"
SCHEMAS = {
    "OS::Heat::Value": value.SCHEMA,
    "OS::Heat::RandomString": random_string.SCHEMA,
    "OS::Heat::TestResource": test_resource.SCHEMA,
    "OS::Heat::None": none.SCHEMA,
}


def want(
    name: str, type_name: str, after: tuple[str, ...] = (), **properties: Any
) -> DesiredResource:
    return DesiredResource(name, type_name, properties, frozenset(after), SCHEMAS.get(type_name))


def have(
    name: str,
    type_name: str,
    after: tuple[str, ...] = (),
    status: Status = Status.COMPLETE,
    **properties: Any,
) -> ResourceRecord:
    return ResourceRecord(
        id=f"id-{name}",
        stack_id=STACK,
        name=name,
        type=type_name,
        physical_id=f"phys-{name}",
        action=Action.CREATE,
        status=status,
        properties=properties,
        depends_on=frozenset(after),
    )


VALUE, RANDOM, TEST, NONE = (
    "OS::Heat::Value",
    "OS::Heat::RandomString",
    "OS::Heat::TestResource",
    "OS::Heat::None",
)


@pytest.mark.parametrize(
    ("desired", "recorded", "expected"),
    [
        pytest.param(
            [want("db", VALUE, value=1), want("web", VALUE, ("db",), value=2)],
            [],
            "create             db (OS::Heat::Value): new in the template\n"
            "create             web (OS::Heat::Value): new in the template [after db]",
            id="create-in-dependency-order",
        ),
        pytest.param(
            [want("db", VALUE, value=1, type="json")],
            [have("db", VALUE, value=1, type="json")],
            "same               db (OS::Heat::Value)",
            id="unchanged",
        ),
        pytest.param(
            [want("db", VALUE, value=2)],
            [have("db", VALUE, value=1)],
            "update             db (OS::Heat::Value): value changed",
            id="update-in-place",
        ),
        pytest.param(
            [want("pw", RANDOM, length=20), want("app", VALUE, ("pw",), value="x")],
            [have("pw", RANDOM, length=10), have("app", VALUE, ("pw",), value="x")],
            "create-replacement pw(new) (OS::Heat::RandomString): "
            "length cannot be updated in place\n"
            "same               app (OS::Heat::Value) [after pw(new)]\n"
            "delete-replaced    pw(old) (OS::Heat::RandomString): replaced [after app, pw(new)]",
            id="replace-create-first",
        ),
        pytest.param(
            [want("pw", RANDOM, salt="b")],
            [have("pw", RANDOM, salt="a")],
            "create-replacement pw(new) (OS::Heat::RandomString): "
            "salt cannot be updated in place\n"
            "delete-replaced    pw(old) (OS::Heat::RandomString): replaced [after pw(new)]",
            id="salt-replaces",
        ),
        pytest.param(
            [want("db", VALUE, value=1)],
            [
                have("db", VALUE, value=1),
                have("web", VALUE, ("db",), value=2),
                have("lb", NONE, ("web",)),
            ],
            "same               db (OS::Heat::Value)\n"
            "delete             lb (OS::Heat::None): removed from the template\n"
            "delete             web (OS::Heat::Value): removed from the template [after lb]",
            id="delete-dependents-first",
        ),
        pytest.param(
            [want("db", NONE)],
            [have("db", VALUE, value=1)],
            "create-replacement db(new) (OS::Heat::None): "
            "type changes from OS::Heat::Value to OS::Heat::None\n"
            "delete-replaced    db(old) (OS::Heat::Value): replaced [after db(new)]",
            id="type-change-replaces",
        ),
        pytest.param(
            [want("t", TEST, value="a")],
            [have("t", TEST, status=Status.FAILED, value="a")],
            "create-replacement t(new) (OS::Heat::TestResource): it is CREATE_FAILED\n"
            "delete-replaced    t(old) (OS::Heat::TestResource): replaced [after t(new)]",
            id="failed-is-replaced",
        ),
        pytest.param(
            [want("t", TEST, update_replace_value="b")],
            [have("t", TEST, update_replace_value="a")],
            "create-replacement t(new) (OS::Heat::TestResource): "
            "update_replace_value cannot be updated in place\n"
            "delete-replaced    t(old) (OS::Heat::TestResource): replaced [after t(new)]",
            id="test-resource-replace-value",
        ),
    ],
)
def test_plans(
    desired: list[DesiredResource], recorded: list[ResourceRecord], expected: str
) -> None:
    plan, diagnostics = plan_changes(desired, recorded)
    assert diagnostics == []
    assert plan.render() == expected


def test_retain_policy_forgets_without_deleting() -> None:
    plan, _ = plan_changes(
        [], [have("db", VALUE, value=1)], previous_deletion_policies={"db": "Retain"}
    )
    assert [(s.key, s.operation) for s in plan] == [(StepKey("db"), Operation.RETAIN)]


def test_snapshot_policy_deletes_after_a_snapshot() -> None:
    plan, _ = plan_changes(
        [], [have("db", VALUE, value=1)], previous_deletion_policies={"db": "Snapshot"}
    )
    [step] = plan
    assert (step.operation, step.snapshot) == (Operation.DELETE, True)
    assert step.reason == "removed from the template; snapshot, then delete"


def test_a_change_of_update_policy_alone_updates_in_place() -> None:
    recorded = replace(have("db", VALUE, value=1), update_policy={"batch": 1})
    same = replace(want("db", VALUE, value=1), update_policy={"batch": 1})
    changed = replace(same, update_policy={"batch": 2})
    assert [s.operation for s in plan_changes([same], [recorded])[0]] == [Operation.SAME]
    plan, problems = plan_changes([changed], [recorded])
    assert problems == []
    assert plan.render() == "update             db (OS::Heat::Value): update_policy changed"


def test_delete_first_replacement_deletes_the_old_one_first() -> None:
    resource = DesiredResource(
        "port", RANDOM, {"length": 5}, schema=random_string.SCHEMA, replace_delete_first=True
    )
    plan, diagnostics = plan_changes([resource], [have("port", RANDOM, length=4)])
    assert diagnostics == []
    new, old = StepKey("port", Phase.NEW), StepKey("port", Phase.OLD)
    assert plan.steps[new].requires == {old}
    assert plan.steps[old].requires == frozenset()


def test_unknown_value_leaves_the_choice_to_apply_time() -> None:
    plan, _ = plan_changes(
        [want("pw", RANDOM, length=Unknown("other.value"))], [have("pw", RANDOM, length=4)]
    )
    (step,) = plan
    assert step.operation is Operation.UPDATE
    assert step.decided_at_apply
    assert step.reason == "length may change once earlier steps have run"


def test_immutable_property_cannot_change() -> None:
    schema = ResourceSchema(
        "Kiln::Test::Disk",
        properties={
            "size": PropertySchema(PropertyType.INTEGER, update_policy=UpdatePolicy.IMMUTABLE)
        },
    )
    resource = DesiredResource("disk", "Kiln::Test::Disk", {"size": 2}, schema=schema)
    record = have("disk", "Kiln::Test::Disk", size=1)
    _, diagnostics = plan_changes([resource], [record])
    assert [(d.code, str(d.path), d.message) for d in diagnostics] == [
        (
            "U9001",
            "resources.disk.properties.size",
            "property 'size' is immutable and cannot change",
        )
    ]


@pytest.mark.parametrize(
    ("type_name", "properties", "restricted", "code", "message"),
    [
        pytest.param(
            RANDOM,
            {"length": 9},
            "replace",
            "U9004",
            "replace of 'pw' is restricted by the environment (length cannot be updated in place)",
            id="replace",
        ),
        pytest.param(
            VALUE,
            {"value": "x"},
            "update",
            "U9002",
            "update of 'pw' is restricted by the environment (value changed)",
            id="update",
        ),
    ],
)
def test_restricted_actions(
    type_name: str, properties: dict[str, Any], restricted: str, code: str, message: str
) -> None:
    resource = DesiredResource(
        "pw",
        type_name,
        properties,
        schema=SCHEMAS[type_name],
        restricted_actions=frozenset({restricted}),
    )
    plan, diagnostics = plan_changes([resource], [have("pw", type_name)])
    assert [(d.code, d.message) for d in diagnostics] == [(code, message)]
    assert [s.operation for s in plan] == [Operation.SAME]


def test_large_chain_plans_quickly_and_in_order() -> None:
    desired = [want(f"r{i}", NONE, (f"r{i - 1}",) if i else ()) for i in range(2000)]
    plan, diagnostics = plan_changes(desired, [])
    assert diagnostics == []
    lines = plan.render().splitlines()
    assert lines[0].startswith("create             r0 ")
    assert lines[-1].endswith("[after r1998]")


def test_old_incarnation_left_by_an_interrupted_update_is_deleted() -> None:
    old = replace(have("pw", RANDOM, length=4), id="old", replaced_by="new")
    new = replace(have("pw", RANDOM, length=5), id="new", replaces="old", generation=1)
    app = have("app", VALUE, ("pw",), value="x")
    plan, diagnostics = plan_changes(
        [want("pw", RANDOM, length=5), want("app", VALUE, ("pw",), value="x")], [old, new, app]
    )
    assert diagnostics == []
    assert plan.render() == (
        "same               pw (OS::Heat::RandomString)\n"
        "same               app (OS::Heat::Value) [after pw]\n"
        "delete-replaced    pw(old) (OS::Heat::RandomString): replaced earlier [after app, pw]"
    )
    (deletion,) = plan.by_operation(Operation.DELETE_REPLACED)
    assert deletion.record_id == "old"


def test_rollback_restores_the_replaced_incarnation() -> None:
    old = replace(have("pw", RANDOM, length=4), id="old", replaced_by="new")
    new = replace(have("pw", RANDOM, length=5), id="new", replaces="old", generation=1)
    plan, diagnostics = plan_changes([want("pw", RANDOM, length=4)], [old, new])
    assert diagnostics == []
    assert plan.render() == (
        "restore            pw (OS::Heat::RandomString): "
        "the incarnation it replaced still matches the template\n"
        "delete-replaced    pw(old) (OS::Heat::RandomString): rolled back [after pw]"
    )
    restore = plan.steps[StepKey("pw")]
    assert restore.record_id == "old"
    assert plan.steps[StepKey("pw", Phase.OLD, "new")].record_id == "new"


def test_a_resource_removed_in_a_rollback_waits_for_the_rolled_back_incarnation() -> None:
    """The new incarnation being rolled back still depends on ``f``: ``f`` goes after it."""
    old = replace(have("a", "OS::Heat::None"), id="old", replaced_by="new")
    new = replace(
        have("a", "OS::Heat::TestResource", fail=True),
        id="new",
        replaces="old",
        generation=1,
        depends_on=frozenset({"f"}),
    )
    wanted = [want("a", "OS::Heat::None")]
    plan, diagnostics = plan_changes(wanted, [old, new, have("f", "OS::Heat::None")])
    assert diagnostics == []
    delete_f = plan.steps[StepKey("f")]
    assert delete_f.operation is Operation.DELETE
    assert StepKey("a", Phase.OLD, "new") in delete_f.requires


def test_deleting_two_half_replaced_resources_whose_dependency_turned_around() -> None:
    """``b`` depended on ``a``; an update replaced both with ``a`` depending on ``b``, and
    failed before either old incarnation was deleted. Each record refers to the
    incarnation live when it was written, so the delete runs new ``a``, new ``b``,
    old ``b``, old ``a`` instead of finding a cycle between the names."""
    times = [datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC) for second in range(4)]
    old_a = replace(have("a", NONE), id="a0", replaced_by="a1", created_at=times[0])
    old_b = replace(have("b", NONE, ("a",)), id="b0", replaced_by="b1", created_at=times[1])
    new_b = replace(have("b", VALUE, value="one"), id="b1", replaces="b0", created_at=times[2])
    new_a = replace(
        have("a", TEST, ("b",), status=Status.FAILED, fail=True),
        id="a1",
        replaces="a0",
        created_at=times[3],
    )
    plan, diagnostics = plan_changes([], [old_a, old_b, new_b, new_a])
    assert diagnostics == []
    steps = plan.steps
    assert StepKey("b", Phase.OLD, "b0") not in steps[StepKey("a")].requires
    assert steps[StepKey("a")].requires == frozenset()
    assert StepKey("a") in steps[StepKey("b")].requires
    assert StepKey("b") in steps[StepKey("b", Phase.OLD, "b0")].requires
    assert StepKey("a") not in steps[StepKey("b", Phase.OLD, "b0")].requires
    assert StepKey("b", Phase.OLD, "b0") in steps[StepKey("a", Phase.OLD, "a0")].requires


def test_without_creation_times_a_superseded_dependent_is_still_waited_for() -> None:
    old_b = replace(have("b", NONE, ("a",)), id="b0", replaced_by="b1")
    new_b = replace(have("b", NONE), id="b1", replaces="b0")
    plan, diagnostics = plan_changes([], [have("a", NONE), old_b, new_b])
    assert diagnostics == []
    assert StepKey("b", Phase.OLD, "b0") in plan.steps[StepKey("a")].requires


def test_a_failed_nested_stack_is_updated_in_place_not_replaced() -> None:
    nested = ResourceSchema("Test::Nested", accepts_any_properties=True, replace_when_failed=False)
    wanted = DesiredResource("child", "Test::Nested", {"size": 1}, schema=nested)
    failed = replace(
        have("child", "Test::Nested", size=2), action=Action.UPDATE, status=Status.FAILED
    )
    plan, problems = plan_changes([wanted], [failed])
    assert problems == []
    assert plan.render() == (
        "update             child (Test::Nested): it is UPDATE_FAILED: updating it in place"
    )
    never_created = replace(failed, physical_id=None)
    [step] = [s for s in plan_changes([wanted], [never_created])[0] if s.key.resource == "child"]
    assert step.operation in (Operation.CREATE, Operation.CREATE_REPLACEMENT)


def test_an_unchanged_nested_stack_is_updated_so_its_resources_can_decide() -> None:
    nested = ResourceSchema("Test::Nested", accepts_any_properties=True, replace_when_failed=False)
    wanted = DesiredResource("child", "Test::Nested", {"size": 1}, schema=nested)
    plan, problems = plan_changes([wanted], [have("child", "Test::Nested", size=1)])
    assert problems == []
    assert plan.render() == (
        "update             child (Test::Nested): "
        "a nested stack is always updated: its own resources decide what changes"
    )
    restricted = replace(wanted, restricted_actions=frozenset({"update"}))
    plan, problems = plan_changes([restricted], [have("child", "Test::Nested", size=1)])
    assert (problems, [s.operation for s in plan]) == ([], [Operation.SAME])


@pytest.mark.parametrize(
    ("recorded", "desired", "expected"),
    [
        pytest.param(
            ("My::A", RANDOM),
            ("My::B", RANDOM),
            "update             pw (My::B): type changes from My::A to My::B, "
            "the same implementation",
            id="another-alias-of-the-same-type-updates",
        ),
        pytest.param(
            ("My::A", RANDOM),
            ("My::A", TEST),
            "create-replacement pw(new) (My::A): type My::A now means OS::Heat::TestResource\n"
            "delete-replaced    pw(old) (My::A): replaced [after pw(new)]",
            id="an-alias-pointed-elsewhere-replaces",
        ),
        pytest.param(
            ("My::A", "one.yaml"),
            ("My::B", "two.yaml"),
            "update             pw (My::B): type changes from My::A to My::B, "
            "the same implementation",
            id="provider-templates-are-one-implementation",
        ),
        pytest.param(
            ("My::A", ""),
            ("My::B", RANDOM),
            "create-replacement pw(new) (My::B): type changes from My::A to My::B\n"
            "delete-replaced    pw(old) (My::A): replaced [after pw(new)]",
            id="a-record-without-an-implementation-goes-by-its-type",
        ),
    ],
)
def test_a_type_change_replaces_only_when_the_implementation_changes(
    recorded: tuple[str, str], desired: tuple[str, str], expected: str
) -> None:
    record = replace(have("pw", recorded[0]), implementation=recorded[1])
    schema = SCHEMAS.get(desired[1])
    wanted = DesiredResource("pw", desired[0], schema=schema, implementation=desired[1])
    plan, problems = plan_changes([wanted], [record])
    assert problems == []
    assert plan.render() == expected
