"""Resources remember the implementation their declared type resolved to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

A resource's type may be an alias from the environment's resource registry.
Heat replaces a resource when its type comes to mean another implementation
(the alias now points elsewhere) and updates it in place when a new type name
means the same one, so the implementation a resource was made with is kept.
Rows written before this revision have none (NULL reads as unknown).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("implementation", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("implementation")
