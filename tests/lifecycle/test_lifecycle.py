"""Stack lifecycles, written to read like a specification.

Every operation ends with the recorded state checked for integrity (see the
harness): no duplicates, no dangling dependencies, no forgotten
replacements, no completed resource without a physical id, gap-free events.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from file_plugin import FilePlugin
from lifecycle_support import Harness
from sqlalchemy import text

from kiln.errors import TemplateError
from kiln.plan.state import Status
from kiln.service.stacks import OperationInProgress, StackDefinition

TWO_TIER = """
    heat_template_version: 2018-08-31
    parameters:
      greeting: {type: string, default: hello}
      secret: {type: string, hidden: true, default: s3cr3t-value}
    resources:
      db:
        type: OS::Heat::TestResource
        properties:
          value: {get_param: greeting}
      password:
        type: OS::Heat::RandomString
        properties: {length: 12}
      web:
        type: OS::Heat::Value
        properties:
          value:
            db: {get_attr: [db, output]}
            password: {get_attr: [password, value]}
    outputs:
      db_output: {value: {get_attr: [db, output]}}
      web_value: {value: {get_attr: [web, value, db]}}
      secret: {value: {get_param: secret}}
"""


def test_create_makes_every_resource_and_outputs_resolve(harness: Harness) -> None:
    stack = harness.create("two-tier", TWO_TIER)
    assert stack.state == "CREATE_COMPLETE"
    live = harness.live(stack)
    assert sorted(live) == ["db", "password", "web"]
    assert all(r.state == "CREATE_COMPLETE" and r.physical_id for r in live.values())
    outputs = {o.key: o for o in harness.service.outputs(stack)}
    assert outputs["db_output"].value == "hello"
    assert outputs["web_value"].value == "hello"
    assert outputs["secret"].value == "******"
    events = harness.events(stack)
    assert events[0] == ("two-tier", "CREATE_IN_PROGRESS")
    assert events[-1] == ("two-tier", "CREATE_COMPLETE")
    assert events.index(("db", "CREATE_COMPLETE")) < events.index(("web", "CREATE_IN_PROGRESS"))


def test_update_in_place_keeps_the_physical_resource(harness: Harness) -> None:
    stack = harness.create("in-place", TWO_TIER)
    before = harness.live(stack)["db"].physical_id
    stack = harness.update(stack, TWO_TIER, parameters={"greeting": "bonjour"})
    assert stack.state == "UPDATE_COMPLETE"
    db = harness.live(stack)["db"]
    assert db.physical_id == before
    assert db.state == "UPDATE_COMPLETE"
    assert {o.key: o.value for o in harness.service.outputs(stack)}["web_value"] == "bonjour"


REPLACEABLE = """
    heat_template_version: 2018-08-31
    parameters:
      flavour: {type: string, default: small}
    resources:
      server:
        type: OS::Heat::TestResource
        properties:
          update_replace_value: {get_param: flavour}
      dns:
        type: OS::Heat::TestResource
        properties:
          value: {get_resource: server}
"""


def test_replacement_creates_the_new_one_then_deletes_the_old(harness: Harness) -> None:
    stack = harness.create("replace", REPLACEABLE)
    old = harness.live(stack)["server"]
    stack = harness.update(stack, REPLACEABLE, parameters={"flavour": "large"})
    assert stack.state == "UPDATE_COMPLETE"
    records = harness.records(stack)
    servers = [r for r in records if r.name == "server"]
    assert len(servers) == 1, "the old incarnation must be gone"
    assert servers[0].physical_id != old.physical_id
    assert servers[0].generation == old.generation + 1
    assert harness.live(stack)["dns"].properties["value"] == servers[0].physical_id
    events = harness.events(stack)
    created = events.index(
        ("server", "CREATE_COMPLETE"), events.index(("replace", "UPDATE_IN_PROGRESS"))
    )
    assert created < events.index(("server", "DELETE_COMPLETE"))


def test_resources_are_added_and_removed(harness: Harness) -> None:
    stack = harness.create(
        "grow", "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::None}\n"
    )
    stack = harness.update(
        stack,
        "heat_template_version: 2018-08-31\nresources:\n  b: {type: OS::Heat::None}\n"
        "  c: {type: OS::Heat::None, depends_on: b}\n",
    )
    assert stack.state == "UPDATE_COMPLETE"
    assert sorted(harness.live(stack)) == ["b", "c"]


FAILING = """
    heat_template_version: 2018-08-31
    resources:
      fine:
        type: OS::Heat::None
      broken:
        type: OS::Heat::TestResource
        properties: {fail: true}
      after:
        type: OS::Heat::None
        depends_on: broken
