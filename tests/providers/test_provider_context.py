"""Clock, cancellation, deadline, logger and errors that plugins receive and raise."""

from __future__ import annotations

import asyncio
import logging

import pytest

from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import Cancellation, FakeClock, ProviderContext, SystemClock
from kiln.providers.errors import (
    Cancelled,
    Conflict,
    InvalidInput,
    NotFound,
    ProviderError,
    ResourceFailed,
)
from kiln.providers.waiting import TimedWait, without_wait


@pytest.mark.asyncio
async def test_wait_runs_out_on_the_clock_it_was_given() -> None:
    clock = FakeClock(start=100.0)
    cancellation = Cancellation(clock)
    assert await cancellation.wait(30) is False
    assert (clock.now(), clock.monotonic(), clock.slept) == (130.0, 30.0, [30.0])
    assert await cancellation.wait(0) is False
    assert clock.slept == [30.0]


@pytest.mark.asyncio
async def test_wait_returns_early_on_cancel() -> None:
    cancellation = Cancellation(SystemClock())
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, cancellation.cancel)
    started = loop.time()
    assert await cancellation.wait(60) is True
    assert loop.time() - started < 5
    assert cancellation.is_cancelled() is True
    assert await cancellation.wait(60) is True


@pytest.mark.asyncio
async def test_negative_wait_lasts_until_cancelled() -> None:
    cancellation = Cancellation(FakeClock())
    waiter = asyncio.ensure_future(cancellation.wait(-1))
    await asyncio.sleep(0.01)
    assert waiter.done() is False
    cancellation.cancel()
    assert await waiter is True


def test_deadline_counts_down_and_stops_at_zero() -> None:
    clock = FakeClock()
    ctx = ProviderContext.create("OS::Nova::Server", "web", clock=clock, timeout=60)
    clock.advance(45)
    assert ctx.remaining() == 15.0
    clock.advance(30)
    assert ctx.remaining() == 0.0
    assert ProviderContext.create(clock=clock).remaining() is None


def test_create_shares_the_clock_and_tags_the_logger() -> None:
    clock = FakeClock()
    ctx = ProviderContext.create("OS::Nova::Server", "web", clock=clock, clients={"nova": 1})
    assert ctx.clock is clock
    assert dict(ctx.clients) == {"nova": 1}
    assert ctx.logger.logger.name == "kiln.providers.os.nova.server"
    assert ctx.logger.extra == {"resource_type": "OS::Nova::Server", "resource": "web"}
    assert isinstance(ctx.logger, logging.LoggerAdapter)


def test_timed_wait_round_trips_through_provider_data() -> None:
    clock = FakeClock(start=50.0)
    wait = TimedWait.start(clock, 10)
    data = {"value": "v", **wait.to_data()}
    assert data == {"value": "v", "wait_started_at": 50.0, "wait_seconds": 10.0}
    assert TimedWait.from_data(data) == wait
    clock.advance(4)
    assert (wait.remaining(clock), wait.poll_after(clock), wait.forever) == (6.0, 6.0, False)
    assert without_wait(data) == {"value": "v"}
    assert TimedWait.from_data({"wait_started_at": "x", "wait_seconds": 1}) is None
    assert TimedWait.start(clock, -1).poll_after(clock) == 1.0


@pytest.mark.parametrize(
    ("error", "message", "retryable"),
    [
        pytest.param(ProviderError("quota exceeded"), "quota exceeded", False, id="provider"),
        pytest.param(ProviderError("throttled", retryable=True), "throttled", True, id="retryable"),
        pytest.param(NotFound("no server"), "no server", False, id="not-found"),
        pytest.param(Conflict("port in use"), "port in use", True, id="conflict-retries"),
        pytest.param(ResourceFailed("Test Resource failed x"), "Test Resource failed x", False),
        pytest.param(Cancelled("operation cancelled"), "operation cancelled", False),
        pytest.param(
            InvalidInput([Diagnostic("S6101", "too short", TemplatePath(("length",)))]),
            "length: too short",
            False,
            id="invalid-input-shows-the-first-problem",
        ),
        pytest.param(InvalidInput([]), "invalid properties", False, id="invalid-input-empty"),
    ],
)
def test_errors(error: ProviderError, message: str, retryable: bool) -> None:
    assert (error.message, str(error), error.retryable) == (message, message, retryable)
