"""What every ``Local::*`` plugin does to reach the Local cloud.

The cloud's calls block (they touch files and processes), so a plugin runs
them off the event loop; a refusal that names a property becomes an
``InvalidInput`` diagnostic on that property, any other a resource failure.
One place keeps that translation the same for servers, volumes and load
balancers, and one base class the lifecycle calls that servers and volumes
make alike (delete, find, snapshot, restore), each through its own table of
cloud calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from kiln.clients.local import LocalCloud, LocalCloudError
from kiln.clients.local.load_balancers import LoadBalancerError
from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import ProviderContext
from kiln.providers.errors import InvalidInput, ResourceFailed
from kiln.providers.protocol import (
    DeleteRequest,
    FindRequest,
    Progress,
    ResourcePlugin,
    RestoreRequest,
    SnapshotDeleteRequest,
    SnapshotRequest,
)

#: The client name under ``ProviderContext.clients``.
CLIENT = "local"
#: The diagnostic code of a property the Local cloud refused.
REFUSED = "L1001"
T = TypeVar("T")


def local_cloud(ctx: ProviderContext) -> LocalCloud:
    """The Local cloud Kiln was configured with; a resource failure when there is none."""
    cloud = ctx.clients.get(CLIENT)
    if not isinstance(cloud, LocalCloud):
        raise ResourceFailed("the Local provider is not configured in this Kiln")
    return cloud


async def call(function: Callable[..., T], *arguments: Any) -> T:
    """Run a blocking Local cloud call off the event loop, its refusals as resource errors."""
    try:
        return await asyncio.to_thread(function, *arguments)
    except (LoadBalancerError, LocalCloudError) as error:
        if error.property_name is not None:
            path = TemplatePath((error.property_name,))
            raise InvalidInput([Diagnostic(REFUSED, str(error), path)]) from None
        raise ResourceFailed(str(error)) from None


def selected(values: Mapping[str, Any] | None, names: Collection[str]) -> dict[str, Any]:
    """The attributes asked for, each None when the resource (``values`` None) is gone."""
    if values is None:
        return {name: None for name in names}
    return {name: values.get(name) for name in names}


@dataclass(frozen=True)
class CloudCalls:
    """The Local cloud's calls for one kind of thing (servers, volumes), by what they do."""

    #: ``delete(id) -> existed``
    delete: Callable[[str], bool]
    #: ``find(idempotency token) -> id or None``
    find: Callable[[str], str | None]
    #: ``snapshot(id, idempotency token) -> snapshot id``
    snapshot: Callable[[str, str], str]
    #: ``restore(id, snapshot id)``
    restore: Callable[[str, str], None]
    #: ``delete_snapshot(snapshot id)``
    delete_snapshot: Callable[[str], None]


class LocalCloudPlugin(ResourcePlugin):
    """A plugin whose delete, find and snapshots are plain calls of the Local cloud."""

    #: What the log calls one of these ("server", "volume").
    noun: ClassVar[str]

    def cloud_calls(self, ctx: ProviderContext) -> CloudCalls:
        raise NotImplementedError

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if request.physical_id is not None:
            existed = await call(self.cloud_calls(ctx).delete, request.physical_id)
            ctx.logger.info("deleted %s %s (existed: %s)", self.noun, request.physical_id, existed)
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return await call(self.cloud_calls(ctx).find, request.idempotency_token)

    async def snapshot(self, ctx: ProviderContext, request: SnapshotRequest) -> Progress:
        calls = self.cloud_calls(ctx)
        snapshot_id = await call(calls.snapshot, request.physical_id, request.idempotency_token)
        return Progress(done=True, physical_id=snapshot_id)

    async def restore(self, ctx: ProviderContext, request: RestoreRequest) -> Progress:
        await call(self.cloud_calls(ctx).restore, request.physical_id, request.snapshot_id)
        return Progress(done=True)

    async def delete_snapshot(self, ctx: ProviderContext, request: SnapshotDeleteRequest) -> None:
        await call(self.cloud_calls(ctx).delete_snapshot, request.snapshot_id)
