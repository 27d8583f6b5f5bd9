"""The engine's :class:`ResourceStore`: group commit over the repositories, plus a cache.

Steps that run at the same moment (a 200-wide fan) write at the same
moment; their writes are gathered and committed in one transaction, and
each step continues only once its own write is committed, so "persist after
every step" holds while the database sees a few commits instead of hundreds.

While an engine holds a stack's lease it is the only writer of that stack's
resources, so it also keeps them in memory and reads from there; ``load``
refreshes from the database at the start of each operation round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping

from kiln.persistence.database import Database
from kiln.persistence.errors import ResourceNotFound
from kiln.persistence.events import EventDraft
from kiln.persistence.resources import PendingWrite, ResourceRepository
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import ResourceRecord


class GroupCommit:
    """Runs the writes submitted in the same event-loop turn in one transaction."""

    def __init__(self, database: Database, resources: ResourceRepository) -> None:
        self.database = database
        self.resources = resources
        self._pending: list[tuple[PendingWrite, asyncio.Future[bool]]] = []
        self._scheduled = False

    async def run(self, write: PendingWrite) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((write, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        writes = [write for write, _ in batch]
        try:
            results = self.database.write(lambda session: self.resources.apply(session, writes))
        except Exception:
            # One bad write must not fail the others: run each alone to find it.
            for write, future in batch:
                try:
                    future.set_result(self._alone(write))
                except Exception as error:
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)

    def _alone(self, write: PendingWrite) -> bool:
        done: list[bool] = self.database.write(
            lambda session: self.resources.apply(session, [write])
        )
        return done[0]


class RepositoryStore:
    def __init__(
        self,
        database: Database,
        secrets: SecretBox,
        secret_data_keys: Callable[[str], Collection[str]] = lambda type_name: (),
    ) -> None:
        #: A resource type's ``provider_data`` keys that are stored encrypted.
        self.secret_data_keys = secret_data_keys
        self.resources = ResourceRepository(database, secrets)
        self.commits = GroupCommit(database, self.resources)
        self._stack_id: str | None = None
        self._records: dict[str, ResourceRecord] = {}
        #: name -> id -> record: every incarnation of one resource, found without a scan.
        self._by_name: dict[str, dict[str, ResourceRecord]] = {}
        self._live: dict[str, ResourceRecord] = {}

    def load(self, stack_id: str) -> None:
        self._stack_id = stack_id
        self._records = {record.id: record for record in self.resources.by_stack(stack_id)}
        self._by_name = {}
        for record in self._records.values():
            self._by_name.setdefault(record.name, {})[record.id] = record
        self._live = {}
        for name in self._by_name:
            self._refresh_live(name)

    def _refresh_live(self, name: str) -> None:
        """The live incarnation of ``name``: the newest one not replaced by another."""
        unreplaced = [r for r in self._by_name.get(name, {}).values() if r.replaced_by is None]
        if unreplaced:
            self._live[name] = max(unreplaced, key=lambda record: record.generation)
        else:
            self._live.pop(name, None)

    def _ensure(self, stack_id: str) -> None:
        if self._stack_id != stack_id:
            self.load(stack_id)

    def all(self, stack_id: str) -> list[ResourceRecord]:
        self._ensure(stack_id)
        return list(self._records.values())

    def incarnations(self, stack_id: str, name: str) -> list[ResourceRecord]:
        self._ensure(stack_id)
        return list(self._by_name.get(name, {}).values())

    def live(self, stack_id: str) -> Mapping[str, ResourceRecord]:
        """The current incarnation of each resource, by name (kept up to date)."""
        self._ensure(stack_id)
        return self._live

    def get(self, record_id: str) -> ResourceRecord:
        record = self._records.get(record_id) or self.resources.get(record_id)
        if record is None:
            raise ResourceNotFound(record_id)
        return record

    async def add(
        self,
        record: ResourceRecord,
        event: EventDraft | None = None,
        hidden: Collection[str] = (),
    ) -> None:
        stored, work = self.resources.save_work(
            record,
            event,
            insert=True,
            hidden_properties=hidden,
            secret_data=self.secret_data_keys(record.type),
        )
        await self.commits.run(work)
        self._remember(stored)

    async def save(
        self,
        record: ResourceRecord,
        event: EventDraft | None = None,
        hidden: Collection[str] = (),
    ) -> None:
        stored, work = self.resources.save_work(
            record,
            event,
            hidden_properties=hidden,
            secret_data=self.secret_data_keys(record.type),
        )
        await self.commits.run(work)
        self._remember(stored)

    async def remove(self, record_id: str, event: EventDraft | None = None) -> None:
        """Delete the record; like the repository, clear the links its partners had to it."""
        cached = self._records.get(record_id)
        linked = cached is None or cached.replaces is not None or cached.replaced_by is not None
        await self.commits.run(self.resources.remove_work(record_id, event, linked=linked))
        removed = self._records.pop(record_id, None)
        if removed is None:
            return
        self._by_name.get(removed.name, {}).pop(record_id, None)
        # Spliced out of its chain, as the repository does: predecessor and
        # successor now point at each other.
        for partner_id in (removed.replaces, removed.replaced_by):
            partner = self._records.get(partner_id) if partner_id else None
            if partner is not None:
                replaces, replaced_by = partner.replaces, partner.replaced_by
                if replaces == record_id:
                    replaces = removed.replaces
                if replaced_by == record_id:
                    replaced_by = removed.replaced_by
                self._put(partner.evolve(replaces=replaces, replaced_by=replaced_by))
        self._refresh_live(removed.name)

    def observed(self, record: ResourceRecord) -> None:
        """Plan on ``record`` as observed in reality, without writing it."""
        self._remember(record)

    def _remember(self, record: ResourceRecord) -> None:
        if record.stack_id != self._stack_id:
            return
        self._put(record)
        self._refresh_live(record.name)

    def _put(self, record: ResourceRecord) -> None:
        self._records[record.id] = record
        self._by_name.setdefault(record.name, {})[record.id] = record
