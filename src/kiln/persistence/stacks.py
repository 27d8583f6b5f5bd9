"""The stack repository: stored definitions, status, and the operation compare-and-swap.

An operation (create, update, delete, ...) owns a stack through its
traversal id. :meth:`StackRepository.begin_operation` swaps a new traversal
in with one UPDATE whose WHERE clause names the traversal the caller saw, so
of two concurrent starts exactly one wins; every later status write made on
behalf of that operation is fenced by its traversal and silently loses once
another operation has taken over.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Update, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.errors import DuplicateRecord, StackExists, StackNotFound
from kiln.persistence.events import EventDraft, insert_event
from kiln.persistence.listing import (
    NO_FILTERS,
    SUMMARY_COLUMNS,
    ListRequest,
    StackFilters,
    stack_query,
    summary_page,
)
from kiln.persistence.models import ResourceRow, StackLockRow, StackRow, StackTagRow
from kiln.persistence.secrets import SecretBox, sealed_names
from kiln.plan.state import Action, StackRecord, Status

#: The resource type stack-level events carry, as in Heat's event list.
STACK_EVENT_TYPE = "OS::Heat::Stack"
_TAG_BATCH = 500
#: What a listed stack's unread definition fields hold (empty, shared, never changed).
_SUMMARY_PROTOTYPE = StackRecord(id="", name="")
_SUMMARY_NAMES = tuple(column.key for column in SUMMARY_COLUMNS)
_ACTIONS = {action.value: action for action in Action}
_STATUSES = {status.value: status for status in Status}


class StackRepository:
    """Stores and loads :class:`StackRecord` values; hidden parameters are sealed at rest."""

    def __init__(self, database: Database, secrets: SecretBox, clock: Clock = utc_now) -> None:
        self.database = database
        self.secrets = secrets
        self.clock = clock

    # -- definitions -------------------------------------------------------

    def create(self, stack: StackRecord, hidden_names: Collection[str] = ()) -> StackRecord:
        """Insert ``stack``; raises StackExists when a live stack in the project has its name."""
        created = replace(stack, created_at=stack.created_at or self.clock())

        def insert(session: Session) -> None:
            session.add(self._new_row(created, hidden_names))
            session.flush()
            _write_tags(session, created.id, created.tags)

        try:
            self.database.write(insert)
        except IntegrityError:
            raise self._explain_conflict(created) from None
        return created

    def save_definition(
        self,
        stack: StackRecord,
        hidden_names: Collection[str] = (),
        *,
        unchanged_since: StackRecord | None = None,
    ) -> bool:
        """Store what an update changes: template, files, environments, parameters (current
        and previous), options and tags. Name, status and traversal are left alone.

        A parameter stored encrypted stays encrypted even if ``hidden_names`` no
        longer names it (a rollback saving the previous definition, say).
        With ``unchanged_since``, only if nobody has saved a definition or started an
        operation since that record was read (its traversal, templates and update
        time are still stored): a finished rollback never overwrites a newer update.
        False if the stack is gone or deleted, or was changed since.
        """
        statement = _live(stack.id)
        if unchanged_since is not None:
            statement = statement.where(
                _traversal_is(unchanged_since.current_traversal),
                StackRow.updated_at == unchanged_since.updated_at,
                StackRow.template == unchanged_since.template,
                StackRow.previous_template == unchanged_since.previous_template,
            )

        def store(session: Session) -> bool:
            query = select(StackRow.parameters, StackRow.previous_parameters)
            stored = session.execute(query.where(StackRow.id == stack.id)).first()
            if stored is None:
                return False
            hidden = set(hidden_names) | sealed_names(stored[0]) | sealed_names(stored[1])
            values = self._definition(stack, hidden) | {"updated_at": self.clock()}
            if session.connection().execute(statement.values(**values)).rowcount != 1:
                return False
            session.execute(delete(StackTagRow).where(StackTagRow.stack_id == stack.id))
            _write_tags(session, stack.id, stack.tags)
            return True

        return self.database.write(store)

    def soft_delete(self, stack_id: str) -> bool:
        """Hide the stack and free its name; rows stay for history. False if already deleted."""
        statement = _live(stack_id).values(deleted_at=self.clock(), active_name=None)
        return self._execute(statement)

    def abandon(self, stack_id: str, expected_traversal: str | None, family: Sequence[str]) -> bool:
        """Forget the stack and its nested stacks (``family``) without touching what they made.

        One transaction: the stack must still be at ``expected_traversal``
        and not in progress; its resource rows and those of ``family`` go, and
        the stacks are soft-deleted. Nothing is left for an engine to delete,
        even after a crash: either everything is forgotten or nothing is.
        """
        now = self.clock()
        claim = (
            _live(stack_id)
            .where(_traversal_is(expected_traversal), StackRow.status != Status.IN_PROGRESS.value)
            .values(
                action=Action.DELETE.value,
                status=Status.COMPLETE.value,
                status_reason="Stack abandoned",
                updated_at=now,
            )
        )
        ids = [stack_id, *family]

        def run(session: Session) -> bool:
            if session.connection().execute(claim).rowcount != 1:
                return False
            insert_event(session, stack_id, _stack_event(session, stack_id), self.clock)
            session.connection().execute(delete(ResourceRow).where(ResourceRow.stack_id.in_(ids)))
            session.connection().execute(
                update(StackRow)
                .where(StackRow.id.in_(ids), StackRow.deleted_at.is_(None))
                .values(deleted_at=now, active_name=None)
            )
            return True

        return self.database.write(run)

    # -- reading -----------------------------------------------------------

    def get(self, stack_id: str, *, include_deleted: bool = False) -> StackRecord | None:
        query = select(StackRow).where(StackRow.id == stack_id)
        if not include_deleted:
            query = query.where(StackRow.deleted_at.is_(None))
        return self._load_one(query)

    def children(self, parent_id: str) -> builtins.list[StackRecord]:
        """The live nested stacks of ``parent_id``, by parent resource name."""
        query = (
            select(StackRow)
            .where(StackRow.parent_id == parent_id, StackRow.deleted_at.is_(None))
            .order_by(StackRow.parent_resource, StackRow.name)
        )
        return self.database.read(
            lambda session: self._records(session, list(session.scalars(query)))
        )

    def traversal(self, stack_id: str) -> str | None:
        """The live stack's current operation id: one column, for a running engine's checks.

        None when the stack is gone or runs no operation.
        """
        query = select(StackRow.current_traversal).where(
            StackRow.id == stack_id, StackRow.deleted_at.is_(None)
        )
        return self.database.read(lambda session: session.scalar(query))

    def find(self, project_id: str, name_or_id: str) -> StackRecord | None:
        """A live stack of the project by id, else by name (Heat's stack identification)."""
        live = select(StackRow).where(
            StackRow.project_id == project_id, StackRow.deleted_at.is_(None)
        )
        by_id = self._load_one(live.where(StackRow.id == name_or_id))
        if by_id is not None:
            return by_id
        return self._load_one(live.where(StackRow.active_name == name_or_id))

    def list(
        self,
        project_id: str | None,
        filters: StackFilters = NO_FILTERS,
        *,
        sort_keys: Sequence[str] = (),
        sort_dir: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> builtins.list[StackRecord]:
        """One page of the project's stacks (every project's for None), as Heat lists them.

        The records carry what a listing shows: their definitions (template,
        files, environments, parameters) are left empty, unread.
        """
        request = ListRequest(filters, sort_keys, sort_dir, limit, marker)

        def load(session: Session) -> builtins.list[StackRecord]:
            rows = summary_page(session, project_id, request)
            tags = _read_tags(session, [row.id for row in rows])
            return [self._summary(row, tags.get(row.id, ())) for row in rows]

        return self.database.read(load)

    def count(self, project_id: str | None, filters: StackFilters = NO_FILTERS) -> int:
        query = select(func.count()).select_from(stack_query(project_id, filters).subquery())
        return int(self.database.read(lambda session: session.scalar(query)) or 0)

    def stacks_with_expired_operations(self, now: datetime) -> builtins.list[StackRecord]:
        """Live stacks still IN_PROGRESS past their deadline: what recovery must fail."""
        query = (
            select(StackRow)
            .where(
                StackRow.status == Status.IN_PROGRESS.value,
                StackRow.deadline_at.is_not(None),
                StackRow.deadline_at < now,
                StackRow.deleted_at.is_(None),
            )
            .order_by(StackRow.deadline_at, StackRow.id)
        )
        return self.database.read(lambda session: self._records(session, session.scalars(query)))

    def orphaned_operations(self, now: datetime) -> builtins.list[StackRecord]:
        """Live stacks IN_PROGRESS that no engine holds an unexpired lease on.

        Their engine died (or never started): recovery resumes them.
        """
        held = select(StackLockRow.stack_id).where(StackLockRow.lease_until >= now)
        query = (
            select(StackRow)
            .where(
                StackRow.status == Status.IN_PROGRESS.value,
                StackRow.deleted_at.is_(None),
                StackRow.id.not_in(held),
            )
            .order_by(StackRow.updated_at, StackRow.id)
        )
        return self.database.read(lambda session: self._records(session, session.scalars(query)))

    # -- status and operations ----------------------------------------------

    def begin_operation(
        self,
        stack_id: str,
        action: Action,
        expected_traversal: str | None,
        new_traversal: str,
        deadline_at: datetime | None,
        *,
        allow_in_progress: bool = False,
        reason: str = "",
        record_event: bool = False,
    ) -> bool:
        """Compare-and-swap ``new_traversal`` in; True only for the caller that won.

        The swap happens when the stack is live, its traversal is still
        ``expected_traversal`` and, unless ``allow_in_progress`` (Heat's
        update-over-update), no other operation is in progress.
        """
        conditions = [_traversal_is(expected_traversal)]
        if not allow_in_progress:
            conditions.append(StackRow.status != Status.IN_PROGRESS.value)
        statement = (
            _live(stack_id)
            .where(*conditions)
            .values(
                action=action.value,
                status=Status.IN_PROGRESS.value,
                status_reason=reason,
                current_traversal=new_traversal,
                deadline_at=deadline_at,
                updated_at=self.clock(),
            )
        )
        return self._execute(statement, stack_id if record_event else None)

    def finish_operation(
        self,
        stack_id: str,
        traversal: str,
        status: Status,
        reason: str = "",
        *,
        record_event: bool = False,
    ) -> bool:
        """Record the outcome of the operation ``traversal``; False if it was superseded."""
        statement = (
            _live(stack_id)
            .where(StackRow.current_traversal == traversal)
            .values(
                status=status.value,
                status_reason=reason,
                deadline_at=None,
                updated_at=self.clock(),
            )
        )
        return self._execute(statement, stack_id if record_event else None)

    def update_status(
        self,
        stack_id: str,
        action: Action,
        status: Status,
        reason: str = "",
        *,
        traversal: str | None = None,
        record_event: bool = False,
    ) -> bool:
        """Set action and status; fenced by ``traversal`` when one is given."""
        statement = _live(stack_id).values(
            action=action.value, status=status.value, status_reason=reason, updated_at=self.clock()
        )
        if traversal is not None:
            statement = statement.where(StackRow.current_traversal == traversal)
        return self._execute(statement, stack_id if record_event else None)

    # -- helpers -------------------------------------------------------------

    def _execute(self, statement: Update, event_for: str | None = None) -> bool:
        """Run one conditional UPDATE; on success optionally log the new state as an event."""

        def run(session: Session) -> bool:
            if session.connection().execute(statement).rowcount != 1:
                return False
            if event_for is not None:
                insert_event(session, event_for, _stack_event(session, event_for), self.clock)
            return True

        return self.database.write(run)

    def _load_one(self, query: Select[Any]) -> StackRecord | None:
        def load(session: Session) -> StackRecord | None:
            row = session.scalars(query.limit(1)).first()
            return None if row is None else self._records(session, [row])[0]

        result: StackRecord | None = self.database.read(load)
        return result

    def _records(self, session: Session, rows: Iterable[StackRow]) -> builtins.list[StackRecord]:
        rows = builtins.list(rows)
        tags = _read_tags(session, [row.id for row in rows])
        return [self._to_record(row, tags.get(row.id, ())) for row in rows]

    def _new_row(self, stack: StackRecord, hidden_names: Collection[str]) -> StackRow:
        return StackRow(
            id=stack.id,
            project_id=stack.project_id,
            name=stack.name,
            active_name=None if stack.deleted_at else stack.name,
            action=stack.action.value,
            status=stack.status.value,
            status_reason=stack.status_reason,
            current_traversal=stack.current_traversal,
            deadline_at=stack.deadline_at,
            parent_id=stack.parent_id,
            parent_resource=stack.parent_resource,
            nesting_depth=stack.nesting_depth,
            facade=dict(stack.facade),
            event_sequence=0,
            created_at=stack.created_at,
            updated_at=stack.updated_at,
            deleted_at=stack.deleted_at,
            **self._definition(stack, hidden_names),
        )

    def _definition(self, stack: StackRecord, hidden_names: Collection[str]) -> dict[str, Any]:
        """The columns a definition (create or update) writes, hidden parameters sealed."""
        return {
            "template": stack.template,
            "files": dict(stack.files),
            "environments": [list(pair) for pair in stack.environments],
            "parameters": self.secrets.seal(stack.parameters, hidden_names),
            "previous_template": stack.previous_template,
            "previous_files": dict(stack.previous_files),
            "previous_environments": [list(pair) for pair in stack.previous_environments],
            "previous_parameters": self.secrets.seal(stack.previous_parameters, hidden_names),
            "timeout_mins": stack.timeout_mins,
            "disable_rollback": stack.disable_rollback,
            "converge": stack.converge,
        }

    @staticmethod
    def _summary(row: Sequence[Any], tags: tuple[str, ...]) -> StackRecord:
        """A listed stack from a row of :data:`SUMMARY_COLUMNS`.

        Filled in from a prototype rather than through the frozen dataclass's
        ``__init__``: a listing makes a thousand of these at a time, and the
        constructor would cost more than the query.
        """
        fields = dict(_SUMMARY_PROTOTYPE.__dict__)
        fields.update(zip(_SUMMARY_NAMES, row, strict=True))
        action, status = fields["action"], fields["status"]
        fields["action"] = _ACTIONS.get(action) or Action(action)
        fields["status"] = _STATUSES.get(status) or Status(status)
        fields["nesting_depth"] = fields["nesting_depth"] or 0
        fields["tags"] = tags
        record = object.__new__(StackRecord)
        object.__setattr__(record, "__dict__", fields)
        return record

    def _to_record(self, row: StackRow, tags: tuple[str, ...]) -> StackRecord:
        return StackRecord(
            id=row.id,
            name=row.name,
            project_id=row.project_id,
            action=Action(row.action),
            status=Status(row.status),
            status_reason=row.status_reason,
            template=row.template,
            files=dict(row.files),
            environments=_pairs(row.environments),
            parameters=self.secrets.open(row.parameters),
            previous_template=row.previous_template,
            previous_files=dict(row.previous_files),
            previous_environments=_pairs(row.previous_environments),
            previous_parameters=self.secrets.open(row.previous_parameters),
            tags=tags,
            timeout_mins=row.timeout_mins,
            disable_rollback=row.disable_rollback,
            converge=bool(row.converge),
            current_traversal=row.current_traversal,
            deadline_at=row.deadline_at,
            parent_id=row.parent_id,
            parent_resource=row.parent_resource,
            nesting_depth=row.nesting_depth or 0,
            facade=dict(row.facade or {}),
            created_at=row.created_at,
            updated_at=row.updated_at,
            deleted_at=row.deleted_at,
        )

    def _explain_conflict(self, stack: StackRecord) -> Exception:
        """Turn a constraint violation into the error the caller can act on."""

        def probe(session: Session) -> Exception:
            name_taken = select(StackRow.id).where(
                StackRow.project_id == stack.project_id, StackRow.active_name == stack.name
            )
            if session.scalar(name_taken) is not None:
                return StackExists(stack.project_id, stack.name)
            if session.get(StackRow, stack.id) is not None:
                return DuplicateRecord(f"a stack with id {stack.id!r} already exists")
            if stack.parent_id is not None:
                return StackNotFound(stack.parent_id)
            return DuplicateRecord(f"stack {stack.name!r} conflicts with a stored record")

        result: Exception = self.database.read(probe)
        return result


def _pairs(stored: list[Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(text)) for name, text in stored)


def _live(stack_id: str) -> Update:
    return update(StackRow).where(StackRow.id == stack_id, StackRow.deleted_at.is_(None))


def _traversal_is(traversal: str | None) -> ColumnElement[bool]:
    if traversal is None:
        return StackRow.current_traversal.is_(None)
    return StackRow.current_traversal == traversal


def _stack_event(session: Session, stack_id: str) -> EventDraft:
    """The stack's current state, as Heat reports it in a stack-level event."""
    query = select(StackRow.name, StackRow.action, StackRow.status, StackRow.status_reason)
    name, action, status, reason = session.execute(query.where(StackRow.id == stack_id)).one()
    return EventDraft(
        resource_name=name,
        action=Action(action),
        status=Status(status),
        status_reason=reason,
        physical_id=stack_id,
        resource_type=STACK_EVENT_TYPE,
    )


def _write_tags(session: Session, stack_id: str, tags: Sequence[str]) -> None:
    for position, tag in enumerate(tags):
        session.add(StackTagRow(stack_id=stack_id, position=position, tag=tag))
    session.flush()


# Built once: a listing reads the tags of each page.
_TAGS_OF = (
    select(StackTagRow.stack_id, StackTagRow.tag)
    .where(StackTagRow.stack_id.in_(bindparam("ids", expanding=True)))
    .order_by(StackTagRow.stack_id, StackTagRow.position)
)


def _read_tags(session: Session, stack_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, builtins.list[str]] = {}
    for start in range(0, len(stack_ids), _TAG_BATCH):
        batch = stack_ids[start : start + _TAG_BATCH]
        for stack_id, tag in session.connection().execute(_TAGS_OF, {"ids": batch}):
            found.setdefault(stack_id, []).append(tag)
    return {stack_id: tuple(tags) for stack_id, tags in found.items()}
