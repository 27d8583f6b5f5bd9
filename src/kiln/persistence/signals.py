"""Signals received by resources, kept in arrival order."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.models import SignalRow
from kiln.plan.state import new_id


class SignalRepository:
    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    def add(self, stack_id: str, resource_name: str, data: Mapping[str, Any]) -> None:
        values = {
            "id": new_id(),
            "stack_id": stack_id,
            "resource_name": resource_name,
            "data": dict(data),
            "received_at": self.clock(),
        }

        def write(session: Session) -> None:
            session.connection().execute(insert(SignalRow), values)

        self.database.write(write)

    def list(self, stack_id: str, resource_name: str) -> builtins.list[dict[str, Any]]:
        """The resource's signals, oldest first."""
        query = (
            select(SignalRow.data)
            .where(SignalRow.stack_id == stack_id, SignalRow.resource_name == resource_name)
            .order_by(SignalRow.received_at, SignalRow.id)
        )
        return self.database.read(lambda session: [dict(data) for data in session.scalars(query)])