"""


def test_failed_create_rolls_back_everything(harness: Harness) -> None:
    stack = harness.create("rollback", FAILING)
    assert stack.state == "ROLLBACK_COMPLETE"
    assert harness.records(stack) == []
    events = harness.events(stack)
    assert ("rollback", "CREATE_FAILED") in events
    assert ("broken", "CREATE_FAILED") in events
    assert ("after", "CREATE_IN_PROGRESS") not in events, "nothing starts after a failure"


def test_failed_create_without_rollback_keeps_what_was_made(harness: Harness) -> None:
    stack = harness.create("kept", FAILING, disable_rollback=True)
    assert stack.state == "CREATE_FAILED"
    assert stack.status_reason.startswith("Resource CREATE failed: ValueError: resources.broken:")
    live = harness.live(stack)
    assert live["fine"].state == "CREATE_COMPLETE"
    assert live["broken"].state == "CREATE_FAILED"
    assert "after" not in live
    stack = harness.delete(stack)
    assert stack.state == "DELETE_COMPLETE"
    assert harness.records(stack) == []


def test_failed_update_rolls_back_to_the_previous_template(harness: Harness) -> None:
    stack = harness.create("update-rollback", REPLACEABLE)
    server = harness.live(stack)["server"]
    broken = (
        REPLACEABLE
        + "      extra:\n        type: OS::Heat::TestResource\n        properties: {fail: true}\n"
    )
    stack = harness.update(stack, broken, parameters={"flavour": "large"})
    assert stack.state == "ROLLBACK_COMPLETE"
    live = harness.live(stack)
    assert sorted(live) == ["dns", "server"]
    assert live["server"].physical_id == server.physical_id, "the replaced server is restored"
    assert harness.stack(stack.id).template.strip() == REPLACEABLE.strip().replace("\n    ", "\n")


def test_failed_update_after_a_failure_without_rollback_can_be_retried(harness: Harness) -> None:
    stack = harness.create("retry", FAILING, disable_rollback=True)
    fixed = FAILING.replace("{fail: true}", "{fail: false}")
    stack = harness.update(stack, fixed)
    assert stack.state == "UPDATE_COMPLETE"
    assert sorted(harness.live(stack)) == ["after", "broken", "fine"]


def test_only_one_operation_at_a_time_but_an_update_preempts_a_create(harness: Harness) -> None:
    stack = harness.service.create("busy", StackDefinition(textwrap.dedent(FAILING)))
    with pytest.raises(OperationInProgress, match="already has an action"):
        harness.service.check(stack.id)
    with pytest.raises(OperationInProgress, match="already has an action"):
        harness.service.suspend(stack.id)
    # As in Heat's convergence, an update takes over from the create in progress.
    fixed = textwrap.dedent(FAILING).replace("{fail: true}", "{fail: false}")
    updated = harness.service.update(stack.id, StackDefinition(fixed))
    assert (updated.state, updated.template, updated.previous_template) == (
        "UPDATE_IN_PROGRESS",
        fixed,
        textwrap.dedent(FAILING),
    )
    stack = harness.run(stack)
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    assert sorted(harness.live(stack)) == ["after", "broken", "fine"]


def test_invalid_templates_change_nothing(harness: Harness) -> None:
    with pytest.raises(TemplateError) as raised:
        harness.service.create(
            "bad",
            StackDefinition(
                "heat_template_version: 2018-08-31\nresources:\n  a: {type: Nope::Nope}\n"
            ),
        )
    assert [d.code for d in raised.value.diagnostics] == ["S6001"]
    assert harness.service.list_stacks() == []


SLOW = """
    heat_template_version: 2018-08-31
    resources:
      quick:
        type: OS::Heat::None
      slow:
        type: OS::Heat::TestResource
        properties: {wait_secs: 30}
