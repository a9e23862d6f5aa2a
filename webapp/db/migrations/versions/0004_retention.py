"""retention: when a complaint's personal data was removed

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import webapp.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", webapp.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
