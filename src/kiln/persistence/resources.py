"""The resource repository: incarnations, leases with fencing, and the writes around a cloud call.

A worker first :meth:`~ResourceRepository.claim`\\ s a resource, which bumps
its fence and returns the new value. Every later write for that piece of work
(:meth:`record_intent` before the cloud call, :meth:`save_physical_id` right
after it, :meth:`release` at the end) names that fence and only applies while
the row still carries it with a lease held. A worker that stalled past its
lease and was overtaken therefore changes nothing: its writes return False.

Each of these calls commits at once, because what it records (an issued
call, a physical id) must survive the worker dying a moment later.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Update, bindparam, delete, select, update
from sqlalchemy import insert as sql_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.errors import (
    DuplicateRecord,
    PersistenceError,
    ResourceNotFound,
    StackNotFound,
)
from kiln.persistence.events import EventDraft, insert_event, insert_events
from kiln.persistence.models import ResourceRow, StackRow
from kiln.persistence.records import Lease
from kiln.persistence.secrets import SecretBox, sealed_names
from kiln.plan.state import Action, Intent, ResourceRecord, Status, idempotency_token

# Statements built once and run with parameters: building them per call costs
# more than executing them (the engine writes on every state change).
_INSERT = sql_insert(ResourceRow)
_OVERWRITE = update(ResourceRow).where(ResourceRow.id == bindparam("record_id"))


@dataclass(frozen=True)
class _Outcome:
    """What a finished step records when it gives its lease back (None keeps the stored value)."""

    action: Action
    status: Status
    status_reason: str = ""
    properties: Mapping[str, Any] | None = None
    attributes: Mapping[str, Any] | None = None
    depends_on: frozenset[str] | None = None
    provider_data: Mapping[str, Any] | None = None
    physical_id: str | None = None
    intent: Intent = Intent.NONE
    hidden_properties: Collection[str] = ()


class ResourceRepository:
    def __init__(self, database: Database, secrets: SecretBox, clock: Clock = utc_now) -> None:
        self.database = database
        self.secrets = secrets
        self.clock = clock

    # -- adding and removing rows ------------------------------------------

    def add(
        self, record: ResourceRecord, hidden_properties: Collection[str] = ()
    ) -> ResourceRecord:
        """Insert a new incarnation; its idempotency token is derived when left empty."""
        stored = self._complete(record)
        self._insert(lambda session: session.add(self._new_row(stored, hidden_properties)), stored)
        return stored

    def add_replacement(
        self, record: ResourceRecord, hidden_properties: Collection[str] = ()
    ) -> ResourceRecord:
        """Insert the successor of ``record.replaces`` and link both ways in one transaction.

        The predecessor must be a stored, not yet replaced incarnation of the
        same name in the same stack.
        """
        if record.replaces is None:
            raise PersistenceError("a replacement must name the record it replaces")
        stored = self._complete(record)
        predecessor = record.replaces

        def insert(session: Session) -> None:
            session.add(self._new_row(stored, hidden_properties))
            session.flush()
            link = update(ResourceRow).where(
                ResourceRow.id == predecessor,
                ResourceRow.stack_id == stored.stack_id,
                ResourceRow.name == stored.name,
                ResourceRow.replaced_by.is_(None),
            )
            link = link.values(replaced_by=stored.id, updated_at=self.clock())
            if session.connection().execute(link).rowcount != 1:
                raise PersistenceError(
                    f"resource {predecessor!r} is not an unreplaced incarnation of {stored.name!r}"
                )

        self._insert(insert, stored)
        return stored

    def mark_replaced(self, old_id: str, new_id: str) -> None:
        """Link two stored incarnations of one resource: ``old_id`` is replaced by ``new_id``."""

        def link(session: Session) -> None:
            old = session.get(ResourceRow, old_id)
            if old is None:
                raise ResourceNotFound(old_id)
            if old.replaced_by not in (None, new_id):
                raise PersistenceError(f"resource {old_id!r} is already replaced by another")
            now = self.clock()
            successor = update(ResourceRow).where(
                ResourceRow.id == new_id,
                ResourceRow.stack_id == old.stack_id,
                ResourceRow.name == old.name,
            )
            successor = successor.values(replaces=old_id, updated_at=now)
            if session.connection().execute(successor).rowcount != 1:
                raise PersistenceError(
                    f"resource {new_id!r} is not another incarnation of {old.name!r}"
                )
            old.replaced_by = new_id
            old.updated_at = now

        self.database.write(link)

    def delete(self, resource_id: str, fence: int | None = None) -> bool:
        """Remove an incarnation (its cloud resource is gone) and unlink its partner.

        With ``fence`` the delete only happens under that lease.
        """

        def remove(session: Session) -> bool:
            connection = session.connection()
            links = connection.execute(_LINKS_OF, {"record_id": resource_id}).first()
            statement = delete(ResourceRow).where(ResourceRow.id == resource_id)
            if fence is not None:
                statement = statement.where(
                    ResourceRow.fence == fence, ResourceRow.lease_owner.is_not(None)
                )
            if links is None or connection.execute(statement).rowcount != 1:
                return False
            _unlink(session, resource_id, links.replaces, links.replaced_by)
            return True

        return self.database.write(remove)

    # -- whole-record writes -----------------------------------------------------

    def save(
        self,
        record: ResourceRecord,
        event: EventDraft | None = None,
        *,
        insert: bool = False,
        hidden_properties: Collection[str] = (),
        secret_data: Collection[str] = (),
    ) -> ResourceRecord:
        """Write the whole record, and ``event`` with it, in one transaction; the stored record.

        Unfenced (last writer wins): for code that owns the stack's resources
        through its operation, as the in-process engine does. ``insert`` adds
        a new row (as :meth:`add`); otherwise the stored row is overwritten,
        lease columns excepted, and ResourceNotFound raised when there is
        none. Properties stored encrypted stay encrypted.
        """
        stored, write = self.save_work(
            record,
            event,
            insert=insert,
            hidden_properties=hidden_properties,
            secret_data=secret_data,
        )
        self._insert(lambda session: self.apply(session, [write]), stored)
        return stored

    def save_work(
        self,
        record: ResourceRecord,
        event: EventDraft | None = None,
        *,
        insert: bool = False,
        hidden_properties: Collection[str] = (),
        secret_data: Collection[str] = (),
    ) -> tuple[ResourceRecord, PendingWrite]:
        """:meth:`save` as data, for :meth:`apply` to run with others in one transaction.

        ``secret_data`` names ``provider_data`` keys stored encrypted (a
        plugin's ``secret_data_keys``).
        """
        stored = self._complete(record) if insert else record.evolve(updated_at=self.clock())
        values = _row_values(stored) if insert else _state_values(stored)
        if secret_data:
            values["provider_data"] = self.secrets.seal(stored.provider_data, secret_data)
        kind = WriteKind.INSERT if insert else WriteKind.OVERWRITE
        write = PendingWrite(kind, stored.id, stored.stack_id, values, hidden_properties, event)
        return stored, write

    def remove(self, resource_id: str, event: EventDraft | None = None) -> bool:
        """Delete the row, unlink its partner, and write ``event``, in one transaction.

        False (and no event) when there is no such row.
        """
        write = self.remove_work(resource_id, event)
        return bool(self.database.write(lambda session: self.apply(session, [write]))[0])

    def remove_work(
        self, resource_id: str, event: EventDraft | None = None, *, linked: bool = True
    ) -> PendingWrite:
        """:meth:`remove` as data, for :meth:`apply`.

        ``linked=False`` says the record has no replacement links (links are
        kept symmetric), so there are none to clear.
        """
        return PendingWrite(WriteKind.REMOVE, resource_id, "", {}, (), event, linked)

    def apply(self, session: Session, writes: Sequence[PendingWrite]) -> list[bool]:
        """Run ``writes`` in order in the caller's transaction; for each, whether it took effect.

        Consecutive writes of one kind run as one multi-row statement and the
        events go in together at the end, so the cost of a batch grows with
        its kinds, not its length. An overwrite of a missing row raises
        ResourceNotFound; a removal of one reports False and writes no event.
        """
        connection = session.connection()
        done: list[bool] = []
        events: list[tuple[str, EventDraft]] = []
        for kind, run in groupby(writes, key=lambda write: write.kind):
            group = list(run)
            if kind is WriteKind.INSERT:
                rows = [{**w.values, "properties": self._sealed(w, set(w.hidden))} for w in group]
                connection.execute(_INSERT, rows)
                outcomes: list[tuple[PendingWrite, str | None]] = [(w, w.stack_id) for w in group]
            elif kind is WriteKind.OVERWRITE:
                stored = _stored_properties(connection, [w.record_id for w in group])
                missing = next((w.record_id for w in group if w.record_id not in stored), None)
                if missing is not None:
                    raise ResourceNotFound(missing)
                rows = [
                    {
                        **w.values,
                        "record_id": w.record_id,
                        "properties": self._sealed(
                            w, set(w.hidden) | sealed_names(stored[w.record_id])
                        ),
                    }
                    for w in group
                ]
                connection.execute(_OVERWRITE, rows)
                outcomes = [(w, w.stack_id) for w in group]
            else:
                outcomes = _remove(session, group)
            for write, stack_id in outcomes:
                done.append(stack_id is not None)
                if stack_id is not None and write.event is not None:
                    events.append((stack_id, write.event))
        insert_events(session, events, self.clock)
        return done

    def _sealed(self, write: PendingWrite, hidden: set[str]) -> Mapping[str, Any]:
        return self.secrets.seal(write.values["properties"], hidden)

    # -- reading ---------------------------------------------------------------

    def get(self, resource_id: str) -> ResourceRecord | None:
        query = select(ResourceRow).where(ResourceRow.id == resource_id)
        return self.database.read(
            lambda session: next((self._to_record(row) for row in session.scalars(query)), None)
        )

    def by_stack(self, stack_id: str) -> builtins.list[ResourceRecord]:
        """Every stored incarnation of the stack's resources, by name then generation."""
        query = (
            select(ResourceRow)
            .where(ResourceRow.stack_id == stack_id)
            .order_by(ResourceRow.name, ResourceRow.generation)
        )
        return self.database.read(
            lambda session: [self._to_record(row) for row in session.scalars(query)]
        )

    def current(self, stack_id: str) -> dict[str, ResourceRecord]:
        """The live incarnation per name: the newest one not replaced by another.

        When every incarnation of a name is marked replaced (a broken chain),
        the newest one is still returned so that nothing is forgotten.
        """
        by_name: dict[str, builtins.list[ResourceRecord]] = {}
        for record in self.by_stack(stack_id):
            by_name.setdefault(record.name, []).append(record)
        chosen: dict[str, ResourceRecord] = {}
        for name, records in by_name.items():
            unreplaced = [record for record in records if record.replaced_by is None]
            chosen[name] = max(unreplaced or records, key=lambda record: record.generation)
        return chosen

    def lease(self, resource_id: str) -> Lease | None:
        query = select(ResourceRow).where(
            ResourceRow.id == resource_id, ResourceRow.lease_owner.is_not(None)
        )
        return self.database.read(
            lambda session: next((_to_lease(row) for row in session.scalars(query)), None)
        )

    def leases(self, stack_id: str) -> builtins.list[Lease]:
        """Leases currently recorded on the stack's resources, expired or not."""
        query = (
            select(ResourceRow)
            .where(ResourceRow.stack_id == stack_id, ResourceRow.lease_owner.is_not(None))
            .order_by(ResourceRow.name, ResourceRow.generation)
        )
        return self.database.read(
            lambda session: [_to_lease(row) for row in session.scalars(query)]
        )

    def expired_leases(self, now: datetime) -> builtins.list[ResourceRecord]:
        """Resources whose worker stopped renewing: recovery reclaims and re-runs them."""
        query = (
            select(ResourceRow)
            .where(ResourceRow.lease_owner.is_not(None), ResourceRow.lease_until < now)
            .order_by(ResourceRow.lease_until, ResourceRow.id)
        )
        return self.database.read(
            lambda session: [self._to_record(row) for row in session.scalars(query)]
        )

    # -- leases and fenced writes ------------------------------------------------

    def claim(
        self, resource_id: str, owner: str, lease_seconds: float, now: datetime
    ) -> int | None:
        """Take the lease when nobody holds it or it expired; the new fence, or None."""
        free = (ResourceRow.lease_owner.is_(None)) | (ResourceRow.lease_until < now)
        statement = (
            update(ResourceRow)
            .where(ResourceRow.id == resource_id, free)
            .values(
                lease_owner=owner,
                lease_until=now + timedelta(seconds=lease_seconds),
                fence=ResourceRow.fence + 1,
            )
        )

        def take(session: Session) -> int | None:
            if session.connection().execute(statement).rowcount != 1:
                return None
            fence = session.connection().scalar(
                select(ResourceRow.fence).where(ResourceRow.id == resource_id)
            )
            return None if fence is None else int(fence)

        return self.database.write(take)

    def extend(self, resource_id: str, fence: int, lease_seconds: float, now: datetime) -> bool:
        """Heartbeat: push the lease end out while the fence is still ours."""
        until = now + timedelta(seconds=lease_seconds)
        return self._fenced(_fenced(resource_id, fence).values(lease_until=until))

    def set_provider_data(
        self,
        resource_id: str,
        fence: int,
        provider_data: Mapping[str, Any],
        secret_data: Collection[str] = (),
    ) -> bool:
        """Replace the provider data under the lease (a signal handler's change)."""
        sealed = self.secrets.seal(provider_data, secret_data)
        statement = _fenced(resource_id, fence).values(
            provider_data=sealed, updated_at=self.clock()
        )
        return self._fenced(statement)

    def set_attributes(self, resource_id: str, fence: int, attributes: Mapping[str, Any]) -> bool:
        """Replace the recorded attributes under the lease (read again after a nested change)."""
        statement = _fenced(resource_id, fence).values(
            attributes=dict(attributes), updated_at=self.clock()
        )
        return self._fenced(statement)

    def unclaim(self, resource_id: str, fence: int) -> bool:
        """Give the lease back and change nothing else."""
        statement = _fenced(resource_id, fence).values(lease_owner=None, lease_until=None)
        return self._fenced(statement)

    def record_intent(self, resource_id: str, intent: Intent, fence: int) -> bool:
        """Note the cloud call about to be made (committed before the call)."""
        statement = _fenced(resource_id, fence).values(intent=intent.value, updated_at=self.clock())
        return self._fenced(statement)

    def save_physical_id(
        self,
        resource_id: str,
        physical_id: str,
        fence: int,
        provider_data: Mapping[str, Any] | None = None,
    ) -> bool:
        """Keep what the cloud returned the moment it returned it."""
        values: dict[str, Any] = {"physical_id": physical_id, "updated_at": self.clock()}
        if provider_data is not None:
            values["provider_data"] = dict(provider_data)
        return self._fenced(_fenced(resource_id, fence).values(**values))

    def release(
        self,
        resource_id: str,
        fence: int,
        action: Action,
        status: Status,
        reason: str = "",
        *,
        properties: Mapping[str, Any] | None = None,
        attributes: Mapping[str, Any] | None = None,
        depends_on: frozenset[str] | None = None,
        provider_data: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
        intent: Intent = Intent.NONE,
        hidden_properties: Collection[str] = (),
        record_event: bool = False,
    ) -> bool:
        """Record the step's outcome and give the lease back; False for a stale fence.

        Optional values left as None keep what is stored. ``record_event``
        writes the new state as an event in the same transaction.
        """
        outcome = _Outcome(
            action,
            status,
            reason,
            properties,
            attributes,
            depends_on,
            provider_data,
            physical_id,
            intent,
            hidden_properties,
        )
        return self._release(resource_id, fence, outcome, record_event)

    # -- helpers -------------------------------------------------------------------

    def _release(self, resource_id: str, fence: int, outcome: _Outcome, record_event: bool) -> bool:
        statement = _fenced(resource_id, fence).values(
            lease_owner=None, lease_until=None, **self._outcome_values(outcome)
        )

        def finish(session: Session) -> bool:
            if session.connection().execute(statement).rowcount != 1:
                return False
            if record_event:
                insert_event(session, *_resource_event(session, resource_id), self.clock)
            return True

        return self.database.write(finish)

    def _fenced(self, statement: Update) -> bool:
        return self.database.write(
            lambda session: session.connection().execute(statement).rowcount == 1
        )

    def _outcome_values(self, outcome: _Outcome) -> dict[str, Any]:
        values: dict[str, Any] = {
            "action": outcome.action.value,
            "status": outcome.status.value,
            "status_reason": outcome.status_reason,
            "intent": outcome.intent.value,
            "updated_at": self.clock(),
        }
        if outcome.properties is not None:
            values["properties"] = self.secrets.seal(outcome.properties, outcome.hidden_properties)
        if outcome.attributes is not None:
            values["attributes"] = dict(outcome.attributes)
        if outcome.depends_on is not None:
            values["depends_on"] = sorted(outcome.depends_on)
        if outcome.provider_data is not None:
            values["provider_data"] = dict(outcome.provider_data)
        if outcome.physical_id is not None:
            values["physical_id"] = outcome.physical_id
        return values

    def _complete(self, record: ResourceRecord) -> ResourceRecord:
        token = record.idempotency_token or idempotency_token(
            record.stack_id, record.name, record.generation
        )
        return record.evolve(idempotency_token=token, created_at=record.created_at or self.clock())

    def _insert(self, work: Callable[[Session], object], record: ResourceRecord) -> None:
        try:
            self.database.write(work)
        except IntegrityError:
            raise self._explain_conflict(record) from None

    def _explain_conflict(self, record: ResourceRecord) -> Exception:
        def probe(session: Session) -> Exception:
            if session.get(StackRow, record.stack_id) is None:
                return StackNotFound(record.stack_id)
            return DuplicateRecord(
                f"resource {record.name!r} generation {record.generation} conflicts with a "
                "stored record (same id, idempotency token, or name and generation)"
            )

        result: Exception = self.database.read(probe)
        return result

    def _new_row(self, record: ResourceRecord, hidden_properties: Collection[str]) -> ResourceRow:
        values = _row_values(record)
        values["properties"] = self.secrets.seal(record.properties, hidden_properties)
        return ResourceRow(**values)

    def _to_record(self, row: ResourceRow) -> ResourceRecord:
        return ResourceRecord(
            id=row.id,
            stack_id=row.stack_id,
            name=row.name,
            type=row.type,
            generation=row.generation,
            physical_id=row.physical_id,
            action=Action(row.action),
            status=Status(row.status),
            status_reason=row.status_reason,
            properties=self.secrets.open(row.properties),
            attributes=dict(row.attributes),
            depends_on=frozenset(row.depends_on),
            replaces=row.replaces,
            replaced_by=row.replaced_by,
            idempotency_token=row.idempotency_token,
            intent=Intent(row.intent),
            provider_data=self.secrets.open(row.provider_data),
            update_policy=dict(row.update_policy or {}),
            implementation=row.implementation or "",
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class WriteKind(Enum):
    INSERT = "insert"
    OVERWRITE = "overwrite"
    REMOVE = "remove"


@dataclass(frozen=True)
class PendingWrite:
    """A whole-record write kept as data, so that many can run as one statement."""

    kind: WriteKind
    record_id: str
    #: The record's stack ("" for a removal: it is read from the row being removed).
    stack_id: str
    #: Column values; ``properties`` still open (sealed when the write runs).
    values: Mapping[str, Any]
    hidden: Collection[str] = ()
    event: EventDraft | None = None
    #: For a removal: whether replacement links may point at the row.
    linked: bool = True


def _state_values(record: ResourceRecord) -> dict[str, Any]:
    """Every column a whole-record write sets (not the id, stack, lease or creation time)."""
    return {
        "name": record.name,
        "type": record.type,
        "generation": record.generation,
        "physical_id": record.physical_id,
        "action": record.action.value,
        "status": record.status.value,
        "status_reason": record.status_reason,
        "properties": record.properties,
        "attributes": dict(record.attributes),
        "depends_on": sorted(record.depends_on),
        "replaces": record.replaces,
        "replaced_by": record.replaced_by,
        "idempotency_token": record.idempotency_token,
        "intent": record.intent.value,
        "provider_data": dict(record.provider_data),
        "update_policy": dict(record.update_policy),
        "implementation": record.implementation or None,
        "updated_at": record.updated_at,
    }


def _row_values(record: ResourceRecord) -> dict[str, Any]:
    """Every column of a new row: the state, with no lease held yet."""
    return {
        **_state_values(record),
        "id": record.id,
        "stack_id": record.stack_id,
        "lease_owner": None,
        "lease_until": None,
        "fence": 0,
        "created_at": record.created_at,
    }


#: How many ids go in one IN list (well below every backend's limit on parameters).
_IN_CHUNK = 500


def _stored_properties(connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        query = select(ResourceRow.id, ResourceRow.properties).where(ResourceRow.id.in_(chunk))
        found.update({row.id: row.properties for row in connection.execute(query)})
    return found


def _remove(
    session: Session, group: Sequence[PendingWrite]
) -> list[tuple[PendingWrite, str | None]]:
    """Delete the rows that exist; each write with its row's stack, or None when there was none.

    Rows that may be in a replacement chain are spliced out one at a time,
    each reading its links afresh: two neighbours removed together must not
    leave a link to either.
    """
    connection = session.connection()
    ids = list(dict.fromkeys(w.record_id for w in group))
    stacks: dict[str, str] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        query = select(ResourceRow.id, ResourceRow.stack_id).where(ResourceRow.id.in_(chunk))
        stacks.update({row.id: row.stack_id for row in connection.execute(query)})
    linked = {w.record_id for w in group if w.linked}
    plain = [record_id for record_id in ids if record_id in stacks and record_id not in linked]
    if plain:
        connection.execute(_DELETE, [{"record_id": record_id} for record_id in plain])
    for record_id in ids:
        if record_id in stacks and record_id in linked:
            links = connection.execute(_LINKS_OF, {"record_id": record_id}).one()
            connection.execute(_DELETE, {"record_id": record_id})
            _unlink(session, record_id, links.replaces, links.replaced_by)
    return [(write, stacks.get(write.record_id)) for write in group]


def _fenced(resource_id: str, fence: int) -> Update:
    """Rows still held under ``fence``; a released or overtaken lease matches nothing."""
    return update(ResourceRow).where(
        ResourceRow.id == resource_id,
        ResourceRow.fence == fence,
        ResourceRow.lease_owner.is_not(None),
    )


_RELINK_SUCCESSOR = (
    update(ResourceRow)
    .where(ResourceRow.replaces == bindparam("gone"))
    .values(replaces=bindparam("predecessor"))
)
_RELINK_PREDECESSOR = (
    update(ResourceRow)
    .where(ResourceRow.replaced_by == bindparam("gone"))
    .values(replaced_by=bindparam("successor"))
)
_LINKS_OF = select(ResourceRow.replaces, ResourceRow.replaced_by).where(
    ResourceRow.id == bindparam("record_id")
)
_DELETE = delete(ResourceRow).where(ResourceRow.id == bindparam("record_id"))


def _unlink(
    session: Session, resource_id: str, predecessor: str | None, successor: str | None
) -> None:
    """Splice a removed incarnation out of its replacement chain so no link dangles.

    Its predecessor now points at its successor and back: removing the
    middle of a chain A -> B -> C leaves A replaced by C, never a second
    live incarnation.
    """
    connection = session.connection()
    connection.execute(_RELINK_SUCCESSOR, {"gone": resource_id, "predecessor": predecessor})
    connection.execute(_RELINK_PREDECESSOR, {"gone": resource_id, "successor": successor})


def _resource_event(session: Session, resource_id: str) -> tuple[str, EventDraft]:
    row = (
        session.connection()
        .execute(
            select(
                ResourceRow.stack_id,
                ResourceRow.name,
                ResourceRow.type,
                ResourceRow.action,
                ResourceRow.status,
                ResourceRow.status_reason,
                ResourceRow.physical_id,
            ).where(ResourceRow.id == resource_id)
        )
        .one()
    )
    draft = EventDraft(
        resource_name=row.name,
        action=Action(row.action),
        status=Status(row.status),
        status_reason=row.status_reason,
        physical_id=row.physical_id,
        resource_type=row.type,
    )
    return row.stack_id, draft


def _to_lease(row: ResourceRow) -> Lease:
    if row.lease_owner is None or row.lease_until is None:
        raise ValueError(f"resource {row.id!r} holds no lease")
    return Lease(resource_id=row.id, owner=row.lease_owner, until=row.lease_until, fence=row.fence)
