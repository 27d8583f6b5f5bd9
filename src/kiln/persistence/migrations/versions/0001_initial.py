"""Initial schema: stacks, stack tags, resources with leases, events, stack locks.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Types are spelled out here rather than imported from the models, so that this
revision keeps meaning the same thing when the models change later.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_MYSQL = ("mysql", "mariadb")


def _identifier(length: int) -> sa.types.TypeEngine[str]:
    result: sa.types.TypeEngine[str] = sa.String(length)
    for name in _MYSQL:
        variant = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
        result = result.with_variant(variant, name)
    return result


def _text() -> sa.types.TypeEngine[str]:
    result: sa.types.TypeEngine[str] = sa.Text()
    for name in _MYSQL:
        result = result.with_variant(mysql.LONGTEXT(), name)
    return result


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp() -> sa.types.TypeEngine[Any]:
    result: sa.types.TypeEngine[Any] = sa.DateTime(timezone=True)
    for name in _MYSQL:
        result = result.with_variant(mysql.DATETIME(fsp=6), name)
    return result


def _state() -> sa.String:
    return sa.String(16)


def _stacks() -> None:
    op.create_table(
        "stacks",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("project_id", _identifier(255), nullable=False),
        sa.Column("name", _identifier(255), nullable=False),
        sa.Column("active_name", _identifier(255), nullable=True),
        sa.Column("action", _state(), nullable=False),
        sa.Column("status", _state(), nullable=False),
        sa.Column("status_reason", _text(), nullable=False),
        sa.Column("template", _text(), nullable=False),
        sa.Column("files", _json(), nullable=False),
        sa.Column("environments", _json(), nullable=False),
        sa.Column("parameters", _json(), nullable=False),
        sa.Column("previous_template", _text(), nullable=False),
        sa.Column("previous_files", _json(), nullable=False),
        sa.Column("previous_environments", _json(), nullable=False),
        sa.Column("previous_parameters", _json(), nullable=False),
        sa.Column("timeout_mins", sa.Integer(), nullable=True),
        sa.Column("disable_rollback", sa.Boolean(), nullable=False),
        sa.Column("current_traversal", _identifier(36), nullable=True),
        sa.Column("deadline_at", _timestamp(), nullable=True),
        sa.Column("parent_id", _identifier(36), nullable=True),
        sa.Column("event_sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=True),
        sa.Column("deleted_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stacks"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["stacks.id"], name="fk_stacks_parent_id_stacks", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("project_id", "active_name", name="uq_stacks_project_id_active_name"),
    )
    op.create_index("ix_stacks_project_id_name", "stacks", ["project_id", "name"])
    op.create_index("ix_stacks_project_id_status", "stacks", ["project_id", "status"])
    op.create_index("ix_stacks_project_id_created_at", "stacks", ["project_id", "created_at"])
    op.create_index("ix_stacks_status_deadline_at", "stacks", ["status", "deadline_at"])
    op.create_index("ix_stacks_parent_id", "stacks", ["parent_id"])


def _stack_tags() -> None:
    op.create_table(
        "stack_tags",
        sa.Column("stack_id", _identifier(36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tag", _identifier(255), nullable=False),
        sa.PrimaryKeyConstraint("stack_id", "position", name="pk_stack_tags"),
        sa.ForeignKeyConstraint(
            ["stack_id"], ["stacks.id"], name="fk_stack_tags_stack_id_stacks", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_stack_tags_tag_stack_id", "stack_tags", ["tag", "stack_id"])


def _resources() -> None:
    op.create_table(
        "resources",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("stack_id", _identifier(36), nullable=False),
        sa.Column("name", _identifier(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("physical_id", sa.String(1024), nullable=True),
        sa.Column("action", _state(), nullable=False),
        sa.Column("status", _state(), nullable=False),
        sa.Column("status_reason", _text(), nullable=False),
        sa.Column("properties", _json(), nullable=False),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("depends_on", _json(), nullable=False),
        sa.Column("replaces", _identifier(36), nullable=True),
        sa.Column("replaced_by", _identifier(36), nullable=True),
        sa.Column("idempotency_token", _identifier(36), nullable=False),
        sa.Column("intent", _state(), nullable=False),
        sa.Column("provider_data", _json(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_until", _timestamp(), nullable=True),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_resources"),
        sa.ForeignKeyConstraint(
            ["stack_id"], ["stacks.id"], name="fk_resources_stack_id_stacks", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "stack_id", "idempotency_token", name="uq_resources_stack_id_idempotency_token"
        ),
        sa.UniqueConstraint(
            "stack_id", "name", "generation", name="uq_resources_stack_id_name_generation"
        ),
    )
    op.create_index("ix_resources_lease_until", "resources", ["lease_until"])


def _events() -> None:
    op.create_table(
        "events",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("stack_id", _identifier(36), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("resource_name", _identifier(255), nullable=False),
        sa.Column("resource_type", sa.String(255), nullable=False),
        sa.Column("action", _state(), nullable=False),
        sa.Column("status", _state(), nullable=False),
        sa.Column("status_reason", _text(), nullable=False),
        sa.Column("physical_id", sa.String(1024), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["stack_id"], ["stacks.id"], name="fk_events_stack_id_stacks", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("stack_id", "sequence", name="uq_events_stack_id_sequence"),
    )
    op.create_index(
        "ix_events_stack_id_resource_name_sequence",
        "events",
        ["stack_id", "resource_name", "sequence"],
    )


def _stack_locks() -> None:
    op.create_table(
        "stack_locks",
        sa.Column("stack_id", _identifier(36), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("lease_until", _timestamp(), nullable=False),
        sa.Column("acquired_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("stack_id", name="pk_stack_locks"),
        sa.ForeignKeyConstraint(
            ["stack_id"], ["stacks.id"], name="fk_stack_locks_stack_id_stacks", ondelete="CASCADE"
        ),
    )


def upgrade() -> None:
    _stacks()
    _stack_tags()
    _resources()
    _events()
    _stack_locks()


def downgrade() -> None:
    for table in ("stack_locks", "events", "resources", "stack_tags", "stacks"):
        op.drop_table(table)
