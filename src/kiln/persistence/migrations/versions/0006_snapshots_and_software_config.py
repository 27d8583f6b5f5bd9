"""Stack snapshots, software configs and software deployments.

Revision ID: 0006
Revises: 0005
Create Date: 2025-06-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = "0006"
down_revision = "0005"
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


def _long_text() -> sa.types.TypeEngine[str]:
    result: sa.types.TypeEngine[str] = sa.Text()
    for name in ("mysql", "mariadb"):
        result = result.with_variant(mysql.LONGTEXT(), name)
    return result


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "stack_snapshots",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("stack_id", _identifier(36), nullable=False),
        sa.Column("name", _identifier(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", _long_text(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("restoring", _identifier(36), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["stack_id"], ["stacks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_stack_snapshots_stack_id_created_at", "stack_snapshots", ["stack_id", "created_at"]
    )
    op.create_table(
        "software_configs",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("project_id", _identifier(255), nullable=False),
        sa.Column("name", _identifier(255), nullable=False),
        sa.Column("group", _identifier(255), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("stack_id", _identifier(36), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_software_configs_project_id_created_at",
        "software_configs",
        ["project_id", "created_at"],
    )
    op.create_table(
        "software_deployments",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("project_id", _identifier(255), nullable=False),
        sa.Column("server_id", _identifier(255), nullable=False),
        sa.Column("config_id", _identifier(36), nullable=False),
        sa.Column("stack_id", _identifier(36), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", _long_text(), nullable=False),
        sa.Column("input_values", _json(), nullable=False),
        sa.Column("output_values", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["config_id"], ["software_configs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_software_deployments_project_id_server_id_created_at",
        "software_deployments",
        ["project_id", "server_id", "created_at"],
    )
    op.create_index("ix_software_deployments_config_id", "software_deployments", ["config_id"])


def downgrade() -> None:
    op.drop_table("software_deployments")
    op.drop_table("software_configs")
    op.drop_table("stack_snapshots")