"""


def test_timeout_fails_the_stack_and_rolls_back(harness: Harness) -> None:
    stack = harness.create("timeout", SLOW, timeout_mins=0.02)
    assert stack.state == "ROLLBACK_COMPLETE"
    events = harness.events(stack)
    assert ("timeout", "CREATE_FAILED") in events
    failure = next(e for e in harness.service.event_records(stack) if e.status is Status.FAILED)
    assert failure.status_reason == "Timed out"
    assert harness.records(stack) == []


def test_delete_removes_every_resource(harness: Harness) -> None:
    stack = harness.create("gone", TWO_TIER)
    stack = harness.delete(stack)
    assert stack.state == "DELETE_COMPLETE"
    assert harness.records(stack) == []
    assert harness.service.list_stacks() == []


WITH_SECRET = """
    heat_template_version: 2018-08-31
    parameters:
      password: {type: string, hidden: true}
    resources:
      config:
        type: OS::Heat::Value
        properties:
          value:
            str_replace:
              template: "db_password=PASS"
              params: {PASS: {get_param: password}}
      plain:
        type: OS::Heat::TestResource
        properties: {value: visible}
"""


def test_properties_that_carry_a_hidden_parameter_are_encrypted_at_rest(
    harness: Harness,
) -> None:
    secret = "n0t-in-the-database"
    stack = harness.create("secretive", WITH_SECRET, parameters={"password": secret})
    assert stack.state == "CREATE_COMPLETE"
    assert harness.live(stack)["config"].properties["value"] == f"db_password={secret}"
    stack = harness.update(stack, WITH_SECRET, parameters={"password": secret + "-2"})
    assert stack.state == "UPDATE_COMPLETE"
    with harness.database.engine.connect() as connection:
        stored = {
            name: str(properties)
            for name, properties in connection.execute(
                text("SELECT name, properties FROM resources WHERE stack_id = :id"),
                {"id": stack.id},
            )
        }
    assert secret not in stored["config"]
    assert "__encrypted__" in stored["config"]
    assert "visible" in stored["plain"]


FILES = """
    heat_template_version: 2018-08-31
    parameters:
      directory: {type: string}
      content: {type: string, default: first}
      batch: {type: number, default: 1}
    resources:
      kept:
        type: Test::File
        deletion_policy: Snapshot
        properties: {directory: {get_param: directory}, content: {get_param: content}}
      plain:
        type: Test::File
        update_policy:
          batch: {max_batch_size: {get_param: batch}}
        properties: {directory: {get_param: directory}}
