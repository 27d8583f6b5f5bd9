"""Stack snapshots: what a stack was, kept so that it can be restored."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.models import SnapshotRow
from kiln.plan.state import Status, new_id


@dataclass(frozen=True)
class SnapshotRecord:
    """One snapshot; ``data`` is the stack's data (Heat's shape) plus each resource's
    backend snapshot id, and ``definition`` what a restore returns the stack to."""

    id: str
    stack_id: str
    name: str
    status: Status = Status.IN_PROGRESS
    status_reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def state(self) -> str:
        return f"SNAPSHOT_{self.status}"


class SnapshotRepository:
    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    def add(self, stack_id: str, name: str, data: Mapping[str, Any]) -> SnapshotRecord:
        row = SnapshotRow(
            id=new_id(),
            stack_id=stack_id,
            name=name,
            status=Status.IN_PROGRESS.value,
            status_reason="",
            data=dict(data),
            created_at=self.clock(),
        )
        record = _record(row)

        def write(session: Session) -> None:
            session.add(row)

        self.database.write(write)
        return record

    def get(self, stack_id: str, snapshot_id: str) -> SnapshotRecord | None:
        query = select(SnapshotRow).where(
            SnapshotRow.stack_id == stack_id, SnapshotRow.id == snapshot_id
        )
        return self.database.read(lambda session: _first(session, query))

    def list(self, stack_id: str) -> builtins.list[SnapshotRecord]:
        """The stack's snapshots, oldest first."""
        query = (
            select(SnapshotRow)
            .where(SnapshotRow.stack_id == stack_id)
            .order_by(SnapshotRow.created_at, SnapshotRow.id)
        )
        return self.database.read(lambda session: [_record(row) for row in session.scalars(query)])

    def in_progress(self, stack_id: str) -> SnapshotRecord | None:
        """The snapshot a SNAPSHOT operation of the stack is taking (the newest one)."""
        query = (
            select(SnapshotRow)
            .where(
                SnapshotRow.stack_id == stack_id,
                SnapshotRow.status == Status.IN_PROGRESS.value,
            )
            .order_by(SnapshotRow.created_at.desc(), SnapshotRow.id)
        )
        return self.database.read(lambda session: _first(session, query))

    def mark_restoring(self, snapshot_id: str, traversal: str) -> None:
        """Note the RESTORE operation (traversal) that returns the stack to this snapshot."""
        statement = (
            update(SnapshotRow)
            .where(SnapshotRow.id == snapshot_id)
            .values(restoring=traversal, updated_at=self.clock())
        )
        self.database.write(lambda session: session.connection().execute(statement))

    def restoring(self, stack_id: str, traversal: str) -> SnapshotRecord | None:
        """The snapshot the stack's operation ``traversal`` restores, if it is a restore."""
        query = select(SnapshotRow).where(
            SnapshotRow.stack_id == stack_id, SnapshotRow.restoring == traversal
        )
        return self.database.read(lambda session: _first(session, query))

    def finish(
        self, snapshot_id: str, status: Status, reason: str, data: Mapping[str, Any]
    ) -> None:
        statement = (
            update(SnapshotRow)
            .where(SnapshotRow.id == snapshot_id)
            .values(
                status=status.value, status_reason=reason, data=dict(data), updated_at=self.clock()
            )
        )
        self.database.write(lambda session: session.connection().execute(statement))

    def delete(self, snapshot_id: str) -> bool:
        statement = delete(SnapshotRow).where(SnapshotRow.id == snapshot_id)
        return self.database.write(
            lambda session: session.connection().execute(statement).rowcount == 1
        )


def _first(session: Session, query: Any) -> SnapshotRecord | None:
    row = session.scalars(query.limit(1)).first()
    return None if row is None else _record(row)


def _record(row: SnapshotRow) -> SnapshotRecord:
    return SnapshotRecord(
        id=row.id,
        stack_id=row.stack_id,
        name=row.name,
        status=Status(row.status),
        status_reason=row.status_reason,
        data=dict(row.data),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
