"""Local::Volume and Local::VolumeAttachment through their plugins, with real files and servers."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from local_support import Driver, wait_until

from kiln.clients.local import LocalCloud
from kiln.clients.local.volumes import GIB
from kiln.providers.context import ProviderContext
from kiln.providers.errors import InvalidInput, ResourceFailed
from kiln.providers.protocol import (
    AttributeRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    RestoreRequest,
    SnapshotDeleteRequest,
    SnapshotRequest,
    UpdateRequest,
)
from kiln.providers.testing import ContractCase, run_contract
from kiln.resources.local.volume import LocalVolume, LocalVolumeAttachment
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry

#: A server that waits for its volume to appear at volumes/data, then writes into it.
WRITER = (
    "while [ ! -d volumes/data ]; do sleep 0.05; done; "
    'echo "written by $KILN_SERVER_NAME" > volumes/data/note.txt; sleep 600'
)
#: A server that waits for the note at volumes/data and prints it to its console.
READER = (
    "while [ ! -f volumes/data/note.txt ]; do sleep 0.05; done; "
    'echo "read: $(cat volumes/data/note.txt)"; sleep 600'
)


def context(cloud: LocalCloud) -> ProviderContext:
    return ProviderContext.create("Local::Volume", "volume", clients={"local": cloud})


def converted(plugin: type[ResourcePlugin], values: Mapping[str, Any]) -> dict[str, Any]:
    result, diagnostics = validate_properties(plugin.schema, values, SchemaRegistry(), live=True)
    assert diagnostics == []
    return dict(result)


class Volumes:
    """Calls the two plugins as the engine does."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.volume = LocalVolume()
        self.attachment = LocalVolumeAttachment()

    def create(self, plugin: ResourcePlugin, values: Mapping[str, Any]) -> str:
        request = CreateRequest(
            name="resource",
            properties=converted(type(plugin), values),
            idempotency_token=str(uuid.uuid4()),
            physical_name="vol-1",
        )
        progress = asyncio.run(plugin.create(context(self.cloud), request))
        assert progress.done and progress.physical_id is not None
        return progress.physical_id

    def create_volume(self, size: int = 1, **values: Any) -> str:
        return self.create(self.volume, {"size": size, **values})

    def attach(self, volume_id: str, server_id: str, mountpoint: str | None = None) -> str:
        values = {"volume_id": volume_id, "instance_uuid": server_id, "mountpoint": mountpoint}
        return self.create(self.attachment, values)

    def update(
        self,
        plugin: ResourcePlugin,
        physical_id: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
    ) -> None:
        old, new = converted(type(plugin), old), converted(type(plugin), new)
        request = UpdateRequest(
            name="resource",
            physical_id=physical_id,
            old_properties=old,
            new_properties=new,
            changed=frozenset(k for k in {*old, *new} if old.get(k) != new.get(k)),
        )
        assert asyncio.run(plugin.update(context(self.cloud), request)).done

    def read(
        self, plugin: ResourcePlugin, physical_id: str, values: Mapping[str, Any]
    ) -> ReadResult | None:
        request = ReadRequest(
            name="resource", physical_id=physical_id, properties=converted(type(plugin), values)
        )
        return asyncio.run(plugin.read(context(self.cloud), request))

    def attributes(self, plugin: ResourcePlugin, physical_id: str, *names: str) -> dict[str, Any]:
        request = AttributeRequest(
            name="resource", physical_id=physical_id, properties={}, names=frozenset(names)
        )
        return dict(asyncio.run(plugin.attributes(context(self.cloud), request)))

    def delete(self, plugin: ResourcePlugin, physical_id: str) -> None:
        request = DeleteRequest(name="resource", physical_id=physical_id, properties={})
        assert asyncio.run(plugin.delete(context(self.cloud), request)).done

    def snapshot(self, volume_id: str, token: str = "t1") -> str:
        request = SnapshotRequest(
            name="resource", physical_id=volume_id, properties={}, idempotency_token=token
        )
        snapshot_id = asyncio.run(self.volume.snapshot(context(self.cloud), request)).physical_id
        assert snapshot_id is not None
        return snapshot_id

    def status(self, volume_id: str) -> str:
        return str(self.attributes(self.volume, volume_id, "status")["status"])


def data_of(cloud: LocalCloud, volume_id: str) -> Path:
    return cloud.root / "volumes" / volume_id / "data"


