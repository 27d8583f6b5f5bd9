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
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from kiln.persistence.database import Database
from kiln.persistence.errors import ResourceNotFound
from kiln.persistence.events import EventDraft
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import ResourceRecord

Work = Callable[[Session], Any]


class GroupCommit:
    """Runs units of work submitted in the same event-loop turn in one transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._scheduled = False

    async def run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((work, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        try:
            results = self.database.write(lambda session: [work(session) for work, _ in batch])
        except Exception:
            for work, future in batch:
                try:
                    future.set_result(self.database.write(work))
                except Exception as error:
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


class RepositoryStore:
    def __init__(self, database: Database, secrets: SecretBox) -> None:
        self.resources = ResourceRepository(database, secrets)
        self.commits = GroupCommit(database)
        self._stack_id: str | None = None
        self._records: dict[str, ResourceRecord] = {}
        self._live: dict[str, ResourceRecord] = {}

    def load(self, stack_id: str) -> None:
        self._stack_id = stack_id
        self._records = {record.id: record for record in self.resources.by_stack(stack_id)}
        self._rebuild_live()

    def _rebuild_live(self) -> None:
        self._live = {r.name: r for r in self._records.values() if r.replaced_by is None}

    def _ensure(self, stack_id: str) -> None:
        if self._stack_id != stack_id:
            self.load(stack_id)

    def all(self, stack_id: str) -> list[ResourceRecord]:
        self._ensure(stack_id)
        return list(self._records.values())

    def live(self, stack_id: str) -> Mapping[str, ResourceRecord]:
        """The current incarnation of each resource, by name (kept up to date)."""
        self._ensure(stack_id)
        return self._live

    def get(self, record_id: str) -> ResourceRecord:
        record = self._records.get(record_id) or self.resources.get(record_id)
        if record is None:
            raise ResourceNotFound(record_id)
        return record

    async def add(self, record: ResourceRecord, event: EventDraft | None = None) -> None:
        stored, work = self.resources.save_work(record, event, insert=True)
        await self.commits.run(work)
        self._remember(stored)

    async def save(self, record: ResourceRecord, event: EventDraft | None = None) -> None:
        stored, work = self.resources.save_work(record, event)
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
        for partner_id in (removed.replaces, removed.replaced_by):
            partner = self._records.get(partner_id) if partner_id else None
            if partner is not None:
                self._records[partner.id] = replace(
                    partner,
                    replaces=None if partner.replaces == record_id else partner.replaces,
                    replaced_by=None if partner.replaced_by == record_id else partner.replaced_by,
                )
        self._rebuild_live()

    def _remember(self, record: ResourceRecord) -> None:
        if record.stack_id != self._stack_id:
            return
        previous = self._records.get(record.id)
        self._records[record.id] = record
        if record.replaced_by is None:
            self._live[record.name] = record
        elif previous is not None and self._live.get(record.name) is previous:
            self._rebuild_live()
