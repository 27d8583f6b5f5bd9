"""The tables, as typed SQLAlchemy models.

Only the repositories use these classes; everything outside
:mod:`kiln.persistence` sees the plain records of :mod:`kiln.plan.state`.
Tables are created by the Alembic migrations, never from this metadata
(except in the test that compares the two).

Enumerations are stored as their string values in plain ``VARCHAR`` columns:
native enum types would need a migration for every new action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kiln.persistence.columns import UtcDateTime, identifier, json_document, long_text

#: Named constraints, so that batch migrations on SQLite can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36
NAME_LENGTH = 255
STATE_LENGTH = 16
PHYSICAL_ID_LENGTH = 1024


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StackRow(Base):
    """One stack; ``active_name`` makes names unique among stacks not deleted.

    ``active_name`` equals ``name`` while the stack lives and becomes NULL on
    soft delete. A unique constraint on (project, active_name) then gives
    "unique among live stacks" on all three backends, because every one of
    them lets NULLs repeat in a unique constraint (MySQL has no partial index).
    """

    __tablename__ = "stacks"
    __table_args__ = (
        UniqueConstraint("project_id", "active_name"),
        Index(None, "project_id", "name"),
        Index(None, "project_id", "status"),
        Index(None, "project_id", "created_at"),
        Index(None, "status", "deadline_at"),
        Index(None, "parent_id"),
    )

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    project_id: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    active_name: Mapped[str | None] = mapped_column(identifier(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status_reason: Mapped[str] = mapped_column(long_text())
    template: Mapped[str] = mapped_column(long_text())
    files: Mapped[dict[str, Any]] = mapped_column(json_document())
    environments: Mapped[list[Any]] = mapped_column(json_document())
    parameters: Mapped[dict[str, Any]] = mapped_column(json_document())
    #: The definition before the last update, which a rollback returns to.
    previous_template: Mapped[str] = mapped_column(long_text())
    previous_files: Mapped[dict[str, Any]] = mapped_column(json_document())
    previous_environments: Mapped[list[Any]] = mapped_column(json_document())
    previous_parameters: Mapped[dict[str, Any]] = mapped_column(json_document())
    timeout_mins: Mapped[int | None] = mapped_column(Integer)
    disable_rollback: Mapped[bool] = mapped_column(Boolean)
    #: The current update reads each resource's real state first (NULL: no).
    converge: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    current_traversal: Mapped[str | None] = mapped_column(identifier(ID_LENGTH))
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    parent_id: Mapped[str | None] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE")
    )
    #: The parent's resource this nested stack stands for (NULL for a top-level stack).
    parent_resource: Mapped[str | None] = mapped_column(identifier(NAME_LENGTH), nullable=True)
    #: 0 for a top-level stack (NULL in rows older than the column).
    nesting_depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The parent resource's metadata/deletion_policy/update_policy, for ``resource_facade``.
    facade: Mapped[dict[str, Any] | None] = mapped_column(json_document(), nullable=True)
    #: Last event sequence handed out; bumped in the transaction that adds an event.
    event_sequence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StackTagRow(Base):
    """Tags get their own rows so that list filters are plain, portable joins."""

    __tablename__ = "stack_tags"
    __table_args__ = (Index(None, "tag", "stack_id"),)

    stack_id: Mapped[str] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tag: Mapped[str] = mapped_column(identifier(NAME_LENGTH))


class ResourceRow(Base):
    """One physical incarnation of a logical resource, with its work lease.

    ``fence`` only ever grows: every claim bumps it, and every write made
    under a lease names the fence it was claimed with.
    """

    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("stack_id", "idempotency_token"),
        UniqueConstraint("stack_id", "name", "generation"),
        Index(None, "lease_until"),
    )

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    type: Mapped[str] = mapped_column(String(NAME_LENGTH))
    generation: Mapped[int] = mapped_column(Integer)
    physical_id: Mapped[str | None] = mapped_column(String(PHYSICAL_ID_LENGTH))
    action: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status_reason: Mapped[str] = mapped_column(long_text())
    properties: Mapped[dict[str, Any]] = mapped_column(json_document())
    attributes: Mapped[dict[str, Any]] = mapped_column(json_document())
    depends_on: Mapped[list[str]] = mapped_column(json_document())
    replaces: Mapped[str | None] = mapped_column(identifier(ID_LENGTH))
    replaced_by: Mapped[str | None] = mapped_column(identifier(ID_LENGTH))
    idempotency_token: Mapped[str] = mapped_column(identifier(ID_LENGTH))
    intent: Mapped[str] = mapped_column(String(STATE_LENGTH))
    provider_data: Mapped[dict[str, Any]] = mapped_column(json_document())
    #: The ``update_policy`` last applied (NULL in rows older than the column: none).
    update_policy: Mapped[dict[str, Any] | None] = mapped_column(json_document(), nullable=True)
    #: The plugin type or provider template the type resolved to (NULL in older rows: unknown).
    implementation: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    fence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stack_id", "sequence"),
        Index(None, "stack_id", "resource_name", "sequence"),
    )

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE")
    )
    sequence: Mapped[int] = mapped_column(BigInteger)
    resource_name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    resource_type: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status_reason: Mapped[str] = mapped_column(long_text())
    physical_id: Mapped[str | None] = mapped_column(String(PHYSICAL_ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StackLockRow(Base):
    """An exclusive, expiring lock on a stack; the row exists while someone holds it."""

    __tablename__ = "stack_locks"

    stack_id: Mapped[str] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(NAME_LENGTH))
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime())
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SignalRow(Base):
    """A signal a resource received (a wait condition handle's, say), in arrival order.

    Signals are only ever added, in a table of their own, so that a signal
    arriving while the engine rewrites the resource's row is never lost.
    """

    __tablename__ = "resource_signals"
    __table_args__ = (Index(None, "stack_id", "resource_name", "received_at"),)

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE")
    )
    resource_name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    data: Mapped[dict[str, Any]] = mapped_column(json_document())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SnapshotRow(Base):
    """A stack snapshot: what the stack was (definition and resources) and each
    resource's backend snapshot id; deleted with its stack, as in Heat."""

    __tablename__ = "stack_snapshots"
    __table_args__ = (Index(None, "stack_id", "created_at"),)

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        identifier(ID_LENGTH), ForeignKey("stacks.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status_reason: Mapped[str] = mapped_column(long_text())
    data: Mapped[dict[str, Any]] = mapped_column(json_document())
    #: The RESTORE operation (traversal) returning the stack to this snapshot, if any.
    restoring: Mapped[str | None] = mapped_column(identifier(ID_LENGTH), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SoftwareConfigRow(Base):
    """An immutable software config (Heat's shape: config, inputs, outputs, options).

    ``stack_id`` names the stack whose resource made it (NULL for one made
    through the API); it is not a foreign key, since deployments outlive
    nothing but may refer to a config after its stack row is soft-deleted.
    """

    __tablename__ = "software_configs"
    __table_args__ = (Index(None, "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    project_id: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    group: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    config: Mapped[dict[str, Any]] = mapped_column(json_document())
    stack_id: Mapped[str | None] = mapped_column(identifier(ID_LENGTH), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SoftwareDeploymentRow(Base):
    """A config applied to a server, with the state the server last reported."""

    __tablename__ = "software_deployments"
    __table_args__ = (
        Index(None, "project_id", "server_id", "created_at"),
        Index(None, "config_id"),
    )

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    project_id: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    server_id: Mapped[str] = mapped_column(identifier(NAME_LENGTH))
    config_id: Mapped[str] = mapped_column(identifier(ID_LENGTH), ForeignKey("software_configs.id"))
    stack_id: Mapped[str | None] = mapped_column(identifier(ID_LENGTH), nullable=True)
    action: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status_reason: Mapped[str] = mapped_column(long_text())
    input_values: Mapped[dict[str, Any]] = mapped_column(json_document())
    output_values: Mapped[dict[str, Any]] = mapped_column(json_document())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ProjectRow(Base):
    """A project (Heat's tenant): what ``/v1/{project_id}`` names in the API."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[str] = mapped_column(identifier(NAME_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[str] = mapped_column(identifier(NAME_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(identifier(NAME_LENGTH))


class RoleAssignmentRow(Base):
    """A role (admin, member or reader) a user holds on a project."""

    __tablename__ = "role_assignments"
    __table_args__ = (Index(None, "project_id"),)

    user_id: Mapped[str] = mapped_column(
        identifier(NAME_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(
        identifier(NAME_LENGTH), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(STATE_LENGTH), primary_key=True)


#: A SHA-256 digest in hexadecimal.
HASH_LENGTH = 64


class ApiTokenRow(Base):
    """An API token: whose, for which project, with which role; only a hash of its secret."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "user_id"), Index(None, "project_id"))

    id: Mapped[str] = mapped_column(identifier(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        identifier(NAME_LENGTH), ForeignKey("users.id", ondelete="CASCADE")
    )
    project_id: Mapped[str] = mapped_column(
        identifier(NAME_LENGTH), ForeignKey("projects.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(STATE_LENGTH))
    #: SHA-256 of the secret, as 64 hexadecimal digits; the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(identifier(HASH_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean)
