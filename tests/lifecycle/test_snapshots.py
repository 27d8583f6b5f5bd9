"""Stack snapshots: taken by the engine, listed, shown, restored and deleted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from file_plugin import FilePlugin
from lifecycle_support import Harness

from kiln.errors import KilnError
from kiln.plan.state import StackRecord
from kiln.service.snapshots import SnapshotNotFound, StackSnapshots, shown
from kiln.service.stacks import StackDefinition

STACK = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
  content: {type: string, default: first}
  token: {type: string, hidden: true}
resources:
  server:
    type: Test::File
    properties: {directory: {get_param: directory}, content: {get_param: content}}
  label:
    type: OS::Heat::Value
    properties: {value: {get_param: token}}
"""

CHANGED = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
  content: {type: string, default: first}
resources:
  server:
    type: Test::File
    properties: {directory: {get_param: directory}, content: {get_param: content}}
  extra: {type: OS::Heat::None}
"""


def _create(harness: Harness, tmp_path: Path) -> StackRecord:
    harness.plugins.register(FilePlugin)
    definition = StackDefinition(
        STACK, parameters={"directory": str(tmp_path), "token": "hidden-token-value"}
    )
    stack = harness.run(harness.service.create("snapped", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    return stack


def test_a_snapshot_keeps_each_resources_copy_and_the_stack_data(
    harness: Harness, tmp_path: Path
) -> None:
    stack = _create(harness, tmp_path)
    snapshots = StackSnapshots(harness.service)

    started, snapshot = snapshots.create("snapped", "before-change")
    assert started.state == "SNAPSHOT_IN_PROGRESS"
    assert snapshot.state == "SNAPSHOT_IN_PROGRESS"
    final = harness.run(started)

    assert final.state == "SNAPSHOT_COMPLETE", final.status_reason
    taken = snapshots.get("snapped", "before-change")
    assert taken.state == "SNAPSHOT_COMPLETE"
    server = taken.data["resources"]["server"]
    # The file plugin copied the file; the copy's id is kept with the resource.
    copy = tmp_path / "snapshots" / server["snapshot_id"]
    assert copy.read_text(encoding="utf-8") == "first"
    assert server["resource_id"] == harness.live(stack)["server"].physical_id
    assert "snapshot_id" not in taken.data["resources"]["label"]
    assert ("server", "SNAPSHOT_COMPLETE") in harness.events(final)
    assert ("snapped", "SNAPSHOT_COMPLETE") in harness.events(final)
    # What is shown keeps secrets sealed and leaves the kept definition out.
    shown_data = json.dumps(shown(taken), default=str)
    assert "hidden-token-value" not in shown_data
    assert "definition" not in shown(taken)["data"]
    assert [s.id for s in snapshots.list("snapped")] == [taken.id]


def test_two_snapshots_take_two_copies(harness: Harness, tmp_path: Path) -> None:
    _create(harness, tmp_path)
    snapshots = StackSnapshots(harness.service)
    first = harness.run(snapshots.create("snapped", "one")[0])
    second = harness.run(snapshots.create("snapped", "two")[0])
    assert first.state == second.state == "SNAPSHOT_COMPLETE"
    ids = {s.data["resources"]["server"]["snapshot_id"] for s in snapshots.list("snapped")}
    assert len(ids) == 2


def test_restore_returns_the_stack_to_the_snapshot(harness: Harness, tmp_path: Path) -> None:
    stack = _create(harness, tmp_path)
    snapshots = StackSnapshots(harness.service)
    harness.run(snapshots.create("snapped", "good")[0])
    changed = harness.run(
        harness.service.update(
            "snapped",
            StackDefinition(CHANGED, parameters={"directory": str(tmp_path), "content": "second"}),
        )
    )
    assert changed.state == "UPDATE_COMPLETE", changed.status_reason
    assert set(harness.live(changed)) == {"server", "extra"}

    # The file changed behind Kiln's back too: the restore puts the snapshot's contents back.
    path = Path(harness.live(changed)["server"].physical_id or "")
    path.write_text("scribbled", encoding="utf-8")

    restored = harness.run(snapshots.restore("snapped", "good"))

    assert restored.state == "RESTORE_COMPLETE", restored.status_reason
    live = harness.live(restored)
    assert set(live) == {"server", "label"}
    assert path.read_text(encoding="utf-8") == "first"
    assert live["server"].physical_id == harness.live(stack)["server"].physical_id
    restored_events = [
        e.status_reason
        for e in harness.service.event_records(restored)
        if e.resource_name == "server" and e.action.value == "UPDATE"
    ]
    taken = snapshots.get("snapped", "good").data["resources"]["server"]["snapshot_id"]
    assert restored_events[-1] == f"restored from snapshot {taken}"
    assert harness.stack(stack.id).template == STACK
    assert harness.stack(stack.id).parameters["token"] == "hidden-token-value"


def test_snapshot_delete_and_refusals(harness: Harness, tmp_path: Path) -> None:
    _create(harness, tmp_path)
    snapshots = StackSnapshots(harness.service)
    started, snapshot = snapshots.create("snapped")
    with pytest.raises(KilnError, match="in progress"):
        snapshots.create("snapped")
    with pytest.raises(KilnError, match="still being taken"):
        asyncio.run(snapshots.delete("snapped", snapshot.id))
    with pytest.raises(KilnError, match="only a complete snapshot"):
        snapshots.restore("snapped", snapshot.id)
    harness.run(started)
    copy = (
        tmp_path
        / "snapshots"
        / snapshots.get("snapped", snapshot.id).data["resources"]["server"]["snapshot_id"]
    )
    assert copy.exists()
    assert asyncio.run(snapshots.delete("snapped", snapshot.id)) == []
    # The backend snapshot went with it.
    assert not copy.exists()
    assert snapshots.list("snapped") == []
    with pytest.raises(SnapshotNotFound):
        snapshots.get("snapped", snapshot.id)
