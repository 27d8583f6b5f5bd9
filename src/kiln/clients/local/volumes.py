"""Local volumes: size-limited directories that attach to Local servers.

A volume is ``ROOT/volumes/ID/data`` with its record beside it
(``volume.json``). Its size is a quota, not an allocation: nothing is
reserved up front, and the bytes its files hold (a walk like ``du``, sparse
files counted at their full length) are compared with the size whenever it
matters: a volume over its size reports ``error`` and cannot be attached or
snapshotted until it grows or files go.

An attachment is a symbolic link at a relative path inside the server's
working directory that points at the volume's data, so the server's
processes read and write the volume through it; its record is
``ROOT/attachments/ID.json``. A volume attaches to one server at a time, as
Cinder's volumes do unless multiattach is asked for. Detaching removes the
link, never the data. Ids come from idempotency tokens, as servers' do, so
a retried call finds what an earlier attempt made. Every change to volumes
or attachments holds one lock, so the one-server rule holds across Kiln
processes. Calls block: run them off the event loop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kiln.clients.local.cloud import LocalCloud, LocalCloudError
from kiln.clients.local.files import archive, is_id, locked, read_json, write_json

__all__ = [
    "AVAILABLE",
    "GIB",
    "IN_USE",
    "VOLUME_ERROR",
    "AttachmentInfo",
    "LocalVolumes",
    "VolumeInfo",
    "VolumeSpec",
    "usage",
]

#: Volume statuses, as Cinder names them.
AVAILABLE, IN_USE, VOLUME_ERROR = "available", "in-use", "error"
GIB = 1024**3
RECORD_FILE = "volume.json"
DATA_DIRECTORY = "data"
#: Where an attachment goes in the server's working directory when no mountpoint is given.
DEFAULT_MOUNT_DIRECTORY = "volumes"
_NAMESPACE = uuid.UUID("0b8d7c52-94a1-4e7f-8f0e-2a6c3d9b5e41")


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    size: int
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    volume_id: str
    server_id: str
    mountpoint: str
    #: The link inside the server's working directory.
    path: Path

    def show(self) -> dict[str, Any]:
        """The attachment as Cinder lists it in a volume's ``attachments``."""
        return {
            "id": self.id,
            "attachment_id": self.id,
            "server_id": self.server_id,
            "volume_id": self.volume_id,
            "device": self.mountpoint,
            "path": str(self.path),
        }


@dataclass(frozen=True)
class VolumeInfo:
    id: str
    name: str
    description: str
    metadata: Mapping[str, Any]
    #: The size in GiB.
    size: int
    status: str
    reason: str
    used_bytes: int
    path: Path
    created_at: str
    attachments: tuple[AttachmentInfo, ...]


def usage(directory: Path) -> int:
    """The bytes the files under ``directory`` hold, each file once, links not followed."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for parent, _, files in os.walk(directory, followlinks=False):
        for name in files:
            try:
                status = os.lstat(os.path.join(parent, name))
            except FileNotFoundError:
                continue
            key = (status.st_dev, status.st_ino)
            if stat.S_ISREG(status.st_mode) and key not in seen:
                seen.add(key)
                total += max(status.st_size, status.st_blocks * 512)
    return total


def check_mountpoint(mountpoint: str) -> str | None:
    """Why ``mountpoint`` cannot name a place inside a server's working directory, or None."""
    if not mountpoint.strip():
        return "the path must not be empty"
    path = PurePosixPath(mountpoint)
    if path.is_absolute():
        return "the path must be relative to the server's working directory"
    if ".." in path.parts:
        return "the path must not leave the server's working directory ('..')"
    if path.parts in ((), (".",)):
        return "the path must name a directory inside the server's working directory"
    return None


