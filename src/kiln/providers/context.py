"""What a plugin may use while it runs: clients, a logger, cancellation, time.

A plugin never sees the database, the stack, locks or events; everything it
may touch arrives in a :class:`ProviderContext`. Time comes from an
injectable :class:`Clock` so that tests can make a 60-second wait pass in no
time, and so that timestamps a plugin keeps in ``provider_data`` are wall
clock (they must still mean something to another worker process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

__all__ = [
    "Cancellation",
    "Clock",
    "FakeClock",
    "ProviderContext",
    "SystemClock",
    "plugin_logger",
]

_NO_CLIENTS: Mapping[str, Any] = MappingProxyType({})


class Clock(Protocol):
    """The two kinds of time a plugin needs, and a way to let time pass."""

    def now(self) -> float:
        """Wall-clock seconds since the epoch: for timestamps kept in ``provider_data``."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go backwards: for deadlines within one process."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class FakeClock:
    """A clock that only moves when told to, or when someone sleeps on it.

    Sleeping advances the time at once (after yielding to the event loop), so
    a test of a long wait runs instantly and still sees the time it waited.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._offset = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._offset

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


class Cancellation:
    """A request from the engine to stop, which a plugin checks at its wait points.

    Cancellation is cooperative, as in Heat: a call already blocked in a cloud
    API finishes; the plugin checks :meth:`is_cancelled` before starting more
    work and uses :meth:`wait` instead of sleeping. Call :meth:`cancel` from
    the event loop's thread (``loop.call_soon_threadsafe`` from any other).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._event = asyncio.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_cancelled(self) -> bool:
        return self._event.is_set()

    async def wait(self, seconds: float) -> bool:
        """Wait ``seconds`` (forever if negative); True if cancelled before the time was up."""
        if self.is_cancelled():
            return True
        if seconds == 0:
            return False
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._event.wait())}
        if seconds > 0:
            waiters.add(asyncio.ensure_future(self._clock.sleep(seconds)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
        return self.is_cancelled()


def plugin_logger(type_name: str, resource_name: str) -> logging.LoggerAdapter[logging.Logger]:
    """A logger that tags every record with the resource it is about."""
    logger = logging.getLogger(f"kiln.providers.{type_name.replace('::', '.').lower()}")
    return logging.LoggerAdapter(logger, {"resource_type": type_name, "resource": resource_name})


@dataclass(frozen=True)
class ProviderContext:
    """Everything a plugin may use during one lifecycle call.

    ``logger``: plugins log names, ids, counts and timings, never property
    values or ``provider_data`` (either may carry a hidden parameter's value
    or a generated secret); the engine hands the logger to plugins on that
    condition and does not filter what they write.

    ``deadline`` is in :meth:`Clock.monotonic` seconds; ``None`` means no limit.
    ``clients`` maps a client name (``"nova"``, ``"ec2"``) to a ready client;
    it is empty for types that need no cloud (``OS::Heat::*``). Build one with
    :meth:`create` so that cancellation waits on the same clock.
    """

    logger: logging.LoggerAdapter[logging.Logger]
    cancellation: Cancellation
    clock: Clock = field(default_factory=SystemClock)
    clients: Mapping[str, Any] = field(default_factory=lambda: _NO_CLIENTS)
    deadline: float | None = None

    @classmethod
    def create(
        cls,
        type_name: str = "-",
        resource_name: str = "-",
        *,
        clock: Clock | None = None,
        clients: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        cancellation: Cancellation | None = None,
    ) -> ProviderContext:
        """A context for one resource; ``timeout`` seconds from now become the deadline."""
        clock = clock or SystemClock()
        deadline = None if timeout is None else clock.monotonic() + timeout
        return cls(
            logger=plugin_logger(type_name, resource_name),
            cancellation=cancellation or Cancellation(clock),
            clock=clock,
            clients=MappingProxyType(dict(clients or {})),
            deadline=deadline,
        )

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without one."""
        if self.deadline is None:
            return None
        return max(self.deadline - self.clock.monotonic(), 0.0)
