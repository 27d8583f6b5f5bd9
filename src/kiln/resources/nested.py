"""What every resource backed by a nested stack shares: create, poll, update, delete a child.

The child runs as a stack of its own through ``ctx.clients["stacks"]``; the
resource's physical id is the child's id. Polls start quick and slow down,
so a small child finishes with its parent at once and a large one is not
asked about a hundred times a second.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound, ResourceFailed
from kiln.providers.nested import NESTED_STACK_MARK, STACKS_CLIENT, ChildStack, StackClient
from kiln.providers.protocol import (
    ActionRequest,
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    UpdateRequest,
)

__all__ = ["NestedStackPlugin", "nested_resource_value", "stack_arn", "stacks_client"]

#: First and longest pause between two looks at a child (seconds).
FIRST_POLL = 0.02
LONGEST_POLL = 0.25
#: A child being adopted is created as far as its parent resource is concerned.
_SAME_AS = {"CREATE": ("CREATE", "ADOPT")}


def stack_arn(project_id: str, stack_name: str, stack_id: str) -> str:
    """A stack's identifier in Heat's ARN form, which Heat's ``get_resource`` of a provider
    template resource gives: ``arn:openstack:heat::PROJECT:stacks/NAME/ID``."""
    parts = (quote(project_id, safe=""), quote(stack_name, safe=""), quote(stack_id, safe=""))
    return "arn:openstack:heat::{}:stacks/{}/{}".format(*parts)


async def nested_resource_value(client: StackClient, stack_id: str, attribute: str) -> Any:
    """``resource.NAME`` (the reference of the nested stack's resource NAME) or
    ``resource.NAME.ATTR`` (its attribute ATTR), as Heat reads them into a nested stack."""
    parts = attribute.split(".", 2)
    if len(parts) < 2 or parts[0] != "resource":
        return None
    if len(parts) == 2:
        return await client.resource_reference(stack_id, parts[1])
    values = await client.resource_attributes(stack_id, parts[1], frozenset({parts[2]}))
    return values.get(parts[2])


def stacks_client(ctx: ProviderContext) -> StackClient:
    client = ctx.clients.get(STACKS_CLIENT)
    if client is None:
        raise ResourceFailed("nested stacks are not available here")
    return client  # type: ignore[no-any-return]


class NestedStackPlugin(ResourcePlugin):
    """Base of nested-stack resources: subclasses say what the child is made of."""

    @abc.abstractmethod
    def child(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> ChildStack:
        """The child stack the properties describe."""

    def child_for_create(self, ctx: ProviderContext, request: CreateRequest) -> ChildStack:
        """The child to create, and what to keep in ``provider_data`` (groups need more)."""
        return self.child(ctx, request.properties)

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack:
        return self.child(ctx, request.new_properties)

    def kept_data(
        self, ctx: ProviderContext, request: CreateRequest | UpdateRequest
    ) -> dict[str, Any]:
        """Provider data to remember besides the poll state (a group's removed members)."""
        return dict(request.provider_data) if isinstance(request, UpdateRequest) else {}

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        client = stacks_client(ctx)
        child_id = await client.create(
            self.child_for_create(ctx, request), request.physical_name, request.idempotency_token
        )
        return _waiting(child_id, FIRST_POLL, self.kept_data(ctx, request))

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "CREATE")

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        if request.physical_id is None:
            raise ResourceFailed("the nested stack was never created")
        await stacks_client(ctx).update(request.physical_id, self.child_for_update(ctx, request))
        return _waiting(None, FIRST_POLL, self.kept_data(ctx, request))

    async def check_update(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "UPDATE")

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if request.physical_id is None:
            return Progress(done=True)
        await stacks_client(ctx).delete(request.physical_id)
        return _waiting(None, FIRST_POLL, dict(request.provider_data))

    async def check_delete(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "DELETE")

    async def suspend(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        return await self._start(ctx, request, "SUSPEND")

    async def check_suspend(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "SUSPEND")

    async def resume(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        return await self._start(ctx, request, "RESUME")

    async def check_resume(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "RESUME")

    async def check(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        """Check the child stack's resources, as a stack check of the parent does Heat's."""
        return await self._start(ctx, request, "CHECK")

    async def check_check(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "CHECK")

    async def _start(self, ctx: ProviderContext, request: ActionRequest, action: str) -> Progress:
        if request.physical_id is None:
            return Progress(done=True)
        await stacks_client(ctx).run_action(request.physical_id, action)
        return _waiting(None, FIRST_POLL, dict(request.provider_data))

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return await stacks_client(ctx).find(request.idempotency_token)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        if request.physical_id is None:
            return None
        state = await stacks_client(ctx).state(request.physical_id)
        return None if state is None else ReadResult(dict(request.properties))

    async def outputs(self, ctx: ProviderContext, request: AttributeRequest) -> Mapping[str, Any]:
        if request.physical_id is None:
            return {}
        return await stacks_client(ctx).outputs(request.physical_id)

    async def _check(self, ctx: ProviderContext, request: CheckRequest, action: str) -> Progress:
        pause = float(request.provider_data.get("poll", FIRST_POLL))
        if request.physical_id is None:
            return Progress(done=True)
        state = await stacks_client(ctx).state(request.physical_id)
        if state is None:
            if action == "DELETE":
                return Progress(done=True)
            raise NotFound(f"the nested stack {request.physical_id} is gone")
        if state.action not in _SAME_AS.get(action, (action,)) or state.status == "IN_PROGRESS":
            return _waiting(None, min(pause * 1.5, LONGEST_POLL), dict(request.provider_data))
        if state.status == "FAILED":
            raise nested_failure(state.reason or state.state, state.action)
        return Progress(done=True)


def nested_failure(reason: str, action: str) -> ResourceFailed:
    """The child's failure as the parent resource's, naming the resource that failed.

    A child's reason ``Resource CREATE failed: ValueError: resources.oops: msg``
    becomes ``ValueError`` at ``resources.oops`` below the parent resource, so
    the parent's reason reads ``ValueError: resources.victim.resources.oops: msg``
    as Heat's does. Any other reason is kept whole.
    """
    parts = [part.strip() for part in reason.split(":")]
    if (
        f"Resource {action} failed: " not in reason
        or len(parts) < 4
        or not parts[1].isidentifier()
        or not parts[2].startswith("resources.")
    ):
        return ResourceFailed(reason)
    return ResourceFailed(": ".join(parts[3:]), kind=parts[1], path=parts[2].split("."))


def _waiting(child_id: str | None, pause: float, kept: Mapping[str, Any]) -> Progress:
    return Progress(
        done=False,
        physical_id=child_id,
        provider_data={**kept, "poll": pause, NESTED_STACK_MARK: True},
        poll_after=pause,
    )
