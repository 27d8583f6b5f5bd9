"""Plain values the repositories return besides the records of :mod:`kiln.plan.state`.

Kept free of SQLAlchemy so that :mod:`kiln.persistence.integrity` can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Lease:
    """Who is working on a resource, until when, under which fence."""

    resource_id: str
    owner: str
    until: datetime
    fence: int

    def expired(self, now: datetime) -> bool:
        return self.until < now
