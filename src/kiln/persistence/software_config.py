"""The software config repository: immutable configs and the deployments that apply them.

Every read and write names the project, so one project never sees another's
configs. A config's ``config`` column holds Heat's document (``config``,
``inputs``, ``outputs``, ``options``); a deployment refers to its config by
a foreign key, so a config in use cannot be deleted. Status changes a
server reports can be made conditional on the status the caller saw, so of
two signals racing to finish a deployment exactly one wins.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.errors import DuplicateRecord, PersistenceError
from kiln.persistence.models import SoftwareConfigRow, SoftwareDeploymentRow
from kiln.providers.software_config import DEFAULT_GROUP, DeploymentChange

T = TypeVar("T")
Row = TypeVar("Row", SoftwareConfigRow, SoftwareDeploymentRow)


class ConfigInUse(PersistenceError):
    """A deployment still applies the config (Heat refuses to delete it too)."""

    def __init__(self, config_id: str) -> None:
        super().__init__(
            f"Software config with id {config_id} can not be deleted as it is referenced."
        )
        self.config_id = config_id


@dataclass(frozen=True, kw_only=True)
class SoftwareConfigRecord:
    id: str
    project_id: str
    name: str
    group: str = DEFAULT_GROUP
    #: The script or manifest: text, or a map for structured configs.
    config: Any = ""
    inputs: tuple[Mapping[str, Any], ...] = ()
    outputs: tuple[Mapping[str, Any], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The stack whose resource made it (None for one made through the API).
    stack_id: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SoftwareDeploymentRecord:
    id: str
    project_id: str
    server_id: str
    config_id: str
    stack_id: str | None = None
    #: CREATE, UPDATE, DELETE, SUSPEND, RESUME, or a custom action given through the API.
    action: str = "INIT"
    status: str = "COMPLETE"
    status_reason: str = ""
    input_values: Mapping[str, Any] = field(default_factory=dict)
    output_values: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SoftwareConfigRepository:
    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    # -- configs -----------------------------------------------------------------

    def add_config(self, record: SoftwareConfigRecord) -> SoftwareConfigRecord:
        """Store a new config; DuplicateRecord when its id is taken."""
        stored = replace(record, created_at=record.created_at or self.clock())
        try:
            self.database.write(lambda session: session.add(_config_row(stored)))
        except IntegrityError:
            raise DuplicateRecord(f"a software config with id {record.id!r} exists") from None
        return stored

    def config(self, project_id: str, config_id: str) -> SoftwareConfigRecord | None:
        query = select(SoftwareConfigRow).where(
            SoftwareConfigRow.project_id == project_id, SoftwareConfigRow.id == config_id
        )
        return self.database.read(lambda session: _first(session, query, _config_record))

    def configs(
        self, project_id: str, *, limit: int | None = None, marker: str | None = None
    ) -> builtins.list[SoftwareConfigRecord]:
        """The project's configs, oldest first (Heat's order); ``marker`` starts after that id."""
        query = select(SoftwareConfigRow).where(SoftwareConfigRow.project_id == project_id)
        if marker is not None:
            after = self.config(project_id, marker)
            if after is not None and after.created_at is not None:
                query = query.where(
                    or_(
                        SoftwareConfigRow.created_at > after.created_at,
                        (SoftwareConfigRow.created_at == after.created_at)
                        & (SoftwareConfigRow.id > after.id),
                    )
                )
        query = query.order_by(SoftwareConfigRow.created_at, SoftwareConfigRow.id)
        if limit is not None:
            query = query.limit(limit)
        return self.database.read(
            lambda session: [_config_record(row) for row in session.scalars(query)]
        )

    def delete_config(self, project_id: str, config_id: str) -> bool:
        """False when there is no such config; ConfigInUse while a deployment applies it."""
        in_use = select(SoftwareDeploymentRow.id).where(
            SoftwareDeploymentRow.config_id == config_id
        )
        statement = delete(SoftwareConfigRow).where(
            SoftwareConfigRow.project_id == project_id, SoftwareConfigRow.id == config_id
        )

        def remove(session: Session) -> bool:
            if session.scalar(in_use.limit(1)) is not None:
                raise ConfigInUse(config_id)
            return session.connection().execute(statement).rowcount == 1

        return self.database.write(remove)

    # -- deployments -------------------------------------------------------------

    def add_deployment(self, record: SoftwareDeploymentRecord) -> SoftwareDeploymentRecord:
        """Store a new deployment; DuplicateRecord when its id is taken or its config is gone."""
        stored = replace(record, created_at=record.created_at or self.clock())
        try:
            self.database.write(lambda session: session.add(_deployment_row(stored)))
        except IntegrityError:
            raise DuplicateRecord(
                f"software deployment {record.id!r} exists or its config does not"
            ) from None
        return stored

    def deployment(self, project_id: str, deployment_id: str) -> SoftwareDeploymentRecord | None:
        query = select(SoftwareDeploymentRow).where(
            SoftwareDeploymentRow.project_id == project_id,
            SoftwareDeploymentRow.id == deployment_id,
        )
        return self.database.read(lambda session: _first(session, query, _deployment_record))

    def deployments(
        self, project_id: str, server_id: str | None = None
    ) -> builtins.list[SoftwareDeploymentRecord]:
        """The project's deployments (to one server, if given), oldest first."""
        query = select(SoftwareDeploymentRow).where(SoftwareDeploymentRow.project_id == project_id)
        if server_id is not None:
            query = query.where(SoftwareDeploymentRow.server_id == server_id)
        query = query.order_by(SoftwareDeploymentRow.created_at, SoftwareDeploymentRow.id)
        return self.database.read(
            lambda session: [_deployment_record(row) for row in session.scalars(query)]
        )

    def stack_deployment_ids(self, stack_id: str) -> set[str]:
        """Ids of the deployments the stack's resources made (for the state check)."""
        query = select(SoftwareDeploymentRow.id).where(SoftwareDeploymentRow.stack_id == stack_id)
        return self.database.read(lambda session: set(session.scalars(query)))

    def update_deployment(
        self,
        project_id: str,
        deployment_id: str,
        change: DeploymentChange,
        *,
        expected_status: str | None = None,
    ) -> SoftwareDeploymentRecord | None:
        """Apply ``change``; None when the deployment is gone or not in ``expected_status``."""
        conditions = [
            SoftwareDeploymentRow.project_id == project_id,
            SoftwareDeploymentRow.id == deployment_id,
        ]
        if expected_status is not None:
            conditions.append(SoftwareDeploymentRow.status == expected_status)
        statement = (
            update(SoftwareDeploymentRow)
            .where(*conditions)
            .values(**change.values(), updated_at=self.clock())
        )

        def write(session: Session) -> bool:
            return session.connection().execute(statement).rowcount == 1

        if not self.database.write(write):
            return None
        return self.deployment(project_id, deployment_id)

    def delete_deployment(self, project_id: str, deployment_id: str) -> bool:
        """False when there is no such deployment."""
        statement = delete(SoftwareDeploymentRow).where(
            SoftwareDeploymentRow.project_id == project_id,
            SoftwareDeploymentRow.id == deployment_id,
        )
        return self.database.write(
            lambda session: session.connection().execute(statement).rowcount == 1
        )


