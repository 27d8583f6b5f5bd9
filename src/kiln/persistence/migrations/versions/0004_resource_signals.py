"""Signals resources received (wait condition handles, scaling policies).

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _identifier(length: int) -> sa.types.TypeEngine[str]:
    result: sa.types.TypeEngine[str] = sa.String(length)
    for name in ("mysql", "mariadb"):
        variant = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
        result = result.with_variant(variant, name)
    return result


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    for name in ("mysql", "mariadb"):
        timestamp = timestamp.with_variant(mysql.DATETIME(fsp=6), name)
    op.create_table(
        "resource_signals",
        sa.Column("id", _identifier(36), nullable=False),
        sa.Column("stack_id", _identifier(36), nullable=False),
        sa.Column("resource_name", _identifier(255), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("received_at", timestamp, nullable=False),
        sa.ForeignKeyConstraint(["stack_id"], ["stacks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_resource_signals_stack_id_resource_name_received_at",
        "resource_signals",
        ["stack_id", "resource_name", "received_at"],
    )


def downgrade() -> None:
    op.drop_table("resource_signals")
