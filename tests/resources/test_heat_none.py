"""OS::Heat::None: a uuid for an id, null for every attribute, nothing to update."""

from __future__ import annotations

import uuid

import pytest
from heat_support import TOKEN, attribute_request, context, create_request, update_request

from kiln.providers.context import FakeClock
from kiln.providers.errors import NotSupported
from kiln.providers.protocol import (
    CreateRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    SignalRequest,
)
from kiln.resources.heat.none import NoneResource

PLUGIN = NoneResource()
EXPECTED_ID = str(uuid.uuid5(uuid.UUID("5d0e3c1a-6f2b-4c8e-9a57-0b1e2f3a4c5d"), TOKEN))


@pytest.mark.asyncio
async def test_create_gives_a_uuid_that_a_retry_can_adopt() -> None:
    ctx = context(FakeClock())
    progress = await PLUGIN.create(ctx, create_request(PLUGIN, {"image": "x", "size": 3}))
    assert progress == Progress(done=True, physical_id=EXPECTED_ID)
    find = FindRequest(name="res", idempotency_token=TOKEN, physical_name="n", properties={})
    assert await PLUGIN.find(ctx, find) == EXPECTED_ID


@pytest.mark.asyncio
async def test_without_a_token_ids_are_random_and_nothing_is_adopted() -> None:
    ctx = context(FakeClock())
    untokened = CreateRequest(name="res", properties={}, idempotency_token="", physical_name="n")
    first = await PLUGIN.create(ctx, untokened)
    second = await PLUGIN.create(ctx, untokened)
    assert first.physical_id != second.physical_id
    assert uuid.UUID(str(first.physical_id)).version == 4
    find = FindRequest(name="res", idempotency_token="", physical_name="n", properties={})
    assert await PLUGIN.find(ctx, find) is None


@pytest.mark.asyncio
async def test_any_attribute_is_null_and_updates_do_nothing() -> None:
    ctx = context(FakeClock())
    request = attribute_request(PLUGIN, {"a": 1}, {}, frozenset({"first_address", "show"}))
    assert await PLUGIN.attributes(ctx, request) == {"first_address": None, "show": None}
    update = update_request(PLUGIN, {"a": 1}, {"a": 2, "b": 3}, {})
    assert update.changed == frozenset({"a", "b"})
    replace = PLUGIN.needs_replacement(update.old_properties, update.new_properties, update.changed)
    assert replace is False
    assert await PLUGIN.update(ctx, update) == Progress(done=True)


@pytest.mark.asyncio
async def test_read_follows_the_record_and_signals_are_refused() -> None:
    ctx = context(FakeClock())

    def read(physical_id: str | None, data: dict[str, bool]) -> ReadRequest:
        return ReadRequest(
            name="r", physical_id=physical_id, properties={"a": 1}, provider_data=data
        )

    assert await PLUGIN.read(ctx, read(EXPECTED_ID, {})) == ReadResult({"a": 1})
    assert await PLUGIN.read(ctx, read(EXPECTED_ID, {"deleted": True})) is None
    assert await PLUGIN.read(ctx, read(None, {})) is None
    signal = SignalRequest(name="r", physical_id=EXPECTED_ID, properties={}, details={"x": 1})
    with pytest.raises(NotSupported, match=r"^signal is not supported for resource\.$"):
        await PLUGIN.signal(ctx, signal)
