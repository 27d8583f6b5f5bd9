"""Nested stacks know the parent resource they stand for and how deep they are.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01

``parent_resource`` names the resource of the parent stack (``parent_id``)
that owns the nested stack; ``nesting_depth`` is 0 for a top-level stack, so
the nesting limit is checked without walking up the chain. ``facade`` holds
the parent resource's metadata, deletion_policy and update_policy, which
``resource_facade`` reads inside the nested template.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    name_type = sa.String(255)
    for dialect in ("mysql", "mariadb"):
        name_type = name_type.with_variant(
            mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), dialect
        )
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("stacks") as batch:
        batch.add_column(sa.Column("parent_resource", name_type, nullable=True))
        batch.add_column(sa.Column("nesting_depth", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("facade", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stacks") as batch:
        batch.drop_column("facade")
        batch.drop_column("nesting_depth")
        batch.drop_column("parent_resource")