def test_the_volume_passes_the_provider_contract(cloud: LocalCloud) -> None:
    names = frozenset(LocalVolume.schema.attributes)
    case = ContractCase(
        LocalVolume,
        {"size": 1, "name": "data", "description": "d", "metadata": {"a": "1"}},
        {"size": 2, "name": "data2", "description": "e", "metadata": {"a": "2"}},
        names,
    )
    result = asyncio.run(run_contract(case, lambda: context(cloud)))
    attributes = result.attributes
    assert {k: attributes[k] for k in ("size", "status", "name", "display_name")} == {
        "size": 1,
        "status": "available",
        "name": "data",
        "display_name": "data",
    }
    assert (attributes["attachments"], attributes["used_bytes"]) == ([], 0)
    assert attributes["path"] == str(data_of(cloud, result.physical_id))
    assert attributes["metadata_values"] == {"a": "1"}
    updated = result.updated_attributes
    assert (updated["size"], updated["name"], updated["display_description"]) == (2, "data2", "e")
    assert not (cloud.root / "volumes" / result.physical_id).exists()


def test_the_attachment_passes_the_provider_contract(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    volume_id = volumes.create_volume()
    base = {"volume_id": volume_id, "instance_uuid": server_id}
    case = ContractCase(
        LocalVolumeAttachment,
        {**base, "mountpoint": "mnt/one"},
        {**base, "mountpoint": "mnt/two"},
        frozenset({"path", "show"}),
    )
    result = asyncio.run(run_contract(case, lambda: context(cloud)))
    work = cloud.servers_directory / server_id / "work"
    assert result.attributes["path"] == str(work / "mnt" / "one")
    assert result.updated_attributes["path"] == str(work / "mnt" / "two")
    assert not os.path.lexists(work / "mnt" / "one")
    assert not os.path.lexists(work / "mnt" / "two")
    assert volumes.status(volume_id) == "available"


def test_a_server_writes_through_its_mountpoint_into_the_volume(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"name": "writer", "command": WRITER})
    volume_id = volumes.create_volume(name="data")
    attachment_id = volumes.attach(volume_id, server_id)

    note = data_of(cloud, volume_id) / "note.txt"
    wait_until(note.exists)
    wait_until(lambda: note.read_text() == "written by writer\n")
    attributes = volumes.attributes(
        volumes.volume, volume_id, "status", "attachments", "used_bytes"
    )
    link = cloud.servers_directory / server_id / "work" / "volumes" / "data"
    assert attributes == {
        "status": "in-use",
        "used_bytes": max(note.stat().st_size, note.stat().st_blocks * 512),
        "attachments": [
            {
                "id": attachment_id,
                "attachment_id": attachment_id,
                "server_id": server_id,
                "volume_id": volume_id,
                "device": "volumes/data",
                "path": str(link),
            }
        ],
    }
    read = volumes.read(volumes.attachment, attachment_id, {"volume_id": "v", "instance_uuid": "s"})
    assert read is not None
    assert read.properties == {
        "instance_uuid": server_id,
        "volume_id": volume_id,
        "mountpoint": None,
    }

    volumes.delete(volumes.attachment, attachment_id)
    assert not os.path.lexists(link)
    assert note.read_text() == "written by writer\n"
    assert volumes.status(volume_id) == "available"
    assert (
        volumes.read(volumes.attachment, attachment_id, {"volume_id": "v", "instance_uuid": "s"})
        is None
    )
    volumes.delete(volumes.attachment, attachment_id)  # already gone: still a success


