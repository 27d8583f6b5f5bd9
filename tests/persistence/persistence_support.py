"""Values shared by the persistence tests (a uniquely named module, unlike ``conftest``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

START = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


@dataclass
class Clock:
    """Time that moves only when a test says so."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
