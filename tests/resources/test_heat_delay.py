"""OS::Heat::Delay: min_wait plus jitter, only during the listed actions, via poll_after."""

from __future__ import annotations

from typing import Any

import pytest
from heat_support import (
    SCHEMAS,
    check_request,
    context,
    create_request,
    delete_request,
    update_request,
)

from kiln.providers.context import FakeClock
from kiln.providers.errors import Cancelled
from kiln.providers.protocol import Progress
from kiln.resources.heat.delay import Delay
from kiln.schema.properties import validate_properties

ID = "stack-res-abcdefghijkl"
START = FakeClock().now()


class FixedJitterDelay(Delay):
    """Uses a fixed jitter fraction instead of a random one."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def jitter_fraction(self) -> float:
        return self.fraction


def waiting(seconds: float) -> dict[str, float]:
    return {"wait_started_at": START, "wait_seconds": seconds}


@pytest.mark.parametrize(
    ("properties", "fraction", "expected"),
    [
        pytest.param({}, 0.5, Progress(True, ID, {}), id="defaults-do-not-wait"),
        pytest.param({"min_wait": 10}, 0.5, Progress(False, ID, waiting(10.0), 10.0), id="min"),
        pytest.param(
            {"min_wait": 10, "max_jitter": 4, "jitter_multiplier": 2.5},
            0.5,
            Progress(False, ID, waiting(15.0), 15.0),
            id="min-plus-half-of-jitter",
        ),
        pytest.param(
            {"max_jitter": 4},
            0.25,
            Progress(False, ID, waiting(1.0), 1.0),
            id="jitter-in-seconds-by-default",
        ),
        pytest.param(
            {"min_wait": 10, "actions": ["DELETE"]},
            0.5,
            Progress(True, ID, {}),
            id="create-not-listed",
        ),
    ],
)
@pytest.mark.asyncio
async def test_create_wait(properties: dict[str, Any], fraction: float, expected: Progress) -> None:
    plugin = FixedJitterDelay(fraction)
    progress = await plugin.create(context(FakeClock()), create_request(plugin, properties))
    assert progress == expected


@pytest.mark.asyncio
async def test_random_jitter_stays_in_range() -> None:
    plugin = Delay()
    properties = {"min_wait": 3, "max_jitter": 2, "jitter_multiplier": 0.5}
    for _ in range(50):
        progress = await plugin.create(context(FakeClock()), create_request(plugin, properties))
        assert 3.0 <= progress.poll_after < 4.0


@pytest.mark.asyncio
async def test_check_polls_exactly_when_the_wait_ends() -> None:
    plugin = Delay()
    clock = FakeClock()
    request = check_request(plugin, {"min_wait": 10}, waiting(10.0))
    clock.advance(4)
    assert await plugin.check_create(context(clock), request) == Progress(
        False, None, waiting(10.0), 6.0
    )
    clock.advance(6)
    assert await plugin.check_create(context(clock), request) == Progress(True, None, {})


@pytest.mark.asyncio
async def test_cancel_stops_the_wait() -> None:
    plugin = Delay()
    ctx = context(FakeClock())
    ctx.cancellation.cancel()
    with pytest.raises(Cancelled):
        await plugin.check_create(ctx, check_request(plugin, {"min_wait": 10}, waiting(10.0)))


@pytest.mark.parametrize(
    ("actions", "first"),
    [
        pytest.param(["CREATE"], Progress(True, None, {"deleted": True}), id="delete-not-listed"),
        pytest.param(
            ["CREATE", "DELETE"], Progress(False, None, waiting(8.0), 8.0), id="delete-listed"
        ),
    ],
)
@pytest.mark.asyncio
async def test_delete(actions: list[str], first: Progress) -> None:
    plugin = Delay()
    clock = FakeClock()
    properties = {"min_wait": 8, "actions": actions}
    assert await plugin.delete(context(clock), delete_request(plugin, properties, {})) == first
    clock.advance(8)
    done = await plugin.check_delete(context(clock), check_request(plugin, properties, waiting(8)))
    assert done == Progress(True, None, {"deleted": True})
    again = delete_request(plugin, properties, {"deleted": True})
    assert await plugin.delete(context(clock), again) == Progress(done=True)


@pytest.mark.asyncio
async def test_update_never_waits_and_reference_is_the_name() -> None:
    plugin = Delay()
    request = update_request(plugin, {"min_wait": 1}, {"min_wait": 100}, {})
    assert await plugin.update(context(FakeClock()), request) == Progress(done=True)
    assert plugin.reference_id("pause", ID, {}) == "pause"


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param({"min_wait": 1, "actions": ["SUSPEND", "RESUME"]}, [], id="heat-actions"),
        pytest.param(
            {"actions": ["UPDATE"]},
            [
                (
                    "S6005",
                    "actions[0]",
                    'value "UPDATE" is not an allowed value ["CREATE", "DELETE", "SUSPEND", '
                    '"RESUME"]',
                )
            ],
            id="update-is-not-an-action",
        ),
        pytest.param(
            {"min_wait_secs": 1},
            [
                (
                    "S6002",
                    "min_wait_secs",
                    "unknown property 'min_wait_secs'; did you mean 'min_wait'?",
                )
            ],
            id="heat-spells-it-min-wait",
        ),
    ],
)
def test_schema_matches_heat(
    properties: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    _, diagnostics = validate_properties(Delay.schema, properties, SCHEMAS)
    assert [(d.code, str(d.path), d.message) for d in diagnostics] == expected