def _first(session: Session, query: Select[Any], convert: Callable[[Row], T]) -> T | None:
    row = session.scalars(query.limit(1)).first()
    return None if row is None else convert(row)


def _config_row(record: SoftwareConfigRecord) -> SoftwareConfigRow:
    return SoftwareConfigRow(
        id=record.id,
        project_id=record.project_id,
        name=record.name,
        group=record.group,
        config={
            "config": record.config,
            "inputs": [dict(entry) for entry in record.inputs],
            "outputs": [dict(entry) for entry in record.outputs],
            "options": dict(record.options),
        },
        stack_id=record.stack_id,
        created_at=record.created_at,
    )


def _deployment_row(record: SoftwareDeploymentRecord) -> SoftwareDeploymentRow:
    return SoftwareDeploymentRow(
        id=record.id,
        project_id=record.project_id,
        server_id=record.server_id,
        config_id=record.config_id,
        stack_id=record.stack_id,
        action=record.action,
        status=record.status,
        status_reason=record.status_reason,
        input_values=dict(record.input_values),
        output_values=dict(record.output_values),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _config_record(row: SoftwareConfigRow) -> SoftwareConfigRecord:
    document: Mapping[str, Any] = row.config or {}
    return SoftwareConfigRecord(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        group=row.group,
        config=document.get("config"),
        inputs=_entries(document.get("inputs")),
        outputs=_entries(document.get("outputs")),
        options=dict(document.get("options") or {}),
        stack_id=row.stack_id,
        created_at=row.created_at,
    )


def _entries(stored: Sequence[Mapping[str, Any]] | None) -> tuple[Mapping[str, Any], ...]:
    return tuple(dict(entry) for entry in stored or ())


def _deployment_record(row: SoftwareDeploymentRow) -> SoftwareDeploymentRecord:
    return SoftwareDeploymentRecord(
        id=row.id,
        project_id=row.project_id,
        server_id=row.server_id,
        config_id=row.config_id,
        stack_id=row.stack_id,
        action=row.action,
        status=row.status,
        status_reason=row.status_reason,
        input_values=dict(row.input_values or {}),
        output_values=dict(row.output_values or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
