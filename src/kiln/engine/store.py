"""The engine's :class:`ResourceStore` over the persistence repositories."""

from __future__ import annotations

from kiln.persistence.database import Database
from kiln.persistence.errors import ResourceNotFound
from kiln.persistence.events import EventDraft
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import ResourceRecord


class RepositoryStore:
    """Each call is one committed transaction, record and event together."""

    def __init__(self, database: Database, secrets: SecretBox) -> None:
        self.resources = ResourceRepository(database, secrets)

    def all(self, stack_id: str) -> list[ResourceRecord]:
        return self.resources.by_stack(stack_id)

    def get(self, record_id: str) -> ResourceRecord:
        record = self.resources.get(record_id)
        if record is None:
            raise ResourceNotFound(record_id)
        return record

    def add(self, record: ResourceRecord, event: EventDraft | None = None) -> None:
        self.resources.save(record, event, insert=True)

    def save(self, record: ResourceRecord, event: EventDraft | None = None) -> None:
        self.resources.save(record, event)

    def remove(self, record_id: str, event: EventDraft | None = None) -> None:
        self.resources.remove(record_id, event)
