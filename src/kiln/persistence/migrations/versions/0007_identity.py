"""Projects, users, role assignments and API tokens.

Revision ID: 0007
Revises: 0006
Create Date: 2025-07-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _identifier(length: int) -> sa.types.TypeEngine[str]:
    result: sa.types.TypeEngine[str] = sa.String(length)
    for name in ("mysql", "mariadb"):
        variant = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
        result = result.with_variant(variant, name)
    return result


def _timestamp() -> sa.types.TypeEngine[Any]:
    timestamp: sa.types.TypeEngine[Any] = sa.DateTime(timezone=True)
    for name in ("mysql", "mariadb"):
        timestamp = timestamp.with_variant(mysql.DATETIME(fsp=6), name)
    return timestamp


def _held_by(table: str) -> list[sa.schema.SchemaItem]:
    """A user and a project a row belongs to; it goes when either does."""
    items: list[sa.schema.SchemaItem] = []
    for column, parent in (("user_id", "users"), ("project_id", "projects")):
        items.append(sa.Column(column, _identifier(255), nullable=False))
        items.append(
            sa.ForeignKeyConstraint(
                [column], [f"{parent}.id"], name=f"fk_{table}_{column}_{parent}", ondelete="CASCADE"
            )
        )
    return items


def upgrade() -> None:
    for table in ("projects", "users"):
        op.create_table(
            table,
            sa.Column("id", _identifier(255), nullable=False),
            sa.Column("name", _identifier(255), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.UniqueConstraint("name", name=f"uq_{table}_name"),
        )
    op.create_table(
        "role_assignments",
        *_held_by("role_assignments"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "project_id", "role", name="pk_role_assignments"),
    )
    op.create_index("ix_role_assignments_project_id", "role_assignments", ["project_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", _identifier(36), nullable=False),
        *_held_by("api_tokens"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", _identifier(64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_index("ix_api_tokens_project_id", "api_tokens", ["project_id"])


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("role_assignments")
    op.drop_table("users")
    op.drop_table("projects")