def test_moving_the_attachment_to_another_server_keeps_the_data(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    driver = Driver(cloud)
    writer = driver.create({"name": "writer", "command": WRITER})
    reader = driver.create({"name": "reader", "command": READER})
    volume_id = volumes.create_volume(name="data")
    attachment_id = volumes.attach(volume_id, writer)
    wait_until((data_of(cloud, volume_id) / "note.txt").exists)

    old = {"volume_id": volume_id, "instance_uuid": writer}
    volumes.update(volumes.attachment, attachment_id, old, {**old, "instance_uuid": reader})
    wait_until(lambda: "read: written by writer" in cloud.console_log(reader))
    assert not os.path.lexists(cloud.servers_directory / writer / "work" / "volumes" / "data")
    (attachment,) = volumes.attributes(volumes.volume, volume_id, "attachments")["attachments"]
    assert (attachment["id"], attachment["server_id"]) == (attachment_id, reader)

    # The writer's server going away never touches the volume's files.
    driver.delete(writer)
    assert (data_of(cloud, volume_id) / "note.txt").read_text() == "written by writer\n"


def test_a_volume_attaches_to_one_server_at_a_time(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    driver = Driver(cloud)
    first = driver.create({"command": "sleep 600"})
    second = driver.create({"command": "sleep 600"})
    volume_id = volumes.create_volume()
    volumes.attach(volume_id, first)
    with pytest.raises(ResourceFailed) as failure:
        volumes.attach(volume_id, second)
    assert str(failure.value) == (
        f"volume {volume_id} is already attached to server {first}: "
        "a Local volume attaches to one server at a time"
    )
    assert not (cloud.servers_directory / second / "work" / "volumes").exists()

    # Deleting the server removes its link, never the data, and frees the volume.
    (data_of(cloud, volume_id) / "kept.txt").write_text("kept\n")
    driver.delete(first)
    assert volumes.status(volume_id) == "available"
    volumes.attach(volume_id, second)
    link = cloud.servers_directory / second / "work" / "volumes" / "vol-1"
    assert (link / "kept.txt").read_text() == "kept\n"
    assert volumes.status(volume_id) == "in-use"


def test_an_attached_volume_cannot_be_deleted_and_a_detached_one_leaves_nothing(
    cloud: LocalCloud,
) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    volume_id = volumes.create_volume()
    attachment_id = volumes.attach(volume_id, server_id, "disk")
    with pytest.raises(ResourceFailed) as failure:
        volumes.delete(volumes.volume, volume_id)
    assert str(failure.value) == (
        f"volume {volume_id} is in-use (attached to server {server_id}): "
        "detach it before deleting it"
    )
    (data_of(cloud, volume_id) / "file").write_text("x")

    volumes.delete(volumes.attachment, attachment_id)
    volumes.delete(volumes.volume, volume_id)
    assert list((cloud.root / "volumes").iterdir()) == []
    assert list((cloud.root / "attachments").iterdir()) == []
    assert volumes.read(volumes.volume, volume_id, {"size": 1}) is None
    volumes.delete(volumes.volume, volume_id)  # already gone: still a success


def test_a_snapshot_keeps_the_files_and_a_restore_puts_them_back(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    volume_id = volumes.create_volume()
    volumes.attach(volume_id, server_id, "disk")
    link = cloud.servers_directory / server_id / "work" / "disk"
    (link / "sub").mkdir()
    (link / "sub" / "kept.txt").write_text("first\n")

    snapshot_id = volumes.snapshot(volume_id)
    assert volumes.snapshot(volume_id) == snapshot_id  # the same token finds it again
    (link / "sub" / "kept.txt").write_text("second\n")
    (link / "added.txt").write_text("later\n")

    request = RestoreRequest(
        name="resource", physical_id=volume_id, properties={}, snapshot_id=snapshot_id
    )
    assert asyncio.run(volumes.volume.restore(context(cloud), request)).done
    assert sorted(str(p.relative_to(link)) for p in link.rglob("*")) == ["sub", "sub/kept.txt"]
    assert (link / "sub" / "kept.txt").read_text() == "first\n"

    archive = cloud.snapshots_directory / f"{snapshot_id}.tar.gz"
    assert archive.exists()
    delete = SnapshotDeleteRequest(name="resource", snapshot_id=snapshot_id)
    asyncio.run(volumes.volume.delete_snapshot(context(cloud), delete))
    assert not archive.exists()


def test_a_volume_over_its_size_reports_error_until_it_grows(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    volume_id = volumes.create_volume(1)
    big = data_of(cloud, volume_id) / "big.img"
    with open(big, "wb") as handle:  # sparse: counted at its length, nothing allocated
        handle.truncate(GIB + 1)

    reason = (
        f"volume {volume_id} holds {GIB + 1} bytes, more than its size of 1 GiB: "
        "grow it (size) or remove files"
    )
    show = volumes.attributes(volumes.volume, volume_id, "show")["show"]
    assert (show["status"], show["status_reason"], show["used_bytes"]) == (
        "error",
        reason,
        GIB + 1,
    )
    with pytest.raises(ResourceFailed) as read_failure:
        volumes.read(volumes.volume, volume_id, {"size": 1})
    assert str(read_failure.value) == reason
    with pytest.raises(ResourceFailed) as attach_failure:
        volumes.attach(volume_id, server_id)
    assert str(attach_failure.value) == f"{reason}; it cannot be attached until then"
    with pytest.raises(ResourceFailed) as snapshot_failure:
        volumes.snapshot(volume_id)
    assert str(snapshot_failure.value) == f"{reason}; it cannot be snapshotted until then"

    volumes.update(volumes.volume, volume_id, {"size": 1}, {"size": 2})
    assert volumes.status(volume_id) == "available"
    read = volumes.read(volumes.volume, volume_id, {"size": 2})
    assert read is not None and read.properties["size"] == 2
    volumes.attach(volume_id, server_id)
    assert volumes.status(volume_id) == "in-use"


def test_a_volume_can_grow_but_not_shrink(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    volume_id = volumes.create_volume(3, name="v")
    (data_of(cloud, volume_id) / "kept").write_text("data")
    with pytest.raises(InvalidInput) as failure:
        volumes.update(volumes.volume, volume_id, {"size": 3}, {"size": 2})
    assert str(failure.value) == (
        "size: Shrinking volume is not supported: a volume's size can only grow"
    )
    assert [tuple(d.path) for d in failure.value.diagnostics] == [("size",)]
    assert volumes.attributes(volumes.volume, volume_id, "size") == {"size": 3}
    volumes.update(volumes.volume, volume_id, {"size": 3, "name": "v"}, {"size": 5, "name": "w"})
    assert volumes.attributes(volumes.volume, volume_id, "size", "name") == {
        "size": 5,
        "name": "w",
    }
    assert (data_of(cloud, volume_id) / "kept").read_text() == "data"
    policies = {name: p.update_policy.value for name, p in LocalVolume.schema.properties.items()}
    assert set(policies.values()) == {"in_place"}


@pytest.mark.parametrize(
    ("mountpoint", "message"),
    [
        ("/srv/data", "the path must be relative to the server's working directory"),
        ("../escape", "the path must not leave the server's working directory ('..')"),
        ("data/../../escape", "the path must not leave the server's working directory ('..')"),
        (".", "the path must name a directory inside the server's working directory"),
    ],
)
def test_a_mountpoint_outside_the_server_is_refused_naming_the_property(
    cloud: LocalCloud, mountpoint: str, message: str
) -> None:
    plugin = LocalVolumeAttachment()
    values = {"volume_id": "v", "instance_uuid": "s", "mountpoint": mountpoint}
    (diagnostic,) = plugin.validate(converted(LocalVolumeAttachment, values))
    assert (tuple(diagnostic.path), diagnostic.message) == (("mountpoint",), message)

    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    volume_id = volumes.create_volume()
    with pytest.raises(InvalidInput) as failure:
        volumes.attach(volume_id, server_id, mountpoint)
    assert str(failure.value) == f"mountpoint: {message}"
    assert volumes.status(volume_id) == "available"


def test_a_mountpoint_through_another_volume_or_over_a_file_is_refused(
    cloud: LocalCloud,
) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    work = cloud.servers_directory / server_id / "work"
    (work / "taken").write_text("server file")
    first, second = volumes.create_volume(), volumes.create_volume()
    volumes.attach(first, server_id, "disk")
    (data_of(cloud, first) / "inner").mkdir()
    with pytest.raises(InvalidInput) as over_file:
        volumes.attach(second, server_id, "taken")
    assert str(over_file.value) == (
        "mountpoint: taken is already in use in the server's working directory"
    )
    with pytest.raises(InvalidInput) as through_link:
        volumes.attach(second, server_id, "disk/inner/second")
    assert str(through_link.value) == (
        "mountpoint: disk/inner/second leads out of the server's working directory (through a link)"
    )
    assert (work / "taken").read_text() == "server file"
    assert list((data_of(cloud, first) / "inner").iterdir()) == []


def test_unknown_servers_and_volumes_are_refused_naming_the_property(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    volume_id = volumes.create_volume()
    missing = str(uuid.uuid4())
    with pytest.raises(InvalidInput) as no_server:
        volumes.attach(volume_id, missing)
    assert str(no_server.value) == f"instance_uuid: server {missing} does not exist"
    with pytest.raises(InvalidInput) as no_volume:
        volumes.attach("../volumes", server_id)
    assert str(no_volume.value) == "volume_id: volume ../volumes does not exist"


def test_a_retried_create_finds_the_volume_and_the_attachment(cloud: LocalCloud) -> None:
    volumes = Volumes(cloud)
    server_id = Driver(cloud).create({"command": "sleep 600"})
    token = str(uuid.uuid4())
    request = CreateRequest(
        name="volume",
        properties=converted(LocalVolume, {"size": 1}),
        idempotency_token=token,
        physical_name="v",
    )
    first = asyncio.run(volumes.volume.create(context(cloud), request)).physical_id
    again = asyncio.run(volumes.volume.create(context(cloud), request)).physical_id
    assert first == again and first is not None
    find = FindRequest(name="volume", idempotency_token=token, physical_name="v", properties={})
    assert asyncio.run(volumes.volume.find(context(cloud), find)) == first
    assert asyncio.run(volumes.attachment.find(context(cloud), find)) is None

    attach = CreateRequest(
        name="attachment",
        properties=converted(
            LocalVolumeAttachment, {"volume_id": first, "instance_uuid": server_id}
        ),
        idempotency_token=token,
        physical_name="a",
    )
    attached = asyncio.run(volumes.attachment.create(context(cloud), attach)).physical_id
    assert asyncio.run(volumes.attachment.create(context(cloud), attach)).physical_id == attached
    assert asyncio.run(volumes.attachment.find(context(cloud), find)) == attached
    assert len(volumes.attributes(volumes.volume, first, "attachments")["attachments"]) == 1
