"""OS::Heat::TestResource: Heat's waits, failures, replacement rule and probes, on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest
from heat_support import (
    SCHEMAS,
    attribute_request,
    check_request,
    context,
    create_request,
    delete_request,
    update_request,
)

from kiln.providers.context import FakeClock
from kiln.providers.errors import Cancelled, ResourceFailed
from kiln.providers.protocol import FindRequest, Progress
from kiln.resources.heat.test_resource import SCHEMA, TestResource
from kiln.schema.types import UpdatePolicy

PLUGIN = TestResource()
ID = "stack-res-abcdefghijkl"
START = FakeClock().now()


def waiting(seconds: float, started: float = START, **data: Any) -> dict[str, Any]:
    return {**data, "wait_started_at": started, "wait_seconds": seconds}


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param(
            {},
            Progress(done=True, physical_id=ID, provider_data={"value": "test_string"}),
            id="no-wait",
        ),
        pytest.param(
            {"value": "v", "wait_secs": 5},
            Progress(False, ID, waiting(5.0, value="v"), poll_after=5.0),
            id="wait-secs",
        ),
        pytest.param(
            {"value": "v", "wait_secs": 5, "action_wait_secs": {"create": 2}},
            Progress(False, ID, waiting(2.0, value="v"), poll_after=2.0),
            id="action-wait-overrides",
        ),
        pytest.param(
            {"value": "v", "wait_secs": 5, "action_wait_secs": {"delete": 2}},
            Progress(False, ID, waiting(5.0, value="v"), poll_after=5.0),
            id="other-action-wait-falls-back",
        ),
        pytest.param(
            {"fail": True, "wait_secs": 4},
            Progress(False, None, waiting(4.0), poll_after=4.0),
            id="failing-create-takes-no-id",
        ),
        pytest.param(
            {"wait_secs": -1},
            Progress(False, ID, waiting(-1.0, value="test_string"), poll_after=1.0),
            id="endless-wait-polls-every-second",
        ),
    ],
)
@pytest.mark.asyncio
async def test_create(properties: dict[str, Any], expected: Progress) -> None:
    progress = await PLUGIN.create(context(FakeClock()), create_request(PLUGIN, properties))
    assert progress == expected


@pytest.mark.asyncio
async def test_create_finishes_when_the_wait_is_over() -> None:
    clock = FakeClock()
    properties = {"value": "v", "wait_secs": 5}
    data = waiting(5.0, value="v")
    clock.advance(2)
    early = await PLUGIN.check_create(context(clock), check_request(PLUGIN, properties, data))
    assert early == Progress(False, None, data, poll_after=3.0)
    clock.advance(3)
    done = await PLUGIN.check_create(context(clock), check_request(PLUGIN, properties, data))
    assert done == Progress(done=True, provider_data={"value": "v"})


@pytest.mark.asyncio
async def test_failing_create_fails_after_its_wait_with_heats_message() -> None:
    clock = FakeClock()
    with pytest.raises(ResourceFailed, match=r"^Test Resource failed web$"):
        await PLUGIN.create(context(clock), create_request(PLUGIN, {"fail": True}, name="web"))
    properties = {"fail": True, "wait_secs": 4}
    request = check_request(PLUGIN, properties, waiting(4.0), physical_id=None, name="web")
    clock.advance(3.5)
    assert (await PLUGIN.check_create(context(clock), request)).poll_after == 0.5
    clock.advance(0.5)
    with pytest.raises(ResourceFailed) as raised:
        await PLUGIN.check_create(context(clock), request)
    assert (raised.value.message, raised.value.retryable) == ("Test Resource failed web", False)


@pytest.mark.asyncio
async def test_endless_wait_ends_only_when_cancelled() -> None:
    clock = FakeClock()
    ctx = context(clock)
    request = check_request(PLUGIN, {"wait_secs": -1}, waiting(-1.0, value="x"))
    clock.advance(86_400)
    assert (await PLUGIN.check_create(ctx, request)).done is False
    ctx.cancellation.cancel()
    with pytest.raises(Cancelled, match=r"^operation cancelled$"):
        await PLUGIN.check_create(ctx, request)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            {"value": "a"},
            {"value": "b", "action_wait_secs": {"update": 2}},
            Progress(False, None, waiting(2.0, value="b"), poll_after=2.0),
            id="new-value-stored-then-wait",
        ),
        pytest.param(
            {"value": "a"},
            {"value": ""},
            Progress(done=True, provider_data={"value": "a"}),
            id="empty-value-not-stored-no-wait",
        ),
        pytest.param(
            {"value": "a", "wait_secs": 0},
            {"value": "a", "wait_secs": 10},
            Progress(done=True, provider_data={"value": "a"}),
            id="no-value-change-no-wait",
        ),
        pytest.param(
            {"value": "a"},
            {"value": "b", "fail": True, "wait_secs": 3},
            Progress(False, None, waiting(3.0, value="a"), poll_after=3.0),
            id="failing-update-keeps-old-value-while-waiting",
        ),
    ],
)
@pytest.mark.asyncio
async def test_update(old: dict[str, Any], new: dict[str, Any], expected: Progress) -> None:
    request = update_request(PLUGIN, old, new, {"value": "a"})
    assert await PLUGIN.update(context(FakeClock()), request) == expected


@pytest.mark.parametrize(
    "new",
    [
        pytest.param({"value": "a", "fail": True}, id="only-fail-changes"),
        pytest.param({"value": "b", "fail": True}, id="value-and-fail-change"),
    ],
)
@pytest.mark.asyncio
async def test_update_with_fail_set_fails(new: dict[str, Any]) -> None:
    request = update_request(PLUGIN, {"value": "a"}, new, {"value": "a"})
    with pytest.raises(ResourceFailed, match=r"^Test Resource failed res$"):
        await PLUGIN.update(context(FakeClock()), request)


@pytest.mark.parametrize(
    ("old", "new", "replace"),
    [
        pytest.param({"value": "a"}, {"value": "b", "update_replace": True}, True, id="value+flag"),
        pytest.param({"value": "a"}, {"value": "a", "update_replace": True}, False, id="flag-only"),
        pytest.param({"value": "a"}, {"value": "b"}, False, id="value-only"),
        pytest.param(
            {"value": "a", "update_replace": True},
            {"value": "b", "update_replace": False},
            False,
            id="flag-cleared",
        ),
    ],
)
def test_needs_replacement(old: dict[str, Any], new: dict[str, Any], replace: bool) -> None:
    request = update_request(PLUGIN, old, new, {})
    result = PLUGIN.needs_replacement(
        request.old_properties, request.new_properties, request.changed
    )
    assert result is replace


def test_update_replace_value_can_only_change_by_replacement() -> None:
    assert SCHEMA.properties["update_replace_value"].update_policy is UpdatePolicy.REPLACE


@pytest.mark.asyncio
async def test_delete_waits_ignores_fail_and_can_repeat() -> None:
    clock = FakeClock()
    properties = {"fail": True, "action_wait_secs": {"delete": 3}}
    first = await PLUGIN.delete(context(clock), delete_request(PLUGIN, properties, {"value": "v"}))
    assert first == Progress(False, None, waiting(3.0, value="v"), poll_after=3.0)
    clock.advance(3)
    check = check_request(PLUGIN, properties, waiting(3.0, value="v"))
    done = await PLUGIN.check_delete(context(clock), check)
    assert done == Progress(done=True, provider_data={"deleted": True})
    again = delete_request(PLUGIN, properties, {"deleted": True})
    assert await PLUGIN.delete(context(clock), again) == Progress(done=True)


@pytest.mark.asyncio
async def test_attributes_wait_then_answer() -> None:
    clock = FakeClock()
    request = attribute_request(
        PLUGIN, {"attr_wait_secs": 30}, {"value": "v"}, frozenset({"output", "show"})
    )
    assert await PLUGIN.attributes(context(clock), request) == {"output": "v", "show": None}
    assert (clock.slept, clock.now() - START) == ([30.0], 30.0)


@pytest.mark.asyncio
async def test_attribute_wait_stops_on_cancel() -> None:
    ctx = context(FakeClock())
    ctx.cancellation.cancel()
    request = attribute_request(PLUGIN, {"attr_wait_secs": 30}, {}, frozenset({"output"}))
    with pytest.raises(Cancelled):
        await PLUGIN.attributes(ctx, request)


@pytest.mark.parametrize(
    ("properties", "data", "physical_id", "output"),
    [
        pytest.param({}, {"value": "stored"}, ID, "stored", id="stored-value"),
        pytest.param({"value": "p"}, {}, ID, "p", id="adopted-uses-property"),
        pytest.param({"fail": True}, {}, None, None, id="failed-create-has-none"),
    ],
)
@pytest.mark.asyncio
async def test_output(
    properties: dict[str, Any], data: dict[str, Any], physical_id: str | None, output: Any
) -> None:
    request = attribute_request(PLUGIN, properties, data, frozenset({"output"}), physical_id)
    assert await PLUGIN.attributes(context(FakeClock()), request) == {"output": output}


@pytest.mark.parametrize(
    ("properties", "found"),
    [
        pytest.param({"fail": False}, "stack-res-abc", id="adopts-the-physical-name"),
        pytest.param({"fail": True}, None, id="failing-never-has-an-id"),
    ],
)
@pytest.mark.asyncio
async def test_find(properties: dict[str, Any], found: str | None) -> None:
    request = FindRequest(
        name="res", idempotency_token="t", physical_name="stack-res-abc", properties=properties
    )
    assert await PLUGIN.find(context(FakeClock()), request) == found


class Servers:
    """A client entity that records what was looked up."""

    def __init__(self, error: Exception | None = None, awaitable: bool = False) -> None:
        self.looked_up: list[str] = []
        self.error = error
        self.awaitable = awaitable

    def get(self, entity_id: str) -> Any:
        self.looked_up.append(entity_id)
        if self.error is not None:
            raise self.error
        if self.awaitable:
            return self._answer()
        return None

    async def _answer(self) -> None:
        self.looked_up.append("awaited")


class Client:
    def __init__(self, servers: Servers) -> None:
        self.servers = servers


@pytest.mark.parametrize(
    ("servers", "looked_up"),
    [
        pytest.param(Servers(), ["v", "v"], id="probe-on-every-unfinished-call"),
        pytest.param(Servers(error=RuntimeError("boom")), ["v", "v"], id="errors-ignored"),
        pytest.param(Servers(awaitable=True), ["v", "awaited", "v", "awaited"], id="async-client"),
    ],
)
@pytest.mark.asyncio
async def test_probe_through_a_client_while_waiting(servers: Servers, looked_up: list[str]) -> None:
    clock = FakeClock()
    ctx = context(clock, clients={"nova": Client(servers)})
    properties = {"value": "v", "wait_secs": 2, "client_name": "nova", "entity_name": "servers"}
    created = await PLUGIN.create(ctx, create_request(PLUGIN, properties))
    assert created.provider_data is not None
    clock.advance(1)
    check = check_request(PLUGIN, properties, created.provider_data)
    assert (await PLUGIN.check_create(ctx, check)).done is False
    clock.advance(1)
    assert (await PLUGIN.check_create(ctx, check)).done is True
    assert servers.looked_up == looked_up


@pytest.mark.asyncio
async def test_unknown_client_is_ignored_as_in_heat() -> None:
    properties = {"wait_secs": 2, "client_name": "nova", "entity_name": "servers"}
    progress = await PLUGIN.create(context(FakeClock()), create_request(PLUGIN, properties))
    assert (progress.done, progress.poll_after) == (False, 2.0)


def test_slow_constraint_accepts_at_once() -> None:
    registered = SCHEMAS.custom_constraints.get("test_constr")
    assert registered is not None
    assert (registered.checker(5), registered.live) == (None, False)
