"""Suspend, resume and check: actions that walk the recorded resources."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from file_plugin import FilePlugin
from lifecycle_support import Harness

from kiln.errors import KilnError
from kiln.service.stacks import StackDefinition

CHILD = """\
heat_template_version: 2018-08-31
resources:
  inner: {type: OS::Heat::None}
"""

STACK = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
resources:
  network: {type: OS::Heat::None}
  server:
    type: Test::File
    depends_on: network
    properties: {directory: {get_param: directory}, content: served}
  nested:
    type: OS::Heat::Stack
    properties: {template: {get_file: child.yaml}}
"""


def _create(harness: Harness, tmp_path: Path) -> str:
    harness.plugins.register(FilePlugin)
    definition = StackDefinition(
        STACK, files={"child.yaml": CHILD}, parameters={"directory": str(tmp_path)}
    )
    stack = harness.run(harness.service.create("actions", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    return stack.id


def test_suspend_then_resume_every_resource_and_nested_stack(
    harness: Harness, tmp_path: Path
) -> None:
    stack_id = _create(harness, tmp_path)
    with pytest.raises(KilnError, match="it is not suspended"):
        harness.service.resume(stack_id)

    stack = harness.run(harness.service.suspend(stack_id))
    assert stack.state == "SUSPEND_COMPLETE"
    assert stack.status_reason == "Stack SUSPEND completed successfully"
    live = harness.live(stack)
    assert {r.state for r in live.values()} == {"SUSPEND_COMPLETE"}
    assert harness.stack(live["nested"].physical_id or "").state == "SUSPEND_COMPLETE"
    events = harness.events(stack)
    # Dependents are suspended before what they depend on.
    assert events.index(("server", "SUSPEND_COMPLETE")) < events.index(
        ("network", "SUSPEND_IN_PROGRESS")
    )

    stack = harness.run(harness.service.resume(stack_id))
    assert stack.state == "RESUME_COMPLETE"
    assert {r.state for r in harness.live(stack).values()} == {"RESUME_COMPLETE"}
    events = harness.events(stack)
    assert events.index(("network", "RESUME_COMPLETE")) < events.index(
        ("server", "RESUME_IN_PROGRESS")
    )


def test_check_finds_a_resource_that_disappeared_and_an_update_replaces_it(
    harness: Harness, tmp_path: Path
) -> None:
    stack_id = _create(harness, tmp_path)
    stack = harness.run(harness.service.check(stack_id))
    assert stack.state == "CHECK_COMPLETE"
    served = Path(harness.live(stack)["server"].physical_id or "")
    served.unlink()

    stack = harness.run(harness.service.check(stack_id))
    assert stack.state == "CHECK_FAILED"
    server = harness.live(stack)["server"]
    assert server.state == "CHECK_FAILED"
    assert server.status_reason == (
        f"ResourceFailed: resources.server: {served} does not exist any more"
    )

    definition = StackDefinition(
        STACK, files={"child.yaml": CHILD}, parameters={"directory": str(tmp_path)}
    )
    stack = harness.run(harness.service.update(stack_id, definition))
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    assert Path(harness.live(stack)["server"].physical_id or "").read_text() == "served"


NESTED_FILE = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
resources:
  file:
    type: Test::File
    properties: {directory: {get_param: directory}, content: nested}
outputs:
  path: {value: {get_resource: file}}
"""

HOLDS_NESTED_FILE = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
resources:
  nested:
    type: OS::Heat::Stack
    properties:
      template: {get_file: child.yaml}
      parameters: {directory: {get_param: directory}}
outputs:
  path: {value: {get_attr: [nested, outputs, path]}}
"""


def test_check_looks_inside_nested_stacks_and_an_update_repairs_them(
    harness: Harness, tmp_path: Path
) -> None:
    harness.plugins.register(FilePlugin)
    definition = StackDefinition(
        HOLDS_NESTED_FILE,
        files={"child.yaml": NESTED_FILE},
        parameters={"directory": str(tmp_path)},
    )
    stack = harness.run(harness.service.create("holder", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    nested = harness.live(stack)["nested"]
    child = harness.stack(nested.physical_id or "")
    path = Path(harness.live(child)["file"].physical_id or "")
    assert harness.run(harness.service.check(stack.id)).state == "CHECK_COMPLETE"
    assert harness.stack(child.id).state == "CHECK_COMPLETE"
    path.unlink()

    stack = harness.run(harness.service.check(stack.id))
    assert stack.state == "CHECK_FAILED"
    assert harness.live(stack)["nested"].state == "CHECK_FAILED"
    assert f"{path} does not exist any more" in (harness.live(stack)["nested"].status_reason)
    assert harness.live(harness.stack(child.id))["file"].state == "CHECK_FAILED"

    stack = harness.run(harness.service.update(stack.id, definition))
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    repaired = Path(harness.live(harness.stack(child.id))["file"].physical_id or "")
    assert repaired.read_text() == "nested"


DRIFTING = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
resources:
  changed:
    type: Test::File
    properties: {directory: {get_param: directory}, content: original}
  removed:
    type: Test::File
    properties: {directory: {get_param: directory}, content: kept}
  untouched:
    type: Test::File
    properties: {directory: {get_param: directory}, content: same}
  plain: {type: OS::Heat::None}
"""


def test_drift_lists_differences_and_a_converging_update_repairs_them(
    harness: Harness, tmp_path: Path
) -> None:
    harness.plugins.register(FilePlugin)
    parameters = {"directory": str(tmp_path)}
    stack = harness.run(
        harness.service.create("drifting", StackDefinition(DRIFTING, parameters=parameters))
    )
    live = harness.live(stack)
    Path(live["changed"].physical_id or "").write_text("tampered")
    Path(live["removed"].physical_id or "").unlink()

    found = {d.resource: d for d in asyncio.run(harness.service.drift(stack.id))}
    assert {name: d.status for name, d in found.items()} == {
        "changed": "MODIFIED",
        "plain": "IN_SYNC",
        "removed": "DELETED",
        "untouched": "IN_SYNC",
    }
    assert [(d.name, d.recorded, d.actual) for d in found["changed"].differences] == [
        ("content", "original", "tampered")
    ]

    definition = StackDefinition("", parameters={})
    stack = harness.run(harness.service.update(stack.id, definition, existing=True, converge=True))
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    assert Path(live["changed"].physical_id or "").read_text() == "original"
    assert Path(live["removed"].physical_id or "").read_text() == "kept"
    statuses = {d.resource: d.status for d in asyncio.run(harness.service.drift(stack.id))}
    assert set(statuses.values()) == {"IN_SYNC"}


MARKED = """\
heat_template_version: 2018-08-31
parameters:
  secret: {type: string, hidden: true, default: s3cr3t}
resources:
  server:
    type: OS::Heat::None
    metadata: {role: web, password: {get_param: secret}}
"""


def test_a_resource_marked_unhealthy_is_replaced_by_the_next_update(harness: Harness) -> None:
    stack = harness.create("marked", MARKED)
    before = harness.live(stack)["server"]
    assert harness.service.resource_metadata(stack.id, "server") == {
        "role": "web",
        "password": "******",
    }
    marked = harness.service.mark_unhealthy(stack.id, "server", "disk errors")
    assert (marked.state, marked.status_reason) == ("CHECK_FAILED", "disk errors")
    reset = harness.service.mark_unhealthy(stack.id, "server", reset=True)
    assert reset.state == "CHECK_COMPLETE"
    harness.service.mark_unhealthy(stack.id, "server", "disk errors")
    stack = harness.update(stack, MARKED)
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    after = harness.live(stack)["server"]
    assert after.id != before.id and after.state == "CREATE_COMPLETE"
    with pytest.raises(KilnError, match="could not be found"):
        harness.service.mark_unhealthy(stack.id, "nothing")
