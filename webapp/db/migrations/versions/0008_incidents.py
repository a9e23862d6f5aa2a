"""incidents: a complaint whose step failed, kept visible and retried with backoff

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import webapp.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("incident_element", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("incident_since", webapp.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("incident_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("start_data", sa.JSON(), nullable=True))
        batch_op.create_index("ix_instances_org_incident", ["organisation_id", "incident_since"], unique=False)
    # A complaint that failed before this release kept its message in last_error and is retried
    # by the worker: it is an incident from now on (kind unknown: a timer or a message).
    op.execute("UPDATE instances SET incident_kind = 'timer', incident_since = created_at, "
               "incident_attempts = 1 WHERE last_error IS NOT NULL AND status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index("ix_instances_org_incident")
        batch_op.drop_column("start_data")
        batch_op.drop_column("incident_attempts")
        batch_op.drop_column("incident_since")
        batch_op.drop_column("incident_element")
        batch_op.drop_column("incident_kind")
