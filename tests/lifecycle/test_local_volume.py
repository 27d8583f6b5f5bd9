"""Stacks with Local::Volumes attached to Local::Servers: real files through real processes."""

from __future__ import annotations

import os
import tarfile

import pytest
from lifecycle_support import Harness, run_local, wait_until

from kiln.clients.local import LocalCloud
from kiln.clients.local.volumes import LocalVolumes
from kiln.errors import TemplateError
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


def template(server: str) -> str:
    return TEMPLATE.replace("TARGET", server)


def attached_to(cloud: LocalCloud, volume_id: str) -> tuple[str, list[str]]:
    """The volume's status and the servers it is attached to, as the Local cloud sees them."""
    volume = LocalVolumes(cloud).volume(volume_id)
    assert volume is not None
    return volume.status, [attachment.server_id for attachment in volume.attachments]


def test_moving_an_attachment_between_servers_keeps_the_volume_data(
    harness: Harness, cloud: LocalCloud
) -> None:
    stack = run_local(
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

    stack = run_local(
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

    stack = run_local(harness, cloud, harness.service.check(stack.id))
    assert stack.state == "CHECK_COMPLETE", stack.status_reason

    stack = run_local(harness, cloud, harness.service.delete(stack.id))
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
    stack = run_local(harness, cloud, harness.service.create("archived", StackDefinition(POLICY)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    volume_id = harness.live(stack)["data"].physical_id or ""
    data = cloud.root / "volumes" / volume_id / "data"
    with open(data / "big.img", "wb") as handle:
        handle.truncate(2 * 1024**3)

    stack = run_local(harness, cloud, harness.service.check(stack.id))
    assert stack.state == "CHECK_FAILED"
    assert harness.live(stack)["data"].status_reason == (
        f"ResourceFailed: resources.data: volume {volume_id} holds {2 * 1024**3} bytes, "
        "more than its size of 1 GiB: grow it (size) or remove files"
    )

    (data / "big.img").unlink()
    (data / "kept.txt").write_text("kept\n")
    stack = run_local(harness, cloud, harness.service.delete(stack.id))
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
  place:
    type: OS::Heat::Value
    properties: {value: ../escape}
  attachment:
    type: Local::VolumeAttachment
    properties:
      instance_uuid: {get_resource: server}
      volume_id: {get_resource: data}
      mountpoint: MOUNTPOINT
"""


def test_a_mountpoint_outside_the_server_is_refused_before_anything_is_made(
    harness: Harness, cloud: LocalCloud
) -> None:
    written = ESCAPING.replace("MOUNTPOINT", "../escape")
    with pytest.raises(TemplateError) as refused:
        harness.service.create("escaping", StackDefinition(written))
    (problem,) = refused.value.diagnostics
    assert (problem.code, str(problem.path), problem.span and problem.span.line) == (
        "L1001",
        "resources.attachment.properties.mountpoint",
        17,
    )
    assert harness.service.stacks.find(harness.service.project_id, "escaping") is None
    assert not cloud.servers_directory.is_dir() or list(cloud.servers_directory.iterdir()) == []


def test_a_mountpoint_known_only_at_create_fails_the_attachment_naming_the_property(
    harness: Harness, cloud: LocalCloud
) -> None:
    """The same check when the mountpoint comes from another resource: the cloud refuses it."""
    read = ESCAPING.replace("MOUNTPOINT", "{get_attr: [place, value]}")
    stack = run_local(
        harness,
        cloud,
        harness.service.create("escaping", StackDefinition(read), disable_rollback=True),
    )
    assert stack.state == "CREATE_FAILED"
    assert harness.live(stack)["attachment"].status_reason == (
        "InvalidInput: resources.attachment: mountpoint: "
        "the path must not leave the server's working directory ('..')"
    )
    server = cloud.server(harness.live(stack)["server"].physical_id or "")
    assert server is not None and not (server.directory.parent.parent / "escape").exists()

    stack = run_local(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    assert list((cloud.root / "volumes").iterdir()) == []
    assert list(cloud.servers_directory.iterdir()) == []
