"""What the ``OS::Heat::*`` utility resources share: Kiln's record is their backend.

They create nothing outside Kiln, so "the resource exists" means "its record
says so": a delete marks ``provider_data`` as deleted, ``read`` reports a
deleted or never-created resource as gone, and a lost create result can be
adopted again because the physical id is derived from the request alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.errors import Cancelled
from kiln.providers.protocol import (
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    UpdateRequest,
)

__all__ = ["DELETED", "RecordOnlyPlugin", "is_deleted", "stop_if_cancelled"]

#: ``provider_data`` of a deleted resource.
DELETED: Mapping[str, Any] = MappingProxyType({"deleted": True})


def is_deleted(provider_data: Mapping[str, Any]) -> bool:
    return provider_data.get("deleted") is True


def stop_if_cancelled(ctx: ProviderContext) -> None:
    """Waits end early when the engine cancels the operation."""
    if ctx.cancellation.is_cancelled():
        raise Cancelled("operation cancelled")


class RecordOnlyPlugin(ResourcePlugin):
    """Defaults for a resource that exists only in Kiln's records."""

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        return Progress(done=True, provider_data=DELETED)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return request.physical_name

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        if request.physical_id is None or is_deleted(request.provider_data):
            return None
        return ReadResult(dict(request.properties))
