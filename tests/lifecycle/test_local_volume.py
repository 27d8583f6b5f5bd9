"""Stacks with Local::Volumes attached to Local::Servers: real files through real processes."""

from __future__ import annotations

import os
import random
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lifecycle_support import Harness

from kiln.clients.local import LocalCloud
from kiln.clients.local.volumes import LocalVolumes
from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  writer:
    type: Local::Server
    properties:
      command: |
        while [ ! -d volumes/data ]; do sleep 0.05; done
        echo "written by $KILN_SERVER_NAME" > volumes/data/note.txt
        sleep 600
  reader:
    type: Local::Server
    properties:
      command: |
        while [ ! -f volumes/data/note.txt ]; do sleep 0.05; done
        echo "read: $(cat volumes/data/note.txt)"
        sleep 600
  data:
    type: Local::Volume
    properties: {size: 1, name: data, metadata: {tier: gold}}
  attachment:
    type: Local::VolumeAttachment
    properties:
      instance_uuid: {get_resource: TARGET}
      volume_id: {get_resource: data}
outputs:
  mounted_at: {value: {get_attr: [attachment, path]}}
"""


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    network = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/29"
    cloud = LocalCloud(tmp_path / "local", address_range=network, stop_grace_seconds=0.5)
    try:
        yield cloud
    finally:
        if cloud.servers_directory.is_dir():
            for directory in cloud.servers_directory.iterdir():
                cloud.delete_server(directory.name)


def run(harness: Harness, cloud: LocalCloud, stack: StackRecord) -> StackRecord:
    return harness.run(stack, clients={"local": cloud})


def template(server: str) -> str:
    return TEMPLATE.replace("TARGET", server)


def attached_to(cloud: LocalCloud, volume_id: str) -> tuple[str, list[str]]:
    """The volume's status and the servers it is attached to, as the Local cloud sees them."""
    volume = LocalVolumes(cloud).volume(volume_id)
    assert volume is not None
    return volume.status, [attachment.server_id for attachment in volume.attachments]


def wait_until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_moving_an_attachment_between_servers_keeps_the_volume_data(
    harness: Harness, cloud: LocalCloud
) -> None:
    stack = run(
        harness, cloud, harness.service.create("volumes", StackDefinition(template("writer")))
    )
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    writer, reader = live["writer"].physical_id or "", live["reader"].physical_id or ""
    volume_id = live["data"].physical_id or ""
    attachment_id = live["attachment"].physical_id
    note = cloud.root / "volumes" / volume_id / "data" / "note.txt"
    writer_server = cloud.server(writer)
    assert writer_server is not None
    written = f"written by {writer_server.name}\n"
    wait_until(lambda: note.exists() and note.read_text() == written)
    assert attached_to(cloud, volume_id) == ("in-use", [writer])
    outputs = {o.key: o.value for o in harness.service.outputs(stack)}
    assert outputs == {"mounted_at": str(writer_server.work / "volumes" / "data")}

    stack = run(
        harness,
        cloud,
        harness.service.update(stack.id, StackDefinition(template("reader"))),
    )
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    assert live["attachment"].physical_id == attachment_id
    assert live["data"].physical_id == volume_id
    wait_until(lambda: f"read: {written}" in cloud.console_log(reader))
    assert note.read_text() == written
    assert not os.path.lexists(cloud.servers_directory / writer / "work" / "volumes" / "data")
    assert attached_to(cloud, volume_id) == ("in-use", [reader])
    outputs = {o.key: o.value for o in harness.service.outputs(stack)}
    assert outputs == {"mounted_at": str(cloud.servers_directory / reader / "work/volumes/data")}

    stack = run(harness, cloud, harness.service.check(stack.id))
    assert stack.state == "CHECK_COMPLETE", stack.status_reason

    stack = run(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    assert list((cloud.root / "volumes").iterdir()) == []
    assert list((cloud.root / "attachments").iterdir()) == []
    assert list(cloud.servers_directory.iterdir()) == []


POLICY = """\
heat_template_version: 2018-08-31
resources:
  data:
    type: Local::Volume
    deletion_policy: Snapshot
    properties: {size: 1}
"""


def test_a_check_reports_an_oversized_volume_and_a_snapshot_policy_archives_it(
    harness: Harness, cloud: LocalCloud
) -> None:
    stack = run(harness, cloud, harness.service.create("archived", StackDefinition(POLICY)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    volume_id = harness.live(stack)["data"].physical_id or ""
    data = cloud.root / "volumes" / volume_id / "data"
    with open(data / "big.img", "wb") as handle:
        handle.truncate(2 * 1024**3)

    stack = run(harness, cloud, harness.service.check(stack.id))
    assert stack.state == "CHECK_FAILED"
    assert harness.live(stack)["data"].status_reason == (
        f"ResourceFailed: resources.data: volume {volume_id} holds {2 * 1024**3} bytes, "
        "more than its size of 1 GiB: grow it (size) or remove files"
    )

    (data / "big.img").unlink()
    (data / "kept.txt").write_text("kept\n")
    stack = run(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    assert list((cloud.root / "volumes").iterdir()) == []
    (archive,) = cloud.snapshots_directory.iterdir()
    with tarfile.open(archive) as opened:
        kept = opened.extractfile("./kept.txt")
        assert kept is not None and kept.read() == b"kept\n"


ESCAPING = """\
heat_template_version: 2018-08-31
resources:
  server:
    type: Local::Server
    properties: {command: sleep 600}
  data:
    type: Local::Volume
    properties: {size: 1}
  attachment:
    type: Local::VolumeAttachment
    properties:
      instance_uuid: {get_resource: server}
      volume_id: {get_resource: data}
      mountpoint: ../escape
"""


def test_a_mountpoint_outside_the_server_fails_the_attachment_naming_the_property(
    harness: Harness, cloud: LocalCloud
) -> None:
    stack = run(
        harness,
        cloud,
        harness.service.create("escaping", StackDefinition(ESCAPING), disable_rollback=True),
    )
    assert stack.state == "CREATE_FAILED"
    assert harness.live(stack)["attachment"].status_reason == (
        "InvalidInput: resources.attachment: mountpoint: "
        "the path must not leave the server's working directory ('..')"
    )
    server = cloud.server(harness.live(stack)["server"].physical_id or "")
    assert server is not None and not (server.directory.parent.parent / "escape").exists()

    stack = run(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    assert list((cloud.root / "volumes").iterdir()) == []
    assert list(cloud.servers_directory.iterdir()) == []