"""


def _policy_log(directory: Path) -> list[dict[str, Any]]:
    lines = (directory / "policies.log").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_snapshot_deletion_policy_keeps_a_copy_before_deleting(
    harness: Harness, tmp_path: Path
) -> None:
    harness.plugins.register(FilePlugin)
    files = tmp_path / "files"
    files.mkdir()
    parameters = {"directory": str(files)}
    stack = harness.create("files", FILES, parameters=parameters)
    assert stack.state == "CREATE_COMPLETE"
    kept = Path(harness.live(stack)["kept"].physical_id or "")
    assert kept.read_text() == "first"
    stack = harness.delete(stack)
    assert stack.state == "DELETE_COMPLETE"
    assert not kept.exists()
    snapshots = list((files / "snapshots").iterdir())
    assert [s.read_text() for s in snapshots] == ["first"]
    deleted = [
        e.status_reason
        for e in harness.service.event_records(stack)
        if e.resource_name == "kept" and f"{e.action}_{e.status}" == "DELETE_COMPLETE"
    ]
    assert deleted == [f"snapshot {snapshots[0].name} kept"]


def test_snapshot_is_refused_for_types_that_cannot_take_one(harness: Harness) -> None:
    template = """
        heat_template_version: 2018-08-31
        resources:
          value:
            type: OS::Heat::Value
            deletion_policy: Snapshot
            properties: {value: 1}
    """
    with pytest.raises(TemplateError) as caught:
        harness.create("no-snapshot", template)
    assert [(d.code, str(d.path)) for d in caught.value.diagnostics] == [
        ("S6009", "resources.value.deletion_policy")
    ]
    assert harness.service.list_stacks() == []


def test_update_policy_reaches_the_plugin_and_a_change_to_it_alone_is_an_update(
    harness: Harness, tmp_path: Path
) -> None:
    harness.plugins.register(FilePlugin)
    files = tmp_path / "files"
    files.mkdir()
    stack = harness.create("policies", FILES, parameters={"directory": str(files)})
    plain = harness.live(stack)["plain"]
    assert plain.update_policy == {"batch": {"max_batch_size": 1}}
    stack = harness.update(stack, FILES, parameters={"directory": str(files), "batch": 3})
    assert stack.state == "UPDATE_COMPLETE"
    updated = harness.live(stack)["plain"]
    assert updated.physical_id == plain.physical_id
    assert updated.state == "UPDATE_COMPLETE"
    assert updated.update_policy == {"batch": {"max_batch_size": 3}}
    assert harness.live(stack)["kept"].state == "CREATE_COMPLETE"
    log = _policy_log(files)
    # The two creates run concurrently, in either order; the update comes last.
    assert sorted(log[:2], key=lambda entry: json.dumps(entry, sort_keys=True)) == [
        {"action": "create", "policy": {"batch": {"max_batch_size": 1}}},
        {"action": "create", "policy": {}},
    ]
    assert log[2:] == [{"action": "update", "policy": {"batch": {"max_batch_size": 3}}}]


def test_update_policy_keys_the_type_does_not_declare_are_refused(harness: Harness) -> None:
    template = """
        heat_template_version: 2018-08-31
        resources:
          value:
            type: OS::Heat::Value
            update_policy: {rolling_update: {max_batch_size: 2}}
            properties: {value: 1}
    """
    with pytest.raises(TemplateError) as caught:
        harness.create("bad-policy", template)
    assert [str(d.path) for d in caught.value.diagnostics] == [
        "resources.value.update_policy.rolling_update"
    ]


STUCK = """
    heat_template_version: 2018-08-31
    resources:
      slow:
        type: OS::Heat::TestResource
        properties: {wait_secs: 60, action_wait_secs: {delete: 0}}
"""


def test_delete_supersedes_a_create_in_progress(harness: Harness) -> None:
    stuck = harness.service.create("stuck", StackDefinition(textwrap.dedent(STUCK)))

    async def create_then_delete() -> None:
        running = asyncio.ensure_future(harness.engine().run(stuck.id))
        while not any(r.name == "slow" for r in harness.records(stuck)):
            await asyncio.sleep(0.02)
        harness.service.delete(stuck.id)
        await asyncio.wait_for(running, timeout=10)

    asyncio.run(create_then_delete())
    stack = harness.stack(stuck.id)
    harness.assert_consistent(stack)
    assert stack.state == "DELETE_COMPLETE"
    assert harness.records(stack) == []
    events = harness.events(stack)
    assert events[-1] == ("stuck", "DELETE_COMPLETE")
    assert events.index(("stuck", "DELETE_IN_PROGRESS")) < events.index(("slow", "DELETE_COMPLETE"))
    with pytest.raises(OperationInProgress):
        # A delete in progress is not started again.
        deleting = harness.service.create("again", StackDefinition(textwrap.dedent(STUCK)))
        harness.service.delete(deleting.id)
        harness.service.delete(deleting.id)


def test_provider_data_a_plugin_calls_secret_is_encrypted_at_rest(harness: Harness) -> None:
    template = """
        heat_template_version: 2018-08-31
        resources:
          password:
            type: OS::Heat::RandomString
            properties: {length: 24}
        outputs:
          password: {value: {get_attr: [password, value]}}
    """
    stack = harness.create("random", template)
    [output] = harness.service.outputs(stack)
    assert isinstance(output.value, str) and len(output.value) == 24
    with harness.database.engine.connect() as connection:
        raw = connection.execute(
            text("SELECT provider_data FROM resources WHERE stack_id = :id"), {"id": stack.id}
        ).scalar_one()
    assert output.value not in str(raw)
    assert "__encrypted__" in str(raw)
