"""``Test::File``: a provider whose resources are files, with snapshots and an update_policy.

It exists to prove the engine's side of ``deletion_policy: Snapshot`` and
of ``update_policy`` hooks against something real: create writes
``directory/<physical name>``, a snapshot copies it to
``directory/snapshots/<token>`` (found again by token when retried), and
every create or update appends the update_policy it was given to
``directory/policies.log``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound
from kiln.providers.protocol import (
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    RestoreRequest,
    SnapshotDeleteRequest,
    SnapshotRequest,
    UpdateRequest,
)
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

SCHEMA = ResourceSchema(
    "Test::File",
    properties={
        "directory": PropertySchema(PropertyType.STRING, "Where the file lives.", required=True),
        "content": PropertySchema(
            PropertyType.STRING,
            "What the file holds.",
            default="",
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
    update_policy={
        "batch": PropertySchema(
            PropertyType.MAP,
            "How many to change at once.",
            properties={
                "max_batch_size": PropertySchema(
                    PropertyType.INTEGER, "At most this many.", default=1
                )
            },
        )
    },
    supports_snapshot=True,
)


class FilePlugin(ResourcePlugin):
    type_name = "Test::File"
    schema = SCHEMA

    @staticmethod
    def _log_policy(properties: Mapping[str, Any], action: str, policy: Mapping[str, Any]) -> None:
        with (Path(properties["directory"]) / "policies.log").open("a", encoding="utf-8") as log:
            log.write(json.dumps({"action": action, "policy": dict(policy)}, sort_keys=True) + "\n")

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        path = Path(request.properties["directory"]) / request.physical_name
        path.write_text(request.properties["content"], encoding="utf-8")
        self._log_policy(request.properties, "create", request.update_policy)
        return Progress(done=True, physical_id=str(path))

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        path = Path(request.physical_id or "")
        if not path.exists():
            raise NotFound(f"{path} is gone")
        path.write_text(request.new_properties["content"], encoding="utf-8")
        self._log_policy(request.new_properties, "update", request.update_policy)
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        Path(request.physical_id or "").unlink(missing_ok=True)
        return Progress(done=True)

    async def snapshot(self, ctx: ProviderContext, request: SnapshotRequest) -> Progress:
        snapshots = Path(request.properties["directory"]) / "snapshots"
        snapshots.mkdir(exist_ok=True)
        target = snapshots / request.idempotency_token
        if not target.exists():
            shutil.copyfile(request.physical_id, target)
        return Progress(done=True, physical_id=target.name)

    async def restore(self, ctx: ProviderContext, request: RestoreRequest) -> Progress:
        copy = Path(request.properties["directory"]) / "snapshots" / request.snapshot_id
        if not copy.exists():
            raise NotFound(f"snapshot {request.snapshot_id} is gone")
        shutil.copyfile(copy, request.physical_id)
        return Progress(done=True)

    async def delete_snapshot(self, ctx: ProviderContext, request: SnapshotDeleteRequest) -> None:
        directory = request.properties.get("directory")
        if directory is None:
            raise NotFound("the resource is gone, and its directory with it")
        (Path(directory) / "snapshots" / request.snapshot_id).unlink(missing_ok=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        path = Path(request.properties["directory"]) / request.physical_name
        return str(path) if path.exists() else None

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        path = Path(request.physical_id or "")
        if not path.exists():
            return None
        return ReadResult({**request.properties, "content": path.read_text(encoding="utf-8")})
