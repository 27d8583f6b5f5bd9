"""Events: an append-only log per stack with a gap-free sequence.

Clients follow a stack with "everything after N", so a sequence number must
never be skipped or reused, even when several workers append at once. Each
append bumps ``stacks.event_sequence`` with a single UPDATE and inserts the
event in the same transaction: the UPDATE takes the stack row's write lock,
so concurrent appenders queue behind each other and a rolled-back append gives
its number back. The unique (stack_id, sequence) constraint is the backstop.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.errors import StackNotFound
from kiln.persistence.models import EventRow, StackRow
from kiln.plan.state import Action, EventRecord, Status, new_id


@dataclass(frozen=True)
class EventDraft:
    """An event before it has a sequence number and a time."""

    resource_name: str
    action: Action
    status: Status
    status_reason: str = ""
    physical_id: str | None = None
    resource_type: str = ""


# Built once, run with parameters: events are written on every state change.
_BUMP = (
    update(StackRow)
    .where(StackRow.id == bindparam("target"))
    .values(event_sequence=StackRow.event_sequence + bindparam("step"))
)
_BUMP_RETURNING = _BUMP.returning(StackRow.event_sequence)
_SEQUENCE = select(StackRow.event_sequence).where(StackRow.id == bindparam("target"))
_INSERT_EVENT = insert(EventRow)


def insert_event(
    session: Session, stack_id: str, draft: EventDraft, now: Clock = utc_now
) -> EventRecord:
    """Append ``draft`` inside the caller's transaction (state change and event commit together)."""
    return insert_events(session, [(stack_id, draft)], now)[0]


def insert_events(
    session: Session, drafts: Sequence[tuple[str, EventDraft]], now: Clock = utc_now
) -> list[EventRecord]:
    """Append events in the given order, in the caller's transaction.

    Each stack's counter moves once per batch, by the batch's count, and the
    rows go in as one multi-row insert: a fan of steps that finish together
    costs a few statements, not two per event.
    """
    if not drafts:
        return []
    connection = session.connection()
    counts: dict[str, int] = {}
    for stack_id, _ in drafts:
        counts[stack_id] = counts.get(stack_id, 0) + 1
    next_sequence: dict[str, int] = {}
    for stack_id, count in counts.items():
        parameters = {"target": stack_id, "step": count}
        if connection.dialect.update_returning:
            # One statement where the backend can return the new value (SQLite, PostgreSQL).
            last = connection.scalar(_BUMP_RETURNING, parameters)
            if last is None:
                raise StackNotFound(stack_id)
        else:
            if connection.execute(_BUMP, parameters).rowcount != 1:
                raise StackNotFound(stack_id)
            last = connection.scalar(_SEQUENCE, parameters)
        next_sequence[stack_id] = int(last or 0) - count + 1
    records = []
    created_at = now()
    for stack_id, draft in drafts:
        sequence = next_sequence[stack_id]
        next_sequence[stack_id] = sequence + 1
        records.append(
            EventRecord(
                stack_id=stack_id,
                sequence=sequence,
                resource_name=draft.resource_name,
                action=draft.action,
                status=draft.status,
                status_reason=draft.status_reason,
                physical_id=draft.physical_id,
                resource_type=draft.resource_type,
                id=new_id(),
                created_at=created_at,
            )
        )
    # A Core insert: the ORM's unit of work costs several times more than the statement.
    connection.execute(_INSERT_EVENT, [_row_values(record) for record in records])
    return records


class EventRepository:
    """Appends and reads events; the engine calls it, the API tails it."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    def append(self, stack_id: str, draft: EventDraft) -> EventRecord:
        """Store ``draft`` with the stack's next sequence number; StackNotFound if no such stack."""
        return self.database.write(
            lambda session: insert_event(session, stack_id, draft, self.clock)
        )

    def list(
        self,
        stack_id: str,
        *,
        after_sequence: int = 0,
        limit: int | None = None,
        resource_name: str | None = None,
    ) -> builtins.list[EventRecord]:
        """Events with a sequence above ``after_sequence``, oldest first."""
        query = _LIST.where(EventRow.stack_id == stack_id, EventRow.sequence > after_sequence)
        if resource_name is not None:
            query = query.where(EventRow.resource_name == resource_name)
        if limit is not None:
            query = query.limit(limit)

        def load(session: Session) -> builtins.list[EventRecord]:
            # Core rows, not ORM objects: an event list reads thousands of them.
            rows = session.connection().execute(query).all()
            return [_from_row(row) for row in rows]

        return self.database.read(load)

    def last_sequence(self, stack_id: str) -> int:
        """The newest sequence number handed out (0 before the first event)."""
        query = select(StackRow.event_sequence).where(StackRow.id == stack_id)
        value = self.database.read(lambda session: session.scalar(query))
        if value is None:
            raise StackNotFound(stack_id)
        return int(value)


def _row_values(record: EventRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "stack_id": record.stack_id,
        "sequence": record.sequence,
        "resource_name": record.resource_name,
        "resource_type": record.resource_type,
        "action": record.action.value,
        "status": record.status.value,
        "status_reason": record.status_reason,
        "physical_id": record.physical_id,
        "created_at": record.created_at,
    }


#: What a listed event is read from, in the order :func:`_from_row` expects.
_COLUMNS = (
    EventRow.stack_id,
    EventRow.sequence,
    EventRow.resource_name,
    EventRow.action,
    EventRow.status,
    EventRow.status_reason,
    EventRow.physical_id,
    EventRow.resource_type,
    EventRow.id,
    EventRow.created_at,
)
_LIST = select(*_COLUMNS).order_by(EventRow.sequence)
_FIELD_NAMES = tuple(column.key for column in _COLUMNS)
_ACTIONS = {action.value: action for action in Action}
_STATUSES = {status.value: status for status in Status}


def _from_row(row: Sequence[Any]) -> EventRecord:
    """An :class:`EventRecord` from a row of :data:`_COLUMNS`.

    Filled in directly rather than through the frozen dataclass's ``__init__``,
    which costs more than reading the row: a long event list makes thousands.
    """
    fields = dict(zip(_FIELD_NAMES, row, strict=True))
    action, status = fields["action"], fields["status"]
    fields["action"] = _ACTIONS.get(action) or Action(action)
    fields["status"] = _STATUSES.get(status) or Status(status)
    record = object.__new__(EventRecord)
    object.__setattr__(record, "__dict__", fields)
    return record
