"""A plugin for tests that need one to exist, not to do anything."""

from __future__ import annotations

from typing import ClassVar

from kiln.providers.context import ProviderContext
from kiln.providers.protocol import (
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    UpdateRequest,
)


class InstantPlugin(ResourcePlugin):
    """Implements only the required calls, each done at once; find and read see nothing.

    Subclasses declare ``type_name`` and ``schema``.
    """

    #: The physical id ``create`` gives.
    created_id: ClassVar[str] = "x"

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        return Progress(done=True, physical_id=self.created_id)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return None

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        return None
