"""Timed waits spread over several lifecycle calls instead of a sleep.

A plugin that must let time pass records when its wait started in
``provider_data`` and reports ``done=False`` with ``poll_after`` set to what
is left; the engine calls back when that time has come, possibly in another
worker process, which is why the start is wall-clock time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.providers.context import Clock
from kiln.schema.types import is_number

__all__ = ["FOREVER_POLL_SECONDS", "TimedWait", "without_wait"]

#: How often an endless wait is looked at again (Heat checks about once a second).
FOREVER_POLL_SECONDS = 1.0

_STARTED_AT = "wait_started_at"
_SECONDS = "wait_seconds"


@dataclass(frozen=True)
class TimedWait:
    """A wait of ``seconds`` from ``started_at`` (wall clock); negative waits forever."""

    started_at: float
    seconds: float

    @classmethod
    def start(cls, clock: Clock, seconds: float) -> TimedWait:
        return cls(clock.now(), seconds)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TimedWait | None:
        """The wait recorded in ``provider_data``; None if there is none (e.g. adopted)."""
        started_at, seconds = _number(data.get(_STARTED_AT)), _number(data.get(_SECONDS))
        if started_at is None or seconds is None:
            return None
        return cls(started_at, seconds)

    def to_data(self) -> dict[str, float]:
        return {_STARTED_AT: self.started_at, _SECONDS: self.seconds}

    @property
    def forever(self) -> bool:
        return self.seconds < 0

    def remaining(self, clock: Clock) -> float:
        """Seconds still to wait: 0 when over, infinity for an endless wait."""
        if self.forever:
            return math.inf
        return max(self.started_at + self.seconds - clock.now(), 0.0)

    def poll_after(self, clock: Clock) -> float:
        """When to look again: exactly when the wait ends, or every second if it never does."""
        remaining = self.remaining(clock)
        return FOREVER_POLL_SECONDS if math.isinf(remaining) else remaining


def _number(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def without_wait(data: Mapping[str, Any]) -> dict[str, Any]:
    """``provider_data`` with the bookkeeping of a finished wait removed."""
    return {key: value for key, value in data.items() if key not in (_STARTED_AT, _SECONDS)}
