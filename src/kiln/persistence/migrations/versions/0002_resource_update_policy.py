"""Resources remember the update_policy they were last applied with.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01

A change to a resource's ``update_policy`` alone is an update of that
resource (the plugin decides what it means), so the applied policy is
recorded. Rows written before this revision have none (NULL reads as empty).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("update_policy", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("update_policy")
