"""Exclusive stack locks as expiring leases, for the few actions that must run alone.

Unlike Heat's engine locks, which are stolen after pinging the holder, a lock
here simply ends at ``lease_until`` unless its holder renews it; anybody may
take over an expired lock. The row exists only while a lock is held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.persistence.database import Database
from kiln.persistence.errors import StackNotFound
from kiln.persistence.models import StackLockRow, StackRow


class LockRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def acquire(self, stack_id: str, holder: str, lease_seconds: float, now: datetime) -> bool:
        """Take the lock if free or expired; True also when ``holder`` already has it.

        Re-acquiring by the same holder renews the lease, which makes a
        redelivered "acquire" harmless. Raises StackNotFound for unknown stacks.
        """
        until = now + timedelta(seconds=lease_seconds)
        takeover = (
            update(StackLockRow)
            .where(
                StackLockRow.stack_id == stack_id,
                (StackLockRow.lease_until < now) | (StackLockRow.holder == holder),
            )
            .values(holder=holder, lease_until=until, acquired_at=now)
        )

        def take_over(session: Session) -> bool:
            return session.connection().execute(takeover).rowcount == 1

        if self.database.write(take_over):
            return True
        return self._insert(stack_id, holder, until, now)

    def renew(self, stack_id: str, holder: str, lease_seconds: float, now: datetime) -> bool:
        """Extend the lease; False once somebody else has taken the lock over."""
        statement = (
            update(StackLockRow)
            .where(StackLockRow.stack_id == stack_id, StackLockRow.holder == holder)
            .values(lease_until=now + timedelta(seconds=lease_seconds))
        )
        return self.database.write(
            lambda session: session.connection().execute(statement).rowcount == 1
        )

    def release(self, stack_id: str, holder: str) -> bool:
        """Drop the lock if ``holder`` still has it."""
        statement = delete(StackLockRow).where(
            StackLockRow.stack_id == stack_id, StackLockRow.holder == holder
        )
        return self.database.write(
            lambda session: session.connection().execute(statement).rowcount == 1
        )

    def holder(self, stack_id: str, now: datetime) -> str | None:
        """Who holds an unexpired lock on the stack, if anybody."""
        query = select(StackLockRow.holder).where(
            StackLockRow.stack_id == stack_id, StackLockRow.lease_until >= now
        )
        return self.database.read(lambda session: session.scalar(query))

    def _insert(self, stack_id: str, holder: str, until: datetime, now: datetime) -> bool:
        """The no-row case: insert, and lose gracefully to a concurrent inserter."""

        def insert(session: Session) -> None:
            session.add(
                StackLockRow(stack_id=stack_id, holder=holder, lease_until=until, acquired_at=now)
            )

        try:
            self.database.write(insert)
        except IntegrityError:
            if self.database.read(lambda session: session.get(StackRow, stack_id)) is None:
                raise StackNotFound(stack_id) from None
            return False
        return True
