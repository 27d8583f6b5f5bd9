"""The contract suite passes an honest plugin and names the step each broken one fails."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kiln.providers.context import FakeClock, ProviderContext
from kiln.providers.errors import NotFound
from kiln.providers.protocol import (
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
from kiln.providers.testing import ContractCase, ContractViolation, run_contract
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

SCHEMA = ResourceSchema(
    "Test::Gadget",
    properties={
        "size": PropertySchema(
            PropertyType.INTEGER, default=1, update_policy=UpdatePolicy.IN_PLACE
        ),
    },
    attributes={"size": AttributeSchema("The size.")},
)


class Store:
    """The backend: gadgets by id, and which token created which."""

    def __init__(self) -> None:
        self.gadgets: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}


def store(ctx: ProviderContext) -> Store:
    backend: Store = ctx.clients["store"]
    return backend


class Gadget(ResourcePlugin):
    """An honest plugin: creation takes one poll, deletes of missing gadgets say NotFound."""

    type_name = "Test::Gadget"
    schema = SCHEMA

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        backend = store(ctx)
        physical_id = f"g-{len(backend.gadgets) + 1}"
        backend.gadgets[physical_id] = {"size": request.properties["size"], "ready": False}
        backend.tokens[request.idempotency_token] = physical_id
        return Progress(done=False, physical_id=physical_id, poll_after=2.0)

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        store(ctx).gadgets[str(request.physical_id)]["ready"] = True
        return Progress(done=True)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        store(ctx).gadgets[str(request.physical_id)]["size"] = request.new_properties["size"]
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if store(ctx).gadgets.pop(str(request.physical_id), None) is None:
            raise NotFound("no such gadget")
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return store(ctx).tokens.get(request.idempotency_token)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        gadget = store(ctx).gadgets.get(str(request.physical_id))
        return None if gadget is None else ReadResult({"size": gadget["size"]})

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        gadget = store(ctx).gadgets[str(request.physical_id)]
        return {name: gadget.get(name) for name in request.names}


class NoId(Gadget):
    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        return Progress(done=True)


class Forgetful(Gadget):
    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return None


class Mute(Gadget):
    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        return {}


class Immortal(Gadget):
    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        return Progress(done=True)


class NeverReady(Gadget):
    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return Progress(done=False, poll_after=1.0)


class Replacing(Gadget):
    def needs_replacement(
        self, old: Mapping[str, Any], new: Mapping[str, Any], changed: frozenset[str]
    ) -> bool:
        return True


class Renaming(Gadget):
    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        return Progress(done=True, physical_id="g-renamed")


class BackwardsPoll(Gadget):
    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        progress = await super().create(ctx, request)
        return Progress(False, progress.physical_id, poll_after=-1.0)


def case(plugin_class: type[ResourcePlugin], **overrides: Any) -> ContractCase:
    settings: dict[str, Any] = {
        "properties": {"size": 1},
        "update_properties": {"size": 2},
        "attribute_names": frozenset({"size"}),
        "max_polls": 5,
    }
    settings.update(overrides)
    return ContractCase(plugin_class, **settings)


@pytest.mark.asyncio
async def test_an_honest_plugin_passes() -> None:
    clock, backend = FakeClock(), Store()
    result = await run_contract(
        case(Gadget), lambda: ProviderContext.create(clock=clock, clients={"store": backend})
    )
    assert (result.physical_id, result.polls, clock.slept) == ("g-1", 1, [2.0])
    assert (result.attributes, result.updated_attributes) == ({"size": 1}, {"size": 2})
    assert backend.gadgets == {}


@pytest.mark.parametrize(
    ("contract_case", "message"),
    [
        pytest.param(case(NoId), "create: finished without a physical id", id="no-id"),
        pytest.param(case(Forgetful), "find: expected 'g-1', got None", id="find"),
        pytest.param(
            case(Gadget, adopts=False), "find: expected None, got 'g-1'", id="unexpected-adopt"
        ),
        pytest.param(case(Mute), "read: asked for ['size'], got []", id="attributes"),
        pytest.param(case(Immortal), "delete: read still finds the resource", id="delete"),
        pytest.param(case(NeverReady), "create: not done after 5 polls", id="never-done"),
        pytest.param(case(Replacing), "update: ['size'] would replace, not update", id="replacing"),
        pytest.param(
            case(Renaming), "update: an in-place update changed the physical id", id="renaming"
        ),
        pytest.param(case(BackwardsPoll), "create: negative poll_after -1.0", id="poll-after"),
        pytest.param(
            case(Gadget, update_properties={"size": 1}),
            "update: the sample update changes nothing",
            id="empty-update",
        ),
        pytest.param(
            case(Gadget, properties={"size": 1, "colour": "red"}),
            "create: the sample properties are invalid: S6002 colour unknown property 'colour'",
            id="invalid-sample",
        ),
    ],
)
@pytest.mark.asyncio
async def test_a_broken_plugin_is_caught(contract_case: ContractCase, message: str) -> None:
    clock, backend = FakeClock(), Store()
    with pytest.raises(ContractViolation) as raised:
        await run_contract(
            contract_case, lambda: ProviderContext.create(clock=clock, clients={"store": backend})
        )
    assert str(raised.value) == message