class LocalVolumes:
    """Volumes and attachments of one Local cloud (its root and its servers)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.root = Path(os.path.abspath(cloud.root))

    @property
    def volumes_directory(self) -> Path:
        return self.root / "volumes"

    @property
    def attachments_directory(self) -> Path:
        return self.root / "attachments"

    def volume_id(self, token: str) -> str:
        """The id a create with this idempotency token gives (the same on every attempt)."""
        return str(uuid.uuid5(_NAMESPACE, f"volume:{token}"))

    def attachment_id(self, token: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"attachment:{token}"))

    def _directory(self, volume_id: str, property_name: str | None = None) -> Path:
        if not is_id(volume_id):
            raise LocalCloudError(f"{volume_id!r} is not a Local volume id", property_name)
        return self.volumes_directory / volume_id

    def _record_path(self, attachment_id: str) -> Path:
        if not is_id(attachment_id):
            raise LocalCloudError(f"{attachment_id!r} is not a Local attachment id")
        return self.attachments_directory / f"{attachment_id}.json"

    # Volumes -----------------------------------------------------------------

    def create_volume(self, token: str, spec: VolumeSpec) -> str:
        """Make the volume's directory (once per token) and return its id."""
        volume_id = self.volume_id(token)
        directory = self._directory(volume_id)
        with self._locked():
            if (directory / RECORD_FILE).exists():
                return volume_id
            (directory / DATA_DIRECTORY).mkdir(parents=True, exist_ok=True)
            record = {
                "id": volume_id,
                "name": spec.name,
                "description": spec.description,
                "metadata": dict(spec.metadata),
                "size": spec.size,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            write_json(directory / RECORD_FILE, record)
        return volume_id

    def volume(self, volume_id: str) -> VolumeInfo | None:
        """The volume as it is now (its usage measured), or None when it does not exist."""
        directory = self._directory(volume_id)
        record = read_json(directory / RECORD_FILE)
        if not record:
            return None
        data = directory / DATA_DIRECTORY
        used = usage(data)
        size = int(record["size"])
        attachments = tuple(self._attachments_of(volume_id))
        status, reason = (IN_USE if attachments else AVAILABLE), ""
        if used > size * GIB:
            status = VOLUME_ERROR
            reason = (
                f"volume {volume_id} holds {used} bytes, more than its size of {size} GiB: "
                "grow it (size) or remove files"
            )
        return VolumeInfo(
            id=volume_id,
            name=str(record.get("name", "")),
            description=str(record.get("description", "")),
            metadata=dict(record.get("metadata") or {}),
            size=size,
            status=status,
            reason=reason,
            used_bytes=used,
            path=data,
            created_at=str(record.get("created_at", "")),
            attachments=attachments,
        )

    def find_volume(self, token: str) -> str | None:
        volume_id = self.volume_id(token)
        return volume_id if (self._directory(volume_id) / RECORD_FILE).exists() else None

    def update_volume(
        self, volume_id: str, name: str, description: str, metadata: Mapping[str, Any], size: int
    ) -> None:
        """Rename, describe, retag or grow the volume; a smaller size is refused."""
        directory = self._directory(volume_id)
        with self._locked():
            record = read_json(directory / RECORD_FILE)
            if not record:
                raise LocalCloudError(f"volume {volume_id} does not exist")
            if size < int(record["size"]):
                raise LocalCloudError(
                    "Shrinking volume is not supported: a volume's size can only grow", "size"
                )
            record.update(name=name, description=description, metadata=dict(metadata), size=size)
            write_json(directory / RECORD_FILE, record)

    def delete_volume(self, volume_id: str) -> bool:
        """Remove the volume and its data; False if it was gone. An attached volume is refused."""
        directory = self._directory(volume_id)
        with self._locked():
            attached = list(self._attachments_of(volume_id))
            if attached:
                servers = ", ".join(sorted(a.server_id for a in attached))
                raise LocalCloudError(
                    f"volume {volume_id} is in-use (attached to server {servers}): "
                    "detach it before deleting it"
                )
            existed = directory.is_dir()
            for stale in self._records(volume_id):
                self._record_path(stale["id"]).unlink(missing_ok=True)
            shutil.rmtree(directory, ignore_errors=True)
        return existed

    # Snapshots ---------------------------------------------------------------

    def snapshot_volume(self, volume_id: str, token: str) -> str:
        """Archive the volume's data (once per token); the snapshot's id."""
        snapshot_id = str(uuid.uuid5(_NAMESPACE, f"snapshot:{token}"))
        target = self.cloud.snapshot_path(snapshot_id)
        if target.exists():
            return snapshot_id
        archive(self._usable(volume_id, "snapshotted").path, target)
        return snapshot_id

    def restore_volume(self, volume_id: str, snapshot_id: str) -> None:
        """Make the volume's data what the snapshot holds (attachments keep pointing at it)."""
        archive_path = self.cloud.snapshot_path(snapshot_id)
        if not archive_path.exists():
            raise LocalCloudError(f"snapshot {snapshot_id} does not exist")
        data = self._directory(volume_id) / DATA_DIRECTORY
        with self._locked():
            if not data.is_dir():
                raise LocalCloudError(f"volume {volume_id} does not exist")
            for entry in list(data.iterdir()):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            try:
                with tarfile.open(archive_path, "r:gz") as snapshot:
                    snapshot.extractall(data, filter="data")
            except (tarfile.TarError, OSError) as error:
                raise LocalCloudError(
                    f"snapshot {snapshot_id} cannot be restored: {error}"
                ) from None

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.cloud.delete_snapshot(snapshot_id)

    # Attachments -------------------------------------------------------------

    def attach(
        self, attachment_id: str, volume_id: str, server_id: str, mountpoint: str | None
    ) -> AttachmentInfo:
        """Attach the volume to the server, or move this attachment there.

        A retry finds its own link in place; a move (another volume, server
        or mountpoint) checks the new place first, then removes the old link
        and makes the new one: the data never moves.
        """
        record_path = self._record_path(attachment_id)
        with self._locked():
            current = self._attachment(read_json(record_path))
            volume = self._usable(volume_id, "attached", "volume_id")
            others = [a for a in volume.attachments if a.id != attachment_id]
            if others:
                raise LocalCloudError(
                    f"volume {volume_id} is already attached to server {others[0].server_id}: "
                    "a Local volume attaches to one server at a time"
                )
            work = self._server_work(server_id)
            chosen = mountpoint or f"{DEFAULT_MOUNT_DIRECTORY}/{_mount_name(volume)}"
            link = self._link_path(work, chosen, current)
            if current is not None and current.path != link:
                _unlink(current.path, self._data(current.volume_id))
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                os.symlink(volume.path, link, target_is_directory=True)
            elif os.readlink(link) != str(volume.path):
                os.unlink(link)
                os.symlink(volume.path, link, target_is_directory=True)
            record = {
                "id": attachment_id,
                "volume_id": volume_id,
                "server_id": server_id,
                "mountpoint": chosen,
                "path": str(link),
            }
            self.attachments_directory.mkdir(parents=True, exist_ok=True)
            write_json(record_path, record)
        attached = self._attachment(record)
        assert attached is not None
        return attached

    def attachment(self, attachment_id: str) -> AttachmentInfo | None:
        """The attachment, or None when it is gone or no longer links its volume."""
        found = self._attachment(read_json(self._record_path(attachment_id)))
        if found is None or not _links_to(found.path, self._data(found.volume_id)):
            return None
        return found

    def find_attachment(self, token: str) -> str | None:
        attachment_id = self.attachment_id(token)
        return attachment_id if self._record_path(attachment_id).exists() else None

    def detach(self, attachment_id: str) -> AttachmentInfo | None:
        """Remove the link (never the data) and the record; None if it was gone."""
        record_path = self._record_path(attachment_id)
        with self._locked():
            found = self._attachment(read_json(record_path))
            if found is not None:
                _unlink(found.path, self._data(found.volume_id))
            record_path.unlink(missing_ok=True)
        return found

    # Helpers -----------------------------------------------------------------

    def _data(self, volume_id: str) -> Path:
        return self.volumes_directory / volume_id / DATA_DIRECTORY

    def _usable(self, volume_id: str, doing: str, property_name: str | None = None) -> VolumeInfo:
        volume = self.volume(volume_id) if is_id(volume_id) else None
        if volume is None:
            raise LocalCloudError(f"volume {volume_id} does not exist", property_name)
        if volume.status == VOLUME_ERROR:
            raise LocalCloudError(f"{volume.reason}; it cannot be {doing} until then")
        return volume

    def _server_work(self, server_id: str) -> Path:
        try:
            server = self.cloud.server(server_id)
        except LocalCloudError as error:
            raise LocalCloudError(str(error), "instance_uuid") from None
        if server is None or not server.work.is_dir():
            raise LocalCloudError(f"server {server_id} does not exist", "instance_uuid")
        return server.work

    def _link_path(self, work: Path, mountpoint: str, current: AttachmentInfo | None) -> Path:
        problem = check_mountpoint(mountpoint)
        if problem is not None:
            raise LocalCloudError(problem, "mountpoint")
        link = work / mountpoint
        # A parent that is a link (another volume's mountpoint) may lead out of the server.
        parent = link.parent.resolve()
        if parent != work.resolve() and work.resolve() not in parent.parents:
            raise LocalCloudError(
                f"{mountpoint} leads out of the server's working directory (through a link)",
                "mountpoint",
            )
        if (link.is_symlink() or link.exists()) and (current is None or current.path != link):
            raise LocalCloudError(
                f"{mountpoint} is already in use in the server's working directory",
                "mountpoint",
            )
        return link

    def _records(self, volume_id: str) -> Iterator[dict[str, Any]]:
        if not self.attachments_directory.is_dir():
            return
        for path in sorted(self.attachments_directory.glob("*.json")):
            record = read_json(path)
            if record.get("volume_id") == volume_id:
                yield record

    def _attachments_of(self, volume_id: str) -> Iterator[AttachmentInfo]:
        """The volume's attachments to servers that still exist (a deleted server's are stale)."""
        for record in self._records(volume_id):
            found = self._attachment(record)
            if found is not None and self.server_exists(found.server_id):
                yield found

    def server_exists(self, server_id: str) -> bool:
        """Whether the server is still there (an attachment to a deleted one is stale)."""
        with contextlib.suppress(LocalCloudError):
            return self.cloud.server(server_id) is not None
        return False

    @staticmethod
    def _attachment(record: Mapping[str, Any]) -> AttachmentInfo | None:
        if not record:
            return None
        return AttachmentInfo(
            id=str(record["id"]),
            volume_id=str(record["volume_id"]),
            server_id=str(record["server_id"]),
            mountpoint=str(record["mountpoint"]),
            path=Path(record["path"]),
        )

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the volumes lock: attachments and deletes one at a time across processes."""
        return locked(self.root / "locks" / "volumes")


def _mount_name(volume: VolumeInfo) -> str:
    """The volume's name when it is usable as one path component, else its id."""
    name = volume.name
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        return volume.id
    return name


def _links_to(link: Path, data: Path) -> bool:
    return link.is_symlink() and os.readlink(link) == str(data)


def _unlink(link: Path, data: Path) -> None:
    """Remove the link if it still points at the volume's data; whatever else is there stays."""
    if _links_to(link, data):
        link.unlink()
